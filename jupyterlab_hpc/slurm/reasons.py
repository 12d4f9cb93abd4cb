"""Slurm's pending-reason codes in words a scientist understands."""

from __future__ import annotations

_REASONS = {
    "Priority": "Waiting for higher-priority jobs to start first",
    "Resources": "Waiting for nodes with enough free resources",
    "Dependency": "Waiting for the jobs it depends on to finish",
    "DependencyNeverSatisfied": "Will never start: a job it depends on failed",
    "BeginTime": "Waiting for its requested start time",
    "JobHeldUser": "Held by you: release it to let it start",
    "JobHeldAdmin": "Held by an administrator",
    "ReqNodeNotAvail": (
        "Requested nodes are unavailable (down, drained or reserved for maintenance)"
    ),
    "PartitionConfig": "The request does not fit this partition's limits",
    "PartitionDown": "The partition is down",
    "PartitionInactive": "The partition is inactive",
    "PartitionNodeLimit": "Asks for more nodes than the partition allows",
    "PartitionTimeLimit": "Asks for more time than the partition allows",
    "Reservation": "Waiting for its reservation to start",
    "JobArrayTaskLimit": "Waiting: the array's limit of simultaneously running tasks is reached",
    "Licenses": "Waiting for licenses",
    "NodeDown": "A node it needs is down",
    "BadConstraints": "Its constraints cannot be met by any node",
    "InvalidAccount": "The account is invalid or you may not use it",
    "InvalidQOS": "The QOS is invalid or you may not use it",
    "Cleaning": "Being cleaned up after a requeue",
    "launch failed requeued held": "Launch failed; held after requeue",
    "MaxRequeue": "Requeued too many times",
}

# Association and QOS limits share a shape: Assoc|QOS, then Grp/Max, then what is limited.
_LIMIT_SUBJECTS = {
    "CpuLimit": "CPUs in use",
    "CPUMinutesLimit": "CPU-minutes (allocation budget)",
    "CpuMinutesLimit": "CPU-minutes (allocation budget)",
    "CPURunMinutesLimit": "CPU-minutes of running jobs",
    "MemLimit": "memory in use",
    "NodeLimit": "nodes in use",
    "JobsLimit": "running jobs",
    "SubmitJobsLimit": "submitted jobs",
    "WallLimit": "wall time",
    "WallDurationLimit": "wall time",
    "GRESLimit": "GPUs or other generic resources",
    "GRESMinutesLimit": "GPU-minutes (allocation budget)",
    "BillingLimit": "billing units",
    "BillingMinutesLimit": "billing minutes (allocation budget)",
}


def reason_text(reason: str | None) -> str | None:
    """Plain words for a pending reason, or None when the job waits for nothing."""
    if reason is None or reason in {"None", ""}:
        return None
    if reason in _REASONS:
        return _REASONS[reason]
    if reason.startswith("ReqNodeNotAvail"):
        return _REASONS["ReqNodeNotAvail"]
    for scope, owner in (("Assoc", "your account's"), ("QOS", "the QOS's")):
        if reason.startswith(scope):
            return _limit_text(reason.removeprefix(scope), owner)
    return reason


def _limit_text(rest: str, owner: str) -> str:
    kind = "per-user or per-job" if rest.startswith("Max") else "group"
    subject = rest.removeprefix("Grp").removeprefix("Max")
    for per in ("PerUser", "PerJob", "PerAccount", "PerNode"):
        subject = subject.replace(per, "")
    words = _LIMIT_SUBJECTS.get(subject, subject)
    return f"Waiting: {owner} {kind} limit on {words} is reached"
