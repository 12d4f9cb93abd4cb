"""Account quotas: every association limit Slurm enforces on a user, with its live usage.

The limits and their usage come from slurmctld's association manager (``scontrol show
assoc_mgr``), which prints each limit as ``limit(used)``, ``N`` for no limit:
``GrpTRESMins=cpu=6000(5),mem=N(2724)``. It is what slurmctld enforces, live, and it also
carries the fairshare factor (``SharesRaw/Norm/Level/Factor=1/0.50/2/0.20``; the same value
as sshare's FairShare, to two decimals). A job is held to the limits of its user association
(own and inherited ``Max*`` limits, own ``Grp*`` limits) and to the ``Grp*`` limits of its
account and of every account above it. The user's associations and default account as slurmdbd
records them come from ``sacctmgr`` (which fails when slurmdbd is down).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from jupyterlab_hpc.slurm.commands.scontrol_text import parse_records, split_name_id
from jupyterlab_hpc.slurm.records import AccountQuota, Limit
from jupyterlab_hpc.slurm.validation import slurm_name

_LIMIT_USED = re.compile(r"^(?P<limit>N|\d+)?(?:\((?P<used>\d+(?:\.\d+)?)\))?$")

# (assoc_mgr field, limit name as sacctmgr spells it, unit) of the limits that count jobs or
# minutes. The Max* fields on account records are already inherited into the user's record.
_COUNT_LIMITS = (
    ("GrpJobs", "GrpJobs", "jobs"),
    ("GrpJobsAccrue", "GrpJobsAccrue", "jobs"),
    ("GrpSubmitJobs", "GrpSubmitJobs", "jobs"),
    ("GrpWall", "GrpWall", "minutes"),
    ("MaxJobs", "MaxJobs", "jobs"),
    ("MaxJobsAccrue", "MaxJobsAccrue", "jobs"),
    ("MaxSubmitJobs", "MaxSubmitJobs", "jobs"),
    ("MaxWallPJ", "MaxWall", "minutes"),
)
# (assoc_mgr field, limit name, whether it counts TRES-minutes) of the per-TRES limits.
_TRES_LIMITS = (
    ("GrpTRES", "GrpTRES", False),
    ("GrpTRESMins", "GrpTRESMins", True),
    ("GrpTRESRunMins", "GrpTRESRunMins", True),
    ("MaxTRESPJ", "MaxTRES", False),
    ("MaxTRESPN", "MaxTRESPerNode", False),
    ("MaxTRESMinsPJ", "MaxTRESMins", True),
)
# TRES name -> (unit of an amount, unit of an amount over time).
_TRES_UNITS = {
    "cpu": ("cpus", "cpu-minutes"),
    "mem": ("MB", "MB-minutes"),
    "node": ("nodes", "node-minutes"),
    "billing": ("billing", "billing-minutes"),
    "energy": ("joules", "joule-minutes"),
    "vmem": ("MB", "MB-minutes"),
    "fs/disk": ("MB", "MB-minutes"),
    "pages": ("pages", "page-minutes"),
}


def sacctmgr_default_account_argv(user: str) -> list[str]:
    return [
        "sacctmgr",
        "--noheader",
        "--parsable2",
        "show",
        "user",
        f"name={slurm_name(user, 'user')}",
        "format=User,DefaultAccount",
    ]


def assoc_mgr_argv(user: str) -> list[str]:
    """The association manager's records for ``user``, and every account-level association,
    so that the accounts above the user's are there with their limits."""
    return ["scontrol", "show", "assoc_mgr", "flags=assoc", f"users={slurm_name(user, 'user')}"]


def all_assoc_mgr_argv() -> list[str]:
    """Every association slurmctld holds: the whole cluster's, for the site service."""
    return ["scontrol", "show", "assoc_mgr", "flags=assoc"]


def all_default_accounts_argv() -> list[str]:
    return ["sacctmgr", "--noheader", "--parsable2", "show", "user", "format=User,DefaultAccount"]


def parse_default_accounts(output: str) -> dict[str, str]:
    """User -> default account from ``all_default_accounts_argv`` output."""
    defaults = {}
    for line in output.splitlines():
        values = line.split("|")
        if len(values) == 2 and values[0] and values[1]:
            defaults[values[0]] = values[1]
    return defaults


def parse_default_account(output: str) -> str | None:
    """The default account from ``sacctmgr_default_account_argv`` output."""
    for line in output.splitlines():
        values = line.split("|")
        if len(values) == 2 and values[1]:
            return values[1]
    return None


def parse_quotas(output: str, user: str) -> list[AccountQuota]:
    """Per account of ``user``: every limit set on it, with usage, from assoc_mgr output."""
    return parse_all_quotas(output, only=user).get(user, [])


def parse_all_quotas(output: str, *, only: str | None = None) -> dict[str, list[AccountQuota]]:
    """Per user (or ``only`` that one) in assoc_mgr output, per account: every limit set on
    it, with usage; the default account is the association Slurm marks ``DefAssoc``."""
    records = parse_records(output)
    by_id = {record["ID"]: record for record in records if "ID" in record}
    accounts = {
        record["Account"]: record
        for record in records
        if record.get("UserName") == "" and "Account" in record
    }
    users: dict[str, dict[str, list[dict[str, str]]]] = {}
    for record in records:
        user = split_name_id(record.get("UserName", ""))[0]
        if user and (only is None or user == only) and "Account" in record:
            users.setdefault(user, {}).setdefault(record["Account"], []).append(record)
    return {
        user: [
            _account_quota(account, own, accounts, by_id)
            for account, own in sorted(user_records.items())
        ]
        for user, user_records in users.items()
    }


def _account_quota(
    account: str,
    own: list[dict[str, str]],
    accounts: dict[str, dict[str, str]],
    by_id: dict[str, dict[str, str]],
) -> AccountQuota:
    """One account of a user: its own association records (the account-wide one first) and
    the Grp limits of the account and every account above it."""
    own.sort(key=lambda record: record.get("Partition", "") != "")
    limits = [
        limit
        for holder in _account_chain(accounts.get(account), by_id)
        for limit in _limits(holder, scope="account", group_only=True)
    ]
    for record in own:
        limits.extend(_limits(record, scope="user", group_only=False))
    return AccountQuota(
        account=account,
        default=any(record.get("DefAssoc") == "Yes" for record in own),
        fairshare=_fairshare(own[0]),
        limits=tuple(limits),
    )


def _account_chain(
    record: dict[str, str] | None, by_id: dict[str, dict[str, str]]
) -> Iterable[dict[str, str]]:
    """The account's association, then its parent's, up to the root (as far as printed)."""
    seen: set[str] = set()
    while record is not None and record.get("ID") not in seen:
        seen.add(record.get("ID", ""))
        yield record
        _, parent_id = split_name_id(record.get("ParentAccount", ""))
        record = by_id.get(str(parent_id)) if parent_id is not None else None


def _limits(record: dict[str, str], *, scope: str, group_only: bool) -> Iterable[Limit]:
    found: list[tuple[str, str | None, str, str]] = [
        (name, None, record.get(field, ""), unit) for field, name, unit in _COUNT_LIMITS
    ]
    for field, name, over_time in _TRES_LIMITS:
        found.extend(
            (name, tres, value, _tres_unit(tres, over_time=over_time))
            for tres, value in _tres_values(record.get(field, ""))
        )
    for name, tres, value, unit in found:
        limit, used = _limit_used(value)
        if limit is None or (group_only and not name.startswith("Grp")):
            continue
        yield Limit(
            name=name,
            tres=tres,
            limit=limit,
            used=used,
            unit=unit,
            fraction=_fraction(used, limit),
            scope=scope,
            account=record.get("Account", ""),
            partition=record.get("Partition") or None,
        )


def _limit_used(value: str) -> tuple[int | None, int | float | None]:
    """``6000(5)`` -> (6000, 5); ``N(2.5)`` -> (None, 2.5); ``240`` -> (240, None)."""
    match = _LIMIT_USED.match(value.strip())
    if match is None:
        return None, None
    limit = int(match["limit"]) if match["limit"] not in {None, "N"} else None
    used_text = match["used"]
    if used_text is None:
        return limit, None
    return limit, float(used_text) if "." in used_text else int(used_text)


def _tres_values(value: str) -> Iterable[tuple[str, str]]:
    for item in value.split(","):
        tres, sep, amount = item.partition("=")
        if sep:
            yield tres, amount


def _tres_unit(tres: str, *, over_time: bool) -> str:
    if tres.startswith("gres/gpu"):
        units = ("gpus", "gpu-minutes")
    else:
        units = _TRES_UNITS.get(tres, (tres, f"{tres}-minutes"))
    return units[1] if over_time else units[0]


def _fraction(used: int | float | None, limit: int) -> float | None:
    if used is None or limit <= 0:
        return None
    return round(used / limit, 4)


def _fairshare(record: dict[str, str]) -> float | None:
    parts = record.get("SharesRaw/Norm/Level/Factor", "").split("/")
    try:
        return float(parts[3])
    except (IndexError, ValueError):
        return None
