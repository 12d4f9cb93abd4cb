"""Changes to the host: Debian packages, Unix users, and the nodes' network namespaces."""

import os
import pwd
import re
from pathlib import Path

from cluster_layout import HOST
from cluster_process import ClusterError, all_pids, run

PACKAGES = (
    "munge",
    "slurmctld",
    "slurmd",
    "slurm-client",
    "slurmdbd",
    "slurm-wlm-mysql-plugin",
    "slurmrestd",
    "slurm-wlm-jwt-plugin",
    "mariadb-server",
    "iproute2",
    "curl",
)

TEST_USERS = ("alice", "bob")
# A coordinator of one account: Slurm shows them that account's jobs under PrivateData=jobs.
COORDINATOR = "carol"
# The site service's account: a Slurm Operator, so that PrivateData hides nothing from it.
SITE_USER = "hpcsite"
REST_USER = "slurmrest"

POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
APT_LISTS = Path("/var/lib/apt/lists")
APT_OPTIONS = ["-o", "DPkg::Lock::Timeout=600", "-q"]


# ------------------------------------------------------------------ packages


def missing_packages():
    query = ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *PACKAGES]
    result = run(query, check=False)
    installed = {
        line.split()[0] for line in result.stdout.splitlines() if line.endswith(" installed")
    }
    return [name for name in PACKAGES if name not in installed]


def install_packages(names):
    """apt-get install without recommends, keeping postinst scripts from starting daemons."""
    made_policy = not POLICY_RC_D.exists()
    if made_policy:
        POLICY_RC_D.write_text("#!/bin/sh\n# jupyterlab-hpc: no daemons from postinst\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
    try:
        if not any(APT_LISTS.glob("*_Packages*")):
            _apt(["update"])
        try:
            _apt(["install", "-y", "--no-install-recommends", *names])
        except ClusterError:
            # Stale package lists give 404s: refresh them once and retry.
            _apt(["update"])
            _apt(["install", "-y", "--no-install-recommends", *names])
    finally:
        if made_policy:
            POLICY_RC_D.unlink(missing_ok=True)


def _apt(args):
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", *APT_OPTIONS, *args], env=env, timeout=1800)


# ------------------------------------------------------------------ users


def user_exists(release, name):
    return run(release.command(["getent", "passwd", name]), check=False).returncode == 0


def owner_ids(release, name):
    """(uid, gid) of a user of the release's system (the host's, or its root's)."""
    entry = run(release.command(["getent", "passwd", name])).stdout.split(":")
    return int(entry[2]), int(entry[3])


def extra_user_names(count):
    """The names of ``up --users N``'s simulated users: hpcuser001, hpcuser002, ..."""
    return [f"hpcuser{index:03d}" for index in range(1, count + 1)]


def ensure_users(release, extra_users=()):
    """The test users, the site user, the extra users and slurmrest. In a release's root, the
    users get the host's uids and gids: the host's files (a job's folder in /tmp, the tests'
    scripts) are shared with it."""
    for name in (*TEST_USERS, COORDINATOR, SITE_USER, *extra_users):
        if not user_exists(HOST, name):
            run(["useradd", "-m", "-s", "/bin/bash", name])
        if release.in_chroot and not user_exists(release, name):
            host_user = pwd.getpwnam(name)
            gid = str(host_user.pw_gid)
            run(release.command(["groupadd", "--force", "--gid", gid, name]))
            add = ["useradd", "-M", "-s", "/bin/bash", "-d", host_user.pw_dir]
            run(release.command([*add, "--uid", str(host_user.pw_uid), "--gid", gid, name]))
    if not user_exists(release, REST_USER):
        run(release.command(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", REST_USER]))


# ------------------------------------------------------------------ network


def create_network(release, nodes):
    """Bridge with the controller's address, plus one namespace and veth pair per node."""
    remove_network(release)
    bridge, controller = release.bridge, release.controller_addr
    run(["ip", "link", "add", bridge, "type", "bridge"])
    run(["ip", "addr", "add", f"{controller}/24", "dev", bridge])
    run(["ip", "link", "set", bridge, "up"])
    for node in nodes:
        ns, veth = release.netns_name(node), release.veth_name(node)
        run(["ip", "netns", "add", ns])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        run(["ip", "link", "set", veth, "master", bridge, "up"])
        run(["ip", "-n", ns, "addr", "add", f"{release.node_addr(node)}/24", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "route", "add", "default", "via", controller])


def existing_namespaces(release):
    """The release's node namespaces (hpc-n<i>) that exist now, whatever node count made them."""
    ours = re.compile(re.escape(release.netns_name("n")) + "[0-9]+")
    result = run(["ip", "netns", "list"], check=False)
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    return [name for name in names if ours.fullmatch(name)]


def existing_links(release):
    """The release's bridge and host-side veths (vhpc-n<i>) that exist now."""
    ours = re.compile(re.escape(release.veth_name("n")) + "[0-9]+")
    result = run(["ip", "-o", "link", "show"], check=False)
    # Lines look like "7: vhpc-n1@if2: <BROADCAST,...> ..."
    names = [line.split(":")[1].strip().split("@")[0] for line in result.stdout.splitlines()]
    return [name for name in names if name == release.bridge or ours.fullmatch(name)]


def remove_network(release):
    """Delete the release's namespaces, veths and bridge."""
    for ns in existing_namespaces(release):
        run(["ip", "netns", "delete", ns], check=False)
    # Deleting a namespace deletes its veth pair; this catches pairs left half made.
    for link in existing_links(release):
        run(["ip", "link", "delete", link], check=False)


def pids_in_namespaces(namespaces):
    """PIDs of processes living in any of the given named network namespaces.

    Only node daemons and the jobs they started live there, so whatever is found belongs
    to this cluster (e.g. a slurmstepd, or a job's process that escaped proctrack/linuxproc).
    """
    inodes = set()
    for ns in namespaces:
        try:
            inodes.add(Path("/run/netns", ns).stat().st_ino)
        except OSError:
            continue
    found = []
    for pid in all_pids():
        try:
            if Path(f"/proc/{pid}/ns/net").stat().st_ino in inodes:
                found.append(pid)
        except OSError:
            continue
    return found
