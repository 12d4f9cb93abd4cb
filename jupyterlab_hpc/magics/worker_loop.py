"""Waiting for the Slurm layer's coroutines from an IPython magic, which is a plain call."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end in an event loop of its own, on a thread of its own.

    A kernel's event loop runs in this thread and is busy running the cell that called the
    magic: it cannot run the coroutine, and ``asyncio.run`` refuses to start a second loop in
    its thread. A private loop on a worker thread works under a kernel and in a terminal alike.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hpc-magic")
    try:
        return pool.submit(asyncio.run, coroutine).result()
    finally:
        # Not waiting for the thread: after an interrupt (KeyboardInterrupt in result()) the
        # cell ends at once, and the command finishes or meets its timeout on the thread.
        pool.shutdown(wait=False)
