"""slurmrestd's JSON (data_parser v0.0.38, Slurm 22.05) as the project's models.

Every value means what the commands backend's value means: the same state names, ISO 8601
UTC times, durations in seconds, squeue's ids (``1234``, ``1234_7``, ``1234_[8-20%1]``).
A job list carries squeue's output paths (squeue.py); one job carries them as slurmd writes
them, as ``scontrol show job`` does (job_detail.py). Where slurmrestd sends less than those
commands print, this module derives it as they do: the time used, the default output file.
"""

from __future__ import annotations

import os
import posixpath
from datetime import datetime, timezone
from typing import Any

from jupyterlab_hpc.slurm.fields import gpu_count, memory_mb, tres_items
from jupyterlab_hpc.slurm.job_detail import JobDetail, expand_output_path
from jupyterlab_hpc.slurm.models import Job
from jupyterlab_hpc.slurm.partitions import Capacity, NodeCounts, Partition, node_state
from jupyterlab_hpc.slurm.reasons import reason_text
from jupyterlab_hpc.slurm.reservations import Reservation

# Slurm's NO_VAL and INFINITE for 32-bit numbers: "not set" and "unlimited".
_NO_VALUE = 0xFFFFFFFE

_FINISHED = frozenset(
    {
        "COMPLETED",
        "CANCELLED",
        "FAILED",
        "TIMEOUT",
        "NODE_FAIL",
        "PREEMPTED",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
        "REVOKED",
        "SPECIAL_EXIT",
    }
)
_STARTED = _FINISHED | {"RUNNING", "COMPLETING", "SUSPENDED"}


def parse_jobs(data: dict[str, Any], *, now: float, queued_only: bool) -> list[Job]:
    """Jobs from a ``/jobs`` or ``/job/{id}`` answer. ``queued_only`` drops finished jobs
    that slurmctld still remembers, which squeue hides unless asked for every state."""
    jobs = [_job(raw, now, as_written=False) for raw in data.get("jobs") or []]
    return [job for job in jobs if job.state not in _FINISHED] if queued_only else jobs


def parse_job_details(data: dict[str, Any], *, now: float) -> list[JobDetail]:
    """Jobs from a ``/job/{id}`` answer as scontrol shows them: output paths as slurmd writes
    them, the exit code of a finished job, the estimated start of a pending one."""
    return [
        JobDetail(
            job=_job(raw, now, as_written=True),
            estimated_start=_utc(raw.get("start_time"))
            if raw.get("job_state") == "PENDING"
            else None,
            efficiency=None,
            command=_text(raw.get("command")),
        )
        for raw in data.get("jobs") or []
    ]


def _job(raw: dict[str, Any], now: float, *, as_written: bool) -> Job:
    state = str(raw.get("job_state") or "UNKNOWN")
    pending = state == "PENDING"
    reason = _text(raw.get("state_reason"))
    array_job_id, array_task_id = _array_ids(raw)
    tres = _text(raw.get("tres_alloc_str")) or _text(raw.get("tres_req_str")) or ""
    work_dir = _text(raw.get("current_working_directory"))
    output_paths = _written_path if as_written else _output_path
    stdout = output_paths(raw.get("standard_output"), work_dir, raw)
    errors_apart = _text(raw.get("standard_error")) is not None
    return Job(
        id=_public_id(raw, array_job_id, array_task_id),
        name=str(raw.get("name") or ""),
        user=str(raw.get("user_name") or raw.get("user_id") or ""),
        account=_text(raw.get("account")),
        partition=_text(raw.get("partition")),
        qos=_text(raw.get("qos")),
        state=state,
        reason=reason,
        reason_text=reason_text(reason) if pending else None,
        submit_time=_utc(raw.get("submit_time")),
        start_time=_utc(raw.get("start_time")) if state in _STARTED else None,
        end_time=_utc(raw.get("end_time")) if state in _FINISHED else None,
        time_limit=_minutes_as_seconds(raw.get("time_limit")),
        elapsed=_time_used(raw, state, now),
        nodes=None if pending else _text(raw.get("nodes")),
        node_count=_number(raw.get("node_count")),
        cpus=_number(raw.get("cpus")),
        memory_mb=memory_mb(tres_items(tres).get("mem", "")),
        gpus=gpu_count(tres),
        work_dir=work_dir,
        stdout=stdout,
        # Unset, the error output goes where the output goes.
        stderr=output_paths(raw["standard_error"], work_dir, raw) if errors_apart else stdout,
        array_job_id=array_job_id if array_task_id is not None else None,
        array_task_id=array_task_id,
        exit_code=_exit_code(raw.get("exit_code")) if as_written and state in _FINISHED else None,
    )


def _array_ids(raw: dict[str, Any]) -> tuple[str | None, str | None]:
    """(array job id, task id or the pending rest's range such as ``6-9%1``), or Nones."""
    array_job_id = _number(raw.get("array_job_id"))
    if not array_job_id:
        return None, None
    task = _number(raw.get("array_task_id"))
    if task is not None:
        return str(array_job_id), str(task)
    return str(array_job_id), _text(raw.get("array_task_string"))


def _public_id(raw: dict[str, Any], array_job_id: str | None, array_task_id: str | None) -> str:
    if array_job_id is None or array_task_id is None:
        return str(raw.get("job_id"))
    if array_task_id.isdigit():
        return f"{array_job_id}_{array_task_id}"
    return f"{array_job_id}_[{array_task_id}]"


def _output_path(value: Any, work_dir: str | None, raw: dict[str, Any]) -> str | None:
    """The path as squeue prints it: relative to the work dir; unset means sbatch's default
    ``slurm-<job id>.out``, named, as squeue does, by the job's own id even in an array."""
    path = _text(value)
    if path is None:
        if not raw.get("batch_flag") or work_dir is None:
            return None
        path = f"slurm-{raw.get('job_id')}.out"
    return posixpath.join(work_dir, path) if work_dir else path


def _written_path(value: Any, work_dir: str | None, raw: dict[str, Any]) -> str | None:
    """The file slurmd writes: sbatch's default ``slurm-%A_%a.out`` / ``slurm-%j.out`` when
    unset, relative to the work dir, patterns expanded (job_detail.expand_output_path)."""
    path = _text(value)
    array_job_id, array_task_id = _array_ids(raw)
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
        batch_host=_text(raw.get("batch_host")),
    )


def _exit_code(value: Any) -> str | None:
    """A wait status (``768``) as scontrol's ``exit status:signal`` (``3:0``)."""
    status = _number(value)
    if status is None:
        return None
    signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    return f"{os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0}:{signal}"


def _time_used(raw: dict[str, Any], state: str, now: float) -> int:
    """squeue's TimeUsed: running time so far (or until the end), minus time suspended."""
    start = _number(raw.get("start_time")) or 0
    before_suspend = _number(raw.get("pre_sus_time")) or 0
    if state == "PENDING" or not start:
        return 0
    if state == "SUSPENDED":
        return before_suspend
    end = _number(raw.get("end_time")) or 0
    until = now if state == "RUNNING" or not end else end
    suspended_at = _number(raw.get("suspend_time")) or 0
    if suspended_at:
        return int(until - suspended_at) + before_suspend
    return max(int(until - start), 0)


def _minutes_as_seconds(value: Any) -> int | None:
    minutes = _number(value)
    return minutes * 60 if minutes is not None else None


def _utc(value: Any) -> str | None:
    seconds = _number(value)
    if not seconds:
        return None
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def _number(value: Any) -> int | None:
    """A count or time; None for missing, Slurm's not-set and unlimited values (INFINITE is
    sent as 4294967295 or as -1, depending on the field)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _NO_VALUE:
        return None
    return value


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text in {"", "None", "(null)", "N/A"} else text


def parse_partitions(partitions: dict[str, Any], nodes: dict[str, Any]) -> list[Partition]:
    """Partitions from ``/partitions``, counted over ``/nodes``, as scontrol + sinfo give them
    (partitions.py): hidden partitions left out, as ``scontrol show partition`` does."""
    members: dict[str, list[dict[str, Any]]] = {}
    for node in nodes.get("nodes") or []:
        for name in node.get("partitions") or []:
            members.setdefault(name, []).append(node)
    return [
        _partition(raw, members.get(str(raw.get("name")), []))
        for raw in partitions.get("partitions") or []
        if "hidden" not in _flags(raw)
    ]


def parse_reservations(data: dict[str, Any], *, now: float) -> list[Reservation]:
    """Reservations from ``/reservations``; their state (not sent) from their times."""
    reservations = []
    for raw in data.get("reservations") or []:
        start, end = _number(raw.get("start_time")) or 0, _number(raw.get("end_time")) or 0
        reservations.append(
            Reservation(
                name=str(raw.get("name")),
                start=_utc(start),
                end=_utc(end),
                state="ACTIVE" if start <= now < end else "INACTIVE",
                nodes=_text(raw.get("node_list")),
                node_count=_number(raw.get("node_count")),
                partition=_text(raw.get("partition")),
                flags=tuple(str(flag).upper() for flag in raw.get("flags") or []),
                users=_names(raw.get("users")),
                groups=_names(raw.get("groups")),
                accounts=_names(raw.get("accounts")),
            )
        )
    return reservations


def parse_user_accounts(data: dict[str, Any], user: str) -> tuple[tuple[str, ...], str | None]:
    """(``user``'s accounts, sorted; the default one) from slurmdbd's ``/associations``."""
    associations = [raw for raw in data.get("associations") or [] if raw.get("user") == user]
    accounts = tuple(sorted({str(raw.get("account")) for raw in associations}))
    default = next((str(raw.get("account")) for raw in associations if raw.get("is_default")), None)
    return accounts, default


def _partition(raw: dict[str, Any], nodes: list[dict[str, Any]]) -> Partition:
    counts = {"total": len(nodes)}
    cpus_total = cpus_idle = gpus_total = gpus_idle = memory = 0
    for node in nodes:
        state = "+".join([str(node.get("state") or "unknown"), *_flags(node, "state_flags")])
        bucket = node_state(state)
        counts[bucket] = counts.get(bucket, 0) + 1
        cpus = _number(node.get("cpus")) or 0
        cpus_total += cpus
        gpus = gpu_count(str(node.get("gres") or "")) or 0
        gpus_total += gpus
        # As sinfo's CPUsState: the CPUs of a down or drained node count as neither.
        if bucket in {"idle", "mixed", "allocated", "maintenance"}:
            cpus_idle += max(cpus - (_number(node.get("alloc_cpus")) or 0), 0)
        if bucket in {"idle", "mixed", "allocated"}:
            gpus_idle += max(gpus - (gpu_count(str(node.get("gres_used") or "")) or 0), 0)
        memory += _number(node.get("real_memory")) or 0
    flags = _flags(raw)
    return Partition(
        name=str(raw.get("name")),
        state=str(raw.get("state") or "UNKNOWN"),
        default="default" in flags,
        max_time=_minutes_as_seconds(raw.get("max_time_limit")),
        default_time=_minutes_as_seconds(raw.get("default_time_limit")),
        nodes=NodeCounts(**counts),
        cpus=Capacity(total=cpus_total, idle=cpus_idle),
        gpus=Capacity(total=gpus_total, idle=gpus_idle),
        memory_mb=memory,
        allow_accounts=_names(raw.get("allowed_accounts")) or None,
        deny_accounts=_names(raw.get("denied_accounts")),
        allow_groups=_names(raw.get("allowed_groups")) or None,
        allow_qos=_names(raw.get("allowed_qos")) or None,
        deny_qos=_names(raw.get("denied_qos")),
        root_only="root_only" in flags,
    )


def _flags(raw: dict[str, Any], key: str = "flags") -> list[str]:
    return [str(flag).lower() for flag in raw.get(key) or []]


def _names(value: Any) -> tuple[str, ...]:
    """A comma list; empty and ``ALL`` (slurmrestd sends "" where scontrol says ALL) as ()."""
    text = _text(value)
    if text is None or text == "ALL":
        return ()
    return tuple(name for name in text.split(",") if name)
