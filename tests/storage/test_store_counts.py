"""What the store counts instead of loading history: symptoms kept per report, tallies and detection
in SQL, imports, and one open incident per tool and symptom. Run against every backend.

The counting paths are checked against the in-memory functions they replace (`tally`, `detect`) on
the simulated streams of benchmarks/detection_sim.py (as tests/core/test_detection.py), so both describe the same numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import Counter

import pytest

from benchmarks.detection_sim import HOUR, MINUTE, T0, WEEK, burst, flood, noise, report
from bot.core.charts import bucket_size, counted_reports_chart, reports_chart
from bot.core.detection import DetectionConfig, detect, floor_to_bucket
from bot.core.models import Incident, IncidentStatus, QuotaReport
from bot.core.ports import IncidentStore
from bot.core.service import stored_spikes
from bot.core.tallies import Count, tally
from bot.errors import StoreError
from bot.storage import schema
from tests.core.factories import reading

from .conftest import Backend

CONFIG = DetectionConfig()


def incident(tool: str = "Claude Code", symptom: str = "idle_jump") -> Incident:
    return Incident(tool=tool, symptom=symptom, opened_at=T0, status=IncidentStatus.OPEN,
                    summary=f"{tool}: many people", reporters=9, baseline=0.5)


async def test_one_open_incident_per_tool_and_symptom_even_from_several_stores(backend: Backend) -> None:
    stores = [await backend.open() for _ in range(3)]
    try:
        ids = await asyncio.gather(*(s.open_incident(incident()) for s in stores for _ in range(3)))
        opened = [i for i in ids if i is not None]
        assert len(opened) == 1
        assert await stores[0].open_incident(incident(symptom="limit_hit")) is not None  # another symptom
        await stores[1].transition_incident(opened[0], IncidentStatus.ACKNOWLEDGED, "slack:U1", T0)
        assert await stores[2].open_incident(incident()) is None  # acknowledged still counts as open
        await stores[1].transition_incident(opened[0], IncidentStatus.RESOLVED, "slack:U1", T0)
        assert await stores[2].open_incident(incident()) is not None  # resolved: a new one may open
        events = await stores[0].incident_events(opened[0])
        assert [e.status for e in events] == [IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED,
                                              IncidentStatus.RESOLVED]
    finally:
        for s in stores:
            await s.close()


async def test_a_later_report_makes_an_earlier_limit_notice_a_contradiction(store: IncidentStore) -> None:
    notice = report(T0, "U1", "Claude Code", reading("session", limit_hit=True))
    first = await store.add_report(notice)
    assert await store.report_symptoms(first) == {"report", "limit_hit"}
    panel = report(T0 + 10 * MINUTE, "U1", "Claude Code", reading("session", 20))
    await store.add_report(panel)
    assert await store.report_symptoms(first) == {"report", "limit_hit", "contradiction"}
    # Someone else's panel changes nothing for U1.
    other = await store.add_report(report(T0 + 11 * MINUTE, "U2", "Claude Code", reading("session", 90)))
    assert await store.report_symptoms(other) == {"report"}


async def test_an_idle_rise_compares_with_the_persons_previous_reading(store: IncidentStore) -> None:
    await store.add_report(report(T0, "U1", "Claude Code", reading("session", 30)))
    rose = await store.add_report(report(T0 + HOUR, "U1", "Claude Code", reading("session", 80, idle=True)))
    assert "idle_jump" in await store.report_symptoms(rose)
    late = await store.add_report(report(T0 + 2 * HOUR, "U2", "Claude Code", reading("session", 80, idle=True)))
    assert "idle_jump" not in await store.report_symptoms(late)  # U2 has no earlier reading


async def test_count_reporters_counts_people_once_and_leaves_one_out(store: IncidentStore) -> None:
    for user, minute in (("U1", 0), ("U1", 5), ("U2", 7), ("U3", 9)):
        await store.add_report(report(T0 + minute * MINUTE, user, "Claude Code", reading("weekly", limit_hit=True)))
    await store.add_report(report(T0, "U4", "Codex CLI", reading("weekly", limit_hit=True)))
    await store.add_report(report(T0 - 2 * HOUR, "U5", "Claude Code", reading("weekly", limit_hit=True)))
    since, until = T0 - HOUR, T0 + HOUR
    assert await store.count_reporters(["Claude Code"], "limit_hit", since, until) == 3
    assert await store.count_reporters(["Claude Code"], "limit_hit", since, until, exclude=("slack", "U1")) == 2
    assert await store.count_reporters(["Claude Code", "Codex CLI"], "limit_hit", since, until) == 4
    assert await store.count_reporters(["Claude Code"], "idle_jump", since, until) == 0


def stream(seed: int, weeks: int = 2) -> tuple[list[QuotaReport], dt.datetime]:
    """A few weeks of noise, then a burst and a flood in the last week; the burst's start time."""
    rng = random.Random(seed)
    start = T0 + (weeks - 1) * WEEK + 2 * 24 * HOUR + 13 * HOUR + 7 * MINUTE
    reports = noise(rng, T0, T0 + weeks * WEEK) + burst(rng, start) + flood(rng, start - 5 * HOUR)
    return reports, start


async def test_the_stored_tally_equals_the_tally_of_the_same_reports(store: IncidentStore) -> None:
    reports, start = stream(3)
    reports.sort(key=lambda r: r.received_at)
    half = len(reports) // 2
    await store.import_reports(reports[:half])
    for r in reports[half : half + 40]:  # some arrive one by one, as from chat
        await store.add_report(r)
    await store.import_reports(reports[half + 40 :])
    for since, until in ((start - 24 * HOUR, start + HOUR), (T0, T0 + 3 * WEEK), (start, start + 10 * MINUTE)):
        stored = await store.tally(since, until)
        expected = tally(reports, since, until)
        assert stored.as_json() == expected.as_json()
        assert stored.lines() == expected.lines()  # the same order of groups, too
    assert stored.reports > 0


async def test_detection_from_stored_counts_equals_detection_over_the_reports(store: IncidentStore) -> None:
    reports, start = stream(5)
    counts = await store.import_reports(reports)
    assert counts.stored == len(reports)
    now = floor_to_bucket(start - HOUR)
    fired = 0
    while now <= start + HOUR:
        expected = detect(reports, now, CONFIG)
        assert await stored_spikes(store, now, CONFIG) == expected
        fired += bool(expected)
        now += 5 * MINUTE
    assert fired  # the burst was seen, so the comparison covered spikes, not only silence


async def test_people_per_period_equals_the_chart_drawn_from_sightings(store: IncidentStore) -> None:
    reports, start = stream(9)
    await store.import_reports(reports)
    incidents = [incident()]
    # A week (6-hour periods) and a day (hours), ending off a 5-minute boundary and on one.
    for since, until in ((start - 6 * 24 * HOUR, start + 2 * HOUR + 3 * MINUTE), (start - 20 * HOUR, start + 4 * HOUR)):
        period = bucket_size(until - since)
        counted = await store.people_per_period(since, until, period)
        expected = reports_chart(await store.sightings(since, until), incidents, since, until)
        assert counted_reports_chart(counted, incidents, since, until) == expected
        assert any(any(series.values) for series in expected.series)
    # People, not reports: the flooder is one person in the period holding the flood.
    flood_start = start - 5 * HOUR
    counted = await store.people_per_period(flood_start - HOUR, flood_start + HOUR, HOUR)
    assert counted[("idle_jump", 1)] == 1
    with pytest.raises(StoreError):
        await store.people_per_period(since, until, dt.timedelta(minutes=7))


async def test_sightings_of_one_tool_and_symptom_are_that_pair_of_all_sightings(store: IncidentStore) -> None:
    reports, start = stream(9)
    await store.import_reports(reports)
    since, until = start - 24 * HOUR, start + 4 * HOUR
    every = await store.sightings(since, until)
    pairs = {(s.tool, s.symptom) for s in every}
    assert len(pairs) > 1  # otherwise the filter would have nothing to leave out
    for tool, symptom in pairs:
        only = await store.sightings(since, until, of=(tool, symptom))
        assert Counter(only) == Counter(s for s in every if (s.tool, s.symptom) == (tool, symptom))


async def test_import_is_idempotent_and_skips_what_is_present(store: IncidentStore) -> None:
    reports, _ = stream(7, weeks=1)
    one_by_one = reports[:5]
    for r in one_by_one:
        await store.add_report(r)
    counts = await store.import_reports(reports + reports[:3])  # a report twice in one file, too
    assert (counts.stored, counts.present) == (len(reports) - 5, 5 + 3)
    again = await store.import_reports(reports)
    assert (again.stored, again.present) == (0, len(reports))
    stored = await store.reports_between(T0 - WEEK, T0 + 3 * WEEK)
    assert len(stored) == len(reports)
    assert sorted((r.received_at, r.origin.user_id, r.parsed) for r in stored) == sorted(
        (r.received_at, r.origin.user_id, r.parsed) for r in reports
    )


async def test_reports_page_walks_the_whole_history_in_order(store: IncidentStore) -> None:
    same_time = [report(T0, f"U{n}", "Claude Code", reading("session", 10 + n)) for n in range(5)]
    others = [report(T0 + n * MINUTE, "U9", None, reading("weekly", n)) for n in range(1, 8)]
    await store.import_reports(same_time + others)
    seen: list[QuotaReport] = []
    after = None
    while True:
        page = await store.reports_page(T0 - HOUR, T0 + HOUR, after, 3)
        if not page:
            break
        seen += page
        after = (page[-1].received_at, page[-1].id)
    assert [r.id for r in seen] == [r.id for r in await store.reports_between(T0 - HOUR, T0 + HOUR)]
    assert len(seen) == 12 and all(r.parsed.readings for r in seen)


async def test_upgrading_an_older_database_works_out_symptoms_and_merges_open_incidents(backend: Backend) -> None:
    # A database as version 1 left it: its tables, two reports, and two open incidents alike.
    v1 = schema.MIGRATIONS[0]
    if backend.sqlite_path is not None:
        backend.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    for sql in (schema.SCHEMA_VERSION_TABLE_SQLITE if backend.name == "sqlite" else schema.SCHEMA_VERSION_TABLE_POSTGRES,
                *(v1.sqlite if backend.name == "sqlite" else v1.postgres)):
        await backend.execute(sql)
    t0, t5 = "2025-03-03T12:00:00.000000+00:00", "2025-03-03T12:05:00.000000+00:00"
    for sql in (
        f"INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'v1', '{t0}')",
        "INSERT INTO quota_reports (id, platform, workspace_id, channel_id, user_id, received_at, raw_text, tool,"
        f" fingerprint) VALUES (1, 'slack', 'T1', 'C1', 'U1', '{t0}', 'limit reached', 'Claude Code', 'a')",
        "INSERT INTO quota_reports (id, platform, workspace_id, channel_id, user_id, received_at, raw_text, tool,"
        f" fingerprint) VALUES (2, 'slack', 'T1', 'C1', 'U1', '{t5}', 'session 15%', 'Claude Code', 'b')",
        "INSERT INTO report_readings (report_id, seq, quota_window, percent, limit_hit)"
        " VALUES (1, 0, 'session', NULL, TRUE)",
        "INSERT INTO report_readings (report_id, seq, quota_window, percent, limit_hit)"
        " VALUES (2, 0, 'session', 15, FALSE)",
        "INSERT INTO incidents (tool, symptom, opened_at, status, summary, reporters, baseline, updated_at)"
        f" VALUES ('Claude Code', 'limit_hit', '{t0}', 'open', 'a', 5, 1, '{t0}')",
        "INSERT INTO incidents (tool, symptom, opened_at, status, summary, reporters, baseline, updated_at)"
        f" VALUES ('Claude Code', 'limit_hit', '{t5}', 'open', 'b', 5, 1, '{t5}')",
    ):
        await backend.execute(sql)
    upgraded = await backend.open()
    try:
        assert await upgraded.report_symptoms(1) == {"report", "limit_hit", "contradiction"}
        still_open = await upgraded.list_incidents([IncidentStatus.OPEN])
        assert [i.summary for i in still_open] == ["a"]
        assert await upgraded.open_incident(incident(symptom="limit_hit")) is None
        at = dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)
        tallied = await upgraded.tally(at - HOUR, at + HOUR)  # readings learnt their report's time and person
        assert (tallied.reports, tallied.reporters, dict(tallied.by_window)) == (2, 1, {"session": Count(2, 1)})
    finally:
        await upgraded.close()
