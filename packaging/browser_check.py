"""`python -m jupyterlab.browser_check` with Debian's chromium, no node (the wheel lane's (b)).

jupyterlab.browser_check's own browser step needs node, npm and npx (`npm install playwright`,
`npx playwright install chromium`, a download from Playwright's CDN, then `node
browser-test.js`, whose launch() cannot be given /usr/bin/chromium). This runs browser_check's
server unchanged (its BrowserApp: page config browserTest, every error the server logs fails
the check) and replaces only that browser step: Debian's chromium, headless, driven over the
DevTools protocol with websocket-client (a jupyter_server dependency), reads what
browser-test.js reads (#browserTest: the errors of the page once JupyterLab is restored) and
also that jupyterlab-hpc's remote entry loaded and its sidebar is in the page.

No cluster here (the lane must not depend on it): Slurm's commands run through a prefix that
answers what the page asks at start (scontrol show config, assoc_mgr, reservations; id) with
Slurm 22.05's captured output from the checkout's tests, as user alice, and fails any other.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

# ruff: noqa: T201 - a command-line script: it prints
import websocket
from jupyterlab import browser_check

CHROMIUM = os.environ.get("HPC_CHROMIUM_PATH", "/usr/bin/chromium")
TIMEOUT = 120.0
# Once JupyterLab is restored (or 25 s later) #browserTest has the class 'completed' and the
# page's errors (window.onerror, console.error) as JSON.
PAGE_STATE = """(() => {
  const el = document.querySelector('#browserTest');
  if (!el || el.className !== 'completed') return null;
  return {errors: JSON.parse(el.textContent || '[]'),
          federated: Object.keys(window._JUPYTERLAB || {}),
          sidebar: !!document.querySelector('#jp-hpc-sidebar'),
          widgets: [...document.querySelectorAll('[id^="jp-hpc"], [class*="jp-hpc-"]')].length};
})()"""


def _devtools_port(profile: Path, chromium: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if chromium.poll() is not None:
            msg = f"chromium exited ({chromium.returncode})"
            raise RuntimeError(msg)
        try:
            return int((profile / "DevToolsActivePort").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            time.sleep(0.1)
    msg = "chromium did not open its DevTools port"
    raise RuntimeError(msg)


async def check_page(url: str) -> None:
    """What browser-test.js does, with Debian's chromium. A coroutine: browser_check awaits it
    and fails on its exception (a plain function's exception it would not see)."""
    await asyncio.to_thread(_check_page, url)


def _check_page(url: str) -> None:
    profile = Path(tempfile.mkdtemp(prefix="wheel-lane-chromium-"))
    chromium = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port = _devtools_port(profile, chromium)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            page = next(t for t in json.load(answer) if t["type"] == "page")
        socket = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
        )
        ids = itertools.count(1)

        def call(method: str, **params: Any) -> dict[str, Any]:
            number = next(ids)
            socket.send(json.dumps({"id": number, "method": method, "params": params}))
            while True:
                message = json.loads(socket.recv())
                if message.get("id") == number:
                    if "error" in message:
                        error = f"{method}: {message['error']}"
                        raise RuntimeError(error)
                    return dict(message["result"])

        print(
            f"[browser] {CHROMIUM} navigating to {url.split('?', maxsplit=1)[0]}",
            flush=True,
        )
        call("Page.navigate", url=url)
        deadline = time.monotonic() + TIMEOUT
        state = None
        while state is None:
            if time.monotonic() > deadline:
                msg = f"JupyterLab did not finish loading in {TIMEOUT:.0f} s"
                raise RuntimeError(msg)
            time.sleep(0.5)
            result = call("Runtime.evaluate", expression=PAGE_STATE, returnByValue=True)
            state = result.get("result", {}).get("value")
        socket.close()
    finally:
        chromium.terminate()
        try:
            chromium.wait(10)
        except subprocess.TimeoutExpired:
            chromium.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print(
        f"[browser] page errors: {state['errors']}; extensions loaded: "
        f"{', '.join(state['federated'])}; jupyterlab-hpc's sidebar "
        f"{'shown' if state['sidebar'] else 'MISSING'}, {state['widgets']} of its elements",
        flush=True,
    )
    if state["errors"]:
        msg = f"errors in the page: {state['errors']}"
        raise RuntimeError(msg)
    if "jupyterlab-hpc" not in state["federated"] or not state["sidebar"]:
        msg = "the page did not load jupyterlab-hpc (no remote entry or no #jp-hpc-sidebar)"
        raise RuntimeError(msg)
    print("[browser] Browser test complete", flush=True)


FAKE_SLURM = """#!/bin/sh
# The wheel lane's Slurm: captured answers ({captured}), as user alice.
case "$*" in
  "id -un") echo alice ;;
  "id -Gn alice") echo alice ;;
  "scontrol show config") exec cat {captured}/scontrol_config.txt ;;
  "scontrol show reservation") exec cat {captured}/reservations_none.txt ;;
  "scontrol show assoc_mgr flags=assoc users=alice") exec cat {captured}/assoc_mgr.txt ;;
  *) echo "the wheel lane has no Slurm for: $*" >&2; exit 1 ;;
esac
"""


class LaneBrowserApp(browser_check.BrowserApp):
    """browser_check's BrowserApp as `python -m jupyterlab.browser_check` runs it (named after
    __main__, whose extension points the server then loads)."""

    name = __name__


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": __name__, "app": LaneBrowserApp}]


def main() -> None:
    captured = Path(os.environ["WHEEL_LANE_TESTS"]) / "captured" / "slurm-22.05"
    no_slurm = Path(tempfile.mkdtemp(prefix="wheel-lane-slurm-")) / "captured-slurm"
    no_slurm.write_text(FAKE_SLURM.format(captured=captured))
    no_slurm.chmod(0o755)
    browser_check.run_browser = check_page
    sys.argv = [
        sys.argv[0],
        f"--SlurmConnection.command_prefix={no_slurm}",
        f"--ServerApp.root_dir={no_slurm.parent}",
        "--ServerApp.allow_root=True",
    ]
    LaneBrowserApp.launch_instance()


if __name__ == "__main__":
    main()
