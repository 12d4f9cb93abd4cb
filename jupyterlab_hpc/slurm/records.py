"""Plain records of what Slurm reports, in the units of the REST contract (the OpenAPI document)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from jupyterlab_hpc.slurm.job_states import ENDED_WORDS, LIVE_STATES, PENDING


# Not frozen: a frozen dataclass's __init__ costs twice as much, which counts at 10,000 jobs per
# listing. Records are never changed once made: the squeue parser hands the same record to
# every listing that prints the job's line unchanged (slurm/commands/squeue.py).
@dataclass
class Job:
    """One job (or array task) as a user sees it; times ISO 8601 UTC, durations in seconds."""

    id: str
    name: str
    user: str
    account: str | None
    partition: str | None
    qos: str | None
    state: str
    reason: str | None
    reason_text: str | None
    submit_time: str | None
    start_time: str | None
    end_time: str | None
    time_limit: int | None
    elapsed: int | None
    nodes: str | None
    node_count: int | None
    cpus: int | None
    memory_mb: int | None
    gpus: int | None
    work_dir: str | None
    stdout: str | None
    stderr: str | None
    array_job_id: str | None
    array_task_id: str | None
    exit_code: str | None

    def to_json(self) -> dict[str, Any]:
        # Every field is a str, int or None: a shallow copy is asdict() at a tenth of the cost.
        return dict(self.__dict__)


@dataclass(frozen=True)
class ClusterInfo:
    """The cluster slurmctld manages and the Slurm release it runs."""

    cluster: str
    slurm_version: str


@dataclass(frozen=True)
class SlurmRoles:
    """Users whose role widens what Slurm shows them under ``PrivateData``: ``privileged``
    (AdminLevel Operator or Administrator: everything), and per user the accounts they
    coordinate (those accounts' jobs)."""

    privileged: frozenset[str]
    coordinated_accounts: dict[str, frozenset[str]]


@dataclass(frozen=True)
class UserAccess:
    """What a user may submit with: Slurm accounts (the default among them) and Unix groups."""

    user: str
    default_account: str | None
    accounts: tuple[str, ...]
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Efficiency:
    """Fractions of what a finished job was given that it used; None where Slurm has no data."""

    cpu: float | None
    memory: float | None


@dataclass(frozen=True)
class JobDetail:
    """A job plus what only the detail view shows (the OpenAPI document: GET /hpc/jobs/{id})."""

    job: Job
    estimated_start: str | None
    efficiency: Efficiency | None
    command: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.job.to_json(),
            "estimated_start": self.estimated_start,
            "efficiency": asdict(self.efficiency) if self.efficiency else None,
            "command": self.command,
        }


@dataclass(frozen=True)
class NodeCounts:
    """Nodes by what a user can expect of them; each node counts in exactly one of the states."""

    total: int = 0
    idle: int = 0
    mixed: int = 0
    allocated: int = 0
    down: int = 0
    drained: int = 0
    maintenance: int = 0


@dataclass(frozen=True)
class Capacity:
    total: int = 0
    idle: int = 0


@dataclass(frozen=True)
class Partition:
    """A partition; ``None`` access lists mean everybody (Slurm's ``ALL``)."""

    name: str
    state: str
    default: bool
    max_time: int | None
    default_time: int | None
    nodes: NodeCounts
    cpus: Capacity
    gpus: Capacity
    memory_mb: int
    allow_accounts: tuple[str, ...] | None
    deny_accounts: tuple[str, ...]
    allow_groups: tuple[str, ...] | None
    allow_qos: tuple[str, ...] | None
    deny_qos: tuple[str, ...]
    root_only: bool
    hidden: bool = False  # Hidden=YES: listed only to privileged users, or with --all

    def to_json(self, *, allowed: bool) -> dict[str, Any]:
        """The partition as the REST contract shows it to a user; ``allowed`` is theirs."""
        return {
            "name": self.name,
            "state": self.state,
            "default": self.default,
            "max_time": self.max_time,
            "default_time": self.default_time,
            "nodes": asdict(self.nodes),
            "cpus": asdict(self.cpus),
            "gpus": asdict(self.gpus),
            "memory_mb": self.memory_mb,
            "allowed": allowed,
        }


@dataclass(frozen=True)
class Limit:
    """One enforced limit. ``scope`` says whose it is: the user's association or an account's
    (``account`` names which: the job's account or one above it); ``partition`` is set for a
    partition-specific association. ``used`` is None for per-job limits."""

    name: str
    tres: str | None
    limit: int
    used: int | float | None
    unit: str
    fraction: float | None
    scope: str
    account: str
    partition: str | None


@dataclass(frozen=True)
class AccountQuota:
    account: str
    default: bool
    fairshare: float | None
    limits: tuple[Limit, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reservation:
    """A reservation; times ISO 8601 UTC. ``users``/``accounts`` as Slurm lists them (a
    leading ``-`` means everyone but that name)."""

    name: str
    start: str | None
    end: str | None
    state: str
    nodes: str | None
    node_count: int | None
    partition: str | None
    flags: tuple[str, ...]
    users: tuple[str, ...]
    groups: tuple[str, ...]
    accounts: tuple[str, ...]

    @property
    def is_maintenance(self) -> bool:
        return "MAINT" in self.flags

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "maintenance": self.is_maintenance}


@dataclass(frozen=True)
class JobStatus:
    """Where a kernel's job stands, as Slurm reports it; times are ISO 8601 UTC."""

    job_id: str
    state: str
    reason: str | None
    reason_text: str | None
    node: str | None
    start_time: str | None  # Slurm's estimate while the job is pending
    end_time: str | None  # when the time limit ends a running job

    @property
    def pending(self) -> bool:
        return self.state == PENDING

    @property
    def finished(self) -> bool:
        return self.state not in LIVE_STATES

    def ended_reason(self) -> str:
        """Why the kernel is gone, in words, naming the job and Slurm's own state."""
        words = ENDED_WORDS.get(self.state, f"its job ended ({self.state})")
        return f"The kernel is dead: {words} (Slurm job {self.job_id}, {self.state})."

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BatchScript:
    """A batch job given as text: the script, sbatch's long options (``--time=30``), and the
    names of variables of the server's environment the job must not inherit."""

    script: str
    options: tuple[str, ...]
    withheld_environment: tuple[str, ...] = ()
