"""Work a front end hands off after acknowledging a platform event, tracked until it is done.

A platform wants its event acknowledged at once (Slack within 3 s) and the answer worked out after.
`Background.spawn` starts that work as a task, logs a failure instead of letting one bad event stop
the front end, and keeps the task, so shutdown and tests can wait for it (`wait_idle`) or cancel
what is left (`close`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

# Answers worked on at once. The event loop acknowledges new events between their steps, and with a
# whole burst of answers in flight every acknowledgement waits behind all of their callbacks; a few at a
# time keep the CPU worker busy while the others post (`python -m benchmarks.slack_ack`: at 50
# concurrent /errfix on two cores, acknowledgement p99 fell to about a third, and the answers came sooner).
ANSWERS_AT_ONCE = 4
# A task waits this long for its turn, then runs anyway: answers held up by a slow platform (a rate
# limit's Retry-After) delay the others, never stop them.
TURN_WAIT_SECONDS = 5.0


class Background:
    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[None]] = set()
        self._turns = asyncio.Semaphore(ANSWERS_AT_ONCE)

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, object], what: str) -> None:
        """Run `work` as a tracked task, a few at a time (`ANSWERS_AT_ONCE`, each waiting at most
        `TURN_WAIT_SECONDS` for its turn); an exception is logged with `what`, never raised."""

        async def guarded() -> None:
            turn = started = False
            try:
                try:
                    async with asyncio.timeout(TURN_WAIT_SECONDS):
                        await self._turns.acquire()
                    turn = True
                except TimeoutError:
                    log.debug("%s: %s runs without waiting longer for its turn", self.name, what)
                started = True
                await work
            except asyncio.CancelledError:
                if not started:
                    work.close()  # cancelled while waiting for its turn: it never ran
                raise
            except Exception:  # one bad event must never stop the front end
                log.exception("%s: %s failed", self.name, what)
            finally:
                if turn:
                    self._turns.release()

        task = asyncio.get_running_loop().create_task(guarded(), name=f"{self.name}:{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every spawned task has finished, including those they spawn; TimeoutError past `timeout`."""
        deadline = time.monotonic() + timeout
        while self._tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._tasks)} {self.name} task(s) still running")
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def close(self, timeout: float = 5.0) -> None:
        """Let the work finish within `timeout`, then cancel what is left."""
        try:
            await self.wait_idle(timeout)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
