"""The site service's parts without a cluster: records over the wire, who sees what, session
tokens, one read of Slurm for every user, and a per-user server's fallback to its own Slurm."""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import Awaitable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, cast

import orjson
import pytest

from jupyterlab_hpc.site.client import SiteClient, SiteUnusable
from jupyterlab_hpc.site.data import Intervals, ServiceNotPrivileged, SiteData
from jupyterlab_hpc.site.sessions import MAX_SESSIONS_PER_USER, Sessions
from jupyterlab_hpc.site.site_first import SiteFirstBackend
from jupyterlab_hpc.site.visibility import Viewer, Visibility
from jupyterlab_hpc.site.wire import from_plain, to_plain
from jupyterlab_hpc.slurm.backend import SlurmBackend
from jupyterlab_hpc.slurm.commands.backend import SlurmCommands
from jupyterlab_hpc.slurm.commands.cluster_info import parse_cluster_info
from jupyterlab_hpc.slurm.commands.fields import SEPARATOR
from jupyterlab_hpc.slurm.commands.partitions import parse_partitions
from jupyterlab_hpc.slurm.commands.quotas import parse_all_quotas, parse_quotas
from jupyterlab_hpc.slurm.commands.reservations import parse_reservations
from jupyterlab_hpc.slurm.commands.squeue import parse_jobs
from jupyterlab_hpc.slurm.errors import SlurmPermissionDenied, SlurmUnavailable
from jupyterlab_hpc.slurm.records import (
    AccountQuota,
    BatchScript,
    Capacity,
    ClusterInfo,
    Job,
    Limit,
    NodeCounts,
    Partition,
    Reservation,
    SlurmRoles,
    UserAccess,
)

CAPTURED = Path(__file__).parent / "captured" / "slurm-22.05"
CAPTURE_SEPARATOR = SEPARATOR + "captured" * 2


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _job(job_id: str, user: str, account: str | None, partition: str | None) -> Job:
    values: dict[str, Any] = {field.name: None for field in fields(Job)}
    values.update(
        id=job_id, name=f"job {job_id}", user=user, account=account, partition=partition,
        state="PENDING",
    )  # fmt: skip
    return Job(**values)


def _partition(
    name: str, *, hidden: bool = False, allow_groups: tuple[str, ...] | None = None
) -> Partition:
    return Partition(
        name=name, state="UP", default=False, max_time=3600, default_time=None,
        nodes=NodeCounts(total=2, idle=1), cpus=Capacity(total=4, idle=2), gpus=Capacity(),
        memory_mb=4000, allow_accounts=None, deny_accounts=(), allow_groups=allow_groups,
        allow_qos=None, deny_qos=(), root_only=False, hidden=hidden,
    )  # fmt: skip


def _limit(name: str, scope: str, account: str, used: int | float | None = 1) -> Limit:
    return Limit(
        name=name, tres="cpu", limit=10, used=used, unit="cpus", fraction=None, scope=scope,
        account=account, partition=None,
    )  # fmt: skip


def _quota(account: str, *, default: bool, limits: tuple[Limit, ...]) -> AccountQuota:
    return AccountQuota(account=account, default=default, fairshare=0.5, limits=limits)


def _reservation(
    name: str,
    *,
    users: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    accounts: tuple[str, ...] = (),
) -> Reservation:
    return Reservation(
        name=name, start="2026-01-01T00:00:00Z", end="2026-01-01T01:00:00Z", state="INACTIVE",
        nodes="n1", node_count=1, partition=None, flags=(), users=users, groups=groups,
        accounts=accounts,
    )  # fmt: skip


def _viewer(name: str, *groups: str) -> Viewer:
    return Viewer(name=name, groups=frozenset(groups or (name,)))


def _roles(
    privileged: tuple[str, ...] = (), coordinated: dict[str, frozenset[str]] | None = None
) -> SlurmRoles:
    return SlurmRoles(privileged=frozenset(privileged), coordinated_accounts=coordinated or {})


# The wire: records to JSON and back


def _over_the_wire(kind: type[Any], record: Any) -> Any:
    return from_plain(kind, orjson.loads(orjson.dumps(to_plain(record))))


def test_captured_jobs_come_back_equal() -> None:
    jobs = parse_jobs((CAPTURED / "squeue_listing.txt").read_text().split("\n"), CAPTURE_SEPARATOR)
    assert len(jobs) >= 5
    assert [_over_the_wire(Job, job) for job in jobs] == jobs
    plain = orjson.loads(orjson.dumps(to_plain(jobs)))
    assert [from_plain(Job, item) for item in plain] == jobs


def test_captured_partitions_with_access_lists_come_back_equal() -> None:
    partitions = parse_partitions(
        (CAPTURED / "scontrol_partitions_hidden.txt").read_text(),
        (CAPTURED / "sinfo_nodes_hidden.txt").read_text(),
    )
    hidden = [partition for partition in partitions if partition.hidden]
    assert hidden
    assert any(partition.allow_groups for partition in hidden)
    back = [_over_the_wire(Partition, partition) for partition in partitions]
    assert back == partitions
    allow = next(p for p in back if p.name == "capture_allow")
    assert isinstance(allow.allow_groups, tuple)
    assert isinstance(allow.nodes, NodeCounts)


def test_captured_quotas_with_every_kind_of_limit_come_back_equal() -> None:
    everyone = parse_all_quotas((CAPTURED / "site_assoc_mgr_all.txt").read_text())
    (limits,) = parse_quotas((CAPTURED / "assoc_mgr_limits.txt").read_text(), "capture_user")
    quotas = [*everyone["alice"], limits]
    assert sum(len(quota.limits) for quota in quotas) > 10
    back = [_over_the_wire(AccountQuota, quota) for quota in quotas]
    assert back == quotas
    assert all(isinstance(quota.limits, tuple) for quota in back)


def test_a_limits_usage_keeps_whether_it_is_whole_or_fractional() -> None:
    quota = AccountQuota(
        account="a", default=True, fairshare=1.0,
        limits=(_limit("GrpWall", "account", "a", used=2.5), _limit("GrpJobs", "user", "a", 3),
                _limit("MaxTRES", "user", "a", None)),
    )  # fmt: skip
    back = _over_the_wire(AccountQuota, quota)
    assert [limit.used for limit in back.limits] == [2.5, 3, None]
    assert isinstance(back.limits[1].used, int)
    assert isinstance(back.fairshare, float)


def test_captured_reservations_cluster_info_and_access_come_back_equal() -> None:
    reservations = parse_reservations((CAPTURED / "reservations.txt").read_text())
    assert reservations
    assert [_over_the_wire(Reservation, r) for r in reservations] == reservations
    info = parse_cluster_info((CAPTURED / "scontrol_config.txt").read_text())
    assert info is not None
    assert _over_the_wire(ClusterInfo, info) == info
    access = UserAccess("alice", "proj1", ("proj1", "proj2"), ("alice", "users"))
    assert _over_the_wire(UserAccess, access) == access
    assert _over_the_wire(UserAccess, replace(access, default_account=None)).default_account is None


def test_a_fairshare_sent_as_a_whole_number_is_a_float() -> None:
    plain = {"account": "a", "default": False, "fairshare": 1, "limits": []}
    quota = from_plain(AccountQuota, plain)
    assert quota.fairshare == 1.0
    assert isinstance(quota.fairshare, float)
    assert quota.limits == ()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"id": None}, "a required field missing"),
        ({"node_count": True}, "a bool for an int"),
        ({"cpus": "4"}, "a string for an int"),
        ({"name": 3}, "an int for a string"),
        ({"memory_mb": 1.5}, "a float for an int"),
    ],
)
def test_a_job_that_does_not_fit_its_types_is_refused(change: dict[str, Any], why: str) -> None:
    plain = to_plain(_job("1", "alice", "proj1", "debug"))
    with pytest.raises(ValueError, match=r"expected|is none of"):
        from_plain(Job, {**plain, **change})


def test_other_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="expected an object for Job"):
        from_plain(Job, ["not", "an", "object"])
    with pytest.raises(ValueError, match="expected a list, got str"):
        from_plain(UserAccess, {"user": "a", "default_account": None, "accounts": "proj1",
                                "groups": []})  # fmt: skip
    with pytest.raises(ValueError, match="not sent by the site service"):
        from_plain(SlurmRoles, {"privileged": [], "coordinated_accounts": {}})


# Visibility


PARTITIONS = [
    _partition("debug"),
    _partition("secret", hidden=True),
    _partition("gpu", allow_groups=("gpuusers",)),
]
JOBS = [
    _job("1", "alice", "proj1", "debug"),
    _job("2", "alice", "proj1", "secret"),
    _job("3", "bob", "proj2", "gpu"),
    _job("4", "bob", "proj2", "secret,gpu"),
    _job("5", "bob", "proj2", "secret,debug"),
    _job("6", "carol", "proj2", "debug"),
    _job("7", "dave", "proj3", "debug"),
]


def _ids(jobs: list[Job]) -> list[str]:
    return [job.id for job in jobs]


def test_a_privileged_user_sees_every_partition_and_job() -> None:
    rules = Visibility(frozenset({"jobs", "usage", "reservations"}), _roles(("root",)))
    root = _viewer("root")
    assert rules.partitions(PARTITIONS, root) is PARTITIONS
    assert rules.jobs(JOBS, PARTITIONS, root) == JOBS


def test_hidden_partitions_and_those_of_other_groups_are_not_listed() -> None:
    rules = Visibility(frozenset(), _roles())
    assert [p.name for p in rules.partitions(PARTITIONS, _viewer("alice"))] == ["debug"]
    gpu_user = _viewer("bob", "bob", "gpuusers")
    assert [p.name for p in rules.partitions(PARTITIONS, gpu_user)] == ["debug", "gpu"]


def test_jobs_only_in_unlisted_partitions_are_not_listed() -> None:
    rules = Visibility(frozenset(), _roles())
    # 4 may run in secret or gpu, neither listed to alice; 5 may run in debug too.
    assert _ids(rules.jobs(JOBS, PARTITIONS, _viewer("alice"))) == ["1", "5", "6", "7"]
    gpu_user = _viewer("bob", "bob", "gpuusers")
    assert _ids(rules.jobs(JOBS, PARTITIONS, gpu_user)) == ["1", "3", "4", "5", "6", "7"]


def test_with_every_partition_listed_no_job_is_left_out() -> None:
    rules = Visibility(frozenset(), _roles())
    listed = [_partition("debug"), _partition("gpu")]
    jobs = [*JOBS, _job("8", "erin", None, None)]
    assert rules.jobs(jobs, listed, _viewer("erin")) == jobs


def test_a_job_without_a_partition_is_not_hidden_by_someone_elses_hidden_partition() -> None:
    rules = Visibility(frozenset(), _roles())
    job = _job("9", "alice", "proj1", None)
    assert rules.jobs([job], PARTITIONS, _viewer("alice")) == [job]


def test_private_jobs_shows_own_jobs_and_those_of_coordinated_accounts() -> None:
    rules = Visibility(frozenset({"jobs"}), _roles(coordinated={"carol": frozenset({"proj2"})}))
    listed = [_partition("debug"), _partition("gpu"), _partition("secret")]
    assert _ids(rules.jobs(JOBS, listed, _viewer("alice"))) == ["1", "2"]
    assert _ids(rules.jobs(JOBS, listed, _viewer("carol"))) == ["3", "4", "5", "6"]
    assert _ids(rules.jobs(JOBS, listed, _viewer("nobody"))) == []


def test_private_jobs_and_unlisted_partitions_both_apply() -> None:
    rules = Visibility(frozenset({"jobs"}), _roles(coordinated={"carol": frozenset({"proj2"})}))
    assert _ids(rules.jobs(JOBS, PARTITIONS, _viewer("carol"))) == ["5", "6"]


def test_without_private_jobs_coordinators_and_users_see_the_same_jobs() -> None:
    rules = Visibility(frozenset({"usage"}), _roles(coordinated={"carol": frozenset({"proj2"})}))
    listed = [_partition("debug"), _partition("gpu"), _partition("secret")]
    assert rules.jobs(JOBS, listed, _viewer("alice")) == JOBS


RESERVATIONS = [
    _reservation("everyone"),
    _reservation("for_alice", users=("alice", "root")),
    _reservation("for_group", groups=("gpuusers",)),
    _reservation("for_proj2", accounts=("proj2",)),
]


def test_private_reservations_shows_those_naming_the_user_a_group_or_an_account() -> None:
    rules = Visibility(frozenset({"reservations"}), _roles(("root",)))

    def names(viewer: Viewer, accounts: tuple[str, ...]) -> list[str]:
        return [r.name for r in rules.reservations(RESERVATIONS, viewer, accounts)]

    assert names(_viewer("alice"), ("proj1",)) == ["for_alice"]
    assert names(_viewer("bob", "bob", "gpuusers"), ("proj1",)) == ["for_group"]
    assert names(_viewer("carol"), ("proj2",)) == ["for_proj2"]
    assert names(_viewer("dave"), ()) == []
    assert names(_viewer("root"), ()) == [r.name for r in RESERVATIONS]


def test_without_private_reservations_everyone_sees_every_reservation() -> None:
    rules = Visibility(frozenset({"jobs", "usage"}), _roles())
    assert rules.reservations(RESERVATIONS, _viewer("dave"), ()) is RESERVATIONS


PROJ1_LIMITS = (
    _limit("GrpTRES", "account", "proj1"),
    _limit("GrpTRES", "account", "root"),
    _limit("MaxTRES", "user", "proj1"),
)
PROJ2_LIMITS = (_limit("GrpTRES", "account", "proj2"), _limit("MaxWall", "user", "proj2"))
QUOTAS = [
    _quota("proj1", default=True, limits=PROJ1_LIMITS),
    _quota("proj2", default=False, limits=PROJ2_LIMITS),
]


def _limits_by_account(quotas: list[AccountQuota]) -> dict[str, list[tuple[str, str]]]:
    return {q.account: [(limit.scope, limit.account) for limit in q.limits] for q in quotas}


def test_private_usage_keeps_the_users_own_limits_and_coordinated_accounts() -> None:
    rules = Visibility(frozenset({"usage"}), _roles(coordinated={"alice": frozenset({"proj2"})}))
    assert _limits_by_account(rules.quotas(QUOTAS, _viewer("alice"))) == {
        "proj1": [("user", "proj1")],
        "proj2": [("account", "proj2"), ("user", "proj2")],
    }
    assert _limits_by_account(rules.quotas(QUOTAS, _viewer("bob"))) == {
        "proj1": [("user", "proj1")],
        "proj2": [("user", "proj2")],
    }


def test_private_usage_does_not_apply_to_privileged_users_nor_without_the_flag() -> None:
    assert Visibility(frozenset({"usage"}), _roles(("op",))).quotas(QUOTAS, _viewer("op")) is QUOTAS
    assert Visibility(frozenset({"jobs"}), _roles()).quotas(QUOTAS, _viewer("bob")) is QUOTAS


def test_unknown_users_are_refused() -> None:
    with pytest.raises(SlurmPermissionDenied, match="no-such-user"):
        Viewer.named("no-such-user-of-this-host")
    with pytest.raises(SlurmPermissionDenied, match="uid 2147483000"):
        Viewer.of_uid(2147483000)


def test_a_known_user_has_their_groups() -> None:
    viewer = Viewer.of_uid(os.getuid())
    assert viewer == Viewer.named(viewer.name)
    assert viewer.groups  # at least their primary group


# Sessions


def test_a_session_token_names_its_viewer_until_it_expires() -> None:
    clock = FakeClock()
    sessions = Sessions(lifetime=60, clock=clock)
    alice, bob = _viewer("alice"), _viewer("bob")
    token, other = sessions.open(alice), sessions.open(bob)
    assert token != other
    assert len(token) >= 32
    clock.now += 59.9
    assert (sessions.viewer(token), sessions.viewer(other)) == (alice, bob)
    clock.now += 0.1
    assert sessions.viewer(token) is None


def test_an_unknown_token_has_no_viewer() -> None:
    sessions = Sessions(lifetime=60, clock=FakeClock())
    sessions.open(_viewer("alice"))
    assert sessions.viewer("") is None
    assert sessions.viewer("not-a-token") is None


def test_expired_sessions_are_forgotten_when_another_opens() -> None:
    clock = FakeClock()
    sessions = Sessions(lifetime=10, clock=clock)
    old = [sessions.open(_viewer(f"user{n}")) for n in range(5)]
    clock.now += 10
    new = sessions.open(_viewer("alice"))
    assert set(sessions._viewers) == {new}
    assert all(sessions.viewer(token) is None for token in old)


def test_a_user_opening_sessions_in_a_loop_replaces_their_own_oldest() -> None:
    sessions = Sessions(lifetime=60, clock=FakeClock())
    bobs = sessions.open(_viewer("bob"))
    tokens = [sessions.open(_viewer("alice")) for _ in range(MAX_SESSIONS_PER_USER + 3)]
    live = [token for token in tokens if sessions.viewer(token) is not None]
    assert live == tokens[-MAX_SESSIONS_PER_USER:]
    assert sessions.viewer(bobs) == _viewer("bob")


# SiteData: one read of Slurm for everyone


class FakeSlurm:
    """The service's backend: the whole cluster's data, counting each read."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.jobs = [_job(str(n), f"user{n % 10}", f"proj{n % 3}", "debug") for n in range(100)]
        self.partitions = [_partition("debug"), _partition("compute")]
        self.flags: frozenset[str] = frozenset()
        self.the_roles = _roles(("hpcsite",))
        self.roles_fail = False
        self.me = "hpcsite"
        alice_proj1 = (_limit("GrpTRES", "account", "proj1"), _limit("MaxTRES", "user", "proj1"))
        self.quotas = {
            "alice": [
                _quota("proj1", default=True, limits=alice_proj1),
                _quota("proj2", default=False, limits=(_limit("GrpTRES", "account", "proj2"),)),
            ],
            "bob": [_quota("proj2", default=True, limits=())],
        }
        self.defaults = {"alice": "proj2", "bob": "proj2"}
        self.reservations = [_reservation("r1", users=("alice",)), _reservation("r2")]

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        self.calls["list_jobs"] += 1
        assert not mine, "the service reads everyone's jobs"
        await asyncio.sleep(0)
        return self.jobs

    async def list_partitions(self) -> list[Partition]:
        self.calls["list_partitions"] += 1
        return self.partitions

    async def private_data(self) -> frozenset[str]:
        self.calls["private_data"] += 1
        return self.flags

    async def roles(self) -> SlurmRoles:
        self.calls["roles"] += 1
        if self.roles_fail:
            msg = "Problem talking to the database"
            raise SlurmUnavailable(msg)
        return self.the_roles

    async def list_all_quotas(self) -> dict[str, list[AccountQuota]]:
        self.calls["list_all_quotas"] += 1
        return self.quotas

    async def default_accounts(self) -> dict[str, str]:
        self.calls["default_accounts"] += 1
        return self.defaults

    async def whoami(self) -> str:
        self.calls["whoami"] += 1
        return self.me

    async def cluster_info(self) -> ClusterInfo:
        self.calls["cluster_info"] += 1
        return ClusterInfo("hpc", "22.05.8")

    async def list_reservations(self) -> list[Reservation]:
        self.calls["list_reservations"] += 1
        return self.reservations


LOG = logging.getLogger("jupyterlab_hpc.tests.site_units")


def _site_data(slurm: FakeSlurm, clock: FakeClock) -> SiteData:
    data = SiteData(cast("SlurmCommands", slurm), Intervals(), LOG)
    data.cache.clock = clock
    return data


VIEWERS = [_viewer(f"user{n}") for n in range(50)]


async def test_fifty_viewers_cost_one_read_of_each_kind_per_interval() -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    data = _site_data(slurm, clock)

    async def everyone_polls() -> None:
        await asyncio.gather(*(data.jobs(viewer, mine=False) for viewer in VIEWERS))
        await asyncio.gather(*(data.jobs(viewer, mine=True) for viewer in VIEWERS))
        await asyncio.gather(*(data.partitions(viewer) for viewer in VIEWERS))

    await everyone_polls()
    await everyone_polls()
    assert (slurm.calls["list_jobs"], slurm.calls["list_partitions"]) == (1, 1)
    assert (slurm.calls["private_data"], slurm.calls["roles"]) == (1, 1)
    clock.now += 25  # past the jobs' and the partitions' interval twice over
    await everyone_polls()
    assert (slurm.calls["list_jobs"], slurm.calls["list_partitions"]) == (2, 2)
    assert (slurm.calls["private_data"], slurm.calls["roles"]) == (1, 1)  # 300 s interval


async def test_a_view_is_cut_once_per_read(monkeypatch: pytest.MonkeyPatch) -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    slurm.flags = frozenset({"jobs"})
    data = _site_data(slurm, clock)
    cuts: Counter[str] = Counter()
    cut = Visibility.jobs

    def counting(self: Visibility, jobs: list[Job], parts: list[Partition], v: Viewer) -> list[Job]:
        cuts[v.name] += 1
        return cut(self, jobs, parts, v)

    monkeypatch.setattr(Visibility, "jobs", counting)
    first = {v.name: await data.jobs(v, mine=False) for v in VIEWERS}
    for _ in range(3):
        for viewer in VIEWERS:
            assert await data.jobs(viewer, mine=False) is first[viewer.name]
    assert sum(cuts.values()) == 50
    assert set(cuts.values()) == {1}
    assert [job.id for job in first["user3"].value] == [str(n) for n in range(3, 100, 10)]
    clock.now += 11
    again = await data.jobs(VIEWERS[3], mine=False)
    assert again is not first["user3"]
    assert again.value == first["user3"].value
    assert cuts["user3"] == 2


async def test_everyone_gets_the_read_itself_when_nothing_is_left_out() -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    data = _site_data(slurm, clock)
    views = [await data.jobs(viewer, mine=False) for viewer in VIEWERS]
    assert all(view is views[0] for view in views)
    assert views[0].value is slurm.jobs
    parts = [await data.partitions(viewer) for viewer in VIEWERS]
    assert all(view is parts[0] for view in parts)
    assert parts[0].value is slurm.partitions
    mine = await data.jobs(VIEWERS[1], mine=True)
    assert mine is not views[0]
    assert {job.user for job in mine.value} == {"user1"}


async def test_a_hidden_partition_is_a_view_of_its_own() -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    slurm.partitions = [*slurm.partitions, _partition("secret", hidden=True)]
    data = _site_data(slurm, clock)
    view = await data.partitions(VIEWERS[0])
    assert [p.name for p in view.value] == ["debug", "compute"]
    assert view.value is not slurm.partitions


async def test_the_service_serves_nothing_when_private_data_hides_from_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    slurm.flags = frozenset({"jobs"})
    slurm.me = "hpcsite"
    slurm.the_roles = _roles(("root",))  # hpcsite not an operator
    data = _site_data(slurm, clock)
    with caplog.at_level(logging.ERROR, logger=LOG.name):
        for _ in range(3):
            with pytest.raises(ServiceNotPrivileged, match="AdminLevel=Operator"):
                await data.jobs(VIEWERS[0], mine=False)
        with pytest.raises(ServiceNotPrivileged, match="hpcsite"):
            await data.partitions(VIEWERS[0])
    assert len([r for r in caplog.records if "serving no views" in r.getMessage()]) == 1


async def test_private_data_that_hides_nothing_needs_no_privilege() -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    slurm.flags = frozenset({"events", "nodes"})
    slurm.the_roles = _roles()
    data = _site_data(slurm, clock)
    assert (await data.jobs(VIEWERS[0], mine=False)).value is slurm.jobs
    assert slurm.calls["whoami"] == 0


async def test_without_roles_nobody_is_privileged_or_coordinates_and_the_service_serves(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    slurm.flags = frozenset({"jobs"})
    slurm.roles_fail = True
    slurm.me = "not-an-operator"
    data = _site_data(slurm, clock)
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        root = await data.jobs(_viewer("user4"), mine=False)
    assert {job.user for job in root.value} == {"user4"}
    assert any("roles unknown" in r.getMessage() for r in caplog.records)


async def test_coordinators_see_their_accounts_jobs_under_private_jobs() -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    slurm.flags = frozenset({"jobs"})
    slurm.the_roles = _roles(("hpcsite",), {"carol": frozenset({"proj1"})})
    data = _site_data(slurm, clock)
    view = (await data.jobs(_viewer("carol"), mine=False)).value
    assert {job.account for job in view} == {"proj1"}
    assert len(view) == 33
    assert (await data.jobs(_viewer("carol"), mine=True)).value == []


async def test_a_users_quotas_are_their_own_with_slurmdbds_default() -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    data = _site_data(slurm, clock)
    alice = (await data.quotas(_viewer("alice"))).value
    assert [(q.account, q.default) for q in alice] == [("proj1", False), ("proj2", True)]
    assert (await data.quotas(_viewer("nobody"))).value == []
    access = await data.access(_viewer("alice", "alice", "users"))
    assert access == UserAccess("alice", "proj1", ("proj1", "proj2"), ("alice", "users"))


async def test_private_usage_drops_the_accounts_limits_from_a_users_quotas() -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    slurm.flags = frozenset({"usage"})
    data = _site_data(slurm, clock)
    alice = (await data.quotas(_viewer("alice"))).value
    assert [[limit.scope for limit in q.limits] for q in alice] == [["user"], []]


async def test_private_reservations_use_the_users_accounts() -> None:
    slurm, clock = FakeSlurm(), FakeClock()
    slurm.flags = frozenset({"reservations"})
    slurm.reservations = [*slurm.reservations, _reservation("r3", accounts=("proj2",))]
    data = _site_data(slurm, clock)
    assert [r.name for r in (await data.reservations(_viewer("alice"))).value] == ["r1", "r3"]
    assert [r.name for r in (await data.reservations(_viewer("carol"))).value] == []
    assert (await data.cluster()) == ClusterInfo("hpc", "22.05.8")


# SiteFirstBackend: the service first, the user's own Slurm when it cannot answer


class FakeSiteClient:
    def __init__(self) -> None:
        self.url = "http://site.example:8765"
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.problem: str | None = None
        self.outage = False
        self.user = "alice"
        self.closed = False

    def _answer(self, path: str, params: dict[str, str]) -> None:
        self.calls.append((path, params))
        if self.problem is not None:
            raise SiteUnusable(self.problem)
        if self.outage:
            msg = "slurmctld is down (site service)"
            raise SlurmUnavailable(msg)

    async def items(self, path: str, _kind: type[Any], **params: str) -> list[Any]:
        self._answer(path, params)
        return [f"site {path} {params}"]

    async def item(self, path: str, kind: type[Any]) -> Any:
        self._answer(path, {})
        if kind is UserAccess:
            return UserAccess(self.user, "proj1", ("proj1",), (self.user,))
        return ClusterInfo("site", "22.05.8")

    async def close(self) -> None:
        self.closed = True


class FakeOwn:
    name = "commands"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.closed = False

    def __getattr__(self, method: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(method)
            if method == "user_access":
                return UserAccess(args[0], None, (), ())
            if method == "cluster_info":
                return ClusterInfo("own", "22.05.8")
            if method == "whoami":
                return "alice"
            return [f"own {method}"]

        return call


@pytest.fixture
def parts() -> tuple[SiteFirstBackend, FakeSiteClient, FakeOwn, FakeClock]:
    site, own, clock = FakeSiteClient(), FakeOwn(), FakeClock()
    backend = SiteFirstBackend(
        cast("SlurmBackend", own), cast("SiteClient", site), retry_after=30, log=LOG, clock=clock
    )
    return backend, site, own, clock


Parts = tuple[SiteFirstBackend, FakeSiteClient, FakeOwn, FakeClock]


async def said(read: Awaitable[object]) -> object:
    """What a read answered (the fakes answer strings in place of records)."""
    return await read


async def test_reads_come_from_the_site_service_while_it_answers(parts: Parts) -> None:
    backend, site, own, _ = parts
    assert backend.name == "commands"
    assert await said(backend.list_jobs(mine=True)) == ["site /api/jobs {'scope': 'mine'}"]
    assert await said(backend.list_jobs(mine=False)) == ["site /api/jobs {'scope': 'all'}"]
    assert await said(backend.list_partitions()) == ["site /api/partitions {}"]
    assert await said(backend.list_quotas("alice")) == ["site /api/quotas {}"]
    assert await said(backend.list_reservations()) == ["site /api/reservations {}"]
    assert (await backend.cluster_info()).cluster == "site"
    assert (await backend.user_access("alice")).default_account == "proj1"
    assert own.calls == []
    assert backend.source == {"site_url": site.url, "via_site": True, "problem": None}


async def test_an_unusable_service_is_left_for_one_interval_and_logged_once(
    parts: Parts, caplog: pytest.LogCaptureFixture
) -> None:
    backend, site, own, clock = parts
    site.problem = "connection refused"
    with caplog.at_level(logging.INFO, logger=LOG.name):
        assert await said(backend.list_jobs(mine=True)) == ["own list_jobs"]
        tried = len(site.calls)
        clock.now += 29
        assert await said(backend.list_partitions()) == ["own list_partitions"]
        assert (await backend.cluster_info()).cluster == "own"
        assert len(site.calls) == tried  # not asked within the interval
        assert backend.source == {
            "site_url": site.url, "via_site": False, "problem": "connection refused",
        }  # fmt: skip
        clock.now += 1.5
        assert await said(backend.list_partitions()) == ["own list_partitions"]
        assert len(site.calls) == tried + 1  # tried again, still unusable
        clock.now += 29
        assert await said(backend.list_reservations()) == ["own list_reservations"]
        assert len(site.calls) == tried + 1  # the interval started again at the retry
        clock.now += 2
        site.problem = None
        assert await said(backend.list_partitions()) == ["site /api/partitions {}"]
        assert await said(backend.list_reservations()) == ["site /api/reservations {}"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "connection refused" in warnings[0].getMessage()
    infos = [r for r in caplog.records if "answers again" in r.getMessage()]
    assert len(infos) == 1
    assert backend.source["via_site"] is True
    assert backend.problem is None
    assert own.calls == ["list_jobs", "list_partitions", "cluster_info", "list_partitions",
                         "list_reservations"]  # fmt: skip


async def test_a_slurm_outage_the_service_reports_is_passed_on(parts: Parts) -> None:
    backend, site, own, _ = parts
    site.outage = True
    with pytest.raises(SlurmUnavailable):
        await backend.list_jobs(mine=False)
    assert own.calls == []
    assert backend.source["via_site"] is True


async def test_an_answer_about_another_user_makes_the_service_unusable(parts: Parts) -> None:
    backend, site, own, _ = parts
    site.user = "bob"
    access = await backend.user_access("alice")
    assert access == UserAccess("alice", None, (), ())
    assert own.calls == ["user_access"]
    assert backend.problem is not None
    assert "bob" in backend.problem
    assert "alice" in backend.problem
    assert await said(backend.list_jobs(mine=True)) == ["own list_jobs"]  # for the whole interval


async def test_actions_and_identity_always_go_to_the_users_own_slurm(parts: Parts) -> None:
    backend, site, own, _ = parts
    await backend.whoami()
    await backend.get_job("1")
    await backend.get_job_detail("1")
    await backend.act_on_job("1", "cancel")
    await backend.submit("#!/bin/sh\n", "/tmp")
    await backend.submit_script(BatchScript("#!/bin/sh\n", ("--time=5",)))
    await backend.job_status("1")
    await backend.signal_batch_shell("1", 15)
    await backend.node_address()
    assert site.calls == []
    assert own.calls == [
        "whoami", "get_job", "get_job_detail", "act_on_job", "submit", "submit_script",
        "job_status", "signal_batch_shell", "node_address",
    ]  # fmt: skip
    await backend.close()
    assert site.closed
    assert own.calls[-1] == "close"
