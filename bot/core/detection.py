"""Downdetector-style spike detection over quota reports.

A quota bug (Claude Code usage jumping from 64% to 100% with nothing running, say) shows up as many
people reporting the same symptom for the same tool at once. One person is not news, and neither is
a Monday-morning crowd that turns up every week; so, per tool and per kind of symptom (see
`bot.core.tallies.symptoms_of`), the detector counts the DISTINCT people reporting in the recent
window (30 minutes) and compares them with the baseline, the number usually seen in such a window at
that time. A spike needs all of:

1. reporters >= `min_reporters`;
2. reporters >= `factor` * max(baseline, `floor`) (the floor keeps a zero baseline from firing on 2);
3. the excess is sustained over consecutive sub-windows (`DetectionConfig` says how);
4. the count is implausible as noise: P(Poisson(generous baseline) >= reporters) <= `significance`,
   where the generous baseline is the upper `confidence` limit of the estimate.

Rules 1-3 are the Downdetector recipe. Rule 4 is there because the baseline of a small team is
estimated from a handful of reports: "0 seen at this hour in 4 weeks" is not "0 expected", and with
about one report per half hour a factor rule alone fires on ordinary Poisson noise every few days.
It only bites where the baseline is between about 0.3 and 4; a burst of a rare symptom (idle jumps)
or a crowd four times the usual one is far past it.

The baseline (distinct reporters per recent window) is the mean over the same hour of the week (a
`span` slot centred on the recent window) in the previous `lookback_weeks` weeks. With less than a
week of history it is the same hour on the previous days (up to 6), and with less than a day the
trailing hours' average. Two guards raise it, never lower it: the weekly mean times the tool's
recent growth (the last `level_window` against the same days of earlier weeks), so that a tool
slowly catching on (10% more reports a day) moves the baseline along instead of firing; and the
average of the `trailing` hours just before the recent window.

Pure and synchronous. `detect(reports, now)` runs over a list of reports (tests, simulations);
`detect_in(history, recent, now)` runs over a `History`, the questions the detector asks about the
past. The service's periodic job answers them from the store's per-bucket symptom rows: it fetches
the recent sightings, asks `plan_queries` which counts the run will need, has the store count them
with indexed queries, and runs `detect_in` over the answers (`AnsweredHistory`). At a 5-minute
boundary both give the same spikes (tests/storage/test_store_counts.py checks it), and the cost of a
run does not grow with the stored history. The service decides what to do with the spikes (open an
incident; the store keeps one open per tool and symptom).
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from bot.core.models import Incident, IncidentStatus, QuotaReport
from bot.core.tallies import (
    CONTRADICTION,
    CONTRADICTION_HORIZON,
    IDLE_JUMP,
    JUMP,
    LIMIT_HIT,
    PREVIOUS_READING_HORIZON,
    REPORT,
    SYMPTOMS,
    reporter_of,
    symptoms_of,
    tool_label,
)

Person = tuple[str, str]

DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(weeks=1)
#: Pseudo-count added to both sides of the growth ratio, so that a quiet weekend with 9 reports
#: against the usual 4 does not read as "usage doubled".
LEVEL_PRIOR = 20.0


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """When a burst of reports counts as a spike. The defaults suit a team of tens to hundreds.

    Duration rule (`sub_window`, `sustain`): the recent window is cut into sub-windows of
    `sub_window`, counted back from `now`; the spike must show in at least `sustain` consecutive
    ones, each holding its share of the threshold (threshold * sub_window / recent, and at least
    one reporter). Several people pasting within the same minute (one shared screenshot) is then
    not enough, while a real incident, where reports keep arriving, fires within about ten minutes.
    Sub-windows are 5 minutes rather than 10 so that the first alarm comes within about ten minutes
    of an incident's start; the periodic job evaluates at every 5-minute boundary (the simulations
    in the tests and `benchmarks/detection_quality.py` evaluate every 10 minutes).
    `sustain=1` switches the rule off; `significance=1` switches the noise check off.
    """

    recent: dt.timedelta = dt.timedelta(minutes=30)
    min_reporters: int = 5
    factor: float = 3.0
    floor: float = 1.0
    sub_window: dt.timedelta = dt.timedelta(minutes=5)
    sustain: int = 2
    lookback_weeks: int = 4
    span: dt.timedelta = dt.timedelta(hours=1)  # the "same hour" slot in earlier weeks and days
    level_window: dt.timedelta = dt.timedelta(days=2)  # recent growth; zero switches the guard off
    trailing: dt.timedelta = dt.timedelta(hours=3)  # hours before the recent window; zero: off
    significance: float = 0.0001  # chance of the count as noise, per tool, symptom and window
    confidence: float = 0.9  # of the upper limit of the baseline used in the noise check

    def __post_init__(self) -> None:
        if self.recent <= dt.timedelta(0) or self.sub_window <= dt.timedelta(0):
            raise ValueError("recent and sub_window must be positive")
        if self.sub_window > self.recent:
            raise ValueError("sub_window must not be longer than recent")
        if self.span < self.recent:
            raise ValueError("span must be at least as long as recent")
        if self.min_reporters < 1 or self.sustain < 1 or self.lookback_weeks < 1:
            raise ValueError("min_reporters, sustain and lookback_weeks must be at least 1")
        if self.factor <= 0 or self.floor < 0:
            raise ValueError("factor must be positive and floor not negative")
        if not 0 < self.significance <= 1 or not 0 < self.confidence < 1:
            raise ValueError("significance must be in (0, 1] and confidence in (0, 1)")
        if self.sustain > math.ceil(self.recent / self.sub_window):
            raise ValueError("sustain asks for more sub-windows than the recent window holds")

    @property
    def history_needed(self) -> dt.timedelta:
        """How far back from `now` the caller should fetch reports for a full baseline."""
        return self.lookback_weeks * WEEK + self.span + self.recent + PREVIOUS_READING_HORIZON


@dataclass(frozen=True, slots=True)
class Spike:
    """Many people reporting one symptom of one tool at once.

    `reporters` counts distinct people in (window_start, window_end]; `baseline` is how many were
    expected there, and `basis` says what that expectation rests on. `also` names less specific
    symptoms that fired for the same people and were folded into this spike; `contradicting` is how
    many of the reporters also showed a contradiction (a limit hit beside a low reading).
    """

    tool: str
    symptom: str
    reporters: int
    baseline: float
    window_start: dt.datetime
    window_end: dt.datetime
    summary: str
    basis: str = ""
    also: tuple[str, ...] = ()
    contradicting: int = 0


_LABELS = {
    CONTRADICTION: "a limit hit while their usage shows low",
    IDLE_JUMP: "usage rising with nothing running",
    LIMIT_HIT: "hitting a usage limit",
    JUMP: "a sudden jump in usage",
    REPORT: "quota problems",
}


def detect(reports: Sequence[QuotaReport], now: dt.datetime, config: DetectionConfig) -> list[Spike]:
    """The spikes at `now`, most reporters first; reports received after `now` are ignored.

    Reports may come in any order and may span any length of history; the baseline uses what is
    there (see the module docstring). When a specific symptom fires, the generic "report" spike of
    the same tool is dropped, and so is any less specific one most of whose reporters it already
    holds (a 64% -> 100% idle jump is also a limit hit and a jump: staff get one spike, not three).
    """
    stream = _Stream(reports, now)
    return detect_in(stream, stream.sightings(now - config.recent, now), now, config)


def detect_in(
    history: History, recent: Iterable[Sighting], now: dt.datetime, config: DetectionConfig
) -> list[Spike]:
    """`detect` over any `History`: `recent` holds who showed what in (now - recent, now].

    The store answers the history's questions with indexed queries (see `plan_queries`), so the
    cost of a run grows with the recent window and the number of firing candidates, not with the
    reports stored.
    """
    if history.start is None:
        return []
    start = now - config.recent
    people: dict[tuple[str, str], set[Person]] = {}
    seen: dict[tuple[str, str], list[Sighting]] = {}
    for sighting in recent:
        if not start < sighting.at <= now:
            continue
        key = (sighting.tool, sighting.symptom)
        people.setdefault(key, set()).add(sighting.person)
        seen.setdefault(key, []).append(sighting)

    fired: list[tuple[Spike, set[Person]]] = []
    for (tool, symptom), who in people.items():
        if len(who) < config.min_reporters:
            continue
        baseline, generous, basis = _baseline(history, tool, symptom, now, config)
        threshold = max(float(config.min_reporters), config.factor * max(baseline, config.floor))
        if len(who) < threshold or _poisson_tail(len(who), generous) > config.significance:
            continue
        if not _sustained(seen[(tool, symptom)], now, config, threshold):
            continue
        contradicting = len(who & people.get((tool, CONTRADICTION), set()))
        spike = Spike(
            tool=tool,
            symptom=symptom,
            reporters=len(who),
            baseline=round(baseline, 2),
            window_start=start,
            window_end=now,
            summary="",
            basis=basis,
            contradicting=contradicting,
        )
        fired.append((spike, who))
    spikes = [replace(s, summary=_summary(s, config)) for s in _prefer_specific(fired)]
    return sorted(spikes, key=lambda s: (-s.reporters, s.tool, SYMPTOMS.index(s.symptom)))


def plan_queries(
    first_report: dt.datetime | None, recent: Iterable[Sighting], now: dt.datetime, config: DetectionConfig
) -> list[ChunkQuery]:
    """Every `History.chunk_counts` question `detect_in` will ask at `now` with these sightings.

    Which questions are asked depends only on times (never on the answers), so a dry run with a
    history that records them and answers zero finds them all: the caller fetches the answers in
    one go and runs `detect_in` again over `AnsweredHistory`.
    """
    recorder = _RecordingHistory(first_report)
    detect_in(recorder, list(recent), now, config)
    return list(dict.fromkeys(recorder.asked))


def _summary(spike: Spike, config: DetectionConfig) -> str:
    minutes = round(config.recent.total_seconds() / 60)
    text = (
        f"{spike.tool}: {spike.reporters} people reported {_LABELS.get(spike.symptom, spike.symptom)} "
        f"in the last {minutes} min; about {spike.baseline:.1f} expected ({spike.basis})"
    )
    if spike.also:
        text += f"; also {', '.join(spike.also)}"
    return text + "."


def _prefer_specific(fired: Iterable[tuple[Spike, set[Person]]]) -> list[Spike]:
    """Keep the most specific spike per tool; fold the others into it (see `detect`)."""
    by_tool: dict[str, list[tuple[Spike, set[Person]]]] = {}
    for spike, who in fired:
        by_tool.setdefault(spike.tool, []).append((spike, who))
    result: list[Spike] = []
    for items in by_tool.values():
        items.sort(key=lambda item: SYMPTOMS.index(item[0].symptom))
        kept: list[tuple[Spike, set[Person], list[str]]] = []
        for spike, who in items:
            owner = kept[0] if spike.symptom == REPORT and kept else None
            if owner is None:
                owner = next((k for k in kept if 2 * len(who & k[1]) >= len(who)), None)
            if owner is not None:
                owner[2].append(spike.symptom)
            else:
                kept.append((spike, who, []))
        result.extend(replace(spike, also=tuple(also)) for spike, _, also in kept)
    return result


def _sustained(seen: Sequence[Sighting], now: dt.datetime, config: DetectionConfig, threshold: float) -> bool:
    """Whether `config.sustain` consecutive sub-windows each hold their share of the threshold."""
    need = max(1.0, threshold * (config.sub_window / config.recent))
    start = now - config.recent
    run = 0
    end = now
    while end > start:
        begin = max(start, end - config.sub_window)
        people = {s.person for s in seen if begin < s.at <= end}
        run = run + 1 if len(people) >= need else 0
        if run >= config.sustain:
            return True
        end = begin
    return False


@dataclass(frozen=True, slots=True)
class _Estimate:
    """A baseline estimate: `total` distinct reporters over `chunks` recent-sized windows, times
    `scale` (the growth correction), with the words that explain it."""

    total: int
    chunks: int
    scale: float
    basis: str

    @property
    def mean(self) -> float:
        return self.total / self.chunks * self.scale

    def upper(self, confidence: float) -> float:
        """A generous mean: the upper confidence limit, since 0 seen in 8 windows is not 0 expected."""
        return _poisson_upper(self.total, confidence) / self.chunks * self.scale


def _baseline(
    stream: History, tool: str, symptom: str, now: dt.datetime, config: DetectionConfig
) -> tuple[float, float, str]:
    """Expected distinct reporters per recent window, a generous upper value of it for the noise
    check, and a few words on what the expectation rests on."""
    centre = now - config.recent / 2
    history_start = stream.start
    assert history_start is not None  # detect_in returns early on an empty history

    def collect(step: dt.timedelta, count: int, noun: str) -> _Estimate | None:
        total = chunks = used = 0
        for k in range(1, count + 1):
            if centre - k * step < history_start:  # less than half the slot lies inside the history
                continue
            begin = centre - k * step - config.span / 2
            t, c = stream.chunk_counts(begin, begin + config.span, tool, symptom, config.recent)
            total, chunks, used = total + t, chunks + c, used + 1
        if not chunks:
            return None
        return _Estimate(total, chunks, 1.0, f"same hour, {_plural(used, noun)}")

    def trailing(since: dt.datetime) -> _Estimate | None:
        total, chunks = stream.chunk_counts(since, now - config.recent, tool, symptom, config.recent)
        if not chunks:
            return None
        hours = chunks * config.recent / dt.timedelta(hours=1)
        return _Estimate(total, chunks, 1.0, f"average of the previous {hours:.0f} h")

    estimates: list[_Estimate | None] = []
    primary = collect(WEEK, config.lookback_weeks, "previous week")
    if primary is not None:
        estimates.append(primary)
        ratio = _level_ratio(stream, tool, now, config)
        if ratio > 1:
            grown = f"{primary.basis}, x{ratio:.1f} for recent growth"
            estimates.append(_Estimate(primary.total, primary.chunks, ratio, grown))
    else:
        primary = collect(DAY, 6, "previous day")
        estimates.append(primary)
    if primary is None:
        estimates.append(trailing(history_start))
    elif config.trailing and now - config.recent - config.trailing >= history_start:
        estimates.append(trailing(now - config.recent - config.trailing))
    found = [e for e in estimates if e is not None]
    if not found:
        return 0.0, 0.0, "no history yet"
    best = max(found, key=lambda e: e.mean)
    return best.mean, max(e.upper(config.confidence) for e in found), best.basis


def _level_ratio(stream: History, tool: str, now: dt.datetime, config: DetectionConfig) -> float:
    """How much busier the tool has been lately than in the same days of earlier weeks.

    Counted over every symptom of the tool (a burst of one symptom barely moves it) as distinct
    reporters per recent window, summed (a person flooding counts once per window); 1.0 when there
    is nothing to compare with.
    """
    if not config.level_window:
        return 1.0
    end = now - config.recent
    start = end - config.level_window
    history_start = stream.start
    assert history_start is not None
    before = [
        stream.chunk_counts(start - k * WEEK, end - k * WEEK, tool, REPORT, config.recent)[0]
        for k in range(1, config.lookback_weeks + 1)
        if start - k * WEEK >= history_start
    ]
    if not before:
        return 1.0
    usual = sum(before) / len(before)
    lately = stream.chunk_counts(start, end, tool, REPORT, config.recent)[0]
    return (lately + LEVEL_PRIOR) / (usual + LEVEL_PRIOR)


def _poisson_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean): how likely `count` reporters are as ordinary noise."""
    if count <= 0:
        return 1.0
    return 1.0 - _poisson_cdf(count - 1, mean)


def _poisson_cdf(count: int, mean: float) -> float:
    """P(X <= count) for X ~ Poisson(mean)."""
    if mean <= 0:
        return 1.0
    term = math.exp(-mean)
    total = term
    for i in range(1, count + 1):
        term *= mean / i
        total += term
    return min(1.0, total)


def _poisson_upper(count: int, confidence: float) -> float:
    """The upper confidence limit of a Poisson mean after seeing `count` (by bisection)."""
    low, high = 0.0, count + 10.0 * math.sqrt(count + 1) + 10.0
    for _ in range(60):
        mid = (low + high) / 2
        if _poisson_cdf(count, mid) > 1 - confidence:
            low = mid
        else:
            high = mid
    return high


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------------------------------
# What the detector asks of the history

#: Reports are counted in 5-minute buckets: bucket `b` holds the reports received in
#: ((b - 1) * 5 min, b * 5 min] after the Unix epoch. Every window the detector asks about starts
#: and ends on a bucket boundary when `now` does (`floor_to_bucket`), so counts by bucket are exact.
BUCKET = dt.timedelta(minutes=5)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_BUCKET_US = BUCKET // dt.timedelta(microseconds=1)


def bucket_of(moment: dt.datetime) -> int:
    """The bucket a report received at `moment` falls in (see `BUCKET`)."""
    micros = (moment - _EPOCH) // dt.timedelta(microseconds=1)
    return -(-micros // _BUCKET_US)


def bucket_end(bucket: int) -> dt.datetime:
    """The moment bucket `bucket` ends (the latest time it holds)."""
    return _EPOCH + bucket * BUCKET


def floor_to_bucket(moment: dt.datetime) -> dt.datetime:
    """The last bucket boundary at or before `moment`: the `now` a periodic run evaluates."""
    micros = (moment - _EPOCH) // dt.timedelta(microseconds=1)
    return _EPOCH + dt.timedelta(microseconds=micros - micros % _BUCKET_US)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One person showing one symptom of one tool at (or, from the store, by the end of the
    bucket holding) `at`."""

    tool: str
    symptom: str
    person: Person
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class ChunkQuery:
    """Distinct reporters of `symptom` for `tool` per `chunk`, summed over the whole chunks of
    (start, end] counted back from `end`."""

    start: dt.datetime
    end: dt.datetime
    tool: str
    symptom: str
    chunk: dt.timedelta

    @property
    def whole(self) -> int:
        """How many whole chunks fit; a known number, whatever the answer."""
        return int((self.end - self.start) / self.chunk) if self.end > self.start else 0


class History(Protocol):
    """What the detector needs from stored reports besides the recent sightings."""

    @property
    def start(self) -> dt.datetime | None:
        """When the first report was received (None: no reports at all)."""
        ...

    def chunk_counts(
        self, start: dt.datetime, end: dt.datetime, tool: str, symptom: str, chunk: dt.timedelta
    ) -> tuple[int, int]:
        """The `ChunkQuery` answer and the number of whole chunks."""
        ...


class _RecordingHistory:
    """Answers zero and writes down every question (see `plan_queries`)."""

    def __init__(self, start: dt.datetime | None) -> None:
        self.start = start
        self.asked: list[ChunkQuery] = []

    def chunk_counts(
        self, start: dt.datetime, end: dt.datetime, tool: str, symptom: str, chunk: dt.timedelta
    ) -> tuple[int, int]:
        query = ChunkQuery(start, end, tool, symptom, chunk)
        self.asked.append(query)
        return 0, query.whole


class AnsweredHistory:
    """A `History` whose answers were fetched beforehand (by `IncidentStore.chunk_counts`)."""

    def __init__(self, start: dt.datetime | None, answers: Mapping[ChunkQuery, int]) -> None:
        self.start = start
        self._answers = answers

    def chunk_counts(
        self, start: dt.datetime, end: dt.datetime, tool: str, symptom: str, chunk: dt.timedelta
    ) -> tuple[int, int]:
        query = ChunkQuery(start, end, tool, symptom, chunk)
        return self._answers.get(query, 0), query.whole


class _Stream:
    """The reports up to `now`, sorted by time, with symptoms worked out once per report: the
    in-memory `History` for a list of reports (tests, simulations)."""

    def __init__(self, reports: Sequence[QuotaReport], now: dt.datetime) -> None:
        ordered = sorted(reports, key=lambda r: r.received_at)
        times = [r.received_at for r in ordered]
        cut = bisect_right(times, now)
        self.reports = ordered[:cut]
        self.times = times[:cut]
        self._symptoms: dict[int, frozenset[str]] = {}

    @property
    def start(self) -> dt.datetime | None:
        return self.times[0] if self.times else None

    def between(self, start: dt.datetime, end: dt.datetime) -> Sequence[QuotaReport]:
        """Reports received in (start, end]."""
        return self.reports[bisect_right(self.times, start) : bisect_right(self.times, end)]

    def symptoms(self, report: QuotaReport) -> frozenset[str]:
        key = id(report)
        found = self._symptoms.get(key)
        if found is None:
            at = report.received_at
            history = self.between(at - PREVIOUS_READING_HORIZON, at + CONTRADICTION_HORIZON)
            found = self._symptoms[key] = symptoms_of(report, history)
        return found

    def sightings(self, start: dt.datetime, end: dt.datetime) -> list[Sighting]:
        return [
            Sighting(tool_label(r.parsed.tool), symptom, reporter_of(r), r.received_at)
            for r in self.between(start, end)
            for symptom in self.symptoms(r)
        ]

    def chunk_counts(
        self, start: dt.datetime, end: dt.datetime, tool: str, symptom: str, chunk: dt.timedelta
    ) -> tuple[int, int]:
        whole = int((end - start) / chunk) if end > start else 0
        if whole < 1:
            return 0, 0
        first = end - whole * chunk
        seen: set[tuple[int, Person]] = set()
        for r in self.between(first, end):
            if tool_label(r.parsed.tool) == tool and symptom in self.symptoms(r):
                seen.add((int((end - r.received_at) / chunk), reporter_of(r)))
        return len(seen), whole


# ---------------------------------------------------------------------------------------------
# From a spike to an incident

#: (tool family, symptom) -> the catalog entry that explains it. A contradiction that has no entry
#: of its own falls back to the tool's limit-hit entry; anything else unlisted gets no entry.
ENTRY_FOR: dict[tuple[str, str], str] = {
    ("claude", IDLE_JUMP): "claude-code-quota-increases-without-tasks",
    ("claude", CONTRADICTION): "claude-code-session-limit-despite-low-usage",
    ("claude", LIMIT_HIT): "claude-code-weekly-limit-reached",
    ("codex", LIMIT_HIT): "codex-cli-usage-limit-reached",
    ("gemini", LIMIT_HIT): "gemini-cli-daily-quota-exhausted",
    ("copilot", LIMIT_HIT): "copilot-premium-requests-exhausted",
    ("cursor", LIMIT_HIT): "cursor-usage-limit-reached",
}
_FAMILIES = ("claude", "codex", "gemini", "copilot", "cursor")


def entry_for(spike: Spike) -> str | None:
    """The catalog entry a spike concerns, or None when unsure.

    A limit-hit spike where most reporters also saw a contradiction is treated as a contradiction:
    "session limit despite low usage", not "you reached your weekly limit".
    """
    name = spike.tool.casefold()
    family = next((f for f in _FAMILIES if f in name), None)
    if family is None:
        return None
    symptom = spike.symptom
    if symptom == LIMIT_HIT and 2 * spike.contradicting > spike.reporters:
        symptom = CONTRADICTION
    entry = ENTRY_FOR.get((family, symptom))
    if entry is None and symptom == CONTRADICTION:
        entry = ENTRY_FOR.get((family, LIMIT_HIT))
    return entry


def spike_to_incident(spike: Spike, now: dt.datetime) -> Incident:
    """A new OPEN incident for a spike, ready for `IncidentStore.open_incident`."""
    return Incident(
        tool=spike.tool,
        symptom=spike.symptom,
        opened_at=now,
        status=IncidentStatus.OPEN,
        summary=spike.summary,
        reporters=spike.reporters,
        baseline=spike.baseline,
        entry_id=entry_for(spike),
    )


__all__ = [
    "BUCKET",
    "ENTRY_FOR",
    "AnsweredHistory",
    "ChunkQuery",
    "DetectionConfig",
    "History",
    "Sighting",
    "Spike",
    "bucket_end",
    "bucket_of",
    "detect",
    "detect_in",
    "entry_for",
    "floor_to_bucket",
    "plan_queries",
    "spike_to_incident",
]
