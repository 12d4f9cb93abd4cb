"""The default backend: Slurm's own commands, as on any login node."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.backend import JobAction
from jupyterlab_hpc.slurm.commands import job_status
from jupyterlab_hpc.slurm.commands.accounting import sacct_jobs_argv
from jupyterlab_hpc.slurm.commands.cluster_info import parse_cluster_info, scontrol_config_argv
from jupyterlab_hpc.slurm.commands.fields import query_separator
from jupyterlab_hpc.slurm.commands.job_detail import (
    parse_sacct_jobs,
    parse_squeue_jobs,
    sacct_job_argv,
    squeue_job_argv,
)
from jupyterlab_hpc.slurm.commands.partitions import (
    parse_partitions,
    scontrol_partitions_argv,
    sinfo_nodes_argv,
)
from jupyterlab_hpc.slurm.commands.quotas import (
    all_assoc_mgr_argv,
    all_default_accounts_argv,
    assoc_mgr_argv,
    parse_all_quotas,
    parse_default_account,
    parse_default_accounts,
    parse_quotas,
    sacctmgr_default_account_argv,
)
from jupyterlab_hpc.slurm.commands.reservations import (
    parse_reservations,
    scontrol_reservations_argv,
)
from jupyterlab_hpc.slurm.commands.site_rules import parse_private_data, parse_roles, roles_argv
from jupyterlab_hpc.slurm.commands.squeue import SqueueParser, squeue_argv
from jupyterlab_hpc.slurm.errors import SlurmError, SlurmNotFound, SlurmUnavailable
from jupyterlab_hpc.slurm.job_states import FINISHED_STATES
from jupyterlab_hpc.slurm.notation import find_job
from jupyterlab_hpc.slurm.records import (
    AccountQuota,
    BatchScript,
    ClusterInfo,
    Job,
    JobDetail,
    JobStatus,
    Partition,
    Reservation,
    SlurmRoles,
    UserAccess,
)
from jupyterlab_hpc.slurm.runner import CommandRunner

_ACTION_ARGV: dict[JobAction, list[str]] = {
    "cancel": ["scancel"],
    "hold": ["scontrol", "hold"],
    "release": ["scontrol", "release"],
    "requeue": ["scontrol", "requeue"],
}


class SlurmCommands:
    """Runs squeue, sinfo, scontrol, sacct, sbatch ... as argument lists, each with a timeout."""

    name = "commands"

    def __init__(
        self, *, command_prefix: Sequence[str] = (), timeout: float = 30.0, show_all: bool = False
    ) -> None:
        # Words before every command (ssh login01 ...); seconds before one is killed.
        self.command_prefix = list(command_prefix)
        self.timeout = timeout
        # Hidden partitions and their jobs too (--all): for the site service, which decides
        # per user what Slurm would show them.
        self.show_all = show_all
        # One per query: the user's jobs and everyone's are listed separately.
        self._squeue_parsers = {True: SqueueParser(), False: SqueueParser()}

    @property
    def runner(self) -> CommandRunner:
        return CommandRunner(prefix=self.command_prefix, timeout=self.timeout)

    async def whoami(self) -> str:
        """The user Slurm sees: whoever the (prefixed) commands run as."""
        return (await self.runner.run(["id", "-un"])).strip()

    async def cluster_info(self) -> ClusterInfo:
        info = parse_cluster_info(await self.runner.run(scontrol_config_argv()))
        if info is None:
            msg = "scontrol show config did not name the cluster and its Slurm version"
            raise SlurmError(msg)
        return info

    async def user_access(self, user: str) -> UserAccess:
        """Accounts from slurmctld's association manager; groups as the login node sees them."""
        associations, groups = await asyncio.gather(
            self.runner.run(assoc_mgr_argv(user)),
            self.runner.run(["id", "-Gn", validation.slurm_name(user, "user")]),
        )
        quotas = parse_quotas(associations, user)
        return UserAccess(
            user=user,
            default_account=next((quota.account for quota in quotas if quota.default), None),
            accounts=tuple(quota.account for quota in quotas),
            groups=tuple(groups.split()),
        )

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        parser = self._squeue_parsers[mine]
        separator = query_separator()
        listing = parser.listing(separator)
        argv = squeue_argv(separator, mine=mine)
        await self.runner.read_lines([*argv, "--all"] if self.show_all else argv, listing.parse)
        return parser.finish(listing)

    async def list_accounted_jobs(
        self, *, mine: bool, job_ids: Sequence[str] = (), since: str | None = None
    ) -> list[Job]:
        """Jobs as slurmdbd records them, finished ones too (accounting.sacct_jobs_argv);
        SlurmUnavailable while slurmdbd is down."""
        separator = query_separator()
        output = await self.runner.run(
            sacct_jobs_argv(separator, mine=mine, job_ids=job_ids, since=since)
        )
        return [detail.job for detail in parse_sacct_jobs(output, separator)]

    async def get_job(self, job_id: str) -> Job:
        return (await self._controller_job(job_id)).job

    async def get_job_detail(self, job_id: str) -> JobDetail:
        """squeue while slurmctld knows the job; sacct for what it forgot and for efficiency."""
        try:
            detail = await self._controller_job(job_id)
        except SlurmNotFound:
            return await self._accounted_job(job_id)
        if detail.job.state not in FINISHED_STATES:
            return detail
        try:
            accounted = await self._accounted_job(job_id)
        except (SlurmNotFound, SlurmUnavailable):
            # Not yet recorded, or slurmdbd is down: the job is still worth showing.
            return detail
        return replace(detail, efficiency=accounted.efficiency)

    async def act_on_job(self, job_id: str, action: JobAction) -> None:
        await self.runner.run([*_ACTION_ARGV[action], job_id])

    async def submit(self, script: str, work_dir: str) -> str:
        """sbatch ``script`` to run in ``work_dir``; the new job's id."""
        output = await self.runner.run(["sbatch", "--parsable", f"--chdir={work_dir}", script])
        return output.strip().split(";", 1)[0]

    async def submit_script(self, job: BatchScript) -> str:
        """sbatch the script on stdin (so no file is left behind). sbatch copies its
        environment into the job, and Slurm stores it: withheld variables are unset first."""
        unset = [word for name in job.withheld_environment for word in ("-u", name)]
        argv = ["env", *unset, "sbatch"] if unset else ["sbatch"]
        output = await self.runner.run(
            [*argv, "--parsable", *job.options], stdin=job.script.encode()
        )
        return output.strip().split(";", 1)[0]

    async def job_status(self, job_id: str) -> JobStatus | None:
        """From slurmctld, or from accounting once slurmctld forgot the job."""
        query = validation.job_id(job_id)
        separator = query_separator()
        try:
            output = await self.runner.run(job_status.squeue_argv(query, separator))
            status = job_status.parse_status(query, output, separator)
        except SlurmNotFound:
            status = None
        if status is None:
            separator = query_separator()
            output = await self.runner.run(job_status.sacct_argv(query, separator))
            status = job_status.parse_status(query, output, separator)
        return status

    async def signal_batch_shell(self, job_id: str, signum: int) -> None:
        await self.runner.run(
            ["scancel", "--batch", f"--signal={int(signum)}", validation.job_id(job_id)]
        )

    async def node_address(self) -> str:
        """The first node's NodeAddr as sinfo lists it."""
        output = await self.runner.run(["sinfo", "--noheader", "--Node", "--format=%o"])
        address = next(iter(output.split()), None)
        if address is None:
            msg = "sinfo lists no compute node"
            raise SlurmError(msg)
        return address

    async def list_partitions(self) -> list[Partition]:
        partitions, nodes = await asyncio.gather(
            self.runner.run(scontrol_partitions_argv(include_hidden=self.show_all)),
            self.runner.run(sinfo_nodes_argv(include_hidden=self.show_all)),
        )
        return parse_partitions(partitions, nodes)

    async def list_quotas(self, user: str) -> list[AccountQuota]:
        """Limits and usage as slurmctld enforces them; the default account as slurmdbd has it.

        sacctmgr fails while slurmdbd is down, and so do the quotas: limits an admin changes
        then never reach slurmctld, so what it enforces may no longer be what is agreed.
        """
        associations, users = await asyncio.gather(
            self.runner.run(assoc_mgr_argv(user)),
            self.runner.run(sacctmgr_default_account_argv(user)),
        )
        default = parse_default_account(users)
        return [
            replace(quota, default=quota.account == default) if default else quota
            for quota in parse_quotas(associations, user)
        ]

    async def list_reservations(self) -> list[Reservation]:
        return parse_reservations(await self.runner.run(scontrol_reservations_argv()))

    async def private_data(self) -> frozenset[str]:
        """slurm.conf's PrivateData flags, as slurmctld runs with them."""
        return parse_private_data(await self.runner.run(scontrol_config_argv()))

    async def roles(self) -> SlurmRoles:
        """Operators, administrators and coordinators, as slurmdbd records them."""
        return parse_roles(await self.runner.run(roles_argv()))

    async def list_all_quotas(self) -> dict[str, list[AccountQuota]]:
        """Every user's quotas in one read of slurmctld's association manager; the default
        account as slurmctld marks it (DefAssoc), so this works while slurmdbd is down."""
        return parse_all_quotas(await self.runner.run(all_assoc_mgr_argv()))

    async def default_accounts(self) -> dict[str, str]:
        """Every user's default account as slurmdbd records it (fails while it is down)."""
        return parse_default_accounts(await self.runner.run(all_default_accounts_argv()))

    async def close(self) -> None:
        """Nothing to release: every command is a process of its own."""

    async def _controller_job(self, job_id: str) -> JobDetail:
        separator = query_separator()
        output = await self.runner.run(squeue_job_argv(_queryable(job_id), separator))
        return _the_job(parse_squeue_jobs(output, separator), job_id, "in Slurm's queue")

    async def _accounted_job(self, job_id: str) -> JobDetail:
        separator = query_separator()
        output = await self.runner.run(sacct_job_argv(_queryable(job_id), separator))
        return _the_job(parse_sacct_jobs(output, separator), job_id, "known to Slurm")


def _queryable(job_id: str) -> str:
    """A pending array's rest, listed as 1234_[2-20%1], is asked for by its array's id."""
    return job_id.partition("_[")[0]


def _the_job(details: list[JobDetail], job_id: str, where: str) -> JobDetail:
    """The record of ``job_id`` (job_detail.find_job); SlurmNotFound if none."""
    detail = find_job(details, job_id)
    if detail is None:
        msg = f"No job {job_id} {where}"
        raise SlurmNotFound(msg)
    return detail
