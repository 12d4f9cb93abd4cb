"""Remote kernels started through ``/hpc/kernels``: a kernelspec's kernel in a Slurm job.

Each one is an ordinary kernel of jupyter_server's own kernel manager (its id is a Jupyter
kernel id a notebook session can switch to), whose provisioner is a ``SlurmProvisioner`` with
the requested resources, whatever provisioner the kernelspec names (local or Slurm).
The kernel manager offers no per-start choice of provisioner, so the service watches the
KernelManagers it builds (jupyter_client_hooks, the one module that touches jupyter_client's
internals): while one of our starts runs, a context variable of that start's task hands the
new KernelManager its provisioner. Other starts, in other tasks, see no change.

No timeout bounds the queue wait: jupyter_server's ``start_kernel``, KernelManager's start
and the provisioner's ``launch_kernel`` have none (``kernel_info_timeout`` applies to
restarts and websockets, after the job runs; ``shutdown_wait_time`` only to shutdowns), and
the start runs in a background task, so no request waits for it either. A queued start is
given up by cancelling that task: the provisioner then cancels the job.

Jupyter's auto-restart is off for these kernels: after a time limit or a node failure it
would submit a new job unasked. Instead a watcher reports the kernel ``ended`` with the
provisioner's reason and shuts it down (the frontend moves the notebook back).

A server that dies without its shutdown (SIGKILL, the OOM killer, a power cut) leaves its
remote kernels' jobs (until the launcher's grace period ends them), their connection files
(with the kernel's HMAC key), its jpserver-<pid> files and kernel logs. The next server of the
same user takes over the kernels whose launchers call it within their grace period
(``c.SlurmProvisioner.reattach``), and ends and removes the rest of what provably belonged to
a server that is gone (``server_started``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import re
import time
import uuid
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from jupyter_client.kernelspec import KernelSpec, NoSuchKernel
from jupyter_core.utils import ensure_async
from traitlets import Dict, Float, Int, List, Unicode
from traitlets.config import LoggingConfigurable

from jupyterlab_hpc.kernels import handoff
from jupyterlab_hpc.kernels.provisioner import SlurmProvisioner, cannot_encrypt, declares_curve
from jupyterlab_hpc.kernels.provisioner_names import is_ours
from jupyterlab_hpc.services.jupyter_client_hooks import (
    forget_failed_start,
    preset_kernel_info,
    preset_provisioner,
    watch_new_kernel_managers,
)
from jupyterlab_hpc.services.kernel_records import (
    KernelRecord,
    KernelRecords,
    ServerRecord,
    ServerRecords,
    this_host,
    this_server,
)
from jupyterlab_hpc.services.kernel_resources import (
    ResourceLimits,
    check_against_slurm,
    checked_resources,
    parse_resources,
)
from jupyterlab_hpc.services.partitions import PartitionsService
from jupyterlab_hpc.services.session_store import hold_culling_of, keep_sessions_on_disk
from jupyterlab_hpc.services.user import UserService
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.connection import SlurmConnection
from jupyterlab_hpc.slurm.errors import InvalidRequest, SlurmError, SlurmNotFound
from jupyterlab_hpc.slurm.records import JobStatus, UserAccess

KernelState = Literal["queued", "starting", "ready", "ended", "failed"]
PROGRESS_SCHEMA_ID = "https://jupyterlab-hpc.readthedocs.io/events/kernel-progress"
PROGRESS_SCHEMA = Path(__file__).parents[1] / "events" / "kernel_progress.yaml"
_FINAL: frozenset[KernelState] = frozenset({"ended", "failed"})
_KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
_KERNEL_LOG = re.compile(r"kernel-(\d+)\.log")
_SAFE_KERNEL_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# A kernel whose job ends sooner is not taken over from a dead server: it would be gone
# before its notebook is back.
MIN_TIME_LEFT_TO_TAKE_OVER = 60
# Seconds within which a kernel that runs no cell answers a kernel_info request on its shell.
IDLE_KERNEL_ANSWERS_WITHIN = 1.0

# Set inside the task of one of our starts: gives the KernelManager built for it its provisioner.
_ATTACH_PROVISIONER: ContextVar[Callable[[Any], None] | None] = ContextVar(
    "jupyterlab_hpc_attach_provisioner", default=None
)


@dataclass
class RemoteKernel:
    """One kernel this server started (or found left by its predecessor)."""

    id: str
    kernel_name: str
    resources: dict[str, Any]
    state: KernelState = "queued"
    reason: str | None = None  # why it ended or failed
    job_id: str | None = None
    status: JobStatus | None = None
    provisioner: SlurmProvisioner | None = None
    task: asyncio.Task[None] | None = None
    walltime_warned: bool = False
    path: str = ""  # the API path of the folder it runs in

    @property
    def queue_words(self) -> str | None:
        status = self.status
        return (status.reason_text or status.reason) if status and status.pending else None

    @property
    def time_left(self) -> int | None:
        if self.state not in {"starting", "ready"} or self.status is None:
            return None
        return _seconds_until(self.status.end_time)

    def to_json(self) -> dict[str, Any]:
        status = self.status
        pending = status is not None and status.pending
        running = status is not None and not status.pending
        return {
            "id": self.id,
            "kernel_name": self.kernel_name,
            "job_id": self.job_id,
            "state": self.state,
            "reason": self.queue_words if self.state == "queued" else self.reason,
            "node": status.node if status and running else None,
            "started": status.start_time if status and running else None,
            "estimated_start": status.start_time if status and pending else None,
            "time_left": self.time_left,
            "resources": self.resources,
        }


class RemoteKernels(LoggingConfigurable):
    """Starts, lists and stops kernels in Slurm jobs; reports their progress as events."""

    presets = List(
        Dict(),
        default_value=[],
        help="""Resource presets the "Restart Kernel on Cluster" dialog offers, each
        {"name": "small", "title": "1 CPU, 1 hour", "resources": {"partition": "compute",
        "cpus": 1, "time": 3600}}: time in seconds, or as Slurm writes it ("1:00:00").
        Checked once at start; presets with bad resources are logged and left out.""",
    ).tag(config=True)

    default_resources = Dict(
        default_value={},
        help="""Resources the Restart Kernel on Cluster dialog starts from (same keys and
        units as a preset's resources); the user's last choice overrides them in the browser.
        Checked once at start; if they cannot be used that is logged and they are not. Not
        to be confused with SlurmProvisioner.default_resources, applied to every kernel job.""",
    ).tag(config=True)

    allowed_partitions = List(
        Unicode(),
        default_value=[],
        help="""Partitions remote kernels may use; empty: every partition Slurm lets the
        user submit to.""",
    ).tag(config=True)

    max_time = Int(
        None,
        allow_none=True,
        help="Longest time limit (seconds) a remote kernel may ask for; None: Slurm's limits.",
    ).tag(config=True)

    max_cpus = Int(None, allow_none=True, help="Most CPUs a remote kernel may ask for.").tag(
        config=True
    )

    max_memory_mb = Int(
        None, allow_none=True, help="Most memory (MB) a remote kernel may ask for."
    ).tag(config=True)

    max_gpus = Int(None, allow_none=True, help="Most GPUs a remote kernel may ask for.").tag(
        config=True
    )

    watch_interval = Float(
        2.0,
        help="""Seconds between checks of a ready remote kernel (alive, walltime warning).
        While the launcher reports the kernel running, a check asks Slurm nothing.""",
    ).tag(config=True)

    state_dir = Unicode(
        "",
        help="""Directory of the records that let a restarted server find the remote kernels
        of its predecessor (their jobs are then cancelled). Empty: jupyterlab-hpc-kernels in
        Jupyter's runtime directory. Private to the user (0700).""",
    ).tag(config=True)

    kernel_log_retention_days = Float(
        7.0,
        help="""Days the log of a kernel job that died or failed to start
        (~/.jupyterlab-hpc/kernels/kernel-<job>.log; a cleanly ended kernel's is removed at
        once) is kept after it was last written. A starting server removes older logs of jobs
        Slurm no longer queues or runs; only a server that reaches Slurm without
        SlurmConnection.command_prefix (it runs as the user, on a host with the user's
        home). 0: kept forever.""",
    ).tag(config=True)

    def __init__(
        self,
        slurm: SlurmBackend,
        partitions: PartitionsService,
        user: UserService,
        serverapp: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.slurm = slurm
        self.command_prefix = SlurmConnection(parent=self).command_prefix
        self._serverapp = serverapp
        self.partitions = partitions
        self.user = user
        self.kernel_manager = serverapp.kernel_manager
        self.contents_manager = serverapp.contents_manager
        self.event_logger = serverapp.event_logger
        self.event_logger.register_event_schema(PROGRESS_SCHEMA)
        self.event_logger.add_listener(schema_id=_KERNEL_ACTIONS, listener=self._kernel_action)
        directory = Path(self.state_dir or Path(serverapp.runtime_dir) / "jupyterlab-hpc-kernels")
        self.records = KernelRecords(directory)
        self.servers = ServerRecords(Path(serverapp.runtime_dir) / "jupyterlab-hpc-servers")
        self._server = this_server()
        self._kernels: dict[str, RemoteKernel] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._closing: asyncio.Future[None] | None = None
        self._connection_files: list[str] = []  # of every kernel this server's manager made
        self._unlisted: set[str] = set()  # records of Slurm kernels of Jupyter's /api/kernels
        self._valid_presets = self._checked_presets()
        self._defaults = self._checked_defaults()
        self._watch_kernel_managers()
        self._take_overs_done = asyncio.Event()
        self._sessions_lock = None
        if self._new_provisioner().reattach:
            self._sessions_lock = keep_sessions_on_disk(serverapp, self.log)
            hold_culling_of(
                serverapp.session_manager, self._kernels_to_take_over(), self._take_overs_done
            )

    def _new_provisioner(self) -> SlurmProvisioner:
        """A provisioner under the server's kernel manager, reaching Slurm as the views do."""
        provisioner = SlurmProvisioner(parent=self.kernel_manager)
        provisioner.slurm = self.slurm
        return provisioner

    # -- the REST operations ----------------------------------------------------------------

    async def options(self) -> dict[str, Any]:
        """What the dialog offers: presets, defaults, the user's partitions and accounts."""
        partitions, access = await self._slurm_view()
        return {
            "presets": self._valid_presets,
            "defaults": self._defaults,
            "partitions": partitions,
            "accounts": list(access.accounts),
            "default_account": access.default_account,
            "limits": {
                "max_time": self.max_time,
                "max_cpus": self.max_cpus,
                "max_memory_mb": self.max_memory_mb,
                "max_gpus": self.max_gpus,
            },
        }

    async def start(self, kernel_name: object, resources: object, path: object) -> RemoteKernel:
        """Check the request (InvalidRequest: nothing is submitted), then start in the
        background; the kernel is returned at once, queued."""
        name = self._kernelspec_name(kernel_name)
        checked = parse_resources(resources, self._limits())
        # Everything that can be checked here before asking Slurm: bad input runs nothing.
        kernel_dir = await self._kernel_dir(path)
        partitions, access = await self._slurm_view()
        check_against_slurm(checked, partitions, access.accounts)
        kernel = RemoteKernel(
            id=str(uuid.uuid4()), kernel_name=name, resources=checked, path=kernel_dir
        )
        self._kernels[kernel.id] = kernel
        kernel.task = asyncio.create_task(self._run(kernel, kernel_dir))
        self._emit(kernel, "queued")
        return kernel

    def list_kernels(self) -> list[RemoteKernel]:
        return list(self._kernels.values())

    def get(self, kernel_id: str) -> RemoteKernel:
        kernel = self._kernels.get(kernel_id)
        if kernel is None:
            msg = f"No remote kernel {kernel_id} started by this server"
            raise SlurmNotFound(msg)
        return kernel

    async def stop(self, kernel_id: str) -> None:
        """Cancel a queued or starting kernel (its job is cancelled), shut a ready one down
        (its job ends), or forget one that ended."""
        kernel = self.get(kernel_id)
        if kernel.state in _FINAL:
            del self._kernels[kernel_id]
            return
        if kernel.state == "ready":
            self._finish(kernel, "ended", "Shut down on request.")
            await self._shut_down(kernel.id)
        if kernel.task is not None:
            kernel.task.cancel()
            await asyncio.wait({kernel.task})

    async def server_started(self) -> None:
        """Once the server runs: note this server (its jpserver files are removed if it dies
        unclean), then end and remove what servers that are gone left behind."""
        steps = (
            self._register_server,
            self.reap_predecessors,
            self._remove_files_of_gone_servers,
            self._remove_expired_logs,
        )
        for step in steps:
            try:
                await step()
            except Exception:  # one failed clean-up step does not stop the others
                self.log.exception("jupyterlab_hpc: %s failed", step.__name__)

    async def reap_predecessors(self) -> None:
        """Take over the remote kernels that a server which is gone left running, where it
        can (c.SlurmProvisioner.reattach); end the jobs of the others, and remove their
        connection files, unused secrets and the logs of jobs ended here. Those are listed
        as ended, with what became of their jobs."""
        reattach = self._new_provisioner().reattach
        try:
            for record in await asyncio.to_thread(self.records.left_by_gone_servers):
                if reattach and record.provisioner_info.get("reattach"):
                    problem = await self._take_over(record)
                    if problem is None:
                        continue
                    self.log.warning(
                        "Remote kernel %s of a server that died is not taken over: %s",
                        record.kernel_id, problem,
                    )  # fmt: skip
                await self._end_kernel_of_gone_server(record)
        finally:
            self._take_overs_done.set()

    def _kernels_to_take_over(self) -> set[str]:
        try:
            records = self.records.left_by_gone_servers()
        except OSError:
            return set()
        return {record.kernel_id for record in records if record.provisioner_info.get("reattach")}

    async def _take_over(self, record: KernelRecord) -> str | None:
        """Make the kernel of a dead server's record this server's: same kernel id, job and
        state, connected again through its launcher. None once done; else why not (its
        job is then ended as any other of a gone server's)."""
        job_id = record.provisioner_info.get("job_id")
        try:
            status = await self.slurm.job_status(str(job_id))
        except SlurmError as error:
            return f"Slurm cannot say whether its job {job_id} runs: {error}"
        if status is None or status.state != "RUNNING":
            return f"its job {job_id} is {status.state if status else 'unknown to Slurm'}"
        left = _seconds_until(status.end_time)
        if left is not None and left < MIN_TIME_LEFT_TO_TAKE_OVER:
            return f"its job {job_id} reaches its time limit in {left} s"
        kernel = RemoteKernel(
            id=record.kernel_id,
            kernel_name=record.kernel_name,
            resources=record.resources,
            state="starting",
            job_id=job_id,
            status=status,
            path=record.path,
        )
        if record.listed:  # listed as starting while it is taken over
            self._kernels[kernel.id] = kernel
        # The dead server's connection file for this kernel: jupyter_client would take a
        # file that matches the kernel's connection for its own and never load it.
        await asyncio.to_thread(self._remove_connection_file, record)
        attach = functools.partial(self._attach, kernel, reattach=record.provisioner_info)
        started = time.monotonic()
        reset = _ATTACH_PROVISIONER.set(attach)
        try:
            await self.kernel_manager.start_kernel(
                kernel_id=kernel.id, kernel_name=kernel.kernel_name, path=kernel.path
            )
            state, info = await self._state_of_taken_over(kernel)
            manager = self.kernel_manager.get_kernel(kernel.id)
            manager.execution_state = state
            preset_kernel_info(manager, info)
        except Exception as error:  # noqa: BLE001 - whatever stops the take-over is its reason
            self._forget_failed_start(kernel.id)
            await self._shut_down(kernel.id)
            return str(error) or type(error).__name__
        finally:
            _ATTACH_PROVISIONER.reset(reset)
        kernel.state = "ready"
        if record.listed:
            await self._persist(kernel)
            self._emit(kernel, "ready")
            kernel.task = asyncio.create_task(self._watch(kernel))
        else:
            self._unlisted.add(kernel.id)
            assert kernel.provisioner is not None  # noqa: S101 - _attach set it
            unlisted = await self._record(
                kernel.id, kernel.kernel_name, kernel.provisioner, listed=False
            )
            await asyncio.to_thread(self.records.write, unlisted)
        self.log.info(
            "Remote kernel %s (Slurm job %s on %s) taken over in %.1f s",
            kernel.id, job_id, kernel.provisioner.node if kernel.provisioner else "?",
            time.monotonic() - started,
        )  # fmt: skip
        return None

    async def _end_kernel_of_gone_server(self, record: KernelRecord) -> None:
        kernel = RemoteKernel(
            id=record.kernel_id,
            kernel_name=record.kernel_name,
            resources=record.resources,
            job_id=record.provisioner_info.get("job_id"),
        )
        if record.listed:
            self._kernels[kernel.id] = kernel
        provisioner = self._new_provisioner()
        await provisioner.load_provisioner_info(record.provisioner_info)
        try:
            outcome, cancelled = await self._end_job_of_gone_server(kernel, provisioner)
        finally:
            await asyncio.to_thread(self._remove_connection_file, record)
        reason = f"The Jupyter server that started it stopped; {outcome}."
        if record.listed:
            self._finish(kernel, "ended", reason)
        else:  # a kernel of Jupyter's own API: only the log says
            self.records.remove(kernel.id)
        self.log.info("Remote kernel %s of a stopped server: %s", kernel.id, reason)
        if cancelled:
            # Ended here, healthy until its server died: its log tells nothing. Secrets
            # of a job that never started would never be read.
            await provisioner.remove_private_file(f"kernel-{kernel.job_id}.log")
            await provisioner.remove_private_file(f"{kernel.id}.json")

    async def _end_job_of_gone_server(
        self, kernel: RemoteKernel, provisioner: SlurmProvisioner
    ) -> tuple[str, bool]:
        """Cancel the job if it still runs; what happened to it, in words, and whether it
        was cancelled here."""
        job_id = kernel.job_id
        if job_id is None:
            return "no job", False
        try:
            status = await provisioner.slurm.job_status(job_id)
        except SlurmError as error:
            self.log.warning("Cannot ask Slurm about job %s: %s", job_id, error)
            await provisioner.cleanup()  # scancel, logging what Slurm refuses
            return f"Slurm was asked to cancel its job {job_id}", True
        if status is None:
            return f"its Slurm job {job_id} had already ended (no longer known to Slurm)", False
        if status.finished:  # the launcher's grace period, a time limit, scancel ...
            # Its log (kept if the kernel died) stays for kernel_log_retention_days.
            return f"its Slurm job {job_id} had already ended ({status.state})", False
        await provisioner.cleanup()  # scancel, logging what Slurm refuses
        return f"its Slurm job {job_id} was cancelled", True

    def _remove_connection_file(self, record: KernelRecord) -> None:
        """The connection file (HMAC key) the gone server's KernelManager wrote."""
        if not _SAFE_KERNEL_ID.fullmatch(record.kernel_id):
            return
        name = f"kernel-{record.kernel_id}.json"
        path = Path(record.connection_file or Path(self.kernel_manager.connection_dir) / name)
        if path.name == name:  # only the file jupyter_server names after this kernel
            path.unlink(missing_ok=True)

    async def _register_server(self) -> None:
        await asyncio.to_thread(self._write_server_record)

    def _write_server_record(self) -> None:
        """This server, its jpserver files and the connection files of every kernel its
        kernel manager made (local ones too), for a successor if it dies unclean."""
        pid, started = self._server
        files = [
            getattr(self._serverapp, name, None)
            for name in ("info_file", "browser_open_file", "browser_open_file_to_run")
        ]
        record = ServerRecord(
            pid,
            started,
            this_host(),
            [str(file) for file in files if file],
            list(self._connection_files),
        )
        try:
            self.servers.write(record)
        except OSError as error:
            self.log.warning("Could not write %s: %s", self.servers.directory, error)

    async def _remove_files_of_gone_servers(self) -> None:
        """jupyter_server removes its jpserver-<pid> files only at a clean stop (and
        ``jupyter server list`` those of any pid not running here, whatever the host), and
        its kernels' connection files only when it shuts them down."""
        ours = set(self._connection_files)
        for name in await asyncio.to_thread(self.servers.remove_files_of_gone_servers, ours):
            self.log.info("Removed %s of a Jupyter server that is gone", name)

    async def _remove_expired_logs(self) -> None:
        """Logs of kernel jobs that are over, last written before the retention period."""
        if self.kernel_log_retention_days <= 0 or self.command_prefix:
            return  # with a prefix the logs are the user's on the prefix's far side
        active = {job.id for job in await self.slurm.list_jobs(mine=True)}
        oldest = time.time() - self.kernel_log_retention_days * 86400
        for name in await asyncio.to_thread(_remove_old_logs, oldest, active):
            self.log.info("Removed %s (older than %g days)", name, self.kernel_log_retention_days)

    async def close(self) -> None:
        """At server shutdown: give up queued starts (their jobs are cancelled) and shut the
        ready kernels down, so nothing of ours outlives the server. A second call (a second
        signal) waits for the first."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        for kernel in self._kernels.values():
            if kernel.state == "ready":
                self._finish(kernel, "ended", "The Jupyter server stopped.")
        ready = [kernel.id for kernel in self._kernels.values() if kernel.id in self.kernel_manager]
        tasks = [kernel.task for kernel in self._kernels.values() if kernel.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, *map(self._shut_down, ready), return_exceptions=True)
        # The kernel manager's shutdown_all, next, ends those; its events may come too late.
        for kernel_id in self._unlisted:
            self.records.remove(kernel_id)
        self.servers.remove(self._server[0])

    # -- one kernel's life ------------------------------------------------------------------

    async def _run(self, kernel: RemoteKernel, kernel_dir: str) -> None:
        _ATTACH_PROVISIONER.set(functools.partial(self._attach, kernel))
        try:
            await self.kernel_manager.start_kernel(
                kernel_id=kernel.id,
                kernel_name=kernel.kernel_name,
                path=kernel_dir,
                resources=kernel.resources,
            )
            await self._until_answering(kernel)
        except asyncio.CancelledError:
            self._forget_failed_start(kernel.id)
            await self._shut_down(kernel.id)  # cancelled while the kernel was answering
            job = f"; Slurm job {kernel.job_id} was cancelled" if kernel.job_id else ""
            self._finish(kernel, "ended", f"Cancelled before the kernel was ready{job}.")
            raise
        except Exception as error:  # noqa: BLE001 - whatever stops a start is its reason
            self._forget_failed_start(kernel.id)
            await self._shut_down(kernel.id)
            self._finish(kernel, "failed", str(error) or type(error).__name__)
            return
        kernel.state = "ready"
        await self._persist(kernel)
        self._emit(kernel, "ready")
        await self._watch(kernel)

    def _attach(
        self, kernel: RemoteKernel, manager: Any, reattach: dict[str, Any] | None = None
    ) -> None:
        """Give the KernelManager built for ``kernel`` its Slurm provisioner; one that takes
        over the running kernel ``reattach`` (a dead server's provisioner info) describes."""
        spec: KernelSpec = manager.kernel_spec
        provisioner = SlurmProvisioner(
            kernel_id=kernel.id, kernel_spec=spec, parent=manager, **_slurm_config(spec)
        )
        if reattach is not None:
            provisioner.reattach_from(reattach)
        provisioner.observe(functools.partial(self._job_submitted, kernel), "job_id")
        provisioner.observe(functools.partial(self._status_changed, kernel), "job_status")
        provisioner.slurm = self.slurm
        manager.autorestart = False
        preset_provisioner(manager, provisioner)
        kernel.provisioner = provisioner

    async def _until_answering(self, kernel: RemoteKernel) -> None:
        """Ready means the kernel answered kernel_info, so a notebook can switch at once."""
        client = self.kernel_manager.get_kernel(kernel.id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=self.kernel_manager.kernel_info_timeout)
        finally:
            client.stop_channels()

    async def _state_of_taken_over(self, kernel: RemoteKernel) -> tuple[str, dict[str, Any]]:
        """Whether a taken-over kernel is busy or idle, once it answered kernel_info signed
        with its key on the control channel (served even while a cell runs). Its shell
        answers at once only if no cell runs. Told to the kernel manager, which knows a
        kernel's state only from the status messages of requests it saw: without it, Lab's
        websocket to the kernel would wait for the running cell to end."""
        client = self.kernel_manager.get_kernel(kernel.id).client()
        for channel in (client.control_channel, client.shell_channel):  # only these two
            channel.start()
        try:
            timeout = self.kernel_manager.kernel_info_timeout
            info = await _reply(client.control_channel, client, timeout)
            try:
                await _reply(client.shell_channel, client, IDLE_KERNEL_ANSWERS_WITHIN)
            except TimeoutError:
                return "busy", info
            return "idle", info
        finally:
            client.stop_channels()

    async def _watch(self, kernel: RemoteKernel) -> None:
        """Until the kernel goes: its walltime warning, and its end (with the reason)."""
        manager = self.kernel_manager.get_kernel(kernel.id)
        provisioner = kernel.provisioner
        assert provisioner is not None  # noqa: S101 - _attach set it before the start
        while kernel.id in self.kernel_manager:
            if not kernel.walltime_warned and provisioner.walltime_warning_at is not None:
                kernel.walltime_warned = True
                self._emit(kernel, "walltime_warning")
            # During a restart (shutting down, or relaunching) a dead kernel is expected.
            busy = manager.shutting_down or not provisioner.has_process
            if not busy and not await manager.is_alive():
                self._finish(kernel, "ended", provisioner.reason or "The kernel exited.")
                await self._shut_down(kernel.id)
                return
            await asyncio.sleep(self.watch_interval)
        self._finish(kernel, "ended", "The kernel was shut down.")

    def _job_submitted(self, kernel: RemoteKernel, change: dict[str, Any]) -> None:
        if change["new"] is None or kernel.state in _FINAL:
            return
        kernel.job_id = change["new"]
        self._spawn(self._persist(kernel))
        self._emit(kernel, "queued")

    def _status_changed(self, kernel: RemoteKernel, change: dict[str, Any]) -> None:
        old: JobStatus | None = kernel.status
        status: JobStatus | None = change["new"]
        kernel.status = status
        if status is None or kernel.state not in {"queued", "starting"}:
            return
        if status.pending:
            if old is None or (old.reason, old.start_time) != (status.reason, status.start_time):
                self._emit(kernel, "queued")
        elif kernel.state == "queued" and not status.finished:
            kernel.state = "starting"
            self._emit(kernel, "starting")

    def _finish(self, kernel: RemoteKernel, state: KernelState, reason: str) -> None:
        if kernel.state in _FINAL:
            return
        kernel.state = state
        kernel.reason = reason
        self.records.remove(kernel.id)
        self._emit(kernel, "ended" if state == "ended" else "failed")

    async def _shut_down(self, kernel_id: str) -> None:
        if kernel_id in self.kernel_manager:
            try:
                await self.kernel_manager.shutdown_kernel(kernel_id, now=True)
            except Exception:  # its job is cancelled by the launcher's grace period anyway
                self.log.exception("Could not shut down remote kernel %s", kernel_id)

    def _forget_failed_start(self, kernel_id: str) -> None:
        """Else shutdown_all() at server exit would stop on a kernel that never was."""
        forget_failed_start(self.kernel_manager, kernel_id)

    # -- persistence and events -------------------------------------------------------------

    async def _persist(self, kernel: RemoteKernel) -> None:
        if kernel.provisioner is None:
            return
        record = await self._record(kernel.id, kernel.kernel_name, kernel.provisioner)
        if kernel.state in _FINAL:  # it ended while we waited
            return
        await asyncio.to_thread(self.records.write, replace(record, resources=kernel.resources))

    async def _record(
        self,
        kernel_id: str,
        kernel_name: str,
        provisioner: SlurmProvisioner,
        *,
        listed: bool = True,
    ) -> KernelRecord:
        info = await provisioner.get_provisioner_info()
        # The kernel's HMAC key (bytes) stays out of the connection info; with reattach on it
        # is in ``reattach`` with the launcher's token, for a successor to take the kernel
        # over: the record is the user's alone (0600 in a 0700 directory).
        connection = {k: v for k, v in (info.get("connection_info") or {}).items() if k != "key"}
        pid, started = self._server
        known = kernel_id in self.kernel_manager
        manager = self.kernel_manager.get_kernel(kernel_id) if known else None
        return KernelRecord(
            kernel_id=kernel_id,
            kernel_name=kernel_name,
            resources={},
            provisioner_info={**info, "connection_info": connection},
            server_pid=pid,
            server_started=started,
            server_host=this_host(),
            connection_file=getattr(manager, "connection_file", None) or None,
            listed=listed,
            path=self._kernels[kernel_id].path if kernel_id in self._kernels else "",
        )

    async def _kernel_action(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:  # noqa: ARG002
        """Slurm kernels started through Jupyter's own /api/kernels (a Slurm kernelspec, not
        "Restart Kernel on Cluster") get a record too, so a successor of a server that dies
        ends their jobs as well; not listed under /hpc/kernels. From jupyter_server's kernel
        action events."""
        kernel_id = data.get("kernel_id")
        if data.get("status") != "success" or not kernel_id or kernel_id in self._kernels:
            return
        if data.get("action") == "shutdown":
            self._unlisted.discard(kernel_id)
            await asyncio.to_thread(self.records.remove, kernel_id)
        elif data.get("action") in {"start", "restart"} and kernel_id in self.kernel_manager:
            manager = self.kernel_manager.get_kernel(kernel_id)
            provisioner = getattr(manager, "provisioner", None)
            if not isinstance(provisioner, SlurmProvisioner) or provisioner.job_id is None:
                return
            record = await self._record(kernel_id, manager.kernel_name, provisioner, listed=False)
            if kernel_id in self.kernel_manager and not manager.shutting_down:
                self._unlisted.add(kernel_id)
                await asyncio.to_thread(self.records.write, record)

    def _emit(self, kernel: RemoteKernel, event: str) -> None:
        view = kernel.to_json()
        data = {
            "kernel_id": kernel.id,
            "event": event,
            "state": kernel.state,
            "kernel_name": kernel.kernel_name,
            "job_id": kernel.job_id,
            "reason": view["reason"],
            "estimated_start": view["estimated_start"],
            "node": view["node"],
            "time_left": view["time_left"],
        }
        self.event_logger.emit(schema_id=PROGRESS_SCHEMA_ID, data=data)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- checks and Slurm's view ------------------------------------------------------------

    def _watch_kernel_managers(self) -> None:
        def seen(manager: Any) -> None:
            attach = _ATTACH_PROVISIONER.get()
            if attach is not None:
                attach(manager)
            connection_file = getattr(manager, "connection_file", "")
            if connection_file and connection_file not in self._connection_files:
                self._connection_files.append(connection_file)
                self._write_server_record()  # a small file, once per kernel

        watch_new_kernel_managers(self.kernel_manager, seen)

    def _kernelspec_name(self, kernel_name: object) -> str:
        if not isinstance(kernel_name, str) or not kernel_name:
            msg = "kernel_name must name a kernelspec"
            raise InvalidRequest(msg)
        try:
            spec = self.kernel_manager.kernel_spec_manager.get_kernel_spec(kernel_name)
        except NoSuchKernel as error:
            msg = f"No kernelspec named {kernel_name!r}"
            raise InvalidRequest(msg) from error
        provisioner = spec.metadata.get("kernel_provisioner", {}).get("provisioner_name")
        if provisioner not in {None, "local-provisioner"} and not is_ours(provisioner):
            msg = f"Kernelspec {kernel_name!r} runs through {provisioner!r}, not on its own"
            raise InvalidRequest(msg)
        if not declares_curve(spec.metadata) and (
            self._new_provisioner().transport_encryption == "required"
        ):
            raise InvalidRequest(cannot_encrypt(kernel_name))
        return kernel_name

    async def _kernel_dir(self, path: object) -> str:
        """The API path of the folder the kernel runs in: the notebook's own."""
        if path is None or path == "":
            return ""
        if not isinstance(path, str) or "\x00" in path or ".." in path.split("/"):
            msg = f"Not a path inside the server's root: {path!r}"
            raise InvalidRequest(msg)
        kernel_path = await ensure_async(self.contents_manager.get_kernel_path(path=path))
        return str(kernel_path)

    def _limits(self) -> ResourceLimits:
        return ResourceLimits(self.max_time, self.max_cpus, self.max_memory_mb, self.max_gpus)

    def _checked_presets(self) -> list[dict[str, Any]]:
        """The presets, their resources checked once and in the REST shape (time in
        seconds); one that cannot be used is logged and left out."""
        presets = []
        for preset in self.presets:
            try:
                if not isinstance(preset.get("name"), str) or not isinstance(
                    preset.get("title"), str
                ):
                    msg = "a preset needs a name and a title"
                    raise InvalidRequest(msg)
                resources = checked_resources(preset.get("resources", {}), self._limits())
            except InvalidRequest as error:
                self.log.error("RemoteKernels.presets: leaving out %r: %s", preset, error)
                continue
            presets.append({**preset, "resources": resources})
        return presets

    def _checked_defaults(self) -> dict[str, Any]:
        """default_resources checked once, in the REST shape; unusable ones are logged and
        the dialog starts from Slurm's own defaults instead."""
        try:
            return checked_resources(self.default_resources, self._limits())
        except InvalidRequest as error:
            self.log.error("RemoteKernels.default_resources: not used: %s", error)
            return {}

    async def _slurm_view(self) -> tuple[list[dict[str, Any]], UserAccess]:
        """The partitions this user may submit to (and the site allows), and their accounts;
        from the shared cache."""
        partitions, access = await asyncio.gather(
            self.partitions.list_partitions(), self.user.access()
        )
        usable = [
            partition
            for partition in partitions.value
            if partition["allowed"]
            and (not self.allowed_partitions or partition["name"] in self.allowed_partitions)
        ]
        return usable, access.value


def _remove_old_logs(oldest: float, active: set[str]) -> list[str]:
    """Remove the handoff directory's kernel-<job>.log files last written before ``oldest``
    whose job is not in ``active``; their names."""
    removed = []
    for path in handoff.handoff_directory().glob("kernel-*.log"):
        match = _KERNEL_LOG.fullmatch(path.name)
        if match is None or match.group(1) in active:
            continue
        with contextlib.suppress(OSError):
            if path.lstat().st_mtime < oldest:
                path.unlink()
                removed.append(path.name)
    return removed


def _slurm_config(spec: KernelSpec) -> dict[str, Any]:
    """A Slurm kernelspec's own provisioner config (its resources); none for a plain one."""
    provisioner = spec.metadata.get("kernel_provisioner") or {}
    if not is_ours(provisioner.get("provisioner_name")):
        return {}
    return dict(provisioner.get("config") or {})


async def _reply(channel: Any, client: Any, timeout: float) -> dict[str, Any]:
    """Send kernel_info_request on ``channel``; its reply's content (TimeoutError if none
    came). A reply not signed with the client's key fails its signature check."""
    request = client.session.msg("kernel_info_request")
    channel.send(request)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            reply = await channel.get_msg(timeout=left)
        except queue.Empty:
            break
        if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            return dict(reply["content"])
    msg = f"the kernel did not answer kernel_info within {timeout:g} s"
    raise TimeoutError(msg)


def _seconds_until(iso_time: str | None) -> int | None:
    if iso_time is None:
        return None
    try:
        moment = datetime.fromisoformat(iso_time.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0, int((moment - datetime.now(timezone.utc)).total_seconds()))
