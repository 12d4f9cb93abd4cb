"""Parsers of Slurm's text fields."""

from __future__ import annotations

import time

import pytest

from jupyterlab_hpc.slurm.notation import gpu_count, memory_mb, time_seconds, utc_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:00", 0),
        ("4:05", 245),
        ("1:02:03", 3723),
        ("1-00:00:00", 86400),
        ("2-03:04:05", 183845),
        ("30", 1800),
        ("1-12", 129600),
        ("1-2:30", 95400),
        ("UNLIMITED", None),
        ("1:2:3:4", None),
        ("INVALID", None),
        ("", None),
    ],
)
def test_durations_read_in_seconds(text: str, seconds: int | None) -> None:
    assert time_seconds(text) == seconds


@pytest.mark.parametrize(
    ("text", "mb"),
    [("500M", 500), ("2G", 2048), ("1000", 1000), ("512K", 0), ("1.5G", 1536), ("N/A", None)],
)
def test_memory_reads_in_megabytes(text: str, mb: int | None) -> None:
    assert memory_mb(text) == mb


@pytest.mark.parametrize(
    ("text", "gpus"),
    [
        ("N/A", 0),
        ("gres:gpu:2", 2),
        ("gpu:a100:4", 4),
        ("cpu=2,mem=1G,gres/gpu=3", 3),
        ("gres/gpu:a100=1,gres/gpu:v100=2", 3),
        ("cpu=2,mem=1000M,node=1", 0),
    ],
)
def test_gpus_are_counted_in_gres_and_tres(text: str, gpus: int) -> None:
    assert gpu_count(text) == gpus


def test_times_become_utc_and_absent_times_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert utc_time("2026-07-01T12:00:00") == "2026-07-01T10:00:00Z"
        assert utc_time("N/A") is None
        assert utc_time("Unknown") is None
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
