"""The readings of a text as comparable rows, for the tests written as sentences and their readings."""

from __future__ import annotations

from bot.core.readings import parse_readings

# (window, from_percent, percent, limit_hit, idle)
Row = tuple[str, float | None, float | None, bool, bool | None]


def rows(text: str) -> list[Row]:
    got = parse_readings(text).as_contract("t")["readings"]
    return sorted(
        (r["window"], r["from_percent"], r["percent"], r["limit_hit"], r["idle"]) for r in got
    )  # fmt: skip
