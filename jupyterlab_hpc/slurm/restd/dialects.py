"""What each slurmrestd API version (its data_parser) sends and takes, in one vocabulary.

The vocabulary is data_parser v0.0.38's (Slurm 22.05): flat records with plain numbers.
v0.0.40 to v0.0.45 (Slurm 23.11 to 26.05) wrap numbers in ``{set, infinite, number}``,
send states as lists, nest the exit code and a partition's settings, and take a submission's
environment as a list. A Dialect turns its version's records into v0.0.38's shape, plus the
exit code and output paths in the form the models use; parse.py reads only that shape.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

from jupyterlab_hpc.slurm.errors import InvalidRequest, SlurmUnavailable
from jupyterlab_hpc.slurm.job_states import SHOWN_FLAGS
from jupyterlab_hpc.slurm.notation import expand_output_path
from jupyterlab_hpc.slurm.restd.submit import job_properties_v40

# Slurm's NO_VAL for 32-bit numbers: "not set" (INFINITE, "unlimited", is one more).
_NO_VALUE = 0xFFFFFFFE
# The numbers of a job record parse.py reads.
_JOB_NUMBERS = (
    "array_job_id",
    "array_task_id",
    "cpus",
    "end_time",
    "node_count",
    "pre_sus_time",
    "start_time",
    "submit_time",
    "suspend_time",
    "time_limit",
)


def number(value: Any) -> int | None:
    """A count or time; None for missing, Slurm's not-set and unlimited values (INFINITE is
    sent as 4294967295 or as -1, depending on the field)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _NO_VALUE:
        return None
    return value


def text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text in {"", "None", "(null)", "N/A"} else text


def given_text(value: Any) -> str | None:
    """Text a user gave (a work dir, an output path) exactly as given, None if unset: not
    stripped, as Python's strip also takes separators and line breaks off a path's ends."""
    return None if value is None or str(value) in {"", "None", "(null)", "N/A"} else str(value)


def array_ids(raw: dict[str, Any]) -> tuple[str | None, str | None]:
    """(array job id, task id or the pending rest's range such as ``6-9%1``), or Nones."""
    array_job_id = number(raw.get("array_job_id"))
    if not array_job_id:
        return None, None
    task = number(raw.get("array_task_id"))
    if task is not None:
        return str(array_job_id), str(task)
    return str(array_job_id), text(raw.get("array_task_string"))


class Dialect:
    """data_parser v0.0.38 (Slurm 22.05): the vocabulary itself."""

    def __init__(self, version: str) -> None:
        self.version = version
        # Whether the job list shows output paths as squeue does (%j and such unexpanded).
        self.lists_output_patterns = True
        # Whether partitions come with their flags (Default, Hidden, RootOnly).
        self.sends_partition_flags = True
        # Whether jobs can be requeued (``GET /job/{id}/requeue``, from v0.0.45).
        self.requeues = False
        # Whether a signal can go to the batch shell alone (``DELETE`` with BATCH_JOB flag).
        self.signals_batch_shell = False

    def job(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The record, with ``exit_code`` as ``status:signal``, the output paths as squeue
        lists them (``stdout``, ``stderr``) and as slurmd writes them (``*_file``)."""
        stdout_file = _written_path(raw.get("standard_output"), raw)
        return {
            **raw,
            "exit_code": _wait_status(raw.get("exit_code")),
            "stdout": _listed_path(raw.get("standard_output"), raw),
            # Unset, the error output goes where the output goes.
            "stderr": _listed_path(raw["standard_error"], raw)
            if text(raw.get("standard_error"))
            else _listed_path(raw.get("standard_output"), raw),
            "stdout_file": stdout_file,
            "stderr_file": _written_path(raw["standard_error"], raw)
            if text(raw.get("standard_error"))
            else stdout_file,
        }

    def node(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The record, its state with its flags as sinfo's StateComplete (``idle+drain``)."""
        flags = [str(flag) for flag in raw.get("state_flags") or []]
        return {**raw, "state": "+".join([str(raw.get("state") or "unknown"), *flags])}

    def partition(self, raw: dict[str, Any]) -> dict[str, Any]:
        return raw

    def reservation(self, raw: dict[str, Any]) -> dict[str, Any]:
        return raw

    def signal_refusal(self, answer: dict[str, Any]) -> str | None:
        """Slurm's refusal inside a successful answer to ``DELETE /job/{id}``: from v0.0.42
        per job in ``status``. v0.0.38 sends it as an error (RestClient raises it); v0.0.40
        and v0.0.41 say nothing at all: one more reason to use the newest version."""
        refusals = [
            str(error.get("message") or error.get("string"))
            for status in answer.get("status") or []
            if (error := status.get("error") or {}).get("code")
        ]
        return "\n".join(refusals) or None

    def release(self, answer: dict[str, Any]) -> str:
        """The Slurm release from an answer's ``meta``."""
        return str(answer.get("meta", {}).get("Slurm", {}).get("release", ""))

    def submission(self, script: str, job: dict[str, Any]) -> dict[str, Any]:
        """The ``/job/submit`` body for ``script`` with submit.py's job properties.

        v0.0.38 reads ``--signal`` without its ``B:`` (batch shell only) or ``R:`` flag:
        the job would get its warning somewhere else than asked, so it is refused."""
        if ":" in str(job.get("signal", "")):
            msg = (
                f"slurmrestd API {self.version} cannot send a job's warning signal to its "
                f"batch shell (--signal={job['signal']}); API v0.0.40 and later can"
            )
            raise InvalidRequest(msg)
        return {"script": script, "job": job}


class DialectV40(Dialect):
    """data_parser v0.0.40 to v0.0.45 (Slurm 23.11 to 26.05)."""

    def __init__(self, version: str) -> None:
        super().__init__(version)
        # Up to v0.0.42 slurmrestd sends the output paths expanded only (the files).
        self.lists_output_patterns = version_key(version) >= version_key("v0.0.43")
        self.sends_partition_flags = version_key(version) >= version_key("v0.0.45")
        self.requeues = version_key(version) >= version_key("v0.0.45")
        self.signals_batch_shell = True

    def job(self, raw: dict[str, Any]) -> dict[str, Any]:
        record = {**raw, **{key: _unwrapped(raw.get(key)) for key in _JOB_NUMBERS}}
        states = [str(state) for state in raw.get("job_state") or []]
        shown = next((flag for flag in SHOWN_FLAGS if flag in states), None)
        record["job_state"] = shown or (states[0] if states else "UNKNOWN")
        record["exit_code"] = _exit_code(raw.get("exit_code"))
        # Until v0.0.42 the paths are sent expanded (and the error path even when unset, as
        # scontrol shows it); from v0.0.43 as given, with the files next to them.
        listed = ("standard_output", "standard_error")
        written = ("stdout_expanded", "stderr_expanded") if self.lists_output_patterns else listed
        record["stdout"], record["stderr"] = (text(raw.get(key)) for key in listed)
        record["stdout_file"], record["stderr_file"] = (text(raw.get(key)) for key in written)
        return record

    def node(self, raw: dict[str, Any]) -> dict[str, Any]:
        states = [str(state) for state in raw.get("state") or ["unknown"]]
        return {**raw, "state": "+".join(states)}

    def partition(self, raw: dict[str, Any]) -> dict[str, Any]:
        """v0.0.38's flat partition; flags only where sends_partition_flags (slurmrestd leaves
        hidden partitions out by itself)."""
        accounts = raw.get("accounts") or {}
        qos = raw.get("qos") or {}
        states = (raw.get("partition") or {}).get("state") or ["UNKNOWN"]
        return {
            "name": raw.get("name"),
            "state": str(states[0]),
            "flags": raw.get("flags") or [],
            "max_time_limit": _unwrapped((raw.get("maximums") or {}).get("time")),
            "default_time_limit": _unwrapped((raw.get("defaults") or {}).get("time")),
            "allowed_accounts": accounts.get("allowed"),
            "denied_accounts": accounts.get("deny"),
            "allowed_groups": (raw.get("groups") or {}).get("allowed"),
            "allowed_qos": qos.get("allowed"),
            "denied_qos": qos.get("deny"),
        }

    def reservation(self, raw: dict[str, Any]) -> dict[str, Any]:
        times = {key: _unwrapped(raw.get(key)) for key in ("start_time", "end_time")}
        return {**raw, **times}

    def release(self, answer: dict[str, Any]) -> str:
        return str(answer.get("meta", {}).get("slurm", {}).get("release", ""))

    def submission(self, script: str, job: dict[str, Any]) -> dict[str, Any]:
        return {"job": {**job_properties_v40(job), "script": script}}


# Every version this backend reads, oldest first.
SUPPORTED_VERSIONS = ("v0.0.38", "v0.0.40", "v0.0.41", "v0.0.42", "v0.0.43", "v0.0.44", "v0.0.45")


def version_key(version: str) -> tuple[int, ...]:
    """``v0.0.42`` as (0, 0, 42), to order versions."""
    return tuple(int(part) for part in version.removeprefix("v").split("."))


def dialect(version: str) -> Dialect:
    """The Dialect of one of SUPPORTED_VERSIONS."""
    if version not in SUPPORTED_VERSIONS:
        readable = ", ".join(SUPPORTED_VERSIONS)
        msg = f"slurmrestd API {version} is not one this backend reads ({readable})"
        raise SlurmUnavailable(msg)
    return Dialect(version) if version == "v0.0.38" else DialectV40(version)


def _unwrapped(value: Any) -> Any:
    """A ``{set, infinite, number}`` as its number; None when unset or unlimited."""
    if not isinstance(value, dict):
        return value
    if not value.get("set") or value.get("infinite"):
        return None
    return value.get("number")


def _exit_code(value: Any) -> str | None:
    """v0.0.40's ``{return_code, signal: {id}}`` as scontrol's ``status:signal``."""
    if not isinstance(value, dict):
        return None
    status = number(_unwrapped(value.get("return_code")))
    signal = number(_unwrapped((value.get("signal") or {}).get("id"))) or 0
    return None if status is None else f"{status}:{signal}"


def _wait_status(value: Any) -> str | None:
    """A wait status (``768``) as scontrol's ``exit status:signal`` (``3:0``)."""
    status = number(value)
    if status is None:
        return None
    signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    return f"{os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0}:{signal}"


def _listed_path(value: Any, raw: dict[str, Any]) -> str | None:
    """The path as squeue prints it: relative to the work dir; unset means sbatch's default
    ``slurm-<job id>.out``, named, as squeue does, by the job's own id even in an array."""
    path = given_text(value)
    work_dir = given_text(raw.get("current_working_directory"))
    if path is None:
        if not raw.get("batch_flag") or work_dir is None:
            return None
        path = f"slurm-{raw.get('job_id')}.out"
    return posixpath.join(work_dir, path) if work_dir else path


def _written_path(value: Any, raw: dict[str, Any]) -> str | None:
    """The file slurmd writes: sbatch's default ``slurm-%A_%a.out`` / ``slurm-%j.out`` when
    unset, relative to the work dir, patterns expanded (job_detail.expand_output_path)."""
    path = given_text(value)
    work_dir = given_text(raw.get("current_working_directory"))
    array_job_id, array_task_id = array_ids(raw)
    if path is None:
        if not raw.get("batch_flag") or work_dir is None:
            return None
        path = "slurm-%A_%a.out" if array_job_id else "slurm-%j.out"
    return expand_output_path(
        posixpath.join(work_dir, path) if work_dir else path,
        job_id=str(raw.get("job_id")),
        array_job_id=array_job_id,
        array_task_id=array_task_id,
        user=str(raw.get("user_name") or ""),
        name=str(raw.get("name") or ""),
        batch_host=text(raw.get("batch_host")),
    )
