"""The Slurm kernel's parts that need no cluster: channel, resources, batch script, secrets."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import zmq
from jupyter_client.provisioning.factory import KernelProvisionerFactory

from jupyterlab_hpc.kernels import handoff
from jupyterlab_hpc.kernels.batch_script import KernelJob
from jupyterlab_hpc.kernels.channel import (
    Channel,
    ChannelClosed,
    ChannelRefused,
    accept_channel,
    open_channel,
)
from jupyterlab_hpc.kernels.kernelspec import main as kernelspec_main
from jupyterlab_hpc.kernels.launcher import free_ports
from jupyterlab_hpc.kernels.launcher_app import launcher_app
from jupyterlab_hpc.kernels.launcher_link import MAX_HANDSHAKES, LauncherLink
from jupyterlab_hpc.kernels.provisioner import SlurmProvisioner, port_range
from jupyterlab_hpc.kernels.resources import JobResources
from jupyterlab_hpc.kernels.zmtp import socket_mechanism
from jupyterlab_hpc.services.kernel_resources import (
    ResourceLimits,
    checked_resources,
    parse_resources,
)
from jupyterlab_hpc.slurm.commands.job_status import parse_status
from jupyterlab_hpc.slurm.errors import InvalidRequest

TOKEN = b"t" * 32


async def _connected_pair(
    server_token: bytes = TOKEN, launcher_token: bytes = TOKEN
) -> tuple[Channel, Channel]:
    accepted: asyncio.Future[Channel] = asyncio.get_running_loop().create_future()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            accepted.set_result(await accept_channel(reader, writer, server_token))
        except ChannelRefused as error:
            accepted.set_exception(error)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    launcher = await open_channel("127.0.0.1", port, launcher_token)
    return await accepted, launcher


async def test_messages_cross_the_channel_both_ways_in_order() -> None:
    server, launcher = await _connected_pair()

    await launcher.send({"type": "hello", "n": 1})
    await launcher.send({"type": "hello", "n": 2})
    await server.send({"type": "start", "argv": ["python"]})

    assert await server.receive() == {"type": "hello", "n": 1}
    assert await server.receive() == {"type": "hello", "n": 2}
    assert await launcher.receive() == {"type": "start", "argv": ["python"]}


async def test_data_frames_carry_a_streams_raw_bytes() -> None:
    server, launcher = await _connected_pair()
    payload = bytes(range(256)) * 1000

    await server.send_data(7, payload)
    await server.send({"type": "close", "stream": 7})

    assert await launcher.receive() == {"type": "data", "stream": 7, "data": payload}
    assert await launcher.receive() == {"type": "close", "stream": 7}


async def test_a_launcher_without_the_token_is_refused() -> None:
    with pytest.raises(ChannelRefused):
        await _connected_pair(launcher_token=b"x" * 32)


async def test_a_tampered_frame_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    server, launcher = await _connected_pair()
    writer = launcher._writer
    write = writer.write

    def tamper(data: bytes) -> None:
        write(data[:-2] + bytes([data[-2] ^ 1]) + data[-1:])

    monkeypatch.setattr(writer, "write", tamper)
    await launcher.send({"type": "signal", "signum": 2})

    with pytest.raises(ChannelRefused, match="authentication"):
        await server.receive()


async def test_strangers_holding_the_launcher_port_cannot_lock_the_launcher_out() -> None:
    link = LauncherLink(TOKEN, heartbeat_interval=60, log=logging.getLogger("test"))
    await link.listen("127.0.0.1")
    strangers = [await asyncio.open_connection(*link.address) for _ in range(MAX_HANDSHAKES + 5)]

    launcher = await open_channel(*link.address, TOKEN)
    await launcher.send({"type": "hello", "hostname": "n1"})
    await asyncio.wait_for(link.wait_connected(), 5)

    # The oldest strangers were let go to make room; the server holds at most the cap.
    ends = await asyncio.gather(*(reader.read(1) for reader, _ in strangers[:6]))
    assert ends == [b""] * 6
    for _, writer in strangers:
        writer.close()
    launcher.close()
    await link.close()


@pytest.mark.parametrize("encrypted", [True, False])
async def test_the_launcher_tells_an_encrypting_zmq_socket_from_a_plain_one(
    encrypted: bool,  # noqa: FBT001
) -> None:
    context = zmq.Context()
    kernel_socket = context.socket(zmq.ROUTER)
    if encrypted:
        public, secret = zmq.curve_keypair()
        kernel_socket.curve_publickey, kernel_socket.curve_secretkey = public, secret
        kernel_socket.curve_server = True
    port = kernel_socket.bind_to_random_port("tcp://127.0.0.1")
    try:
        connection = await asyncio.open_connection("127.0.0.1", port)
        mechanism = await socket_mechanism(*connection, timeout=5)
    finally:
        kernel_socket.close(linger=0)
        context.term()

    assert mechanism == ("CURVE" if encrypted else "NULL")


async def test_a_closed_connection_is_reported_as_closed() -> None:
    server, launcher = await _connected_pair()

    launcher.close()

    with pytest.raises(ChannelClosed):
        await server.receive()


def test_resources_become_sbatch_options() -> None:
    values: dict[str, object] = {
        "partition": "compute", "account": "proj1", "time": 5400, "cpus": "4", "memory_mb": 2000,
        "gpus": "a100:2", "qos": "high", "constraint": "skylake&ib", "reservation": "maint",
    }  # fmt: skip

    options = JobResources.from_mapping(values).sbatch_options()

    assert options == [
        "--nodes=1", "--ntasks=1", "--partition=compute", "--account=proj1", "--qos=high",
        "--reservation=maint", "--time=0-01:30:00", "--cpus-per-task=4", "--mem=2000M",
        "--gres=gpu:a100:2", "--constraint=skylake&ib",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("time", "seconds"),
    [(3600, 3600), ("90", 5400), ("1:30:00", 5400), ("2-12", 216000), ("45:30", 2730)],
)
def test_time_is_seconds_inside_and_slurm_text_is_read_as_sbatch_reads_it(
    time: object, seconds: int
) -> None:
    assert JobResources.from_mapping({"time": time}).time == seconds
    assert JobResources.from_mapping({"time": time}).to_json() == {"time": seconds}


def test_launch_resources_override_the_kernelspecs_key_by_key() -> None:
    kernelspec = JobResources.from_mapping({"partition": "compute", "cpus": 4})
    launch = JobResources.from_mapping({"cpus": 2, "gpus": 0})

    merged = kernelspec.merged(launch)

    assert merged.partition == "compute"
    assert merged.cpus == 2
    assert "--gres" not in " ".join(merged.sbatch_options())  # no GPUs asked for


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"partition": "debug;rm -rf /"}, "partition"),
        ({"account": "proj 1"}, "account"),
        ({"cpus": 0}, "cpus"),
        ({"cpus": True}, "cpus"),
        ({"memory_mb": "lots"}, "memory_mb"),
        ({"time": "1h"}, "time limit"),
        ({"time": 59}, "time must be a whole number from 60"),
        ({"gpus": "2;reboot"}, "GPU"),
        ({"constraint": "$(id)"}, "constraint"),
        ({"nodes": 4}, "Unknown resource"),
    ],
)
def test_bad_resources_are_refused_with_a_clear_message(
    values: dict[str, object], complaint: str
) -> None:
    with pytest.raises(InvalidRequest, match=complaint):
        JobResources.from_mapping(values)


def a_kernel_job(**changes: Any) -> KernelJob:
    """A kernel's job as the provisioner makes one, with ``changes``."""
    job = KernelJob(
        resources=JobResources(partition="compute"),
        job_name="jupyter-kernel",
        log_file="/home/alice/.jupyterlab-hpc/kernels/kernel-%j.log",
        work_dir="/home/alice/notebooks",
        walltime_warning=300,
        python="/opt/python/bin/python3",
        launcher="/home/alice/.jupyterlab-hpc/kernels/launcher-0123456789abcdef.pyz",
        server=("10.201.0.1", 40123),
        handoff_file="/home/alice/.jupyterlab-hpc/kernels/abc.json",
        grace_period=60,
        heartbeat_interval=5,
        prologue=("module load python",),
        user_prologue=".jupyterlab-hpc/prologue.sh",
    )
    return dataclasses.replace(job, **changes)


def test_the_batch_script_carries_no_secret_and_execs_the_launcher() -> None:
    job = a_kernel_job()

    script = job.script()

    assert script.startswith("#!/bin/sh\n")
    assert (
        "module load python\n"
        'if [ -r "$HOME"/.jupyterlab-hpc/prologue.sh ]; '
        'then . "$HOME"/.jupyterlab-hpc/prologue.sh; fi\n'
        "exec /opt/python/bin/python3 "
        "/home/alice/.jupyterlab-hpc/kernels/launcher-0123456789abcdef.pyz --server"
    ) in script
    assert "--server 10.201.0.1:40123" in script
    assert "--handoff /home/alice/.jupyterlab-hpc/kernels/abc.json" in script
    options = job.sbatch_options()
    assert "--no-requeue" in options
    assert "--signal=B:USR1@300" in options
    assert "--chdir=/home/alice/notebooks" in options
    assert "--partition=compute" in options


def test_secrets_are_read_once_from_a_file_only_the_user_can_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handoff, "handoff_directory", lambda: tmp_path)

    path = handoff.write_secrets("kernel.json", {"token": "00", "key": "k"})

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert handoff.read_secrets_once(path) == {"token": "00", "key": "k"}
    assert not path.exists()


def test_a_secrets_file_others_could_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kernel.json"
    path.write_text(json.dumps({"token": "00"}))
    path.chmod(0o644)

    with pytest.raises(PermissionError, match="readable by nobody else"):
        handoff.read_secrets_once(path)


def test_a_restart_keeps_the_kernels_ports_when_they_are_free() -> None:
    first = free_ports("127.0.0.1", {})

    again = free_ports("127.0.0.1", first)

    assert again == first
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first["shell_port"]))
        taken.listen()
        assert free_ports("127.0.0.1", first)["shell_port"] != first["shell_port"]


# Lines as Slurm 22.05 printed them on the local cluster (squeue, then sacct).
@pytest.mark.parametrize(
    ("line", "state", "reason", "node", "pending"),
    [
        ("PENDING\x1fPartitionTimeLimit\x1f\x1fN/A\x1fN/A", "PENDING", "PartitionTimeLimit",
         None, True),
        ("RUNNING\x1fNone\x1fn1\x1f2026-11-22T03:40:40\x1f2026-11-22T04:40:40", "RUNNING",
         None, "n1", False),
        ("CANCELLED by 1001\x1fNone\x1fn1\x1f2026-11-22T03:40:40\x1f2026-11-22T03:40:43",
         "CANCELLED", None, "n1", False),
        ("TIMEOUT\x1fTimeLimit\x1fn1\x1f2026-11-22T03:40:45\x1f2026-11-22T03:41:45", "TIMEOUT",
         "TimeLimit", "n1", False),
    ],
)  # fmt: skip
def test_job_status_is_read_from_squeue_and_sacct_lines(
    line: str, state: str, reason: str | None, node: str | None, *, pending: bool
) -> None:
    status = parse_status("166", line + "\n", "\x1f")

    assert status is not None
    assert (status.state, status.reason, status.node, status.pending) == (
        state, reason, node, pending
    )  # fmt: skip
    assert status.finished == (state in {"CANCELLED", "TIMEOUT"})


def test_an_ended_job_explains_the_kernels_death_in_words() -> None:
    status = parse_status("166", "TIMEOUT\x1fTimeLimit\x1fn1\x1fN/A\x1fN/A\n", "\x1f")

    assert status is not None
    assert status.ended_reason() == (
        "The kernel is dead: its job reached its time limit (Slurm job 166, TIMEOUT)."
    )


def test_the_kernelspec_cli_writes_a_kernelspec_for_the_provisioner(tmp_path: Path) -> None:
    exit_code = kernelspec_main(
        ["install", "--name", "python3-compute", "--display-name",
         "Python 3 (compute node, 4 cores, 1 h)", "--partition", "compute", "--cpus", "4",
         "--time", "1:00:00", "--prefix", str(tmp_path)]
    )  # fmt: skip

    assert exit_code == 0
    kernel_dir = tmp_path / "share" / "jupyter" / "kernels" / "python3-compute"
    spec = json.loads((kernel_dir / "kernel.json").read_text())
    assert spec["display_name"] == "Python 3 (compute node, 4 cores, 1 h)"
    assert spec["metadata"]["kernel_provisioner"] == {
        "provisioner_name": "hpc-slurm",
        "config": {"resources": {"partition": "compute", "time": 3600, "cpus": 4}},
    }
    assert "{connection_file}" in spec["argv"]
    assert spec["metadata"]["supported_encryption"] == ["curve"]  # ipykernel's, kept
    assert any(path.name.startswith("logo") for path in kernel_dir.iterdir())


def test_the_kernelspec_cli_refuses_bad_resources_and_installs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = kernelspec_main(
        ["install", "--name", "bad", "--partition", "a;b", "--prefix", str(tmp_path)]
    )

    assert exit_code == 1
    assert "Not a valid partition name" in capsys.readouterr().err
    assert not (tmp_path / "share").exists()


def test_the_provisioner_is_registered_under_its_entry_point() -> None:
    entry_point = KernelProvisionerFactory.instance().provisioners["hpc-slurm"]

    assert entry_point.load() is SlurmProvisioner


def test_settings_may_write_slurm_time_and_reach_the_browser_in_seconds() -> None:
    limits = ResourceLimits(max_time=7200)

    assert checked_resources({"time": "1:00:00", "gpus": 2}, limits) == {"time": 3600, "gpus": 2}
    with pytest.raises(InvalidRequest, match="time must be at most 7200"):
        checked_resources({"time": "3:00:00"}, limits)
    with pytest.raises(InvalidRequest, match="time must be a whole number"):
        parse_resources({"time": "1:00:00"}, limits)  # the REST API takes seconds only


@pytest.mark.parametrize(
    ("walltime_warning", "time", "signal_option"),
    [
        (300, None, "--signal=B:USR1@300"),  # Slurm's default limit: not known here
        (300, 7200, "--signal=B:USR1@300"),
        (300, 300, "--signal=B:USR1@60"),  # a 5 min job is not warned at its start
        (0, 7200, None),
    ],
)
def test_the_time_limit_warning_comes_at_most_a_fifth_of_the_limit_before_it(
    walltime_warning: int, time: int | None, signal_option: str | None
) -> None:
    job = a_kernel_job(
        resources=JobResources(partition="compute", time=time), walltime_warning=walltime_warning
    )

    signals = [option for option in job.sbatch_options() if option.startswith("--signal")]
    assert signals == ([signal_option] if signal_option else [])


@pytest.mark.parametrize(
    ("text", "ports"),
    [("", None), ("40000-40099", range(40000, 40100)), ("40000", range(40000, 40001))],
)
def test_launcher_ports_read_as_a_range(text: str, ports: range | None) -> None:
    assert port_range(text) == ports


@pytest.mark.parametrize("text", ["40000-", "a-b", "0-10", "40010-40000", "70000"])
def test_launcher_ports_that_are_no_range_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequest, match="launcher_ports"):
        port_range(text)


async def test_the_launcher_link_takes_the_first_free_port_of_its_range() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        first = taken.getsockname()[1]
        log = logging.getLogger("test")
        link = LauncherLink(b"t" * 32, heartbeat_interval=5.0, log=log)
        full = LauncherLink(b"t" * 32, heartbeat_interval=5.0, log=log)
        try:
            await link.listen("127.0.0.1", range(first, first + 2))
            with pytest.raises(OSError, match=f"Every launcher port {first}-{first + 1}"):
                await full.listen("127.0.0.1", range(first, first + 2))
        finally:
            await link.close()

    assert link.address == ("127.0.0.1", first + 1)


def test_the_launcher_app_runs_without_the_package_and_its_name_follows_its_content(
    tmp_path: Path,
) -> None:
    name, content = launcher_app()
    app = tmp_path / name
    app.write_bytes(content)

    # -I -S: no environment, no current directory, no site-packages: no jupyterlab_hpc but
    # the app's own.
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(app), "--help"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "--handoff" in result.stdout
    assert launcher_app() == (name, content)
    assert re.fullmatch(r"launcher-[0-9a-f]{16}\.pyz", name)


def test_the_launcher_app_is_written_once_and_privately(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handoff, "handoff_directory", lambda: tmp_path)

    first = handoff.write_once("launcher-x.pyz", b"zip")
    again = handoff.write_once("launcher-x.pyz", b"other")

    assert first == again == tmp_path / "launcher-x.pyz"
    assert first.read_bytes() == b"zip"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["launcher-x.pyz"]
