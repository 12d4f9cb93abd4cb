"""The ``squeue`` query for jobs and the parser of its delimited text output.

Delimited text rather than ``--json``: it exists in every Slurm release with the same
shape, honours squeue's filters (22.05's ``--json`` ignores them), and is far cheaper
on big queues (see CONTRIBUTING.md, "Choosing output formats").

Slurm prints job names, work dirs and output paths as users gave them, line breaks and all:
each of those values is followed by a separator made for the one query
(fields.query_separator), the record by an end made from it (fields.record_end), so no value
can end a field or a record early. The output is read in lines split on "\n" only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from jupyterlab_hpc.slurm.commands.fields import SEPARATOR, EndedRecords, record_end
from jupyterlab_hpc.slurm.job_states import FINISHED_STATES, PENDING, STARTED_STATES
from jupyterlab_hpc.slurm.notation import (
    given_text_or_none,
    gpu_count,
    int_or_none,
    memory_mb,
    text_or_none,
    time_seconds,
    tres_items,
    utc_time,
)
from jupyterlab_hpc.slurm.reasons import reason_text
from jupyterlab_hpc.slurm.records import Job

# (our field, squeue --Format field) in output order. --Format rather than --format: only it
# offers the output paths and the allocated TRES (total memory, GPUs) in every release.
# First the fields whose text no user chooses, with SEPARATOR between them ...
_FIELDS = (
    ("id", "JobArrayID"),
    ("array_job_id", "ArrayJobID"),
    ("array_task_id", "ArrayTaskID"),
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
)
# ... then the text users choose, each value after the query's separator, the record's end last.
# The query's separator only where it is needed: its random digits add 16 bytes to every record
# each time. After every field they made a 10,000-job listing 5.5 MB instead of 2 MB and its
# read with every record reused 26 ms instead of 6; as here, 2.8 MB and some 10 ms.
_GIVEN_FIELDS = (
    ("name", "Name"),
    ("work_dir", "WorkDir"),
    ("stdout", "StdOut"),
    ("stderr", "StdErr"),
)
FIELDS = tuple(field for _, field in _FIELDS)
GIVEN_FIELDS = tuple(field for _, field in _GIVEN_FIELDS)


def squeue_format(fields: Sequence[str], given: Sequence[str], separator: str) -> str:
    """A ``--Format`` printing each field whole (no size given) followed by its suffix:
    SEPARATOR between ``fields``, ``separator`` after the last of them and after each ``given``
    field but the last, which ``record_end(separator)`` follows."""
    suffixes = [
        *[SEPARATOR] * (len(fields) - 1),
        *[separator] * len(given),
        record_end(separator),
    ]
    return ",".join(
        f"{field}:{suffix}" for field, suffix in zip((*fields, *given), suffixes, strict=True)
    )


def record_values(record: str, separator: str, width: int, given: int) -> list[str] | None:
    """The values of a record of ``squeue_format`` output: ``width`` fields, then ``given``
    ones; None if the record has another shape."""
    head, *texts = record.split(separator)
    values = head.split(SEPARATOR)
    if len(values) != width or len(texts) != given:
        return None
    texts[-1] = texts[-1][: -len(record_end(separator))]
    return [*values, *texts]


def squeue_argv(separator: str, *, mine: bool = False) -> list[str]:
    """squeue for the caller's jobs (``mine``) or the whole queue, the text users choose
    delimited by ``separator`` (fields.query_separator(): a fresh one for every query)."""
    argv = ["squeue", "--noheader", "--Format", squeue_format(FIELDS, GIVEN_FIELDS, separator)]
    return [*argv, "--me"] if mine else argv


def parse_jobs(lines: Iterable[str], separator: str) -> list[Job]:
    """Jobs from lines of ``squeue_argv(separator)`` output; malformed records are skipped."""
    records = EndedRecords(record_end(separator)).feed(lines)
    return [job for record in records if (job := _job_of(record, separator)) is not None]


class SqueueParser:
    """Parses the listings of one squeue query, one after another. A record printed exactly
    as in the previous listing gets that listing's job back instead of being parsed again.

    Most of a big queue waits, and a waiting job prints the same record at every read (a
    running job's elapsed time moves). Parsing 10,000 records costs some 50 ms, half of what
    squeue itself takes; looking them up, some 10 ms (decoding the lines included). Records are
    never changed, so sharing them between listings is safe.
    """

    def __init__(self) -> None:
        self._last_listing: dict[str, Job] = {}

    def listing(self, separator: str) -> Listing:
        """A listing to read from the output of ``squeue_argv(separator)``."""
        return Listing(separator, self._last_listing)

    def finish(self, listing: Listing) -> list[Job]:
        """The jobs of a listing read whole, which becomes the one the next listing reuses.
        Only after a whole read: a failed read must not make the next one parse everything."""
        self._last_listing = listing.reusable
        return listing.jobs


class Listing:
    """One squeue listing being read, in parts, as squeue prints it."""

    def __init__(self, separator: str, last_listing: dict[str, Job]) -> None:
        self.separator = separator
        self.jobs: list[Job] = []
        # The jobs by their record with NUL for the separator's random part, which changes at
        # every read: no value can hold NUL (Slurm's strings are C strings), so the key still
        # tells where each value ends, as the record does.
        self.reusable: dict[str, Job] = {}
        self._random = separator[len(SEPARATOR) :]
        self._records = EndedRecords(record_end(separator))
        self._last_listing = last_listing

    def parse(self, lines: Iterable[str]) -> None:
        """Add the jobs whose records ``lines``, the next part of the output, complete."""
        separator, random, last_listing, reusable, jobs = (
            self.separator, self._random, self._last_listing, self.reusable, self.jobs
        )  # fmt: skip
        for record in self._records.feed(lines):
            key = record.replace(random, "\x00")
            job = last_listing.get(key) or _job_of(record, separator)
            if job is not None:
                reusable[key] = job
                jobs.append(job)


def _job_of(record: str, separator: str) -> Job | None:
    values = record_values(record, separator, len(FIELDS), len(GIVEN_FIELDS))
    return None if values is None else job_from_values(values)


def job_from_values(values: list[str]) -> Job:
    """The job of a record's values: FIELDS, then GIVEN_FIELDS."""
    (job_id, array_job_id, array_task_id, user, account, partition, qos, state, reason,
     submit_time, start_time, end_time, time_limit, elapsed, nodes, node_count, cpus, tres,
     name, work_dir, stdout, stderr) = values  # fmt: skip
    state = state.strip()
    pending = state == PENDING
    reason_code = text_or_none(reason)
    array_task = text_or_none(array_task_id)
    memory, gpus = _allocated(tres)
    output = given_text_or_none(stdout)
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
        time_limit=time_seconds(time_limit),
        elapsed=time_seconds(elapsed),
        nodes=None if pending else text_or_none(nodes),
        node_count=int_or_none(node_count),
        cpus=int_or_none(cpus),
        memory_mb=memory,
        gpus=gpus,
        work_dir=given_text_or_none(work_dir),
        stdout=output,
        # Without --error, errors go to the output file: 22.05 prints its path, 24.11 "(null)".
        stderr=given_text_or_none(stderr) or output,
        array_job_id=text_or_none(array_job_id) if array_task else None,
        array_task_id=array_task,
        exit_code=None,
    )


@lru_cache(maxsize=4096)
def _allocated(tres: str) -> tuple[int | None, int | None]:
    """Memory (MB) and GPUs of an allocated-TRES list; a queue repeats a few distinct ones."""
    return memory_mb(tres_items(tres).get("mem", "")), gpu_count(tres)
