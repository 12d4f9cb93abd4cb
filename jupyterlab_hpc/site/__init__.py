"""The site service (``jupyter hpc-site``): one Slurm read per interval for every user of a
cluster, served to each user's Jupyter server as Slurm would show it to that user."""
