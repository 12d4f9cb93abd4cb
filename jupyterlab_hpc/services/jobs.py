"""Jobs as the REST layer serves them: cached listings, filters, actions, submission, output."""

from __future__ import annotations

import asyncio
import errno
import os
import pwd
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from jupyterlab_hpc.services.cache import Fresh, SlurmCache
from jupyterlab_hpc.services.user import UserService
from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.backend import JobAction, SlurmBackend
from jupyterlab_hpc.slurm.errors import (
    InvalidRequest,
    SlurmConflict,
    SlurmNotFound,
    SlurmPermissionDenied,
    SlurmTimeout,
)
from jupyterlab_hpc.slurm.job_states import FINISHED_STATES
from jupyterlab_hpc.slurm.records import Job, JobDetail

# Filtered listings kept between refreshes; filters come from users, so their number is bounded.
MAX_CACHED_VIEWS = 64
# Maximum bytes of job output one request returns.
MAX_OUTPUT_CHUNK = 1024 * 1024
# Seconds reading one chunk of job output may take (a hung network file system) before the
# request gives up with a 504.
OUTPUT_READ_TIMEOUT = 10.0
# Output files are read in threads of their own: reads stuck in a hung file system then hold
# up only further output reads (which time out), not the threads the rest of the server uses.
_OUTPUT_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hpc-job-output")
# Never wait on open: a FIFO opens at once instead of waiting for a writer (which froze the
# server), a device does not become the server's terminal, a symlink as the last component
# is refused rather than followed.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
_NOT_REGULAR = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass(frozen=True)
class JobFilter:
    """Server-side filters of a listing; empty means "any"."""

    states: frozenset[str] = frozenset()
    partition: str | None = None
    account: str | None = None
    user: str | None = None

    def matches(self, job: Job) -> bool:
        return (
            (not self.states or job.state in self.states)
            and (self.partition is None or job.partition == self.partition)
            and (self.account is None or job.account == self.account)
            and (self.user is None or job.user == self.user)
        )


@dataclass(frozen=True)
class OutputChunk:
    data: str
    offset: int
    next_offset: int
    size: int
    path: str


class JobsService:
    """Reads and changes jobs through the backend, behind the shared cache."""

    def __init__(
        self, backend: SlurmBackend, cache: SlurmCache, user: UserService, root_dir: Path
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.user = user
        self.root_dir = root_dir.resolve()
        # Filtered views of the cached listings, each made once per Slurm read; the same view
        # object is returned until the listing changes, so its JSON can be cached by identity.
        self._views: dict[tuple[bool, JobFilter], tuple[Fresh[list[Job]], Fresh[list[Job]]]] = {}

    async def list_jobs(self, *, mine: bool, only: JobFilter = JobFilter()) -> Fresh[list[Job]]:
        listing = await self._listing(mine=mine)
        known = self._views.get((mine, only))
        if known is not None and known[0] is listing:
            return known[1]
        view = (
            listing
            if only == JobFilter()
            else Fresh([job for job in listing.value if only.matches(job)], listing.updated)
        )
        if len(self._views) >= MAX_CACHED_VIEWS:
            self._views.clear()
        self._views[(mine, only)] = (listing, view)
        return view

    async def _listing(self, *, mine: bool) -> Fresh[list[Job]]:
        """The cached listing a view is cut from. While everyone's jobs are in the cache
        (someone looks at the whole queue), the user's own are cut from them: one squeue for both.
        """
        everyone: Fresh[list[Job]] | None = self.cache.peek(("jobs", False))
        if mine and everyone is not None:
            return await self.list_jobs(mine=False, only=JobFilter(user=await self.user.name()))
        return await self.cache.get(("jobs", mine), lambda: self.backend.list_jobs(mine=mine))

    async def get_job(self, job_id: str) -> Job:
        return await self.backend.get_job(validation.job_id(job_id))

    async def get_job_detail(self, job_id: str) -> JobDetail:
        """Not cached: asked for one job at a time, when the user opens it."""
        return await self.backend.get_job_detail(validation.job_id(job_id))

    async def act(self, job_id: str, action: JobAction) -> None:
        """Cancel/hold/release/requeue: Slurm decides who may; we refuse what it would ignore."""
        job = await self.get_job(job_id)
        if job.state in FINISHED_STATES:
            msg = f"Job {job_id} has already finished ({job.state})"
            raise SlurmConflict(msg)
        await self.backend.act_on_job(job.id, action)
        self.cache.invalidate()

    async def submit(self, relative_path: str) -> str:
        """sbatch a script inside the server root, in the script's own folder."""
        script = self._inside_root(relative_path)
        try:
            found = script.is_file()
        except OSError as error:  # a name longer than the file system allows
            msg = f"Not a usable path: {error.strerror}"
            raise InvalidRequest(msg) from error
        if not found:
            msg = f"No such batch script: {relative_path}"
            raise SlurmNotFound(msg)
        job_id = await self.backend.submit(str(script), str(script.parent))
        self.cache.invalidate()
        return job_id

    async def read_output(self, job_id: str, stream: str, offset: int, limit: int) -> OutputChunk:
        """Up to ``limit`` bytes of one of the user's own jobs' stdout/stderr from ``offset``."""
        job = await self.get_job(job_id)
        if job.user != await self.user.name():
            msg = f"Job {job_id} belongs to {job.user}: only your own jobs' output can be read"
            raise SlurmPermissionDenied(msg)
        path_text = job.stdout if stream == "stdout" else job.stderr
        if path_text is None or path_text == "/dev/null":
            msg = f"Job {job_id} writes no {stream} file"
            raise SlurmNotFound(msg)
        path = Path(job.work_dir or "/", path_text)
        read = asyncio.get_running_loop().run_in_executor(
            _OUTPUT_READERS, read_output_file, path, job.user, offset, min(limit, MAX_OUTPUT_CHUNK)
        )
        try:
            start, data, size = await asyncio.wait_for(read, OUTPUT_READ_TIMEOUT)
        except TimeoutError as error:
            msg = f"Reading {path} took longer than {OUTPUT_READ_TIMEOUT:g} s"
            raise SlurmTimeout(msg) from error
        return OutputChunk(data.decode(errors="replace"), start, start + len(data), size, str(path))

    def _inside_root(self, relative_path: str) -> Path:
        if "\x00" in relative_path:
            msg = "Path contains a NUL character"
            raise InvalidRequest(msg)
        try:
            candidate = (self.root_dir / relative_path.lstrip("/")).resolve()
        except UnicodeEncodeError as error:  # a lone surrogate, which JSON can carry
            msg = "Path is not valid Unicode text"
            raise InvalidRequest(msg) from error
        if not candidate.is_relative_to(self.root_dir):
            msg = f"Path {relative_path!r} is outside the server's root folder"
            raise InvalidRequest(msg)
        return candidate


def read_output_file(path: Path, user: str, offset: int, limit: int) -> tuple[int, bytes, int]:
    """Up to ``limit`` bytes from ``offset`` of a job's output file, with where they start and
    the file's size; blocking, so run in a thread.

    The rule: only a regular file owned by the job's ``user``, with its owner's read
    permission, reached by a path whose last component is not a symbolic link. That is what
    the user could read anyway, whoever the server runs as (the user, as in production, or
    root, as in the tests): a symlink or a link through a folder to someone else's file (say
    /etc/shadow) is refused, and a FIFO or device is never read. Checked on the opened
    descriptor, so the path cannot be swapped between the check and the read.
    """
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError) as error:
        msg = f"{path} does not exist (yet)"
        raise SlurmNotFound(msg) from error
    except PermissionError as error:
        msg = f"{path} cannot be read: permission denied"
        raise SlurmPermissionDenied(msg) from error
    except OSError as error:
        if error.errno == errno.ELOOP:
            msg = f"{path} is a symbolic link: job output is read only from regular files"
            raise SlurmPermissionDenied(msg) from error
        msg = f"{path} cannot be opened: {error.strerror}"
        raise InvalidRequest(msg) from error
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = next(
                (kind for is_a, kind in _NOT_REGULAR if is_a(info.st_mode)), "a special file"
            )
            msg = f"{path} is {kind}: job output is read only from regular files"
            raise InvalidRequest(msg)
        if info.st_uid != _uid_of(user):
            msg = f"{path} belongs to {_name_of(info.st_uid)}, not to {user}: not served"
            raise SlurmPermissionDenied(msg)
        if not info.st_mode & stat.S_IRUSR:
            msg = f"{path} cannot be read: its owner {user} has no read permission"
            raise SlurmPermissionDenied(msg)
        start = min(offset, info.st_size)
        # One read: should it come back short, the client asks again from next_offset.
        return start, os.pread(descriptor, limit, start), info.st_size
    finally:
        os.close(descriptor)


def _uid_of(user: str) -> int:
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError as error:
        msg = f"User {user} is unknown on this host: who owns the output cannot be checked"
        raise SlurmPermissionDenied(msg) from error


def _name_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
