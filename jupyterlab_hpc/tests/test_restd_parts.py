"""The slurmrestd backend's pure parts: #SBATCH translation, tokens, API version choice."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from jupyterlab_hpc.slurm.errors import InvalidRequest, SlurmUnavailable
from jupyterlab_hpc.slurm.restd import newest_supported_version
from jupyterlab_hpc.slurm.restd_client import renewal_time, token_from_output
from jupyterlab_hpc.slurm.restd_submit import job_properties, time_minutes

SCRIPT = """#!/bin/bash
#SBATCH -J analysis --partition=compute  # a comment
#SBATCH -A proj2 -t 1-02:30 --mem=2G -c 4
#SBATCH --output=logs/%j.out --hold
#SBATCH -N 2-3
echo start
#SBATCH --account=ignored-after-the-first-command
"""


def properties(script: str) -> dict[str, object]:
    return job_properties(
        script, script_path="/home/a/run.sh", work_dir="/home/a/p", environment={}
    )


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90), ("1:30", 2), ("2:00:00", 120), ("1-0", 1440), ("1-2:30", 1590), ("0-0:0:1", 1)],
)
def test_sbatch_time_forms_become_whole_minutes_rounded_up(text: str, minutes: int) -> None:
    assert time_minutes(text) == minutes


def test_sbatch_lines_up_to_the_first_command_become_job_properties() -> None:
    job = properties(SCRIPT)

    assert job == {
        "name": "analysis",
        "partition": "compute",
        "account": "proj2",
        "time_limit": 1590,
        "memory_per_node": 2048,
        "cpus_per_task": 4,
        "standard_output": "/home/a/p/logs/%j.out",
        "hold": True,
        "nodes": [2, 3],
        "current_working_directory": "/home/a/p",
        "environment": {},
    }


def test_a_script_without_options_is_named_after_its_file() -> None:
    assert properties("#!/bin/sh\nhostname\n")["name"] == "run.sh"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("#SBATCH --export=NONE", "not supported with the slurmrestd backend"),
        ("#SBATCH --time=soon", "not a time limit"),
        ("#SBATCH --mem", "needs a value"),
        ("#SBATCH hostname", "Not an sbatch option"),
    ],
)
def test_an_option_that_cannot_be_translated_refuses_the_submission(line: str, words: str) -> None:
    with pytest.raises(InvalidRequest, match=words):
        properties(f"#!/bin/bash\n{line}\n")


def jwt(claims: dict[str, int]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.signature"


def test_the_token_is_read_from_scontrols_output_or_bare() -> None:
    assert token_from_output("SLURM_JWT=abc.def.ghi\n") == "abc.def.ghi"
    assert token_from_output("abc.def.ghi\n") == "abc.def.ghi"
    with pytest.raises(SlurmUnavailable):
        token_from_output("scontrol: error: something\n")


def test_a_token_is_renewed_before_it_expires_and_unreadable_ones_every_time() -> None:
    assert renewal_time(jwt({"iat": 1000, "exp": 2000}), now=1500) == 1800
    assert renewal_time("not-a-jwt", now=1500) == 1500


def test_the_newest_api_version_both_sides_know_is_chosen() -> None:
    openapi: dict[str, Any] = {
        "paths": {f"/slurm/{v}/jobs": {} for v in ("v0.0.36", "v0.0.37", "v0.0.38")}
    }
    assert newest_supported_version(openapi) == "v0.0.38"
    with pytest.raises(SlurmUnavailable, match=r"offers v0\.0\.41"):
        newest_supported_version({"paths": {"/slurm/v0.0.41/jobs": {}}})
