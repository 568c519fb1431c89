"""Many independent, CPU-heavy items (catalog files to validate, entries to prepare) over worker processes.

Python threads share one interpreter lock, so only processes make a large catalog's first start use
more than one core. Small batches stay in this process: starting a worker costs a fraction of a second.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_ITEMS = 400
MAX_WORKERS = 4


def workers(items: int) -> int:
    """How many processes `items` items are worth on this machine (1: this process alone)."""
    if items < PARALLEL_MIN_ITEMS:
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
        try:
            # Spawned, not forked: the caller may be a thread beside a running event loop.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(count, mp_context=context) as pool:
                return list(pool.map(function, items, chunksize=max(1, len(items) // (8 * count))))
        except Exception as exc:
            log.warning("%d items done in this process instead of %d workers (%s: %s)", len(items), count,
                        type(exc).__name__, exc)
    return [function(item) for item in items]
