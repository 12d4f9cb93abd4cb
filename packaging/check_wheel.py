"""The wheel lane (`make wheel-lane`): the built wheel, installed as a site would, works.

Builds the wheel once from a copy of the checkout, then for two fresh venvs (python3.11):
  oldest  every floor of [project] dependencies pinned exactly (name==floor)
  newest  no pins
installs the wheel (and pytest, pytest-jupyter[server], jsonschema) with node NOT on PATH and
checks (a) `jupyter labextension list` reports jupyterlab-hpc enabled OK, the server
extension is enabled, and every shared package the built extension requires is satisfied by
the installed JupyterLab's core packages; (b) jupyterlab.browser_check's server with Debian's
chromium (packaging/browser_check.py: browser_check's own browser step needs node); (c) the
checkout's tests that need no cluster (-m "not cluster") against the installed wheel
(packaging/lane_plugin.py).

    python3.11 packaging/check_wheel.py [--wheel WHEEL] [--env oldest|newest] [--keep]
        [--pin NAME==VERSION]
"""

# ruff: noqa: T201 - a command-line script: it prints

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import NoReturn

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "/usr/bin/python3.11"
TEST_PACKAGES = ["pytest", "pytest-jupyter[server]", "jsonschema"]
# What must not be on the lane's PATH: the prebuilt extension needs no node.
NODE_TOOLS = {"node", "nodejs", "npm", "npx", "corepack", "yarn", "yarnpkg", "pnpm"}
EXTENSION = "jupyterlab-hpc"


def log(message: str) -> None:
    print(f"[wheel-lane] {message}", flush=True)


def fail(message: str) -> NoReturn:
    text = f"[wheel-lane] {message}"
    raise SystemExit(text)


def run(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    quiet: bool = True,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run cmd; its output is shown only when it fails (or quiet=False)."""
    result = subprocess.run(cmd, env=env, cwd=cwd, text=True, capture_output=True, check=False)
    if not quiet or (check and result.returncode):
        sys.stdout.write(result.stdout)
        sys.stdout.write(result.stderr)
    if check and result.returncode:
        msg = f"failed ({result.returncode}): {' '.join(cmd)}"
        fail(f"{msg}")
    return result


# ---------------------------------------------------------------------------- build
def build_wheel(tmp: Path) -> Path:
    """python -m build --wheel of a copy of the checkout (git's files, so no stale build
    output), the frontend built afresh by the build hook (node is needed here only)."""
    src = tmp / "src"
    files = run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT).stdout
    for name in filter(None, files.split("\0")):
        path = ROOT / name
        if path.is_file() and not name.startswith("jupyterlab_hpc/labextension/"):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    # The frontend's dependencies: hard links (same file system) or a copy, never the
    # checkout's own folder (the build writes next to it).
    try:
        run(["cp", "-al", str(ROOT / "node_modules"), str(src / "node_modules")])
    except SystemExit:
        shutil.copytree(ROOT / "node_modules", src / "node_modules", symlinks=True)
    venv = tmp / "build-venv"
    run([PYTHON, "-m", "venv", str(venv)])
    run([str(venv / "bin/pip"), "install", "-q", "build"])
    run(
        [
            str(venv / "bin/python"),
            "-m",
            "build",
            "--wheel",
            "--outdir",
            str(tmp / "dist"),
            str(src),
        ]
    )
    (wheel,) = (tmp / "dist").glob("*.whl")
    return wheel


def inspect_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        unpacked = sum(info.file_size for info in archive.infolist())
    log(
        f"wheel {wheel.name}: {wheel.stat().st_size / 1024:.0f} KB, {len(names)} files, "
        f"{unpacked / 1024:.0f} KB unpacked"
    )
    tests = [n for n in names if n.startswith("jupyterlab_hpc/tests/")]
    if tests:
        fail(f"the wheel ships {len(tests)} test files: {tests[:3]}")
    data = f"jupyterlab_hpc-{wheel.name.split('-')[1]}.data/data/share/jupyter"
    for wanted in (
        f"{data}/labextensions/{EXTENSION}/package.json",
        f"{data}/labextensions/{EXTENSION}/install.json",
        f"{data}/labextensions/{EXTENSION}/static/style.js",
        "jupyterlab_hpc-0.1.0.data/data/etc/jupyter/jupyter_server_config.d/jupyterlab_hpc.json",
    ):
        needed = wanted.replace("0.1.0", wheel.name.split("-")[1])
        if needed not in names:
            fail(f"the wheel lacks {needed}")


# ---------------------------------------------------------------------------- environments
def floors() -> dict[str, str]:
    """name -> floor of every [project] dependency with a >= bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = {}
    for requirement in project["dependencies"]:
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)[^;]*?>=\s*([0-9][^,;\s]*)", requirement)
        if match:
            found[match[1]] = match[2]
    return found


def nodeless_path(tmp: Path) -> str:
    """/usr/bin without node and its tools (here /usr/bin has node, and /bin is /usr/bin)."""
    shim = tmp / "usr-bin-without-node"
    shim.mkdir()
    for entry in Path("/usr/bin").iterdir():
        if entry.name not in NODE_TOOLS:
            (shim / entry.name).symlink_to(entry)
    return f"{shim}:/usr/sbin"


def lane_env(venv: Path, home: Path, path: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "HPC_", "NODE", "npm_"))
    }
    env.update(
        PATH=f"{venv / 'bin'}:{path}",
        HOME=str(home),  # no ~/.jupyter, ~/.local/share/jupyter of whoever runs the lane
        VIRTUAL_ENV=str(venv),
        HPC_CLUSTER_DIR=str(home / "no-cluster"),  # cluster fixtures skip, whatever runs
        JUPYTER_PLATFORM_DIRS="1",
    )
    return env


def site_packages(venv: Path) -> Path:
    (path,) = venv.glob("lib/python3*/site-packages")
    return path


def installed_versions(python: Path, env: dict[str, str]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json; print(json.dumps({d: m.version(d) for d in "
        "['jupyterlab', 'jupyter_server', 'jupyter_client', 'httpx', 'orjson', "
        "'jupyterlab-hpc', 'tornado', 'jupyter_events']}))"
    )
    return dict(json.loads(run([str(python), "-c", code], env=env).stdout))


# ---------------------------------------------------------------------------- checks
def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def check_labextension(venv: Path, env: dict[str, str]) -> str:
    result = run([str(venv / "bin/jupyter"), "labextension", "list"], env=env)
    text = _plain(result.stdout + result.stderr)  # it writes the list to stderr, in colour
    line = next(
        (ln.strip() for ln in text.splitlines() if re.match(rf"\s*{EXTENSION} v\S+ ", ln)), None
    )
    if line is None or not re.search(r"\benabled\b.*\bOK\b", line):
        print(text)
        fail(f"jupyter labextension list: {line or 'not listed'}")
    if re.search(rf"{EXTENSION}.*(not compatible|incompatible)", text, re.IGNORECASE):
        print(text)
        fail("JupyterLab says the extension is incompatible")
    server = run([str(venv / "bin/jupyter"), "server", "extension", "list"], env=env)
    text = _plain(server.stdout + server.stderr)
    if not re.search(r"jupyterlab_hpc\s+enabled", text) or not re.search(
        r"jupyterlab_hpc\s+\S+\s+OK", text
    ):
        print(text)
        fail("jupyter server extension list: jupyterlab_hpc not OK")
    return line


def _caret_satisfied(required: str, version: str) -> bool:
    """npm ^range (as the builder writes them) against an x.y.z version."""
    match = re.fullmatch(r"\^(\d+)\.(\d+)\.(\d+)(?:-[\w.]+)?", required)
    core = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    if not match or not core:
        return False
    want, have = tuple(map(int, match.groups())), tuple(map(int, core.groups()))
    if want[0] != have[0] or have < want:
        return False
    return want[0] != 0 or want[1] == have[1]


def check_shared_packages(venv: Path) -> str:
    """Every shared (singleton) package the built remoteEntry requires, against the core
    package versions of the JupyterLab installed (its staging/package.json)."""
    lab_ext = venv / "share/jupyter/labextensions" / EXTENSION
    entry = json.loads((lab_ext / "package.json").read_text())["jupyterlab"]["_build"]["load"]
    source = (lab_ext / entry).read_text()
    required = dict(
        re.findall(r'shareKey:"([^"]+)",import:[^,]*,requiredVersion:"([^"]+)"', source)
    )
    (staging,) = site_packages(venv).glob("jupyterlab/staging/package.json")
    core = json.loads(staging.read_text())["resolutions"]
    unmet = [
        f"{name} {want} (JupyterLab has {core.get(name)})"
        for name, want in sorted(required.items())
        if name in core and not _caret_satisfied(want, core[name].lstrip("~^"))
    ]
    if unmet:
        fail("shared packages the extension needs: " + "; ".join(unmet))
    return f"{len(required)} shared packages satisfied"


def check_browser(venv: Path, env: dict[str, str]) -> str:
    """jupyterlab.browser_check's server with Debian's chromium in place of its node +
    Playwright browser step (packaging/browser_check.py says why)."""
    chromium = os.environ.get("HPC_CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return f"SKIPPED: no chromium at {chromium} (make system-packages installs Debian's)"
    env = {
        **env,
        "WHEEL_LANE_TESTS": str(ROOT / "jupyterlab_hpc" / "tests"),
        "HPC_CHROMIUM_PATH": chromium,
        "TMPDIR": str(venv.parent),
    }
    try:
        result = subprocess.run(
            [str(venv / "bin/python"), str(Path(__file__).parent / "browser_check.py")],
            env=env,
            cwd=venv.parent,
            text=True,
            capture_output=True,
            timeout=240,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        msg = f"[wheel-lane] browser_check did not finish in {error.timeout:.0f} s"
        raise SystemExit(msg) from None
    output = result.stdout + result.stderr
    seen = next(
        (
            ln.removeprefix("[browser] ")
            for ln in output.splitlines()
            if ln.startswith("[browser] page errors")
        ),
        "no page state",
    )
    if result.returncode:
        sys.stdout.write(output[-20000:])
        fail(f"browser_check failed ({result.returncode}): {seen}")
    return f"passed, Debian's chromium: {seen}"


def check_unit_tests(venv: Path, env: dict[str, str], tmp: Path) -> str:
    tests = ROOT / "jupyterlab_hpc" / "tests"
    run_dir = tmp / "pytest-cwd"  # not the checkout: nothing of it on sys.path
    run_dir.mkdir()
    env = {
        **env,
        "WHEEL_LANE_TESTS": str(tests),
        "WHEEL_LANE_SITE": str(site_packages(venv)),
        "PYTHONPATH": str(Path(__file__).parent),
    }
    where = run(
        [str(venv / "bin/python"), "-c", "import jupyterlab_hpc; print(jupyterlab_hpc.__file__)"],
        env=env,
        cwd=run_dir,
    )
    log(f"  jupyterlab_hpc.__file__ = {where.stdout.strip()}")
    if not Path(where.stdout.strip()).is_relative_to(site_packages(venv)):
        fail("jupyterlab_hpc is not the installed wheel")
    result = run(
        [
            str(venv / "bin/pytest"),
            "-p",
            "lane_plugin",
            "-m",
            "not cluster",
            "--import-mode=importlib",
            f"--rootdir={ROOT}",
            "-c",
            str(ROOT / "pyproject.toml"),
            "-p",
            "no:cacheprovider",
            "-q",
            str(tests),
        ],
        env=env,
        cwd=run_dir,
        check=False,
    )
    summary = (result.stdout.strip().splitlines() or [""])[-1]
    for line in result.stdout.splitlines():
        if line.startswith("wheel lane: "):
            log(f"  pytest: {line.removeprefix('wheel lane: ')}")
    if result.returncode:
        sys.stdout.write(result.stdout[-20000:])
        sys.stdout.write(result.stderr[-5000:])
        fail(f"unit tests failed: {summary}")
    return summary.strip("= ")


def lane(name: str, wheel: Path, tmp: Path, path: str, overrides: list[str]) -> str:
    started = time.monotonic()
    where = tmp / name
    venv, home = where / "venv", where / "home"
    home.mkdir(parents=True)
    env = lane_env(venv, home, path)
    if shutil.which("node", path=env["PATH"]):
        fail(f"node is on the lane's PATH: {shutil.which('node')}")
    if run(["sh", "-c", "command -v node"], env=env, check=False).returncode == 0:
        fail("node is found by the lane's shell")
    pins = [f"{dist}=={floor}" for dist, floor in floors().items()] if name == "oldest" else []
    if overrides:  # --pin: try another version of one (what breaks below a floor)
        names = {re.split(r"[=<>!~]", pin)[0].lower().replace("-", "_") for pin in overrides}
        pins = [p for p in pins if p.split("==")[0].lower().replace("-", "_") not in names]
        pins += overrides
    log(f"{name}: venv, pip install {wheel.name} {' '.join(pins)} {' '.join(TEST_PACKAGES)}")
    run([PYTHON, "-m", "venv", str(venv)], env=env)
    pip_env = {**env, "HOME": os.environ.get("HOME", str(home))}  # pip's own (warm) cache
    run([str(venv / "bin/pip"), "install", "-q", str(wheel), *pins, *TEST_PACKAGES], env=pip_env)
    run([str(venv / "bin/pip"), "check"], env=pip_env)
    versions = installed_versions(venv / "bin/python", env)
    log(f"  installed: {', '.join(f'{k} {v}' for k, v in versions.items())}")
    installed = time.monotonic() - started
    checks = {
        "labextension": lambda: check_labextension(venv, env),
        "shared": lambda: check_shared_packages(venv),
        "browser_check": lambda: check_browser(venv, env),
        "unit tests": lambda: check_unit_tests(venv, env, where),
    }
    results = {}
    for check, function in checks.items():
        begun = time.monotonic()
        results[check] = function()
        log(f"  {check} ({time.monotonic() - begun:.1f} s): {results[check]}")
    took = time.monotonic() - started
    pinned = ", ".join(
        f"{k} {versions[k]}"
        for k in ("jupyterlab", "jupyter_server", "jupyter_client", "httpx", "orjson")
    )
    return (
        f"{name:6} OK in {took:5.1f} s (install {installed:4.1f} s): {pinned}; "
        f"labextension enabled OK; {results['shared']}; unit tests {results['unit tests']}"
        f"; browser_check {results['browser_check'].split(',')[0].split(':')[0]}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a built wheel (default: build one)")
    parser.add_argument("--env", choices=["oldest", "newest"], action="append")
    parser.add_argument(
        "--pin",
        action="append",
        default=[],
        help="NAME==VERSION instead of NAME's floor (experiments)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="jupyterlab-hpc-wheel-lane-"))
    summaries = []
    try:
        if args.wheel:
            wheel = args.wheel.resolve()
        else:
            log(f"building the wheel in {tmp}")
            wheel = build_wheel(tmp)
            log(f"built in {time.monotonic() - started:.1f} s")
        inspect_wheel(wheel)
        path = nodeless_path(tmp)
        for name in args.env or ["oldest", "newest"]:
            summaries.append(lane(name, wheel, tmp, path, args.pin))
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for summary in summaries:
        log(summary)
    log(f"all environments passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
