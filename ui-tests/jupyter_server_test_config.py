"""Jupyter server for the Galata tests: Galata's test set-up, acting as alice towards Slurm.

The tests run as root (CI and the dev machines), so the server must allow it; Slurm is reached as
the cluster's user alice, so the jobs the tests submit as alice are "mine" in the sidebar.
"""

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821  (provided by Jupyter when it loads this file)

configure_jupyter_server(c)

c.ServerApp.port = 8890  # keep in step with playwright.config.js
c.ServerApp.allow_root = True
c.SlurmCommands.command_prefix = ["runuser", "-u", "alice", "--"]
