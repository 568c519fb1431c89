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
import weakref
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

DEFAULT_DEADLINE = 10.0
MAX_PENDING_PER_KEY = 4  # one sender's texts waiting or running at once; more is a flood
_WORKERS = 2
_pool: ThreadPoolExecutor | None = None



class _Turns:
    """Per event loop: how many texts each sender has waiting or running, and whose turn it is."""

    def __init__(self) -> None:
        self.pending: dict[Hashable, int] = {}
        self.locks: dict[Hashable, asyncio.Lock] = {}


# Keyed by the loop, so state left behind by a loop that was closed mid-work dies with it.
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()


class TextWorkRefused(Exception):
    """Text work that was not done; the message is safe to log (it holds no user text)."""


class TextWorkTimeout(TextWorkRefused):
    """The work did not finish before its deadline."""


class TextWorkBusy(TextWorkRefused):
    """The same sender already has MAX_PENDING_PER_KEY texts waiting or running."""


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        # The interpreter's switch interval, which decides how long the event loop waits behind this
        # pool's threads, is set once for the serving process by the runner (`bot.runner.serve`).
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="text-work")
    return _pool


async def run_bounded(fn: Callable[..., T], *args: object, deadline: float = DEFAULT_DEADLINE,
                      key: Hashable | None = None) -> T:
    """`fn(*args)` on a worker thread; `TextWorkTimeout` when it takes longer than `deadline` seconds.

    With a `key` (the sender), one sender's texts take turns: a person pasting faster than their texts
    can be read waits behind their own texts, never in front of everyone else's, and past
    MAX_PENDING_PER_KEY waiting texts the next is refused at once with `TextWorkBusy`.
    """
    name = getattr(fn, "__qualname__", type(fn).__name__)
    if key is None:
        return await _run(fn, args, deadline, name)
    loop = asyncio.get_running_loop()
    turns = _per_loop.setdefault(loop, _Turns())
    if turns.pending.get(key, 0) >= MAX_PENDING_PER_KEY:
        raise TextWorkBusy(f"{name}: {MAX_PENDING_PER_KEY} texts from the same sender are already waiting")
    turns.pending[key] = turns.pending.get(key, 0) + 1
    turn = turns.locks.setdefault(key, asyncio.Lock())
    started = loop.time()
    try:
        try:
            await asyncio.wait_for(turn.acquire(), deadline)
        except TimeoutError:
            raise TextWorkTimeout(f"{name} waited longer than {deadline:g} s for its turn") from None
        try:
            remaining = deadline - (loop.time() - started)
            return await _run(fn, args, max(remaining, 0.001), name)
        finally:
            turn.release()
    finally:
        turns.pending[key] -= 1
        if not turns.pending[key]:
            del turns.pending[key]
            turns.locks.pop(key, None)


async def _run(fn: Callable[..., T], args: tuple[object, ...], deadline: float, name: str) -> T:
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_executor(), functools.partial(fn, *args))
    try:
        return await asyncio.wait_for(asyncio.shield(future), deadline)
    except TimeoutError:
        raise TextWorkTimeout(f"{name} took longer than {deadline:g} s") from None
