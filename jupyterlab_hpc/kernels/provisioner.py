"""SlurmProvisioner: any kernelspec's kernel, run inside a Slurm job on a compute node.

Entry point ``hpc-slurm`` in ``jupyter_client.kernel_provisioners``. A kernelspec uses it
with (``jupyter hpc-kernelspec install`` writes this)::

    "metadata": {"kernel_provisioner": {"provisioner_name": "hpc-slurm",
                 "config": {"resources": {"partition": "compute", "cpus": 4, "time": "1:00:00"}}}}

How a start goes: the provisioner opens a listening socket on an address the nodes can reach,
writes the kernel's secrets to a file only the user can read, and submits a batch script that
runs the launcher (``launcher.py``, as a zip application: ``launcher_app.py``). When the job
starts, the launcher dials back, proves it holds the token, and starts the kernel on request.
Direct mode: the server connects to the kernel's ZMQ ports on the node. Reverse mode: the
kernel listens on Unix sockets in a private directory on the node and its traffic rides the
launcher's connection (``relay.py``). No polling of Slurm decides readiness: the launcher's
call does. The backend's ``job_status`` is asked only every ``queue_poll_interval`` seconds
while the job waits, for the queue state and to notice a job that ends before it calls.

KernelManager's start has no timeout of its own: ``launch_kernel`` waits for however long the
job queues. Only ``connect_timeout`` limits the time from the job *running* to the launcher's
call. A start is abandoned by cancelling the task that awaits it (``asyncio.Task.cancel``):
the job is then cancelled as well.

For a REST or events layer: ``job_id``, ``job_status`` (state, pending reason and its words,
estimated start, node, end of the time limit), ``reason`` (why the kernel died) and
``startup_timeline`` are traits, so ``provisioner.observe(...)`` reports their changes;
``walltime_warning_at`` says when the launcher warned of the time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, cast

import zmq
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.provisioner_base import KernelProvisionerBase
from jupyter_client.session import Session
from traitlets import Bool, CaselessStrEnum, Dict, Float, Instance, Int, List, Unicode

from jupyterlab_hpc.kernels import handoff
from jupyterlab_hpc.kernels.batch_script import KernelJob
from jupyterlab_hpc.kernels.channel import ChannelClosed
from jupyterlab_hpc.kernels.handoff import CURVE_KEYS
from jupyterlab_hpc.kernels.launcher_app import launcher_app
from jupyterlab_hpc.kernels.launcher_link import LauncherLink
from jupyterlab_hpc.kernels.listen_address import address_towards
from jupyterlab_hpc.kernels.provisioner_names import LEGACY_PROVISIONER_NAME, PROVISIONER_NAME
from jupyterlab_hpc.kernels.resources import JobResources
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.connection import SlurmConnection, refuse_moved_settings
from jupyterlab_hpc.slurm.errors import InvalidRequest, SlurmError, SlurmNotFound
from jupyterlab_hpc.slurm.records import BatchScript, JobStatus
from jupyterlab_hpc.slurm.runner import CommandRunner, command_environment
from jupyterlab_hpc.slurm.withheld import SECRET_PATTERNS, withheld_names

_KERNEL_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# After the job ends (scancel, time limit), Slurm may still say RUNNING for a moment.
_ENDING_CHECKS = 10
_ENDING_CHECK_DELAY = 0.3
# While the launcher is out of touch, ask Slurm at most this often.
_SLURM_POLL_INTERVAL = 2.0
# Seconds a taken-over kernel's launcher has to call the new server: it dials every second.
_REATTACH_WAIT = 15.0


def port_range(text: str) -> range | None:
    """``"FIRST-LAST"`` (or one port) as a range; None for empty; InvalidRequest if neither."""
    if not text.strip():
        return None
    first, dash, last = text.strip().partition("-")
    if not dash:
        last = first
    if not (first.isascii() and first.isdigit() and last.isascii() and last.isdigit()):
        msg = f"SlurmProvisioner.launcher_ports is not FIRST-LAST: {text!r}"
        raise InvalidRequest(msg)
    ports = range(int(first), int(last) + 1)
    if not ports or not 1 <= ports.start <= ports.stop - 1 <= 65535:
        msg = f"SlurmProvisioner.launcher_ports is not a range of ports: {text!r}"
        raise InvalidRequest(msg)
    return ports


class KernelJobError(RuntimeError):
    """The kernel's job could not be started or ended before its kernel came up."""


class SlurmProvisioner(KernelProvisionerBase):
    """Runs a kernel in a Slurm job; interrupts, restarts and shutdowns go through its launcher."""

    python = Unicode(
        sys.executable,
        help="""Python (3.11 or later) on the compute nodes that runs the launcher, and that
        replaces a kernelspec's bare "python" in argv. The launcher comes with the job (a zip
        application in the user's handoff directory, standard library only): jupyterlab_hpc
        need not be installed there, the kernel's own environment will do.""",
    ).tag(config=True)

    default_resources = Dict(
        default_value={},
        help="""Site defaults for every kernel job: partition, account, time (seconds, or as
        Slurm writes it: "90" minutes, "1:00:00", "1-12"), cpus, memory_mb, gpus, qos,
        constraint, reservation. A kernelspec's `resources` and the launch's `resources`
        argument override them key by key.""",
    ).tag(config=True)

    resources = Dict(
        default_value={},
        help="This kernelspec's resources (its provisioner config); override the defaults.",
    )

    kernel_connection = CaselessStrEnum(
        ["direct", "reverse"],
        default_value="direct",
        help="""How the server reaches the kernel. "direct": it connects to the kernel's ZMQ
        ports on the compute node. "reverse": for nodes that accept no inbound connections;
        the kernel listens on Unix sockets in a private directory on the node and its
        traffic rides the connection the launcher dialled out (the server relays it from
        Unix sockets in a private directory of its own).""",
    ).tag(config=True)

    launcher_ports = Unicode(
        "",
        help="""Ports the launcher of a kernel's job dials back to on this host, as
        "FIRST-LAST" (e.g. "40000-40099": one per kernel starting or running at once), for a
        firewall between compute and login nodes. Empty: any free port. Reverse mode needs
        no other port; direct mode also connects to the kernel's ports on the node.""",
    ).tag(config=True)

    listen_ip = Unicode(
        "",
        help="""Address the server listens on for launchers calling back from the compute
        nodes. Empty: this host's address on the route towards a compute node (its
        NodeAddr, as the backend reports it).""",
    ).tag(config=True)

    grace_period = Float(
        60.0,
        help="""Seconds a launcher keeps its job alive without word from the server; after that
        it ends the job, so a server that dies leaves no job running.""",
    ).tag(config=True)

    reattach = Bool(
        default_value=True,
        help="""Whether a server that starts takes over the remote kernels of a server of the
        user's that died without shutting down (killed, crashed): the same kernel, job and
        variables, if its launcher calls back within the grace_period. A server that shuts
        down (JupyterHub's stop, idle culling) still ends every remote kernel job. False:
        the restarted server cancels those jobs.""",
    ).tag(config=True)

    heartbeat_interval = Float(
        5.0,
        help="Seconds between heartbeats on the launcher's connection, both ways.",
    ).tag(config=True)

    connect_timeout = Float(
        120.0,
        help="""Seconds from the job starting to run until its launcher must have called back
        (queue time does not count). On timeout the job is cancelled and the start fails.""",
    ).tag(config=True)

    queue_poll_interval = Float(
        5.0,
        help="""Seconds between questions to Slurm about the job (squeue, or slurmrestd)
        while it is queued, for the queue state.""",
    ).tag(config=True)

    walltime_warning = Int(
        300,
        help="Seconds before the job's time limit at which the launcher warns; 0: no warning.",
    ).tag(config=True)

    job_name = Unicode("jupyter-kernel", help="Slurm job name of kernel jobs.").tag(config=True)

    prologue = List(
        Unicode(),
        default_value=[],
        help="""Lines the batch script runs before the launcher, e.g. "module load python".""",
    ).tag(config=True)

    user_prologue = Unicode(
        ".jupyterlab-hpc/prologue.sh",
        help="""A file in the user's home that the batch script sources after the site's
        prologue, when it exists: the user's own module loads or environment activation.
        Empty: none.""",
    ).tag(config=True)

    withheld_environment = List(
        Unicode(),
        default_value=list(SECRET_PATTERNS),
        help="""Environment variables (glob patterns, matched case-insensitively) kept out of
        the job: sbatch would copy them into the job's environment, which Slurm stores in its
        accounting database and shows to admins. The defaults cover API tokens, passwords,
        keys (OPENAI_API_KEY, AWS_SECRET_ACCESS_KEY), personal access tokens (GITHUB_PAT)
        and JupyterHub's own tokens.""",
    ).tag(config=True)

    transport_encryption = CaselessStrEnum(
        ["required", "auto"],
        default_value="required",
        help="""CurveZMQ encryption of the kernel's ZMQ traffic, which crosses the cluster
        network (and, in reverse mode, the launcher's connection). "required": a kernel whose
        kernelspec does not list "curve" in metadata.supported_encryption is refused before
        anything is submitted. "auto": such kernels run unencrypted, and anyone who can reach
        the compute node's ports can read their code and output; only for networks every user
        of which is trusted.""",
    ).tag(config=True)

    # -- state that a REST or events layer can read (and observe: these are traits) --------
    job_id = Unicode(None, allow_none=True, help="The kernel's Slurm job, once submitted.")
    job_status = Instance(
        JobStatus,
        allow_none=True,
        help="Slurm's latest word on the job: state, pending reason, estimated start, node.",
    )
    reason = Unicode(None, allow_none=True, help="Why the kernel died, when it did unasked.")
    startup_timeline = Dict(
        help="""Epoch seconds of the last start's steps: requested, submitted, job_started
        (the batch script began), launcher_connected, kernel_started.""",
    )

    # The address the nodes reach this host on, per way of reaching Slurm.
    _listen_ips: ClassVar[dict[tuple[Any, ...], str]] = {}
    # Where the launcher's zip application is, per prefix (its name changes with its content).
    _launchers: ClassVar[dict[tuple[tuple[str, ...], str], str]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        refuse_moved_settings(self.config)
        self.connection = SlurmConnection(parent=self)
        # Submits, watches and cancels the kernel's job; the server hands over its own.
        self.slurm: SlurmBackend = self.connection.new_backend()
        self.connection_info = {}  # the base class's is shared between instances
        self._link: LauncherLink | None = None
        self._handoff_file: str | None = None
        self._job_resources = JobResources()
        self._kernel_launched = False
        self._exit_expected = False
        self._job_ended = False
        self._exit_code: int | None = None
        self._last_slurm_check = 0.0
        self._node_ports: dict[str, int] = {}  # the kernel's, on the node
        self._status_refresh: asyncio.Future[JobStatus | None] | None = None
        self._submitted_resources: JobResources | None = None  # those of the current job
        # The kernel's CurveZMQ key pair (Z85 text); kept across restarts, as the HMAC key is.
        self._curve_keys: dict[str, str] = {}
        # What a kernel of a dead server left for taking it over (see reattach_from).
        self._reattach: dict[str, Any] | None = None

    @property
    def _prefixed(self) -> CommandRunner | None:
        """Runs the private-file helper (handoff.py) through the connection's prefix, as the
        user on the nodes' filesystem; None without a prefix: the files are written here."""
        if not self.connection.command_prefix:
            return None
        return CommandRunner(prefix=self.connection.command_prefix, timeout=self.connection.timeout)

    @property
    def node(self) -> str | None:
        if self._link is not None and self._link.node:
            return self._link.node
        return self.job_status.node if self.job_status else None

    @property
    def launcher_address(self) -> tuple[str, int] | None:
        """Where the server listens for this kernel's launcher (reachable from the nodes)."""
        return self._link.address if self._link else None

    @property
    def walltime_warning_at(self) -> float | None:
        """When (epoch seconds) the launcher warned that the time limit is near."""
        return self._link.walltime_warning_at if self._link else None

    # -- KernelProvisionerBase -------------------------------------------------------------

    @property
    def has_process(self) -> bool:
        """True from launch_kernel until wait() saw the kernel end.

        Reached from KernelManager.has_kernel, which guards every signal, kill and wait.
        """
        return self._kernel_launched

    async def poll(self) -> int | None:
        """None while the kernel runs, else its exit code; sets ``reason`` when it died unasked.

        Reached from KernelManager.is_alive() (and so from its restarter and shutdown waits).
        Costs nothing while the launcher reports a running kernel; Slurm is asked only when
        the kernel or its launcher is gone unasked, to learn why.
        """
        if not self._kernel_launched:
            return 0
        if self._job_ended:
            return self._exit_code
        link = self._link
        if link is None:  # state loaded from another process: only Slurm can tell
            return await self._poll_slurm()
        code = link.kernel_exit_code
        if code is not None and (self._exit_expected or self.reason is not None):
            return code
        if code is None and link.connected and not link.job_ending:
            return None
        return await self._find_out_why(link)

    async def wait(self) -> int | None:
        """Wait until the kernel has ended; its exit code.

        Reached from KernelManager.finish_shutdown() and kill_kernel(), under their timeouts.
        """
        while (code := await self.poll()) is None:
            await asyncio.sleep(0.1)
        self._kernel_launched = False
        return code

    async def send_signal(self, signum: int) -> None:
        """Have the launcher signal the kernel's process group (SIGINT interrupts).

        Reached from KernelManager.signal_kernel() and interrupt_kernel() (for kernelspecs
        with interrupt_mode "signal"). Without a connection (state loaded elsewhere) the
        signal goes through Slurm to the launcher, which relays SIGINT to the kernel.
        """
        if self._link is not None and self._link.connected:
            await self._link.send({"type": "signal", "signum": int(signum)})
        elif self.job_id is not None and not self._job_ended:
            await self.slurm.signal_batch_shell(self.job_id, int(signum))

    async def kill(self, restart: bool = False) -> None:  # noqa: FBT001, FBT002, ARG002 - the base's signature
        """SIGKILL the kernel process; the job stays for a restart or for cleanup() to end.

        Reached from KernelManager.kill_kernel(): shutdown_kernel(now=True), and a shutdown
        whose kernel ignored the request and SIGTERM.
        """
        self._exit_expected = True
        await self._stop_kernel(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:  # noqa: FBT001, FBT002, ARG002
        """SIGTERM the kernel process; the job stays for a restart or for cleanup() to end.

        Reached from KernelManager.finish_shutdown() when the kernel did not exit after its
        shutdown request.
        """
        self._exit_expected = True
        await self._stop_kernel(signal.SIGTERM)

    async def shutdown_requested(self, restart: bool = False) -> None:  # noqa: FBT001, FBT002
        """The kernel was asked to exit: its exit is expected, not a death to explain.

        Reached from KernelManager.request_shutdown() (shutdown and restart).
        """
        self._exit_expected = True
        await super().shutdown_requested(restart=restart)

    async def cleanup(self, restart: bool = False) -> None:  # noqa: FBT001, FBT002
        """Between a restart's two kernel processes: nothing (the job stays). Otherwise: end
        the job (the launcher exits; scancel if it cannot be told), close the listener.

        Reached from KernelManager.cleanup_resources() at the end of every shutdown.
        """
        if restart and self._link is not None and self._link.connected:
            return
        await self._end_job()

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Validate this launch's resources (nothing is submitted if they are bad) and build
        the kernel's command line; the kernel's connection file is written on the node.

        Reached from KernelManager.pre_start_kernel(), on every start and restart.
        ``resources`` (a dict) among the start arguments overrides the kernelspec's.
        """
        try:
            self._job_resources = self._resources_for(kwargs.pop("resources", None) or {})
        except InvalidRequest:
            await self._end_job()  # a restart that cannot happen leaves no idle job behind
            raise
        kwargs.pop("transport_encryption", None)  # ours is stricter than the manager's default
        self._curve_keys = self._curve_keys or self._new_curve_keys()
        cmd = self._kernel_command(kwargs.pop("extra_arguments", None) or [])
        return await super().pre_launch(cmd=cmd, **kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Start the kernel: in the running job (a restart in place: same job, same ports,
        new process), or else in a new job (also when the resources asked for changed),
        waiting for as long as it queues.

        Reached from KernelManager.launch_kernel() during start_kernel() and restart_kernel().
        """
        if self._reattach is not None:
            return await self._take_over(self._reattach)
        restarting = (
            self._link is not None
            and self._link.connected
            and not self._job_ended
            and self._job_resources == self._submitted_resources
        )
        timeline = {"requested": time.time()}
        if not restarting:
            timeline.update(await self._start_job(kwargs.get("cwd")))
        assert self._link is not None  # noqa: S101 - _start_job connected it
        self._exit_expected = False
        self.reason = None
        request = self._start_request(cmd, kwargs, keep_ports=restarting)
        try:
            reply = await self._link.start_kernel(request)
        except BaseException:
            await asyncio.shield(self._end_job())  # no job idles without its kernel
            raise
        self._node_ports = {k: v for k, v in reply["connection"].items() if k.endswith("_port")}
        # The key as bytes and the Curve keys as text, as KernelManager holds them: it
        # compares the two when it takes this over.
        connection = {**reply["connection"], "key": self._session.key, **self._curve_keys}
        if request["reverse"]:
            connection.update(await self._link.relay_endpoints())
        self.connection_info = cast(KernelConnectionInfo, connection)
        self._kernel_launched = True
        self.startup_timeline = {**timeline, "kernel_started": time.time()}
        self.log.info(
            "Kernel %s running on %s in Slurm job %s", self.kernel_id, self.node, self.job_id
        )
        return self.connection_info

    def get_shutdown_wait_time(self, recommended: float = 5.0) -> float:
        """The manager's own wait: requests reach the kernel directly over ZMQ, as locally.

        Reached from KernelManager.finish_shutdown().
        """
        return recommended

    def get_stable_start_time(self, recommended: float = 10.0) -> float:
        """The restarter's own value: queue time is over once launch_kernel returns.

        Reached from jupyter_server's kernel restarter.
        """
        return recommended

    async def get_provisioner_info(self) -> dict[str, Any]:
        """The job and its launcher's address, for a manager that persists its kernels.

        Reached from applications that persist KernelManager state (not KernelManager itself).
        """
        info = await super().get_provisioner_info()
        info.update(
            {
                "job_id": self.job_id,
                "job_ended": self._job_ended,
                "node": self.node,
                "resources": self._job_resources.to_json(),
                "launcher_address": list(self._link.address) if self._link else None,
            }
        )
        if self.reattach and self._link is not None and self._kernel_launched:
            info["reattach"] = {
                "launcher_address": list(self._link.address),
                "token": self._link.token.hex(),
                "key": self._session.key.decode(),
                "curve_keys": self._curve_keys,
                "reverse": self.kernel_connection == "reverse",
            }
        return info

    async def load_provisioner_info(self, provisioner_info: dict[str, Any]) -> None:
        """Take over a kernel's job from persisted state: poll, interrupt and shutdown then go
        through Slurm (a jupyterlab-hpc server taking over its dead predecessor's kernel
        reconnects to its launcher instead: reattach_from).

        Reached from applications that restore persisted KernelManager state.
        """
        await super().load_provisioner_info(provisioner_info)
        self.job_id = provisioner_info.get("job_id")
        self._job_ended = bool(provisioner_info.get("job_ended"))
        self._job_resources = JobResources.from_mapping(provisioner_info.get("resources") or {})
        self._kernel_launched = self.job_id is not None and not self._job_ended

    def reattach_from(self, provisioner_info: dict[str, Any]) -> None:
        """Take over the running kernel a dead server's provisioner described (its
        ``reattach`` part): the next launch_kernel waits for the kernel's launcher, which
        dials the same address again, instead of submitting a job.

        Reached from RemoteKernels when a server starts and finds such a kernel.
        """
        self.job_id = provisioner_info.get("job_id")
        self._job_resources = JobResources.from_mapping(provisioner_info.get("resources") or {})
        self._submitted_resources = self._job_resources
        self._reattach = dict(provisioner_info["reattach"])
        self._curve_keys = dict(self._reattach.get("curve_keys") or {})

    async def _take_over(self, reattach: dict[str, Any]) -> KernelConnectionInfo:
        """Listen where the dead server listened, with the launcher's token; once the launcher
        has proved it holds the token and reported its kernel running, that kernel is this
        one. KernelJobError (with the reason) when it cannot be."""
        self._reattach = None
        ip, port = reattach["launcher_address"]
        link = LauncherLink(
            bytes.fromhex(reattach["token"]), heartbeat_interval=self.heartbeat_interval,
            log=self.log,
        )  # fmt: skip
        try:
            await link.listen(ip, range(int(port), int(port) + 1))
        except OSError as error:
            msg = f"its launcher's port {ip}:{port} cannot be listened on again: {error}"
            raise KernelJobError(msg) from error
        self._link = link
        try:
            await asyncio.wait_for(link.wait_connected(), _REATTACH_WAIT)
        except asyncio.TimeoutError:
            await link.close()
            self._link = None
            msg = f"its launcher did not call back within {_REATTACH_WAIT:g} s"
            raise KernelJobError(msg) from None
        if link.job_id != self.job_id or link.kernel_connection is None:
            problem = (
                f"its launcher speaks for job {link.job_id}, not {self.job_id}"
                if link.job_id != self.job_id
                else "its kernel process is gone"
            )
            raise KernelJobError(problem)
        self._node_ports = {
            name: value for name, value in link.kernel_connection.items() if name.endswith("_port")
        }
        connection = {
            **link.kernel_connection, "key": reattach["key"].encode(), **self._curve_keys
        }  # fmt: skip
        if reattach.get("reverse"):
            connection.update(await link.relay_endpoints())
        self.connection_info = cast(KernelConnectionInfo, connection)
        self._kernel_launched = True
        self._running_on(link)
        self.log.info(
            "Kernel %s on %s in Slurm job %s: taken over from a server that died",
            self.kernel_id, self.node, self.job_id,
        )  # fmt: skip
        return self.connection_info

    # -- starting the job --------------------------------------------------------------------

    def _resources_for(self, launch_resources: dict[str, Any]) -> JobResources:
        resources = JobResources.from_mapping(self.default_resources)
        for overrides in (self.resources, launch_resources):
            resources = resources.merged(JobResources.from_mapping(overrides))
        return resources

    def _kernel_command(self, extra_arguments: list[str]) -> list[str]:
        """The kernelspec's argv with {resource_dir} and {prefix} filled in here;
        {connection_file} is left for the launcher, which writes that file on the node."""
        argv = [*self.kernel_spec.argv, *extra_arguments]
        if argv and argv[0] in {"python", f"python{sys.version_info[0]}"}:
            argv[0] = self.python
        values = {"resource_dir": self.kernel_spec.resource_dir, "prefix": sys.prefix}
        return [
            re.sub(r"\{(resource_dir|prefix)\}", lambda match: values[match.group(1)], arg)
            for arg in argv
        ]

    async def _start_job(self, work_dir: str | None) -> dict[str, float]:
        """Submit a job and wait for its launcher to call; when things happened."""
        await self._end_job()  # a job whose kernel died on its own is not reused
        self._job_ended = False
        self._exit_code = None
        self.job_id = None
        self.job_status = None
        token = secrets.token_bytes(32)
        link = LauncherLink(token, heartbeat_interval=self.heartbeat_interval, log=self.log)
        await link.listen(await self._listen_ip(), port_range(self.launcher_ports))
        self._link = link
        try:
            handoff_path = await self._deliver_secrets(token)
            launcher = await self._deliver_launcher()
            job = KernelJob(
                resources=self._job_resources,
                job_name=self.job_name,
                log_file=str(handoff_path.parent / "kernel-%j.log"),
                work_dir=str(work_dir) if work_dir else None,
                walltime_warning=self.walltime_warning,
                python=self.python,
                launcher=launcher,
                server=link.address,
                handoff_file=str(handoff_path),
                grace_period=self.grace_period,
                heartbeat_interval=self.heartbeat_interval,
                prologue=tuple(self.prologue),
                user_prologue=self.user_prologue,
            )
            self.job_id = await self.slurm.submit_script(
                BatchScript(
                    script=job.script(),
                    options=tuple(job.sbatch_options()),
                    withheld_environment=tuple(
                        withheld_names(os.environ, self.withheld_environment)
                    ),
                )
            )
            self._submitted_resources = self._job_resources
            submitted = time.time()
            self.log.info("Kernel %s: submitted Slurm job %s", self.kernel_id, self.job_id)
            await self._wait_for_launcher(link)
        except BaseException:
            # Also on cancellation: a start given up must not leave a job behind.
            await asyncio.shield(self._end_job())
            raise
        self._handoff_file = None  # the launcher read and removed it
        self._running_on(link)
        return {
            "submitted": submitted,
            "job_started": link.job_started_at or submitted,
            "launcher_connected": link.connected_at or time.time(),
        }

    def _running_on(self, link: LauncherLink) -> None:
        """The job runs: its launcher's call says so before squeue would. Slurm's own times
        (the time limit's end, for a status bar) follow: not worth a delay now."""
        self.job_status = JobStatus(
            job_id=self.job_id or "",
            state="RUNNING",
            reason=None,
            reason_text=None,
            node=link.node,
            start_time=None,
            end_time=None,
        )
        self._status_refresh = asyncio.ensure_future(self._refresh_status())

    async def _wait_for_launcher(self, link: LauncherLink) -> None:
        """Until the launcher calls; meanwhile keep job_status current and notice a job that
        ends first, or runs for connect_timeout without calling."""
        assert self.job_id is not None  # noqa: S101
        connected = asyncio.ensure_future(link.wait_connected())
        delay = 1.0  # look soon once: a job that cannot run usually ends at once
        running_since: float | None = None
        try:
            while not (await asyncio.wait({connected}, timeout=delay))[0]:
                delay = self.queue_poll_interval
                try:
                    status = await self.slurm.job_status(self.job_id)
                except SlurmError as error:  # slurmctld restarting, say: ask again later
                    self.log.warning("Cannot ask Slurm about job %s: %s", self.job_id, error)
                    continue
                self.job_status = status
                if status is None or status.finished:
                    state = status.state if status else "unknown to Slurm"
                    msg = (
                        f"Slurm job {self.job_id} ended ({state}) before its kernel launcher "
                        f"called back; its output is in {self._log_file()}"
                    )
                    raise KernelJobError(msg)
                if status.state == "RUNNING":
                    running_since = running_since or time.monotonic()
                    if time.monotonic() - running_since > self.connect_timeout:
                        msg = (
                            f"Slurm job {self.job_id} runs but its launcher did not call back "
                            f"within {self.connect_timeout:g} s; see {self._log_file()}"
                        )
                        raise KernelJobError(msg)
        finally:
            connected.cancel()

    async def _refresh_status(self) -> JobStatus | None:
        if self.job_id is None:
            return None
        try:
            status = await self.slurm.job_status(self.job_id)
        except SlurmError as error:
            self.log.warning("Cannot ask Slurm about job %s: %s", self.job_id, error)
            return self.job_status
        self.job_status = status
        return status

    def _start_request(
        self, cmd: list[str], kwargs: dict[str, Any], *, keep_ports: bool
    ) -> dict[str, Any]:
        """The launcher's start request: the command; direct or reverse; on a restart in
        place the kernel's old ports (clients just reconnect); and the environment changes
        the job lacks (it has sbatch's environment): what Jupyter added for this kernel, and
        what the Slurm runner changed for its own output (LC_ALL=C and the like)."""
        env: dict[str, str] = kwargs.get("env") or {}
        added = {name: value for name, value in env.items() if os.environ.get(name) != value}
        runner_env = command_environment(os.environ)
        changed = {
            name
            for name in runner_env.keys() | os.environ.keys()
            if runner_env.get(name) != os.environ.get(name)
        }
        return {
            "type": "start",
            "argv": cmd,
            "env": {**added, **{name: env[name] for name in changed if name in env}},
            "unset": sorted(name for name in changed if name not in env),
            "cwd": str(kwargs["cwd"]) if kwargs.get("cwd") else None,
            "kernel_name": getattr(self.parent, "kernel_name", ""),
            "ports": self._node_ports if keep_ports else None,
            "reverse": self.kernel_connection == "reverse",
        }

    @property
    def _session(self) -> Session:
        """The KernelManager's session: its key signs the kernel's messages."""
        if self.parent is None:
            msg = "SlurmProvisioner runs only under a KernelManager"
            raise RuntimeError(msg)
        session: Session = self.parent.session
        return session

    async def _deliver_secrets(self, token: bytes) -> Path:
        if not _KERNEL_ID.match(self.kernel_id or ""):
            msg = f"Unexpected kernel id {self.kernel_id!r}"
            raise KernelJobError(msg)
        name = f"{self.kernel_id}.json"
        content = {
            "token": token.hex(),
            "key": self._session.key.decode(),
            "signature_scheme": self._session.signature_scheme,
            **self._curve_keys,
        }
        if (prefixed := self._prefixed) is not None:
            argv = [self.python, "-I", handoff.__file__, "write", name]
            path = (await prefixed.run(argv, stdin=json.dumps(content).encode())).strip()
        else:
            path = str(await asyncio.to_thread(handoff.write_secrets, name, content))
        self._handoff_file = path
        return Path(path)

    async def _deliver_launcher(self) -> str:
        """The path of the launcher's zip application in the user's handoff directory, which
        the nodes share; written there (through the prefix, as the user) when missing."""
        name, content = launcher_app()
        key = (tuple(self.connection.command_prefix), name)
        if key not in self._launchers:
            if (prefixed := self._prefixed) is not None:
                argv = [self.python, "-I", handoff.__file__, "write-once", name]
                path = (await prefixed.run(argv, stdin=content)).strip()
            else:
                path = str(await asyncio.to_thread(handoff.write_once, name, content))
            self._launchers[key] = path
        return self._launchers[key]

    def _new_curve_keys(self) -> dict[str, str]:
        """A key pair for a kernel that can encrypt; none for one that cannot, if allowed."""
        if declares_curve(getattr(self.kernel_spec, "metadata", None) or {}):
            public, secret = zmq.curve_keypair()
            return dict(zip(CURVE_KEYS, (public.decode(), secret.decode()), strict=True))
        if self.transport_encryption == "required":
            raise InvalidRequest(cannot_encrypt(getattr(self.parent, "kernel_name", "")))
        self.log.warning(
            "Kernel %s cannot encrypt its traffic: it runs unencrypted", self.kernel_id
        )
        return {}

    async def _listen_ip(self) -> str:
        if self.listen_ip:
            return str(self.listen_ip)
        connection = self.connection
        key = (connection.backend, tuple(connection.command_prefix), connection.rest_url)
        if key not in self._listen_ips:
            self._listen_ips[key] = await address_towards(await self.slurm.node_address())
        return self._listen_ips[key]

    def _log_file(self) -> str:
        if self._handoff_file is None or self.job_id is None:
            return "the job's output file"
        return str(Path(self._handoff_file).parent / f"kernel-{self.job_id}.log")

    # -- stopping ----------------------------------------------------------------------------

    async def _stop_kernel(self, signum: int) -> None:
        if self._link is not None and self._link.connected:
            with contextlib.suppress(ChannelClosed):
                await self._link.send({"type": "signal", "signum": int(signum)})
        elif self.job_id is not None and not self._job_ended:
            await self._cancel_job(self.job_id)
            self._mark_job_ended(None)

    async def _end_job(self) -> None:
        """End the job: the launcher exits when told (the job completes); scancel otherwise."""
        link, self._link = self._link, None
        told = False
        if link is not None and link.connected:
            with contextlib.suppress(ChannelClosed):
                await link.send({"type": "shutdown"})
                told = await link.wait_disconnected(timeout=10.0)
        if link is not None:
            await link.close()
        if self.job_id is not None and not self._job_ended and not told:
            try:
                await self._cancel_job(self.job_id)
            except SlurmError as error:
                self.log.error("Could not cancel Slurm job %s: %s", self.job_id, error)
        if self._handoff_file is not None:  # the job never started: its secrets go unused
            await self.remove_private_file(Path(self._handoff_file).name)
            self._handoff_file = None
        if told and self.job_id is not None:  # a clean end: its log tells nothing new
            await self.remove_private_file(f"kernel-{self.job_id}.log")
        if self.job_id is not None and not self._job_ended:
            self._mark_job_ended(None)

    async def _cancel_job(self, job_id: str) -> None:
        """scancel the job; a job Slurm no longer knows is as cancelled as it gets."""
        with contextlib.suppress(SlurmNotFound):
            await self.slurm.act_on_job(job_id, "cancel")

    async def remove_private_file(self, name: str) -> None:
        """Delete a file of the user's handoff directory, as the user (see ``handoff``)."""
        try:
            if (prefixed := self._prefixed) is not None:
                await prefixed.run([self.python, "-I", handoff.__file__, "remove", name])
            else:
                await asyncio.to_thread(handoff.remove, name)
        except (SlurmError, OSError) as error:
            self.log.warning("Could not remove %s: %s", name, error)

    def _mark_job_ended(self, reason: str | None) -> None:
        self._job_ended = True
        if reason is not None:
            self.reason = reason
            self.log.warning("Kernel %s: %s", self.kernel_id, reason)
        if self._exit_code is None:
            code = self._link.kernel_exit_code if self._link else None
            self._exit_code = code if code not in (None, 0) else 1

    # -- finding out why a kernel is gone ----------------------------------------------------

    async def _find_out_why(self, link: LauncherLink) -> int | None:
        """The kernel exited, or the launcher says its job ends, or it went silent: ask Slurm.

        A job that ended explains the kernel's death (scancel, time limit, node failure);
        a job that runs on means only the kernel process died, or the launcher may call again.
        """
        urgent = link.job_ending or link.kernel_exit_code is not None
        now = time.monotonic()
        if not urgent and now - self._last_slurm_check < _SLURM_POLL_INTERVAL:
            return None
        self._last_slurm_check = now
        for attempt in range(_ENDING_CHECKS if link.job_ending else 1):
            if attempt:
                await asyncio.sleep(_ENDING_CHECK_DELAY)
            status = await self._refresh_status()
            if status is None or status.finished:
                reason = status.ended_reason() if status else self._unknown_job_reason()
                self._mark_job_ended(None if self._exit_expected else reason)
                return self._exit_code
        if link.kernel_exit_code is not None:
            self.reason = (
                f"The kernel process exited with code {link.kernel_exit_code} on {link.node}; "
                f"its Slurm job {self.job_id} is still running."
            )
            return link.kernel_exit_code
        if link.job_ending or link.silent_for > self.grace_period:
            # Slurm still runs the job, but its launcher ends it or has given up on us.
            await self._cancel_job(self.job_id or "")
            self._mark_job_ended(
                f"The kernel is dead: its launcher on {link.node} stopped answering "
                f"(Slurm job {self.job_id} was cancelled)."
            )
            return self._exit_code
        return None

    async def _poll_slurm(self) -> int | None:
        now = time.monotonic()
        if now - self._last_slurm_check < _SLURM_POLL_INTERVAL:
            return None
        self._last_slurm_check = now
        status = await self._refresh_status()
        if status is not None and not status.finished:
            return None
        self._mark_job_ended(status.ended_reason() if status else self._unknown_job_reason())
        return self._exit_code

    def _unknown_job_reason(self) -> str:
        return f"The kernel is dead: Slurm no longer knows its job {self.job_id}."


def declares_curve(metadata: Mapping[str, Any]) -> bool:
    """Whether a kernelspec's metadata says its kernel encrypts with CurveZMQ."""
    supported = metadata.get("supported_encryption") or []
    return "curve" in ([supported] if isinstance(supported, str) else supported)


def cannot_encrypt(kernel_name: str) -> str:
    """Why a kernel that cannot encrypt its traffic is refused."""
    return (
        f"Kernel {kernel_name or 'this kernel'!r} cannot encrypt its traffic (its kernelspec "
        'does not list "curve" in metadata.supported_encryption), and remote kernels must: '
        "their traffic crosses the cluster network. Use a kernel that can (ipykernel 7.3 or "
        'later), or ask the site to set c.SlurmProvisioner.transport_encryption = "auto".'
    )


class LegacySlurmProvisioner(SlurmProvisioner):
    """SlurmProvisioner for kernelspecs that still name it ``slurm-provisioner``
    (provisioner_names.py), saying so once per kernel."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        message = (
            f"Kernelspec {getattr(self.parent, 'kernel_name', '')!r} names the provisioner "
            f"{LEGACY_PROVISIONER_NAME!r}, now {PROVISIONER_NAME!r}: write it again with "
            "`jupyter hpc-kernelspec install` (the old name may be another package's)"
        )
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        self.log.warning(message)
