"""The Discord adapter end to end: the real discord.py client against a fake Discord over real sockets.

Each test drives the fake's gateway (MESSAGE_CREATE, INTERACTION_CREATE...) and asserts on the REST
calls the bot made, which the fake checks against Discord's limits. Absence ("ordinary chat gets
nothing") is shown with `settle`, which waits until every event was read and handled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord_adapter import strip_mention
from bot.adapters.discord_app import INVITE_SCOPES, bot_intents, invite_permissions, invite_url
from bot.adapters.discord_render import (
    EMBED_TOTAL_MAX,
    MESSAGE_MAX,
    build_view,
    chunks,
    clip,
    parse_custom_id,
    render_embed,
)
from bot.core import replies
from bot.core.catalog import Catalog
from bot.core.models import (
    Action,
    ChannelMode,
    Command,
    Incident,
    IncidentStatus,
    Reply,
    ReplyKind,
    Section,
)
from bot.errors import ConfigError
from bot.serve_discord import TOKEN_REJECTED, run_discord
from tests.adapters.discord.conftest import BotRunner, StartBot, discord_settings, make_service, settle
from tests.fakes.discord_api import (
    ALICE,
    APP_ID,
    BOB,
    BOT_ID,
    BOT_ROLE,
    CAROL,
    DAVE,
    GENERAL,
    GUILD_ID,
    HELP_THREAD,
    OTHER_BOT,
    QUIET_THREAD,
    RANDOM,
    STAFF_CHANNEL,
    STAFF_ROLE,
    Call,
    FakeDiscord,
    message_problems,
)

OVERLOADED = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
OVERLOADED_ID = "claude-code-529-overloaded"
TIMEOUT = "API Error (Request timed out.) · Retrying in 1 seconds… (attempt 2/10)"
TIMEOUT_ID = "claude-code-request-timed-out"
POSTS = r"^/channels/\d+/messages$"
REPO = Path(__file__).resolve().parents[3]


# -- helpers ---------------------------------------------------------------------------------------


def replies_to(fake: FakeDiscord, message: dict[str, Any]) -> list[Call]:
    """Channel messages the bot posted as a reply to `message`."""
    return [c for c in fake.called("POST", POSTS)
            if str((c.body.get("message_reference") or {}).get("message_id")) == message["id"]]


def pings_nobody(call: Call) -> bool:
    """allowed_mentions on the call says: no @everyone/@here, no roles, no users, no reply ping."""
    mentions = call.body.get("allowed_mentions")
    return (mentions is not None and mentions["parse"] == [] and not mentions.get("roles")
            and not mentions.get("users") and not mentions.get("replied_user"))


def reactions(fake: FakeDiscord) -> list[Call]:
    return fake.called("PUT", r"/reactions/")


async def followups(fake: FakeDiscord, interaction: dict[str, Any], count: int = 1) -> list[Call]:
    return await fake.wait_for("POST", rf"^/webhooks/{APP_ID}/{interaction['token']}$", count=count)


async def callback(fake: FakeDiscord, interaction: dict[str, Any]) -> Call:
    [call] = await fake.wait_for("POST", rf"^/interactions/{interaction['id']}/")
    return call


def answer_id(call: Call) -> int:
    feedback = [cid for cid in call.custom_ids if cid.startswith("sb:feedback:")]
    return int(feedback[0].split(":")[2])


def title(call: Call) -> str:
    return call.embeds[0]["title"]


def field_names(call: Call) -> list[str]:
    return [f["name"] for f in call.embeds[0].get("fields", [])]


async def answered(fake: FakeDiscord, message: dict[str, Any]) -> Call:
    """Wait for the bot's one reply to `message`."""
    await fake.wait_for("POST", POSTS, where=lambda c: c in replies_to(fake, message))
    [reply] = replies_to(fake, message)
    return reply


# -- pasted errors in channels ---------------------------------------------------------------------


async def test_pasted_error_gets_one_reply_with_embed_and_buttons(fake: FakeDiscord, bot: Any, store: Any,
                                                                 catalog: Catalog) -> None:
    paste = await fake.send_message(OVERLOADED)
    reply = await answered(fake, paste)
    await settle(fake)

    entry = catalog.get(OVERLOADED_ID)
    assert entry is not None
    assert len(fake.called("POST", POSTS)) == 1
    assert reply.path == f"/channels/{GENERAL}/messages" and reply.status == 200
    assert reply.body["message_reference"]["fail_if_not_exists"] is False
    embed = reply.embeds[0]
    assert embed["title"] == entry.title
    assert embed["description"] == f"Quick fix: {entry.quick_fix}"
    names = field_names(reply)
    assert {"What it means", "Common causes", "Quick fixes", "Related errors", "Evidence"} <= set(names)
    fixes = next(f["value"] for f in embed["fields"] if f["name"] == "Quick fixes")
    assert fixes.startswith(f"- {entry.fixes[0][:40]}")
    evidence = next(f["value"] for f in embed["fields"] if f["name"] == "Evidence")
    assert entry.evidence.urls[0] in evidence
    assert embed["footer"]["text"].startswith("Why this answer")
    number = answer_id(reply)
    assert reply.custom_ids[:5] == [f"sb:more:{OVERLOADED_ID}", f"sb:feedback:{number}:fixed",
                                    f"sb:feedback:{number}:not_helped", f"sb:feedback:{number}:wrong",
                                    f"sb:escalate:{number}"]
    assert pings_nobody(reply)
    [eyes] = reactions(fake)
    assert eyes.path == f"/channels/{GENERAL}/messages/{paste['id']}/reactions/\N{EYES}/@me"
    stored = await store.get_answer(number)
    assert stored.entry_id == OVERLOADED_ID and stored.origin.platform == "discord"
    assert stored.origin.user_id == str(ALICE) and stored.origin.channel_id == str(GENERAL)


async def test_bot_asks_for_exactly_the_intents_it_needs(fake: FakeDiscord, bot: Any) -> None:
    assert fake.identifies[0]["intents"] == bot_intents().value == (1 << 0) | (1 << 9) | (1 << 15)
    # Every REST route, /gateway/bot included, goes through the DISCORD_API_URL seam.
    shards, url, _ = await bot.http.get_bot_gateway()
    assert (shards, url) == (1, fake.gateway_url)


async def test_bots_itself_and_webhooks_are_never_answered(fake: FakeDiscord, bot: Any) -> None:
    await fake.send_message(OVERLOADED, author=OTHER_BOT)
    await fake.send_message(OVERLOADED, author=BOT_ID)
    await fake.send_message(OVERLOADED, author=BOB, webhook_id=str(OTHER_BOT))
    await settle(fake)
    assert fake.sent_messages() == [] and reactions(fake) == []


async def test_edits_are_ignored(fake: FakeDiscord, bot: Any) -> None:
    chat = await fake.send_message("hold on, let me copy it")
    await fake.edit_message(chat, OVERLOADED)
    await settle(fake)
    assert fake.sent_messages() == [] and reactions(fake) == []


async def test_consecutive_pastes_of_one_person_edit_the_first_reply(fake: FakeDiscord, bot: Any,
                                                                    catalog: Catalog) -> None:
    first = await fake.send_message(OVERLOADED)
    reply = await answered(fake, first)
    await fake.send_message(TIMEOUT)
    [edit] = await fake.wait_for("PATCH", rf"^/channels/{GENERAL}/messages/\d+$")
    await settle(fake)

    assert edit.path.endswith(f"/{reply.query['_created']}")
    assert title(edit) == catalog.get(TIMEOUT_ID).title
    assert "Also in your earlier paste" in field_names(edit)
    assert pings_nobody(edit)
    assert len(fake.called("POST", POSTS)) == 1
    assert len(reactions(fake)) == 2  # both pastes were acknowledged on receipt


async def test_reply_goes_in_a_thread_when_configured(fake: FakeDiscord, start_bot: StartBot,
                                                      catalog: Catalog) -> None:
    await start_bot(DISCORD_USE_THREADS="true")
    paste = await fake.send_message(OVERLOADED)
    [opened] = await fake.wait_for("POST", rf"^/channels/{GENERAL}/messages/{paste['id']}/threads$")
    [reply] = await fake.wait_for("POST", rf"^/channels/{paste['id']}/messages$")
    assert opened.body["name"] == catalog.get(OVERLOADED_ID).title[:100]
    assert "message_reference" not in reply.body
    assert title(reply) == catalog.get(OVERLOADED_ID).title

    # A second paste in the bot's thread is not answered again unless someone mentions the bot.
    await fake.send_message(TIMEOUT, author=ALICE, channel_id=int(paste["id"]))
    await settle(fake)
    assert len(fake.called("POST", POSTS)) == 1
    mention = await fake.send_message(f"<@{BOT_ID}> {TIMEOUT}", author=BOB, channel_id=int(paste["id"]))
    again = await answered(fake, mention)
    assert title(again) == catalog.get(TIMEOUT_ID).title


async def test_no_answer_where_a_person_already_helped(fake: FakeDiscord, bot: Any) -> None:
    fake.add_history(HELP_THREAD, "my claude keeps stopping", ALICE)
    fake.add_history(HELP_THREAD, "try switching the model with /model", BOB)
    helped = await fake.send_message(OVERLOADED, author=ALICE, channel_id=HELP_THREAD)
    alone = await fake.send_message(OVERLOADED, author=DAVE, channel_id=QUIET_THREAD)
    await answered(fake, alone)
    await settle(fake)

    assert replies_to(fake, helped) == []
    [history] = fake.called("GET", rf"^/channels/{HELP_THREAD}/messages$")
    assert history.query["before"] == helped["id"]
    # A thread found taken is remembered: its history is not read again.
    await fake.send_message("still failing", author=ALICE, channel_id=HELP_THREAD)
    await fake.send_message(TIMEOUT, author=ALICE, channel_id=HELP_THREAD)
    await settle(fake)
    assert len(fake.called("GET", rf"^/channels/{HELP_THREAD}/messages$")) == 1
    assert [c for c in fake.called("POST", POSTS) if str(HELP_THREAD) in c.path] == []


async def test_only_watched_channels_are_answered(fake: FakeDiscord, start_bot: StartBot) -> None:
    await start_bot(DISCORD_WATCH_CHANNELS=str(GENERAL))
    elsewhere = await fake.send_message(OVERLOADED, channel_id=RANDOM)
    in_thread = await fake.send_message(OVERLOADED, author=BOB, channel_id=QUIET_THREAD)
    await answered(fake, in_thread)  # a thread belongs to its (watched) parent channel
    watched = await fake.send_message(TIMEOUT, author=DAVE)
    await answered(fake, watched)
    await settle(fake)
    assert replies_to(fake, elsewhere) == []
    assert not any(elsewhere["id"] in c.path for c in reactions(fake))


async def test_mentioning_the_bots_role_counts_as_a_mention(fake: FakeDiscord, bot: Any) -> None:
    changed = await fake.slash("channel-mode", user_id=DAVE, mode="mention")
    await followups(fake, changed)
    addressed = await fake.send_message(f"<@&{BOT_ROLE}> {OVERLOADED}", author=BOB)
    await answered(fake, addressed)
    stripped = strip_mention(f"<@{BOT_ID}> hi <@&{BOT_ROLE}>: there <@!{BOT_ID}> <@{BOB}>", BOT_ID, (BOT_ROLE,))
    assert stripped.split() == ["hi", "there", f"<@{BOB}>"]


async def test_user_text_never_pings(fake: FakeDiscord, bot: Any) -> None:
    paste = await fake.send_message(f"@everyone @here <@&{STAFF_ROLE}> <@{BOB}> help! {OVERLOADED}")
    reply = await answered(fake, paste)
    assert pings_nobody(reply)
    assert reply.body.get("content") is None  # nothing from the paste is echoed as message content
    looked_up = await fake.slash("errfix", text=f"@everyone <@{BOB}> {TIMEOUT}")
    [private] = await followups(fake, looked_up)
    assert pings_nobody(private)


# -- app commands ----------------------------------------------------------------------------------


async def test_commands_are_synced_to_the_guild_with_staff_permissions(fake: FakeDiscord, bot: Any) -> None:
    [sync] = fake.called("PUT", r"/commands$")
    assert sync.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
    by_name = {c["name"]: c for c in sync.json}
    assert set(by_name) == {"errfix", "quota", "incidents", "channel-mode", "Look up this error"}
    assert by_name["errfix"]["options"][0]["autocomplete"] is True
    assert by_name["Look up this error"]["type"] == 3  # message context menu
    for staff_only in ("incidents", "channel-mode"):
        assert str(by_name[staff_only]["default_member_permissions"]) == "32"  # Manage Server
    assert by_name["errfix"]["default_member_permissions"] is None


async def test_commands_are_synced_globally_without_a_guild_id(fake: FakeDiscord, start_bot: StartBot) -> None:
    await start_bot(DISCORD_GUILD_ID="")
    [sync] = fake.called("PUT", r"/commands$")
    assert sync.path == f"/applications/{APP_ID}/commands"


async def test_errfix_autocomplete_offers_at_most_25_entries(fake: FakeDiscord, bot: Any) -> None:
    typed = await fake.autocomplete("errfix", "text", "overloaded")
    answer = await callback(fake, typed)
    assert answer.body["type"] == 8
    choices = answer.body["data"]["choices"]
    assert 1 <= len(choices) <= 25 and choices[0]["value"] == OVERLOADED_ID
    empty = await fake.autocomplete("errfix", "text", "")
    everything = (await callback(fake, empty)).body["data"]["choices"]
    assert len(everything) == 25
    assert all(1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in everything)

    picked = await fake.slash("errfix", text=OVERLOADED_ID)  # what Discord sends when a choice is picked
    [entry] = await followups(fake, picked)
    assert entry.ephemeral and entry.embeds[0]["footer"]["text"].startswith(f"Catalog entry `{OVERLOADED_ID}`")


async def test_errfix_answers_privately_then_shares_and_shows_alternates(fake: FakeDiscord, bot: Any,
                                                                         catalog: Catalog) -> None:
    asked = await fake.slash("errfix", user_id=BOB, text=TIMEOUT)
    deferred = await callback(fake, asked)
    assert deferred.body == {"type": 5, "data": {"flags": 64}}  # acknowledged at once, privately
    [private] = await followups(fake, asked)
    assert private.ephemeral and title(private) == catalog.get(TIMEOUT_ID).title
    assert f"sb:share:{TIMEOUT_ID}" in private.custom_ids
    alternates = [c for c in private.custom_ids if c.startswith("sb:show_entry:")]
    assert alternates

    message = fake.bot_message(private)
    shared = await fake.click(message, f"sb:share:{TIMEOUT_ID}", user_id=BOB)
    assert (await callback(fake, shared)).body == {"type": 6}
    [public] = await followups(fake, shared)
    assert not public.ephemeral and title(public) == catalog.get(TIMEOUT_ID).title
    assert public.embeds[0]["footer"]["text"].endswith("shared by a teammate")

    other = alternates[0].removeprefix("sb:show_entry:")
    shown = await fake.click(message, alternates[0], user_id=BOB)
    [entry] = await followups(fake, shown)
    assert entry.ephemeral and title(entry) == catalog.get(other).title


async def test_quota_report_is_stored_and_thanked_privately(fake: FakeDiscord, bot: Any, store: Any) -> None:
    reported = await fake.slash("quota", user_id=BOB, text="session 64% -> 100% overnight, nothing running")
    [thanks] = await followups(fake, reported)
    assert thanks.ephemeral and title(thanks).startswith("Thanks — report #")
    now = dt.datetime.now(dt.UTC)
    [report] = await store.reports_between(now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1))
    assert report.origin.platform == "discord" and report.origin.user_id == str(BOB)
    assert report.origin.workspace_id == str(GUILD_ID)


@pytest.mark.parametrize("who", [CAROL, DAVE], ids=["staff-role", "manage-server"])
async def test_incidents_is_shown_to_staff(fake: FakeDiscord, bot: Any, who: int) -> None:
    asked = await fake.slash("incidents", user_id=who)
    [overview] = await followups(fake, asked)
    assert overview.ephemeral and title(overview) == "Support overview"
    assert "Open incidents" in field_names(overview)


async def test_staff_role_can_be_given_by_name(fake: FakeDiscord, start_bot: StartBot) -> None:
    await start_bot(DISCORD_STAFF_ROLE="Support Staff")
    asked = await fake.slash("incidents", user_id=CAROL)
    [overview] = await followups(fake, asked)
    assert title(overview) == "Support overview"


async def test_message_context_menu_looks_up_the_error(fake: FakeDiscord, bot: Any, catalog: Catalog) -> None:
    target = fake.add_history(GENERAL, f"this again:\n{TIMEOUT}", BOB)
    picked = await fake.message_command("Look up this error", target, user_id=ALICE)
    [found] = await followups(fake, picked)
    assert found.ephemeral and title(found) == catalog.get(TIMEOUT_ID).title


async def test_a_looked_up_message_is_never_read_as_a_command(fake: FakeDiscord, bot: Any) -> None:
    target = fake.add_history(GENERAL, "mode off", BOB)
    picked = await fake.message_command("Look up this error", target, user_id=CAROL)  # staff
    [found] = await followups(fake, picked)
    assert "mode" not in title(found).lower()
    assert await bot.service.channel_mode("discord", str(GENERAL)) is ChannelMode.AUTO


# -- buttons ---------------------------------------------------------------------------------------


async def test_more_button_shows_checks_steps_faq_and_prevention(fake: FakeDiscord, bot: Any,
                                                                 catalog: Catalog) -> None:
    paste = await fake.send_message(OVERLOADED)
    message = fake.bot_message(await answered(fake, paste))
    clicked = await fake.click(message, f"sb:more:{OVERLOADED_ID}", user_id=BOB)
    assert (await callback(fake, clicked)).body == {"type": 6}
    [more] = await followups(fake, clicked)
    entry = catalog.get(OVERLOADED_ID)
    assert more.ephemeral and title(more) == f"More on: {entry.title}"
    names = field_names(more)
    assert {"Step by step", "How to prevent it", f"{entry.tool} checks"} <= set(names)
    assert ("FAQ" in names) == bool(entry.faq)


@pytest.mark.parametrize("custom_id", [
    "sb:feedback:notanumber:fixed",
    "sb:feedback:12",
    "sb:nonsense:1",
    "sb:",
    "sb:more:no-such-entry",
    "sb:ack:999999",
])
async def test_garbled_or_foreign_buttons_get_an_answer_and_break_nothing(
        fake: FakeDiscord, bot: Any, custom_id: str) -> None:
    paste = await fake.send_message(OVERLOADED)
    message = dict(fake.bot_message(await answered(fake, paste)))
    # A button of an older release (or a tampered client) on the message the bot sent.
    message["components"] = [{"type": 1, "components": [
        {"type": 2, "style": 2, "label": "Old button", "custom_id": custom_id}]}]
    clicked = await fake.click(message, custom_id, user_id=BOB)
    assert (await callback(fake, clicked)).status < 400  # acknowledged, never left hanging
    again = await fake.send_message(OVERLOADED, author=BOB)  # and the bot still answers
    await answered(fake, again)


async def test_feedback_buttons_store_the_verdict(fake: FakeDiscord, bot: Any, store: Any) -> None:
    paste = await fake.send_message(OVERLOADED)
    reply = await answered(fake, paste)
    message, number = fake.bot_message(reply), answer_id(reply)
    fixed = await fake.click(message, f"sb:feedback:{number}:fixed", user_id=ALICE)
    [thanks] = await followups(fake, fixed)
    assert thanks.ephemeral and title(thanks) == "Glad it helped!"
    wrong = await fake.click(message, f"sb:feedback:{number}:wrong", user_id=BOB)
    [queued] = await followups(fake, wrong)
    assert title(queued) == "Thanks — sent to the staff queue"
    [summary] = [s for s in await store.feedback_summary() if s.entry_id == OVERLOADED_ID]
    assert (summary.fixed, summary.wrong, summary.not_helped) == (1, 1, 0)


async def test_escalate_pings_the_staff_role_and_nobody_else(fake: FakeDiscord, bot: Any) -> None:
    paste = await fake.send_message(OVERLOADED)
    reply = await answered(fake, paste)
    clicked = await fake.click(fake.bot_message(reply), f"sb:escalate:{answer_id(reply)}", user_id=ALICE)
    [ping] = await followups(fake, clicked)
    assert not ping.ephemeral
    assert ping.body["content"].startswith(f"<@&{STAFF_ROLE}> ")
    assert ping.body["allowed_mentions"] == {"parse": [], "roles": [STAFF_ROLE]}  # no users, no @everyone
    assert title(ping) == "Escalated to support staff"


async def test_buttons_still_work_after_a_restart(fake: FakeDiscord, runner: BotRunner, store: Any) -> None:
    await runner.start()
    paste = await fake.send_message(OVERLOADED)
    reply = await answered(fake, paste)
    message, number = fake.bot_message(reply), answer_id(reply)
    await runner.stop()

    await runner.start()  # a new client: nothing in memory but the dynamic item registration
    clicked = await fake.click(message, f"sb:feedback:{number}:not_helped", user_id=BOB)
    [noted] = await followups(fake, clicked)
    assert title(noted) == "Thanks — noted that it didn't help."
    [summary] = [s for s in await store.feedback_summary() if s.entry_id == OVERLOADED_ID]
    assert summary.not_helped == 1


async def test_stale_buttons_of_ours_get_an_explanation_and_others_are_ignored(fake: FakeDiscord,
                                                                               bot: Any) -> None:
    paste = await fake.send_message(OVERLOADED)
    message = dict(fake.bot_message(await answered(fake, paste)))
    message["components"] = [{"type": 1, "id": 1, "components": [
        {"type": 2, "id": 2, "style": 2, "label": "Old", "custom_id": "sb:launch_rockets:1"},
        {"type": 2, "id": 3, "style": 2, "label": "Not ours", "custom_id": "other-bot:thing"}]}]
    old = await fake.click(message, "sb:launch_rockets:1")
    await fake.click(message, "other-bot:thing")
    await settle(fake)
    [answer] = fake.called("POST", r"^/interactions/")
    assert old["id"] in answer.path
    assert answer.body["type"] == 4 and "older version" in answer.body["data"]["content"]
    assert answer.body["data"]["flags"] & 64  # only the person who clicked sees it


# -- incident alerts -------------------------------------------------------------------------------


async def test_incident_alert_goes_to_the_staff_channel_with_acknowledge_and_resolve(
        fake: FakeDiscord, bot: Any, service: Any, store: Any, catalog: Catalog) -> None:
    now = dt.datetime.now(dt.UTC)
    incident = Incident(tool="Claude Code", symptom="idle_jump", opened_at=now, status=IncidentStatus.OPEN,
                        summary="Claude Code session usage jumps while idle", reporters=4, baseline=0.5)
    number = await store.open_incident(incident)
    await service.alert_staff(replies.incident_alert(replace(incident, id=number), catalog))

    [alert] = fake.called("POST", rf"^/channels/{STAFF_CHANNEL}/messages$")
    assert title(alert) == f"Incident #{number}: Claude Code session usage jumps while idle"
    assert alert.custom_ids == [f"sb:ack_incident:{number}", f"sb:resolve_incident:{number}"]
    assert pings_nobody(alert)
    message = fake.bot_message(alert)

    refused = await fake.click(message, f"sb:ack_incident:{number}", user_id=ALICE)
    [no] = await followups(fake, refused)
    assert no.ephemeral and title(no) == "Sorry, that's for support staff"
    assert (await store.get_incident(number)).status is IncidentStatus.OPEN

    acked = await fake.click(message, f"sb:ack_incident:{number}", user_id=CAROL)
    [yes] = await followups(fake, acked)
    assert not yes.ephemeral and title(yes) == f"Incident #{number} acknowledged"
    assert (await store.get_incident(number)).status is IncidentStatus.ACKNOWLEDGED

    resolved = await fake.click(message, f"sb:resolve_incident:{number}", user_id=DAVE)
    await followups(fake, resolved)
    assert (await store.get_incident(number)).status is IncidentStatus.RESOLVED


async def test_alert_without_a_staff_channel_is_logged_not_sent(fake: FakeDiscord, start_bot: StartBot,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    runner = await start_bot(DISCORD_STAFF_CHANNEL="")
    caplog.set_level(logging.WARNING, logger="bot.adapters.discord_adapter")
    await runner.service.alert_staff(replies.notice("Incident #9: test", private=False))
    assert fake.called("POST", POSTS) == []
    assert "DISCORD_STAFF_CHANNEL is not set" in caplog.text


# -- limits and failures ---------------------------------------------------------------------------


def huge_reply() -> Reply:
    long_item = "word " * 400  # 2000 characters: more than a field holds
    sections = tuple(Section(f"Section {n} " + "h" * 300, (long_item,) * 6, numbered=n % 2 == 0)
                     for n in range(40))
    return Reply(kind=ReplyKind.ALERT, title="T" * 400, summary="```\n" + "s" * 5000 + "\n```",
                 sections=sections, footer="f" * 3000,
                 actions=tuple(Action(Command.SHOW_ENTRY, f"Entry {n} " + "x" * 100, f"entry-{n}") for n in range(40)))


def test_embeds_and_buttons_are_cut_to_discords_limits() -> None:
    reply = huge_reply()
    embed = render_embed(reply)
    view = build_view(reply)
    assert view is not None
    payload = {"embeds": [embed.to_dict()], "components": view.to_components()}
    assert message_problems(payload) == []
    assert len(embed) <= EMBED_TOTAL_MAX and len(embed.fields) <= 25
    assert embed.fields[-1].value.startswith("…")  # says that something was left out
    assert len(view.children) == 25
    assert (embed.description or "").endswith("```…")  # the cut re-closed the code block


def test_clean_cuts() -> None:
    text = "first line\nsecond line is here\n`code that goes on and on`"
    assert clip(text, 30) == "first line\nsecond line is…"
    assert clip("```\nprint(1)\nprint(2)\nprint(3)\n```", 25).endswith("\n```…")
    assert clip("short", 10) == "short"
    long_text = "\n".join(f"line {n} " + "y" * 90 for n in range(100))
    parts = chunks(long_text)
    assert all(len(p) <= MESSAGE_MAX for p in parts) and "\n".join(parts) == long_text
    assert parse_custom_id("sb:feedback:12:fixed") == (Command.FEEDBACK, "12:fixed")
    assert parse_custom_id("sb:launch:1") is None and parse_custom_id("other:feedback:1") is None


async def test_huge_alert_is_accepted_by_discord(fake: FakeDiscord, bot: Any) -> None:
    await bot.post_alert(huge_reply())
    [alert] = fake.called("POST", rf"^/channels/{STAFF_CHANNEL}/messages$")
    assert alert.status == 200 and alert.embeds and len(alert.custom_ids) == 25


async def test_a_rejected_embed_falls_back_to_plain_text(fake: FakeDiscord, bot: Any, catalog: Catalog) -> None:
    fake.fail("POST", rf"^/channels/{GENERAL}/messages$", status=400, code=50035)
    paste = await fake.send_message(OVERLOADED)
    await fake.wait_for("POST", POSTS, count=2)
    rejected, plain = fake.called("POST", POSTS)
    assert rejected.status == 400 and plain.status == 200
    assert "embeds" not in plain.body or not plain.body["embeds"]
    content = plain.body["content"]
    assert len(content) <= MESSAGE_MAX and content.startswith(catalog.get(OVERLOADED_ID).title)
    assert str(plain.body["message_reference"]["message_id"]) == paste["id"]
    assert plain.custom_ids and pings_nobody(plain)


async def test_discord_errors_are_logged_and_never_stop_the_bot(fake: FakeDiscord, bot: Any,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.adapters.discord_adapter")
    fake.fail("PUT", r"/reactions/", status=403, code=50013, message="Missing Permissions")
    fake.fail("POST", POSTS, status=403, code=50013, message="Missing Permissions")
    first = await fake.send_message(OVERLOADED)
    await fake.wait_for("POST", POSTS)
    second = await fake.send_message(TIMEOUT, author=BOB)
    reply = await answered(fake, second)
    assert reply.status == 200
    assert [c.status for c in replies_to(fake, first)] == [403]
    assert "could not react" in caplog.text and "403 50013" in caplog.text


# -- run_discord and the command line --------------------------------------------------------------


async def test_run_discord_serves_until_cancelled_and_cleans_up(fake: FakeDiscord, service: Any,
                                                                settings: Any) -> None:
    task = asyncio.create_task(run_discord(service, settings))
    await fake.wait_identified()
    paste = await fake.send_message(OVERLOADED)
    await answered(fake, paste)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await service.alert_staff(replies.notice("after the bot stopped", private=False))
    assert fake.called("POST", rf"^/channels/{STAFF_CHANNEL}/messages$") == []  # its alert sink is gone


async def test_run_discord_refuses_a_rejected_token_without_showing_it(fake: FakeDiscord, store: Any,
                                                                      catalog: Catalog) -> None:
    settings = discord_settings(fake, DISCORD_TOKEN="not-the-right-token-987")
    with pytest.raises(ConfigError) as raised:
        await run_discord(make_service(store, catalog, settings), settings)
    assert str(raised.value) == TOKEN_REJECTED
    assert "987" not in repr(raised.value) and raised.value.__cause__ is None


def test_invite_url_has_the_documented_permissions() -> None:
    assert invite_permissions().value == 309237730368
    url = invite_url(1234)
    assert "permissions=309237730368" in url and "client_id=1234" in url
    assert "scope=bot+applications.commands" in url and INVITE_SCOPES == ("bot", "applications.commands")
    docs = (REPO / "README.md").read_text(encoding="utf-8")
    assert "309237730368" in docs


async def test_supportbot_discord_answers_a_paste_and_errfix_end_to_end(fake: FakeDiscord, tmp_path: Path,
                                                                        catalog: Catalog) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "SUPPORTBOT_"))}
    env.update(fake.env())
    env.update({"SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'cli.db'}", "DISCORD_GUILD_ID": str(GUILD_ID),
                "PYTHONPATH": str(REPO), "LOG_LEVEL": "DEBUG"})  # the most talkative logs must not show the token
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "discord", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await fake.wait_identified(timeout=60)
        paste = await fake.send_message(OVERLOADED)
        reply = await answered(fake, paste)
        assert title(reply) == catalog.get(OVERLOADED_ID).title
        asked = await fake.slash("errfix", text=TIMEOUT, user_id=BOB)
        [private] = await followups(fake, asked)
        assert private.ephemeral and title(private) == catalog.get(TIMEOUT_ID).title
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    log = (out + err).decode()
    assert process.returncode == 0, log
    assert fake.token not in log
