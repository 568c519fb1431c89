"""Work handed off after an acknowledgement: tracked, failures logged, waited for or cancelled."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core import background as background_module
from bot.core.background import Background


async def test_work_is_waited_for_including_what_it_spawns() -> None:
    background, done = Background("test"), []

    async def second() -> None:
        await asyncio.sleep(0.01)
        done.append("second")

    async def first() -> None:
        await asyncio.sleep(0.01)
        background.spawn(second(), "second")
        done.append("first")

    background.spawn(first(), "first")
    assert len(background) == 1
    await background.wait_idle(5)
    assert done == ["first", "second"] and len(background) == 0


async def test_a_failure_is_logged_and_the_rest_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    background, done = Background("test"), []

    async def broken() -> None:
        raise ValueError("bad payload")

    async def fine() -> None:
        done.append(True)

    with caplog.at_level(logging.ERROR, logger="bot.core.background"):
        background.spawn(broken(), "a message")
        background.spawn(fine(), "another message")
        await background.wait_idle(5)
    assert done == [True]
    assert "test: a message failed" in caplog.text and "bad payload" in caplog.text


async def test_waiting_has_a_deadline_and_close_cancels_what_is_left() -> None:
    background, stuck = Background("test"), asyncio.Event()
    background.spawn(stuck.wait(), "stuck")
    with pytest.raises(TimeoutError, match="1 test task"):
        await background.wait_idle(0.05)
    await background.close(0.05)
    assert len(background) == 0


async def test_a_few_run_at_once_and_the_rest_wait_their_turn() -> None:
    background, running, most = Background("test"), 0, 0
    release = asyncio.Event()

    async def answer() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    for _ in range(3 * background_module.ANSWERS_AT_ONCE):
        background.spawn(answer(), "answer")
    await asyncio.sleep(0.05)
    assert running == most == background_module.ANSWERS_AT_ONCE
    release.set()
    await background.wait_idle(5)
    assert running == 0 and most == background_module.ANSWERS_AT_ONCE


async def test_one_held_up_does_not_stop_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background_module, "TURN_WAIT_SECONDS", 0.05)
    background, stuck, done = Background("test"), asyncio.Event(), []

    async def fine() -> None:
        done.append(True)

    for _ in range(background_module.ANSWERS_AT_ONCE):
        background.spawn(stuck.wait(), "held up by a slow platform")
    background.spawn(fine(), "answer")
    await asyncio.sleep(0.3)
    assert done == [True]  # ran without its turn once it had waited long enough
    await background.close(0.05)
    assert len(background) == 0


async def test_work_cancelled_before_its_turn_is_closed_not_left_unawaited() -> None:
    background, stuck = Background("test"), asyncio.Event()
    for _ in range(background_module.ANSWERS_AT_ONCE):
        background.spawn(stuck.wait(), "holding a turn")

    async def never() -> None:
        raise AssertionError("cancelled work must not run")

    waiting = never()
    background.spawn(waiting, "waiting")
    await asyncio.sleep(0.01)
    await background.close(0.01)
    assert waiting.cr_frame is None  # closed
