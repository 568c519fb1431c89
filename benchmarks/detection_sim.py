"""Simulated quota-report streams for spike detection: seeded weeks of random reports.

A diurnal rhythm, a weekly busy hour, bursts and floods, so the detection tests can say what the
detector must do in each situation (in simulated minutes, never wall-clock time) and
`detection_quality.py` can print precision, recall and delay over the very same streams.
Imports only the bot itself.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Sequence

from bot.core.detection import DetectionConfig, Spike, detect
from bot.core.models import Origin, ParsedReadings, QuotaReport, Reading

T0 = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)  # a Monday, midnight UTC
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(weeks=1)
STEP = dt.timedelta(minutes=10)  # how often the service runs the detector
CONFIG = DetectionConfig()

TOOLS = ("Claude Code", "Codex CLI", "Gemini CLI", "GitHub Copilot", "Cursor", None)
TOOL_WEIGHTS = (0.55, 0.2, 0.1, 0.05, 0.05, 0.05)
POOL = tuple(f"U{n:04d}" for n in range(150))  # the team's usual reporters


def reading(
    window: str = "session",
    percent: float | None = None,
    from_percent: float | None = None,
    limit_hit: bool = False,
    idle: bool | None = None,
) -> Reading:
    """A reading with no reset, as most simulated reports have."""
    return Reading(window, percent, from_percent, limit_hit, None, idle)


def report(at: dt.datetime, user: str, tool: str | None, *readings: Reading) -> QuotaReport:
    """One stored report, as the service would build it from a `/quota` message."""
    return QuotaReport(
        origin=Origin("slack", "T1", "C1", user),
        received_at=at,
        raw_text="(simulated)",
        parsed=ParsedReadings(tool, None, None, None, tuple(readings)),
        fingerprint=f"{user}:{at.isoformat()}",
    )



def idle_jump_reading(rng: random.Random) -> Reading:
    """What the Claude Code tracking bug looks like: nothing running, usage leapt, often to 100%."""
    before = round(rng.uniform(20, 70))
    after = min(100, before + round(rng.uniform(25, 50)))
    return reading("session", after, before, limit_hit=after >= 100, idle=True)


def noise_readings(rng: random.Random) -> tuple[Reading, ...]:
    """The everyday mix: bars, limit notices, busy-day jumps, and the odd idle rise or contradiction."""
    pick = rng.random()
    window = rng.choice(("session", "weekly"))
    if pick < 0.55:
        return (reading(window, round(rng.uniform(3, 97))),)
    if pick < 0.80:
        return (reading(rng.choice(("session", "weekly", "unknown")), limit_hit=True),)
    if pick < 0.92:
        before = round(rng.uniform(10, 60))
        return (reading(window, before + round(rng.uniform(20, 40)), before, idle=False),)
    if pick < 0.97:
        before = round(rng.uniform(10, 80))
        return (reading(window, before + round(rng.uniform(2, 15)), before, idle=True),)
    return (reading("unknown", limit_hit=True), reading("session", round(rng.uniform(5, 40))))


def diurnal(at: dt.datetime) -> float:
    """0 at 03:00 UTC, 1 at 15:00 UTC; weekends at 40%."""
    hours = at.hour + at.minute / 60
    level = 0.5 - 0.5 * math.cos(2 * math.pi * (hours - 3) / 24)
    return level * (0.4 if at.weekday() >= 5 else 1.0)


def arrivals(
    rng: random.Random, start: dt.datetime, end: dt.datetime, rate: Callable[[dt.datetime], float], peak: float
) -> list[dt.datetime]:
    """Times of a Poisson process with the given rate per hour (<= peak), by thinning."""
    times: list[dt.datetime] = []
    at = start
    while True:
        at += dt.timedelta(hours=rng.expovariate(peak))
        if at >= end:
            return times
        if rng.random() * peak < rate(at):
            times.append(at)


def noise(
    rng: random.Random,
    start: dt.datetime,
    end: dt.datetime,
    per_hour: float = 2.0,
    growth_per_day: float = 0.0,
    growth_from: dt.datetime | None = None,
) -> list[QuotaReport]:
    """Quiet background: 0 to `per_hour` reports an hour following `diurnal`, from the usual pool.

    With `growth_per_day`, the rate compounds daily from `growth_from` on (a tool slowly catching on).
    """
    grow_start = growth_from or start
    days = (end - grow_start) / DAY

    def rate(at: dt.datetime) -> float:
        grown = max(0.0, (at - grow_start) / DAY)
        return per_hour * diurnal(at) * (1 + growth_per_day) ** grown

    peak = per_hour * (1 + growth_per_day) ** max(0.0, days)
    return [
        report(at, rng.choice(POOL), rng.choices(TOOLS, TOOL_WEIGHTS)[0], *noise_readings(rng))
        for at in arrivals(rng, start, end, rate, peak)
    ]


def burst(
    rng: random.Random,
    start: dt.datetime,
    people: int = 15,
    over: dt.timedelta = 20 * MINUTE,
    tool: str = "Claude Code",
    tag: str = "B",
) -> list[QuotaReport]:
    """`people` distinct people reporting idle jumps at uniform random times within `over`."""
    return [
        report(start + over * rng.random(), f"{tag}{n:03d}", tool, idle_jump_reading(rng))
        for n in range(people)
    ]


def flood(rng: random.Random, start: dt.datetime, count: int = 200, over: dt.timedelta = 10 * MINUTE) -> list[QuotaReport]:
    """One person pasting the same complaint over and over (idle jumps and limit hits)."""
    return [
        report(start + over * rng.random(), "FLOODER", "Claude Code", idle_jump_reading(rng))
        for _ in range(count)
    ]


def busy_hour(rng: random.Random, start: dt.datetime, people: int = 12) -> list[QuotaReport]:
    """The weekly crowd: `people` hit the Claude Code weekly limit within half an hour of `start`."""
    return [
        report(start + 30 * MINUTE * rng.random(), user, "Claude Code", reading("weekly", limit_hit=True))
        for user in rng.sample(POOL, people)
    ]


def weekly_busy_hours(rng: random.Random, weeks: int, people: int = 12) -> list[QuotaReport]:
    """`busy_hour` every Monday at 09:00 UTC for `weeks` weeks from T0."""
    return [r for w in range(weeks) for r in busy_hour(rng, T0 + w * WEEK + 9 * HOUR, people)]


def evaluate(
    reports: Sequence[QuotaReport], start: dt.datetime, end: dt.datetime, config: DetectionConfig = CONFIG
) -> list[tuple[dt.datetime, list[Spike]]]:
    """Run the detector every `STEP` on the grid from T0, as the service would, over [start, end]."""
    first = T0 + math.ceil((start - T0) / STEP) * STEP
    steps: list[tuple[dt.datetime, list[Spike]]] = []
    now = first
    while now <= end:
        steps.append((now, detect(reports, now, config)))
        now += STEP
    return steps


def fired(steps: Sequence[tuple[dt.datetime, list[Spike]]]) -> list[tuple[dt.datetime, Spike]]:
    return [(now, spike) for now, spikes in steps for spike in spikes]


def first_detection(
    steps: Sequence[tuple[dt.datetime, list[Spike]]], tool: str, symptom: str
) -> dt.datetime | None:
    return next((now for now, spike in fired(steps) if (spike.tool, spike.symptom) == (tool, symptom)), None)


def four_quiet_weeks(seed: int) -> list[QuotaReport]:
    return noise(random.Random(seed), T0, T0 + 4 * WEEK)
