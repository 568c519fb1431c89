"""Work handed off after an acknowledgement: tracked, failures logged, waited for or cancelled."""

from __future__ import annotations

import asyncio
import logging

import pytest

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
