"""Constants, payload builders and dispatch helpers shared by the Slack adapter tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.adapters.slack_adapter import SlackBot
from tests.fakes.slack_api import TEAM_ID

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
STAFF_GROUP = "S0STAFF"
STAFF_CHANNEL = "C0STAFF"
ADMIN = "U0ADMIN"  # staff by configured id
LEAD = "U0LEAD"  # staff by user-group membership
ALICE = "U0ALICE"
BOB = "U0BOB"
CHANNEL = "C0HELP"


# -- payload builders ----------------------------------------------------------------------------------

_counter = iter(range(1, 10**9))


def next_ts() -> str:
    return f"1710000000.{next(_counter):06d}"


def message_event(text: str, *, user: str = ALICE, channel: str = CHANNEL, ts: str | None = None,
                  thread_ts: str | None = None, event_id: str | None = None, **extra: Any) -> dict[str, Any]:
    ts = ts or next_ts()
    event: dict[str, Any] = {"type": "message", "user": user, "text": text, "channel": channel, "ts": ts,
                             "channel_type": "channel", "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP", "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{ts.replace('.', '')}",
            "event_time": int(float(ts))}


def command_body(command: str, text: str, *, user: str = ALICE, channel: str = CHANNEL,
                 response_url: str = "") -> dict[str, Any]:
    return {"token": "legacy", "team_id": TEAM_ID, "team_domain": "fake", "channel_id": channel,
            "channel_name": "help", "user_id": user, "user_name": user.lower(), "command": command,
            "text": text, "api_app_id": "A0APP", "response_url": response_url, "trigger_id": "trig.1"}


def action_body(action_id: str, value: str, *, user: str = ALICE, channel: str = CHANNEL,
                message_ts: str | None = None, thread_ts: str | None = None, ephemeral: bool = False,
                response_url: str = "", view: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "block_actions", "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": "trig.2",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "text": {"type": "plain_text", "text": "x"}, "action_ts": "1710000001.000001"}],
    }
    if view is not None:
        body["container"] = {"type": "view", "view_id": view.get("id", "V1")}
        body["view"] = view
        return body
    message_ts = message_ts or next_ts()
    body["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                         "is_ephemeral": ephemeral}
    body["channel"] = {"id": channel, "name": "help"}
    if response_url:
        body["response_url"] = response_url
    if not ephemeral:
        message: dict[str, Any] = {"type": "message", "ts": message_ts, "bot_id": "BBOT", "text": "answer"}
        if thread_ts:
            message["thread_ts"] = thread_ts
        body["message"] = message
    return body


# -- dispatch --------------------------------------------------------------------------------------------


async def dispatch(bot: SlackBot, body: dict[str, Any], headers: dict[str, str] | None = None) -> BoltResponse:
    """Socket-mode style dispatch (Bolt's own test technique): no signature, the real listeners."""
    request = AsyncBoltRequest(body=body, mode="socket_mode", headers=headers)
    return await bot.app.async_dispatch(request)


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers for a request signed the way Slack signs it (v0 HMAC-SHA256 of `v0:ts:body`)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def as_json(body: dict[str, Any]) -> str:
    return json.dumps(body)
