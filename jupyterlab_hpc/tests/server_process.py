"""A real Jupyter server with the extension, in a process of its own, for the scripts that
load it from outside (the fuzzer, fuzz/, and the benchmarks/) and for the tests that kill
one (``ServerProcess``); the other tests run theirs in-process, through pytest-jupyter. And
the site service (``jupyter hpc-site``), which always runs in a process of its own.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def jupyter_server_process(workdir: Path, config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``python -m jupyter_server`` with the extension on a free loopback port with a fresh
    token, configured by ``config`` (traitlets sections) beside that; its URL and token.
    Its configuration (with the token, 0600), runtime files and log (``server.log``) live in
    ``workdir``."""
    token, port = secrets.token_hex(16), free_port()
    server_app = {
        "port": port,
        "ip": "127.0.0.1",
        "token": token,
        "open_browser": False,
        "allow_root": True,
        "jpserver_extensions": {"jupyterlab_hpc": True},
        **config.get("ServerApp", {}),
    }
    # The token is in the config file, readable by root only, not on the server's command line.
    write_private(
        workdir / "jupyter_server_config.json", json.dumps({**config, "ServerApp": server_app})
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
    }
    with (workdir / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server"], env=env, stdout=log, stderr=log
        )
    try:
        wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        server.wait(timeout=60)


@contextmanager
def site_service_process(
    workdir: Path, config: dict[str, Any], port: int | None = None
) -> Iterator[str]:
    """``jupyter hpc-site`` on a loopback port (free, unless given), configured by ``config``
    (traitlets sections, in ``workdir``); its URL. Its log is ``workdir/site.log``."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    site_app = {"bind_url": url, **config.get("HPCSiteApp", {})}
    (workdir / "jupyter_hpc_site_config.json").write_text(
        json.dumps({**config, "HPCSiteApp": site_app})
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
    }
    with (workdir / "site.log").open("a") as log:
        service = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab_hpc.site.app"], env=env, stdout=log, stderr=log
        )
    try:
        wait_for_port(port, service)
        yield url
    finally:
        service.terminate()
        service.wait(timeout=60)


def write_private(path: Path, text: str) -> None:
    """``text`` in a new file ``path`` that only its owner can read, from its first byte."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    msg = f"the server did not listen on {port} within {timeout} s (see its log)"
    raise RuntimeError(msg)


class ServerProcess:
    """``jupyter server`` with the extension as a real process (so that a test can SIGKILL
    it), reaching Slurm as alice, its kernel records in ``directory``/state and its runtime
    files in ``directory``/runtime: a second one on the same directory is its successor."""

    def __init__(self, directory: Path, root: Path, provisioner: dict[str, Any]) -> None:
        from jupyterlab_hpc.tests.conftest import SERVER_USER, as_user  # noqa: PLC0415

        self.port = free_port()
        self.token = secrets.token_hex(16)
        config = {
            "ServerApp": {
                "jpserver_extensions": {"jupyterlab_hpc": True},
                "allow_root": True,
                "open_browser": False,
                "port": self.port,
                "ip": "127.0.0.1",
                "root_dir": str(root),
            },
            "IdentityProvider": {"token": self.token},
            "SlurmConnection": {"command_prefix": as_user(SERVER_USER)},
            "SlurmProvisioner": provisioner,
            "RemoteKernels": {"state_dir": str(directory / "state")},
        }
        config_file = directory / f"config-{self.port}.json"
        write_private(config_file, json.dumps(config))
        self.log_file = directory / f"server-{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config_file}"],
            env={**os.environ, "JUPYTER_RUNTIME_DIR": str(directory / "runtime")},
            stdout=subprocess.DEVNULL,
            stderr=self.log_file.open("w"),
        )
        deadline = time.monotonic() + 30
        while not self._answers():
            assert self.process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not answer within 30 s"
            time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self) -> bool:
        try:
            self.request("api/status")
        except (urllib.error.URLError, ConnectionError):
            return False
        return True

    def request(self, path: str, method: str = "GET", body: Any = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.url}/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            text = response.read()
        return json.loads(text) if text else None

    def ready_remote_kernel(self) -> dict[str, Any]:
        """A remote kernel started through ``/hpc/kernels``, once it is ready (its record)."""
        kernel_id = self.request("hpc/kernels", "POST", {"kernel_name": "python3"})["id"]
        deadline = time.monotonic() + 60
        while (kernel := self.request(f"hpc/kernels/{kernel_id}"))["state"] != "ready":
            assert kernel["state"] in {"queued", "starting"}, kernel
            assert time.monotonic() < deadline, "the kernel was not ready within 60 s"
            time.sleep(0.2)
        return dict(kernel)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no clean-up, as the OOM killer ends a server."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
