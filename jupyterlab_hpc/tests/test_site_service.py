"""The site service (``jupyter hpc-site``) on the real cluster: every user gets through it what
Slurm shows them when they run squeue, sinfo and sacctmgr themselves, with PrivateData unset
and set, and nobody gets a session as someone else."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from jupyterlab_hpc.site.client import SiteClient, SiteUnusable
from jupyterlab_hpc.site.sessions import MAX_SESSIONS_PER_USER
from jupyterlab_hpc.slurm.commands.backend import SlurmCommands
from jupyterlab_hpc.slurm.records import AccountQuota, Job, Partition
from jupyterlab_hpc.tests.cluster_faults import CLUSTER_TOOL
from jupyterlab_hpc.tests.conftest import CLUSTER_PREFIX, as_user
from jupyterlab_hpc.tests.server_process import free_port, site_service_process

pytestmark = pytest.mark.cluster

# Every kind of data read again after a second: a test need not wait long for a change.
FAST_REFRESH = {
    f"{kind}_refresh": 1.0 for kind in ("jobs", "partitions", "quotas", "reservations", "cluster")
}
PRIVATE_DATA = ("none", "jobs,usage")
# Seconds a view may lag behind Slurm: the refresh interval, and time to spare.
SETTLE = 15.0


def site_config(service_user: str, **site_app: Any) -> dict[str, Any]:
    """The service reading Slurm as ``service_user`` (the site's operator account)."""
    return {
        "HPCSiteApp": {**FAST_REFRESH, **site_app},
        "SlurmConnection": {"command_prefix": as_user(service_user), "timeout": 20.0},
    }


@pytest.fixture(scope="module")
def site_url(cluster: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("site")
    with site_service_process(workdir, site_config(cluster["site_user"])) as url:
        yield url


def compared_users(cluster: dict[str, Any]) -> list[str]:
    """Plain users in one or both accounts, a coordinator, a simulated user if there is one."""
    coordinators = [user for users in cluster["coordinators"].values() for user in users]
    return ["alice", "bob", *coordinators, *cluster["extra_users"][:1]]


@pytest.fixture(scope="module")
def held_jobs(cluster: dict[str, Any]) -> Iterator[list[str]]:
    """Pending jobs of each compared user in each of their accounts, and one of root in the
    hidden partition that only privileged users see."""
    accounts = {
        user: [name for name, account in cluster["accounts"].items() if user in account["users"]]
        for user in ("alice", "bob")
    }
    for account, users in cluster["coordinators"].items():
        for user in users:
            accounts[user] = [account]
    for user in cluster["extra_users"][:1]:
        accounts[user] = list(cluster["accounts"])
    submissions = [
        [*as_user(user), "sbatch", f"--account={account}"]
        for user, names in accounts.items()
        for account in names
    ]
    submissions.append(
        [*CLUSTER_PREFIX, "sbatch", f"--partition={cluster['preempting_partition']}"]
    )
    job_ids = [
        subprocess.run(
            [*argv, "--parsable", "--hold", "--chdir=/tmp", "--output=/dev/null", "--wrap=sleep 1"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for argv in submissions
    ]  # fmt: skip
    yield job_ids
    subprocess.run([*CLUSTER_PREFIX, "scancel", *job_ids], capture_output=True, check=False)


@pytest.fixture(params=PRIVATE_DATA)
def private_data(request: pytest.FixtureRequest, cluster: dict[str, Any]) -> Iterator[str]:
    """slurm.conf's PrivateData for one test; unset again afterwards, whatever happens."""
    flags = str(request.param)
    subprocess.run([*CLUSTER_TOOL, "private-data", flags], capture_output=True, check=True)
    try:
        yield flags
    finally:
        subprocess.run([*CLUSTER_TOOL, "private-data", "none"], capture_output=True, check=True)


def slurm_lines(user: str, *argv: str) -> set[str]:
    """What a Slurm command prints when ``user`` runs it, one element per line."""
    output = subprocess.run(
        [*as_user(user), *argv], capture_output=True, text=True, check=True
    ).stdout
    return {line.strip() for line in output.splitlines() if line.strip()}


def read_as(
    user: str, site_url: str, read: Callable[[SiteClient], Any], service_user: str = "hpcsite"
) -> Any:
    """``read`` through a client that proves ``user`` with MUNGE, as that user's server does,
    to a service that proved it runs as ``service_user`` (cluster.json's site_user)."""

    async def through_client() -> Any:
        client = SiteClient(site_url, service_user=service_user, command_prefix=as_user(user))
        try:
            return await read(client)
        finally:
            await client.close()

    return asyncio.run(through_client())


def site_jobs(
    user: str, site_url: str, scope: str = "all", service_user: str = "hpcsite"
) -> list[Job]:
    jobs = read_as(user, site_url, lambda c: c.items("/api/jobs", Job, scope=scope), service_user)
    return list(jobs)


def site_job_ids(user: str, site_url: str, scope: str) -> set[str]:
    return {job.id for job in site_jobs(user, site_url, scope)}


def site_quotas(user: str, site_url: str) -> set[tuple[Any, ...]]:
    return comparable(read_as(user, site_url, lambda c: c.items("/api/quotas", AccountQuota)))


def own_quotas(user: str) -> set[tuple[Any, ...]]:
    """The user's quotas as their own server reads them, as the user."""
    return comparable(asyncio.run(SlurmCommands(command_prefix=as_user(user)).list_quotas(user)))


def site_partition_names(user: str, site_url: str) -> set[str]:
    partitions = read_as(user, site_url, lambda c: c.items("/api/partitions", Partition))
    return {partition.name for partition in partitions}


def settled(direct: Callable[[], Any], via_site: Callable[[], Any]) -> tuple[Any, Any]:
    """What Slurm says and what the service says, once they agree (a view is as fresh as the
    service's last read of Slurm) or, failing that, after SETTLE seconds: a real difference."""
    deadline = time.monotonic() + SETTLE
    while True:
        before, served, after = direct(), via_site(), direct()
        if before == served == after or time.monotonic() > deadline:
            return after, served
        time.sleep(0.5)


@pytest.mark.usefixtures("held_jobs")
@pytest.mark.parametrize("scope", ["all", "mine"])
def test_each_user_gets_the_jobs_squeue_shows_them(
    cluster: dict[str, Any], site_url: str, private_data: str, scope: str
) -> None:
    squeue = ["squeue", "--noheader", "--format=%i", *(["--me"] if scope == "mine" else [])]
    for user in compared_users(cluster):
        shown, served = settled(
            partial(slurm_lines, user, *squeue), partial(site_job_ids, user, site_url, scope)
        )
        assert served == shown, f"{user} with PrivateData={private_data}"


@pytest.mark.usefixtures("held_jobs")
def test_private_data_hides_other_accounts_but_a_coordinator_sees_their_account(
    cluster: dict[str, Any], site_url: str
) -> None:
    """The rule itself, beside the equality above: with PrivateData=jobs carol (coordinator
    of proj2) sees bob's proj2 job and not his proj1 job; alice sees only her own jobs."""
    (account, (coordinator, *_)), *_ = cluster["coordinators"].items()
    subprocess.run([*CLUSTER_TOOL, "private-data", "jobs"], capture_output=True, check=True)
    try:
        deadline = time.monotonic() + SETTLE
        while True:
            seen = {(job.user, job.account) for job in site_jobs(coordinator, site_url)}
            if ("bob", "proj1") not in seen or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert ("bob", account) in seen
        assert ("bob", "proj1") not in seen
        assert ("alice", "proj1") not in seen
        assert {job.user for job in site_jobs("alice", site_url)} == {"alice"}
    finally:
        subprocess.run([*CLUSTER_TOOL, "private-data", "none"], capture_output=True, check=True)


def test_each_user_gets_the_partitions_sinfo_shows_them(
    cluster: dict[str, Any], site_url: str, private_data: str
) -> None:
    hidden = cluster["preempting_partition"]
    # The operator is shown the hidden partition, as sinfo shows it to them.
    for user in [*compared_users(cluster), cluster["site_user"]]:
        shown, served = settled(
            partial(slurm_lines, user, "sinfo", "--noheader", "--format=%R"),
            partial(site_partition_names, user, site_url),
        )
        assert served == shown, f"{user} with PrivateData={private_data}"
        assert (hidden in served) == (user == cluster["site_user"])


def comparable(quotas: list[AccountQuota]) -> set[tuple[Any, ...]]:
    """Each association with its limits; usage left out: it decays from second to second."""
    return {(quota.account, quota.default, limits_of(quota)) for quota in quotas}


def limits_of(quota: AccountQuota) -> frozenset[tuple[Any, ...]]:
    return frozenset(
        (lim.name, lim.tres, lim.limit, lim.scope, lim.account) for lim in quota.limits
    )


def test_each_user_gets_the_associations_sacctmgr_and_scontrol_show_them(
    cluster: dict[str, Any], site_url: str, private_data: str
) -> None:
    for user in compared_users(cluster):
        sacctmgr = ["sacctmgr", "--noheader", "--parsable2", "show", "assoc", f"user={user}"]
        accounts = slurm_lines(user, *sacctmgr, "format=Account")
        shown, served = settled(partial(own_quotas, user), partial(site_quotas, user, site_url))
        assert served == shown, f"{user} with PrivateData={private_data}"
        assert {quota[0] for quota in served} == accounts


def test_a_service_whose_account_is_no_operator_serves_nothing_under_private_data(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    """Run as plain alice, under PrivateData=jobs the service would see only alice's jobs:
    it says so (500, with the command that fixes it) instead of serving bob an empty queue."""
    subprocess.run([*CLUSTER_TOOL, "private-data", "jobs"], capture_output=True, check=True)
    try:
        with (
            site_service_process(tmp_path, site_config("alice")) as url,
            pytest.raises(SiteUnusable, match="AdminLevel=Operator"),
        ):
            site_jobs("bob", url, service_user="alice")
        assert "not a Slurm operator" in (tmp_path / "site.log").read_text()
    finally:
        subprocess.run([*CLUSTER_TOOL, "private-data", "none"], capture_output=True, check=True)


def test_jupyter_hpc_site_help_says_what_it_is_and_how_to_run_it() -> None:
    command = Path(sys.executable).with_name("jupyter-hpc-site")
    shown = subprocess.run([command, "--help-all"], capture_output=True, text=True, check=True)
    assert "AdminLevel=Operator" in shown.stdout
    for trait in (
        "HPCSiteApp.bind_url",
        "HPCSiteApp.jobs_refresh",
        "SlurmConnection.command_prefix",
    ):
        assert f"--{trait}" in shown.stdout


# ------------------------------------------------------------------ who may read


def credential_of(user: str, *munge_args: str) -> str:
    return subprocess.run(
        [*as_user(user), "munge", "--no-input", *munge_args],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def open_session(site_url: str, authorization: str) -> httpx.Response:
    return httpx.post(f"{site_url}/api/session", headers={"Authorization": authorization})


@pytest.mark.parametrize(
    "route", ["jobs", "partitions", "quotas", "access", "reservations", "cluster"]
)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-session", "MUNGE x", "token x"])
def test_every_route_refuses_a_request_without_a_session(
    site_url: str, route: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{site_url}/api/{route}", headers=headers)
    assert response.status_code == 401
    assert "session" in response.json()["message"]


@pytest.mark.parametrize(
    "authorization",
    ["", "MUNGE", "MUNGE MUNGE:not-a-credential:", "Basic YWxpY2U6YWxpY2U=", "token some-token"],
)
def test_no_session_without_a_credential_munged_vouches_for(
    site_url: str, authorization: str
) -> None:
    response = open_session(site_url, authorization)
    assert response.status_code == 401
    assert response.json()["message"].startswith("Not authenticated")


def test_a_session_is_for_the_user_whose_credential_it_was(site_url: str) -> None:
    session = open_session(site_url, f"MUNGE {credential_of('bob')}")
    assert session.status_code == 200
    assert session.json()["user"] == "bob"
    token = session.json()["token"]
    access = httpx.get(f"{site_url}/api/access", headers={"Authorization": f"Bearer {token}"})
    assert access.json()["item"]["user"] == "bob"


def test_a_credential_seen_once_opens_no_second_session(site_url: str) -> None:
    """bob, having read alice's credential off the wire after she used it, is refused."""
    alices = credential_of("alice")
    assert open_session(site_url, f"MUNGE {alices}").status_code == 200
    replayed = open_session(site_url, f"MUNGE {alices}")
    assert replayed.status_code == 401
    assert "Replayed" in replayed.json()["message"]


def test_an_expired_credential_opens_no_session(site_url: str) -> None:
    stale = credential_of("alice", "--ttl=1")
    time.sleep(2.5)
    refused = open_session(site_url, f"MUNGE {stale}")
    assert refused.status_code == 401
    assert "Expired" in refused.json()["message"]


@pytest.mark.usefixtures("held_jobs")
def test_bob_cannot_read_as_alice_with_his_own_session(
    cluster: dict[str, Any], site_url: str
) -> None:
    """A session names its user: no parameter of bob's request makes the service answer for
    alice (her quotas and, with scope=mine, her jobs stay hers)."""
    token = open_session(site_url, f"MUNGE {credential_of('bob')}").json()["token"]
    headers = {"Authorization": f"Bearer {token}", "X-Remote-User": "alice"}
    for params in ({"scope": "mine"}, {"scope": "mine", "user": "alice"}):
        jobs = httpx.get(f"{site_url}/api/jobs", params=params, headers=headers).json()["items"]
        assert jobs
        assert {job["user"] for job in jobs} == {"bob"}
    quotas = httpx.get(f"{site_url}/api/quotas", params={"user": "alice"}, headers=headers)
    defaults = {quota["account"] for quota in quotas.json()["items"] if quota["default"]}
    assert defaults == {cluster["default_accounts"]["bob"]}
    assert cluster["default_accounts"]["bob"] != cluster["default_accounts"]["alice"]
    access = httpx.get(f"{site_url}/api/access", params={"user": "alice"}, headers=headers)
    assert access.json()["item"]["user"] == "bob"


def test_a_bad_scope_is_refused_with_the_reason(site_url: str) -> None:
    token = open_session(site_url, f"MUNGE {credential_of('alice')}").json()["token"]
    response = httpx.get(
        f"{site_url}/api/jobs",
        params={"scope": "everyone"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert "scope must be mine or all" in response.json()["message"]


@pytest.mark.usefixtures("held_jobs")
def test_an_unchanged_view_costs_a_304_and_the_client_keeps_its_records(site_url: str) -> None:
    """A view read again from Slurm but not changed keeps its ETag: the service answers 304
    and the client hands out the records it has, so 10,000 jobs are not sent and rebuilt at
    every poll; a change of the view is a new body and new records."""
    token = open_session(site_url, f"MUNGE {credential_of('alice')}").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.get(f"{site_url}/api/jobs", params={"scope": "mine"}, headers=headers)
    time.sleep(2.5)  # past the service's 1 s refresh: Slurm was read again
    again = httpx.get(
        f"{site_url}/api/jobs",
        params={"scope": "mine"},
        headers={**headers, "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    assert not again.content

    async def reads() -> tuple[list[Job], list[Job], list[Job]]:
        client = SiteClient(site_url, command_prefix=as_user("alice"))
        try:
            before = await client.items("/api/jobs", Job, scope="mine")
            await asyncio.sleep(2.5)
            unchanged = await client.items("/api/jobs", Job, scope="mine")
            submitted = subprocess.run(
                [*as_user("alice"), "sbatch", "--parsable", "--hold", "--chdir=/tmp",
                 "--output=/dev/null", "--wrap=true"],
                capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            try:
                await asyncio.sleep(2.5)
                changed = await client.items("/api/jobs", Job, scope="mine")
            finally:
                subprocess.run([*CLUSTER_PREFIX, "scancel", submitted], check=False)
            assert submitted in {job.id for job in changed}
            return before, unchanged, changed
        finally:
            await client.close()

    before, unchanged, changed = asyncio.run(reads())
    assert unchanged is before
    assert changed is not before
    assert len(changed) == len(before) + 1


def test_sessions_opened_in_a_loop_replace_their_owners_oldest_not_anyone_elses(
    site_url: str,
) -> None:
    """bob floods the service with sessions: he keeps the newest MAX_SESSIONS_PER_USER, the
    service's memory stays bounded, and alice's session is untouched."""
    alices = open_session(site_url, f"MUNGE {credential_of('alice')}").json()["token"]
    bobs = [
        open_session(site_url, f"MUNGE {credential_of('bob')}").json()["token"]
        for _ in range(MAX_SESSIONS_PER_USER + 4)
    ]

    def works(token: str) -> bool:
        answer = httpx.get(f"{site_url}/api/access", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code == 200

    assert [works(token) for token in bobs] == [False] * 4 + [True] * MAX_SESSIONS_PER_USER
    assert works(alices)


def test_the_services_proof_of_identity_opens_no_session_as_the_service(site_url: str) -> None:
    """Anybody may ask the service to prove who runs it; bob then hands that credential (of
    the operator account, which sees everything) back as his proof of user: refused."""
    identity = httpx.get(f"{site_url}/api/identity", params={"challenge": "ab" * 16})
    assert identity.status_code == 200
    refused = open_session(site_url, f"MUNGE {identity.json()['credential']}")
    assert refused.status_code == 401
    assert "carries no payload" in refused.json()["message"]


@pytest.mark.parametrize("challenge", ["", "ab", "zz" * 16, "ab" * 65, "../../etc"])
def test_a_bad_challenge_is_refused_before_munge_runs(site_url: str, challenge: str) -> None:
    identity = httpx.get(f"{site_url}/api/identity", params={"challenge": challenge})
    assert identity.status_code == 400
    assert "hexadecimal" in identity.json()["message"]


# ------------------------------------------------------------------ over TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a site's own CA would issue one."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate to serve TLS with")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "site.pem", folder / "site.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        capture_output=True, check=True,
    )  # fmt: skip
    return cert, key


def test_over_tls_a_server_reads_with_the_sites_ca_and_refuses_an_unknown_certificate(
    cluster: dict[str, Any], certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    port = free_port()
    config = site_config(
        cluster["site_user"],
        bind_url=f"https://127.0.0.1:{port}",
        certfile=str(cert),
        keyfile=str(key),
    )

    async def read_jobs(ca_file: Path | None) -> list[Job]:
        client = SiteClient(
            f"https://127.0.0.1:{port}",
            command_prefix=as_user("alice"),
            ca_file=str(ca_file) if ca_file else None,
        )
        try:
            return await client.items("/api/jobs", Job, scope="all")
        finally:
            await client.close()

    with site_service_process(tmp_path, config, port):
        assert isinstance(asyncio.run(read_jobs(cert)), list)
        with pytest.raises(SiteUnusable, match="CERTIFICATE_VERIFY_FAILED"):
            asyncio.run(read_jobs(None))


def test_an_https_bind_url_without_a_certificate_is_refused_not_served_in_plain(
    tmp_path: Path,
) -> None:
    (tmp_path / "jupyter_hpc_site_config.json").write_text(
        json.dumps({"HPCSiteApp": {"bind_url": f"https://127.0.0.1:{free_port()}"}})
    )
    refused = subprocess.run(
        [sys.executable, "-m", "jupyterlab_hpc.site.app"],
        env={**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "HPCSiteApp.certfile" in refused.stderr
