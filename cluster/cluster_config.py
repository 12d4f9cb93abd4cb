"""What the cluster looks like (partitions, GPUs, accounts, QOS) and the files that say so."""

from cluster_chroot import CHECKOUT, JOB_PYTHON
from cluster_layout import CLUSTER_NAME, controller_host, node_names
from cluster_system import COORDINATOR, SITE_USER, TEST_USERS

GPU_NODES = ("n3", "n4")
GPUS_PER_NODE = 2
NODE_CPUS = 2
NODE_MEMORY_MB = 2000
DEF_MEM_PER_CPU_MB = 500

QOS = {
    "high": "Priority=1000 MaxWall=02:00:00 MaxTRESPerUser=cpu=4",
    "long": "MaxWall=2-00:00:00 GrpTRES=cpu=4",
}

# Every test user is in every account; DEFAULT_ACCOUNT picks the one used without -A.
ACCOUNTS = {
    "proj1": {
        "description": "Project one",
        "organization": "orga",
        "grp_tres_mins": "cpu=6000",
        "grp_tres": "cpu=6",
        "max_wall_minutes": 240,
        "qos": ["normal", "high", "long"],
    },
    "proj2": {
        "description": "Project two",
        "organization": "orgb",
        "grp_tres_mins": "cpu=600",
        "grp_tres": "cpu=4",
        "max_wall_minutes": 120,
        "qos": ["normal"],
    },
}
DEFAULT_ACCOUNT = {"alice": "proj1", "bob": "proj2"}
# carol is in proj2 only, and coordinates it.
COORDINATED_ACCOUNT = "proj2"

# A hidden partition over every node, for root only, whose jobs preempt (cancel) the jobs of the
# partitions above: how the tests meet preemption, as users of a site with a priority tier do.
PREEMPTING_PARTITION = "urgent"


def partitions(nodes):
    return [
        {
            "name": "debug",
            "nodes": nodes[:2],
            "default": True,
            "max_time": "00:30:00",
            "default_time": "00:05:00",
        },
        {
            "name": "compute",
            "nodes": list(nodes),
            "default": False,
            "max_time": "1-00:00:00",
            "default_time": "01:00:00",
        },
    ]


def hostlist(nodes):
    """n1,n2,n3 -> n[1-3] (our node numbers are always consecutive)."""
    first, last = nodes[0][1:], nodes[-1][1:]
    return nodes[0] if first == last else f"n[{first}-{last}]"


def slurm_conf(layout, node_count, max_job_count, *, private_data="", rate_limit=False):
    release = layout.release
    nodes = node_names(node_count)
    node_lines = "\n".join(
        f"NodeName={node} NodeHostname={node} NodeAddr={release.node_addr(node)}"
        f" CPUs={NODE_CPUS} RealMemory={NODE_MEMORY_MB}"
        + (f" Gres=gpu:{GPUS_PER_NODE}" if node in GPU_NODES else "")
        + " State=UNKNOWN"
        for node in nodes
    )
    partition_lines = "\n".join(
        f"PartitionName={p['name']} Nodes={hostlist(p['nodes'])}"
        f" Default={'YES' if p['default'] else 'NO'} MaxTime={p['max_time']}"
        f" DefaultTime={p['default_time']} State=UP"
        for p in partitions(nodes)
    )
    partition_lines += (
        f"\nPartitionName={PREEMPTING_PARTITION} Nodes={hostlist(nodes)} PriorityTier=10"
        " Hidden=YES RootOnly=YES MaxTime=01:00:00 State=UP"
    )
    return f"""\
# Written by jupyterlab-hpc cluster/slurm_cluster.py; rewritten on every `up`.
ClusterName={CLUSTER_NAME}
SlurmctldHost={controller_host()}({release.controller_addr})
SlurmUser=slurm
SlurmctldPort={release.ctld_port}
SlurmdPort={release.slurmd_port}
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key={layout.jwt_key}
CredType=cred/munge
StateSaveLocation={layout.ctld_state}
SlurmdSpoolDir={layout.slurmd_spool}/%n
SlurmctldPidFile={layout.ctld_state}/slurmctld.pid
SlurmdPidFile={layout.slurmd_spool}/%n/slurmd.pid
SlurmctldLogFile={layout.logfile("slurmctld")}
SlurmdLogFile={layout.logfile("slurmd-%n")}
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups here: track job processes through /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
# All nodes share this machine's CPUs and memory; trust the sizes below, not the hardware.
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
# Start a submitted batch job at once instead of batching submissions for up to 3 s.
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# A job of a higher PriorityTier partition cancels the jobs in its way (state PREEMPTED).
PreemptType=preempt/partition_prio
PreemptMode=CANCEL
# Without a default, a job without --mem would take all of a node's memory.
DefMemPerCPU={DEF_MEM_PER_CPU_MB}
GresTypes=gpu
PriorityType=priority/multifactor
PriorityWeightFairshare=10000
PriorityWeightAge=1000
PriorityWeightQOS=1000
PriorityCalcPeriod=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort={release.dbd_port}
AccountingStorageEnforce=associations,limits,qos,safe
AccountingStorageTRES=cpu,mem,node,gres/gpu
AccountingStoreFlags=job_comment,job_script,job_env
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=5
MinJobAge=300
MaxJobCount={max_job_count}
SlurmctldTimeout=30
SlurmdTimeout=30
Waittime=0
{f"PrivateData={private_data}" if private_data else "# PrivateData unset: everyone sees every job"}
{"SlurmctldParameters=rl_enable" if rate_limit else "# No RPC rate limit (rl_enable)"}
{node_lines}
{partition_lines}
"""


def gres_conf(layout):
    # Slurm 22.05 drops GPUs without File= ("Removing file-less GPU"), and File= must be a
    # character device: fake_gpu_files() are symlinks to /dev/null, one per GPU index.
    files = f"{layout.fake_gpus}/nvidia[0-{GPUS_PER_NODE - 1}]"
    return f"NodeName={hostlist(list(GPU_NODES))} Name=gpu File={files}\n"


def fake_gpu_files(layout):
    return [layout.fake_gpus / f"nvidia{index}" for index in range(GPUS_PER_NODE)]


def slurmdbd_conf(layout, db_password):
    return f"""\
# Written by jupyterlab-hpc cluster/slurm_cluster.py; rewritten on every `up`.
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key={layout.jwt_key}
DbdHost=localhost
DbdPort={layout.release.dbd_port}
SlurmUser=slurm
DebugLevel=info
LogFile={layout.logfile("slurmdbd")}
PidFile={layout.dbd_state}/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={layout.release.db_port}
StorageUser=slurm
StoragePass={db_password}
StorageLoc=slurm_acct_db
"""


def node_hosts(release, nodes):
    """/etc/hosts inside every node namespace: the controller and all nodes by name."""
    lines = ["127.0.0.1 localhost", f"{release.controller_addr} {controller_host()}"]
    lines += [f"{release.node_addr(node)} {node}" for node in nodes]
    return "\n".join(lines) + "\n"


# The namespaces have no DNS server; point them at a closed port so lookups fail at once
# instead of timing out after 5 s.
NODE_RESOLV_CONF = "nameserver 127.0.0.1\n"


def qos_commands():
    """sacctmgr commands run before the load file, which cannot create QOS."""
    return "".join(f"add qos {name} {options}\n" for name, options in QOS.items())


def extra_user_account(index):
    """Extra users are in both accounts; odd ones submit to proj1 by default, even ones to proj2."""
    return "proj1" if index % 2 else "proj2"


def accounts_file(extra_users=()):
    """All associations in `sacctmgr dump` format, for one `sacctmgr load` (~1 s in total;
    every separate sacctmgr add/modify costs ~0.5 s). ':' separates options, so MaxWall is
    given in minutes."""
    lines = [
        f"Cluster - '{CLUSTER_NAME}'",
        "Parent - 'root'",
        "User - 'root':DefaultAccount='root':AdminLevel='Administrator'",
        f"User - '{SITE_USER}':DefaultAccount='root':AdminLevel='Operator'",
    ]
    for name, account in ACCOUNTS.items():
        lines.append(
            f"Account - '{name}':Description='{account['description']}'"
            f":Organization='{account['organization']}'"
            f":GrpTRESMins={account['grp_tres_mins']}:GrpTRES={account['grp_tres']}"
            f":MaxWall={account['max_wall_minutes']}:QOS='{','.join(account['qos'])}'"
        )
    for name in ACCOUNTS:
        lines.append(f"Parent - '{name}'")
        lines += [
            f"User - '{user}':DefaultAccount='{DEFAULT_ACCOUNT[user]}'" for user in TEST_USERS
        ]
        if name == COORDINATED_ACCOUNT:
            lines.append(f"User - '{COORDINATOR}':DefaultAccount='{name}'")
        lines += [
            f"User - '{user}':DefaultAccount='{extra_user_account(index)}'"
            for index, user in enumerate(extra_users, start=1)
        ]
    return "\n".join(lines) + "\n"


def coordinator_commands():
    """sacctmgr commands run after the load file (coordinators need the account to exist)."""
    return f"add coordinator account={COORDINATED_ACCOUNT} names={COORDINATOR}\n"


def cluster_facts(layout, node_count, max_job_count, extra_users=()):
    """cluster.json: what tests need to know about the running cluster."""
    release = layout.release
    nodes = node_names(node_count)
    return {
        "cluster": CLUSTER_NAME,
        "release": release.name,
        "dir": str(layout.root),
        "slurm_conf": str(layout.slurm_conf),
        "command_prefix": command_prefix(layout),
        "rest_url": release.rest_url,
        "rest_unix_url": f"unix:{layout.rest_socket}",
        "controller": {"host": controller_host(), "addr": release.controller_addr},
        "nodes": {node: release.node_addr(node) for node in nodes},
        "node_namespaces": {node: release.netns_name(node) for node in nodes},
        "node_cpus": NODE_CPUS,
        "node_memory_mb": NODE_MEMORY_MB,
        "gres": dict.fromkeys(GPU_NODES, f"gpu:{GPUS_PER_NODE}"),
        "partitions": partitions(nodes),
        "preempting_partition": PREEMPTING_PARTITION,
        "max_job_count": max_job_count,
        "users": list(TEST_USERS),
        "default_accounts": dict(DEFAULT_ACCOUNT),
        "accounts": {
            name: {**account, "users": list(TEST_USERS)} for name, account in ACCOUNTS.items()
        },
        "qos": dict(QOS),
        "coordinators": {COORDINATED_ACCOUNT: [COORDINATOR]},
        "site_user": SITE_USER,
        "extra_users": list(extra_users),
        "private_data": "",
        "rate_limit": False,
        **job_python(layout),
    }


def job_python(layout):
    """For a release's cluster: the Python its jobs run (the root's, with ipykernel) and the
    path that makes jupyterlab_hpc importable there. The default cluster's jobs see the
    host's filesystem, so they run the tests' own Python."""
    if not layout.release.in_chroot:
        return {}
    return {"job_python": JOB_PYTHON, "job_pythonpath": str(CHECKOUT)}


def command_prefix(layout):
    """What runs a command (as root) with the cluster's Slurm: nothing for the host's own;
    chroot into the release's root otherwise, with SLURM_CONF set in case the caller's
    environment names another cluster's."""
    if not layout.release.in_chroot:
        return []
    return ["chroot", str(layout.release.root), "env", f"SLURM_CONF={layout.slurm_conf}"]
