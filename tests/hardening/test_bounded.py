"""run_bounded: text work off the event loop, per-sender turns, a refusal for floods, a deadline."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.core.bounded import MAX_PENDING_PER_KEY, TextWorkBusy, TextWorkTimeout, run_bounded


async def test_work_runs_off_the_loop_thread() -> None:
    loop_thread = threading.get_ident()
    assert await run_bounded(threading.get_ident) != loop_thread


async def test_deadline_gives_up_waiting() -> None:
    release = threading.Event()
    try:
        with pytest.raises(TextWorkTimeout, match="took longer than"):
            await run_bounded(release.wait, 5.0, deadline=0.05)
    finally:
        release.set()


async def test_one_sender_waits_behind_its_own_texts_not_others() -> None:
    gate = threading.Event()
    order: list[str] = []

    def slow(name: str) -> str:
        gate.wait(5.0)
        order.append(name)
        return name

    def quick(name: str) -> str:
        order.append(name)
        return name

    flooder = [asyncio.create_task(run_bounded(slow, f"f{i}", key="flooder")) for i in range(3)]
    await asyncio.sleep(0.05)
    # Another person is served while the flooder's first text is still running and two wait their turn.
    assert await run_bounded(quick, "other", key="other") == "other"
    assert order == ["other"]
    gate.set()
    assert await asyncio.gather(*flooder) == ["f0", "f1", "f2"]


async def test_a_flood_from_one_sender_is_refused_at_once() -> None:
    gate = threading.Event()
    waiting = [asyncio.create_task(run_bounded(gate.wait, 5.0, key="flood")) for _ in range(MAX_PENDING_PER_KEY)]
    await asyncio.sleep(0.05)
    try:
        with pytest.raises(TextWorkBusy):
            await run_bounded(gate.wait, 5.0, key="flood")
    finally:
        gate.set()
        await asyncio.gather(*waiting)
    assert await run_bounded(str, 1, key="flood") == "1"  # and afterwards the sender is served again
