"""Property-based checks: the reading parser never raises on any text, and its work grows linearly.

Work is measured as operation counts (Python and builtin calls seen by a profiler hook), not as
time, so the check is deterministic; wall-clock speed is printed by benchmarks/readings_accuracy.py.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.models import ParsedReadings
from bot.core.readings import parse_readings

NOW = dt.datetime(2026, 7, 20, 12, 0, tzinfo=dt.UTC)

# Pieces of real readings and of hostile input: separators, long digit runs, reset lead-ins,
# window words in several languages, percent signs, bars and box drawing.
FRAGMENTS = st.sampled_from(
    [
        " ", "\n", "\n\n", "·", "|", "│", "─", "█", "->", "→", ",", ".", ":", "(", ")", "%", "~",
        "5h", "weekly", "session", "semanal", "週間", "주간", "周限额", "hebdomadaire", "limit",
        "hit your", "reached", "resets", "reset at", "try again in", "in 3h 20m", "5:40pm",
        "(Europe/Berlin)", "Jul 26,", "2026-07-20T10:00:00Z", "1789435590", "left", "used",
        "40%", "100%", "0.0%", "Current week (Sonnet only)", "{\"used_percent\": 12,", "}",
        "nothing running", "after one prompt", "e.g.", "gemini-2.5-pro", "Max 20x", "pro",
        "for both", "and", "50프로", " 중 ", "out of", "normally", "remaining to", "Sonnetのみ",
        "$200/month", "in a day", "allocation. Gone.", "not used up", "1h30 of use", "just 3 prompts",
    ]
)  # fmt: skip
HOSTILE_TEXT = st.one_of(
    st.text(max_size=2_000),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=400).map("".join),
    st.integers(min_value=1, max_value=50_000).map(lambda n: "9" * n + "%"),
    st.tuples(FRAGMENTS, st.integers(min_value=1, max_value=20_000)).map(lambda t: t[0] * t[1]),
)


def _check(parsed: ParsedReadings) -> None:
    assert isinstance(parsed, ParsedReadings)
    assert len(parsed.readings) <= 200
    for reading in parsed.readings:
        assert reading.percent is None or 0 <= reading.percent <= 999
        assert reading.resets is None or len(reading.resets) < 200
    json.dumps(parsed.as_contract())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE_TEXT)
def test_never_raises_and_stays_bounded(text: str) -> None:
    _check(parse_readings(text, NOW))


@pytest.mark.timeout(600)  # a megabyte per example, on a shared machine
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(FRAGMENTS, min_size=1, max_size=12).map("".join))
def test_a_megabyte_of_any_unit_is_survived(unit: str) -> None:
    text = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
    _check(parse_readings(text, NOW))


def _operations(fn: Callable[[], Any]) -> int:
    """How many Python and builtin calls `fn` makes: a deterministic measure of its work."""
    count = 0

    def hook(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.timeout(600)  # a profiler hook on every call slows the parser a lot
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS, min_size=1, max_size=10).map("".join))
def test_work_grows_linearly_with_the_input(unit: str) -> None:
    reps = max(1, 5_000 // len(unit))
    small = _operations(lambda: parse_readings(unit * reps, NOW))
    large = _operations(lambda: parse_readings(unit * reps * 4, NOW))
    # Four times the text may cost at most about four times the work (plus a constant for the
    # fixed set-up); quadratic work would cost sixteen times.
    assert large <= 5 * small + 5_000, (small, large)
