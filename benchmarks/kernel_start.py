"""Kernel start, restart and interrupt: a kernel in a Slurm job next to a local one.

    .venv/bin/python benchmarks/kernel_start.py [--runs 10] [--partition compute]
                                               [--as-user alice]

Both kernelspecs run the same argv (this venv's ipykernel); only the provisioner differs.
- start: start_kernel() until the kernel answers kernel_info (ready), from a cold start;
- restart: restart_kernel() until ready (the Slurm kernel restarts inside its job);
- interrupt: interrupt_kernel() during time.sleep() until the KeyboardInterrupt reply.
Local and Slurm runs alternate, so both see the same machine and cluster load. Slurm starts
are broken down with the provisioner's startup_timeline.

--as-user: when run as root, reach Slurm as this user (runuser), as the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets.config import Config

from jupyterlab_hpc.kernels.kernelspec import slurm_kernel_json
from jupyterlab_hpc.kernels.provisioner import SlurmProvisioner
from jupyterlab_hpc.kernels.resources import JobResources

LOCAL, SLURM = "local", "slurm"
STEPS = (
    ("requested", "submitted", "secrets file + sbatch"),
    ("submitted", "job_started", "Slurm schedules and starts the job"),
    ("job_started", "launcher_connected", "launcher: Python, imports, dial-out"),
    ("launcher_connected", "kernel_started", "kernel process spawned"),
    ("kernel_started", "ready", "kernel imports, first kernel_info"),
)


def write_kernelspecs(root: Path, resources: JobResources) -> None:
    base = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3",
        "language": "python",
        "interrupt_mode": "signal",
        # As ipykernel's own kernelspec: the Slurm kernel then encrypts (CurveZMQ), as it
        # must; the local one does not (jupyter_server's default for local kernels).
        "metadata": {"supported_encryption": ["curve"]},
    }
    specs = {LOCAL: base, SLURM: slurm_kernel_json(base, "Python 3 (Slurm)", resources)}
    for name, spec in specs.items():
        directory = root / "share" / "jupyter" / "kernels" / name
        directory.mkdir(parents=True)
        (directory / "kernel.json").write_text(json.dumps(spec))


class Bench:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.samples: dict[str, dict[str, list[float]]] = {}
        self.steps: dict[str, list[float]] = {label: [] for *_, label in STEPS}

    def record(self, measure: str, kind: str, seconds: float) -> None:
        self.samples.setdefault(measure, {LOCAL: [], SLURM: []})[kind].append(seconds)

    async def started(self, kind: str) -> tuple[AsyncKernelManager, Any, float]:
        manager = AsyncKernelManager(kernel_name=kind, config=self.config)
        began = time.perf_counter()
        await manager.start_kernel(cwd=tempfile.gettempdir())
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=120)
        seconds = time.perf_counter() - began
        if isinstance(manager.provisioner, SlurmProvisioner):
            timeline = {**manager.provisioner.startup_timeline, "ready": time.time()}
            for start, end, label in STEPS:
                self.steps[label].append(timeline[end] - timeline[start])
        return manager, client, seconds

    async def starts(self, runs: int) -> None:
        for _ in range(runs):
            for kind in (LOCAL, SLURM):
                manager, client, seconds = await self.started(kind)
                self.record("start (request -> ready)", kind, seconds)
                client.stop_channels()
                await manager.shutdown_kernel()

    async def restarts_and_interrupts(self, runs: int) -> None:
        kernels = {kind: await self.started(kind) for kind in (LOCAL, SLURM)}
        for _ in range(runs):
            for kind, (manager, client, _) in kernels.items():
                began = time.perf_counter()
                await manager.restart_kernel()
                await client.wait_for_ready(timeout=120)
                self.record("restart (request -> ready)", kind, time.perf_counter() - began)
        for _ in range(runs):
            for kind, (manager, client, _) in kernels.items():
                seconds = await interrupt_latency(manager, client)
                self.record("interrupt (request -> KeyboardInterrupt reply)", kind, seconds)
        for manager, client, _ in kernels.values():
            client.stop_channels()
            await manager.shutdown_kernel()


async def interrupt_latency(manager: AsyncKernelManager, client: Any) -> float:
    message_id = client.execute("import time; print('sleeping', flush=True); time.sleep(30)")
    await sleeping(client, message_id)  # interrupt the sleep, not the start of the execution
    began = time.perf_counter()
    await manager.interrupt_kernel()
    while True:
        reply = await client.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == message_id:
            break
    seconds = time.perf_counter() - began
    if reply["content"].get("ename") != "KeyboardInterrupt":
        msg = f"interrupt did not interrupt: {reply['content']}"
        raise RuntimeError(msg)
    return seconds


async def sleeping(client: Any, message_id: str) -> None:
    """Until iopub shows the code printing that it goes to sleep."""
    while True:
        message = await client.get_iopub_msg(timeout=30)
        if (
            message["parent_header"].get("msg_id") == message_id
            and message["msg_type"] == "stream"
            and "sleeping" in message["content"]["text"]
        ):
            return


def summary(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return (
        f"{statistics.median(values):.3f} | {quartiles[0]:.3f}-{quartiles[2]:.3f} | "
        f"{min(values):.3f}-{max(values):.3f}"
    )


def report(bench: Bench, arguments: argparse.Namespace) -> str:
    lines = [
        f"runs per cell: {arguments.runs}; partition {arguments.partition}; seconds",
        "",
        "| measure | kernel | median | IQR | min-max |",
        "| --- | --- | --- | --- | --- |",
    ]
    for measure, kinds in bench.samples.items():
        for kind, values in kinds.items():
            lines.append(f"| {measure} | {kind} | {summary(values)} |")
        overhead = statistics.median(kinds[SLURM]) - statistics.median(kinds[LOCAL])
        ratio = statistics.median(kinds[SLURM]) / statistics.median(kinds[LOCAL])
        lines.append(f"| {measure} | slurm - local | {overhead:+.3f} (x{ratio:.2f}) | | |")
    lines += ["", "Slurm start, step by step:", "", "| step | median | IQR | min-max |"]
    lines.append("| --- | --- | --- | --- |")
    lines += [f"| {label} | {summary(values)} |" for label, values in bench.steps.items()]
    return "\n".join(lines)


async def main(arguments: argparse.Namespace) -> None:
    bench = Bench(
        Config(
            {
                "SlurmConnection": {
                    "command_prefix": ["runuser", "-u", arguments.as_user, "--"]
                    if arguments.as_user and os.getuid() == 0
                    else []
                },
                "SlurmProvisioner": {
                    "walltime_warning": 0,
                    "job_name": "kernel-benchmark",
                },
            }
        )
    )
    await bench.starts(arguments.runs)
    await bench.restarts_and_interrupts(arguments.runs)
    print(report(bench, arguments))


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--partition", default="compute")
    parser.add_argument("--as-user", default="alice")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_arguments()
    with tempfile.TemporaryDirectory(prefix="kernel-bench-") as scratch:
        root = Path(scratch)
        root.chmod(0o755)  # the job runs as another user and reads the kernelspecs here
        write_kernelspecs(root, JobResources(partition=arguments.partition, time="10"))
        os.environ["JUPYTER_PATH"] = str(root / "share" / "jupyter")
        os.environ["JUPYTER_RUNTIME_DIR"] = str(root / "runtime")
        asyncio.run(main(arguments))
