"""Hostile chat input through the service: answers stay right, nothing unholdable breaks a store."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.core.models import Command, ReplyKind
from tests.core.test_service import OVERLOADED, T0, make_service, msg


async def test_hostile_pastes_from_one_person_do_not_cost_another_their_answer(store, catalog) -> None:
    service = make_service(store, catalog)
    hostile = [service.handle(msg(unit * (40_000 // len(unit)), user="U_FLOOD", message_id=str(i)))
               for i, unit in enumerate(["pwd-", "token-", "a-", "1.1.", "\n", "pwd-", "token-", "a-"])]
    other = service.handle(msg(OVERLOADED, user="U_OTHER"))
    *flood, answer = await asyncio.gather(*hostile, other)
    assert [r.entry_id for r in answer] == ["claude-code-529-overloaded"]
    assert all(replies == [] for replies in flood)  # nothing that looks like an error: quiet, not a crash


async def test_quota_text_with_nul_is_stored_on_the_embedded_store(store, catalog) -> None:
    service = make_service(store, catalog)
    text = "Claude Code session went 64% -> 100%\x00 overnight with nothing running"
    reply = (await service.handle(msg(text, command=Command.QUOTA)))[0]
    assert reply.kind is ReplyKind.READING
    [report] = await store.reports_between(T0 - dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=1))
    assert "\x00" not in report.raw_text and "\ufffd" in report.raw_text


async def test_more_without_an_id_asks_for_one(store, catalog) -> None:
    service = make_service(store, catalog)
    [empty] = await service.handle(msg("", command=Command.MORE))
    assert empty.title == "Which entry?"
    [unknown] = await service.handle(msg("no-such-entry", command=Command.MORE))
    assert "no-such-entry" in unknown.title
