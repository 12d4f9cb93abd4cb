"""The commands backend: Slurm's own commands (squeue, sinfo, scontrol, sacct, sbatch ...) and
the parsers of what they print."""
