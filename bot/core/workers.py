"""Many independent, CPU-heavy items (catalog files to validate, entries to prepare) over worker processes.

Python threads share one interpreter lock, so only processes make a large catalog's first start use
more than one core. Small batches stay in this process: starting a worker costs a fraction of a second.

Worker processes are started (spawned) only once the program allowed them (`allow_processes`): each
worker imports the program's main module again, which is harmless only when that module runs nothing
on import (`if __name__ == "__main__":`). The command-line entry point allows them; a script that
imports the catalog code does not start processes behind its back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_ITEMS = 400
MAX_WORKERS = 4
_allowed = False


def allow_processes(allowed: bool = True) -> None:
    """Let `map_in_workers` start worker processes (a program-wide choice: the entry point's to make)."""
    global _allowed
    _allowed = allowed


def workers(items: int) -> int:
    """How many processes `items` items are worth on this machine (1: this process alone)."""
    if not _allowed or items < PARALLEL_MIN_ITEMS:
        return 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(usable, MAX_WORKERS))


def map_in_workers(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[function(item) for item in items]`, in worker processes when there are many items and cores.

    `function` must be a module-level function; anything that stops the workers (no processes in a
    sandbox, an object that cannot be sent) means the same work done here, with a log line.
    """
    count = workers(len(items))
    if count > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        try:
            # Spawned, not forked: the caller may be a thread beside a running event loop.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(count, mp_context=context) as pool:
                return list(pool.map(function, items, chunksize=max(1, len(items) // (8 * count))))
        except Exception as exc:
            log.warning("%d items done in this process instead of %d workers (%s: %s)", len(items), count,
                        type(exc).__name__, exc)
    return [function(item) for item in items]
