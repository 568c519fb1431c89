"""Say back what a quota report was understood as, and the ready-to-send text vendors ask for."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.models import ParsedReadings, QuotaReport, Reading, Section

_ZONE_IN_TEXT = re.compile(r"\(([A-Za-z]+(?:/[A-Za-z_+-]+)+)\)")


def describe_reading(reading: Reading) -> str:
    parts = [reading.window]
    if reading.from_percent is not None and reading.percent is not None:
        parts.append(f"{reading.from_percent:g}% → {reading.percent:g}% used")
    elif reading.percent is not None:
        parts.append(f"{reading.percent:g}% used")
    if reading.limit_hit:
        parts.append("limit reached")
    if reading.resets:
        when = f"resets {reading.resets}"
        if reading.resets_at is not None:
            when += f" ({reading.resets_at:%Y-%m-%d %H:%M} UTC)"
        parts.append(when)
    if reading.idle:
        parts.append("while idle")
    return ", ".join(parts)


def reading_sections(parsed: ParsedReadings) -> tuple[Section, ...]:
    about = [
        f"Tool: {parsed.tool or 'not said'}",
        f"Plan: {parsed.plan or 'not said'}",
    ]
    if parsed.model_mode:
        about.append(f"Model: {parsed.model_mode}")
    if parsed.version:
        about.append(f"Version: {parsed.version}")
    return (
        Section("What I understood", tuple(describe_reading(r) for r in parsed.readings)),
        Section("About", tuple(about)),
    )


def _local_zone(report: QuotaReport) -> ZoneInfo | None:
    for reading in report.parsed.readings:
        found = _ZONE_IN_TEXT.search(reading.resets or "")
        if found:
            try:
                return ZoneInfo(found.group(1))
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return None


def support_bundle(report: QuotaReport, similar_reporters: int) -> str:
    """Plain text a person can paste into a vendor support form as it is."""
    at = report.received_at.astimezone(dt.UTC)
    zone = _local_zone(report)
    when = f"{at:%Y-%m-%d %H:%M} UTC"
    if zone is not None:
        when += f" ({at.astimezone(zone):%Y-%m-%d %H:%M} {zone.key})"
    lines = [
        f"Tool: {report.parsed.tool or 'unknown'}" + (f" {report.parsed.version}" if report.parsed.version else ""),
        f"Plan: {report.parsed.plan or 'please add your plan'}",
        f"Observed: {when}",
        "Readings: " + "; ".join(describe_reading(r) for r in report.parsed.readings),
        f"Similar reports in the last 24 h: {similar_reporters} other people",
        "Exact message:",
        *("  " + line for line in report.raw_text.strip().splitlines()[:15]),
    ]
    return "\n".join(lines)
