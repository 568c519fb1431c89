"""Pasted messages: the same scenario, the same outcome, on the terminal, Slack and Discord.

`front_end` runs a scenario on all three; `chat` on the two with channels, threads, mentions and
several people (the terminal is one operator talking to the bot directly).
"""

from __future__ import annotations

import pytest

from bot.core.knowledge import KnowledgeBase
from bot.core.ports import IncidentStore
from tests.scenarios.conftest import CHATS
from tests.scenarios.front_ends import FrontEnd, open_front_end

OVERLOADED = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
OVERLOADED_TITLE = "Anthropic API overloaded (529)"
TIMEOUT = "API Error (Request timed out.) · Retrying in 1 seconds… (attempt 2/10)"
TIMEOUT_ID = "claude-code-request-timed-out"
UNKNOWN = "FATAL: frobnicator exploded with error code ZZ-9 while reticulating splines"
CHAT = "anyone up for lunch at noon?"


async def test_a_known_error_gets_one_answer_after_the_receipt(front_end: FrontEnd) -> None:
    seen = await front_end.paste(OVERLOADED)
    [answer] = seen.posts
    assert OVERLOADED_TITLE in answer and "Quick fix" in answer and "Why this answer" in answer
    assert seen.reacted in (True, None) and not seen.unreacted and not seen.private


async def test_ordinary_chat_gets_nothing(front_end: FrontEnd) -> None:
    seen = await front_end.paste(CHAT)
    assert seen.nothing and not seen.reacted


async def test_an_unrecognised_error_is_quiet_unless_addressed(front_end: FrontEnd) -> None:
    seen = await front_end.paste(UNKNOWN)
    if front_end.direct:  # talking to the bot: it says it does not know this one
        assert "I don't recognise this error yet" in seen.shown
    else:  # in a channel: nothing, and the 👀 is taken back
        assert seen.nothing and seen.reacted and seen.unreacted
        addressed = await front_end.paste(UNKNOWN, user="bob", mention=True)
        assert "I don't recognise this error yet" in addressed.shown


async def test_consecutive_pastes_share_one_answer_edited_in_place(front_end: FrontEnd) -> None:
    first = await front_end.paste(OVERLOADED)
    second = await front_end.paste(TIMEOUT)
    assert len(first.posts) == 1 and second.posts == []
    [edited] = second.edits
    assert "Also in your earlier paste" in edited and OVERLOADED_TITLE in edited  # the earlier one is listed


async def test_other_peoples_pastes_are_answered_separately(chat: FrontEnd) -> None:
    await chat.paste(OVERLOADED, user="alice")
    seen = await chat.paste(TIMEOUT, user="bob")
    assert len(seen.posts) == 1 and seen.edits == []


async def test_a_bare_mention_gets_the_help(chat: FrontEnd) -> None:
    seen = await chat.paste("", mention=True)
    assert "/errfix" in seen.shown and not seen.reacted


async def test_a_thread_where_a_person_already_helped_is_left_to_them(chat: FrontEnd) -> None:
    helped = chat.thread(asker="alice", helper="bob")
    seen = await chat.paste(OVERLOADED, user="alice", thread=helped)
    assert seen.nothing and not seen.reacted
    asked = await chat.paste(OVERLOADED, user="alice", thread=helped, mention=True)  # unless asked directly
    assert len(asked.posts) == 1


async def test_a_quiet_thread_is_answered_once(chat: FrontEnd) -> None:
    quiet = chat.thread(asker="alice")
    first = await chat.paste(OVERLOADED, user="alice", thread=quiet)
    again = await chat.paste(TIMEOUT, user="bob", thread=quiet)
    assert len(first.posts) == 1 and again.nothing


@pytest.mark.parametrize("name", CHATS)
async def test_a_thread_answered_before_a_restart_stays_answered(name: str, store: IncidentStore,
                                                                 knowledge: KnowledgeBase) -> None:
    async with open_front_end(name, store, knowledge) as before:
        quiet = before.thread(asker="alice")
        assert len((await before.paste(OVERLOADED, user="alice", thread=quiet)).posts) == 1
    # A new process and a new platform connection: only the store remembers the answer.
    async with open_front_end(name, store, knowledge) as after:
        again = await after.paste(TIMEOUT, user="bob", thread=quiet)
    assert again.nothing and not again.reacted


@pytest.mark.front_end(watch="help")
async def test_the_watch_list_limits_where_pastes_are_answered(chat: FrontEnd) -> None:
    elsewhere = await chat.paste(OVERLOADED, channel="random")
    assert elsewhere.nothing and not elsewhere.reacted
    watched = await chat.paste(OVERLOADED, user="bob", channel="help")
    assert len(watched.posts) == 1


@pytest.mark.front_end(watch_name="help")
async def test_the_watch_list_may_name_channels(chat: FrontEnd) -> None:
    elsewhere = await chat.paste(OVERLOADED, channel="random")
    assert elsewhere.nothing and not elsewhere.reacted
    watched = await chat.paste(OVERLOADED, user="bob", channel="help")
    assert len(watched.posts) == 1


@pytest.mark.front_end(mode="mention")
async def test_mention_mode_answers_only_when_addressed(chat: FrontEnd) -> None:
    quiet = await chat.paste(OVERLOADED)
    assert quiet.nothing and not quiet.reacted  # no 👀 where no answer will come
    addressed = await chat.paste(OVERLOADED, user="bob", mention=True)
    assert len(addressed.posts) == 1 and addressed.reacted


@pytest.mark.front_end(mode="off")
async def test_off_mode_never_answers_pastes_but_commands_work(front_end: FrontEnd) -> None:
    seen = await front_end.paste(OVERLOADED, mention=True)
    if front_end.direct:  # no channel, so no channel mode
        assert len(seen.posts) == 1
    else:
        assert seen.nothing and not seen.reacted
    assert OVERLOADED_TITLE in (await front_end.command("errfix", "529 overloaded")).shown
