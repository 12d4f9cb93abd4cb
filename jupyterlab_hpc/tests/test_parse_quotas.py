"""Account quotas from assoc_mgr and sacctmgr output captured on the real cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyterlab_hpc.slurm.commands.quotas import (
    assoc_mgr_argv,
    parse_default_account,
    parse_quotas,
    sacctmgr_default_account_argv,
)
from jupyterlab_hpc.slurm.errors import InvalidRequest
from jupyterlab_hpc.slurm.records import AccountQuota, Limit

CAPTURED = Path(__file__).parent / "captured"


@pytest.fixture(params=sorted(CAPTURED.glob("slurm-*")), ids=lambda path: path.name)
def release(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def _by_account(release: Path, name: str, user: str) -> dict[str, AccountQuota]:
    quotas = parse_quotas((release / name).read_text(), user)
    return {quota.account: quota for quota in quotas}


def _limits(quota: AccountQuota) -> dict[tuple[str, str | None, str | None], Limit]:
    return {(limit.name, limit.tres, limit.partition): limit for limit in quota.limits}


@pytest.fixture
def alice(release: Path) -> dict[str, AccountQuota]:
    return _by_account(release, "assoc_mgr.txt", "alice")


@pytest.fixture
def capture_user(release: Path) -> AccountQuota:
    (quota,) = _by_account(release, "assoc_mgr_limits.txt", "capture_user").values()
    return quota


def test_each_of_the_users_accounts_has_a_quota_and_one_is_the_default(
    alice: dict[str, AccountQuota],
) -> None:
    assert list(alice) == ["proj1", "proj2"]
    assert (alice["proj1"].default, alice["proj2"].default) == (True, False)


def test_only_limits_that_are_set_appear(alice: dict[str, AccountQuota]) -> None:
    for account in ("proj1", "proj2"):
        assert set(_limits(alice[account])) == {
            ("GrpTRES", "cpu", None),
            ("GrpTRESMins", "cpu", None),
            ("MaxWall", None, None),
        }


def test_the_account_budget_is_its_cpu_minutes_limit_with_usage(
    alice: dict[str, AccountQuota],
) -> None:
    budget = _limits(alice["proj1"])["GrpTRESMins", "cpu", None]
    assert (budget.limit, budget.unit, budget.scope, budget.account) == (
        6000,
        "cpu-minutes",
        "account",
        "proj1",
    )
    assert isinstance(budget.used, int)
    assert budget.fraction == round(budget.used / 6000, 4)
    assert _limits(alice["proj2"])["GrpTRESMins", "cpu", None].limit == 600


def test_cpus_in_use_count_against_the_account_cpu_limit(
    alice: dict[str, AccountQuota],
) -> None:
    cpus = _limits(alice["proj1"])["GrpTRES", "cpu", None]
    assert (cpus.limit, cpus.unit) == (6, "cpus")
    assert cpus.used is not None
    assert cpus.used >= 1  # the capture's jobs run in proj1
    assert _limits(alice["proj2"])["GrpTRES", "cpu", None].limit == 4


def test_max_wall_is_a_per_job_limit_in_minutes_without_usage(
    alice: dict[str, AccountQuota],
) -> None:
    wall = _limits(alice["proj1"])["MaxWall", None, None]
    assert (wall.limit, wall.unit, wall.used, wall.fraction, wall.scope) == (
        240,
        "minutes",
        None,
        None,
        "user",
    )
    assert _limits(alice["proj2"])["MaxWall", None, None].limit == 120


def test_fairshare_is_slurms_factor_between_zero_and_one(
    alice: dict[str, AccountQuota],
) -> None:
    for quota in alice.values():
        assert quota.fairshare is not None
        assert 0.0 <= quota.fairshare <= 1.0


def test_limits_of_every_account_above_the_users_count(capture_user: AccountQuota) -> None:
    limits = _limits(capture_user)
    gpu_budget = limits["GrpTRESMins", "gres/gpu", None]
    assert (gpu_budget.limit, gpu_budget.unit, gpu_budget.account) == (
        600,
        "gpu-minutes",
        "capture_parent",
    )
    assert (limits["GrpJobs", None, None].limit, limits["GrpJobs", None, None].unit) == (8, "jobs")


def test_every_kind_of_account_limit_is_read_with_its_unit(capture_user: AccountQuota) -> None:
    limits = _limits(capture_user)
    expected = {
        ("GrpSubmitJobs", None): (20, "jobs"),
        ("GrpWall", None): (600, "minutes"),
        ("GrpTRES", "cpu"): (4, "cpus"),
        ("GrpTRES", "mem"): (4000, "MB"),
        ("GrpTRES", "gres/gpu"): (2, "gpus"),
        ("GrpTRESRunMins", "cpu"): (1000, "cpu-minutes"),
    }
    for (name, tres), (limit, unit) in expected.items():
        found = limits[name, tres, None]
        assert (found.limit, found.unit, found.scope, found.account) == (
            limit,
            unit,
            "account",
            "capture_child",
        )
    assert limits["GrpWall", None, None].used == 0.0  # minutes, printed with decimals


def test_every_kind_of_user_limit_is_read_with_its_unit(capture_user: AccountQuota) -> None:
    limits = _limits(capture_user)
    expected = {
        ("MaxJobs", None): (3, 0, "jobs"),
        ("MaxSubmitJobs", None): (5, 0, "jobs"),
        ("MaxWall", None): (60, None, "minutes"),
        ("GrpTRESMins", "cpu"): (300, 0, "cpu-minutes"),
        ("MaxTRES", "cpu"): (2, None, "cpus"),
        ("MaxTRESPerNode", "cpu"): (2, None, "cpus"),
        ("MaxTRESMins", "cpu"): (120, None, "cpu-minutes"),
    }
    for (name, tres), (limit, used, unit) in expected.items():
        found = limits[name, tres, None]
        assert (found.limit, found.used, found.unit, found.scope) == (limit, used, unit, "user")


def test_a_partition_association_adds_its_own_limits(capture_user: AccountQuota) -> None:
    limits = _limits(capture_user)
    assert limits["MaxJobs", None, "debug"].limit == 1
    assert limits["MaxWall", None, "debug"].limit == 60  # inherited from the account
    assert capture_user.default


def test_the_json_shape_carries_the_contract_fields(capture_user: AccountQuota) -> None:
    shape = capture_user.to_json()
    assert set(shape) == {"account", "default", "fairshare", "limits"}
    assert {"name", "tres", "limit", "used", "unit", "fraction"} <= set(shape["limits"][0])


def test_sacctmgr_names_the_users_default_account(release: Path) -> None:
    assert parse_default_account((release / "sacctmgr_default_account.txt").read_text()) == "proj1"


def test_names_that_would_change_a_commands_meaning_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        assoc_mgr_argv("alice accounts=root")
    with pytest.raises(InvalidRequest):
        sacctmgr_default_account_argv("alice,bob")
