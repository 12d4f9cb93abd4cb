"""The slurmrestd backend: Slurm's REST API with a JWT, and the readers of its JSON versions."""
