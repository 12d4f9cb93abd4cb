"""What the site service reads for everyone, from outputs captured on the real cluster
(cluster/capture_outputs.py --only site-rules): PrivateData, the users' roles, every
association and every default account."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyterlab_hpc.slurm.commands.quotas import (
    all_assoc_mgr_argv,
    all_default_accounts_argv,
    parse_all_quotas,
    parse_default_accounts,
    parse_quotas,
)
from jupyterlab_hpc.slurm.commands.site_rules import parse_private_data, parse_roles, roles_argv
from jupyterlab_hpc.slurm.records import AccountQuota

CAPTURED = Path(__file__).parent / "captured"
# The release whose cluster the site service's views were captured on.
SITE_CAPTURED = CAPTURED / "slurm-22.05"
# The users of the local cluster (cluster.json: users, site_user, coordinators, extra_users).
CLUSTER_USERS = {"alice", "bob", "carol", "hpcsite", "hpcuser001", "hpcuser002", "hpcuser003"}


def _read(name: str) -> str:
    return (SITE_CAPTURED / name).read_text()


@pytest.fixture(params=sorted(CAPTURED.glob("slurm-*")), ids=lambda path: path.name)
def release(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


# PrivateData


def test_unset_private_data_is_shown_as_none_and_is_no_flag(release: Path) -> None:
    config = (release / "scontrol_config.txt").read_text()
    assert any(line.split() == ["PrivateData", "=", "none"] for line in config.splitlines())
    assert parse_private_data(config) == frozenset()


def test_private_data_set_on_the_cluster_gives_its_flags() -> None:
    assert parse_private_data(_read("scontrol_config_private_data.txt")) == {"jobs", "usage"}


def test_the_private_data_capture_differs_from_the_plain_one_only_by_that_line() -> None:
    plain = _read("scontrol_config.txt").splitlines()
    private = _read("scontrol_config_private_data.txt").splitlines()
    [line] = [line for line in private if line.startswith("PrivateData ")]
    assert line.split("=", 1)[1].strip() == "jobs,usage"
    assert len(plain) == len(private)


@pytest.mark.parametrize(
    ("line", "flags"),
    [
        ("PrivateData             = none", set()),
        ("PrivateData = jobs,usage", {"jobs", "usage"}),
        ("PrivateData = Jobs, Reservations ,USAGE", {"jobs", "reservations", "usage"}),
        ("PrivateData = accounts,events,jobs,nodes,partitions,reservations,usage,users",
         {"accounts", "events", "jobs", "nodes", "partitions", "reservations", "usage", "users"}),
        ("PrivateData = ", set()),
    ],
)  # fmt: skip
def test_private_data_flags_are_lowercase_and_none_is_dropped(line: str, flags: set[str]) -> None:
    config = f"Configuration data as of 2026-01-01T00:00:00\nAccountingStorageType = x\n{line}\n"
    assert parse_private_data(config) == flags


def test_no_private_data_line_is_no_flag() -> None:
    assert parse_private_data("") == frozenset()
    # A key that merely contains the word is not the setting.
    assert parse_private_data("NotPrivateData = jobs\n") == frozenset()


# Roles


def test_roles_argv_lists_every_user_with_admin_level_and_coordinated_accounts() -> None:
    argv = roles_argv()
    assert argv[0] == "sacctmgr"
    assert {"--noheader", "--parsable2", "withcoord"} <= set(argv)
    assert argv[-1] == "format=User,AdminLevel,Coordinators"


def test_the_captured_roles_list_every_user_of_the_cluster() -> None:
    users = {line.split("|")[0] for line in _read("site_roles.txt").splitlines() if line}
    assert users == {*CLUSTER_USERS, "root"}


def test_operators_and_administrators_are_privileged() -> None:
    roles = parse_roles(_read("site_roles.txt"))
    assert roles.privileged == {"hpcsite", "root"}


def test_a_coordinator_coordinates_only_their_account() -> None:
    roles = parse_roles(_read("site_roles.txt"))
    assert roles.coordinated_accounts == {"carol": {"proj2"}}
    assert "carol" not in roles.privileged


def test_several_coordinated_accounts_and_odd_lines() -> None:
    output = (
        "dave|None|proj1,proj2\n"
        "erin|Operator|proj3\n"
        "frank|None|\n"
        "|None|proj1\n"  # no user
        "garbage\n"
        "gina|Administrator|x|extra\n"  # not three fields
        "\n"
    )
    roles = parse_roles(output)
    assert roles.privileged == {"erin"}
    assert roles.coordinated_accounts == {"dave": {"proj1", "proj2"}, "erin": {"proj3"}}


def test_admin_levels_other_than_operator_and_administrator_are_not_privileged() -> None:
    roles = parse_roles("a|None|\nb|operator|\nc|Admin|\nd|Operator|\n")
    assert roles.privileged == {"d"}


# Every association


def test_all_assoc_mgr_argv_names_no_user() -> None:
    argv = all_assoc_mgr_argv()
    assert argv[:3] == ["scontrol", "show", "assoc_mgr"]
    assert not any(arg.startswith("users=") for arg in argv)
    assert "flags=assoc" in argv


@pytest.fixture
def everyone() -> dict[str, list[AccountQuota]]:
    return parse_all_quotas(_read("site_assoc_mgr_all.txt"))


def test_every_user_with_an_association_has_quotas(
    everyone: dict[str, list[AccountQuota]],
) -> None:
    assert set(everyone) == {*CLUSTER_USERS, "root"}
    accounts = {user: [quota.account for quota in quotas] for user, quotas in everyone.items()}
    assert accounts["alice"] == ["proj1", "proj2"]
    assert accounts["carol"] == ["proj2"]
    assert accounts["hpcsite"] == ["root"]


def test_each_users_default_is_the_association_slurm_marks(
    everyone: dict[str, list[AccountQuota]],
) -> None:
    defaults = {
        user: [quota.account for quota in quotas if quota.default]
        for user, quotas in everyone.items()
    }
    assert defaults["alice"] == ["proj1"]
    assert defaults["bob"] == ["proj2"]
    assert defaults["carol"] == ["proj2"]
    assert all(len(found) == 1 for found in defaults.values())


def test_account_limits_come_from_the_account_and_user_limits_from_the_users_own(
    everyone: dict[str, list[AccountQuota]],
) -> None:
    bob = {quota.account: quota for quota in everyone["bob"]}
    limits = {(limit.name, limit.tres): limit for limit in bob["proj2"].limits}
    assert set(limits) == {("GrpTRES", "cpu"), ("GrpTRESMins", "cpu"), ("MaxWall", None)}
    assert (limits["GrpTRES", "cpu"].limit, limits["GrpTRES", "cpu"].scope) == (4, "account")
    assert limits["GrpTRESMins", "cpu"].limit == 600
    assert (limits["MaxWall", None].limit, limits["MaxWall", None].scope) == (120, "user")
    assert all(limit.account == "proj2" for limit in limits.values())


def test_the_root_account_with_no_limit_set_gives_none(
    everyone: dict[str, list[AccountQuota]],
) -> None:
    (root,) = everyone["hpcsite"]
    assert root.limits == ()


def test_only_gives_that_user_alone(everyone: dict[str, list[AccountQuota]]) -> None:
    output = _read("site_assoc_mgr_all.txt")
    only = parse_all_quotas(output, only="carol")
    assert list(only) == ["carol"]
    assert only["carol"] == everyone["carol"]
    assert parse_all_quotas(output, only="nobody") == {}
    assert parse_quotas(output, "alice") == everyone["alice"]


def test_the_whole_clusters_read_agrees_with_the_single_users_one(
    everyone: dict[str, list[AccountQuota]],
) -> None:
    """Usage and fairshare moved between the two captures; the limits did not."""
    single = parse_quotas(_read("assoc_mgr.txt"), "alice")

    def shape(quotas: list[AccountQuota]) -> list[tuple[object, ...]]:
        return [
            (
                q.account,
                q.default,
                [(x.name, x.tres, x.limit, x.scope, x.account) for x in q.limits],
            )
            for q in quotas
        ]

    assert shape(everyone["alice"]) == shape(single)


# Default accounts


def test_all_default_accounts_argv_names_no_user() -> None:
    argv = all_default_accounts_argv()
    assert argv[:2] == ["sacctmgr", "--noheader"]
    assert not any(arg.startswith("name=") for arg in argv)
    assert argv[-1] == "format=User,DefaultAccount"


def test_every_users_default_account() -> None:
    defaults = parse_default_accounts(_read("site_default_accounts.txt"))
    assert defaults == {
        "alice": "proj1",
        "bob": "proj2",
        "carol": "proj2",
        "hpcsite": "root",
        "hpcuser001": "proj1",
        "hpcuser002": "proj2",
        "hpcuser003": "proj1",
        "root": "root",
    }


def test_default_accounts_agree_with_the_associations_slurmctld_marks(
    everyone: dict[str, list[AccountQuota]],
) -> None:
    defaults = parse_default_accounts(_read("site_default_accounts.txt"))
    marked = {
        user: next(quota.account for quota in quotas if quota.default)
        for user, quotas in everyone.items()
    }
    assert marked == defaults


def test_users_without_a_default_account_and_odd_lines_are_left_out() -> None:
    output = "alice|proj1\nnodefault|\n|proj2\ngarbage\ntoo|many|fields\n\n"
    assert parse_default_accounts(output) == {"alice": "proj1"}
