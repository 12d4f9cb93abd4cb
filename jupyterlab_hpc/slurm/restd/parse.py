"""slurmrestd's JSON as the project's models; each version's records come through its Dialect
(dialects.py) in data_parser v0.0.38's shape.

Every value means what the commands backend's value means: the same state names, ISO 8601
UTC times, durations in seconds, squeue's ids (``1234``, ``1234_7``, ``1234_[8-20%1]``).
A job list carries squeue's output paths (squeue.py); one job carries them as slurmd writes
them, as ``scontrol show job`` does (job_detail.py). Where slurmrestd sends less than those
commands print, this module derives it as they do: the time used, the default output file.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from jupyterlab_hpc.slurm.job_states import FINISHED_STATES, PENDING, STARTED_STATES
from jupyterlab_hpc.slurm.notation import gpu_count, memory_mb, node_state, tres_items
from jupyterlab_hpc.slurm.reasons import reason_text
from jupyterlab_hpc.slurm.records import (
    Capacity,
    Job,
    JobDetail,
    JobStatus,
    NodeCounts,
    Partition,
    Reservation,
)
from jupyterlab_hpc.slurm.restd.dialects import Dialect, array_ids, given_text, number, text


def parse_jobs(
    data: dict[str, Any], dialect: Dialect, *, now: float, queued_only: bool
) -> list[Job]:
    """Jobs from a ``/jobs`` or ``/job/{id}`` answer. ``queued_only`` drops finished jobs
    that slurmctld still remembers, which squeue hides unless asked for every state."""
    records = [dialect.job(raw) for raw in data.get("jobs") or []]
    jobs = [_job(record, now, as_written=False) for record in records]
    return [job for job in jobs if job.state not in FINISHED_STATES] if queued_only else jobs


def parse_job_details(data: dict[str, Any], dialect: Dialect, *, now: float) -> list[JobDetail]:
    """Jobs from a ``/job/{id}`` answer as scontrol shows them: output paths as slurmd writes
    them, the exit code of a finished job, the estimated start of a pending one."""
    records = [dialect.job(raw) for raw in data.get("jobs") or []]
    return [
        JobDetail(
            job=_job(record, now, as_written=True),
            estimated_start=_utc(record.get("start_time"))
            if record.get("job_state") == PENDING
            else None,
            efficiency=None,
            command=text(record.get("command")),
        )
        for record in records
    ]


def parse_job_status(data: dict[str, Any], dialect: Dialect, job_id: str) -> JobStatus | None:
    """The status of ``job_id`` from a ``/job/{id}`` answer; None when it lists no such job."""
    for raw in data.get("jobs") or []:
        record = dialect.job(raw)
        if str(record.get("job_id")) != job_id.partition("_")[0]:
            continue
        state = str(record.get("job_state") or "UNKNOWN")
        pending = state == PENDING
        reason = text(record.get("state_reason"))
        return JobStatus(
            job_id=job_id,
            state=state,
            reason=reason,
            reason_text=reason_text(reason) if pending else None,
            node=None if pending else text(record.get("nodes")),
            start_time=_utc(record.get("start_time")),
            end_time=_utc(record.get("end_time")),
        )
    return None


def _job(raw: dict[str, Any], now: float, *, as_written: bool) -> Job:
    """A Dialect's job record as a Job."""
    state = str(raw.get("job_state") or "UNKNOWN")
    pending = state == PENDING
    reason = text(raw.get("state_reason"))
    array_job_id, array_task_id = array_ids(raw)
    tres = text(raw.get("tres_alloc_str")) or text(raw.get("tres_req_str")) or ""
    return Job(
        id=_public_id(raw, array_job_id, array_task_id),
        name=str(raw.get("name") or ""),
        user=str(raw.get("user_name") or raw.get("user_id") or ""),
        account=text(raw.get("account")),
        partition=text(raw.get("partition")),
        qos=text(raw.get("qos")),
        state=state,
        reason=reason,
        reason_text=reason_text(reason) if pending else None,
        submit_time=_utc(raw.get("submit_time")),
        start_time=_utc(raw.get("start_time")) if state in STARTED_STATES else None,
        end_time=_utc(raw.get("end_time")) if state in FINISHED_STATES else None,
        time_limit=_minutes_as_seconds(raw.get("time_limit")),
        elapsed=_time_used(raw, state, now),
        nodes=None if pending else text(raw.get("nodes")),
        node_count=number(raw.get("node_count")),
        cpus=number(raw.get("cpus")),
        memory_mb=memory_mb(tres_items(tres).get("mem", "")),
        gpus=gpu_count(tres),
        work_dir=given_text(raw.get("current_working_directory")),
        stdout=raw["stdout_file"] if as_written else raw["stdout"],
        # Without --error, errors go to the output file (26.05's API then gives no path).
        stderr=(raw["stderr_file"] or raw["stdout_file"])
        if as_written
        else (raw["stderr"] or raw["stdout"]),
        array_job_id=array_job_id if array_task_id is not None else None,
        array_task_id=array_task_id,
        exit_code=raw["exit_code"] if as_written and state in FINISHED_STATES else None,
    )


def _public_id(raw: dict[str, Any], array_job_id: str | None, array_task_id: str | None) -> str:
    if array_job_id is None or array_task_id is None:
        return str(raw.get("job_id"))
    if array_task_id.isdigit():
        return f"{array_job_id}_{array_task_id}"
    return f"{array_job_id}_[{array_task_id}]"


def _time_used(raw: dict[str, Any], state: str, now: float) -> int:
    """squeue's TimeUsed: running time so far (or until the end), minus time suspended."""
    start = number(raw.get("start_time")) or 0
    before_suspend = number(raw.get("pre_sus_time")) or 0
    if state == PENDING or not start:
        return 0
    if state == "SUSPENDED":
        return before_suspend
    end = number(raw.get("end_time")) or 0
    until = now if state == "RUNNING" or not end else end
    suspended_at = number(raw.get("suspend_time")) or 0
    if suspended_at:
        return int(until - suspended_at) + before_suspend
    return max(int(until - start), 0)


def _minutes_as_seconds(value: Any) -> int | None:
    minutes = number(value)
    return minutes * 60 if minutes is not None else None


def _utc(value: Any) -> str | None:
    seconds = number(value)
    if not seconds:
        return None
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def parse_partitions(
    partitions: dict[str, Any], nodes: dict[str, Any], dialect: Dialect
) -> list[Partition]:
    """Partitions from ``/partitions``, counted over ``/nodes``, as scontrol + sinfo give them
    (partitions.py): hidden partitions left out, as ``scontrol show partition`` does."""
    members: dict[str, list[dict[str, Any]]] = {}
    for raw_node in nodes.get("nodes") or []:
        node = dialect.node(raw_node)
        for name in node.get("partitions") or []:
            members.setdefault(name, []).append(node)
    records = [dialect.partition(raw) for raw in partitions.get("partitions") or []]
    return [
        _partition(record, members.get(str(record.get("name")), []))
        for record in records
        if "hidden" not in _flags(record)
    ]


def parse_reservations(data: dict[str, Any], dialect: Dialect, *, now: float) -> list[Reservation]:
    """Reservations from ``/reservations``; their state (not sent) from their times."""
    reservations = []
    for raw in map(dialect.reservation, data.get("reservations") or []):
        start, end = number(raw.get("start_time")) or 0, number(raw.get("end_time")) or 0
        reservations.append(
            Reservation(
                name=str(raw.get("name")),
                start=_utc(start),
                end=_utc(end),
                state="ACTIVE" if start <= now < end else "INACTIVE",
                nodes=text(raw.get("node_list")),
                node_count=number(raw.get("node_count")),
                partition=text(raw.get("partition")),
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
        bucket = node_state(str(node["state"]))
        counts[bucket] = counts.get(bucket, 0) + 1
        cpus = number(node.get("cpus")) or 0
        cpus_total += cpus
        gpus = gpu_count(str(node.get("gres") or "")) or 0
        gpus_total += gpus
        # As sinfo's CPUsState: the CPUs of a down or drained node count as neither.
        if bucket in {"idle", "mixed", "allocated", "maintenance"}:
            cpus_idle += max(cpus - (number(node.get("alloc_cpus")) or 0), 0)
        if bucket in {"idle", "mixed", "allocated"}:
            gpus_idle += max(gpus - (gpu_count(str(node.get("gres_used") or "")) or 0), 0)
        memory += number(node.get("real_memory")) or 0
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


def _flags(raw: dict[str, Any]) -> list[str]:
    return [str(flag).lower() for flag in raw.get("flags") or []]


def _names(value: Any) -> tuple[str, ...]:
    """A comma list; empty and ``ALL`` (slurmrestd sends "" where scontrol says ALL) as ()."""
    names = text(value)
    if names is None or names == "ALL":
        return ()
    return tuple(name for name in names.split(",") if name)
