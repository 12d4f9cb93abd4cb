"""One outage of Slurm is logged once, whichever command met it first and whatever routes
meet it after (handlers/outage.py)."""

from __future__ import annotations

import logging

import pytest

from jupyterlab_hpc.handlers.outage import OutageLog

DOWN = "Unable to contact slurm controller (connect failure)"


def test_the_same_outage_met_by_several_commands_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outages = OutageLog(logging.getLogger("test-outage"))
    with caplog.at_level(logging.INFO, logger="test-outage"):
        assert outages.unreachable("jobs", f"slurm_load_jobs error: {DOWN}")
        assert not outages.unreachable("partitions", f"slurm_load_partitions error: {DOWN}")
        outages.reachable("jobs")  # served from the cache meanwhile: partitions still fail
        assert not outages.unreachable("jobs", f"slurm_load_ctl_conf error: {DOWN}")
        outages.reachable("jobs")
        outages.reachable("partitions")

    assert [record.levelname for record in caplog.records] == ["ERROR", "INFO"]
    assert "Slurm answers again" in caplog.records[1].getMessage()


def test_another_outage_is_logged_while_the_first_lasts(caplog: pytest.LogCaptureFixture) -> None:
    outages = OutageLog(logging.getLogger("test-outage"))
    with caplog.at_level(logging.ERROR, logger="test-outage"):
        outages.unreachable("jobs", f"slurm_load_jobs error: {DOWN}")
        outages.unreachable("quotas", "sacctmgr: error: Problem talking to the database")

    assert len(caplog.records) == 2
