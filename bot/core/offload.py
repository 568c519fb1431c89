"""CPU-bound work (matching, parsing readings, detection, charts) off the event loop, one job at a time.

Python threads share one interpreter lock, so several threads of CPU work do not finish sooner; they
only give the event loop more competitors for the lock, and acknowledgements wait longer. One worker
keeps the loop's wait for the lock to one switch interval while a long paste is being matched.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="supportbot-cpu")


async def cpu(function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run `function(*args, **kwargs)` on the CPU worker thread and wait for it without blocking the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_WORKER, functools.partial(function, *args, **kwargs))
