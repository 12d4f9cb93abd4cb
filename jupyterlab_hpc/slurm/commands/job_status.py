"""Where one job stands (a remote kernel's): squeue while slurmctld knows it, sacct after."""

from __future__ import annotations

from jupyterlab_hpc.slurm.commands.fields import delimited_records
from jupyterlab_hpc.slurm.job_states import PENDING
from jupyterlab_hpc.slurm.notation import text_or_none, utc_time
from jupyterlab_hpc.slurm.reasons import reason_text
from jupyterlab_hpc.slurm.records import JobStatus

# State, reason, node, start (Slurm's estimate while pending), end (the time limit while running):
# first and last fields no user can put a line break into, as delimited_records needs.
_SQUEUE_FIELDS = ("%T", "%r", "%N", "%S", "%e")
_SACCT_FIELDS = "State,Reason,NodeList,Start,End"


def squeue_argv(job_id: str, separator: str) -> list[str]:
    """The job's status, values separated by ``separator`` (fields.query_separator())."""
    return [
        "squeue",
        "--noheader",
        f"--jobs={job_id}",
        "--states=all",
        f"--format={separator.join(_SQUEUE_FIELDS)}",
    ]


def sacct_argv(job_id: str, separator: str) -> list[str]:
    """The job's status once slurmctld forgot it, values separated by ``separator``."""
    return ["sacct", "--noheader", "--parsable2", "--allocations", f"--jobs={job_id}",
            f"--format={_SACCT_FIELDS}", f"--delimiter={separator}"]  # fmt: skip


def parse_status(job_id: str, output: str, separator: str) -> JobStatus | None:
    """The first record of ``squeue_argv`` or ``sacct_argv`` output; None when there is none.

    sacct words a state as "CANCELLED by 1001"; the first word is the state.
    """
    for values in delimited_records(output, separator, len(_SQUEUE_FIELDS)):
        state_words, reason, node, start, end = values
        state = state_words.split(" ", 1)[0].strip()
        reason_code = text_or_none(reason)
        pending = state == PENDING
        return JobStatus(
            job_id=job_id,
            state=state,
            reason=reason_code,
            reason_text=reason_text(reason_code) if pending else None,
            node=None if pending or node.startswith("None") else text_or_none(node),
            start_time=utc_time(start),
            end_time=utc_time(end),
        )
    return None
