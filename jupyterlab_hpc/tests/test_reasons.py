"""Pending reasons in plain words."""

from __future__ import annotations

import pytest

from jupyterlab_hpc.slurm.reasons import reason_text


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("Priority", "Waiting for higher-priority jobs to start first"),
        ("Resources", "Waiting for nodes with enough free resources"),
        ("JobHeldAdmin", "Held by an administrator"),
        (
            "AssocGrpCPUMinutesLimit",
            "Waiting: your account's group limit on CPU-minutes (allocation budget) is reached",
        ),
        ("AssocGrpCpuLimit", "Waiting: your account's group limit on CPUs in use is reached"),
        (
            "QOSMaxWallDurationPerJobLimit",
            "Waiting: the QOS's per-user or per-job limit on wall time is reached",
        ),
        (
            "ReqNodeNotAvail, Reserved for maintenance",
            "Requested nodes are unavailable (down, drained or reserved for maintenance)",
        ),
    ],
)
def test_known_reasons_read_as_plain_words(reason: str, words: str) -> None:
    assert reason_text(reason) == words


def test_no_reason_means_no_text_and_unknown_codes_pass_through() -> None:
    assert reason_text("None") is None
    assert reason_text(None) is None
    assert reason_text("SomeFutureReason") == "SomeFutureReason"
