"""What a chart shows, as plain data: the core decides the numbers, a front end draws them.

`ChartData` is bucketed series plus shaded spans and an optional baseline. `bot.chart` draws it as a
PNG with matplotlib (off the event loop), or as a text sparkline when matplotlib is not installed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.detection import Person, Sighting
from bot.core.models import Incident, IncidentStatus, QuotaReport
from bot.core.tallies import symptoms_of, tool_label

# Drawn in this order, the most specific kinds last so they stay visible where counts coincide.
KINDS = ("report", "jump", "limit_hit", "contradiction", "idle_jump")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float, ...]  # one per bucket


@dataclass(frozen=True, slots=True)
class Span:
    start: dt.datetime
    end: dt.datetime
    label: str


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str
    starts: tuple[dt.datetime, ...]  # bucket starts, UTC
    bucket: dt.timedelta
    series: tuple[Series, ...]
    spans: tuple[Span, ...] = ()
    baseline: float | None = None  # expected value per bucket, drawn as a line
    y_label: str = "reports"
    filename: str = "chart.png"

    @property
    def empty(self) -> bool:
        return not any(any(s.values) for s in self.series)


def bucket_size(span: dt.timedelta) -> dt.timedelta:
    if span <= dt.timedelta(days=2):
        return dt.timedelta(hours=1)
    if span <= dt.timedelta(days=14):
        return dt.timedelta(hours=6)
    return dt.timedelta(days=1)


def _label(size: dt.timedelta) -> str:
    hours = int(size.total_seconds() // 3600)
    return "hour" if hours == 1 else f"{hours} hours" if hours < 24 else "day"


def sightings_of(reports: Iterable[QuotaReport]) -> list[Sighting]:
    """Reports as the store counts them for charts and detection: one sighting per symptom shown."""
    return [
        Sighting(tool_label(report.parsed.tool), symptom, (report.origin.platform, report.origin.user_id),
                 report.received_at)
        for report in reports
        for symptom in symptoms_of(report)
    ]


def reports_chart(sightings: Sequence[Sighting], incidents: Sequence[Incident], since: dt.datetime,
                  until: dt.datetime) -> ChartData:
    """People reporting each kind of symptom over time, incidents as shaded spans, from sightings
    (one per person, symptom and 5-minute bucket); `counted_reports_chart` draws the same from
    counts the store made."""
    size = bucket_size(until - since)
    buckets = int((until - since) / size) + 1
    people: dict[tuple[str, int], set[Person]] = {}
    for sighting in sightings:
        if sighting.symptom not in KINDS or not since <= sighting.at <= until:
            continue
        index = min(buckets - 1, int((sighting.at - since) / size))
        people.setdefault((sighting.symptom, index), set()).add(sighting.person)
    counts = {key: len(persons) for key, persons in people.items()}
    return counted_reports_chart(counts, incidents, since, until)


def counted_reports_chart(people: Mapping[tuple[str, int], int], incidents: Sequence[Incident],
                          since: dt.datetime, until: dt.datetime) -> ChartData:
    """The reports chart from distinct people per (symptom, period index), periods of
    `bucket_size(until - since)` from `since` (what `IncidentStore.people_per_period` counts), so a
    chart costs a few hundred numbers, never a scan of every stored report."""
    size = bucket_size(until - since)
    buckets = int((until - since) / size) + 1
    series = tuple(Series(kind, tuple(float(people.get((kind, i), 0)) for i in range(buckets)))
                   for kind in KINDS if any(people.get((kind, i), 0) for i in range(buckets)))
    spans = []
    for incident in incidents:
        end = incident.updated_at if incident.status is IncidentStatus.RESOLVED and incident.updated_at else until
        if end < since or incident.opened_at > until:
            continue
        spans.append(Span(max(incident.opened_at, since), min(end, until), f"#{incident.id} {incident.tool}"))
    return ChartData(
        title=f"People reporting per {_label(size)}, {since:%Y-%m-%d} to {until:%Y-%m-%d} (UTC); incidents shaded",
        starts=tuple(since + i * size for i in range(buckets)),
        bucket=size,
        series=series,
        spans=tuple(spans),
        y_label="people",
        filename="quota-reports.png",
    )


def spike_chart(sightings: Sequence[Sighting], incident: Incident, now: dt.datetime,
                window: dt.timedelta = dt.timedelta(minutes=30), hours: int = 24) -> ChartData:
    """Distinct people reporting the incident's symptom of its tool per window, beside its baseline."""
    since = now - dt.timedelta(hours=hours)
    buckets = int((now - since) / window)
    people: dict[int, set[Person]] = {}
    for sighting in sightings:
        if sighting.tool != incident.tool or sighting.symptom != incident.symptom:
            continue
        if not since <= sighting.at <= now:
            continue
        index = min(buckets - 1, int((sighting.at - since) / window))
        people.setdefault(index, set()).add(sighting.person)
    values = tuple(float(len(people.get(i, ()))) for i in range(buckets))
    minutes = int(window.total_seconds() // 60)
    return ChartData(
        title=f"{incident.tool}: people reporting {incident.symptom.replace('_', ' ')} per {minutes} min, "
              f"last {hours} h (baseline {incident.baseline:.1f})",
        starts=tuple(since + i * window for i in range(buckets)),
        bucket=window,
        series=(Series(incident.symptom, values),),
        spans=(Span(max(incident.opened_at - window, since), now, f"#{incident.id}" if incident.id else "spike"),),
        baseline=incident.baseline,
        y_label="people",
        filename=f"incident-{incident.id or 'new'}.png",
    )


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 48) -> str:
    """A one-line text picture of `values` (squeezed to `width` by taking each group's maximum)."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [max(values[int(i * step): max(int((i + 1) * step), int(i * step) + 1)]) for i in range(width)]
    top = max(values)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(len(SPARK) - 1, round(v / top * (len(SPARK) - 1)))] for v in values)


def text_chart(chart: ChartData) -> list[str]:
    """The chart as text lines: title, then a sparkline per series with its peak (and the baseline)."""
    lines = [chart.title]
    if chart.empty:
        return [*lines, "no data in this window"]
    width = max(len(s.name) for s in chart.series)
    for series in chart.series:
        lines.append(f"{series.name.replace('_', ' ').ljust(width)} {sparkline(series.values)} "
                     f"peak {max(series.values):g}")
    if chart.baseline is not None:
        lines.append(f"baseline {chart.baseline:.1f} per {int(chart.bucket.total_seconds() // 60)} min")
    return lines
