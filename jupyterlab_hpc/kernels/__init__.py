"""Kernels in Slurm jobs: the provisioner (server side) and the launcher (job side).

This package's ``__init__`` imports nothing: the launcher runs on compute nodes at every
kernel start, and what it imports is paid for in the kernel's start time.
"""
