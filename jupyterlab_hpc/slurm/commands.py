"""The default backend: Slurm's own commands, as on any login node."""

from __future__ import annotations

from traitlets import Float, List, Unicode
from traitlets.config import LoggingConfigurable

from jupyterlab_hpc.slurm.models import Job
from jupyterlab_hpc.slurm.runner import CommandRunner
from jupyterlab_hpc.slurm.squeue import parse_jobs, squeue_argv


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

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        return parse_jobs(await self.runner.run(squeue_argv(mine=mine)))
