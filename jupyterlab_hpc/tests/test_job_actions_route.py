"""Acting on jobs through the REST API, as alice, on the real cluster."""

from __future__ import annotations

import gzip
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_hpc.tests.conftest import SubmitJob, as_user
from jupyterlab_hpc.tests.openapi_check import assert_matches_openapi

pytestmark = pytest.mark.cluster


def slurm_state(job_id: str) -> tuple[str, str]:
    """(state, reason) as root sees it in ``scontrol show job``."""
    output = subprocess.run(
        ["scontrol", "--oneliner", "show", "job", job_id],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = dict(item.split("=", 1) for item in output.split() if "=" in item)
    return fields["JobState"], fields["Reason"]


async def refused(request: Any, route: str, method: str) -> tuple[int, str]:
    """The refusal's status and message, checked against the OpenAPI document."""
    with pytest.raises(HTTPClientError) as error:
        await request
    assert error.value.response is not None
    assert_matches_openapi(route, method, error.value.code, error.value.response.body)
    return error.value.code, json.loads(error.value.response.body)["message"]


async def test_alice_cannot_cancel_bobs_job_and_hears_slurms_words(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    bobs_job = submit_job("bob", "--partition=debug", "--time=5")

    code, message = await refused(
        jp_fetch("hpc", "jobs", bobs_job, method="DELETE"), "/hpc/jobs/{job_id}", "DELETE"
    )

    assert code == 403
    assert "Access/permission denied" in message
    assert slurm_state(bobs_job)[0] in {"PENDING", "RUNNING"}


async def test_alice_holds_and_releases_her_pending_job(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    job_id = submit_job("alice", "--partition=debug", "--time=5", "--begin=now+1hour")

    held = await jp_fetch("hpc", "jobs", job_id, "hold", method="POST", body="")
    assert held.code == 204
    assert slurm_state(job_id) == ("PENDING", "JobHeldUser")
    detail = json.loads((await jp_fetch("hpc", "jobs", job_id)).body)
    assert detail["reason_text"] == "Held by you: release it to let it start"

    released = await jp_fetch("hpc", "jobs", job_id, "release", method="POST", body="")
    assert released.code == 204
    assert slurm_state(job_id)[1] != "JobHeldUser"


async def test_alice_cancels_her_job_and_it_leaves_the_queue(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    job_id = submit_job("alice", "--partition=debug", "--time=5")

    response = await jp_fetch("hpc", "jobs", job_id, method="DELETE")

    assert response.code == 204
    assert slurm_state(job_id)[0] in {"CANCELLED", "COMPLETING"}


async def test_requeue_of_a_pending_job_is_a_conflict_in_slurms_words(
    jp_fetch: Any, submit_job: SubmitJob
) -> None:
    job_id = submit_job("alice", "--partition=debug", "--time=5", "--hold")

    code, message = await refused(
        jp_fetch("hpc", "jobs", job_id, "requeue", method="POST", body=""),
        "/hpc/jobs/{job_id}/requeue",
        "POST",
    )

    assert code == 409
    assert "pending" in message


@pytest.mark.parametrize("bad_id", ["1;rm -rf ~", "$(id)", "12 13", "-1", "1_x", "..", "12\n13"])
async def test_a_malformed_job_id_is_a_400_and_runs_nothing(
    jp_fetch: Any, command_log: Path, bad_id: str
) -> None:
    code, message = await refused(
        jp_fetch("hpc", "jobs", bad_id, method="DELETE"), "/hpc/jobs/{job_id}", "DELETE"
    )

    assert code == 400
    assert "Not a Slurm job id" in message
    assert not command_log.exists()


async def test_an_unknown_job_is_a_404(jp_fetch: Any) -> None:
    code, _ = await refused(jp_fetch("hpc", "jobs", "987654"), "/hpc/jobs/{job_id}", "GET")
    assert code == 404


async def test_a_script_is_submitted_from_its_folder_and_runs_there(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    folder = jp_root_dir / "project"
    folder.mkdir()
    (folder / "hello.sbatch").write_text(
        "#!/bin/bash\n#SBATCH --partition=debug\n#SBATCH --time=1\n"
        "#SBATCH --output=hello-%j.out\npwd; hostname\n"
    )
    subprocess.run(["chown", "-R", "alice:alice", str(folder)], check=True)

    response = await jp_fetch(
        "hpc", "jobs", method="POST", body=json.dumps({"path": "project/hello.sbatch"})
    )

    assert response.code == 201
    job_id = json.loads(response.body)["id"]
    output = folder / f"hello-{job_id}.out"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (
        output.exists() and output.read_text().count("\n") >= 2
    ):
        time.sleep(0.2)
    lines = output.read_text().splitlines()
    assert lines[0] == str(folder)
    assert lines[1] in {"n1", "n2"}


async def test_sbatchs_refusal_reaches_the_user_as_a_400(jp_fetch: Any, jp_root_dir: Path) -> None:
    script = jp_root_dir / "bad-account.sbatch"
    script.write_text("#!/bin/bash\n#SBATCH --account=nosuchaccount\ntrue\n")
    script.chmod(0o644)

    code, message = await refused(
        jp_fetch("hpc", "jobs", method="POST", body=json.dumps({"path": "bad-account.sbatch"})),
        "/hpc/jobs",
        "POST",
    )

    assert code == 400
    assert "sbatch: error" in message
    assert "Invalid account" in message


@pytest.mark.parametrize("path", ["../../etc/passwd", "/../etc/passwd", "a/../../x.sh"])
async def test_a_path_outside_the_root_is_a_400_and_runs_nothing(
    jp_fetch: Any, command_log: Path, path: str
) -> None:
    code, message = await refused(
        jp_fetch("hpc", "jobs", method="POST", body=json.dumps({"path": path})), "/hpc/jobs", "POST"
    )

    assert code == 400
    assert "outside the server's root" in message
    assert not command_log.exists()


async def test_alice_reads_her_jobs_output_by_offset(jp_fetch: Any, jp_root_dir: Path) -> None:
    output = jp_root_dir / "out.txt"
    job_id = subprocess.run(
        [*as_user("alice"), "sbatch", "--parsable", "--partition=debug", "--time=1",
         f"--chdir={jp_root_dir}", "--output=out.txt", "--wrap=echo first; echo second; sleep 60"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (output.exists() and output.stat().st_size >= 13):
            time.sleep(0.2)

        first = json.loads(
            (await jp_fetch("hpc", "jobs", job_id, "output", params={"limit": "6"})).body
        )
        rest = json.loads(
            (
                await jp_fetch(
                    "hpc", "jobs", job_id, "output", params={"offset": str(first["next_offset"])}
                )
            ).body
        )
    finally:
        subprocess.run(["scancel", job_id], check=False)

    assert (first["data"], first["offset"], first["next_offset"]) == ("first\n", 0, 6)
    assert rest["data"] == "second\n"
    assert rest["size"] == 13
    assert rest["path"] == str(output)


async def test_output_comes_gzipped_to_browsers_and_unchanged_output_costs_a_304(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    job_id = subprocess.run(
        [*as_user("alice"), "sbatch", "--parsable", "--partition=debug", "--time=1",
         f"--chdir={jp_root_dir}", "--output=numbers.txt", "--wrap=seq 1 5000"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    output = jp_root_dir / "numbers.txt"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (output.exists() and output.stat().st_size >= 23893):
        time.sleep(0.2)

    async def get(accept_encoding: str, etag: str = "") -> Any:
        headers = {"Accept-Encoding": accept_encoding, **({"If-None-Match": etag} if etag else {})}
        return await jp_fetch(
            "hpc", "jobs", job_id, "output", headers=headers, raise_error=False,
            decompress_response=False,
        )  # fmt: skip

    plain = await get("identity")
    zipped = await get("gzip")
    again = await get("gzip", etag=zipped.headers["Etag"])

    assert json.loads(plain.body)["data"] == "".join(f"{n}\n" for n in range(1, 5001))
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert len(zipped.body) < len(plain.body) / 2
    assert again.code == 304
    assert_matches_openapi("/hpc/jobs/{job_id}/output", "GET", again.code, again.body)


async def test_bobs_output_is_refused_to_alice(jp_fetch: Any, submit_job: SubmitJob) -> None:
    bobs_job = submit_job("bob", "--partition=debug", "--time=5")

    code, message = await refused(
        jp_fetch("hpc", "jobs", bobs_job, "output"), "/hpc/jobs/{job_id}/output", "GET"
    )

    assert code == 403
    assert "only your own jobs" in message
