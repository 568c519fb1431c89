"""Slack HTTP mode under load: `/errfix` acknowledgements at N concurrent signed requests, and start-up.

A real `supportbot slack --http` process (benchmarks/slack_rig.py: a local fake of Slack's Web API, a
throw-away SQLite database, a fresh catalog cache). Start-up to ready is spawn to the first answered
`GET /healthz`. Then rounds of N concurrent, correctly signed `/errfix <error paste>` slash commands over
N kept-alive connections (as Slack keeps its connections), each timed from its last byte sent to its
HTTP answer (the acknowledgement Slack waits for, at most 3 s); the answers themselves arrive through
response_url and are timed too; the next round starts once they are all in. Right after each round's
acknowledgements, N concurrent `GET /healthz` while the answers are being worked on.
Baseline, same client, same concurrency, same run: `GET /` on a bare aiohttp server process.

Usage: python -m benchmarks.slack_ack [--concurrency 50] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from slack_rig import KeepAlive, SlackRig, Timed, bare_server, percentile, signed

PASTES = [
    'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    "■ stream disconnected before completion: Transport error: error decoding response body",
    "✕ [API Error: You have exhausted your daily quota on this model.]",
    "You've hit your usage limit. Upgrade to Pro or try again in 4 days 2 hours 14 minutes.",
]
ACK_TARGET = 0.050  # p99, seconds
ANSWER_WAIT = 60.0


@dataclass
class Figures:
    ready: float = 0.0
    acks: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    bot_cpu: float = float("nan")  # the bot process's CPU seconds over the counted rounds
    failures: int = 0
    unanswered: int = 0
    api_calls: int = 0


async def acknowledgement_rounds(rig: SlackRig, figures: Figures, concurrency: int, rounds: int) -> None:
    number = 0
    async with KeepAlive(rig.port, concurrency) as client:
        health = client.build("GET", "/healthz")
        for round_number in range(rounds + 1):  # the first round warms up what the pastes wake, not counted
            requests, hooks = [], []
            for _ in range(concurrency):
                body, key = rig.slash_command("errfix", PASTES[number % len(PASTES)], f"U{number % 500:03d}")
                number += 1
                requests.append(client.build("POST", "/slack/events", body, signed(body)))
                hooks.append(rig.api.expect_hook(key))
            sent = time.perf_counter()
            acks: list[Timed] = await asyncio.gather(*(client.send(r) for r in requests))
            probes: list[Timed] = await asyncio.gather(*(client.send(health) for _ in range(concurrency)))
            done, pending = await asyncio.wait(hooks, timeout=ANSWER_WAIT)
            for hook in pending:
                hook.cancel()
            if round_number == 0:
                cpu_before = process_cpu(rig.bot.process.pid)
                continue
            figures.acks += [a.seconds for a in acks]
            figures.failures += sum(a.status != 200 for a in acks) + sum(p.status != 200 for p in probes)
            figures.health += [p.seconds for p in probes]
            figures.answers += [hook.result()[1] - sent for hook in done]
            figures.unanswered += len(pending)
    figures.bot_cpu = process_cpu(rig.bot.process.pid) - cpu_before


def process_cpu(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far; NaN where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def floor_rounds(figures: Figures, concurrency: int, rounds: int) -> None:
    async with bare_server() as port, KeepAlive(port, concurrency) as client:
        request = client.build("GET", "/")
        for round_number in range(rounds + 1):
            times = await asyncio.gather(*(client.send(request) for _ in range(concurrency)))
            if round_number:
                figures.floor += [t.seconds for t in times]
            await asyncio.sleep(0.05)


async def measure(concurrency: int, rounds: int) -> Figures:
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-ack-") as folder:
        async with SlackRig(f"sqlite:///{folder}/bench.db") as rig:
            figures.ready = rig.ready_seconds
            await rig.settled()
            await acknowledgement_rounds(rig, figures, concurrency, rounds)
            figures.api_calls = rig.api.calls
    await floor_rounds(figures, concurrency, rounds)
    return figures


def summary(values: list[float]) -> dict[str, float]:
    """p50, p99 and max in milliseconds, and the count."""
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {"p50": 1000 * statistics.median(values), "p99": 1000 * percentile(values, 0.99),
            "max": 1000 * max(values), "n": len(values)}


def report(f: Figures, concurrency: int, rounds: int) -> dict[str, Any]:
    """Every figure of the run, as `--json` prints it (benchmarks/run.py reads this)."""
    return {
        "concurrency": concurrency, "rounds": rounds, "ready_s": f.ready,
        "ack": summary(f.acks), "answer": summary(f.answers), "health": summary(f.health),
        "floor": summary(f.floor), "failures": f.failures, "unanswered": f.unanswered, "api_calls": f.api_calls,
        "cpu_ms_per_request": 1000 * f.bot_cpu / max(1, len(f.acks)),
        "load": list(os.getloadavg()) if hasattr(os, "getloadavg") else [], "cores": os.cpu_count(),
        "target_ms": 1000 * ACK_TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    concurrency, rounds = max(1, args.concurrency), max(1, min(args.rounds, 100))
    r = report(asyncio.run(measure(concurrency, rounds)), concurrency, rounds)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"start-up to ready (spawn to the first answered GET /healthz, empty catalog cache): {r['ready_s']:.2f} s")
    print(f"{'':44}{'p50':>9}{'p99':>9}{'max':>9}{'n':>6}")
    rows = (("/errfix acknowledgement (ms)", "ack"), ("  its answer via response_url (ms)", "answer"),
            ("GET /healthz while answering (ms)", "health"), ("baseline: bare aiohttp GET / (ms)", "floor"))
    for label, key in rows:
        row = r[key]
        print(f"{label:<44}{row['p50']:9.1f}{row['p99']:9.1f}{row['max']:9.1f}{row['n']:6d}")
    print(f"({concurrency} concurrent requests over {concurrency} kept-alive connections, {rounds} rounds; "
          f"failures {r['failures']}, unanswered {r['unanswered']}, fake Slack API calls {r['api_calls']})")
    load = ", ".join(f"{x:.1f}" for x in r["load"])
    print(f"the bot's CPU time per /errfix (acknowledgement, match, answer, one /healthz): "
          f"{r['cpu_ms_per_request']:.2f} ms; load average now {load} on {r['cores']} cores")
    ack, floor = r["ack"], r["floor"]
    print(f"acknowledgement / baseline: p50 {ack['p50'] / floor['p50']:.1f}×, p99 {ack['p99'] / floor['p99']:.1f}×")
    verdict = "met" if ack["p99"] < r["target_ms"] else f"MISSED by {ack['p99'] - r['target_ms']:.1f} ms"
    print(f"target /errfix acknowledgement p99 < {r['target_ms']:.0f} ms at {concurrency} concurrent: "
          f"{ack['p99']:.1f} ms, {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
