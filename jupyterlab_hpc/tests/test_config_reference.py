"""The committed configuration reference is what the code's traitlets say today."""

from __future__ import annotations

from pathlib import Path

from jupyterlab_hpc.config_reference import reference

COMMITTED = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_the_configuration_reference_is_up_to_date() -> None:
    assert COMMITTED.read_text() == reference(), (
        "docs/configuration.md is stale: run "
        "`.venv/bin/python -m jupyterlab_hpc.config_reference > docs/configuration.md`"
    )


def test_every_setting_is_documented() -> None:
    assert "(undocumented)" not in reference()
