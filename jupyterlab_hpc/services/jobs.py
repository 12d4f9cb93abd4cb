"""Jobs as the REST layer serves them: cached listings, filters, actions, submission, output."""

from __future__ import annotations

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
)
from jupyterlab_hpc.slurm.job_detail import JobDetail
from jupyterlab_hpc.slurm.models import FINISHED_STATES, Job

# Filtered listings kept between refreshes; filters come from users, so their number is bounded.
MAX_CACHED_VIEWS = 64
# Maximum bytes of job output one request returns.
MAX_OUTPUT_CHUNK = 1024 * 1024


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
        try:
            with path.open("rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(min(offset, size))
                data = handle.read(min(limit, MAX_OUTPUT_CHUNK))
        except FileNotFoundError as error:
            msg = f"{path} does not exist (yet)"
            raise SlurmNotFound(msg) from error
        start = min(offset, size)
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
