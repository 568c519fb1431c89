"""Small builders for readings shared by the tally and detection tests."""

from __future__ import annotations

from bot.core.models import Reading


def reading(
    window: str = "session",
    percent: float | None = None,
    from_percent: float | None = None,
    limit_hit: bool = False,
    idle: bool | None = None,
) -> Reading:
    """A reading with no reset, as most simulated reports have."""
    return Reading(window, percent, from_percent, limit_hit, None, idle)
