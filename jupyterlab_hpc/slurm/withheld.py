"""Environment variables kept out of jobs submitted for the user.

sbatch copies the submitting process's environment into the job, and Slurm keeps a batch job's
environment with the job and shows it to admins. A Jupyter server's environment (and so its
kernels') holds JupyterHub's API token and often other secrets: they stay out of kernel jobs
(``c.SlurmProvisioner.withheld_environment``) and of ``%%sbatch`` jobs alike.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

# Glob patterns, matched case-insensitively: API tokens, passwords, keys (OPENAI_API_KEY,
# AWS_SECRET_ACCESS_KEY), personal access tokens (GITHUB_PAT) and JupyterHub's own tokens.
SECRET_PATTERNS = (
    "*TOKEN*",
    "*SECRET*",
    "*PASS*",
    "*_KEY",
    "*_KEY_*",
    "*_PAT",
    "*CREDENTIAL*",
)


def withheld_names(environ: Mapping[str, str], patterns: Iterable[str]) -> list[str]:
    """The names in ``environ`` that match one of ``patterns``; Slurm's own (SLURM_*) never:
    sbatch reads its options from them."""
    upper = [pattern.upper() for pattern in patterns]
    return [
        name
        for name in environ
        if not name.startswith("SLURM_")
        and any(fnmatch.fnmatchcase(name.upper(), pattern) for pattern in upper)
    ]
