"""The ``squeue`` query for jobs and the parser of its delimited text output.

Delimited text rather than ``--json``: it exists in every Slurm release with the same
shape, honours squeue's filters (22.05's ``--json`` ignores them), and is far cheaper
on big queues (see CONTRIBUTING.md, "Choosing output formats").
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from jupyterlab_hpc.slurm.fields import (
    SEPARATOR,
    duration_seconds,
    gpu_count,
    int_or_none,
    memory_mb,
    text_or_none,
    tres_items,
    utc_time,
)
from jupyterlab_hpc.slurm.models import FINISHED_STATES, STARTED_STATES, Job
from jupyterlab_hpc.slurm.reasons import reason_text

# (our field, squeue --Format field) in output order. --Format rather than --format: only it
# offers the output paths and the allocated TRES (total memory, GPUs) in every release.
_FIELDS = (
    ("id", "JobArrayID"),
    ("array_job_id", "ArrayJobID"),
    ("array_task_id", "ArrayTaskID"),
    ("name", "Name"),
    ("user", "UserName"),
    ("account", "Account"),
    ("partition", "Partition"),
    ("qos", "QOS"),
    ("state", "State"),
    ("reason", "Reason"),
    ("submit_time", "SubmitTime"),
    ("start_time", "StartTime"),
    ("end_time", "EndTime"),
    ("time_limit", "TimeLimit"),
    ("elapsed", "TimeUsed"),
    ("nodes", "NodeList"),
    ("node_count", "NumNodes"),
    ("cpus", "NumCPUs"),
    ("tres", "tres-alloc"),
    ("work_dir", "WorkDir"),
    ("stdout", "StdOut"),
    ("stderr", "StdErr"),
)
_VALUES_PER_LINE = len(_FIELDS) + 1
# Without a size squeue prints each value whole, then the suffix: our separator.
FORMAT = ",".join(f"{field}:{SEPARATOR}" for _, field in _FIELDS)


def squeue_argv(*, mine: bool = False) -> list[str]:
    """squeue for the caller's jobs (``mine``) or the whole queue."""
    argv = ["squeue", "--noheader", "--Format", FORMAT]
    return [*argv, "--me"] if mine else argv


def parse_jobs(lines: Iterable[str]) -> list[Job]:
    """Jobs from lines of ``squeue --noheader --Format FORMAT``; malformed lines are skipped."""
    return [job for line in lines if (job := _job_of_line(line)) is not None]


class SqueueParser:
    """Parses the listings of one squeue query, one after another. A line printed exactly as
    in the previous listing gets that listing's record back instead of being parsed again.

    Most of a big queue waits, and a waiting job prints the same line at every read (a running
    job's elapsed time moves). Parsing 10,000 lines costs some 50 ms, half of what squeue
    itself takes; looking them up, some 4 ms. Records are never changed, so sharing them
    between listings is safe.
    """

    def __init__(self) -> None:
        self._last_listing: dict[str, Job] = {}

    def parse(self, lines: Iterable[str], listing: dict[str, Job]) -> None:
        """Add the records of ``lines``, a part of the listing being read, to ``listing``."""
        last_listing = self._last_listing
        for line in lines:
            job = last_listing.get(line) or _job_of_line(line)
            if job is not None:
                listing[line] = job

    def finish(self, listing: dict[str, Job]) -> list[Job]:
        """The jobs of a listing read whole, which becomes the one the next listing reuses.
        Only after a whole read: a failed read must not make the next one parse everything."""
        self._last_listing = listing
        return list(listing.values())


def _job_of_line(line: str) -> Job | None:
    values = line.split(SEPARATOR)
    # Every field ends with the separator: a whole line splits into one more value, empty.
    if len(values) == _VALUES_PER_LINE and not values[-1]:
        return _job(values[:-1])
    return None


def _job(values: list[str]) -> Job:
    (job_id, array_job_id, array_task_id, name, user, account, partition, qos, state, reason,
     submit_time, start_time, end_time, time_limit, elapsed, nodes, node_count, cpus, tres,
     work_dir, stdout, stderr) = values  # in FORMAT's order  # fmt: skip
    state = state.strip()
    pending = state == "PENDING"
    reason_code = text_or_none(reason)
    array_task = text_or_none(array_task_id)
    memory, gpus = _allocated(tres)
    return Job(
        id=job_id.strip(),
        name=name,
        user=user.strip(),
        account=text_or_none(account),
        partition=text_or_none(partition),
        qos=text_or_none(qos),
        state=state,
        reason=reason_code,
        reason_text=reason_text(reason_code) if pending else None,
        submit_time=utc_time(submit_time),
        start_time=utc_time(start_time) if state in STARTED_STATES else None,
        end_time=utc_time(end_time) if state in FINISHED_STATES else None,
        time_limit=duration_seconds(time_limit),
        elapsed=duration_seconds(elapsed),
        nodes=None if pending else text_or_none(nodes),
        node_count=int_or_none(node_count),
        cpus=int_or_none(cpus),
        memory_mb=memory,
        gpus=gpus,
        work_dir=text_or_none(work_dir),
        stdout=text_or_none(stdout),
        stderr=text_or_none(stderr),
        array_job_id=text_or_none(array_job_id) if array_task else None,
        array_task_id=array_task,
        exit_code=None,
    )


@lru_cache(maxsize=4096)
def _allocated(tres: str) -> tuple[int | None, int | None]:
    """Memory (MB) and GPUs of an allocated-TRES list; a queue repeats a few distinct ones."""
    return memory_mb(tres_items(tres).get("mem", "")), gpu_count(tres)
