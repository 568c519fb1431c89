"""Commands: one grammar (`bot.core.commands`), the same answers on the terminal, Slack and Discord."""

from __future__ import annotations

import pytest

from tests.scenarios.front_ends import FrontEnd

OVERLOADED = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
OVERLOADED_TITLE = "Anthropic API overloaded (529)"
REFUSED = "Sorry, that's for support staff"
QUOTA = "Claude Code session 64% -> 100% overnight, nothing running"


@pytest.mark.parametrize("words", ["529 overloaded", "claude-code-529-overloaded", OVERLOADED])
async def test_errfix_answers_privately(front_end: FrontEnd, words: str) -> None:
    seen = await front_end.command("errfix", words)
    assert OVERLOADED_TITLE in seen.shown and seen.posts == []


@pytest.mark.parametrize("words", ["help", "?"])
async def test_errfix_help(front_end: FrontEnd, words: str) -> None:
    seen = await front_end.command("errfix", words)
    assert "`/errfix TEXT`" in seen.shown and "/errfix mode" in seen.shown and seen.posts == []


async def test_channel_mode_is_for_staff(front_end: FrontEnd) -> None:
    if not front_end.operator_is_staff:
        refused = await front_end.command("errfix", "mode off", user="alice")
        assert REFUSED in refused.shown
    changed = await front_end.command("errfix", "mode mention", user="lead")
    assert "Channel mode set to mention" in changed.shown
    current = await front_end.command("errfix", "mode", user="lead")
    assert "This channel's mode is mention" in current.shown
    unknown = await front_end.command("errfix", "mode sometimes", user="lead")
    assert "auto|mention|off" in unknown.shown


async def test_a_mode_set_by_command_changes_what_is_answered(chat: FrontEnd) -> None:
    await chat.command("errfix", "mode off", user="lead")
    assert (await chat.paste(OVERLOADED, mention=True)).nothing
    await chat.command("errfix", "mode auto", user="lead")
    assert len((await chat.paste(OVERLOADED, user="bob")).posts) == 1


async def test_reload_is_for_staff(front_end: FrontEnd) -> None:
    if not front_end.operator_is_staff:
        assert REFUSED in (await front_end.command("errfix", "reload", user="bob")).shown
    assert "Catalog reloaded" in (await front_end.command("errfix", "reload", user="lead")).shown


async def test_quota_is_stored_and_answered_with_one_support_bundle(front_end: FrontEnd, store) -> None:
    seen = await front_end.command("quota", QUOTA)
    assert "recorded" in seen.shown and "Support bundle" in seen.shown and seen.posts == []
    assert "Tool: Claude Code" in seen.shown
    unreadable = await front_end.command("quota", "the build is 100% green")
    assert "I could not find a quota reading" in unreadable.shown


async def test_incidents_for_staff_only(front_end: FrontEnd) -> None:
    if not front_end.operator_is_staff:
        assert REFUSED in (await front_end.command("incidents", user="alice")).shown
    assert "Support overview" in (await front_end.command("incidents", user="lead")).shown
