"""The staff view shows gap clusters and the reports chart; incident alerts carry the spike chart."""

from __future__ import annotations

import datetime as dt

from bot.core.models import Command, Reply, ReplyKind
from bot.core.replies import render_text
from tests.core.test_service import T0, FixedClock, make_service, msg

UNKNOWN = "ERROR gateway rejected token tk_{} (policy P-{}): re-login with corpctl auth"


async def test_staff_view_lists_gap_clusters_by_template_and_has_a_chart(store, catalog) -> None:
    service = make_service(store, catalog, {"SUPPORTBOT_STAFF": "boss"})
    for n, token in enumerate(("8812aa91f", "0000bb12c", "9a9a9a9a1", "77aa77aa7")):
        await service.handle(msg(UNKNOWN.format(token, n), user=f"P{n % 3}", at=T0 - dt.timedelta(hours=n + 1)))
    await service.handle(msg("fatal: the frobnicator core melted at step 7", user="P9", at=T0 - dt.timedelta(hours=2)))
    [overview] = await service.handle(msg("", user="boss", command=Command.INCIDENTS))
    gaps = next(s for s in overview.sections if s.heading.startswith("Catalog gaps"))
    assert "4×" in gaps.items[0] and "3 people" in gaps.items[0] and "gateway rejected token" in gaps.items[0]
    assert "tk_8812aa91f" not in gaps.items[0]
    assert "1×" in gaps.items[1] and "frobnicator" in gaps.items[1]
    assert overview.chart is not None and overview.chart.filename.endswith(".png")
    assert "People reporting" in render_text(overview)  # the terminal shows the chart as a sparkline


async def test_an_incident_alert_carries_the_spike_against_its_baseline(store, catalog) -> None:
    clock = FixedClock(T0)
    service = make_service(store, catalog, clock=clock)
    alerts: list[Reply] = []

    async def sink(reply: Reply) -> None:
        alerts.append(reply)

    service.add_alert_sink(sink)
    for n in range(12):
        at = T0 + dt.timedelta(minutes=2 * n)
        clock.current = at
        await service.handle(msg(f"claude code session jumped from {40 + n}% to 100% while idle, nothing running",
                                 user=f"P{n}", command=Command.QUOTA, at=at))
    await service.run_detection(at=T0 + dt.timedelta(minutes=30))  # the periodic job, once the buckets close
    assert alerts and alerts[0].kind is ReplyKind.ALERT
    chart = alerts[0].chart
    assert chart is not None and chart.baseline is not None
    [incident] = await store.list_incidents(None)
    assert chart.baseline == incident.baseline and chart.filename == f"incident-{incident.id}.png"
    assert max(chart.series[0].values) > chart.baseline
