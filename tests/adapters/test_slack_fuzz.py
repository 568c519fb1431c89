"""Fuzzing the Slack HTTP surface: correctly signed requests with arbitrary bodies, forms and JSON never
get a 500 or a traceback, and the app keeps serving afterwards.

hypothesis draws the bodies (a collecting inner test, because the requests are async); each is signed
with the real signing secret and sent to a real `run_slack(http=True)` talking to the local Slack fake.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.service import SupportService
from tests.adapters.slack_support import ALICE, CHANNEL, action_body, command_body, message_event
from tests.adapters.test_slack_adapter import post_signed, serving

HOSTILE_TEXT = st.sampled_from([
    "pwd-" * 1000, "token-" * 600, "a-" * 2000, "1.1." * 1000, "\n" * 4000, "\x00\xff" * 100,
    "<@U0BOT> " + "sk-ant-" * 500, "\ud800 lone", "API Error: 529 overloaded_error Overloaded",
])
TEXT = st.text(max_size=300) | HOSTILE_TEXT
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=15,
)


def _events() -> st.SearchStrategy[tuple[str, str]]:
    def event(text: Any, extra: dict[str, Any]) -> tuple[str, str]:
        body = message_event("x", user=ALICE, channel=CHANNEL)
        body["event"]["text"] = text
        body["event"].update(extra)
        return json.dumps(body), "application/json"

    keys = st.sampled_from(["type", "user", "channel", "ts", "thread_ts", "subtype", "bot_id", "files", "edited"])
    return st.builds(event, JSON_VALUE, st.dictionaries(keys, JSON_VALUE, max_size=3))


def _commands() -> st.SearchStrategy[tuple[str, str]]:
    def command(name: str, text: str, extra: dict[str, str]) -> tuple[str, str]:
        body = {**command_body(name, "x"), "text": text, **extra}
        return urlencode(body), "application/x-www-form-urlencoded"

    names = st.sampled_from(["/errfix", "/quota", "/incidents", "/nope", ""])
    fields = st.sampled_from(["user_id", "channel_id", "team_id", "response_url", "trigger_id"])
    return st.builds(command, names, TEXT.filter(lambda t: "\ud800" not in t),
                     st.dictionaries(fields, st.text(max_size=20).filter(lambda t: "\ud800" not in t), max_size=2))


def _actions() -> st.SearchStrategy[tuple[str, str]]:
    def action(action_id: str, value: Any, junk: dict[str, Any]) -> tuple[str, str]:
        body = action_body(action_id, "v")
        body["actions"][0]["value"] = value
        body.update(junk)
        return urlencode({"payload": json.dumps(body)}), "application/x-www-form-urlencoded"

    ids = st.sampled_from(["sb:more", "sb:fixed", "sb:wrong", "sb:ack", "sb:share", "nonsense", ""]) | st.text(max_size=20)
    junk = st.dictionaries(st.sampled_from(["type", "user", "container", "channel", "message", "view"]),
                           JSON_VALUE, max_size=2)
    return st.builds(action, ids, JSON_VALUE, junk)


def _raw() -> st.SearchStrategy[tuple[str, str]]:
    content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain",
                                     "application/octet-stream", ""])
    bodies = (st.builds(json.dumps, JSON_VALUE) | st.text(max_size=500)
              | st.builds(lambda v: urlencode({"payload": v}), st.text(max_size=200)))
    return st.tuples(bodies.filter(lambda b: "\ud800" not in b), content_types)


REQUESTS = st.one_of(_events(), _commands(), _actions(), _raw())


def _draw(count: int) -> list[tuple[str, str]]:
    drawn: list[tuple[str, str]] = []

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(REQUESTS)
    def collect(request: tuple[str, str]) -> None:
        drawn.append(request)

    collect()
    return drawn


@pytest.fixture
async def http_slack(slack_service: SupportService, slack_settings: Any) -> AsyncIterator[str]:
    async with serving(slack_service, slack_settings, http=True) as url:
        yield url


def _wrong_shapes() -> list[tuple[str, str]]:
    """Interaction payloads whose parts have the wrong type: what once gave a 500 from Bolt's matching."""
    shaped = []
    for key in ("container", "channel", "message", "view", "user", "team", "actions"):
        for wrong in ([1], "text", 5, None):
            body = action_body("sb:more", "v")
            body[key] = wrong
            shaped.append((urlencode({"payload": json.dumps(body)}), "application/x-www-form-urlencoded"))
    return shaped


async def test_signed_random_requests_never_give_a_500_or_a_traceback(http_slack: str) -> None:
    requests = [*_wrong_shapes(), *_draw(120)]
    assert len(requests) >= 60  # hypothesis really produced a varied batch
    async with aiohttp.ClientSession() as session:
        for body, content_type in requests:
            status, text = await post_signed(session, http_slack, body, content_type=content_type)
            assert status < 500, (status, body[:200])
            assert "Traceback" not in text and 'File "' not in text
        async with session.get(http_slack + "/healthz") as response:
            assert response.status == 200 and (await response.json())["ok"] is True
