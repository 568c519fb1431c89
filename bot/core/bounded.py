"""CPU-bound text work (matching, masking, parsing a paste) off the event loop, with a deadline.

One message must never stall the others: the heartbeat, `/healthz` and every other person's paste keep
being served while a long paste is read. `run_bounded(fn, *args, deadline=...)` runs `fn` on a small
pool of worker threads and gives up waiting after `deadline` seconds with `TextWorkTimeout`.

The text functions themselves run in time linear in their input (their regexes are written for it), so
a deadline is a backstop, not the defence. A thread cannot be stopped from outside: work that overruns
finishes in the background and its result is dropped. The pool is small on purpose, so a flood of huge
pastes queues instead of taking every core.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

DEFAULT_DEADLINE = 10.0
_WORKERS = 2
_pool: ThreadPoolExecutor | None = None


class TextWorkTimeout(Exception):
    """Text work did not finish before its deadline; the message is safe to log (no user text)."""


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="text-work")
    return _pool


async def run_bounded(fn: Callable[..., T], *args: object, deadline: float = DEFAULT_DEADLINE) -> T:
    """`fn(*args)` on a worker thread; `TextWorkTimeout` when it takes longer than `deadline` seconds."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_executor(), functools.partial(fn, *args))
    try:
        return await asyncio.wait_for(asyncio.shield(future), deadline)
    except TimeoutError:
        name = getattr(fn, "__qualname__", type(fn).__name__)
        raise TextWorkTimeout(f"{name} took longer than {deadline:g} s") from None
