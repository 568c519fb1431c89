"""Tallies over stored quota reports, and the symptoms a single report shows.

Support staff ask two questions of the reports people send with `/quota`: "what is going on lately?"
(`tally`, shown by `/incidents` and `supportbot tally`) and "is something breaking right now?" (the
spike detector in `bot.core.detection`, which counts reports by the symptoms defined here). Both are
plain functions over `QuotaReport` values, so they run the same against SQLite, Postgres or a list
built in a test.

Everything here is pure and synchronous; the standard library only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from bot.core.models import QuotaReport, Reading

# ---------------------------------------------------------------------------------------------
# Symptoms

REPORT = "report"
LIMIT_HIT = "limit_hit"
IDLE_JUMP = "idle_jump"
CONTRADICTION = "contradiction"
JUMP = "jump"

#: Every kind of symptom, most specific first (the detector keeps the most specific spike).
SYMPTOMS: tuple[str, ...] = (CONTRADICTION, IDLE_JUMP, LIMIT_HIT, JUMP, REPORT)

#: A change of this many points or more between `from_percent` and `percent` is a "jump".
JUMP_POINTS = 20.0
#: A limit hit while that window (or the session window) shows less than this is a contradiction.
LOW_PERCENT = 50.0
#: How far back a person's previous reading of a window still counts as "previous" for an idle rise.
#: Longer than that, a rise is explained by ordinary use between the two readings.
PREVIOUS_READING_HORIZON = dt.timedelta(hours=24)
#: How close in time (either side) another reading must be to contradict a limit hit. Usage can
#: climb from 40% to the limit within a busy hour, so only near-simultaneous readings count.
CONTRADICTION_HORIZON = dt.timedelta(minutes=30)

UNKNOWN = "unknown"
UNKNOWN_TOOL = "unknown tool"


def reporter_of(report: QuotaReport) -> tuple[str, str]:
    """The identity used for "distinct reporters": platform plus user id, as the store dedupes by."""
    return (report.origin.platform, report.origin.user_id)


def tool_label(tool: str | None) -> str:
    """A tool name for display and grouping; reports whose tool was not recognised group together."""
    return tool if tool else UNKNOWN_TOOL


def symptoms_of(report: QuotaReport, history: Sequence[QuotaReport] = ()) -> frozenset[str]:
    """The kinds of symptom one report shows; "report" is always among them.

    `history` may hold anybody's reports, in any order, even the report itself: only the same
    person's other reports are used. An idle rise compares with that person's *previous* reading of
    the window (up to `PREVIOUS_READING_HORIZON` before); a contradiction looks at their readings
    within `CONTRADICTION_HORIZON` on either side, because people usually paste the limit notice and
    the `/usage` screen that contradicts it minutes apart, in either order.
    """
    found = {REPORT}
    readings = report.parsed.readings
    person = reporter_of(report)
    at = report.received_at
    previous: list[tuple[dt.datetime, Reading]] = []  # same person, earlier, newest first after sort
    nearby: list[Reading] = []  # same person, within the contradiction horizon
    for other in history:
        if other is report or (report.id is not None and other.id == report.id):
            continue
        if reporter_of(other) != person:
            continue
        gap = at - other.received_at
        if dt.timedelta(0) < gap <= PREVIOUS_READING_HORIZON:
            previous.extend((other.received_at, r) for r in other.parsed.readings)
        if abs(gap) <= CONTRADICTION_HORIZON:
            nearby.extend(other.parsed.readings)
    previous.sort(key=lambda pair: pair[0], reverse=True)

    for reading in readings:
        if reading.limit_hit:
            found.add(LIMIT_HIT)
            if _contradicted(reading, readings, nearby):
                found.add(CONTRADICTION)
        if (
            reading.from_percent is not None
            and reading.percent is not None
            and abs(reading.percent - reading.from_percent) >= JUMP_POINTS
        ):
            found.add(JUMP)
        if reading.idle is True and _rose(reading, previous):
            found.add(IDLE_JUMP)
    return frozenset(found)


def _rose(reading: Reading, previous: Sequence[tuple[dt.datetime, Reading]]) -> bool:
    """Whether usage went up: within the reading itself, or since the person's last reading of it."""
    if reading.percent is None:
        return False
    if reading.from_percent is not None:
        return reading.from_percent < reading.percent
    for _, earlier in previous:
        if earlier.window == reading.window and earlier.percent is not None:
            return earlier.percent < reading.percent
    return False


def _contradicted(hit: Reading, same_report: Sequence[Reading], nearby: Sequence[Reading]) -> bool:
    """Whether a limit hit sits next to a low reading of the same window or of the session window."""
    if hit.percent is not None and hit.percent < LOW_PERCENT:
        return True  # "limit reached" printed next to a 23% bar in one reading
    for other in (*same_report, *nearby):
        if other is hit or other.limit_hit or other.percent is None:
            continue
        if other.window in (hit.window, "session") and other.percent < LOW_PERCENT:
            return True
    return False


def symptoms_by_report(reports: Sequence[QuotaReport]) -> dict[int, frozenset[str]]:
    """Symptoms of every report in a stream, keyed by `id()` of the report object.

    Each report is judged against the same person's other reports in the stream; grouping by person
    first keeps this linear in the stream rather than quadratic.
    """
    by_person: dict[tuple[str, str], list[QuotaReport]] = {}
    for report in reports:
        by_person.setdefault(reporter_of(report), []).append(report)
    result: dict[int, frozenset[str]] = {}
    for own in by_person.values():
        own.sort(key=lambda r: r.received_at)
        for i, report in enumerate(own):
            result[id(report)] = symptoms_of(report, _neighbours(own, i))
    return result


def _neighbours(own: Sequence[QuotaReport], i: int) -> Sequence[QuotaReport]:
    """The slice of one person's time-sorted reports that can matter to report `i`."""
    at = own[i].received_at
    lo = i
    while lo > 0 and at - own[lo - 1].received_at <= PREVIOUS_READING_HORIZON:
        lo -= 1
    hi = i + 1
    while hi < len(own) and own[hi].received_at - at <= CONTRADICTION_HORIZON:
        hi += 1
    return own[lo:hi]


# ---------------------------------------------------------------------------------------------
# Tallies

BUCKETS: tuple[str, ...] = (*(f"{n}-{n + 9}" for n in range(0, 100, 10)), "100")


@dataclass(frozen=True, slots=True)
class Count:
    """How many reports, and from how many distinct people (one person repeating counts once)."""

    reports: int = 0
    reporters: int = 0

    def as_json(self) -> dict[str, int]:
        return {"reports": self.reports, "reporters": self.reporters}

    def __str__(self) -> str:
        return f"{self.reports} ({self.reporters} {'person' if self.reporters == 1 else 'people'})"


@dataclass(frozen=True, slots=True)
class Tally:
    """What people reported between `since` (inclusive) and `until` (exclusive).

    Breakdowns map a value ("Claude Code", "Max 5x", "session", ...) to a `Count`, largest first; a
    value the parser could not tell is "unknown". A report with readings of two windows counts once
    under each. `percent_buckets` counts readings (not reports) whose percent used is known, per
    window, in the buckets named by `BUCKETS` (0-9, 10-19, ..., 90-99, 100).
    """

    since: dt.datetime
    until: dt.datetime
    reports: int
    reporters: int
    limits_hit: Count
    idle_jumps: Count
    contradictions: Count
    jumps: Count
    by_tool: Mapping[str, Count]
    by_plan: Mapping[str, Count]
    by_window: Mapping[str, Count]
    by_model_mode: Mapping[str, Count]
    by_version: Mapping[str, Count]
    percent_buckets: Mapping[str, tuple[int, ...]]

    def as_json(self) -> dict[str, object]:
        """A plain dict for `--json` output and the store: datetimes as ISO 8601 strings."""

        def breakdown(values: Mapping[str, Count]) -> dict[str, dict[str, int]]:
            return {key: count.as_json() for key, count in values.items()}

        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "reports": self.reports,
            "reporters": self.reporters,
            "limits_hit": self.limits_hit.as_json(),
            "idle_jumps": self.idle_jumps.as_json(),
            "contradictions": self.contradictions.as_json(),
            "jumps": self.jumps.as_json(),
            "by_tool": breakdown(self.by_tool),
            "by_plan": breakdown(self.by_plan),
            "by_window": breakdown(self.by_window),
            "by_model_mode": breakdown(self.by_model_mode),
            "by_version": breakdown(self.by_version),
            "percent_buckets": {
                window: dict(zip(BUCKETS, counts, strict=True))
                for window, counts in self.percent_buckets.items()
            },
        }

    def lines(self) -> list[str]:
        """A short text for chat: at most a dozen lines, the biggest groups first."""
        span = f"{_short(self.since)} to {_short(self.until)}"
        if not self.reports:
            return [f"No quota reports from {span}."]
        out = [
            f"Quota reports from {span}: {self.reports} from {self.reporters} "
            f"{'person' if self.reporters == 1 else 'people'}",
            f"Limit hit: {self.limits_hit} · idle jumps: {self.idle_jumps} · "
            f"contradictions: {self.contradictions}",
        ]
        for label, values in (
            ("Tools", self.by_tool),
            ("Plans", self.by_plan),
            ("Windows", self.by_window),
            ("Model mode", self.by_model_mode),
            ("Versions", self.by_version),
        ):
            known = {k: v for k, v in values.items() if k != UNKNOWN and k != UNKNOWN_TOOL}
            if known:
                out.append(f"{label}: {_top(values)}")
        for window, counts in list(self.percent_buckets.items())[: 12 - len(out)]:
            out.append(f"% used, {window}: {_spread(counts)}")
        return out[:12]


def _short(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _top(values: Mapping[str, Count], limit: int = 4) -> str:
    shown = [f"{key} {count.reports}" for key, count in list(values.items())[:limit]]
    if len(values) > limit:
        shown.append(f"+{len(values) - limit} more")
    return ", ".join(shown)


def _spread(counts: Sequence[int]) -> str:
    """Only the non-empty buckets, so a line stays short: "0-9: 3, 60-69: 1, 100: 7"."""
    return ", ".join(f"{label}: {n}" for label, n in zip(BUCKETS, counts, strict=True) if n)


def bucket_of(percent: float) -> int:
    """Index into `BUCKETS`; out-of-range values are clamped (a parser may report 104%)."""
    if percent >= 100:
        return 10
    return max(0, int(percent // 10))


def tally(reports: Sequence[QuotaReport], since: dt.datetime, until: dt.datetime) -> Tally:
    """Count the reports received in [since, until) from a list (the store counts in SQL instead,
    with `tally_from_counts`; both give the same `Tally`).

    Reports before `since` are still used as history when judging symptoms (an idle rise compares
    with the person's previous reading), so callers may pass a little more than the window.
    """
    symptoms = symptoms_by_report(reports)
    inside = [r for r in reports if since <= r.received_at < until]

    def count(matching: Iterable[QuotaReport]) -> Count:
        chosen = list(matching)
        return Count(len(chosen), len({reporter_of(r) for r in chosen}))

    def breakdown(keys: Callable[[QuotaReport], Iterable[str | None]]) -> dict[str, Count]:
        groups: dict[str, list[QuotaReport]] = {}
        for report in inside:
            for key in dict.fromkeys(k or UNKNOWN for k in keys(report)):
                groups.setdefault(key, []).append(report)
        return {key: count(group) for key, group in groups.items()}

    percents: dict[tuple[str, float], int] = {}
    for report in inside:
        for reading in report.parsed.readings:
            if reading.percent is not None:
                key = (reading.window, reading.percent)
                percents[key] = percents.get(key, 0) + 1

    return tally_from_counts(
        since,
        until,
        reports=len(inside),
        reporters=len({reporter_of(r) for r in inside}),
        symptoms={name: count(r for r in inside if name in symptoms[id(r)]) for name in SYMPTOMS},
        by_tool=breakdown(lambda r: [tool_label(r.parsed.tool)]),
        by_plan=breakdown(lambda r: [r.parsed.plan]),
        by_window=breakdown(lambda r: [reading.window for reading in r.parsed.readings]),
        by_model_mode=breakdown(lambda r: [r.parsed.model_mode]),
        by_version=breakdown(lambda r: [r.parsed.version]),
        percents=[(window, percent, n) for (window, percent), n in percents.items()],
    )


def tally_from_counts(
    since: dt.datetime,
    until: dt.datetime,
    *,
    reports: int,
    reporters: int,
    symptoms: Mapping[str, Count],
    by_tool: Mapping[str, Count],
    by_plan: Mapping[str, Count],
    by_window: Mapping[str, Count],
    by_model_mode: Mapping[str, Count],
    by_version: Mapping[str, Count],
    percents: Iterable[tuple[str, float, int]],
) -> Tally:
    """A `Tally` from counts made elsewhere (SQL): `symptoms` maps a symptom to its `Count`,
    breakdowns map a value to its `Count` in any order, and `percents` gives (window, percent used,
    how many readings) in any grouping; this orders and buckets them."""

    def ordered(values: Mapping[str, Count]) -> Mapping[str, Count]:
        return MappingProxyType(dict(sorted(values.items(), key=lambda kv: (-kv[1].reports, -kv[1].reporters, kv[0]))))

    buckets: dict[str, list[int]] = {}
    for window, percent, n in percents:
        buckets.setdefault(window, [0] * len(BUCKETS))[bucket_of(percent)] += n
    by_size = sorted(buckets.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    return Tally(
        since=since,
        until=until,
        reports=reports,
        reporters=reporters,
        limits_hit=symptoms.get(LIMIT_HIT, Count()),
        idle_jumps=symptoms.get(IDLE_JUMP, Count()),
        contradictions=symptoms.get(CONTRADICTION, Count()),
        jumps=symptoms.get(JUMP, Count()),
        by_tool=ordered(by_tool),
        by_plan=ordered(by_plan),
        by_window=ordered(by_window),
        by_model_mode=ordered(by_model_mode),
        by_version=ordered(by_version),
        percent_buckets=MappingProxyType({window: tuple(counts) for window, counts in by_size}),
    )


# ---------------------------------------------------------------------------------------------
# Windows for `tally --since` and `/incidents`

_RELATIVE = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
WINDOW_FORMS = (
    "a number with m, h, d or w (30m, 1h, 24h, 7d, 90d, 2w) or an ISO date or datetime "
    "(2024-05-01, 2024-05-01T09:30, 2024-05-01T09:30+02:00)"
)


def parse_window(spec: str, now: dt.datetime) -> dt.datetime:
    """The `since` moment a window spec names: "24h" is 24 hours before `now`, a date is its midnight.

    A date or datetime without a zone takes the zone of `now` (UTC for the bot). Raises ValueError,
    with a message listing the forms that work, for anything else, for a zero length, and for a
    moment after `now` (a tally of the future is always empty, which would hide the typo).
    """
    text = spec.strip()
    relative = _RELATIVE.match(text)
    if relative:
        amount = int(relative.group(1))
        if amount == 0:
            raise ValueError(f"window {spec!r} is empty; use {WINDOW_FORMS}")
        try:
            return now - dt.timedelta(**{_UNITS[relative.group(2).lower()]: amount})
        except OverflowError:
            raise ValueError(f"window {spec!r} is too long; use {WINDOW_FORMS}") from None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unknown window {spec!r}; use {WINDOW_FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=now.tzinfo)
    if moment > now:
        raise ValueError(f"window {spec!r} starts after now; use {WINDOW_FORMS}")
    return moment
