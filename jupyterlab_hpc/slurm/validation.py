"""Checks on every value that reaches a Slurm command line; failures run nothing."""

from __future__ import annotations

import re

from jupyterlab_hpc.slurm.errors import InvalidRequest
from jupyterlab_hpc.slurm.job_states import ALL_STATES

# Matched whole (fullmatch): a pattern's "$" would let a final newline through.
# 1234, 1234_7, and a pending array's 1234_[2-20%1] as squeue lists it. ASCII digits only,
# and no job 0: Slurm takes "0" for "no job" (scontrol answers "Unable to contact slurm
# controller", sacct lists every job).
_JOB_ID = re.compile(r"[1-9][0-9]{0,9}(?:_(?:[0-9]{1,7}|\[[0-9,\-%]{1,64}\]))?")
# Slurm names (partitions, accounts, QOS, users, reservations): no spaces, no shell syntax.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")


def job_id(value: str) -> str:
    if not _JOB_ID.fullmatch(value):
        msg = f"Not a Slurm job id: {value!r} (expected e.g. 1234 or 1234_7)"
        raise InvalidRequest(msg)
    return value


def slurm_name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        msg = f"Not a valid {what} name: {value!r}"
        raise InvalidRequest(msg)
    return value


def job_states(values: list[str]) -> frozenset[str]:
    states = frozenset(value.strip().upper() for value in values if value.strip())
    unknown = sorted(states - ALL_STATES)
    if unknown:
        msg = f"Unknown job state(s): {', '.join(unknown)}"
        raise InvalidRequest(msg)
    return states
