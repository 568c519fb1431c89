"""A `supportbot slack --http` process on 127.0.0.1 with a stand-in Slack Web API, for the benchmarks.

`SlackRig` starts a tiny Slack API (auth.test, chat.*, response_url hooks: every call recorded), then
the bot as a real subprocess pointed at it, and sends signed slash commands the way Slack does. An
answer counts when it arrives, in the slash command's HTTP response or through its response_url.
Everything binds 127.0.0.1 only. Benchmarks import this file; it never imports the test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
ROOT = Path(__file__).resolve().parent.parent
INTERIM = "answer follows"  # "working on it": the real answer comes through response_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Answer:
    """What a person got for one slash command, and how long after pressing it."""

    text: str
    seconds: float
    via: str  # "http" (in the command's own response) or "response_url"


@dataclass
class SlackRig:
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    _hooks: dict[str, asyncio.Future[Answer]] = field(default_factory=dict)
    _sent: dict[str, float] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def __aenter__(self) -> SlackRig:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/hook/{key}", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.api_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.port = self.port or free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
        env.pop("DATABASE_URL", None)
        env.update({
            "SUPPORTBOT_DB": self.database_url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"http://127.0.0.1:{self.api_port}/api/",
            "SUPPORTBOT_STAFF": "UBOSS",
            "SUPPORTBOT_REPORTS_PER_HOUR": "10000",
            "LOG_LEVEL": "WARNING",
            **self.env,
        })
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "slack", "--http", "--port", str(self.port), env=env, cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        await self._wait_ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.communicate(), 30)
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self.session.close()
        await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.returncode is not None:
                err = await self.process.stderr.read() if self.process.stderr else b""
                raise RuntimeError(f"the bot exited: {err.decode(errors='replace')[-2000:]}")
            try:
                async with self.session.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not come up")
            await asyncio.sleep(0.2)

    async def metric(self, name: str) -> float:
        """One value from the bot's GET /metrics (0 when absent)."""
        async with self.session.get(f"{self.url}/metrics") as response:
            text = await response.text()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0

    async def settled(self, timeout: float = 120.0) -> None:
        """Wait until the bot's first spike-detection run (at start) has finished."""
        deadline = time.monotonic() + timeout
        while await self.metric("supportbot_detection_duration_seconds_count") < 1:
            if time.monotonic() > deadline:
                raise TimeoutError("no detection run finished")
            await asyncio.sleep(0.2)

    # -- the stand-in Slack API -------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"})
        body = await request.read()
        self.posts.append({"method": method, "body": body.decode(errors="replace")})
        return web.json_response({"ok": True, "ts": f"{time.time():.6f}", "channel": "C1"})

    async def _hook(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        payload = await request.json()
        future = self._hooks.get(key)
        if future is not None and not future.done():
            future.set_result(Answer(json.dumps(payload), time.perf_counter() - self._sent[key], "response_url"))
        return web.json_response({"ok": True})

    # -- slash commands -----------------------------------------------------------------------------
    async def command(self, name: str, text: str, user: str, timeout: float = 120.0) -> Answer | None:
        """Press `/name text` as `user`; the answer they got (None: nothing within `timeout`)."""
        key = f"k{next(self._ids)}"
        fields = {
            "token": "x", "team_id": "T1", "team_domain": "bench", "channel_id": "C1", "channel_name": "general",
            "user_id": user, "user_name": user.lower(), "command": f"/{name}", "text": text,
            "response_url": f"http://127.0.0.1:{self.api_port}/hook/{key}", "trigger_id": f"t.{key}",
            "api_app_id": "A1",
        }
        body = urlencode(fields)
        stamp = str(int(time.time()))
        signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": signature}
        hook: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._hooks[key] = hook
        started = self._sent[key] = time.perf_counter()
        try:
            try:
                async with self.session.post(f"{self.url}/slack/events", data=body, headers=headers,
                                             timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                    reply = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                return None
            elapsed = time.perf_counter() - started
            if status == 200 and reply.strip() and _has_text(reply) and INTERIM not in reply:
                return Answer(reply, elapsed, "http")
            try:
                return await asyncio.wait_for(hook, max(0.1, timeout - elapsed))
            except TimeoutError:
                return None
        finally:
            self._hooks.pop(key, None)
            self._sent.pop(key, None)


def _has_text(body: str) -> bool:
    """Whether an HTTP response carries a message (not the empty acknowledgement)."""
    with contextlib.suppress(ValueError):
        payload = json.loads(body)
        return isinstance(payload, dict) and bool(payload.get("text") or payload.get("blocks"))
    return False
