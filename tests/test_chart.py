"""Charts: a PNG of a fixed size from chart data, and a text sparkline when matplotlib is missing."""

from __future__ import annotations

import datetime as dt
import struct
import sys

import pytest

from bot.chart import HEIGHT_PX, WIDTH_PX, chart_text, render_png, render_png_async
from bot.core.charts import reports_chart, sightings_of, sparkline, spike_chart
from bot.core.models import Incident, IncidentStatus, Origin, ParsedReadings, QuotaReport
from tests.core.factories import reading

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _reports() -> list[QuotaReport]:
    out = []
    for i in range(40):
        at = NOW - dt.timedelta(minutes=10 * i)
        hit = i < 8
        parsed = ParsedReadings("Claude Code", None, None, None, (reading(limit_hit=hit, percent=None if hit else 30.0),))
        out.append(QuotaReport(Origin("slack", "T", "C", f"U{i}"), at, "text", parsed, f"fp{i}", id=i + 1))
    return out


def _incident() -> Incident:
    return Incident("Claude Code", "limit_hit", NOW - dt.timedelta(minutes=20), IncidentStatus.OPEN,
                    "Claude Code: many limit hits", 8, 0.5, id=3)


def test_reports_chart_counts_reports_per_bucket_by_kind() -> None:
    chart = reports_chart(sightings_of(_reports()), [_incident()], NOW - dt.timedelta(hours=24), NOW)
    by_name = {s.name: s for s in chart.series}
    assert sum(by_name["report"].values) == 40
    assert sum(by_name["limit_hit"].values) == 8
    assert chart.spans and chart.spans[0].label == "#3 Claude Code"


def test_spike_chart_counts_distinct_people_and_carries_the_baseline() -> None:
    chart = spike_chart(sightings_of(_reports()), _incident(), NOW)
    assert chart.baseline == 0.5
    assert sum(chart.series[0].values) == 8  # eight people hit the limit in the last 80 minutes
    assert chart.series[0].values[-1] >= 2


def test_png_has_the_documented_size() -> None:
    png = render_png(reports_chart(sightings_of(_reports()), [_incident()], NOW - dt.timedelta(days=7), NOW))
    assert png is not None and png_size(png) == (WIDTH_PX, HEIGHT_PX)
    empty = render_png(reports_chart([], [], NOW - dt.timedelta(hours=2), NOW))
    assert empty is not None and png_size(empty) == (WIDTH_PX, HEIGHT_PX)


async def test_rendering_runs_in_a_worker_thread() -> None:
    import threading

    seen: list[str] = []
    original = render_png

    def spy(chart):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread().name)
        return original(chart)

    import bot.chart

    mp = pytest.MonkeyPatch()
    mp.setattr(bot.chart, "render_png", spy)
    try:
        png = await render_png_async(spike_chart(sightings_of(_reports()), _incident(), NOW))
    finally:
        mp.undo()
    assert png is not None and seen and seen[0] != threading.main_thread().name


def test_without_matplotlib_there_is_a_text_sparkline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    chart = spike_chart(sightings_of(_reports()), _incident(), NOW)
    assert render_png(chart) is None
    text = chart_text(chart)
    assert "baseline 0.5" in text and "peak" in text and "█" in text
    assert sparkline([0, 1, 2, 4]) == "▁▃▅█" and sparkline([0, 0]) == "▁▁" and sparkline([]) == ""
    assert len(sparkline(list(range(500)), width=40)) == 40
