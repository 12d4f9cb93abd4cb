# jupyterlab-hpc developer and demo entry points (Debian 12, as root).
#   make demo   local Slurm cluster + JupyterLab with the extension, as user alice
#   make test   lint, types, pytest (real cluster), jest, Galata (Debian's chromium)

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BASE ?= /usr/bin/python3
VENV ?= .venv
PY := $(VENV)/bin/python
JLPM := $(VENV)/bin/jlpm
# The venv's tools (jlpm, jupyter-builder, jupyter) must win over anything else on PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)
CLUSTER := $(PYTHON_BASE) cluster/slurm_cluster.py
DEMO_PORT ?= 8888

# Debian packages the build and the browser tests need (the cluster tool installs Slurm's).
# chromium for Galata; nftables for the test that firewalls the compute nodes (reverse kernels).
DEBIAN_PACKAGES := python3-venv chromium nftables

.PHONY: help
help:
	@echo "make demo          local Slurm cluster + JupyterLab with jupyterlab-hpc as user alice"
	@echo "make test          every gate and test suite (what CI runs)"
	@echo "make install       Python venv ($(VENV)) with the extension installed for development"
	@echo "make cluster       start the local Slurm cluster; cluster-down / cluster-status"
	@echo "make lint          ruff, ruff format, mypy, eslint, prettier"
	@echo "make pytest | jest | galata   one test suite"
	@echo "make wheel-lane    the built wheel in fresh venvs (oldest floors, newest), node off PATH"
	@echo "make matrix        contract and kernel suites on Slurm 22.05, 24.11, 26.05 -> docs/compatibility.md"
	@echo "make fuzz          schemathesis against the REST API on the local cluster (fuzz/)"

# ---------------------------------------------------------------------------- set-up
.PHONY: system-packages
system-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(PY): | system-packages
	$(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Re-installs when the packaging or the frontend's dependencies change.
$(VENV)/.installed: pyproject.toml package.json yarn.lock | $(PY)
	@# jupyter-builder develop writes install.json into the build output; the wheel's own
	@# install.json would then be added twice and a re-install would fail.
	rm -f jupyterlab_hpc/labextension/install.json
	$(PY) -m pip install -q -e ".[test]"
	$(VENV)/bin/jupyter-builder develop --overwrite .
	$(VENV)/bin/jupyter server extension enable --sys-prefix jupyterlab_hpc
	touch $@

.PHONY: install
install: $(VENV)/.installed

ui-tests/node_modules/.installed: ui-tests/package.json ui-tests/yarn.lock | $(VENV)/.installed
	cd ui-tests && ../$(JLPM) install
	touch $@

# ---------------------------------------------------------------------------- cluster
.PHONY: cluster cluster-down cluster-status
# Two simulated users (hpcuser001, hpcuser002) beside alice, bob and carol: the site service's tests.
cluster:
	$(CLUSTER) up --users 2

cluster-down:
	$(CLUSTER) down

cluster-status:
	$(CLUSTER) status

# ---------------------------------------------------------------------------- gates and tests
.PHONY: lint
lint: install
	$(VENV)/bin/ruff check jupyterlab_hpc cluster benchmarks fuzz
	$(VENV)/bin/ruff format --check jupyterlab_hpc cluster benchmarks fuzz
	$(VENV)/bin/mypy
	$(JLPM) lint:check

.PHONY: build
build: install
	$(JLPM) build

# JupyterHub's proxy (npm), for test_hub_stop.py; project-local, ignored by git.
CHP_VERSION := 5.3.0
CHP_DIR := .hub-proxy
$(CHP_DIR)/node_modules/.bin/configurable-http-proxy:
	npm install --prefix $(CHP_DIR) --no-save --no-audit --no-fund --loglevel=error \
	  configurable-http-proxy@$(CHP_VERSION)

.PHONY: hub-proxy
hub-proxy: $(CHP_DIR)/node_modules/.bin/configurable-http-proxy

.PHONY: pytest
pytest: install cluster hub-proxy
	HPC_REQUIRE_CLUSTER=1 $(PY) -m pytest

.PHONY: jest
jest: install
	$(JLPM) test

.PHONY: galata
galata: build cluster ui-tests/node_modules/.installed
	cd ui-tests && ../$(JLPM) playwright test

# The wheel as a site installs it, node off PATH: built once, installed in a fresh venv with
# every dependency floor pinned and in one with the newest releases; labextension enabled OK,
# the server tests that need no cluster against the installed wheel (packaging/check_wheel.py).
.PHONY: wheel-lane
wheel-lane: install
	$(PYTHON_BASE) packaging/check_wheel.py

.PHONY: test
test: lint wheel-lane pytest jest galata

# Not part of `make test` (about a minute, and it sends thousands of requests): on demand.
# Only the extra's packages: a second editable install after jupyter-builder develop fails.
FUZZ_REQUIREMENTS := import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["fuzz"], sep="\n")
$(VENV)/.fuzz-installed: pyproject.toml | $(VENV)/.installed
	$(PY) -c '$(FUZZ_REQUIREMENTS)' | $(PY) -m pip install -q -r /dev/stdin
	touch $@

.PHONY: fuzz
fuzz: $(VENV)/.fuzz-installed cluster
	$(PY) fuzz/fuzz_api.py

# ---------------------------------------------------------------------------- compatibility
# Not part of `make test`: the backend contract suite against each Slurm release. 22.05 is the
# shared cluster (never stopped); 24.11 and 26.05 each get their own cluster from a Debian root
# cached under /var/tmp (built on first use, ~1 min each), brought down again afterwards.
.PHONY: matrix
matrix: install cluster
	$(PYTHON_BASE) cluster/compatibility_matrix.py --pytest $(abspath $(VENV))/bin/pytest

# ---------------------------------------------------------------------------- demo
.PHONY: demo
demo: build cluster
	VENV=$(abspath $(VENV)) DEMO_PORT=$(DEMO_PORT) demo/start.sh
