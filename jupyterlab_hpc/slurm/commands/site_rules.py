"""Who may see what in Slurm: ``PrivateData`` from slurm.conf, and the users whose role widens
it (operators and administrators see everything; an account's coordinators see its jobs)."""

from __future__ import annotations

from jupyterlab_hpc.slurm.records import SlurmRoles

# AdminLevel values that make slurmctld treat a user as privileged (validate_operator).
_PRIVILEGED_LEVELS = frozenset({"Operator", "Administrator"})


def parse_private_data(config_output: str) -> frozenset[str]:
    """The ``PrivateData`` flags of ``scontrol show config`` (``none`` is no flag), lowercase."""
    for line in config_output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "PrivateData":
            flags = {flag.strip().lower() for flag in value.split(",")}
            return frozenset(flags - {"", "none"})
    return frozenset()


def roles_argv() -> list[str]:
    """Every Slurm user with its AdminLevel and the accounts it coordinates."""
    return [
        "sacctmgr", "--noheader", "--parsable2", "show", "user", "withcoord",
        "format=User,AdminLevel,Coordinators",
    ]  # fmt: skip


def parse_roles(output: str) -> SlurmRoles:
    privileged: set[str] = set()
    coordinated: dict[str, frozenset[str]] = {}
    for line in output.splitlines():
        values = line.split("|")
        if len(values) != 3 or not values[0]:
            continue
        user, level, accounts = values
        if level in _PRIVILEGED_LEVELS:
            privileged.add(user)
        if accounts:
            coordinated[user] = frozenset(account for account in accounts.split(",") if account)
    return SlurmRoles(privileged=frozenset(privileged), coordinated_accounts=coordinated)
