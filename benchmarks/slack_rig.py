"""A `supportbot slack --http` process on 127.0.0.1 with a stand-in Slack Web API: the one rig every
Slack benchmark uses.

`SlackRig` starts a tiny Slack API (auth.test, chat.*, conversations.replies, response_url hooks; every
call counted, threaded answers timed), then the bot as a real subprocess pointed at it with
SLACK_API_URL, in a scratch folder with its own catalog cache, and waits for its first answered
`GET /healthz` (`ready_seconds`, spawn to ready). It sends slash commands and message events signed the
way Slack signs them. `command()` waits for the answer a person gets (in the command's HTTP response or
through its response_url); `KeepAlive` times bare HTTP answers over kept-alive connections, as Slack
sees an acknowledgement. Everything binds 127.0.0.1 only. Benchmarks import this file; it never
imports the test suite.

SUPPORTBOT_BENCH_WRAP, when set, is a command put in front of the bot's (for example
`py-spy record -o profile.txt -f raw --`), to profile the bot under any of the benchmarks; the bot is
then stopped with SIGINT, on which such a profiler writes its file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import shlex
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
TEAM = "T1"
BOT_USER = "UBOT"
CHANNEL = "C1"
ROOT = Path(__file__).resolve().parent.parent
INTERIM = "answer follows"  # "working on it": the real answer comes through response_url
READY_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed(body: str, content_type: str = "application/x-www-form-urlencoded",
           secret: str = SECRET) -> dict[str, str]:
    """The headers Slack sends with `body`: its timestamp and the v0 signature over both."""
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Answer:
    """What a person got for one slash command, and how long after pressing it."""

    text: str
    seconds: float
    via: str  # "http" (in the command's own response) or "response_url"


@dataclass
class Timed:
    """One HTTP exchange: status, body, and the time from the request's last byte sent to the answer's last."""

    status: int
    body: bytes
    seconds: float


class FakeSlackApi:
    """Just enough of Slack's Web API for the bot to start and answer: every method is ok.

    Counts every call, remembers when the first answer in each thread arrived (`answered`, thread ts ->
    perf_counter), and hands response_url posts to whoever waits for them (`expect_hook`).
    """

    def __init__(self) -> None:
        self.calls = 0
        self.answered: dict[str, float] = {}
        self._hooks: dict[str, asyncio.Future[tuple[Any, float]]] = {}
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def hook_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{key}"

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/hook/{key}", self._hook)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def expect_hook(self, key: str) -> asyncio.Future[tuple[Any, float]]:
        """A future set to the JSON posted to `hook_url(key)` and when it arrived (perf_counter)."""
        future: asyncio.Future[tuple[Any, float]] = asyncio.get_running_loop().create_future()
        self._hooks[key] = future
        return future

    def forget_hook(self, key: str) -> None:
        self._hooks.pop(key, None)

    async def _api(self, request: web.Request) -> web.Response:
        self.calls += 1
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": TEAM, "user_id": BOT_USER, "bot_id": "BBOT",
                                      "team": "Bench", "user": "supportbot", "url": "https://bench.slack/"})
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            thread = str(args.get("thread_ts") or "")
            if thread and thread not in self.answered:
                self.answered[thread] = time.perf_counter()
            ts = f"1.{next(self._ts)}"
            return web.json_response({"ok": True, "channel": args.get("channel") or CHANNEL, "ts": ts,
                                      "message_ts": ts})
        if method == "conversations.replies":
            return web.json_response({"ok": True, "messages": [], "has_more": False})
        return web.json_response({"ok": True})

    async def _hook(self, request: web.Request) -> web.Response:
        self.calls += 1
        payload = await request.json()
        future = self._hooks.get(request.match_info["key"])
        if future is not None and not future.done():
            future.set_result((payload, time.perf_counter()))
        return web.json_response({"ok": True})


@dataclass
class BotProcess:
    """`supportbot slack --http` in a scratch folder (no stray .env), started and stopped cleanly."""

    env: dict[str, str]
    port: int = 0
    ready_seconds: float = float("nan")  # spawn to the first answered GET /healthz

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.port = self.port or free_port()
        self._folder = tempfile.TemporaryDirectory(prefix="supportbot-bench-")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
        env.pop("DATABASE_URL", None)
        env.update({"SUPPORTBOT_CACHE_DIR": f"{self._folder.name}/cache", "LOG_LEVEL": "WARNING", **self.env})
        command = [sys.executable, "-m", "bot", "slack", "--http", "--port", str(self.port)]
        wrap = os.environ.get("SUPPORTBOT_BENCH_WRAP")
        if wrap:
            command = [*shlex.split(wrap), *command]
        # A wrapping profiler writes its file on Ctrl-C; the bot stops the same way on either signal.
        self._stop_signal = signal.SIGINT if wrap else signal.SIGTERM
        spawned = time.perf_counter()
        self.process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=self._folder.name, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        await self._wait_ready(session)
        self.ready_seconds = time.perf_counter() - spawned

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _wait_ready(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.process.returncode is not None:
                err = await self.process.stderr.read() if self.process.stderr else b""
                raise RuntimeError(f"the bot exited with status {self.process.returncode}: "
                                   f"{err.decode(errors='replace')[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not come up within {READY_TIMEOUT:.0f} s")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(self._stop_signal)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.communicate(), 30)
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._folder.cleanup()


class KeepAlive:
    """Plain HTTP/1.1 over `size` kept-alive connections, each request timed from its last byte sent to
    its answer's last byte read: no connection set-up and next to no client work inside the figure.

    Requests are built in full before they are timed; a connection carries one request at a time.
    """

    def __init__(self, port: int, size: int) -> None:
        self.port, self.size = port, size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self._all: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> KeepAlive:
        for _ in range(self.size):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            self._all.append(writer)
            self._idle.put_nowait((reader, writer))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._all:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def build(self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None) -> bytes:
        data = body.encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Content-Length: {len(data)}",
                 *(f"{name}: {value}" for name, value in (headers or {}).items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data

    async def send(self, request: bytes) -> Timed:
        reader, writer = await self._idle.get()
        try:
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status, body = await _read_response(reader)
            return Timed(status, body, time.perf_counter() - started)
        finally:
            self._idle.put_nowait((reader, writer))


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in head[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while size := int((await reader.readline()).strip() or b"0", 16):
            body += await reader.readexactly(size)
            await reader.readline()
        await reader.readline()
        return status, body
    return status, await reader.readexactly(int(headers.get("content-length", "0")))


@dataclass
class SlackRig:
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def __aenter__(self) -> SlackRig:
        self.api = FakeSlackApi()
        await self.api.start()
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.bot = BotProcess({
            "SUPPORTBOT_DB": self.database_url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.api.base_url,
            "SUPPORTBOT_STAFF": "UBOSS",
            "SUPPORTBOT_REPORTS_PER_HOUR": "10000",
            **self.env,
        }, self.port)
        try:
            await self.bot.start(self.session)
        except BaseException:
            await self.session.close()
            await self.api.stop()
            raise
        self.port = self.bot.port
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.stop()
        await self.session.close()
        await self.api.stop()

    @property
    def url(self) -> str:
        return self.bot.url

    @property
    def ready_seconds(self) -> float:
        return self.bot.ready_seconds

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

    # -- what Slack sends ---------------------------------------------------------------------------------

    def slash_command(self, name: str, text: str, user: str) -> tuple[str, str]:
        """A slash command's form body and the key of its response_url."""
        key = f"k{next(self._ids)}"
        body = urlencode({
            "token": "x", "team_id": TEAM, "team_domain": "bench", "channel_id": CHANNEL,
            "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": f"/{name}",
            "text": text, "response_url": self.api.hook_url(key), "trigger_id": f"t.{key}", "api_app_id": "A1",
        })
        return body, key

    def message_event(self, text: str, user: str) -> tuple[str, str]:
        """An Events API message in the channel, as JSON, and its ts (the thread an answer goes to)."""
        number = next(self._ids)
        ts = f"1710000000.{number:06d}"
        body = json.dumps({
            "token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback", "event_id": f"Ev{number}",
            "event_time": 1710000000, "event": {"type": "message", "user": user, "text": text, "channel": CHANNEL,
                                                "ts": ts, "channel_type": "channel", "team": TEAM}})
        return body, ts

    async def post_event(self, body: str) -> int:
        """POST a signed Events API body; the HTTP status."""
        async with self.session.post(f"{self.url}/slack/events", data=body.encode(),
                                     headers=signed(body, "application/json")) as response:
            await response.read()
            return response.status

    async def command(self, name: str, text: str, user: str, timeout: float = 120.0) -> Answer | None:
        """Press `/name text` as `user`; the answer they got (None: nothing within `timeout`)."""
        body, key = self.slash_command(name, text, user)
        hook = self.api.expect_hook(key)
        started = time.perf_counter()
        try:
            try:
                async with self.session.post(f"{self.url}/slack/events", data=body, headers=signed(body),
                                             timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                    reply = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                return None
            elapsed = time.perf_counter() - started
            if status == 200 and reply.strip() and _has_text(reply) and INTERIM not in reply:
                return Answer(reply, elapsed, "http")
            try:
                payload, arrived = await asyncio.wait_for(hook, max(0.1, timeout - elapsed))
            except TimeoutError:
                return None
            return Answer(json.dumps(payload), arrived - started, "response_url")
        finally:
            self.api.forget_hook(key)


def _has_text(body: str) -> bool:
    """Whether an HTTP response carries a message (not the empty acknowledgement)."""
    with contextlib.suppress(ValueError):
        payload = json.loads(body)
        return isinstance(payload, dict) and bool(payload.get("text") or payload.get("blocks"))
    return False


# -- the floor: a bare aiohttp server, for the same client at the same concurrency ------------------------------


@contextlib.asynccontextmanager
async def bare_server() -> Any:
    """A process serving `GET /` with an empty 200 from aiohttp and nothing else: what any answer costs
    on this machine, through the same client. Yields its port."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "benchmarks.slack_rig", "--bare", str(port),
                                                   cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), READY_TIMEOUT)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        await process.wait()


def _serve_bare(port: int) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", ok)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=lambda _: print("ready", flush=True))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="(internal) the bare aiohttp server of the benchmarks' floor")
    parser.add_argument("--bare", type=int, required=True, metavar="PORT")
    _serve_bare(parser.parse_args().bare)
