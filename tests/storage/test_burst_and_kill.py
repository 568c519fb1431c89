"""A burst of `/quota` from distinct people at a real `supportbot slack --http` process (SQLite and
PostgreSQL): every request gets an answer (thanks, or busy), and a SIGKILL in the middle of a burst
loses no report anyone was thanked for. No timing is asserted; the load benchmark measures speed
(benchmarks/quota_burst.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.adapters.slack_support import SIGNING_SECRET, command_body, sign
from tests.fakes.slack_api import FakeSlackApi

from .conftest import Backend

THANKS = re.compile(r"report #(\d+) recorded")
QUOTA = "Codex CLI weekly usage 91% (resets Monday)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_bot(db: str, slack: FakeSlackApi, tmp_path: Path, max_in_flight: int) -> tuple[Any, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
    env.pop("DATABASE_URL", None)
    env.update({"SUPPORTBOT_DB": db, "SLACK_BOT_TOKEN": "xoxb-1111-2222-TESTTOKEN",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.base_url,
                "SUPPORTBOT_MAX_IN_FLIGHT": str(max_in_flight), "LOG_LEVEL": "WARNING"})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "slack", "--http", "--port", str(port), env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return process, url
            assert process.returncode is None, "the bot exited while starting"
            assert time.monotonic() < deadline, "the bot did not start"
            await asyncio.sleep(0.2)


async def press(session: aiohttp.ClientSession, url: str, slack: FakeSlackApi, user: str) -> str | None:
    """Send `/quota` as `user`; the text of the command's own response (None: no response)."""
    form = urlencode(command_body("/quota", QUOTA, user=user, response_url=slack.response_url(user)))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(form)}
    try:
        async with session.post(f"{url}/slack/events", data=form.encode(), headers=headers) as response:
            body = await response.text()
    except aiohttp.ClientError:
        return None
    with contextlib.suppress(ValueError):
        return str(json.loads(body).get("text") or "")
    return body


def later_answers(slack: FakeSlackApi) -> dict[str, str]:
    """Answers sent afterwards through each person's response_url, by person."""
    return {call.path.rsplit("/", 1)[-1]: f"{call.get('text', '')} {json.dumps(call.get('blocks', ''))}"
            for call in slack.called("response_url")}


async def test_every_request_of_a_burst_is_answered(backend: Backend, tmp_path: Path) -> None:
    async with FakeSlackApi() as slack:
        process, url = await start_bot(backend.url, slack, tmp_path, max_in_flight=8)
        try:
            users = [f"UB{n:04d}" for n in range(150)]
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                first = await asyncio.gather(*(press(session, url, slack, user) for user in users))
            pending = [u for u, text in zip(users, first, strict=True) if text and "answer follows" in text]
            if pending:  # stored too slowly for the 3-second window: the answer comes by response_url
                await slack.wait_for("response_url", count=len(pending), timeout=120)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
        later = later_answers(slack)
    final = {user: later.get(user, "") if text and "answer follows" in text else text
             for user, text in zip(users, first, strict=True)}
    thanked = {u for u, text in final.items() if text and THANKS.search(text)}
    busy = {u for u, text in final.items() if text and "Busy" in text}
    assert thanked | busy == set(users), "every request is answered: thanks or busy"
    assert thanked  # the burst was not refused wholesale
    store = await backend.open()
    try:
        stored = await store.count_reporters(["Codex CLI"], "report", *_today())
    finally:
        await store.close()
    assert stored == len(thanked)  # a busy answer stored nothing, a thank-you stored one


async def test_sigkill_in_a_burst_loses_no_thanked_report(backend: Backend, tmp_path: Path) -> None:
    async with FakeSlackApi() as slack:
        process, url = await start_bot(backend.url, slack, tmp_path, max_in_flight=32)
        users = [f"UK{n:04d}" for n in range(200)]
        answers: dict[str, str | None] = {}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def one(user: str) -> None:
                answers[user] = await press(session, url, slack, user)

            def thanked_so_far() -> int:
                # on a busy machine the thanks come after the acknowledgement, through response_url
                texts = [*answers.values(), *later_answers(slack).values()]
                return sum(1 for text in texts if text and THANKS.search(text))

            tasks = [asyncio.create_task(one(user)) for user in users]
            deadline = asyncio.get_running_loop().time() + 60
            while thanked_so_far() < 10:
                await asyncio.sleep(0.01)
                assert asyncio.get_running_loop().time() < deadline, "ten thanks did not come within a minute"
            process.send_signal(signal.SIGKILL)  # mid-burst: answers are still being written
            await process.wait()
            await asyncio.gather(*tasks)
        later = later_answers(slack)
    thanked: dict[int, str] = {}
    for user in users:
        for text in (answers.get(user), later.get(user)):
            found = THANKS.search(text or "")
            if found:
                thanked[int(found.group(1))] = user
    assert len(thanked) >= 10
    store = await backend.open()
    try:
        reports = await store.reports_between(*_today())
    finally:
        await store.close()
    stored = {r.id: r.origin.user_id for r in reports}
    assert {rid: stored.get(rid) for rid in thanked} == thanked  # every thanked report, under its person


def _today() -> tuple[Any, Any]:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
