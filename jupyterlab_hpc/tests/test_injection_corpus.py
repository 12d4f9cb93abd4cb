"""Hostile input at every parameter of every route: a 4xx with a JSON message, and nothing run.

Each value of the corpus (shell syntax, path traversal, NUL, URL-encoded tricks, huge and odd
unicode text) is put in each path parameter, query parameter and JSON body field in turn.
Refused requests must leave the command log empty: not even a read of Slurm's state. Where a
value is legitimately accepted (a filter that matches nothing, an unknown query parameter, a
notebook path that is an ordinary file name), the command log shows that the value reached
no command line, and alice has no job of this test afterwards.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from jupyterlab_hpc.tests.conftest import SERVER_USER
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = pytest.mark.cluster

# Each is sent percent-encoded, so the server sees exactly this text.
CORPUS = (
    ";rm -rf /",
    "1;id",
    "$(id)",
    "`id`",
    "1|id",
    "1&&id",
    "1\nid",
    "1\n",  # a trailing newline slips past a regex ending in "$"
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    "1\x00",
    "..%2F..%2Fetc%2Fpasswd",
    "%252e%252e%252f",
    "9" * 4000,
    "é" * 2000,  # long UTF-8
    "1\u202e2",  # right-to-left override
    "1\u200b",  # zero-width space
    "١٢٣",  # Arabic-Indic digits: isdigit() and \d say yes
    "²",  # a digit that int() refuses
    "\uff11\uff12\uff13",  # fullwidth digits
    "0",
    "a100:²",
)
# Sent as they are: the server decodes them (an encoded "/", NUL, newline, invalid UTF-8,
# a UTF-8-encoded surrogate, a double-encoded traversal).
RAW = ("..%2F..%2Fetc%2Fpasswd", "1%00", "1%0A", "%FF", "%ED%A0%80", "1%3Bid", "%252e%252e")
# Only JSON can carry these: lone surrogates.
JSON_ONLY = ("\ud800", "1\udcff")
HUGE = "A" * (5 * 1024 * 1024)

# Well-formed, so accepted where a name or a count is expected (query arguments are also
# stripped of surrounding white space, so "1\n" is "1").
WELL_FORMED_NAMES = ("0", "1\n")
WELL_FORMED_COUNTS = ("0", "1\n", "9" * 4000)
# Tornado turns control characters in query arguments into spaces (then strips them): "1".
QUERY_NAMES = (*WELL_FORMED_NAMES, "1\x00")
QUERY_COUNTS = (*WELL_FORMED_COUNTS, "1\x00")
WELL_FORMED_RAW = ("1%00", "1%0A")
# Slurm's feature expressions have "|" and "&" (and sbatch gets them as one argument).
WELL_FORMED_CONSTRAINTS = (*WELL_FORMED_NAMES, "1|id", "1&&id", "..")
# Values with which a substring search of a command line means something.
DISTINCTIVE = tuple(value for value in CORPUS if len(value) > 2)

JOB_ROUTES = (
    ("GET", ""),
    ("DELETE", ""),
    ("POST", "/hold"),
    ("POST", "/release"),
    ("POST", "/requeue"),
    ("GET", "/output"),
)
PARAMETERLESS = (
    "/hpc/status",
    "/hpc/partitions",
    "/hpc/quotas",
    "/hpc/announcements",
    "/hpc/kernels",
    "/hpc/kernels/options",
    "/hpc/openapi.json",
)
RESOURCES = (
    "partition",
    "account",
    "qos",
    "constraint",
    "reservation",
    "time",
    "cpus",
    "memory_mb",
    "gpus",
)

Send = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture
def job_name() -> str:
    return f"pytest-injection-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def recording_prefix(tmp_path: Path, command_log: Path) -> list[str]:
    """Like conftest's, but each command is logged as a JSON list: one argument stays one."""
    recorder = tmp_path / "record-and-run"
    recorder.write_text(
        f"#!{sys.executable} -S\n"
        "import json, os, sys\n"
        f"with open({str(command_log)!r}, 'a') as log:\n"
        "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "os.execvp(sys.argv[1], sys.argv[1:])\n"
    )
    recorder.chmod(0o755)
    return [str(recorder), "runuser", "-u", SERVER_USER, "--"]


@pytest.fixture
def jp_server_config(recording_prefix: list[str], job_name: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_hpc": True}},
        "SlurmConnection": {"command_prefix": recording_prefix, "timeout": 10.0},
        "HPCExtension": {"jobs_refresh": 0.0, "partitions_refresh": 0.0},
        "SlurmProvisioner": {"job_name": job_name},
    }


@pytest.fixture(autouse=True)
def no_job_of_alice(cluster: dict[str, Any], job_name: str, jp_root_dir: Path) -> Iterator[None]:
    """Afterwards alice has no job that this test's server submitted (kernel or script)."""
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 60))
    yield
    listed = subprocess.run(
        ["sacct", "-X", "-n", "-P", f"--user={SERVER_USER}", f"--starttime={started}",
         "--format=JobID,JobName,WorkDir"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    ours = [
        line
        for line in listed.splitlines()
        if line.split("|")[1] == job_name or str(jp_root_dir) in line
    ]
    subprocess.run(["scancel", f"--name={job_name}"], capture_output=True, check=False)
    assert not ours, f"jobs were submitted: {ours}"


@pytest.fixture
def send(
    jp_serverapp: Any, http_server_client: Any, jp_auth_header: dict[str, str], jp_base_url: str
) -> Send:
    """One request with the URL exactly as given (jp_fetch would re-encode it)."""

    async def send(method: str, url: str, body: object = None) -> tuple[int, Any]:
        data = None if body is None else body if isinstance(body, bytes) else json.dumps(body)
        if data is None and method in {"POST", "PUT"}:
            data = b""
        response = await http_server_client.fetch(
            jp_base_url.rstrip("/") + url,
            method=method,
            body=data,
            headers=jp_auth_header,
            raise_error=False,
            allow_nonstandard_methods=True,
            request_timeout=60,
        )
        return response.code, response.body

    return send


def commands(command_log: Path) -> list[list[str]]:
    """The Slurm commands run, without the prefix (runuser -u alice --) and without the
    ``env -u NAME ...`` that keeps withheld variables out of a kernel's job."""
    if not command_log.exists():
        return []
    lines = command_log.read_text().splitlines()
    return [_without_env(argv[argv.index("--") + 1 :]) for argv in map(json.loads, lines)]


def _without_env(argv: list[str]) -> list[str]:
    if argv[:1] == ["env"]:
        argv = argv[1:]
        while argv[:1] == ["-u"]:
            argv = argv[2:]
    return argv


async def assert_refused(send: Send, method: str, route: str, url: str, body: object = None) -> int:
    code, response = await send(method, url, body)
    request = f"{method} {url[:200]!r} {str(body)[:200]}"
    assert 400 <= code < 500, f"{request} -> {code}: {response[:300]!r}"
    assert isinstance(json.loads(response)["message"], str), request
    try:
        assert_matches_openapi(route, method, code, response)
    except AssertionError as error:
        raise AssertionError(request) from error
    return code


def assert_reached_no_command_line(command_log: Path, values: tuple[str, ...]) -> None:
    """No value is part of a command, other than as one whole argument (or --option=value).
    A short plain value ("0") is found in any command line and tells nothing."""
    telling = [value for value in values if len(value) > 2 or not value.isalnum()]
    for argv in commands(command_log):
        for argument in argv:
            for value in telling:
                whole = argument == value or argument.endswith(f"={value}")
                assert value not in argument or whole, (value, argv)


def assert_only_slurm_views(command_log: Path, values: tuple[object, ...]) -> None:
    """Only reads of Slurm's state ran (to check a name against the user's partitions and
    accounts), and no value is one of their arguments."""
    for argv in commands(command_log):
        assert argv[0] in {"sinfo", "squeue", "id"} or argv[:2] in (
            ["scontrol", "show"],
            ["sacctmgr", "--noheader"],
        ), argv
        assert not {str(value) for value in values} & set(argv), argv


def quoted(value: str) -> str:
    return quote(value, safe="")


# -- path parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "suffix"), JOB_ROUTES)
async def test_a_hostile_job_id_is_a_400_and_runs_nothing(
    send: Send, command_log: Path, method: str, suffix: str
) -> None:
    route = "/hpc/jobs/{job_id}" + suffix
    for job_id in (*map(quoted, CORPUS), *RAW):
        code = await assert_refused(send, method, route, f"/hpc/jobs/{job_id}{suffix}")
        assert code == 400
    assert commands(command_log) == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_a_hostile_kernel_id_is_refused_and_runs_nothing(
    send: Send, command_log: Path, method: str
) -> None:
    for kernel_id in (*map(quoted, CORPUS), *RAW):
        url = f"/hpc/kernels/{kernel_id}"
        await assert_refused(send, method, "/hpc/kernels/{kernel_id}", url)
    assert commands(command_log) == []


# -- query parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "well_formed"),
    [
        ("scope", ()),
        ("state", ()),
        ("partition", QUERY_NAMES),
        ("account", QUERY_NAMES),
        ("user", QUERY_NAMES),
    ],
)
async def test_a_hostile_jobs_filter_is_a_400_and_runs_nothing(
    send: Send, command_log: Path, name: str, well_formed: tuple[str, ...]
) -> None:
    for value in CORPUS:
        if value not in well_formed:
            await assert_refused(send, "GET", "/hpc/jobs", f"/hpc/jobs?{urlencode({name: value})}")
    raw = WELL_FORMED_RAW if well_formed else ()
    for value in RAW:
        if value not in raw:
            await assert_refused(send, "GET", "/hpc/jobs", f"/hpc/jobs?{name}={value}")
    assert commands(command_log) == []

    queries = [*(urlencode({name: value}) for value in well_formed), *(f"{name}={v}" for v in raw)]
    for query in queries:  # filtered here, not by squeue
        code, body = await send("GET", f"/hpc/jobs?scope=all&{query}")
        assert code == 200
        assert_matches_openapi("/hpc/jobs", "GET", code, body)
    assert [argv[0] for argv in commands(command_log)] == ["squeue"] * len(queries)
    assert_reached_no_command_line(command_log, well_formed)


@pytest.mark.parametrize(
    ("name", "well_formed"),
    [("stream", ()), ("offset", QUERY_COUNTS), ("limit", QUERY_COUNTS)],
)
async def test_a_hostile_output_argument_is_a_400_and_runs_nothing(
    send: Send, command_log: Path, name: str, well_formed: tuple[str, ...]
) -> None:
    route = "/hpc/jobs/{job_id}/output"
    raw = WELL_FORMED_RAW if well_formed else ()
    queries = [
        *(urlencode({name: value}) for value in CORPUS if value not in well_formed),
        *(f"{name}={value}" for value in RAW if value not in raw),
    ]
    for query in queries:
        code = await assert_refused(send, "GET", route, f"/hpc/jobs/1234/output?{query}")
        assert code == 400
    assert commands(command_log) == []

    queries = [*(urlencode({name: value}) for value in well_formed), *(f"{name}={v}" for v in raw)]
    for query in queries:  # the request goes on to look the job up
        code, body = await send("GET", f"/hpc/jobs/1234/output?{query}")
        assert code < 500
        assert_matches_openapi(route, "GET", code, body)
    assert_reached_no_command_line(command_log, well_formed)


@pytest.mark.parametrize("route", PARAMETERLESS)
async def test_hostile_unknown_query_arguments_are_ignored_and_reach_no_command(
    send: Send, command_log: Path, route: str
) -> None:
    query = urlencode({f"x{index}": value for index, value in enumerate(CORPUS)})

    code, body = await send("GET", f"{route}?{query}&y={'&z='.join(RAW)}")

    assert code == 200, body[:300]
    assert_matches_openapi(route, "GET", code, body)
    for value in DISTINCTIVE:
        assert all(value not in " ".join(argv) for argv in commands(command_log)), value


# -- JSON bodies ----------------------------------------------------------------------------


async def test_a_hostile_script_path_is_refused_and_nothing_is_submitted(
    send: Send, command_log: Path
) -> None:
    bodies: list[object] = [
        *({"path": value} for value in (*CORPUS, *JSON_ONLY, HUGE)),
        {"path": ["a"]},
        [HUGE],
        b"\xff\xfe",
        b"[" * 100_000,
    ]
    for body in bodies:
        await assert_refused(send, "POST", "/hpc/jobs", "/hpc/jobs", body)
    assert commands(command_log) == []


@pytest.mark.parametrize(
    ("field", "well_formed"),
    [
        ("kernel_name", ()),
        ("partition", WELL_FORMED_NAMES),  # refused once Slurm says it is not the user's
        ("account", WELL_FORMED_NAMES),
        ("qos", WELL_FORMED_NAMES),  # accepted; sbatch refuses them
        ("reservation", WELL_FORMED_NAMES),
        ("constraint", WELL_FORMED_CONSTRAINTS),
        ("time", ()),
        ("cpus", ()),
        ("memory_mb", ()),
        ("gpus", ()),
    ],
)
async def test_a_hostile_kernel_request_is_a_400_and_runs_nothing(
    send: Send, command_log: Path, field: str, well_formed: tuple[str, ...]
) -> None:
    def request(value: object) -> dict[str, Any]:
        if field == "kernel_name":
            return {"kernel_name": value}
        return {"kernel_name": "python3", "resources": {field: value}}

    for value in (*CORPUS, *JSON_ONLY, HUGE, -1, 10**100, 1e400, [1], {"a": 1}):
        if value not in well_formed:
            body = request(value)
            code = await assert_refused(send, "POST", "/hpc/kernels", "/hpc/kernels", body)
            assert code == 400
    assert commands(command_log) == []

    started = []
    for value in well_formed:
        code, response = await send("POST", "/hpc/kernels", request(value))
        if code == 202:
            started.append(json.loads(response)["id"])
        else:
            assert code == 400, response
    await until_failed(send, started)
    assert_reached_no_command_line(command_log, well_formed)
    submitted = [argv for argv in commands(command_log) if argv[0] == "sbatch"]
    assert len(submitted) == len(started)


async def test_hostile_resource_names_and_bodies_are_a_400_and_run_nothing(
    send: Send, command_log: Path
) -> None:
    bodies: list[object] = [
        *({"kernel_name": "python3", "resources": {value: 1}} for value in CORPUS),
        *({"kernel_name": "python3", "path": value} for value in ("..", "a/../..", "1\x00", 7)),
        {"kernel_name": "python3", "resources": HUGE},
        [{"kernel_name": "python3"}],
        b"\xed\xa0\x80",
        b"{" * 100_000,
    ]
    for body in bodies:
        code = await assert_refused(send, "POST", "/hpc/kernels", "/hpc/kernels", body)
        assert code == 400
    assert commands(command_log) == []


async def test_a_notebook_path_that_is_a_plain_file_name_reaches_no_command_line(
    send: Send, command_log: Path
) -> None:
    """Such paths are accepted (files may be called that); the kernel runs in the server root
    and its job is refused by Slurm here (no such QOS), so no job is left."""
    paths = (";rm -rf /", "$(id)", "`id`", "1|id", "1&&id", "1\nid", "/etc/passwd", "\u202e")
    started = []
    for path in paths:
        body = {"kernel_name": "python3", "resources": {"qos": "no-such-qos"}, "path": path}
        code, response = await send("POST", "/hpc/kernels", body)
        assert code == 202, response[:300]
        started.append(json.loads(response)["id"])

    await until_failed(send, started)
    assert_reached_no_command_line(command_log, paths)
    assert [argv[0] for argv in commands(command_log)].count("sbatch") == len(paths)


async def until_failed(send: Send, kernel_ids: list[str]) -> None:
    """Each kernel failed because Slurm refused its job (nothing is left running)."""
    for kernel_id in kernel_ids:
        for _ in range(150):
            _, response = await send("GET", f"/hpc/kernels/{kernel_id}")
            kernel = json.loads(response)
            if kernel["state"] not in {"queued", "starting"}:
                break
            await asyncio.sleep(0.1)
        assert kernel["state"] == "failed", kernel
        assert "Batch job submission failed" in kernel["reason"], kernel
