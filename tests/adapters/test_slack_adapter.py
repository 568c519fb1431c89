"""The real Bolt app against a fake Slack Web API.

HTTP mode runs `run_slack(http=True)` on a free port and sends really signed requests through aiohttp.
Socket Mode runs `run_slack()` against the fake's websocket. Everything else dispatches socket-mode
requests (`AsyncBoltRequest(mode="socket_mode")`, Bolt's own technique) into the same listeners and
asserts on the Web API calls the fake recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import slack_blocks as sb
from bot.adapters.slack_adapter import LOOKUP_SHORTCUT, SlackBot, build_slack_app
from bot.app import App
from bot.config import Settings
from bot.core.detection import DetectionConfig
from bot.core.models import Incident, IncidentStatus, Verdict
from bot.core.ports import AlertRelay, IncidentStore
from bot.core.service import SupportService
from bot.serve_slack import run_slack
from tests.adapters.slack_support import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    LEAD,
    STAFF_CHANNEL,
    STAFF_GROUP,
    action_body,
    command_body,
    dispatch,
    message_event,
    next_ts,
    sign,
)
from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID, Call, FakeSlackApi

PASTE = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
PASTE_ENTRY = "claude-code-529-overloaded"
PASTE2 = "stream disconnected before completion: error sending request for url (https://api.openai.com/v1/responses)"
PASTE2_ENTRY = "codex-cli-stream-disconnected"
# Has close alternates, so /errfix shows them as buttons.
CODEX_LIMIT = ("■ You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing) "
               "or try again in 2 days 3 hours")
CODEX_LIMIT_ENTRY = "codex-cli-usage-limit-reached"
QUOTA_TEXT = "Claude Code session 64% -> 100% overnight, nothing running"
ROOT = Path(__file__).resolve().parents[2]


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def button(blocks: list[dict[str, Any]], prefix: str, value_suffix: str = "") -> dict[str, Any]:
    return next(e for e in buttons(blocks) if e["action_id"].startswith(prefix) and e["value"].endswith(value_suffix))


def text_of(call: Call) -> str:
    return f"{call.get('text', '')}\n{sb.all_text(call.blocks)}"


async def paste(bot: SlackBot, text: str, **kwargs: Any) -> dict[str, Any]:
    body = message_event(text, **kwargs)
    response = await dispatch(bot, body)
    assert response.status == 200
    await bot.wait_idle()
    return body


async def run(bot: SlackBot, body: dict[str, Any], **kwargs: Any) -> Any:
    response = await dispatch(bot, body, **kwargs)
    await bot.wait_idle()
    return response


# =====================================================================================================
# HTTP mode: real server, really signed requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(service: SupportService, settings: Settings, *, http: bool) -> AsyncIterator[str]:
    """run_slack in a task until the block ends; yields the base URL (HTTP) or ""."""
    port = free_port()
    ready = asyncio.Event()

    async def on_ready() -> None:
        ready.set()

    routes = App(settings, service, service.store).http_routes()
    task = asyncio.create_task(run_slack(service, settings, http=http, port=port, host="127.0.0.1", ready=on_ready,
                                         routes=routes))
    waiter = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        waiter.cancel()
        task.result()  # raises what went wrong
    assert waiter in done, "run_slack did not become ready"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def http_slack(slack_service: SupportService, slack_settings: Settings) -> AsyncIterator[str]:
    async with serving(slack_service, slack_settings, http=True) as url:
        yield url


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def post_signed(session: aiohttp.ClientSession, url: str, body: str, *, content_type: str = "application/json",
                      headers: dict[str, str] | None = None) -> tuple[int, str]:
    all_headers = {"Content-Type": content_type, **(headers if headers is not None else sign(body))}
    async with session.post(url + "/slack/events", data=body.encode(), headers=all_headers) as response:
        return response.status, await response.text()


class TestHttpMode:
    async def test_signed_paste_is_answered_in_its_thread(self, http_slack: str, session: aiohttp.ClientSession,
                                                          fake_slack: FakeSlackApi) -> None:
        body = message_event(PASTE)
        status, _ = await post_signed(session, http_slack, json.dumps(body))
        assert status == 200
        [post] = await fake_slack.wait_for("chat.postMessage")
        assert post["channel"] == CHANNEL and post["thread_ts"] == body["event"]["ts"]
        assert post.token == "xoxb-test-token"
        [reaction] = fake_slack.called("reactions.add")
        assert reaction["name"] == "eyes" and reaction["timestamp"] == body["event"]["ts"]

    @pytest.mark.parametrize("case", ["missing", "wrong", "stale"])
    async def test_unsigned_wrongly_signed_or_stale_requests_are_refused(
            self, case: str, http_slack: str, session: aiohttp.ClientSession, fake_slack: FakeSlackApi) -> None:
        body = json.dumps(message_event(PASTE))
        headers = {
            "missing": {},
            "wrong": sign(body, secret="not-the-secret"),
            "stale": sign(body, timestamp=int(time.time()) - 6 * 60),  # correctly signed, 6 minutes old
        }[case]
        status, _ = await post_signed(session, http_slack, body, headers=headers)
        assert status == 401
        assert not fake_slack.called("chat.postMessage") and not fake_slack.called("reactions.add")

    async def test_signature_under_five_minutes_old_is_accepted(self, http_slack: str, session: aiohttp.ClientSession,
                                                                fake_slack: FakeSlackApi) -> None:
        body = json.dumps(message_event(PASTE))
        status, _ = await post_signed(session, http_slack, body, headers=sign(body, timestamp=int(time.time()) - 240))
        assert status == 200
        await fake_slack.wait_for("chat.postMessage")

    async def test_signed_errfix_is_acknowledged_within_3_seconds_then_answered(
            self, http_slack: str, session: aiohttp.ClientSession, fake_slack: FakeSlackApi) -> None:
        form = urlencode(command_body("/errfix", PASTE, response_url=fake_slack.response_url("errfix")))
        started = time.monotonic()
        status, text = await post_signed(session, http_slack, form, content_type="application/x-www-form-urlencoded")
        assert status == 200 and time.monotonic() - started < 3.0
        assert text == ""  # the ack carries nothing: the answer follows through response_url
        [answer] = await fake_slack.wait_for("response_url")
        assert answer["response_type"] == "ephemeral"
        assert "overloaded" in text_of(answer).lower()

    async def test_signed_quota_is_thanked_in_the_response_itself_and_counted_in_metrics(
            self, http_slack: str, session: aiohttp.ClientSession, fake_slack: FakeSlackApi,
            slack_store: IncidentStore) -> None:
        form = urlencode(command_body("/quota", QUOTA_TEXT, response_url=fake_slack.response_url("q")))
        status, text = await post_signed(session, http_slack, form, content_type="application/x-www-form-urlencoded")
        assert status == 200
        answer = json.loads(text)
        assert answer["response_type"] == "ephemeral" and "recorded" in answer["text"]
        now = dt.datetime.now(dt.UTC)
        [report] = await slack_store.reports_between(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
        assert f"#{report.id}" in answer["text"]  # the thanks names the stored report
        async with session.get(http_slack + "/metrics") as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
            families = {f.name: f for f in text_string_to_metric_families(await response.text())}
        assert families["supportbot_reports_stored"].samples[0].value == 1
        assert families["supportbot_refused_busy"].samples[0].value == 0
        assert families["supportbot_work_in_flight"].samples[0].value == 0
        catalog = families["supportbot_catalog_info"].samples[0]
        assert catalog.labels["version"] and int(catalog.labels["entries"]) > 0
        assert {"supportbot_answers", "supportbot_unmatched_pastes", "supportbot_detection_duration_seconds",
                "supportbot_detection_failures"} <= set(families)

    async def test_url_verification_challenge(self, http_slack: str, session: aiohttp.ClientSession) -> None:
        body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"})
        status, text = await post_signed(session, http_slack, body)
        assert status == 200 and "abc123" in text

    @pytest.mark.parametrize(("body", "content_type"), [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        (json.dumps({"type": "event_callback"}), "application/json"),
        (json.dumps({"type": "event_callback", "event": {"type": "message", "text": 42}}), "application/json"),
        (json.dumps({"type": "event_callback", "event_id": "Ev9", "event": {
            "type": "message", "channel": "C1", "user": "U1", "ts": "1.2", "text": "\x00\xff" * 5000}}),
         "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ("command=%2Ferrfix", "application/x-www-form-urlencoded"),
        (urlencode({"payload": json.dumps({"type": "block_actions", "actions": [{"action_id": "nonsense"}]})}),
         "application/x-www-form-urlencoded"),
        ("\u00ff\u00fe binary junk", "application/octet-stream"),
    ])
    async def test_malformed_signed_payloads_never_break_the_app(
            self, body: str, content_type: str, http_slack: str, session: aiohttp.ClientSession) -> None:
        status, _ = await post_signed(session, http_slack, body, content_type=content_type)
        assert status < 500
        async with session.get(http_slack + "/healthz") as response:  # and the app still serves
            assert response.status == 200 and (await response.json())["ok"] is True

    async def test_healthz(self, http_slack: str, session: aiohttp.ClientSession,
                           slack_service: SupportService) -> None:
        async with session.get(http_slack + "/healthz") as response:
            assert response.status == 200
            report = await response.json()
        assert report["ok"] is True and report["store"] == "ok"
        assert report["catalog"]["entries"] == len(slack_service.catalog)

    async def test_signing_secret_comes_from_settings_never_the_environment(
            self, slack_service: SupportService, slack_settings: Settings, session: aiohttp.ClientSession,
            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "from-the-environment")
        async with serving(slack_service, slack_settings, http=True) as url:
            body = json.dumps({"type": "url_verification", "challenge": "c", "token": "t"})
            assert (await post_signed(session, url, body, headers=sign(body, secret="from-the-environment")))[0] == 401
            assert (await post_signed(session, url, body))[0] == 200

    async def test_http_mode_without_signing_secret_is_a_config_error(
            self, slack_service: SupportService, slack_settings: Settings) -> None:
        from bot.errors import ConfigError

        settings = dataclasses.replace(slack_settings, slack_signing_secret=None)
        with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
            await run_slack(slack_service, settings, http=True, port=free_port())

    async def test_rejected_bot_token_is_a_config_error(
            self, slack_service: SupportService, slack_settings: Settings, fake_slack: FakeSlackApi) -> None:
        from bot.errors import ConfigError

        fake_slack.fail("auth.test", error="invalid_auth")
        with pytest.raises(ConfigError, match="invalid_auth") as caught:
            await run_slack(slack_service, slack_settings, http=True, port=free_port())
        assert "xoxb-test-token" not in str(caught.value)


# =====================================================================================================
# Socket Mode: run_slack against the fake's websocket


class TestSocketMode:
    async def test_events_and_commands_over_the_socket(self, slack_service: SupportService,
                                                       slack_settings: Settings, fake_slack: FakeSlackApi) -> None:
        async with serving(slack_service, slack_settings, http=False):
            [opened] = fake_slack.called("apps.connections.open")
            assert opened.token == "xapp-test-token"  # the app-level token, not the bot token
            event = message_event(PASTE2)
            ack = await fake_slack.send_envelope({"envelope_id": "env-1", "type": "events_api", "payload": event,
                                                  "accepts_response_payload": False, "retry_attempt": 0,
                                                  "retry_reason": ""})
            assert ack == {"envelope_id": "env-1"}
            [post] = await fake_slack.wait_for("chat.postMessage")
            assert post["thread_ts"] == event["event"]["ts"]
            assert PASTE2_ENTRY in json.dumps(post.blocks)

            command = command_body("/errfix", "", response_url=fake_slack.response_url("s"))
            ack = await fake_slack.send_envelope({"envelope_id": "env-2", "type": "slash_commands",
                                                  "payload": command, "accepts_response_payload": True})
            assert ack["envelope_id"] == "env-2"
            [answer] = await fake_slack.wait_for("response_url")
            assert "help" in text_of(answer).lower()

    async def test_socket_mode_without_app_token_is_a_config_error(
            self, slack_service: SupportService, slack_settings: Settings) -> None:
        from bot.errors import ConfigError

        with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
            await run_slack(slack_service, dataclasses.replace(slack_settings, slack_app_token=None),
                            http=False, port=0)


# =====================================================================================================
# Channel messages


class TestChannelMessages:
    async def test_pasted_error_gets_one_threaded_block_kit_answer(self, slack_bot: SlackBot,
                                                                   fake_slack: FakeSlackApi) -> None:
        body = await paste(slack_bot, PASTE)
        [post] = fake_slack.called("chat.postMessage")
        assert post["channel"] == CHANNEL and post["thread_ts"] == body["event"]["ts"]
        blocks = post.blocks
        entry = slack_bot.service.catalog.get(PASTE_ENTRY)
        assert entry is not None
        assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": entry.title, "emoji": True}}
        everything = sb.all_text(blocks)
        for expected in ("Quick fix", "Common causes", "Quick fixes", "Why this answer", "Evidence"):
            assert expected in everything
        labels = [b["text"]["text"] for b in buttons(blocks)]
        assert labels[:5] == ["More", "Fixed it", "Didn't help", "Wrong error", "Escalate"]
        assert button(blocks, "sb:more:")["value"] == PASTE_ENTRY
        assert post["text"].startswith(entry.title)  # the plain-text fallback is always set

    @pytest.mark.parametrize("extra", [
        {"subtype": "message_changed", "message": {"text": PASTE}},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
        {"subtype": "bot_message", "bot_id": "B0OTHER"},
        {"bot_id": "B0OTHER"},
        {"user": BOT_USER_ID, "bot_id": BOT_ID},
    ], ids=["edit", "deletion", "join", "bot_message", "bot_id", "itself"])
    async def test_edits_deletions_joins_and_bots_are_never_answered(
            self, extra: dict[str, Any], slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        await paste(slack_bot, PASTE, **extra)
        assert not {"chat.postMessage", "reactions.add"} & set(fake_slack.methods())

    async def test_retry_of_a_handled_event_is_ignored(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        body = message_event(PASTE)
        await run(slack_bot, body)
        response = await run(slack_bot, body, headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})
        assert response.status == 200  # acknowledged, so Slack stops retrying
        assert len(fake_slack.called("chat.postMessage")) == 1
        assert len(fake_slack.called("reactions.add")) == 1

    async def test_thread_the_bot_answered_before_a_restart_is_left_alone(
            self, slack_bot: SlackBot, slack_service: SupportService, slack_settings: Settings,
            fake_slack: FakeSlackApi) -> None:
        parent, now = next_ts(), next_ts()
        await paste(slack_bot, PASTE2, user=ALICE, ts=parent)
        assert len(fake_slack.called("chat.postMessage")) == 1
        # A new process on the same store: nothing in memory, and the thread's history shows no answer.
        fake_slack.replies[(CHANNEL, parent)] = [
            {"type": "message", "user": ALICE, "text": PASTE2, "ts": parent, "thread_ts": parent}]
        restarted = SlackBot(SupportService(slack_service.knowledge, slack_service.store, slack_settings.policy()),
                             slack_settings, AsyncWebClient(token="xoxb-t", base_url=fake_slack.base_url))
        try:
            await paste(restarted, PASTE, user=BOB, ts=now, thread_ts=parent)
        finally:
            await restarted.close()
        assert len(fake_slack.called("chat.postMessage")) == 1
        assert not fake_slack.called("conversations.replies")  # the store answered: Slack was not asked

    async def test_paste_in_a_thread_nobody_answered_is_answered_in_that_thread(self, slack_bot: SlackBot,
                                                                                fake_slack: FakeSlackApi) -> None:
        parent, now = next_ts(), next_ts()
        fake_slack.replies[(CHANNEL, parent)] = [
            {"type": "message", "user": ALICE, "text": "help, codex broke", "ts": parent, "thread_ts": parent},
            {"type": "message", "user": BOB, "text": "+1", "ts": now, "thread_ts": parent},  # this paste itself
        ]
        await paste(slack_bot, PASTE, user=ALICE, ts=now, thread_ts=parent)
        [post] = fake_slack.called("chat.postMessage")
        assert post["thread_ts"] == parent

    async def test_the_askers_own_replies_are_not_help(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        parent, own_reply, now = next_ts(), next_ts(), next_ts()
        fake_slack.replies[(CHANNEL, parent)] = [
            {"type": "message", "user": BOB, "text": "codex is failing for me", "ts": parent, "thread_ts": parent},
            {"type": "message", "user": BOB, "text": "same on wifi", "ts": own_reply, "thread_ts": parent},
        ]
        await paste(slack_bot, PASTE, user=ALICE, ts=now, thread_ts=parent)
        [post] = fake_slack.called("chat.postMessage")
        assert post["thread_ts"] == parent

    async def test_pastes_within_two_minutes_share_one_answer_edited_in_place(self, slack_bot: SlackBot,
                                                                              fake_slack: FakeSlackApi) -> None:
        await paste(slack_bot, PASTE)
        await paste(slack_bot, PASTE2)
        [post] = fake_slack.called("chat.postMessage")
        [update] = fake_slack.called("chat.update")
        assert update["ts"] == post.response["ts"] and update["channel"] == CHANNEL
        assert PASTE2_ENTRY in json.dumps(update.blocks)
        assert "earlier paste" in text_of(update)
        assert update["text"]  # fallback set on edits too
        assert post["thread_ts"] != update["ts"]

    async def test_channel_names_are_asked_only_for_a_watch_list_that_names_channels(
            self, slack_bot: SlackBot, slack_service: SupportService, slack_settings: Settings,
            fake_slack: FakeSlackApi) -> None:
        await paste(slack_bot, PASTE)
        assert not fake_slack.called("conversations.info")  # no watch list: no lookups
        fake_slack.channel_names[CHANNEL] = "help-ai"
        settings = dataclasses.replace(slack_settings, slack_watch_channels=frozenset({"help-ai"}))
        watching = SupportService(slack_service.knowledge, slack_service.store, settings.policy())
        bot = SlackBot(watching, settings, AsyncWebClient(token="xoxb-t", base_url=fake_slack.base_url))
        try:
            await paste(bot, PASTE, user=BOB)
            await paste(bot, PASTE2, user=ALICE)
        finally:
            await bot.close()
        assert [c["channel"] for c in fake_slack.called("conversations.info")] == [CHANNEL]  # asked once
        assert len(fake_slack.called("chat.postMessage")) == 3

    async def test_direct_message_paste_is_answered(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        await paste(slack_bot, PASTE, channel="D0DM", channel_type="im")
        [post] = fake_slack.called("chat.postMessage")
        assert post["channel"] == "D0DM"

    async def test_bare_mention_gets_help_privately(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        await paste(slack_bot, f"<@{BOT_USER_ID}>")
        [help_message] = fake_slack.called("chat.postEphemeral")
        assert help_message["user"] == ALICE and "/errfix" in text_of(help_message)
        assert not fake_slack.called("chat.postMessage")

    async def test_echoed_user_text_never_pings(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        noisy = f"<!channel> <!here> <!everyone> <@{BOB}> <!subteam^{STAFF_GROUP}|@staff> {PASTE}"
        await paste(slack_bot, noisy)
        [post] = fake_slack.called("chat.postMessage")
        sent = json.dumps(post.args)
        for markup in ("<!channel>", "<!here>", "<!everyone>", f"<@{BOB}>", "<!subteam^"):
            assert markup not in sent

    async def test_rate_limited_post_is_retried_after_retry_after(self, slack_bot: SlackBot,
                                                                  fake_slack: FakeSlackApi) -> None:
        fake_slack.fail("chat.postMessage", status=429, retry_after=1)
        await paste(slack_bot, PASTE)
        posts = fake_slack.called("chat.postMessage")
        assert len(posts) == 2 and posts[0].args == posts[1].args

    async def test_failed_web_api_call_is_logged_and_the_app_keeps_going(
            self, slack_bot: SlackBot, fake_slack: FakeSlackApi, caplog: pytest.LogCaptureFixture) -> None:
        fake_slack.fail("chat.postMessage", error="channel_not_found")
        fake_slack.fail("reactions.add", error="missing_scope")
        with caplog.at_level(logging.WARNING, logger="bot.adapters.slack_adapter"):
            await paste(slack_bot, PASTE)
        assert "chat_postMessage failed: channel_not_found" in caplog.text
        assert "reactions_add failed: missing_scope" in caplog.text
        await paste(slack_bot, PASTE2, user=BOB)
        assert len(fake_slack.called("chat.postMessage")) == 2


# =====================================================================================================
# /errfix, the shortcut, buttons


class TestErrfix:
    async def test_web_api_calls_and_answers_share_one_kept_alive_connection(self, slack_bot: SlackBot,
                                                                             fake_slack: FakeSlackApi) -> None:
        await slack_bot.start()
        for number in range(3):
            await slack_bot.api("chat_postMessage", channel="C1", text=f"note {number}")
            assert await slack_bot.respond(fake_slack.response_url(f"r{number}"), sb.Rendered([], f"answer {number}"))
        calls = [c for c in fake_slack.calls if c.method in ("auth.test", "chat.postMessage", "response_url")]
        assert len(calls) == 7
        assert len({c.peer for c in calls}) == 1  # no connection (nor session) of its own per call
        await slack_bot.close()
        assert slack_bot.client.session is None or slack_bot.client.session.closed

    async def test_errfix_answers_privately_with_alternates_and_share(self, slack_bot: SlackBot,
                                                                      fake_slack: FakeSlackApi) -> None:
        response = await run(slack_bot, command_body("/errfix", CODEX_LIMIT, response_url=fake_slack.response_url()))
        assert response.status == 200
        [answer] = fake_slack.called("response_url")
        assert answer["response_type"] == "ephemeral"
        assert CODEX_LIMIT_ENTRY in json.dumps(answer.blocks)
        alternates = [b for b in buttons(answer.blocks) if b["action_id"].startswith("sb:show_entry:")]
        assert alternates and all(b["value"] != CODEX_LIMIT_ENTRY for b in alternates)
        assert button(answer.blocks, "sb:share:")["value"] == CODEX_LIMIT_ENTRY
        assert answer["text"]
        assert not fake_slack.called("chat.postMessage")  # nothing public

    @pytest.mark.parametrize("query", ["entry id", "title"])
    async def test_errfix_by_entry_id_or_title(self, query: str, slack_bot: SlackBot,
                                               fake_slack: FakeSlackApi) -> None:
        entry = slack_bot.service.catalog.get(PASTE2_ENTRY)
        assert entry is not None
        await run(slack_bot, command_body("/errfix", entry.id if query == "entry id" else entry.title,
                                          response_url=fake_slack.response_url()))
        [answer] = fake_slack.called("response_url")
        assert answer.blocks[0]["text"]["text"] == entry.title

    async def test_share_in_channel_posts_publicly(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        await run(slack_bot, action_body("sb:share:5", PASTE_ENTRY, ephemeral=True,
                                         response_url=fake_slack.response_url("share")))
        [shared] = fake_slack.called("response_url")
        assert shared["response_type"] == "in_channel"
        assert "shared by a teammate" in text_of(shared)

    async def test_alternate_button_shows_that_entry(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        await run(slack_bot, action_body("sb:show_entry:6", PASTE2_ENTRY, ephemeral=True,
                                         response_url=fake_slack.response_url()))
        [shown] = fake_slack.called("response_url")
        assert shown["response_type"] == "ephemeral" and PASTE2_ENTRY in text_of(shown)

    async def test_message_shortcut_looks_up_the_message(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        body = {"type": "message_action", "callback_id": LOOKUP_SHORTCUT, "trigger_id": "t", "token": "legacy",
                "team": {"id": TEAM_ID}, "user": {"id": BOB, "username": "bob"}, "channel": {"id": CHANNEL},
                "message": {"type": "message", "user": ALICE, "ts": next_ts(), "text": PASTE2},
                "response_url": fake_slack.response_url("shortcut"), "message_ts": next_ts()}
        response = await run(slack_bot, body)
        assert response.status == 200
        [answer] = fake_slack.called("response_url")
        assert answer["response_type"] == "ephemeral" and PASTE2_ENTRY in json.dumps(answer.blocks)


class TestAnswerButtons:
    async def _answer(self, bot: SlackBot, fake: FakeSlackApi) -> tuple[Call, dict[str, Any]]:
        body = await paste(bot, PASTE)
        [post] = fake.called("chat.postMessage")
        return post, body

    async def test_more_shows_the_rest_privately(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        post, body = await self._answer(slack_bot, fake_slack)
        more = button(post.blocks, "sb:more:")
        await run(slack_bot, action_body(more["action_id"], more["value"], message_ts=next_ts(),
                                         thread_ts=body["event"]["ts"], response_url=fake_slack.response_url("more")))
        [shown] = fake_slack.called("response_url")
        assert shown["response_type"] == "ephemeral" and shown.get("replace_original") in (False, "false")
        assert "More on:" in text_of(shown) and "Step by step" in text_of(shown)

    async def test_feedback_is_stored_and_the_last_click_wins(self, slack_bot: SlackBot, fake_slack: FakeSlackApi,
                                                              slack_store: IncidentStore) -> None:
        post, body = await self._answer(slack_bot, fake_slack)
        for verdict in (Verdict.FIXED, Verdict.NOT_HELPED):
            click = button(post.blocks, "sb:feedback:", ":" + verdict.value)
            await run(slack_bot, action_body(click["action_id"], click["value"], user=BOB,
                                             thread_ts=body["event"]["ts"], response_url=fake_slack.response_url()))
        [summary] = [s for s in await slack_store.feedback_summary() if s.entry_id == PASTE_ENTRY]
        assert (summary.fixed, summary.not_helped, summary.wrong) == (0, 1, 0)
        thanks = fake_slack.called("response_url")
        assert len(thanks) == 2 and all(t["response_type"] == "ephemeral" for t in thanks)

    async def test_wrong_error_queues_the_paste_for_staff(self, slack_bot: SlackBot, fake_slack: FakeSlackApi,
                                                          slack_store: IncidentStore) -> None:
        post, body = await self._answer(slack_bot, fake_slack)
        click = button(post.blocks, "sb:feedback:", ":wrong")
        await run(slack_bot, action_body(click["action_id"], click["value"], thread_ts=body["event"]["ts"],
                                         response_url=fake_slack.response_url()))
        now = dt.datetime.now(dt.UTC)
        queued = await slack_store.unmatched_between(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
        assert [(q.reason, q.best_entry_id) for q in queued] == [("wrong_error", PASTE_ENTRY)]
        assert "staff queue" in text_of(fake_slack.called("response_url")[0])

    async def test_escalate_pings_the_staff_group_in_the_thread(self, slack_bot: SlackBot,
                                                                fake_slack: FakeSlackApi) -> None:
        post, body = await self._answer(slack_bot, fake_slack)
        click = button(post.blocks, "sb:escalate:")
        await run(slack_bot, action_body(click["action_id"], click["value"], message_ts=next_ts(),
                                         thread_ts=body["event"]["ts"], response_url=fake_slack.response_url()))
        posts = fake_slack.called("chat.postMessage")
        assert len(posts) == 2
        ping = posts[1]
        assert ping["thread_ts"] == body["event"]["ts"] and ping["channel"] == CHANNEL
        assert f"<!subteam^{STAFF_GROUP}>" in ping["text"] and f"<!subteam^{STAFF_GROUP}>" in json.dumps(ping.blocks)


# =====================================================================================================
# /quota


class TestQuota:
    async def test_quota_report_is_stored_and_answered_privately(self, slack_bot: SlackBot, fake_slack: FakeSlackApi,
                                                                 slack_store: IncidentStore) -> None:
        # The thank-you is the command's own response: when Slack shows it, the report is stored.
        first = json.loads((await run(slack_bot, command_body(
            "/quota", QUOTA_TEXT, user=BOB, response_url=fake_slack.response_url("b")))).body)
        second = json.loads((await run(slack_bot, command_body(
            "/quota", QUOTA_TEXT, user=ALICE, response_url=fake_slack.response_url("a")))).body)
        now = dt.datetime.now(dt.UTC)
        reports = await slack_store.reports_between(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
        assert {r.origin.user_id for r in reports} == {ALICE, BOB}
        assert fake_slack.called("response_url") == []
        assert first["response_type"] == second["response_type"] == "ephemeral"
        second_text = f"{second['text']}\n{sb.all_text(second['blocks'])}"
        assert "recorded" in second_text and "Support bundle" in second_text
        assert "1 other person reported the same" in second_text
        assert "first to report" in first["text"] + sb.all_text(first["blocks"])

    async def test_unparseable_quota_text_gets_examples(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        response = await run(slack_bot, command_body("/quota", "it is broken", response_url=fake_slack.response_url()))
        answer = json.loads(response.body)
        text = f"{answer['text']}\n{sb.all_text(answer['blocks'])}"
        assert "could not find a quota reading" in text and "/quota session 64%" in text

    async def test_quota_alone_opens_the_modal_and_the_modal_reports(self, slack_bot: SlackBot,
                                                                     fake_slack: FakeSlackApi,
                                                                     slack_store: IncidentStore) -> None:
        await run(slack_bot, command_body("/quota", "", response_url=fake_slack.response_url()))
        [opened] = fake_slack.called("views.open")
        assert opened["trigger_id"] == "trig.1" and opened.view["callback_id"] == sb.QUOTA_CALLBACK
        values = {
            "tool": {"v": {"type": "static_select", "selected_option": {"value": "Claude Code"}}},
            "plan": {"v": {"type": "plain_text_input", "value": "Max 5x"}},
            "window": {"v": {"type": "static_select", "selected_option": {"value": "session"}}},
            "percent": {"v": {"type": "number_input", "value": "100"}},
            "from_percent": {"v": {"type": "number_input", "value": "64"}},
            "flags": {"v": {"type": "checkboxes", "selected_options": [{"value": "idle"}]}},
            "resets": {"v": {"type": "plain_text_input", "value": None}},
            "details": {"v": {"type": "plain_text_input", "value": None}},
        }
        submission = {"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": ALICE, "username": "a"},
                      "view": {"id": "V1", "type": "modal", "callback_id": sb.QUOTA_CALLBACK,
                               "private_metadata": CHANNEL, "state": {"values": values}}}
        response = await run(slack_bot, submission)
        answer = json.loads(response.body)
        assert answer["response_action"] == "update"
        assert "recorded" in sb.all_text(answer["view"]["blocks"])
        now = dt.datetime.now(dt.UTC)
        [report] = await slack_store.reports_between(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
        assert report.parsed.tool == "Claude Code"
        [reading] = report.parsed.readings
        assert (reading.window, reading.percent, reading.from_percent, reading.idle) == ("session", 100, 64, True)

    async def test_empty_modal_is_refused_with_a_field_error(self, slack_bot: SlackBot) -> None:
        values = {"tool": {"v": {"type": "static_select", "selected_option": {"value": "Codex CLI"}}},
                  "window": {"v": {"type": "static_select", "selected_option": {"value": "weekly"}}}}
        submission = {"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": ALICE},
                      "view": {"id": "V1", "type": "modal", "callback_id": sb.QUOTA_CALLBACK,
                               "state": {"values": values}}}
        response = await run(slack_bot, submission)
        answer = json.loads(response.body)
        assert answer["response_action"] == "errors" and "percent" in answer["errors"]


# =====================================================================================================
# Staff: /incidents, App Home, incident buttons, alerts


async def open_incident(store: IncidentStore) -> int:
    now = dt.datetime.now(dt.UTC)
    return await store.open_incident(Incident(tool="Claude Code", symptom="limit_hit", opened_at=now,
                                              status=IncidentStatus.OPEN, summary="Claude Code limit hits spike",
                                              reporters=6, baseline=0.5))


class TestStaff:
    @pytest.mark.parametrize("user", [LEAD, ADMIN], ids=["user group member", "configured id"])
    async def test_incidents_for_staff(self, user: str, slack_bot: SlackBot, fake_slack: FakeSlackApi,
                                       slack_store: IncidentStore) -> None:
        incident_id = await open_incident(slack_store)
        await run(slack_bot, command_body("/incidents", "", user=user, response_url=fake_slack.response_url()))
        [overview] = fake_slack.called("response_url")
        assert overview["response_type"] == "ephemeral"
        assert "Support overview" in text_of(overview) and "Open incidents" in text_of(overview)
        assert button(overview.blocks, "sb:ack_incident:")["value"] == str(incident_id)
        # Slack is asked about the user group only for someone who is not staff by configured id.
        asked = [c["usergroup"] for c in fake_slack.called("usergroups.users.list")]
        assert asked == ([STAFF_GROUP] if user == LEAD else [])

    async def test_staff_group_membership_is_cached(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        for _ in range(3):
            await run(slack_bot, command_body("/incidents", "", user=LEAD, response_url=fake_slack.response_url()))
        assert len(fake_slack.called("usergroups.users.list")) == 1

    async def test_app_home_shows_staff_the_overview(self, slack_bot: SlackBot, fake_slack: FakeSlackApi,
                                                     slack_store: IncidentStore) -> None:
        await open_incident(slack_store)
        body = {"type": "event_callback", "team_id": TEAM_ID, "event_id": "EvHome1",
                "event": {"type": "app_home_opened", "user": LEAD, "channel": "D0DM", "tab": "home"}}
        await run(slack_bot, body)
        [published] = fake_slack.called("views.publish")
        assert published["user_id"] == LEAD and published.view["type"] == "home"
        shown = sb.all_text(published.view["blocks"])
        assert "Support overview" in shown and "Claude Code limit hits spike" in shown
        assert any(b["action_id"].startswith("sb:resolve_incident:") for b in buttons(published.view["blocks"]))
        assert len(published.view["blocks"]) <= sb.VIEW_BLOCKS_MAX

    async def test_app_home_refuses_others_politely(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        body = {"type": "event_callback", "team_id": TEAM_ID, "event_id": "EvHome2",
                "event": {"type": "app_home_opened", "user": ALICE, "channel": "D0DM", "tab": "home"}}
        await run(slack_bot, body)
        [published] = fake_slack.called("views.publish")
        shown = sb.all_text(published.view["blocks"])
        assert "Sorry, that's for support staff" in shown and "/errfix" in shown
        assert "Support overview" not in shown

    async def test_staff_view_lists_catalog_gaps_and_fix_rates(self, slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
        await paste(slack_bot, "Error: frobnicator exploded with code XJ-42 in module quux")
        post = await paste(slack_bot, PASTE, user=BOB)
        [answer] = fake_slack.called("chat.postMessage")
        click = button(answer.blocks, "sb:feedback:", ":fixed")
        await run(slack_bot, action_body(click["action_id"], click["value"], user=BOB,
                                         thread_ts=post["event"]["ts"], response_url=fake_slack.response_url()))
        await run(slack_bot, command_body("/incidents", "", user=ADMIN, response_url=fake_slack.response_url("i")))
        overview = fake_slack.called("response_url")[-1]
        assert "Catalog gaps" in text_of(overview) and "frobnicator" in text_of(overview)
        assert "Fix rate per entry" in text_of(overview) and PASTE_ENTRY in text_of(overview)

    async def test_acknowledge_and_resolve_by_staff(self, slack_bot: SlackBot, fake_slack: FakeSlackApi,
                                                    slack_store: IncidentStore) -> None:
        incident_id = await open_incident(slack_store)
        alert_ts = next_ts()
        await run(slack_bot, action_body("sb:ack_incident:0", str(incident_id), user=LEAD, channel=STAFF_CHANNEL,
                                         message_ts=alert_ts, response_url=fake_slack.response_url()))
        incident = await slack_store.get_incident(incident_id)
        assert incident is not None and incident.status is IncidentStatus.ACKNOWLEDGED
        [notice] = fake_slack.called("chat.postMessage")
        assert notice["channel"] == STAFF_CHANNEL and notice["thread_ts"] == alert_ts
        assert f"Incident #{incident_id} acknowledged" in notice["text"]
        home = {"id": "VHOME", "type": "home"}
        await run(slack_bot, action_body("sb:resolve_incident:1", str(incident_id), user=ADMIN, view=home))
        incident = await slack_store.get_incident(incident_id)
        assert incident is not None and incident.status is IncidentStatus.RESOLVED
        [published] = fake_slack.called("views.publish")  # the home tab is refreshed with the outcome
        assert f"Incident #{incident_id} resolved" in sb.all_text(published.view["blocks"])

    async def test_incident_buttons_refused_for_non_staff(self, slack_bot: SlackBot, fake_slack: FakeSlackApi,
                                                          slack_store: IncidentStore) -> None:
        incident_id = await open_incident(slack_store)
        await run(slack_bot, action_body("sb:resolve_incident:0", str(incident_id), user=ALICE, channel=STAFF_CHANNEL,
                                         response_url=fake_slack.response_url()))
        incident = await slack_store.get_incident(incident_id)
        assert incident is not None and incident.status is IncidentStatus.OPEN
        [refusal] = fake_slack.called("response_url")
        assert refusal["response_type"] == "ephemeral" and "for support staff" in text_of(refusal)
        assert not fake_slack.called("chat.postMessage")

    async def test_unreachable_user_group_means_not_staff(self, slack_bot: SlackBot, fake_slack: FakeSlackApi,
                                                          caplog: pytest.LogCaptureFixture) -> None:
        fake_slack.fail("usergroups.users.list", error="missing_scope")
        with caplog.at_level(logging.WARNING):
            await run(slack_bot, command_body("/incidents", "", user=LEAD, response_url=fake_slack.response_url()))
        assert "for support staff" in text_of(fake_slack.called("response_url")[0])
        assert "missing_scope" in caplog.text


class TestAlerts:
    @pytest.fixture
    def slack_detection(self) -> DetectionConfig:
        # Two people are an incident here, so the test stays small.
        return DetectionConfig(min_reporters=2, factor=1.0, sustain=1)

    async def test_detected_incident_is_posted_to_the_staff_channel(self, slack_bot: SlackBot,
                                                                    slack_service: SupportService,
                                                                    fake_slack: FakeSlackApi) -> None:
        for user in (ALICE, BOB, LEAD):
            await run(slack_bot, command_body("/quota", "Claude Code: hit my session limit, resets 5pm",
                                              user=user, response_url=fake_slack.response_url(user)))
        after = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)  # once their 5-minute bucket has closed
        await slack_service.run_detection(after)
        await slack_service.run_detection(after)  # the next run keeps the same incident: no second alert
        alerts = [c for c in fake_slack.called("chat.postMessage") if c["channel"] == STAFF_CHANNEL]
        assert len(alerts) == 1
        assert alerts[0]["text"].startswith("Incident #")
        assert any(b["action_id"].startswith("sb:ack_incident:") for b in buttons(alerts[0].blocks))

    async def test_restarted_adapter_does_not_double_alerts(self, slack_bot: SlackBot, slack_service: SupportService,
                                                            slack_settings: Settings, fake_slack: FakeSlackApi,
                                                            slack_alerts: AlertRelay) -> None:
        await slack_bot.close()
        second = SlackBot(slack_service, slack_settings, AsyncWebClient(token="xoxb-t", base_url=fake_slack.base_url),
                          alerts=slack_alerts)
        try:
            await slack_service.alert_staff(sb_reply("Catalog NOT reloaded"))
            alerts = [c for c in fake_slack.called("chat.postMessage") if c["channel"] == STAFF_CHANNEL]
            assert len(alerts) == 1
        finally:
            await second.close()


def sb_reply(title: str) -> Any:
    from bot.core.models import Reply, ReplyKind

    return Reply(kind=ReplyKind.NOTICE, title=title, summary="details")


# =====================================================================================================
# The app object and the manifest


def test_build_slack_app_returns_a_bolt_app(slack_service: SupportService, slack_settings: Settings) -> None:
    client = AsyncWebClient(token="xoxb-t", base_url="http://127.0.0.1:9/api/")
    app = build_slack_app(slack_service, slack_settings, client)
    assert isinstance(app, AsyncApp) and app.client is client
    assert any("RateLimit" in type(h).__name__ for h in client.retry_handlers)


def test_manifest_asks_for_exactly_what_the_bot_uses() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "channels:history", "groups:history", "im:history", "chat:write", "commands", "reactions:write",
        "usergroups:read", "channels:read", "groups:read", "files:write", "im:write"}
    assert "user" not in manifest["oauth_config"]["scopes"]
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.channels", "message.groups", "message.im", "app_home_opened"}
    assert settings["interactivity"]["is_enabled"] is True and settings["socket_mode_enabled"] is True
    features = manifest["features"]
    assert {c["command"] for c in features["slash_commands"]} == {"/errfix", "/quota", "/incidents"}
    [shortcut] = features["shortcuts"]
    assert shortcut == {**shortcut, "name": "Look up this error", "type": "message", "callback_id": LOOKUP_SHORTCUT}
    assert features["app_home"]["home_tab_enabled"] is True
