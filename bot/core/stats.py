"""Counters the service keeps for the operator view (`/metrics`): plain numbers, no I/O, no library.

The HTTP server turns them into Prometheus text when scraped (`bot.metrics`); they count since the
process started, as Prometheus counters do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Stats:
    reports_stored: int = 0  # quota reports stored (and thanked for)
    refused_busy: int = 0  # requests answered "busy, try again" because too much work was in flight
    answers_given: int = 0  # pasted errors answered with a catalog entry
    unmatched_pastes: int = 0  # pasted errors no entry matched
    detection_runs: int = 0  # periodic spike-detection runs finished
    detection_failures: int = 0  # runs that failed (the database was unreachable, say)
    detection_seconds: float = 0.0  # total time spent in detection runs
    detection_last_seconds: float = 0.0
