"""Slack HTTP mode under load: `/errfix` acknowledgements at N concurrent signed requests, and start-up.

Starts a small fake of Slack's Web API on 127.0.0.1 (it answers every method with ok, like Slack, and
accepts response_url posts), then a real `supportbot slack --http` process pointed at it with
SLACK_API_URL, a throw-away SQLite database and a fresh catalog cache. Measures the time from spawning
the process to its first answered `GET /healthz` (start-up to ready), then sends rounds of N
concurrent, correctly signed `/errfix <error paste>` slash commands and times each HTTP answer (the
acknowledgement Slack waits for, at most 3 s). Baseline, same process and concurrency: `GET /healthz`.
Everything stays on 127.0.0.1 and stops after a bounded number of requests.

Usage: python -m benchmarks.slack_ack [--concurrency 50] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
PASTES = [
    'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    "■ stream disconnected before completion: Transport error: error decoding response body",
    "✕ [API Error: You have exhausted your daily quota on this model.]",
    "You've hit your usage limit. Upgrade to Pro or try again in 4 days 2 hours 14 minutes.",
]
BOT_USER = "UBOT"


class FakeSlack:
    """Just enough of Slack's Web API for a bot to start and answer: every method is ok."""

    def __init__(self) -> None:
        self.calls = 0
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.api)
        app.router.add_post("/hooks/{hook}", self.hook)
        self.runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def api(self, request: web.Request) -> web.Response:
        self.calls += 1
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": "T1", "user_id": BOT_USER, "bot_id": "B1",
                                      "team": "Bench", "user": "supportbot"})
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            return web.json_response({"ok": True, "channel": "C1", "ts": f"{time.time():.6f}",
                                      "message_ts": f"{time.time():.6f}"})
        if method == "conversations.replies":
            return web.json_response({"ok": True, "messages": [], "has_more": False})
        return web.json_response({"ok": True})

    async def hook(self, request: web.Request) -> web.Response:
        await request.read()
        self.calls += 1
        return web.Response(text="ok")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signed(secret: str, body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def slash_body(number: int, hook_base: str) -> str:
    return urllib.parse.urlencode({
        "token": "legacy", "team_id": "T1", "team_domain": "bench", "channel_id": "C1", "channel_name": "help",
        "user_id": f"U{number % 50}", "user_name": "someone", "command": "/errfix",
        "text": PASTES[number % len(PASTES)], "response_url": f"{hook_base}/r{number}",
        "trigger_id": f"t{number}", "api_app_id": "A1",
    })


async def timed_round(session: aiohttp.ClientSession, requests: list[tuple[str, str, dict[str, str], str]]
                      ) -> tuple[list[float], int]:
    async def one(method: str, url: str, headers: dict[str, str], body: str) -> tuple[float, int]:
        started = time.perf_counter()
        async with session.request(method, url, data=body or None, headers=headers) as response:
            await response.read()
            return time.perf_counter() - started, response.status

    results = await asyncio.gather(*(one(*r) for r in requests))
    return [t for t, _ in results], sum(1 for _, status in results if status != 200)


async def measure(concurrency: int, rounds: int) -> dict[str, object]:
    fake = FakeSlack()
    await fake.start()
    secret = secrets.token_hex(16)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-slack-") as folder:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("SLACK_", "SUPPORTBOT_", "DISCORD_"))}
        env.update({
            "SLACK_BOT_TOKEN": "xoxb-bench-token", "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": f"http://127.0.0.1:{fake.port}/api/", "PORT": str(port),
            "SUPPORTBOT_DB": f"sqlite:///{folder}/bench.db", "SUPPORTBOT_CACHE_DIR": f"{folder}/cache",
            "LOG_LEVEL": "WARNING",
        })
        spawned = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "bot", "slack", "--http", "--port", str(port)],
                                   cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
                ready = await wait_ready(session, base, process, spawned)
                hooks = f"http://127.0.0.1:{fake.port}/hooks"
                # warm-up: the first requests compile what the pastes wake
                await timed_round(session, [("POST", f"{base}/slack/events", signed(secret, b), b)
                                            for b in (slash_body(i, hooks) for i in range(len(PASTES)))])
                acks: list[float] = []
                health: list[float] = []
                failures = 0
                number = 0
                for _ in range(rounds):
                    batch = []
                    for _ in range(concurrency):
                        body = slash_body(number, hooks)
                        number += 1
                        batch.append(("POST", f"{base}/slack/events", signed(secret, body), body))
                    times, failed = await timed_round(session, batch)
                    acks += times
                    failures += failed
                    times, failed = await timed_round(session, [("GET", f"{base}/healthz", {}, "")] * concurrency)
                    health += times
                    await asyncio.sleep(0.5)  # let the answers go out before the next round
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            await fake.stop()
    return {"ready_s": ready, "acks": acks, "health": health, "failures": failures, "fake_calls": fake.calls}


async def wait_ready(session: aiohttp.ClientSession, base: str, process: subprocess.Popen[bytes],
                     spawned: float) -> float:
    deadline = spawned + 120
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace")[-1500:] if process.stderr else ""
            raise RuntimeError(f"supportbot exited with status {process.returncode}:\n{error}")
        try:
            async with session.get(f"{base}/healthz") as response:
                await response.read()
                return time.perf_counter() - spawned
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    raise RuntimeError("supportbot did not get ready within 120 s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    result = asyncio.run(measure(max(1, args.concurrency), max(1, min(args.rounds, 50))))
    acks, health = result["acks"], result["health"]
    assert isinstance(acks, list) and isinstance(health, list)
    p50, p99 = statistics.median(acks), percentile(acks, 0.99)
    h50, h99 = statistics.median(health), percentile(health, 0.99)
    print(f"start-up to ready (spawn to first /healthz answer): {result['ready_s']:.2f} s")
    print(f"/errfix acknowledgements: {len(acks)} at {args.concurrency} concurrent, "
          f"p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms, failures {result['failures']}")
    print(f"baseline GET /healthz, same concurrency: p50 {1000 * h50:.1f} ms, p99 {1000 * h99:.1f} ms")
    print(f"ack / baseline: p50 {p50 / h50:.2f}×, p99 {p99 / h99:.2f}×")
    print(f"target p99 < 50 ms: {'met' if p99 < 0.05 else 'MISSED by %.1f ms' % (1000 * p99 - 50)}")
    print(f"(the fake Slack API answered {result['fake_calls']} calls)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
