#!/usr/bin/env python3
"""Local Slurm test cluster for jupyterlab-hpc.

Starts munged, a private MariaDB, slurmdbd, slurmctld, N slurmd (each in its own network
namespace, with its own address and hostname) and slurmrestd with JWT auth, all as plain
processes (no systemd, no cgroups). Standard library only: it runs with Debian's python3
before any virtualenv exists. See cluster/README.md.

    python3 cluster/slurm_cluster.py up [--nodes N] [--max-job-count N]
    python3 cluster/slurm_cluster.py down [--purge]
    python3 cluster/slurm_cluster.py status
    python3 cluster/slurm_cluster.py env
    python3 cluster/slurm_cluster.py stop-daemon slurmctld|slurmdbd|slurmd:nX
    python3 cluster/slurm_cluster.py start-daemon slurmctld|slurmdbd|slurmd:nX

Every command takes --release 22.05|24.11|26.05: 22.05 (the default) is the host's own Slurm;
the others run from a Debian root in a chroot, as a second cluster beside the default one.
"""

import argparse
import contextlib
import fcntl
import http.client
import json
import os
import secrets
import shlex
import shutil
import sys
from datetime import datetime, timezone

import cluster_config as config
from cluster_chroot import build_root, mount_root, root_is_built, root_problems, unmount_root
from cluster_layout import (
    DEFAULT_MAX_JOB_COUNT,
    DEFAULT_NODES,
    DEFAULT_RELEASE,
    HOST,
    MAX_NODES,
    MIN_NODES,
    RELEASES,
    Layout,
    node_names,
)
from cluster_process import (
    ClusterError,
    StepClock,
    is_running,
    log_tail,
    process_comm,
    read_pid,
    run,
    spawn,
    stop_processes,
    succeeds,
    wait_until,
    write_pid,
)
from cluster_system import (
    REST_USER,
    create_network,
    ensure_users,
    existing_namespaces,
    extra_user_names,
    install_packages,
    missing_packages,
    owner_ids,
    pids_in_namespaces,
    remove_network,
)

# A file in the state directory that marks it as ours and names its release (empty: the
# default): `up` and `down` refuse to act on (read PID files from, wipe) a non-empty directory
# without it, or with another release's.
MARKER = ".jupyterlab-hpc-cluster"

# Daemons are stopped group by group, clients of a daemon before the daemon itself.
STOP_ORDER = (("slurmrestd", "slurmd"), ("slurmctld",), ("slurmdbd",), ("mariadbd", "munged"))

# nsenter, not `ip netns exec`: the latter remounts /sys, and slurmd then fails with "Unable to
# initialize cgroup plugin". unshare gives the node its own hostname and a private mount
# namespace in which its own hosts and resolv.conf are bind-mounted over those in $4 (/etc, or
# the release root's); then slurmd starts (the rest of the arguments: in the root if any).
NODE_START_SCRIPT = (
    'hosts=$1 resolv=$2 node=$3 etc=$4; shift 4; mount --bind "$hosts" "$etc/hosts"'
    ' && mount --bind "$resolv" "$etc/resolv.conf" && hostname "$node" && exec "$@"'
)

START_TIMEOUT = 60


# ------------------------------------------------------------------ files and environment


def slurm_env(layout, **extra):
    # Daemons look for gres.conf and slurmdbd.conf next to $SLURM_CONF, not next to the
    # /etc/slurm symlink's target, so they need SLURM_CONF.
    return {**os.environ, "SLURM_CONF": str(layout.slurm_conf), **extra}


def write_file(path, content, *, mode=0o644, owner=None):
    """Write a file created with its final mode (no moment in which a key is readable).

    ``owner``: (uid, gid), see ``owner_ids``."""
    data = content.encode() if isinstance(content, str) else content
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as file:
        file.write(data)
    path.chmod(mode)  # the umask may have narrowed it
    if owner:
        os.chown(path, *owner)


def make_dir(path, *, mode=0o755, owner=None):
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    if owner:
        os.chown(path, *owner)


def check_ours(layout):
    root, marker = layout.root, layout.root / MARKER
    if root.is_dir() and any(root.iterdir()) and not marker.exists():
        message = f"{root} is not empty and was not made by this tool; use another HPC_CLUSTER_DIR"
        raise ClusterError(message)
    if not marker.exists():
        return
    made_for = marker.read_text().strip() or DEFAULT_RELEASE
    if made_for != layout.release.name:
        message = (
            f"{root} holds a Slurm {made_for} cluster, not {layout.release.name};"
            f" use --release {made_for} or another HPC_CLUSTER_DIR"
        )
        raise ClusterError(message)


def reset_state_dir(layout, nodes):
    if layout.root.is_dir():
        for child in layout.root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    # 0755 all the way: alice and bob read slurm.conf and cluster.json through it.
    make_dir(layout.root)
    release = layout.release
    (layout.root / MARKER).write_text(release.name + "\n" if release.in_chroot else "")
    for path in (layout.etc, layout.run, layout.log, layout.var, layout.slurmd_spool):
        make_dir(path)
    # MariaDB is always the host's (see cluster_chroot.ROOT_PACKAGES).
    slurm, mysql = owner_ids(release, "slurm"), owner_ids(HOST, "mysql")
    make_dir(layout.ctld_state, owner=slurm)
    make_dir(layout.dbd_state, owner=slurm)
    make_dir(layout.db_data, mode=0o700, owner=mysql)
    make_dir(layout.db_run, owner=mysql)
    for node in nodes:
        make_dir(layout.slurmd_spool / node)
    make_dir(layout.fake_gpus)
    # slurmrestd binds its Unix socket after switching to its user.
    make_dir(layout.rest_socket.parent, owner=owner_ids(release, REST_USER))
    for path in config.fake_gpu_files(layout):
        path.symlink_to("/dev/null")
    # These daemons open their own log only after switching to their user.
    for name, owner in (("slurmctld", slurm), ("slurmdbd", slurm), ("mariadbd", mysql)):
        write_file(layout.logfile(name), "", owner=owner)


def write_configs(layout, nodes, max_job_count, db_password, extra_users):
    slurm = owner_ids(layout.release, "slurm")
    write_file(layout.jwt_key, secrets.token_bytes(32), mode=0o600, owner=slurm)
    write_file(layout.slurm_conf, config.slurm_conf(layout, len(nodes), max_job_count))
    write_file(layout.gres_conf, config.gres_conf(layout))
    write_file(
        layout.slurmdbd_conf,
        config.slurmdbd_conf(layout, db_password),
        mode=0o600,
        owner=slurm,
    )
    write_file(layout.accounts_file, config.accounts_file(extra_users))
    write_file(layout.node_hosts, config.node_hosts(layout.release, nodes))
    write_file(layout.node_resolv, config.NODE_RESOLV_CONF)


def link_system_conf(layout):
    link = layout.system_slurm_conf
    if link.exists() and not link.is_symlink():
        message = f"{link} is a real file, not our symlink; move it away first"
        raise ClusterError(message)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(layout.slurm_conf)


def system_conf_is_ours(layout):
    link = layout.system_slurm_conf
    return link.is_symlink() and link.readlink() == layout.slurm_conf


def read_facts(layout):
    try:
        return json.loads(layout.facts_file.read_text())
    except (OSError, ValueError):
        return None


def slurm_version(layout):
    # "slurm-wlm 22.05.8" -> "22.05.8"
    return run(layout.command(["sinfo", "-V"])).stdout.split()[-1]


# ------------------------------------------------------------------ starting daemons


def start_munge(layout, clock):
    release, munge_n = layout.release, layout.command(["munge", "-n"])
    if succeeds(munge_n):
        clock.log("munged: one is already running and answers; using it (down leaves it alone)")
        return
    munge = owner_ids(release, "munge")
    # A release's root has its own key and socket: its cluster never talks to the host's.
    key = release.path("/etc/munge/munge.key")
    if not key.is_file() or key.stat().st_size == 0:
        write_file(key, secrets.token_bytes(1024), mode=0o400, owner=munge)
    make_dir(release.path("/run/munge"), owner=munge)
    # --force: a munged that died uncleanly leaves its socket behind and would block us.
    munged = start_daemon(layout, "munged", ["munged", "--foreground", "--force"], user="munge")
    wait_until("munged", lambda: succeeds(munge_n), timeout=10, watch=[munged])
    clock.log(f"munged up (pid {munged.process.pid})")


def start_mariadb(layout, clock, db_password):
    install_log = layout.logfile("mariadb-install-db")
    result = run(
        [
            "mariadb-install-db",
            "--no-defaults",
            "--user=mysql",
            f"--datadir={layout.db_data}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ],
        check=False,
    )
    install_log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        message = f"mariadb-install-db failed; see {install_log}:\n{log_tail(install_log)}"
        raise ClusterError(message)
    mariadbd = start_daemon(
        layout,
        "mariadbd",
        [
            "mariadbd",
            "--no-defaults",
            "--user=mysql",
            f"--datadir={layout.db_data}",
            f"--socket={layout.db_socket}",
            f"--pid-file={layout.db_run / 'mariadbd.pid'}",
            "--bind-address=127.0.0.1",
            f"--port={layout.release.db_port}",
            "--skip-name-resolve",
            f"--log-error={layout.logfile('mariadbd')}",
            # 1G is what slurmdbd checks for; it is only reserved, not used, by a test DB.
            "--innodb-buffer-pool-size=1G",
            # Slurm's recommendation; and a test DB need not survive a power cut.
            "--innodb-lock-wait-timeout=900",
            "--innodb-flush-log-at-trx-commit=2",
        ],
        own_log=True,
        in_root=False,  # the host's MariaDB, for every release (see cluster_chroot)
    )
    ping = ["mariadb-admin", f"--socket={layout.db_socket}", "ping"]
    wait_until("mariadbd", lambda: succeeds(ping), timeout=START_TIMEOUT, watch=[mariadbd])
    run(
        ["mariadb", f"--socket={layout.db_socket}", "-u", "root"],
        stdin_text=(
            f"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '{db_password}';\n"
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';\n"
        ),
    )
    clock.log(f"mariadbd up on 127.0.0.1:{layout.release.db_port} (pid {mariadbd.process.pid})")


def start_slurmdbd(layout, clock):
    env = slurm_env(layout)
    slurmdbd = start_daemon(layout, "slurmdbd", ["slurmdbd", "-D"], env=env, own_log=True)
    wait_until(
        "slurmdbd",
        lambda: succeeds(layout.command(["sacctmgr", "-n", "show", "cluster"]), env=env),
        timeout=START_TIMEOUT,
        watch=[slurmdbd],
    )
    clock.log(f"slurmdbd up (pid {slurmdbd.process.pid})")


def load_accounting(layout, clock):
    env = slurm_env(layout)
    # A load file cannot create QOS, so they come first (one sacctmgr for all of them).
    run(layout.command(["sacctmgr", "-i"]), stdin_text=config.qos_commands(), env=env)
    run(layout.command(["sacctmgr", "-i", "load", f"file={layout.accounts_file}"]), env=env)
    run(layout.command(["sacctmgr", "-i"]), stdin_text=config.coordinator_commands(), env=env)
    clock.log("accounting loaded: cluster, QOS, accounts, users, coordinators, limits")


def start_slurmctld(layout, clock):
    env = slurm_env(layout)
    slurmctld = start_daemon(layout, "slurmctld", ["slurmctld", "-D"], env=env, own_log=True)
    wait_until(
        "slurmctld",
        lambda: "is UP" in run(layout.command(["scontrol", "ping"]), env=env, check=False).stdout,
        timeout=START_TIMEOUT,
        watch=[slurmctld],
    )
    clock.log(f"slurmctld up (pid {slurmctld.process.pid})")
    return slurmctld


def start_slurmds(layout, nodes):
    release = layout.release
    return [
        start_daemon(
            layout,
            f"slurmd-{node}",
            [
                "nsenter",
                f"--net=/run/netns/{release.netns_name(node)}",
                "unshare",
                "--uts",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                NODE_START_SCRIPT,
                "sh",
                str(layout.node_hosts),
                str(layout.node_resolv),
                node,
                str(release.path("/etc")),
                *layout.command(["slurmd", "-D", "-N", node]),
            ],
            env=slurm_env(layout),
            own_log=True,
            in_root=False,  # the script enters the root itself, after its mounts
        )
        for node in nodes
    ]


def start_slurmrestd(layout):
    # slurmrestd refuses to run as root; -u switches to an unprivileged user after start-up.
    return start_daemon(
        layout,
        "slurmrestd",
        [
            "slurmrestd",
            "-a",
            "rest_auth/jwt",
            "-u",
            REST_USER,
            f"127.0.0.1:{layout.release.rest_port}",
            # And on a Unix socket, as sites often run it (root may connect; tests run as root).
            f"unix:{layout.rest_socket}",
        ],
        env=slurm_env(layout, SLURM_JWT="daemon"),
    )


def start_daemon(layout, name, cmd, *, env=None, user=None, own_log=False, in_root=True):
    """Start a daemon (in the release's root) and record its PID; own_log: it also writes
    layout.logfile(name)."""
    chroot = in_root and layout.release.in_chroot
    started = spawn(
        name,
        layout.command(cmd, user=user) if chroot else cmd,
        console=layout.console(name),
        own_log=layout.logfile(name) if own_log else None,
        env=env,
        user=None if chroot else user,  # chroot switches user itself, after entering the root
    )
    write_pid(layout.pidfile(name), started.process.pid)
    return started


# ------------------------------------------------------------------ checking


def rest_answers(layout):
    """True if slurmrestd answers HTTP at all (without a token it says 401)."""
    connection = http.client.HTTPConnection("127.0.0.1", layout.release.rest_port, timeout=2)
    try:
        connection.request("GET", "/openapi")
        connection.getresponse()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


def slurmctld_running(layout):
    return is_running(read_pid(layout.pidfile("slurmctld")), "slurmctld")


def node_states(layout):
    """{node: sinfo short state}, or None if slurmctld does not run or answer."""
    # Without slurmctld, sinfo would retry for seconds before giving up.
    if not slurmctld_running(layout):
        return None
    result = run(
        layout.command(["sinfo", "-h", "-N", "-o", "%N %t"]),
        env=slurm_env(layout),
        check=False,
        timeout=10,
    )
    if result.returncode != 0:
        return None
    return dict(line.split() for line in result.stdout.splitlines() if line.strip())


def node_is_healthy(state):
    # "*" = not responding; down/unknown/fail mean the node cannot run jobs.
    return not state.endswith("*") and not state.startswith(("down", "unk", "fail"))


def all_nodes_idle(layout, nodes):
    states = node_states(layout)
    return states is not None and all(states.get(node) == "idle" for node in nodes)


def expected_daemons(layout, facts):
    """PID file names a complete cluster has: munged only if we started it."""
    names = ["munged"] if layout.pidfile("munged").exists() else []
    names += ["mariadbd", "slurmdbd", "slurmctld"]
    names += [f"slurmd-{node}" for node in facts["nodes"]] if facts else []
    return [*names, "slurmrestd"]


def daemon_log(layout, name):
    own = layout.logfile(name)
    return own if own.exists() else layout.console(name)


def daemon_comm(name):
    """The /proc comm of the daemon behind a PID file name (slurmd-n1 -> slurmd)."""
    return name.partition("-")[0]


def recorded_daemons(layout):
    if not layout.run.is_dir():
        return {}
    return {path.stem: read_pid(path) for path in sorted(layout.run.glob("*.pid"))}


def health_problems(layout, facts, states):
    """Everything that keeps the cluster from being fully up; empty if it is."""
    problems = []
    if facts is None:
        problems.append(f"{layout.facts_file} is missing: `up` did not finish")
    for name in expected_daemons(layout, facts):
        pid = read_pid(layout.pidfile(name))
        if not is_running(pid, daemon_comm(name)):
            problems.append(f"{name} is not running (see {daemon_log(layout, name)})")
    if not layout.pidfile("munged").exists() and not succeeds(layout.command(["munge", "-n"])):
        problems.append("munge -n fails: no munged answers")
    if not system_conf_is_ours(layout):
        problems.append(f"{layout.system_slurm_conf} does not point at {layout.slurm_conf}")
    if states is None:
        if slurmctld_running(layout):  # otherwise the daemon check above has said so
            problems.append("slurmctld does not answer sinfo")
    else:
        for node in facts["nodes"] if facts else []:
            state = states.get(node, "missing")
            if not node_is_healthy(state):
                problems.append(f"node {node} is {state}")
    if not rest_answers(layout):
        problems.append(f"slurmrestd does not answer at {layout.release.rest_url}")
    if layout.release.in_chroot:
        problems += root_problems(layout)
    return problems


def cluster_is_up(layout, node_count, max_job_count, extra_users):
    facts = read_facts(layout)
    if facts is None or len(facts["nodes"]) != node_count:
        return False
    if facts["max_job_count"] != max_job_count:
        return False
    # At least the extra users asked for: a plain `up` keeps those of an earlier `up --users`.
    if len(facts.get("extra_users", ())) < extra_users:
        return False
    return not health_problems(layout, facts, node_states(layout))


# ------------------------------------------------------------------ stopping


def cancel_jobs(layout, clock):
    """Cancel every job while slurmctld and slurmd still run, so no slurmstepd is left."""
    if not slurmctld_running(layout):
        return
    env = slurm_env(layout)
    squeue = layout.command(["squeue", "-h", "-o", "%A"])
    jobs = run(squeue, env=env, check=False, timeout=20).stdout.split()
    if not jobs:
        return
    run(layout.command(["scancel", *jobs]), env=env, check=False)

    def no_steps_left():
        namespaces = existing_namespaces(layout.release)
        return all(process_comm(pid) != "slurmstepd" for pid in pids_in_namespaces(namespaces))

    # KillWait=5: steps get SIGTERM, then SIGKILL 5 s later. Stragglers are killed below.
    with contextlib.suppress(ClusterError):
        wait_until("job steps to end", no_steps_left, timeout=15)
    clock.log(f"cancelled {len(jobs)} job(s)")


def stop_cluster(layout, clock):
    """Stop what this tool started (recorded PIDs only); remove its network, symlink and the
    release root's mounts."""
    cancel_jobs(layout, clock)
    recorded = recorded_daemons(layout)
    for group in STOP_ORDER:
        names = [name for name in recorded if daemon_comm(name) in group]
        stopped = stop_processes([(recorded[name], daemon_comm(name)) for name in names])
        labels = [f"{name} ({recorded[name]})" for name in names if recorded[name] in stopped]
        if labels:
            clock.log("stopped " + ", ".join(labels))
        for name in names:
            layout.pidfile(name).unlink(missing_ok=True)
    # Whatever still lives in a node namespace was started by our slurmd (a slurmstepd, or a
    # job's process that escaped proctrack/linuxproc); it would keep the namespace alive.
    leftovers = pids_in_namespaces(existing_namespaces(layout.release))
    if leftovers:
        stopped = stop_processes([(pid, process_comm(pid)) for pid in leftovers])
        clock.log(f"stopped {len(stopped)} leftover process(es) in node namespaces")
    remove_network(layout.release)
    if system_conf_is_ours(layout):
        layout.system_slurm_conf.unlink()
    if layout.release.in_chroot:
        unmount_root(layout)


# ------------------------------------------------------------------ commands


def cmd_up(args):
    layout = Layout.from_env(args.release)
    release = layout.release
    clock = StepClock("up")
    check_ours(layout)
    if cluster_is_up(layout, args.nodes, args.max_job_count, args.users):
        facts = read_facts(layout)
        if facts.get("private_data") or facts.get("rate_limit"):
            # A test that set them died before it could unset them.
            reconfigure(layout, clock, private_data="", rate_limit=False)
        clock.log(f"cluster already up in {layout.root}; nothing to do")
        return 0
    missing = missing_packages()
    if missing:
        clock.log(f"installing {' '.join(missing)}")
        install_packages(missing)
        clock.log("packages installed")
    stop_cluster(layout, clock)
    if release.in_chroot and not root_is_built(release):
        build_root(release, clock)  # after stop_cluster: it unmounts what is mounted there
    nodes = node_names(args.nodes)
    db_password = secrets.token_hex(16)
    extra_users = extra_user_names(args.users)
    ensure_users(release, extra_users)
    reset_state_dir(layout, nodes)
    if release.in_chroot:
        mount_root(layout)
    write_configs(layout, nodes, args.max_job_count, db_password, extra_users)
    link_system_conf(layout)
    create_network(release, nodes)
    clock.log(f"state dir {layout.root}, users, configs and network for {len(nodes)} nodes ready")
    if release.in_chroot:
        clock.log(f"Slurm {release.name} runs from {release.root} (chroot)")

    start_munge(layout, clock)
    start_mariadb(layout, clock, db_password)
    start_slurmdbd(layout, clock)
    load_accounting(layout, clock)
    slurmctld = start_slurmctld(layout, clock)
    # Nodes and slurmrestd start together; both only need slurmctld.
    slurmds = start_slurmds(layout, nodes)
    slurmrestd = start_slurmrestd(layout)
    watch = [slurmctld, *slurmds, slurmrestd]
    wait_until(
        f"{len(nodes)} idle nodes",
        lambda: all_nodes_idle(layout, nodes),
        timeout=START_TIMEOUT,
        watch=watch,
    )
    clock.log(f"{len(nodes)} slurmd up and idle")
    wait_until("slurmrestd", lambda: rest_answers(layout), timeout=START_TIMEOUT, watch=watch)
    clock.log(f"slurmrestd up on {release.rest_url} (pid {slurmrestd.process.pid})")

    facts = config.cluster_facts(layout, len(nodes), args.max_job_count, extra_users)
    facts["slurm_version"] = slurm_version(layout)
    write_file(layout.facts_file, json.dumps(facts, indent=2) + "\n")
    clock.log(f"cluster {facts['cluster']} up; facts in {layout.facts_file}")
    print(f'Use it:  eval "$(python3 {sys.argv[0]} env{release_option(release)})"')
    return 0


def release_option(release):
    return "" if release.name == DEFAULT_RELEASE else f" --release {release.name}"


def cmd_down(args):
    layout = Layout.from_env(args.release)
    clock = StepClock("down")
    check_ours(layout)
    stop_cluster(layout, clock)
    # cluster.json describes a running cluster; tests must not find it now.
    layout.facts_file.unlink(missing_ok=True)
    if args.purge and layout.root.exists():
        shutil.rmtree(layout.root)
        clock.log(f"removed {layout.root}")
    clock.log("cluster down")
    return 0


def cmd_status(args):
    layout = Layout.from_env(args.release)
    facts = read_facts(layout)
    states = node_states(layout)
    version = f" (Slurm {facts['slurm_version']})" if facts else ""
    print(f"cluster dir {layout.root}{version}")
    print("daemons:")
    recorded = recorded_daemons(layout)
    for name in sorted(set(expected_daemons(layout, facts)) | set(recorded)):
        pid = recorded.get(name)
        alive = "running" if is_running(pid, daemon_comm(name)) else "NOT RUNNING"
        print(f"  {name:<12} pid {pid or '-':<8} {alive}")
    if not layout.pidfile("munged").exists():
        answers = "answers" if succeeds(layout.command(["munge", "-n"])) else "does NOT answer"
        print(f"  munged       not started by this tool; `munge -n` {answers}")
    if states is not None:
        print_nodes_and_partitions(layout, states)
    problems = health_problems(layout, facts, states)
    if problems:
        print("problems:\n" + "\n".join(f"  - {problem}" for problem in problems))
        return 1
    print(f"all up; slurmrestd at {layout.release.rest_url}")
    return 0


def print_nodes_and_partitions(layout, states):
    env = slurm_env(layout)
    gres_lines = run(layout.command(["sinfo", "-h", "-N", "-o", "%N %G"]), env=env, check=False)
    gres_lines = gres_lines.stdout
    gres = dict(line.split() for line in gres_lines.splitlines() if line.strip())
    print("nodes:")
    for node, state in states.items():
        print(f"  {node:<4} {state:<8} gres {gres.get(node, '(null)')}")
    print("partitions:")
    sinfo = layout.command(["sinfo", "-h", "-o", "%P %a %l %D %N"])
    partitions = run(sinfo, env=env, check=False).stdout
    for line in partitions.splitlines():
        name, avail, limit, count, nodelist = line.split()
        print(f"  {name:<9} {avail:<5} maxtime {limit:<11} {count} nodes {nodelist}")


def daemon_name(text):
    """``slurmctld``, ``slurmdbd`` or ``slurmd:nX`` as the daemon's PID file name."""
    if text in {"slurmctld", "slurmdbd"}:
        return text
    kind, _, node = text.partition(":")
    if kind == "slurmd" and node[:1] == "n" and node[1:].isdigit():
        return f"slurmd-{node}"
    message = "expected slurmctld, slurmdbd or slurmd:<node>"
    raise argparse.ArgumentTypeError(message)


def check_daemon(layout, name):
    """A slurmd's node must be one of the running cluster's."""
    node = name.partition("-")[2]
    if node and node not in (read_facts(layout) or {}).get("nodes", {}):
        message = f"{node} is not a node of the running cluster in {layout.root}"
        raise ClusterError(message)
    return name


def cmd_stop_daemon(args):
    """Stop one daemon by its recorded PID (for fault tests); the rest keeps running."""
    layout = Layout.from_env(args.release)
    clock = StepClock("stop-daemon")
    check_ours(layout)
    name = check_daemon(layout, args.daemon)
    pid = read_pid(layout.pidfile(name))
    if not is_running(pid, daemon_comm(name)):
        clock.log(f"{name} is not running; nothing to do")
        return 0
    stop_processes([(pid, daemon_comm(name))])
    clock.log(f"stopped {name} ({pid}); `start-daemon` brings it back")
    return 0


def cmd_start_daemon(args):
    """Start one daemon that `stop-daemon` (or a crash) stopped, and wait until it answers."""
    layout = Layout.from_env(args.release)
    clock = StepClock("start-daemon")
    check_ours(layout)
    name = check_daemon(layout, args.daemon)
    if is_running(read_pid(layout.pidfile(name)), daemon_comm(name)):
        clock.log(f"{name} is already running; nothing to do")
        return 0
    if name == "slurmctld":
        slurmctld = start_slurmctld(layout, clock)
        nodes = (read_facts(layout) or {}).get("nodes", [])

        def nodes_registered():
            # Until each slurmd has registered again, slurmctld reports its node as unknown.
            states = node_states(layout)
            return states is not None and all(
                node_is_healthy(states.get(node, "unk")) for node in nodes
            )

        wait_until("nodes to register", nodes_registered, timeout=START_TIMEOUT, watch=[slurmctld])
        clock.log(f"{len(nodes)} nodes registered again")
    elif name == "slurmdbd":
        start_slurmdbd(layout, clock)
    else:
        node = name.partition("-")[2]
        started = datetime.now(timezone.utc).replace(microsecond=0)  # Slurm prints whole seconds
        (slurmd,) = start_slurmds(layout, [node])

        def node_healthy():
            # A node that was stopped briefly may still look idle: wait for its registration.
            registered = slurmd_start_time(layout, node)
            states = node_states(layout)
            return (
                registered is not None
                and registered >= started
                and states is not None
                and node_is_healthy(states.get(node, "down*"))
            )

        wait_until(f"node {node}", node_healthy, timeout=START_TIMEOUT, watch=[slurmd])
        clock.log(f"slurmd on {node} up (pid {slurmd.process.pid})")
    return 0


def slurmd_start_time(layout, node):
    """When the node's slurmd last registered with slurmctld (local time), or None."""
    result = run(
        layout.command(["scontrol", "--oneliner", "show", "node", node]),
        env=slurm_env(layout),
        check=False,
        timeout=10,
    )
    for field in result.stdout.split():
        key, _, value = field.partition("=")
        if key == "SlurmdStartTime":
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(value).astimezone()  # printed in local time
    return None


def cmd_private_data(args):
    """Set slurm.conf's PrivateData on the running cluster (for visibility tests)."""
    layout = running_layout(args)
    reconfigure(
        layout, StepClock("private-data"), private_data="" if args.flags == "none" else args.flags
    )
    return 0


def cmd_rate_limit(args):
    """Turn slurmctld's per-user RPC rate limit (rl_enable, Slurm >= 23.02) on or off."""
    layout = running_layout(args)
    version = tuple(int(part) for part in read_facts(layout)["slurm_version"].split(".")[:2])
    if args.state == "on" and version < (23, 2):
        message = "rl_enable needs Slurm 23.02 or later: use --release 24.11 or 26.05"
        raise ClusterError(message)
    reconfigure(layout, StepClock("rate-limit"), rate_limit=args.state == "on")
    return 0


def running_layout(args):
    layout = Layout.from_env(args.release)
    check_ours(layout)
    if read_facts(layout) is None:
        message = f"no cluster is up in {layout.root}"
        raise ClusterError(message)
    return layout


def reconfigure(layout, clock, **settings):
    """Rewrite slurm.conf with the settings that may change while the cluster runs
    (private_data, rate_limit) as in cluster.json but for ``settings``; have slurmctld re-read
    it and wait until it runs with them."""
    facts = {**read_facts(layout), **settings}
    private_data, rate_limit = facts.get("private_data", ""), facts.get("rate_limit", False)
    conf = config.slurm_conf(
        layout,
        len(facts["nodes"]),
        facts["max_job_count"],
        private_data=private_data,
        rate_limit=rate_limit,
    )
    write_file(layout.slurm_conf, conf)
    env = slurm_env(layout)
    run(layout.command(["scontrol", "reconfigure"]), env=env)

    def applied():
        shown = run(layout.command(["scontrol", "show", "config"]), env=env, check=False).stdout
        values = dict(line.partition("=")[::2] for line in shown.splitlines() if "=" in line)
        values = {key.strip(): value.strip() for key, value in values.items()}
        return (
            values.get("PrivateData") == (private_data or "none")
            and ("rl_enable" in values.get("SlurmctldParameters", "")) == rate_limit
        )

    wait_until("slurmctld to run with the new slurm.conf", applied, timeout=START_TIMEOUT)
    # From Slurm 23.11 `reconfigure` makes slurmctld start itself anew, under another PID:
    # record the one it wrote, or `down` would not find it.
    pid = read_pid(layout.ctld_state / "slurmctld.pid")
    if pid is not None and is_running(pid, daemon_comm("slurmctld")):
        write_pid(layout.pidfile("slurmctld"), pid)
    write_file(layout.facts_file, json.dumps(facts, indent=2) + "\n")
    clock.log(f"PrivateData = {private_data or 'none'}; rate limit {'on' if rate_limit else 'off'}")


def private_data_flags(text):
    """``none`` or a comma-separated list of slurm.conf PrivateData flags."""
    known = {"accounts", "events", "jobs", "nodes", "partitions", "reservations", "usage", "users"}
    flags = text.split(",")
    if text != "none" and not set(flags) <= known:
        message = f"expected none or a comma-separated list of {', '.join(sorted(known))}"
        raise argparse.ArgumentTypeError(message)
    return text


def cmd_env(args):
    layout = Layout.from_env(args.release)
    release = layout.release
    variables = [("SLURMRESTD_URL", release.rest_url), ("HPC_CLUSTER_DIR", layout.root)]
    if release.in_chroot:
        # The host's own Slurm commands cannot talk to another release's daemons.
        prefix = shlex.join(config.command_prefix(layout))
        print(f"# Slurm {release.name}'s commands run in its root: {prefix} <command>")
    else:
        variables.insert(0, ("SLURM_CONF", layout.slurm_conf))
    for name, value in variables:
        print(f"export {name}={shlex.quote(str(value))}")
    return 0


@contextlib.contextmanager
def machine_lock(release):
    """One up/down of a release's cluster at a time on this machine (its names, ports and
    addresses are machine-wide)."""
    lock_file = release.lock_file
    with lock_file.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another up/down to finish (lock {lock_file})", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def node_count(text):
    value = int(text)
    if not MIN_NODES <= value <= MAX_NODES:
        message = f"must be between {MIN_NODES} and {MAX_NODES}"
        raise argparse.ArgumentTypeError(message)
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Local Slurm test cluster for jupyterlab-hpc.")
    release = argparse.ArgumentParser(add_help=False)
    release.add_argument(
        "--release",
        choices=RELEASES,
        default=DEFAULT_RELEASE,
        help=f"Slurm release (default {DEFAULT_RELEASE}, the host's; others run in a chroot)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def add_command(name, **kwargs):
        return commands.add_parser(name, parents=[release], **kwargs)

    up = add_command("up", help="start the cluster (no-op if it is already up)")
    up.add_argument("--nodes", type=node_count, default=DEFAULT_NODES, help="4 to 9 (default 4)")
    up.add_argument(
        "--max-job-count", type=int, default=DEFAULT_MAX_JOB_COUNT, help="slurm.conf MaxJobCount"
    )
    up.add_argument(
        "--users",
        type=int,
        default=0,
        help="simulated users hpcuser001.. (real Unix users with associations; default 0)",
    )
    up.set_defaults(func=cmd_up, needs_root=True)
    down = add_command("down", help="stop everything this tool started")
    down.add_argument("--purge", action="store_true", help="also delete the state directory")
    down.set_defaults(func=cmd_down, needs_root=True)
    status = add_command("status", help="show daemons, nodes, partitions; exit 0 if all up")
    status.set_defaults(func=cmd_status, needs_root=False)
    env = add_command("env", help="print export lines for the cluster's environment")
    env.set_defaults(func=cmd_env, needs_root=False)
    for command, func, verb in (
        ("stop-daemon", cmd_stop_daemon, "stop"),
        ("start-daemon", cmd_start_daemon, "start (and wait until it answers)"),
    ):
        one = add_command(command, help=f"{verb} one daemon: for fault tests")
        one.add_argument("daemon", type=daemon_name, help="slurmctld, slurmdbd or slurmd:nX")
        one.set_defaults(func=func, needs_root=True)
    private = add_command("private-data", help="set slurm.conf's PrivateData and reconfigure")
    private.add_argument("flags", type=private_data_flags, help="e.g. jobs,usage; or none")
    private.set_defaults(func=cmd_private_data, needs_root=True)
    rate = add_command("rate-limit", help="slurmctld's per-user RPC rate limit (rl_enable)")
    rate.add_argument("state", choices=("on", "off"), help="on: Slurm's default bucket")
    rate.set_defaults(func=cmd_rate_limit, needs_root=True)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # Debian's binaries first; daemons and ip live in sbin, which a CI or sudo PATH may lack.
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = ":".join(["/usr/sbin", "/usr/bin", "/sbin", "/bin", path])
    try:
        if not args.needs_root:
            return args.func(args)
        if os.geteuid() != 0:
            message = f"`{args.command}` must run as root"
            raise ClusterError(message)
        with machine_lock(RELEASES[args.release]):
            return args.func(args)
    except ClusterError as exc:
        print(f"slurm_cluster {args.command}: error: {exc}", file=sys.stderr)
        if args.command == "up" and recorded_daemons(Layout.from_env(args.release)):
            option = release_option(RELEASES[args.release])
            print(
                f"Run `down{option}` to clean up, or `up` again (it cleans up first).",
                file=sys.stderr,
            )
        return 1


if __name__ == "__main__":
    sys.exit(main())
