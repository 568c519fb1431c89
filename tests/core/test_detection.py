"""Spike detection on simulated report streams.

The generator (benchmarks/detection_sim.py) builds weeks of seeded random reports (a diurnal rhythm,
a weekly busy hour, bursts, floods) so the tests can say what the detector must do in each situation,
in simulated minutes, never wall-clock time. `benchmarks/detection_quality.py` prints its figures
over the same streams.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from benchmarks.detection_sim import (
    CONFIG,
    DAY,
    HOUR,
    MINUTE,
    T0,
    WEEK,
    burst,
    busy_hour,
    evaluate,
    fired,
    first_detection,
    flood,
    four_quiet_weeks,
    noise,
    report,
    weekly_busy_hours,
)
from bot.core.detection import DetectionConfig, Spike, detect, entry_for, spike_to_incident
from bot.core.models import IncidentStatus, QuotaReport
from tests.core.factories import reading

# ---------------------------------------------------------------------------------------------
# (a) quiet weeks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_four_quiet_weeks_raise_no_spike_in_the_last_week(seed: int) -> None:
    reports = four_quiet_weeks(seed)
    assert 300 < len(reports) < 1200  # 0-2 an hour, diurnal: roughly 600 in four weeks
    steps = evaluate(reports, T0 + 3 * WEEK, T0 + 4 * WEEK)
    assert len(steps) >= 1008
    assert fired(steps) == []


# ---------------------------------------------------------------------------------------------
# (b) a real burst


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15])
def test_burst_of_idle_jumps_is_detected_within_twenty_minutes(seed: int) -> None:
    rng = random.Random(seed)
    # A Wednesday afternoon in week 5, at a random minute and second (not on the evaluation grid).
    start = T0 + 4 * WEEK + 2 * DAY + 14 * HOUR + dt.timedelta(seconds=rng.uniform(0, 3600))
    reports = noise(rng, T0, T0 + 5 * WEEK) + burst(rng, start)
    steps = evaluate(reports, start - 3 * HOUR, start + HOUR)

    before = [spike for now, spike in fired(steps) if now < start]
    assert before == []
    detected = first_detection(steps, "Claude Code", "idle_jump")
    assert detected is not None
    assert detected - start <= 20 * MINUTE

    spikes = dict(steps)[detected]
    claude = [s for s in spikes if s.tool == "Claude Code"]
    assert [s.symptom for s in claude] == ["idle_jump"]  # not also "report", "jump" or "limit_hit"
    assert claude[0].reporters >= CONFIG.min_reporters
    assert claude[0].window_end == detected


def test_burst_with_no_history_still_fires() -> None:
    """The first hours after install: no baseline, only the minimum number of people counts."""
    rng = random.Random(5)
    start = T0 + 10 * HOUR
    steps = evaluate(burst(rng, start), start, start + HOUR)
    detected = first_detection(steps, "Claude Code", "idle_jump")
    assert detected is not None and detected - start <= 20 * MINUTE
    spike = next(s for now, s in fired(steps) if now == detected)
    assert spike.baseline == 0 and spike.basis == "no history yet"


def test_four_people_are_not_a_spike() -> None:
    rng = random.Random(6)
    start = T0 + 4 * WEEK + 14 * HOUR
    reports = noise(rng, T0, T0 + 5 * WEEK) + burst(rng, start, people=4, tag="F")
    steps = evaluate(reports, start, start + HOUR)
    assert first_detection(steps, "Claude Code", "idle_jump") is None


def test_seven_people_within_one_minute_are_not_sustained() -> None:
    """A shared screenshot pasted by seven people at once is one event, not a trend."""
    rng = random.Random(7)
    start = T0 + 4 * WEEK + 14 * HOUR + 2 * MINUTE
    reports = noise(rng, T0, T0 + 5 * WEEK) + burst(rng, start, people=7, over=MINUTE)
    steps = evaluate(reports, start, start + HOUR)
    assert first_detection(steps, "Claude Code", "idle_jump") is None
    loose = DetectionConfig(sustain=1)
    assert first_detection(evaluate(reports, start, start + HOUR, loose), "Claude Code", "idle_jump")


def test_burst_for_an_unnamed_tool_is_reported_as_unknown_tool() -> None:
    rng = random.Random(8)
    start = T0 + 4 * WEEK + 14 * HOUR
    reports = noise(rng, T0, T0 + 5 * WEEK) + burst(rng, start, tool=None)  # type: ignore[arg-type]
    steps = evaluate(reports, start, start + HOUR)
    assert first_detection(steps, "unknown tool", "idle_jump") is not None


# ---------------------------------------------------------------------------------------------
# (c) slow drift


@pytest.mark.parametrize("seed", [21, 22])
def test_slow_drift_of_ten_percent_a_day_raises_no_spike(seed: int) -> None:
    rng = random.Random(seed)
    growth_from = T0 + 4 * WEEK
    reports = noise(rng, T0, T0 + 6 * WEEK, growth_per_day=0.10, growth_from=growth_from)
    late = [r for r in reports if r.received_at >= T0 + 5 * WEEK]
    early = [r for r in reports if T0 + 3 * WEEK <= r.received_at < T0 + 4 * WEEK]
    assert len(late) > 2 * len(early)  # the drift is real: the last week is 1.1 ** 7..13 the level
    steps = evaluate(reports, growth_from, T0 + 6 * WEEK)
    assert fired(steps) == []


# ---------------------------------------------------------------------------------------------
# (d) one person flooding


def test_one_person_flooding_two_hundred_reports_is_not_a_spike() -> None:
    rng = random.Random(31)
    start = T0 + 4 * WEEK + 2 * DAY + 15 * HOUR + 3 * MINUTE
    reports = noise(rng, T0, T0 + 5 * WEEK) + flood(rng, start)
    assert sum(1 for r in reports if r.origin.user_id == "FLOODER") == 200
    steps = evaluate(reports, start - HOUR, start + 2 * HOUR)
    assert fired(steps) == []


# ---------------------------------------------------------------------------------------------
# (e) an hour of the week that is always busy


def _busy_weeks(seed: int, size: int) -> tuple[list[QuotaReport], dt.datetime]:
    rng = random.Random(seed)
    history = noise(rng, T0, T0 + 5 * WEEK) + weekly_busy_hours(rng, 4)
    start = T0 + 4 * WEEK + 9 * HOUR  # Monday 09:00 again, in week 5
    return history + busy_hour(rng, start, size), start


@pytest.mark.parametrize("seed", [41, 42])
def test_usual_crowd_at_the_busy_hour_does_not_fire(seed: int) -> None:
    reports, start = _busy_weeks(seed, 12)
    steps = evaluate(reports, start - HOUR, start + 2 * HOUR)
    assert fired(steps) == []


@pytest.mark.parametrize("seed", [41, 42])
def test_four_times_the_usual_crowd_at_the_busy_hour_fires(seed: int) -> None:
    reports, start = _busy_weeks(seed, 48)
    steps = evaluate(reports, start - HOUR, start + 2 * HOUR)
    detected = first_detection(steps, "Claude Code", "limit_hit")
    assert detected is not None and detected - start <= 30 * MINUTE
    spike = next(s for now, s in fired(steps) if now == detected and s.symptom == "limit_hit")
    assert spike.baseline >= 4  # the busy hour really is in the baseline
    assert "previous week" in spike.basis


def test_the_same_crowd_on_a_quiet_day_fires() -> None:
    """The busy hour is busy only on Mondays: twelve people on a Tuesday at 09:00 is news."""
    rng = random.Random(43)
    history = noise(rng, T0, T0 + 5 * WEEK) + weekly_busy_hours(rng, 4)
    start = T0 + 4 * WEEK + DAY + 9 * HOUR
    steps = evaluate(history + busy_hour(rng, start, 12), start - HOUR, start + HOUR)
    assert first_detection(steps, "Claude Code", "limit_hit") is not None


# ---------------------------------------------------------------------------------------------
# Baseline with short history


def test_baseline_uses_previous_days_while_history_is_under_a_week() -> None:
    rng = random.Random(51)
    history = [r for d in range(3) for r in busy_hour(rng, T0 + d * DAY + 9 * HOUR, 12)]
    start = T0 + 3 * DAY + 9 * HOUR
    usual = detect(history + busy_hour(rng, start, 12), start + 20 * MINUTE, CONFIG)
    assert [s for s in usual if s.symptom == "limit_hit"] == []
    spikes = detect(history + busy_hour(rng, start, 48), start + 20 * MINUTE, CONFIG)
    hit = next(s for s in spikes if s.symptom == "limit_hit")
    assert hit.basis == "same hour, 3 previous days"


def test_baseline_uses_trailing_hours_with_under_a_day_of_history() -> None:
    rng = random.Random(52)
    # Six busy hours in a row, then the same again: a steady level is not a spike.
    steady = [r for h in range(6) for r in busy_hour(rng, T0 + h * HOUR, 10)]
    now = T0 + 5 * HOUR + 30 * MINUTE
    assert detect(steady, now, CONFIG) == []
    spikes = detect([*steady, *busy_hour(rng, now - 30 * MINUTE, 40)], now, CONFIG)
    assert spikes and spikes[0].basis.startswith("average of the previous")


def test_a_separate_crowd_of_another_symptom_is_kept() -> None:
    """Idle jumps and, among other people, limit hits: two problems, two spikes, one tool."""
    rng = random.Random(54)
    start = T0 + 10 * HOUR
    limits = [
        report(start + 20 * MINUTE * rng.random(), f"L{n}", "Claude Code", reading("weekly", limit_hit=True))
        for n in range(10)
    ]
    jumps = [
        report(start + 20 * MINUTE * rng.random(), f"J{n}", "Claude Code", reading("session", 50, 40, idle=True))
        for n in range(10)
    ]
    spikes = detect(limits + jumps, start + 20 * MINUTE, CONFIG)
    assert sorted(s.symptom for s in spikes) == ["idle_jump", "limit_hit"]
    assert all(s.tool == "Claude Code" and s.reporters == 10 for s in spikes)


def test_quiet_noise_of_many_tools_alone_is_not_a_spike() -> None:
    """A burst for one tool does not make the other tools' ordinary reports look like spikes."""
    rng = random.Random(55)
    start = T0 + 4 * WEEK + 14 * HOUR
    reports = noise(rng, T0, T0 + 5 * WEEK) + burst(rng, start, tool="Codex CLI")
    steps = evaluate(reports, start, start + HOUR)
    assert {s.tool for _, s in fired(steps)} == {"Codex CLI"}


def test_reports_after_now_are_ignored() -> None:
    rng = random.Random(53)
    start = T0 + 10 * HOUR
    assert detect(burst(rng, start), start - MINUTE, CONFIG) == []


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        DetectionConfig(sub_window=dt.timedelta(hours=1))
    with pytest.raises(ValueError):
        DetectionConfig(min_reporters=0)
    with pytest.raises(ValueError):
        DetectionConfig(sustain=7)
    assert CONFIG.history_needed > 4 * WEEK


# ---------------------------------------------------------------------------------------------
# Spikes to incidents


def _spike(tool: str, symptom: str, reporters: int = 9, contradicting: int = 0) -> Spike:
    return Spike(
        tool=tool,
        symptom=symptom,
        reporters=reporters,
        baseline=0.5,
        window_start=T0,
        window_end=T0 + 30 * MINUTE,
        summary=f"{tool}: {reporters} people",
        contradicting=contradicting,
    )


@pytest.mark.parametrize(
    ("tool", "symptom", "contradicting", "entry"),
    [
        ("Claude Code", "idle_jump", 0, "claude-code-quota-increases-without-tasks"),
        ("Claude Code", "limit_hit", 0, "claude-code-weekly-limit-reached"),
        ("Claude Code", "limit_hit", 6, "claude-code-session-limit-despite-low-usage"),
        ("Claude Code", "contradiction", 9, "claude-code-session-limit-despite-low-usage"),
        ("Codex CLI", "limit_hit", 0, "codex-cli-usage-limit-reached"),
        ("Codex CLI", "contradiction", 9, "codex-cli-usage-limit-reached"),
        ("Gemini CLI", "limit_hit", 0, "gemini-cli-daily-quota-exhausted"),
        ("GitHub Copilot", "limit_hit", 0, "copilot-premium-requests-exhausted"),
        ("Cursor", "limit_hit", 0, "cursor-usage-limit-reached"),
        ("Codex CLI", "idle_jump", 0, None),
        ("Claude Code", "report", 0, None),
        ("Claude Code", "jump", 0, None),
        ("unknown tool", "limit_hit", 0, None),
        ("Kiro", "limit_hit", 0, None),
    ],
)
def test_entry_for_spike(tool: str, symptom: str, contradicting: int, entry: str | None) -> None:
    assert entry_for(_spike(tool, symptom, contradicting=contradicting)) == entry


def test_spike_to_incident_opens_an_incident() -> None:
    spike = _spike("Claude Code", "idle_jump")
    now = T0 + HOUR
    incident = spike_to_incident(spike, now)
    assert incident.status is IncidentStatus.OPEN
    assert incident.opened_at == now
    assert (incident.tool, incident.symptom, incident.reporters) == ("Claude Code", "idle_jump", 9)
    assert incident.baseline == 0.5 and incident.summary == spike.summary
    assert incident.entry_id == "claude-code-quota-increases-without-tasks"
    assert incident.id is None


def test_summary_is_one_readable_line() -> None:
    rng = random.Random(61)
    start = T0 + 10 * HOUR
    spikes = detect(burst(rng, start), start + 20 * MINUTE, CONFIG)
    assert len(spikes) == 1
    assert spikes[0].symptom == "idle_jump" and {"report", "jump"} <= set(spikes[0].also)
    summary = spikes[0].summary
    assert summary.startswith("Claude Code: ") and "usage rising with nothing running" in summary
    assert "\n" not in summary
