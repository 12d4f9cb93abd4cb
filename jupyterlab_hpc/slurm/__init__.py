"""Access to Slurm. Nothing in this package knows about tornado or HTTP."""
