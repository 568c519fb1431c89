"""One person floods the bot with hostile pastes; how fast are everyone else and /healthz still served?

Starts a real `supportbot slack --http` on 127.0.0.1 against a local Slack Web API fake (slack_rig.py), then runs
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
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from slack_rig import SlackRig

PASTE = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
UNITS = ("pwd-", "token-", "a-", "1.1.", "\n")
LIMITS = (2_000, 4_000, 40_000)  # Discord (normal / Nitro) and Slack message limits, in characters
ANSWER_TARGET, HEALTH_TARGET = 2.0, 1.0
_people = itertools.count(1)


async def other_person(rig: SlackRig, stop: asyncio.Event, times: list[float]) -> None:
    """A paste every 0.5 s from a different person each time; the time until its threaded answer."""
    while not stop.is_set():
        body, ts = rig.message_event(PASTE, f"U0PERSON{next(_people)}")
        sent = time.perf_counter()
        await rig.post_event(body)
        while ts not in rig.api.answered and time.perf_counter() - sent < 30:
            await asyncio.sleep(0.005)
        times.append(rig.api.answered.get(ts, time.perf_counter()) - sent)
        await asyncio.sleep(0.5)


async def health_probe(rig: SlackRig, stop: asyncio.Event, times: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        async with rig.session.get(rig.url + "/healthz") as response:
            await response.read()
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.2)


async def hostile(rig: SlackRig, stop: asyncio.Event, sent: list[int], limits: tuple[int, ...],
                  rate: float) -> None:
    """Hostile pastes at `rate` a second (0: as fast as the bot acknowledges them)."""
    started = time.perf_counter()
    for unit, limit in itertools.cycle([(u, n) for n in limits for u in UNITS]):
        if stop.is_set():
            return
        if rate > 0:
            await asyncio.sleep(max(0.0, started + sent[0] / rate - time.perf_counter()))
        text = (unit * (limit // len(unit) + 1))[:limit]
        body, _ = rig.message_event(text, "U0HOSTILE")
        await rig.post_event(body)
        sent[0] += 1


async def phase(rig: SlackRig, seconds: float, hostile_clients: int, limits: tuple[int, ...],
                rate: float) -> tuple[list[float], list[float], int]:
    stop = asyncio.Event()
    answers: list[float] = []
    health: list[float] = []
    sent = [0]
    tasks = [asyncio.create_task(other_person(rig, stop, answers)),
             asyncio.create_task(health_probe(rig, stop, health)),
             *(asyncio.create_task(hostile(rig, stop, sent, limits, rate)) for _ in range(hostile_clients))]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return answers, health, sent[0]


def summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values) or [float("nan")]
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered), p95, ordered[-1]


async def run(seconds: float, hostile_clients: int, limits: tuple[int, ...], rate: float) -> None:
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-hostile-") as scratch:
        async with SlackRig(f"sqlite:///{Path(scratch) / 'bench.db'}") as rig:
            port = rig.port
            base = await phase(rig, seconds, 0, limits, rate)
            load = await phase(rig, seconds, hostile_clients, limits, rate)
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
