"""The cluster's name and Slurm release, from slurmctld's configuration (``scontrol show config``).

slurmctld reports its own release there, which is what matters when the login node's client
commands are of another (compatible) release.
"""

from __future__ import annotations

from jupyterlab_hpc.slurm.records import ClusterInfo


def scontrol_config_argv() -> list[str]:
    return ["scontrol", "show", "config"]


def parse_cluster_info(output: str) -> ClusterInfo | None:
    """ClusterName and SLURM_VERSION from ``Key = Value`` lines; None if either is missing."""
    values = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    cluster, version = values.get("ClusterName"), values.get("SLURM_VERSION")
    if not cluster or not version:
        return None
    return ClusterInfo(cluster=cluster, slurm_version=version)
