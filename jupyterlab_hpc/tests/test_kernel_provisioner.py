"""The Slurm kernel provisioner's lifecycle, on the real local cluster, acting as alice."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_hpc.kernels.provisioner import SlurmProvisioner
from jupyterlab_hpc.slurm.errors import InvalidRequest, SlurmError
from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX, as_user
from jupyterlab_hpc.tests.kernel_fixtures import (
    ALICE,
    GRACE_PERIOD,
    HANDOFF_DIR,
    SlurmKernels,
    active_in_queue,
    eventually,
    inbound_blocked,  # noqa: F401 - the fixture inbound_blocked
    kernel_is_dead,
    provisioner_and_job,
    provisioner_of,
    reply_to,
    run_code,
    slurm_kernels_fixture,  # noqa: F401 - the fixture slurm_kernels
    squeue_state,
)

pytestmark = pytest.mark.cluster

BOB = as_user("bob")


async def test_a_kernel_runs_on_a_compute_node_as_the_user(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any]
) -> None:
    manager, client = await slurm_kernels.start()
    provisioner = provisioner_of(manager)

    result = await run_code(
        client,
        "import os, pwd, socket\n"
        "print(socket.gethostname(), os.readlink('/proc/self/ns/net'),"
        " pwd.getpwuid(os.getuid()).pw_name)",
    )

    hostname, network_namespace, user = result["stdout"].split()
    assert hostname in cluster["nodes"]
    assert hostname == provisioner.node
    assert network_namespace != str(Path("/proc/self/ns/net").readlink())
    assert user == "alice"
    assert manager.ip == cluster["nodes"][hostname]  # ZMQ straight to the node
    assert provisioner.job_id is not None
    assert squeue_state(provisioner.job_id) == "RUNNING"


async def test_the_launcher_dials_back_to_a_port_of_the_sites_range(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, client = await slurm_kernels.start({"launcher_ports": "41000-41019"})
    provisioner = provisioner_of(manager)

    assert provisioner.launcher_address is not None
    assert 41000 <= provisioner.launcher_address[1] <= 41019
    assert (await run_code(client, "print(6 * 7)"))["stdout"] == "42\n"


# A kernel environment with ipykernel and nothing of ours, built once per machine.
PLAIN_KERNEL_ENV = Path("/var/tmp/jupyterlab-hpc-plain-kernel-env")


@pytest.fixture
def plain_kernel_python(cluster: dict[str, Any]) -> str:
    """A Python on the nodes with ipykernel but without jupyterlab_hpc: another release's
    root has one (job_python); for the host's cluster one is made once (pip, from PyPI)."""
    if "job_python" in cluster:
        return str(cluster["job_python"])
    python = PLAIN_KERNEL_ENV / "bin" / "python"
    if not (PLAIN_KERNEL_ENV / "ready").exists():
        shutil.rmtree(PLAIN_KERNEL_ENV, ignore_errors=True)
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(PLAIN_KERNEL_ENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "ipykernel>=7.3"]
        subprocess.run(pip, check=True, timeout=600)
        (PLAIN_KERNEL_ENV / "ready").touch()
    return str(python)


async def test_a_kernel_environment_without_jupyterlab_hpc_runs_on_a_node(
    slurm_kernels: SlurmKernels, plain_kernel_python: str
) -> None:
    slurm_kernels.python = plain_kernel_python
    slurm_kernels.prologue = []  # no PYTHONPATH to a checkout either
    probe = [plain_kernel_python, "-c", "import jupyterlab_hpc"]
    assert subprocess.run([*ALICE, *probe], capture_output=True, check=False, cwd="/").returncode

    manager, client = await slurm_kernels.start()
    result = await run_code(
        client,
        "import importlib.util, sys\n"
        "print(importlib.util.find_spec('jupyterlab_hpc') is None, sys.executable)",
    )

    assert result["stdout"].split() == ["True", plain_kernel_python]
    assert provisioner_of(manager).node is not None


async def test_interrupt_and_restart_stay_in_the_job_and_shutdown_ends_it(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, client = await slurm_kernels.start()
    provisioner, job_id = provisioner_and_job(manager)
    await run_code(client, "x = 42")

    # When a long computation is interrupted
    sleeper = client.execute("import time; time.sleep(600)")
    await asyncio.sleep(1.0)
    await manager.interrupt_kernel()
    reply = await reply_to(client, sleeper)

    # Then it stops with KeyboardInterrupt, and the kernel lives on in the same job
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert await manager.is_alive()
    assert (await run_code(client, "print(x)"))["stdout"] == "42\n"
    assert provisioner.job_id == job_id

    # When it is restarted: a new kernel process, in the same job, with a clean namespace
    await manager.restart_kernel()
    await client.wait_for_ready(timeout=60)
    assert provisioner.job_id == job_id
    assert squeue_state(job_id) == "RUNNING"
    assert (await run_code(client, "print('x' in globals())"))["stdout"] == "False\n"

    # When it is shut down, the job ends
    await manager.shutdown_kernel()
    await eventually(lambda: not active_in_queue(job_id), timeout=10)
    assert squeue_state(job_id) in {"COMPLETED", ""}
    assert not (HANDOFF_DIR / f"kernel-{job_id}.log").exists()  # a clean end keeps no log


async def test_the_sites_then_the_users_prologue_run_before_the_kernel(
    slurm_kernels: SlurmKernels,
) -> None:
    tag = uuid.uuid4().hex[:8]
    user_prologue = f".jupyterlab-hpc/prologue-test-{tag}.sh"
    prologue_file = Path("/home/alice") / user_prologue
    prologue_file.write_text('export HPC_TEST_ORDER="$HPC_TEST_ORDER user"\n')
    shutil.chown(prologue_file, "alice", "alice")
    try:
        _, client = await slurm_kernels.start(
            {"prologue": ["export HPC_TEST_ORDER=site"], "user_prologue": user_prologue}
        )
        result = await run_code(client, "import os; print(os.environ['HPC_TEST_ORDER'])")
    finally:
        prologue_file.unlink()

    assert result["stdout"] == "site user\n"


def blocked(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=2).close()
    except TimeoutError:
        return True
    return False


@pytest.mark.usefixtures("inbound_blocked")
async def test_in_reverse_mode_kernel_traffic_rides_the_launchers_connection(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any]
) -> None:
    manager, client = await slurm_kernels.start({"kernel_connection": "reverse"})
    provisioner = provisioner_of(manager)
    assert provisioner.node is not None
    assert blocked(cluster["nodes"][provisioner.node], 22)  # the firewall is really there

    # Inbound connections to the node are dropped and the kernel listens on Unix sockets in
    # the launcher's private directory: every message below travelled inside the launcher's
    # outgoing connection, and from there through the server's own private sockets.
    result = await run_code(
        client,
        "import json, os\n"
        "from ipykernel.connect import get_connection_file\n"
        "info = json.load(open(get_connection_file()))\n"
        "mode = os.stat(os.path.dirname(info['ip'])).st_mode & 0o777\n"
        "print(info['transport'], oct(mode), 'curve_secretkey' in info)",
    )
    assert result["stdout"].split() == ["ipc", "0o700", "True"]
    assert manager.transport == "ipc"  # the server's end of the relay
    relay_dir = Path(manager.ip).parent
    assert relay_dir.stat().st_mode & 0o777 == 0o700

    big = await run_code(client, "print('x' * 3_000_000)")
    assert len(big["stdout"]) == 3_000_001

    sleeper = client.execute("import time; time.sleep(600)")
    await asyncio.sleep(1.0)
    await manager.interrupt_kernel()
    reply = await reply_to(client, sleeper)
    assert reply["content"]["ename"] == "KeyboardInterrupt"

    job_id = provisioner.job_id
    await manager.restart_kernel()
    await client.wait_for_ready(timeout=60)
    assert provisioner.job_id == job_id
    assert (await run_code(client, "print(6 * 7)"))["stdout"] == "42\n"


def through_slurmrestd(cluster: dict[str, Any]) -> dict[str, Any]:
    """SlurmConnection settings for alice's kernels through slurmrestd instead of commands."""
    return {
        "backend": "slurmrestd",
        "rest_url": cluster["rest_url"],
        "rest_user_name": "alice",
        "rest_token_command": [*ALICE, "scontrol", "token", "lifespan=600"],
    }


@pytest.mark.parametrize("kernel_connection", ["direct", "reverse"])
async def test_through_slurmrestd_a_kernel_starts_interrupts_restarts_and_ends_its_job(
    slurm_kernels: SlurmKernels, cluster: dict[str, Any], kernel_connection: str
) -> None:
    manager, client = await slurm_kernels.start(
        {"kernel_connection": kernel_connection}, connection=through_slurmrestd(cluster)
    )
    provisioner, job_id = provisioner_and_job(manager)
    assert provisioner.slurm.name == "slurmrestd"
    result = await run_code(client, "import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name)")
    assert result["stdout"] == "alice\n"
    assert provisioner.node in cluster["nodes"]
    assert squeue_state(job_id) == "RUNNING"

    sleeper = client.execute("import time; time.sleep(600)")
    await asyncio.sleep(1.0)
    await manager.interrupt_kernel()
    assert (await reply_to(client, sleeper))["content"]["ename"] == "KeyboardInterrupt"
    await manager.restart_kernel()
    await client.wait_for_ready(timeout=60)
    assert provisioner.job_id == job_id
    # The job's status as slurmrestd reports it: running on the kernel's node.
    status = await provisioner.slurm.job_status(job_id)
    assert status is not None
    assert (status.state, status.node) == ("RUNNING", provisioner.node)

    await manager.shutdown_kernel()
    await eventually(lambda: squeue_state(job_id) in {"", "COMPLETED", "CANCELLED"}, timeout=30)


async def test_a_restart_asking_for_other_resources_moves_to_a_new_job(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, _ = await slurm_kernels.start()
    provisioner, first_job = provisioner_and_job(manager)

    await manager.restart_kernel(resources={"cpus": 2})

    new_job = provisioner.job_id
    assert new_job not in {None, first_job}
    assert _slurm_output(["squeue", "--noheader", f"--jobs={new_job}", "--format=%C"]) == "2"
    await eventually(lambda: not active_in_queue(first_job), timeout=10)
    # Another node, maybe: clients connect afresh, as jupyter_server's do when ports change.
    client = manager.client()
    client.start_channels()
    slurm_kernels.clients.append(client)
    await client.wait_for_ready(timeout=60)
    assert (await run_code(client, "print(6 * 7)"))["stdout"] == "42\n"


async def test_a_kernel_that_exits_by_itself_restarts_in_its_job(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, client = await slurm_kernels.start()
    provisioner, job_id = provisioner_and_job(manager)

    client.execute("import os; os._exit(3)")
    await eventually(lambda: kernel_is_dead(manager), timeout=10)

    assert provisioner.reason is not None
    assert "exited with code 3" in provisioner.reason
    assert "still running" in provisioner.reason
    await manager.restart_kernel(now=True)
    await client.wait_for_ready(timeout=60)
    assert provisioner.job_id == job_id
    assert (await run_code(client, "print(1 + 1)"))["stdout"] == "2\n"


async def test_a_job_cancelled_outside_jupyter_reports_the_kernel_dead_with_the_reason(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, _ = await slurm_kernels.start()
    provisioner, job_id = provisioner_and_job(manager)

    subprocess.run([*ALICE, "scancel", job_id], check=True)

    await eventually(lambda: kernel_is_dead(manager), timeout=15)
    assert provisioner.reason is not None
    assert "cancelled" in provisioner.reason
    assert job_id in provisioner.reason
    assert provisioner.job_status is not None
    assert provisioner.job_status.state == "CANCELLED"
    await manager.shutdown_kernel(now=True)


async def test_a_provisioner_restored_from_its_info_polls_interrupts_and_ends_the_job(
    slurm_kernels: SlurmKernels,
) -> None:
    manager, client = await slurm_kernels.start()
    info = await provisioner_of(manager).get_provisioner_info()
    job_id = info["job_id"]
    # Another server process takes over from persisted state (no launcher connection).
    restored = SlurmProvisioner(config=slurm_kernels.config())
    await restored.load_provisioner_info(json.loads(json.dumps(info, default=str)))

    assert restored.has_process
    assert await restored.poll() is None
    sleeper = client.execute("import time; time.sleep(600)")
    await asyncio.sleep(1.0)
    await restored.send_signal(signal.SIGINT)  # through Slurm to the launcher, to the kernel
    reply = await reply_to(client, sleeper)
    assert reply["content"]["ename"] == "KeyboardInterrupt"

    await restored.cleanup()

    await eventually(lambda: not active_in_queue(job_id), timeout=10)


_SECRET_SHAPED_ENVIRONMENT = {
    "OPENAI_API_KEY": "sk-test-openai",
    "GITHUB_PAT": "ghp-test-pat",
    "DB_PASS": "test-db-pass",
    "AWS_SECRET_ACCESS_KEY": "test-aws-secret",
    "JUPYTERHUB_API_TOKEN": "test-hub-token",
    "my_service_token": "test-lowercase-token",
}


async def test_the_kernels_keys_and_the_servers_secrets_are_visible_to_no_other_user(
    slurm_kernels: SlurmKernels, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _SECRET_SHAPED_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HPC_TEST_PLAIN_SETTING", "reaches-the-job")
    manager, client = await slurm_kernels.start()
    provisioner, job_id = provisioner_and_job(manager)
    secrets = [
        manager.session.key.decode(),
        (manager.curve_secretkey or b"").decode(),
        *_SECRET_SHAPED_ENVIRONMENT.values(),
    ]

    # slurmdbd records the job's environment a moment after the job starts.
    environment = ["sacct", "--jobs", job_id, "--env-vars"]
    await eventually(lambda: "HPC_TEST_PLAIN_SETTING" in _slurm_output(environment), timeout=30)

    seen_by_bob = [
        _output([*BOB, "scontrol", "show", "job", "-d", job_id]),
        _output([*BOB, "squeue", "--jobs", job_id, "--format=%all"]),
        _output([*BOB, "sacct", "--jobs", job_id, "--long", "--parsable2"]),
        _output([*BOB, "sacct", "--jobs", job_id, "--batch-script"]),
        _output([*BOB, *environment]),
        _output([*BOB, "ps", "-eo", "args"]),  # every command line, the kernel's included
    ]
    # What Slurm stores (the batch script, the job's environment), even as admin.
    stored = [
        _slurm_output(["scontrol", "write", "batch_script", job_id, "-"]),
        _slurm_output(["sacct", "--jobs", job_id, "--batch-script"]),
        _slurm_output(environment),
    ]

    assert job_id in seen_by_bob[0]
    assert ".jupyterlab-hpc/kernels/launcher-" in stored[0]
    assert "HPC_TEST_PLAIN_SETTING=reaches-the-job" in stored[2]  # the job's environment
    for output in seen_by_bob + stored:
        for secret in secrets:
            assert secret not in output
    kernel_environment = await run_code(client, "import os; print(sorted(os.environ))")
    for name in _SECRET_SHAPED_ENVIRONMENT:
        assert repr(name) not in kernel_environment["stdout"]
    # The secrets file was read once and removed.
    assert not (HANDOFF_DIR / f"{provisioner.kernel_id}.json").exists()


async def test_a_killed_server_leaves_no_job_past_the_grace_period(
    slurm_kernels: SlurmKernels, tmp_path: Path
) -> None:
    config = slurm_kernels.config()
    sections = {name: dict(config[name]) for name in ("SlurmConnection", "SlurmProvisioner")}
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER_THAT_STARTS_A_KERNEL, json.dumps(sections)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert server.stdout is not None
        job_id = server.stdout.readline().strip()
        assert job_id.isdigit(), job_id
        assert squeue_state(job_id) == "RUNNING"

        server.send_signal(signal.SIGKILL)
        server.wait()
        killed_at = time.monotonic()

        await eventually(lambda: not active_in_queue(job_id), timeout=GRACE_PERIOD + 10)
        assert time.monotonic() - killed_at >= GRACE_PERIOD - 1  # the launcher did wait
    finally:
        server.kill()
        server.wait()


async def test_cancelling_a_queued_start_cancels_the_job(slurm_kernels: SlurmKernels) -> None:
    manager = slurm_kernels.manager()
    # debug allows 30 minutes: the job queues (a Partition... reason) and never starts.
    start = asyncio.ensure_future(
        manager.start_kernel(cwd="/tmp", resources={"partition": "debug", "time": "45"})
    )
    try:
        await eventually(lambda: _queued(manager), timeout=15)
        provisioner = provisioner_of(manager)
        status = provisioner.job_status
        assert status is not None
        assert (status.reason or "").startswith("Partition")
        assert status.reason_text
        job_id = status.job_id
    finally:
        start.cancel()
    with pytest.raises(asyncio.CancelledError):
        await start

    await eventually(lambda: not active_in_queue(job_id), timeout=10)
    assert squeue_state(job_id) == "CANCELLED"
    assert not (HANDOFF_DIR / f"{provisioner.kernel_id}.json").exists()


async def test_bad_resources_are_refused_before_anything_is_submitted(
    slurm_kernels: SlurmKernels,
) -> None:
    manager = slurm_kernels.manager()

    with pytest.raises(InvalidRequest, match="partition"):
        await manager.start_kernel(resources={"partition": "debug;touch /tmp/pwned"})

    assert _slurm_output(["squeue", "--noheader", f"--name={slurm_kernels.job_name}"]) == ""
    assert _slurm_output(["sacct", "--noheader", f"--name={slurm_kernels.job_name}"]) == ""


async def test_slurms_refusal_reaches_the_caller_in_its_own_words(
    slurm_kernels: SlurmKernels,
) -> None:
    manager = slurm_kernels.manager()

    with pytest.raises(SlurmError, match="Invalid account"):
        await manager.start_kernel(resources={"account": "no_such_account"})

    assert _slurm_output(["squeue", "--noheader", f"--name={slurm_kernels.job_name}"]) == ""


def _queued(manager: Any) -> bool:
    provisioner = manager.provisioner
    status = getattr(provisioner, "job_status", None)
    return status is not None and status.pending


def _output(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()


def _slurm_output(argv: list[str]) -> str:
    """A Slurm command's output, as root, with the cluster's Slurm (its release's, if another)."""
    return _output([*CLUSTER_PREFIX, *argv])


# A stand-in for a Jupyter server: starts a kernel, prints its job id, waits to be killed.
_SERVER_THAT_STARTS_A_KERNEL = """
import asyncio, json, sys
from jupyter_client.manager import AsyncKernelManager
from traitlets.config import Config
from jupyterlab_hpc.tests.kernel_fixtures import KERNEL_NAME

async def main():
    config = Config(json.loads(sys.argv[1]))
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME, config=config)
    await manager.start_kernel(cwd="/tmp")
    print(manager.provisioner.job_id, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""
