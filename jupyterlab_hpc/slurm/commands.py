"""The default backend: Slurm's own commands, as on any login node."""

from __future__ import annotations

from traitlets import Float, List, Unicode
from traitlets.config import LoggingConfigurable

from jupyterlab_hpc.slurm.backend import JobAction
from jupyterlab_hpc.slurm.errors import SlurmNotFound
from jupyterlab_hpc.slurm.models import Job
from jupyterlab_hpc.slurm.runner import CommandRunner
from jupyterlab_hpc.slurm.squeue import parse_jobs, squeue_argv

_ACTION_ARGV: dict[JobAction, list[str]] = {
    "cancel": ["scancel"],
    "hold": ["scontrol", "hold"],
    "release": ["scontrol", "release"],
    "requeue": ["scontrol", "requeue"],
}


class SlurmCommands(LoggingConfigurable):
    """Runs squeue, sinfo, scontrol, sacct, sbatch ... as argument lists, each with a timeout."""

    name = "commands"

    command_prefix = List(
        Unicode(),
        default_value=[],
        help="""Words put before every Slurm command, for sites where Slurm's clients live
        elsewhere: e.g. ["ssh", "login01"] or ["apptainer", "exec", "slurm.sif"]. The
        prefix must pass the arguments through unchanged and run as the same user.""",
    ).tag(config=True)

    timeout = Float(
        30.0,
        help="Seconds a Slurm command may take before it is killed and reported as timed out.",
    ).tag(config=True)

    @property
    def runner(self) -> CommandRunner:
        return CommandRunner(prefix=self.command_prefix, timeout=self.timeout)

    async def whoami(self) -> str:
        """The user Slurm sees: whoever the (prefixed) commands run as."""
        return (await self.runner.run(["id", "-un"])).strip()

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        return parse_jobs(await self.runner.run(squeue_argv(mine=mine)))

    async def get_job(self, job_id: str) -> Job:
        jobs = parse_jobs(await self.runner.run(squeue_argv(job_id=job_id)))
        if not jobs:
            msg = f"No job {job_id} in Slurm's queue"
            raise SlurmNotFound(msg)
        return jobs[0]

    async def act_on_job(self, job_id: str, action: JobAction) -> None:
        await self.runner.run([*_ACTION_ARGV[action], job_id])

    async def submit(self, script: str, work_dir: str) -> str:
        """sbatch ``script`` to run in ``work_dir``; the new job's id."""
        output = await self.runner.run(["sbatch", "--parsable", f"--chdir={work_dir}", script])
        return output.strip().split(";", 1)[0]
