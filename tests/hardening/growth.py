"""Growth checks: does the work of a text function grow linearly with its input?

No wall-clock limits: the CPU time of this thread for an input is compared with its time for an input
four times as long. Linear work grows about 4x, quadratic 16x, cubic 64x; the bound sits far enough
between them that a busy machine does not flip the verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable

GROWTH_FACTOR = 4
MAX_RATIO = 9.0  # linear ~4, quadratic ~16


def cpu_seconds(fn: Callable[[str], object], text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        fn(text)
        best = min(best, time.thread_time() - started)
    return best


def growth_ratio(fn: Callable[[str], object], unit: str, base_chars: int) -> float:
    """CPU time on `unit` repeated to 4 x base_chars, over the time at base_chars."""
    small = (unit * (base_chars // len(unit) + 1))[:base_chars]
    large = (unit * (GROWTH_FACTOR * base_chars // len(unit) + 1))[: GROWTH_FACTOR * base_chars]
    fn(small)  # warm caches (compiled patterns, lazy tables)
    return cpu_seconds(fn, large) / max(cpu_seconds(fn, small), 1e-4)
