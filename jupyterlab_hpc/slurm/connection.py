"""How this server reaches Slurm: one setting for the data views and the remote kernels alike."""

from __future__ import annotations

import getpass
import shutil

from traitlets import Bool, Enum, Float, List, Unicode, default
from traitlets.config import Config, LoggingConfigurable

from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.commands.backend import SlurmCommands
from jupyterlab_hpc.slurm.restd.backend import SlurmRestd
from jupyterlab_hpc.slurm.restd.dialects import SUPPORTED_VERSIONS

# Settings of earlier releases, and the one that replaced each. A site's old config must not
# be ignored quietly: the server would reach Slurm some other way than the admin meant.
MOVED_SETTINGS = {
    ("HPCExtension", "backend"): "backend",
    ("SlurmCommands", "command_prefix"): "command_prefix",
    ("SlurmCommands", "timeout"): "timeout",
    ("SlurmProvisioner", "command_prefix"): "command_prefix",
    ("SlurmProvisioner", "command_timeout"): "timeout",
    ("SlurmRestd", "url"): "rest_url",
    ("SlurmRestd", "token"): "rest_token",
    ("SlurmRestd", "token_command"): "rest_token_command",
    ("SlurmRestd", "user_name"): "rest_user_name",
    ("SlurmRestd", "timeout"): "timeout",
    ("SlurmRestd", "api_version"): "rest_api_version",
}


# Every command the commands backend runs.
SLURM_COMMANDS = ("squeue", "sinfo", "scontrol", "sacct", "sacctmgr", "sbatch", "scancel")


def missing_commands(connection: SlurmConnection) -> list[str]:
    """The Slurm commands the commands backend needs that this host lacks; none to check
    for slurmrestd, or behind a prefix (they live on its far side)."""
    if connection.backend != "commands" or connection.command_prefix:
        return []
    return [name for name in SLURM_COMMANDS if shutil.which(name) is None]


def refuse_moved_settings(config: Config) -> None:
    """Raise ValueError naming the new setting for every old one the config still sets."""
    moved = [
        f"c.{section}.{name} is now c.SlurmConnection.{new}"
        for (section, name), new in MOVED_SETTINGS.items()
        if section in config and name in config[section]
    ]
    if moved:
        msg = "jupyterlab_hpc settings moved: " + "; ".join(moved)
        raise ValueError(msg)


class SlurmConnection(LoggingConfigurable):
    """Which backend reaches Slurm, and how; read by the server and by SlurmProvisioner."""

    backend = Enum(
        ["commands", "slurmrestd"],
        default_value="commands",
        help="""How Slurm is reached. "commands": Slurm's own commands (squeue, sbatch ...) as
        on any login node, optionally behind command_prefix. "slurmrestd": Slurm's REST API
        with a JWT (rest_url, and rest_token or rest_token_command). Both serve the panel and
        run remote kernels.""",
    ).tag(config=True)

    command_prefix = List(
        Unicode(),
        default_value=[],
        help="""Words put before every Slurm command (and before the helper that writes a
        kernel's private files), for sites where Slurm's clients live elsewhere: e.g.
        ["ssh", "login01"] or ["apptainer", "exec", "slurm.sif"]. The prefix must pass the
        arguments through unchanged and run as the same user.""",
    ).tag(config=True)

    timeout = Float(
        30.0,
        help="""Seconds a Slurm command or slurmrestd request (and the token command) may take
        before it is reported as timed out.""",
    ).tag(config=True)

    rest_url = Unicode(
        "http://127.0.0.1:6820",
        help="""slurmrestd's base URL without the API path: http or https, e.g.
        https://slurm-rest.example.org:6820, or its Unix socket as slurmrestd is told to
        listen on it, e.g. unix:/run/slurmrestd/slurmrestd.socket. slurmrestd must run with
        rest_auth/jwt. Requests share kept-alive connections.""",
    ).tag(config=True)

    rest_verify = Bool(
        default_value=True,
        help="""Check an https slurmrestd's certificate (against rest_ca_bundle, or the
        system's certificate authorities). Turn off only for a test installation.""",
    ).tag(config=True)

    rest_ca_bundle = Unicode(
        "",
        help="""A PEM file of the certificate authorities that sign slurmrestd's certificate,
        for a site CA the system does not trust. Empty: the system's.""",
    ).tag(config=True)

    rest_token = Unicode(
        "",
        help="""A Slurm JWT for rest_user_name. Empty (the default): obtain one with
        rest_token_command and renew it before it expires. A fixed token is used as is until
        it stops working.""",
    ).tag(config=True)

    rest_token_command = List(
        Unicode(),
        default_value=["scontrol", "token", "lifespan=3600"],
        help="""The command that prints a JWT for rest_user_name when rest_token is empty:
        either SLURM_JWT=<token> (as scontrol token prints it) or the bare token. Run as an
        argument list, never a shell; run again shortly before the token's expiry.""",
    ).tag(config=True)

    rest_user_name = Unicode(
        help="""The Slurm user every slurmrestd request acts as (X-SLURM-USER-NAME); must
        match the token's user. Default: the Unix user running the Jupyter server.""",
    ).tag(config=True)

    rest_api_version = Unicode(
        "",
        help=f"""slurmrestd API version to use, e.g. v0.0.42. Empty (the default): the newest
        that slurmrestd offers (read from its OpenAPI document) and this project reads
        ({", ".join(SUPPORTED_VERSIONS)}).""",
    ).tag(config=True)

    @default("rest_user_name")
    def _default_rest_user_name(self) -> str:
        return getpass.getuser()

    def new_backend(self) -> SlurmBackend:
        """The backend these settings name."""
        if self.backend == "slurmrestd":
            return SlurmRestd(
                url=self.rest_url,
                token=self.rest_token,
                token_command=self.rest_token_command,
                user_name=self.rest_user_name,
                api_version=self.rest_api_version,
                timeout=self.timeout,
                verify=self.rest_verify,
                ca_bundle=self.rest_ca_bundle,
            )
        return SlurmCommands(command_prefix=self.command_prefix, timeout=self.timeout)
