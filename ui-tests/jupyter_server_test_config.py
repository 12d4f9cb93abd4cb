"""Jupyter server for the Galata tests: Galata's test set-up, acting as alice towards Slurm.

The tests run as root (CI and the dev machines), so the server must allow it; Slurm is reached as
the cluster's user alice, so the jobs the tests submit as alice are "mine" in the sidebar.
"""

import os
from tempfile import mkdtemp

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821  (provided by Jupyter when it loads this file)

configure_jupyter_server(c)

# Galata's set-up opens the server to anyone (no token, no XSRF check), and this one runs as
# root: every user of the machine could use its contents API and terminals. The token comes
# from playwright.config.js, in the environment (not on a command line, where ps shows it),
# and the browser and Galata's API helpers send it with every request.
c.IdentityProvider.token = os.environ["HPC_GALATA_TOKEN"]
c.ServerApp.disable_check_xsrf = False

# keep in step with playwright.config.js; reattach.spec.ts runs a server of its own elsewhere.
c.ServerApp.port = int(os.environ.get("HPC_GALATA_PORT", "8890"))
c.ServerApp.allow_root = True
c.SlurmConnection.command_prefix = ["runuser", "-u", "alice", "--"]

# Batch scripts submitted from the file browser run as alice in their folder: alice must read
# them and write her output there, as in a home directory (sticky, like /tmp).
# A server that reattach.spec.ts starts again serves the same folder.
root_dir = os.environ.get("HPC_GALATA_ROOT") or mkdtemp(prefix="galata-hpc-")
os.chmod(root_dir, 0o1777)  # noqa: S103
c.ServerApp.root_dir = root_dir

# Tests wait for what they changed in Slurm (a reservation, a quota): short caches keep them fast.
c.HPCExtension.announcements_refresh = 1.0
c.HPCExtension.partitions_refresh = 2.0
c.HPCExtension.jobs_refresh = 1.0

# Remote kernels run as alice too (the same prefix): her jobs, her kernel processes, her
# secrets file. The venv's Python (which imports jupyterlab_hpc and ipykernel) is readable by
# alice and seen by the nodes.
c.SlurmProvisioner.job_name = "galata-kernel"
# A server killed with its tests leaves no kernel job for long (reattach.spec.ts gives the
# server it kills time to start again).
c.SlurmProvisioner.grace_period = float(os.environ.get("HPC_GALATA_GRACE_PERIOD", "10"))
c.RemoteKernels.presets = [
    {
        "name": "debug-small",
        "title": "Quick look: 1 CPU, 10 minutes (debug)",
        "resources": {"partition": "debug", "cpus": 1, "time": 600},
    },
    {
        "name": "gpu",
        "title": "One GPU, 2 hours (compute)",
        "resources": {"partition": "compute", "cpus": 2, "gpus": 1, "time": 7200},
    },
]
c.RemoteKernels.watch_interval = 1.0
