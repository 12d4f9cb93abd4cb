#!/usr/bin/env bash
# Starts JupyterLab with jupyterlab-hpc as user alice on the local cluster, with a few real
# jobs in the queue so the panel has something to show. Called by `make demo`.
set -euo pipefail

VENV=${VENV:?the venv with jupyterlab-hpc installed}
DEMO_PORT=${DEMO_PORT:-8888}
DEMO_USER=${DEMO_USER:-alice}
here=$(cd "$(dirname "$0")" && pwd)
home=$(getent passwd "$DEMO_USER" | cut -d: -f6)
notebooks=$home/hpc-demo

if ! runuser -u "$DEMO_USER" -- test -x "$VENV/bin/jupyter"; then
  echo "demo: user $DEMO_USER cannot run $VENV/bin/jupyter." >&2
  echo "      Clone the repository where other users can read it (e.g. under /opt or /srv)." >&2
  exit 1
fi

install -d -o "$DEMO_USER" -g "$DEMO_USER" "$notebooks"
cp -r "$here/notebooks/." "$notebooks/"
chown -R "$DEMO_USER:" "$notebooks"

as_demo_user() { runuser -u "$DEMO_USER" -- env HOME="$home" "$@"; }
running=$(as_demo_user sbatch --parsable --chdir="$notebooks" --job-name=demo-running \
  --partition=debug --time=20 --output=demo-running.out --wrap='hostname; sleep 1200')
held=$(as_demo_user sbatch --parsable --chdir="$notebooks" --job-name=demo-held \
  --partition=compute --time=60 --hold --output=demo-held.out --wrap='sleep 60')

# The token goes to JupyterLab in its environment (jupyter_server reads JUPYTER_TOKEN), which
# only the demo user and root can read: on its command line any user would see it with ps.
# Made after the sbatch calls, so the jobs' copies of the environment do not carry it.
JUPYTER_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export JUPYTER_TOKEN
echo
echo "jupyterlab-hpc demo: open http://127.0.0.1:$DEMO_PORT/lab?token=$JUPYTER_TOKEN"
echo "(as user $DEMO_USER, serving $notebooks; Ctrl-C stops JupyterLab, \`make cluster-down\` the cluster)"
echo "demo jobs: ${running%%;*} ${held%%;*} (\`scancel ${running%%;*} ${held%%;*}\` removes them)"
echo
cd "$notebooks"
exec runuser -u "$DEMO_USER" -- env HOME="$home" USER="$DEMO_USER" \
  "$VENV/bin/jupyter" lab --no-browser --ip=127.0.0.1 --port="$DEMO_PORT" \
  --ServerApp.root_dir="$notebooks"
