"""``%squeue``, ``%sinfo``, ``%sacct``, ``%scancel`` and ``%%sbatch``: Slurm from a notebook or
an IPython terminal, through the project's Slurm layer (argument lists, never a shell).

Slurm's refusals are written to stderr in Slurm's words and the magic answers nothing (as the
command itself would); options the magic does not take are a UsageError, before anything runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import NoReturn, TypeVar, cast

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets.config import Configurable

from jupyterlab_hpc.magics.tables import Table, accounting_table, partitions_table, queue_table
from jupyterlab_hpc.magics.worker_loop import run_in_own_loop
from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.commands.accounting import start_time
from jupyterlab_hpc.slurm.commands.backend import SlurmCommands
from jupyterlab_hpc.slurm.connection import SlurmConnection
from jupyterlab_hpc.slurm.errors import InvalidRequest, SlurmConflict, SlurmError
from jupyterlab_hpc.slurm.job_states import FINISHED_STATES
from jupyterlab_hpc.slurm.records import BatchScript, Job
from jupyterlab_hpc.slurm.withheld import SECRET_PATTERNS, withheld_names

T = TypeVar("T")


class _OptionParser(argparse.ArgumentParser):
    """argparse that reports a bad option as a UsageError (one line, no traceback) instead of
    exiting the kernel; no abbreviations, so what is typed is what is meant."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog=prog, add_help=False, allow_abbrev=False)

    def error(self, message: str) -> NoReturn:
        msg = f"{self.prog}: {message}"
        raise UsageError(msg)


def _job_options(prog: str) -> _OptionParser:
    parser = _OptionParser(prog)
    parser.add_argument("-a", "--all", action="store_true")
    parser.add_argument("-u", "--user", default="")
    parser.add_argument("-p", "--partition", default="")
    parser.add_argument("-t", "--states", default="")
    parser.add_argument("-j", "--jobs", default="")
    return parser


_SQUEUE_OPTIONS = _job_options("%squeue")
_SACCT_OPTIONS = _job_options("%sacct")
_SACCT_OPTIONS.add_argument("-S", "--starttime")
_SINFO_OPTIONS = _OptionParser("%sinfo")
_SCANCEL_OPTIONS = _OptionParser("%scancel")
_SCANCEL_OPTIONS.add_argument("job_ids", nargs="+", metavar="JOBID")


@dataclass(frozen=True)
class JobQuery:
    """The jobs a ``%squeue`` or ``%sacct`` asks for: the caller's unless it names others, and
    of those the ones every given filter matches."""

    users: frozenset[str]
    partitions: frozenset[str]
    states: frozenset[str]
    job_ids: tuple[str, ...]
    everyone: bool

    @property
    def mine(self) -> bool:
        return not (self.everyone or self.users or self.job_ids)

    def select(self, jobs: Iterable[Job]) -> list[Job]:
        return [job for job in jobs if self._matches(job)]

    def _matches(self, job: Job) -> bool:
        # A pending job may name several partitions ("debug,compute"); an array's id selects
        # its tasks, as squeue -j does.
        partitions = (job.partition or "").split(",")
        return (
            (not self.users or job.user in self.users)
            and (not self.partitions or not self.partitions.isdisjoint(partitions))
            and (not self.states or job.state in self.states)
            and (not self.job_ids or job.id in self.job_ids or job.array_job_id in self.job_ids)
        )


def _parse(parser: _OptionParser, line: str) -> argparse.Namespace:
    return parser.parse_args(_words(parser.prog, line))


def _words(prog: str, line: str) -> list[str]:
    """A magic's line in words, quoted as in a shell; no shell ever sees them."""
    try:
        return shlex.split(line)
    except ValueError as error:  # an unclosed quote
        msg = f"{prog}: {error}"
        raise UsageError(msg) from None


def _job_query(options: argparse.Namespace) -> JobQuery:
    """The query of parsed job options, each value checked as Slurm names and ids must be."""
    try:
        return JobQuery(
            users=frozenset(validation.slurm_name(user, "user") for user in _items(options.user)),
            partitions=frozenset(
                validation.slurm_name(partition, "partition")
                for partition in _items(options.partition)
            ),
            states=validation.job_states(_items(options.states)),
            job_ids=tuple(validation.job_id(job_id) for job_id in _items(options.jobs)),
            everyone=options.all,
        )
    except InvalidRequest as error:
        raise UsageError(str(error)) from None


def _items(values: str) -> list[str]:
    """Comma-separated values, as squeue takes them."""
    return [value for value in values.split(",") if value]


def sbatch_options(line: str) -> tuple[str, ...]:
    """sbatch's options from ``%%sbatch``'s line. sbatch would take its first word that is
    neither an option nor an option's value for a script file and ignore the cell: refused."""
    words = _words("%%sbatch", line)
    may_be_value = False
    for word in words:
        if word.startswith("-") and word != "--":
            # "--time=5" and "-t5" hold their value; "--time 5" and "-t 5" are followed by it.
            may_be_value = "=" not in word and (word.startswith("--") or len(word) == 2)
        elif may_be_value:
            may_be_value = False
        else:
            msg = f"%%sbatch: {word!r} is not an option (the cell is the script)"
            raise UsageError(msg)
    return tuple(words)


async def _cancel(backend: SlurmBackend, job_id: str) -> str:
    """Cancel a job of Slurm's queue that has not finished; its id. The queue is asked first:
    for a job it does not know, scancel (22.05) says nothing and succeeds."""
    job = await backend.get_job(job_id)
    if job.state in FINISHED_STATES:
        msg = f"Job {job_id} has already finished ({job.state})"
        raise SlurmConflict(msg)
    await backend.act_on_job(job.id, "cancel")
    return job.id


@magics_class
class SlurmMagics(Magics):
    """Slurm's commands as IPython magics, answering with tables (HTML in a notebook)."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        # How Slurm is reached, configured as the shell is: c.SlurmConnection in
        # ipython_kernel_config.py (ipython_config.py for a terminal), or %config once loaded.
        self.connection = SlurmConnection(parent=shell)
        # IPython's typing takes the list for the shell's alone, after its first item.
        cast("list[Configurable]", shell.configurables).append(self.connection)

    @line_magic
    def squeue(self, line: str) -> Table | None:
        """Your jobs in Slurm's queue, or everyone's that match the options.

        %squeue [-a] [-u USER[,USER]] [-p PARTITION[,...]] [-t STATE[,...]] [-j JOBID[,...]]

        -a, --all        everyone's jobs, not only yours
        -u, --user       these users' jobs
        -p, --partition  jobs in these partitions
        -t, --states     jobs in these states (PENDING, RUNNING ...); finished ones: %sacct
        -j, --jobs       these jobs (an array's id: its tasks), whoever's they are
        """
        query = _job_query(_parse(_SQUEUE_OPTIONS, line))
        jobs = self._ask(lambda backend: backend.list_jobs(mine=query.mine))
        return None if jobs is None else queue_table(query.select(jobs))

    @line_magic
    def sacct(self, line: str) -> Table | None:
        """Your jobs as Slurm's accounting records them, finished ones too.

        %sacct [-S START] [-a] [-u USER[,...]] [-p PARTITION[,...]] [-t STATE[,...]]
               [-j JOBID[,...]]

        -S, --starttime  jobs since START (now-7days, 2026-12-01, 2026-12-01T08:00);
                         default: today, or whenever for the jobs of -j
        and the options of %squeue (-t: COMPLETED, FAILED, CANCELLED, TIMEOUT ... too).
        """
        options = _parse(_SACCT_OPTIONS, line)
        query = _job_query(options)
        try:
            since = None if options.starttime is None else start_time(options.starttime)
        except InvalidRequest as error:
            raise UsageError(str(error)) from None

        async def accounted(backend: SlurmBackend) -> list[Job]:
            if not isinstance(backend, SlurmCommands):
                msg = "%sacct reads sacct: it needs c.SlurmConnection.backend = 'commands'"
                raise UsageError(msg)
            return await backend.list_accounted_jobs(
                mine=query.mine, job_ids=query.job_ids, since=since
            )

        jobs = self._ask(accounted)
        return None if jobs is None else accounting_table(query.select(jobs))

    @line_magic
    def sinfo(self, line: str) -> Table | None:
        """The partitions you can see: state, time limit, nodes, idle CPUs and GPUs.

        %sinfo
        """
        _parse(_SINFO_OPTIONS, line)
        partitions = self._ask(lambda backend: backend.list_partitions())
        return None if partitions is None else partitions_table(partitions)

    @line_magic
    def scancel(self, line: str) -> None:
        """Cancel jobs of yours that are pending or running.

        %scancel JOBID [JOBID ...]
        """
        options = _parse(_SCANCEL_OPTIONS, line)
        try:
            job_ids = [validation.job_id(job_id) for job_id in options.job_ids]
        except InvalidRequest as error:
            raise UsageError(str(error)) from None
        for job_id in job_ids:
            cancelled = self._ask(partial(_cancel, job_id=job_id))
            if cancelled is not None:
                sys.stdout.write(f"Cancelled job {cancelled}\n")

    @cell_magic
    def sbatch(self, line: str, cell: str) -> str | None:
        """Submit the cell as a batch script; answers with the new job's id.

        %%sbatch [sbatch's options]

        The options are sbatch's own (--partition=debug, -t 10, --job-name=...); #SBATCH
        lines in the cell work as in any script. Without --chdir the job starts where sbatch
        runs: the kernel's current folder (with slurmrestd, your home).
        """
        # The kernel's secrets (JupyterHub's API token, say) stay out of the job, as they do
        # out of kernel jobs: Slurm keeps a batch job's environment and shows it to admins.
        job = BatchScript(
            script=cell,
            options=sbatch_options(line),
            withheld_environment=tuple(withheld_names(os.environ, SECRET_PATTERNS)),
        )
        return self._ask(lambda backend: backend.submit_script(job))

    def _ask(self, question: Callable[[SlurmBackend], Awaitable[T]]) -> T | None:
        """The answer to ``question``, or None once Slurm's refusal is written to stderr.

        A backend of its own for each question: each runs in an event loop of its own
        (worker_loop), and slurmrestd's kept-alive connections belong to the loop that opened
        them."""

        async def ask() -> T:
            backend = self.connection.new_backend()
            try:
                return await question(backend)
            finally:
                await backend.close()

        try:
            return run_in_own_loop(ask())
        except SlurmError as error:
            sys.stderr.write(f"{error}\n")
            return None
