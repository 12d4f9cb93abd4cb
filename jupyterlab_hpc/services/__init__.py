"""Services between the REST handlers and the Slurm backend (caching, filtering, validation)."""
