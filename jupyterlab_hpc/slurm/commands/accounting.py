"""Jobs as slurmdbd records them, finished ones too: the ``sacct`` listing.

The records have the fields of one job's detail (job_detail.SACCT_FORMAT), read by the same
parser; only allocations are asked for, as a listing shows no steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.commands.job_detail import SACCT_FORMAT
from jupyterlab_hpc.slurm.errors import InvalidRequest

# The forms of sacct's --starttime a user is offered: now-7days, 2026-12-01, 2026-12-01T08:00.
_START = re.compile(
    r"now(?:-[0-9]{1,6}(?:seconds|minutes|hours|days|weeks))?"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?"
)


def sacct_jobs_argv(
    separator: str, *, mine: bool, job_ids: Sequence[str] = (), since: str | None = None
) -> list[str]:
    """sacct for the caller's jobs (``mine``) or everyone's it may see, values separated by
    ``separator``: those ``job_ids`` whenever they ran, else those that ran ``since`` (sacct's
    default: today)."""
    argv = ["sacct", "--noheader", "--parsable2", "--allocations", f"--delimiter={separator}",
            "--format", SACCT_FORMAT]  # fmt: skip
    if not mine:
        argv.append("--allusers")
    if job_ids:
        argv.append("--jobs=" + ",".join(validation.job_id(job_id) for job_id in job_ids))
    if since is not None:
        argv.append(f"--starttime={start_time(since)}")
    return argv


def start_time(value: str) -> str:
    """``value`` if it is a start time as sacct_jobs_argv takes it; InvalidRequest if not."""
    if not _START.fullmatch(value):
        msg = f"Not a start time: {value!r} (expected e.g. now-7days or 2026-12-01T08:00)"
        raise InvalidRequest(msg)
    return value
