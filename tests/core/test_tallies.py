"""Symptoms of single reports, tallies over a hand-built list, and window specs."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.core.models import Origin, ParsedReadings, QuotaReport, Reading
from bot.core.tallies import BUCKETS, Count, bucket_of, parse_window, symptoms_of, tally
from tests.core.factories import reading as r

NOW = dt.datetime(2025, 5, 14, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)



def rep(
    *readings: Reading,
    user: str = "U1",
    at: dt.datetime = NOW,
    tool: str | None = "Claude Code",
    plan: str | None = None,
    mode: str | None = None,
    version: str | None = None,
    platform: str = "slack",
) -> QuotaReport:
    return QuotaReport(
        origin=Origin(platform, "T1", "C1", user),
        received_at=at,
        raw_text="",
        parsed=ParsedReadings(tool, plan, mode, version, readings),
        fingerprint=f"{user}{at}",
    )


# ---------------------------------------------------------------------------------------------
# symptoms_of


def test_a_plain_reading_is_just_a_report() -> None:
    assert symptoms_of(rep(r("session", 42))) == {"report"}


def test_the_flagship_idle_jump_shows_every_symptom_it_implies() -> None:
    """"Went from 64% to 100% with nothing running": idle rise, a jump, and the limit."""
    report = rep(r("weekly", 100, 64, limit_hit=True, idle=True))
    assert symptoms_of(report) == {"report", "idle_jump", "jump", "limit_hit"}


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (r("session", 80, 64), {"report"}),  # 16 points: not a jump
        (r("session", 84, 64), {"report", "jump"}),  # 20 points
        (r("session", 40, 60), {"report", "jump"}),  # a drop of 20 is a jump too
        (r("session", 70, 64, idle=True), {"report", "idle_jump"}),  # small but idle
        (r("session", 30, 64, idle=True), {"report", "jump"}),  # idle but falling: a reset
        (r("session", 90, 64, idle=False), {"report", "jump"}),  # busy: rises are expected
        (r("session", 90, 64, idle=None), {"report", "jump"}),
        (r("unknown", limit_hit=True), {"report", "limit_hit"}),
        (r("session", 23, limit_hit=True), {"report", "limit_hit", "contradiction"}),
    ],
)
def test_symptoms_of_one_reading(reading: Reading, expected: set[str]) -> None:
    assert symptoms_of(rep(reading)) == expected


def test_idle_rise_against_the_same_persons_previous_reading() -> None:
    earlier = rep(r("weekly", 40), at=NOW - 3 * 60 * MINUTE)
    now = rep(r("weekly", 55, idle=True))
    assert "idle_jump" in symptoms_of(now, [earlier])
    assert symptoms_of(now) == {"report"}  # without history there is nothing to compare


def test_idle_rise_uses_only_the_latest_previous_reading_of_that_window() -> None:
    older = rep(r("weekly", 10), at=NOW - 5 * 60 * MINUTE)
    latest = rep(r("weekly", 70), r("session", 5), at=NOW - 60 * MINUTE)
    now = rep(r("weekly", 55, idle=True))
    assert "idle_jump" not in symptoms_of(now, [older, latest])  # 70 -> 55 is no rise
    assert "idle_jump" in symptoms_of(now, [older])


@pytest.mark.parametrize(
    "earlier",
    [
        rep(r("weekly", 40), at=NOW - 60 * MINUTE, user="U2"),  # somebody else
        rep(r("weekly", 40), at=NOW - 60 * MINUTE, platform="discord"),  # same id, other platform
        rep(r("session", 40), at=NOW - 60 * MINUTE),  # another window
        rep(r("weekly", 40), at=NOW - 25 * 60 * MINUTE),  # more than a day before
        rep(r("weekly", 40), at=NOW + 10 * MINUTE),  # after: not "previous"
        rep(r("weekly", None, limit_hit=True), at=NOW - 60 * MINUTE),  # no percent to compare
    ],
)
def test_idle_rise_ignores_readings_that_are_not_the_previous_one(earlier: QuotaReport) -> None:
    assert "idle_jump" not in symptoms_of(rep(r("weekly", 55, idle=True)), [earlier])


def test_the_report_itself_in_history_is_ignored() -> None:
    report = rep(r("weekly", 55, idle=True))
    assert symptoms_of(report, [report]) == {"report"}


def test_contradiction_within_one_report() -> None:
    """"Sonnet-only mode says 23% but I can't use claude at all" has the limit hit on another line."""
    notice_and_panel = rep(r("unknown", limit_hit=True), r("session", 0))
    assert "contradiction" in symptoms_of(notice_and_panel)
    same_window = rep(r("weekly", limit_hit=True), r("weekly", 30))
    assert "contradiction" in symptoms_of(same_window)
    session_low = rep(r("weekly", limit_hit=True), r("session", 10))
    assert "contradiction" in symptoms_of(session_low)


@pytest.mark.parametrize(
    "report",
    [
        rep(r("weekly", limit_hit=True), r("weekly-sonnet", 23)),  # another bucket, not the session
        rep(r("session", limit_hit=True), r("session", 50)),  # 50% is not below 50%
        rep(r("session", limit_hit=True), r("session", 95)),
        rep(r("session", 10)),  # low, but no limit hit
    ],
)
def test_no_contradiction(report: QuotaReport) -> None:
    assert "contradiction" not in symptoms_of(report)


def test_contradiction_with_a_recent_reading_before_or_after() -> None:
    notice = rep(r("session", limit_hit=True))
    panel_before = rep(r("session", 5), at=NOW - 10 * MINUTE)
    panel_after = rep(r("session", 5), at=NOW + 10 * MINUTE)
    panel_old = rep(r("session", 5), at=NOW - 2 * 60 * MINUTE)
    panel_other = rep(r("session", 5), at=NOW - 10 * MINUTE, user="U9")
    assert "contradiction" in symptoms_of(notice, [panel_before])
    assert "contradiction" in symptoms_of(notice, [panel_after])
    assert "contradiction" not in symptoms_of(notice, [panel_old, panel_other])
    # The panel itself shows no limit hit, so it is not the contradictory report.
    assert symptoms_of(panel_after, [notice]) == {"report"}


# ---------------------------------------------------------------------------------------------
# tally


def _reports() -> list[QuotaReport]:
    """Eight reports in the window from five people, one before it and one after it."""
    h = dt.timedelta(hours=1)
    return [
        # Before the window: only history.
        rep(r("weekly", 40), user="U1", at=NOW - 30 * h, plan="Max 5x", version="2.0.14"),
        # In the window:
        rep(r("weekly", 45), user="U1", at=NOW - 20 * h, plan="Max 5x", version="2.0.14"),
        rep(r("weekly", 60, idle=True), user="U1", at=NOW - 10 * h, plan="Max 5x", version="2.0.14"),
        rep(r("weekly", 100, 64, limit_hit=True, idle=True), user="U2", at=NOW - 9 * h, plan="Pro"),
        rep(r("unknown", limit_hit=True), r("session", 0), user="U2", at=NOW - 8 * h, plan="Pro"),
        rep(r("session", 100, limit_hit=True), user="U3", at=NOW - 7 * h, tool="Codex CLI", plan="Plus"),
        rep(r("session", 12), user="U3", at=NOW - 6 * h, tool="Codex CLI", plan="Plus"),
        rep(r("daily", 95), user="U4", at=NOW - 5 * h, tool=None),
        rep(r("weekly-sonnet", 23), user="U5", at=NOW - 4 * h, mode="sonnet-only"),
        # After the window (until is exclusive):
        rep(r("session", 50), user="U5", at=NOW),
    ]


def test_tally_counts_a_hand_built_list() -> None:
    since, until = NOW - 24 * dt.timedelta(hours=1), NOW
    t = tally(_reports(), since, until)
    assert (t.since, t.until) == (since, until)
    assert (t.reports, t.reporters) == (8, 5)
    assert t.limits_hit == Count(3, 2)  # U2 twice, U3 once
    assert t.idle_jumps == Count(2, 2)  # U1 (45 -> 60, idle) and U2 (64 -> 100, idle)
    assert t.contradictions == Count(1, 1)  # U2's notice beside a 0% session bar
    assert t.jumps == Count(1, 1)  # U2's 64 -> 100
    assert dict(t.by_tool) == {"Claude Code": Count(5, 3), "Codex CLI": Count(2, 1), "unknown tool": Count(1, 1)}
    assert list(t.by_tool) == ["Claude Code", "Codex CLI", "unknown tool"]  # largest first
    assert list(t.by_plan.items()) == [
        ("unknown", Count(2, 2)),
        ("Max 5x", Count(2, 1)),
        ("Plus", Count(2, 1)),
        ("Pro", Count(2, 1)),
    ]
    assert list(t.by_window.items()) == [
        ("session", Count(3, 2)),
        ("weekly", Count(3, 2)),
        ("daily", Count(1, 1)),
        ("unknown", Count(1, 1)),
        ("weekly-sonnet", Count(1, 1)),
    ]
    assert dict(t.by_model_mode) == {"unknown": Count(7, 4), "sonnet-only": Count(1, 1)}
    assert dict(t.by_version) == {"unknown": Count(6, 4), "2.0.14": Count(2, 1)}
    # Readings with a percent, per window: session 0, 100, 12; weekly 45, 60, 100; daily 95; sonnet 23.
    assert t.percent_buckets["session"] == (1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1)
    assert t.percent_buckets["weekly"] == (0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1)
    assert t.percent_buckets["daily"] == (0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0)
    assert t.percent_buckets["weekly-sonnet"] == (0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    assert "unknown" not in t.percent_buckets  # the notice had no percent


def test_tally_as_json_is_plain_and_iso() -> None:
    t = tally(_reports(), NOW - dt.timedelta(days=1), NOW)
    data = t.as_json()
    assert json.loads(json.dumps(data)) == data
    assert data["since"] == "2025-05-13T12:00:00+00:00"
    assert data["until"] == "2025-05-14T12:00:00+00:00"
    assert data["limits_hit"] == {"reports": 3, "reporters": 2}
    assert data["by_tool"]["Codex CLI"] == {"reports": 2, "reporters": 1}  # type: ignore[index]
    assert data["percent_buckets"]["session"]["100"] == 1  # type: ignore[index]
    assert list(data["percent_buckets"]["session"]) == list(BUCKETS)  # type: ignore[index]


def test_tally_lines_are_short() -> None:
    lines = tally(_reports(), NOW - dt.timedelta(days=1), NOW).lines()
    assert 3 <= len(lines) <= 12
    assert lines[0] == "Quota reports from 2025-05-13 12:00 UTC to 2025-05-14 12:00 UTC: 8 from 5 people"
    assert lines[1] == "Limit hit: 3 (2 people) · idle jumps: 2 (2 people) · contradictions: 1 (1 person)"
    assert "Tools: Claude Code 5, Codex CLI 2, unknown tool 1" in lines
    assert "% used, session: 0-9: 1, 10-19: 1, 100: 1" in lines
    assert all(len(line) < 200 for line in lines)


def test_tally_lines_stay_within_a_dozen_with_many_windows() -> None:
    windows = ["session", "weekly", "daily", "monthly", "unknown"] + [f"weekly-m{n}" for n in range(12)]
    many = [rep(r(w, 10 * n % 100), user=f"U{n}", at=NOW - n * MINUTE) for n, w in enumerate(windows, 1)]
    lines = tally(many, NOW - dt.timedelta(days=1), NOW).lines()
    assert len(lines) == 12


def test_empty_tally() -> None:
    t = tally([], NOW - dt.timedelta(days=7), NOW)
    assert (t.reports, t.reporters, t.limits_hit) == (0, 0, Count())
    assert t.lines() == ["No quota reports from 2025-05-07 12:00 UTC to 2025-05-14 12:00 UTC."]
    assert t.as_json()["by_tool"] == {}


@pytest.mark.parametrize(("percent", "index"), [(0, 0), (9.9, 0), (10, 1), (42.3, 4), (99.5, 9), (100, 10), (104, 10), (-3, 0)])
def test_bucket_of(percent: float, index: int) -> None:
    assert bucket_of(percent) == index


# ---------------------------------------------------------------------------------------------
# parse_window


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("30m", NOW - dt.timedelta(minutes=30)),
        ("1h", NOW - dt.timedelta(hours=1)),
        ("24h", NOW - dt.timedelta(hours=24)),
        ("7d", NOW - dt.timedelta(days=7)),
        ("90d", NOW - dt.timedelta(days=90)),
        ("2w", NOW - dt.timedelta(weeks=2)),
        (" 7D ", NOW - dt.timedelta(days=7)),
        ("2025-05-01", dt.datetime(2025, 5, 1, tzinfo=dt.UTC)),
        ("2025-05-01T09:30", dt.datetime(2025, 5, 1, 9, 30, tzinfo=dt.UTC)),
        ("2025-05-01T09:30:00+02:00", dt.datetime(2025, 5, 1, 7, 30, tzinfo=dt.UTC)),
        ("2025-05-14T12:00:00Z", NOW),
    ],
)
def test_parse_window(spec: str, expected: dt.datetime) -> None:
    assert parse_window(spec, NOW) == expected


@pytest.mark.parametrize("spec", ["", "7", "d7", "7 days", "yesterday", "0h", "-1d", "2025-13-01", "2099-01-01"])
def test_parse_window_rejects_bad_specs_and_says_what_works(spec: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_window(spec, NOW)
    message = str(caught.value)
    assert "30m" in message and "7d" in message and "ISO" in message
