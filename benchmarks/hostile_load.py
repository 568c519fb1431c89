"""One person floods the bot with hostile pastes; how fast are everyone else and /healthz still served?

Starts a real `supportbot slack --http` on 127.0.0.1 against a small local Slack Web API fake, then runs
two phases of the same length: a baseline (only the other person's pastes and /healthz probes), and
under load (the same, while a hostile client keeps sending signed pastes of repeated `pwd-`, `token-`,
`a-`, `1.1.` and newlines, up to Discord's 2,000/4,000 and Slack's 40,000-character message limits).

Prints, per phase: the other person's paste answer time (request sent -> threaded answer posted to the
fake) and /healthz response time, median / 95th percentile / max, and the ratio of load to baseline,
beside the targets (answer <= 2 s, /healthz <= 1 s).

Usage: python benchmarks/hostile_load.py [--seconds 20] [--hostile-clients 1] [--rate 5] [--limits 2000 4000 40000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, web

SIGNING_SECRET = "bench-signing-secret-0123456789ab"
TEAM = "T0BENCH"
BOT_USER = "U0BOT"
CHANNEL = "C0HELP"
PASTE = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
UNITS = ("pwd-", "token-", "a-", "1.1.", "\n")
LIMITS = (2_000, 4_000, 40_000)  # Discord (normal / Nitro) and Slack message limits, in characters
ANSWER_TARGET, HEALTH_TARGET = 2.0, 1.0


class SlackFake:
    """Just enough of Slack's Web API: every method answers ok; answers in threads are timed."""

    def __init__(self) -> None:
        self.answered: dict[str, float] = {}  # thread ts -> when the answer arrived
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/api/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": TEAM, "user_id": BOT_USER, "bot_id": "B0BOT",
                                      "team": "Bench", "user": "supportbot", "url": "https://bench.slack/"})
        if method == "chat.postMessage":
            thread = str(args.get("thread_ts") or "")
            if thread and thread not in self.answered:
                self.answered[thread] = time.perf_counter()
            return web.json_response({"ok": True, "channel": args.get("channel"), "ts": f"1.{next(self._ts)}"})
        if method == "conversations.replies":
            return web.json_response({"ok": True, "messages": [], "has_more": False})
        return web.json_response({"ok": True})


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/json"}


_serial = itertools.count(1)


def message(text: str, user: str) -> tuple[str, str]:
    n = next(_serial)
    ts = f"1710000000.{n:06d}"
    body = {"token": "x", "team_id": TEAM, "api_app_id": "A0", "type": "event_callback", "event_id": f"Ev{n}",
            "event_time": 1710000000, "event": {"type": "message", "user": user, "text": text, "channel": CHANNEL,
                                                "ts": ts, "channel_type": "channel", "team": TEAM}}
    return json.dumps(body), ts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(session: ClientSession, url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"supportbot exited early with status {process.returncode}")
        try:
            async with session.get(url + "/healthz") as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("supportbot did not become healthy in 60 s")


async def other_person(session: ClientSession, url: str, fake: SlackFake, stop: asyncio.Event,
                       times: list[float]) -> None:
    """A paste every 0.5 s from a different person each time; the time until its threaded answer."""
    while not stop.is_set():
        body, ts = message(PASTE, f"U0PERSON{next(_serial)}")
        sent = time.perf_counter()
        async with session.post(url + "/slack/events", data=body.encode(), headers=signed(body)) as response:
            await response.read()
        while ts not in fake.answered and time.perf_counter() - sent < 30:
            await asyncio.sleep(0.005)
        times.append(fake.answered.get(ts, time.perf_counter()) - sent)
        await asyncio.sleep(0.5)


async def health_probe(session: ClientSession, url: str, stop: asyncio.Event, times: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(url + "/healthz") as response:
            await response.read()
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.2)


async def hostile(session: ClientSession, url: str, stop: asyncio.Event, sent: list[int],
                  limits: tuple[int, ...], rate: float) -> None:
    """Hostile pastes at `rate` a second (0: as fast as the bot acknowledges them)."""
    started = time.perf_counter()
    for unit, limit in itertools.cycle([(u, n) for n in limits for u in UNITS]):
        if stop.is_set():
            return
        if rate > 0:
            await asyncio.sleep(max(0.0, started + sent[0] / rate - time.perf_counter()))
        text = (unit * (limit // len(unit) + 1))[:limit]
        body, _ = message(text, "U0HOSTILE")
        async with session.post(url + "/slack/events", data=body.encode(), headers=signed(body)) as response:
            await response.read()
        sent[0] += 1


async def phase(session: ClientSession, url: str, fake: SlackFake, seconds: float,
                hostile_clients: int, limits: tuple[int, ...], rate: float) -> tuple[list[float], list[float], int]:
    stop = asyncio.Event()
    answers: list[float] = []
    health: list[float] = []
    sent = [0]
    tasks = [asyncio.create_task(other_person(session, url, fake, stop, answers)),
             asyncio.create_task(health_probe(session, url, stop, health)),
             *(asyncio.create_task(hostile(session, url, stop, sent, limits, rate)) for _ in range(hostile_clients))]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return answers, health, sent[0]


def summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values) or [float("nan")]
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered), p95, ordered[-1]


async def run(seconds: float, hostile_clients: int, limits: tuple[int, ...], rate: float) -> None:
    fake = SlackFake()
    await fake.start()
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))},
               "SLACK_BOT_TOKEN": "xoxb-bench-token", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": fake.base_url, "SUPPORTBOT_DB": f"sqlite:///{Path(scratch) / 'bench.db'}",
               "LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        command = [sys.executable, "-m", "bot", "slack", "--http", "--port", str(port)]
        if os.environ.get("BENCH_SERVER"):  # e.g. a profiling wrapper; gets the port in BENCH_PORT
            command = [sys.executable, os.environ["BENCH_SERVER"]]
            env["BENCH_PORT"] = str(port)
        process = subprocess.Popen(command,
                                   env=env, cwd=scratch, stdout=None if os.environ.get("BENCH_SERVER") else subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        try:
            async with ClientSession(timeout=ClientTimeout(total=60)) as session:
                await wait_healthy(session, url, process)
                base = await phase(session, url, fake, seconds, 0, limits, rate)
                load = await phase(session, url, fake, seconds, hostile_clients, limits, rate)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            await fake.stop()
    print(f"supportbot slack --http on 127.0.0.1:{port}, {seconds:g} s per phase, "
          f"{hostile_clients} hostile client(s) at {rate or 'unlimited'}/s each; units {', '.join(map(repr, UNITS))} at {limits} characters")
    print(f"{'':28}{'median':>9}{'p95':>9}{'max':>9}{'n':>6}")
    for name, (answers, health, sent) in (("baseline", base), ("under hostile load", load)):
        for label, values in (("paste answer (s)", answers), ("/healthz (s)", health)):
            median, p95, worst = summary(values)
            print(f"{name + ' ' + label:<28.28}{median:9.3f}{p95:9.3f}{worst:9.3f}{len(values):6d}")
        if sent:
            print(f"  hostile pastes sent: {sent}")
    answer_ratio = summary(load[0])[0] / max(summary(base[0])[0], 1e-6)
    health_ratio = summary(load[1])[0] / max(summary(base[1])[0], 1e-6)
    print(f"median ratio load/baseline: answer {answer_ratio:.1f}x, /healthz {health_ratio:.1f}x")
    worst_answer, worst_health = summary(load[0])[2], summary(load[1])[2]
    print(f"targets under load: answer max {worst_answer:.2f} s (<= {ANSWER_TARGET:g} s: "
          f"{'met' if worst_answer <= ANSWER_TARGET else 'MISSED'}), /healthz max {worst_health:.2f} s "
          f"(<= {HEALTH_TARGET:g} s: {'met' if worst_health <= HEALTH_TARGET else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--hostile-clients", type=int, default=1)
    parser.add_argument("--rate", type=float, default=5.0,
                        help="hostile pastes a second per client (Slack delivers far fewer; 0: unlimited)")
    parser.add_argument("--limits", type=int, nargs="+", default=list(LIMITS),
                        help="hostile paste sizes in characters (default: 2000 4000 40000)")
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.hostile_clients, tuple(args.limits), args.rate))


if __name__ == "__main__":
    main()
