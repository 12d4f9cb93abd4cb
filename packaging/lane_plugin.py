"""pytest plugin of the wheel lane (check_wheel.py): the checkout's tests, the installed wheel.

The wheel has no ``jupyterlab_hpc.tests``; the tests import their helpers as
``jupyterlab_hpc.tests.*``. So: import the installed ``jupyterlab_hpc`` first, then register
the checkout's test folder (WHEEL_LANE_TESTS) as its ``tests`` subpackage, and nothing else of
the checkout. At the end, every other ``jupyterlab_hpc`` module the run imported must have come
from the installed wheel (WHEEL_LANE_SITE).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import jupyterlab_hpc

TESTS = Path(os.environ["WHEEL_LANE_TESTS"]).resolve()
SITE = Path(os.environ["WHEEL_LANE_SITE"]).resolve()

_spec = importlib.util.spec_from_file_location(
    "jupyterlab_hpc.tests", TESTS / "__init__.py", submodule_search_locations=[str(TESTS)]
)
if _spec is None or _spec.loader is None:
    raise ImportError(TESTS)
_tests = importlib.util.module_from_spec(_spec)
sys.modules["jupyterlab_hpc.tests"] = _tests
_spec.loader.exec_module(_tests)
jupyterlab_hpc.tests = _tests  # type: ignore[attr-defined]


def _not_from_the_wheel() -> list[str]:
    wrong = []
    for name, module in sorted(sys.modules.items()):
        if name != "jupyterlab_hpc" and not name.startswith("jupyterlab_hpc."):
            continue
        if name == "jupyterlab_hpc.tests" or name.startswith("jupyterlab_hpc.tests."):
            continue
        path = getattr(module, "__file__", None)
        if path is None or not Path(path).resolve().is_relative_to(SITE):
            wrong.append(f"{name} from {path}")
    return wrong


def pytest_sessionfinish(session: Any) -> None:
    if _not_from_the_wheel():
        session.exitstatus = 3


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write = terminalreporter.write_line
    write(f"wheel lane: jupyterlab_hpc.__file__ = {jupyterlab_hpc.__file__}")
    wrong = _not_from_the_wheel()
    if wrong:
        write("wheel lane: modules NOT from the installed wheel:")
        for line in wrong:
            write(f"  {line}")
    else:
        count = sum(
            1
            for n in sys.modules
            if n.startswith("jupyterlab_hpc.") and not n.startswith("jupyterlab_hpc.tests")
        )
        write(f"wheel lane: all {count + 1} jupyterlab_hpc modules imported are the wheel's")
