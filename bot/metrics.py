"""The operator view: the service's counters as Prometheus text, served at `GET /metrics`.

A custom collector reads the live numbers at scrape time (`bot.core.stats.Stats`, the work in flight,
the catalog in use), so the core only keeps plain counters and never imports `prometheus_client`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from bot.core.stats import Stats

CONTENT_TYPE = CONTENT_TYPE_LATEST


class _ServiceCollector(Collector):
    def __init__(self, stats: Stats, in_flight: Callable[[], int], catalog: Callable[[], tuple[str, int]]) -> None:
        self._stats, self._in_flight, self._catalog = stats, in_flight, catalog

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | SummaryMetricFamily | InfoMetricFamily]:
        s = self._stats
        yield CounterMetricFamily("supportbot_reports_stored", "Quota reports stored.", value=s.reports_stored)
        yield CounterMetricFamily("supportbot_refused_busy",
                                  "Requests answered 'busy, try again' because too much work was in flight.",
                                  value=s.refused_busy)
        yield GaugeMetricFamily("supportbot_work_in_flight", "Requests being worked on right now.",
                                value=self._in_flight())
        yield CounterMetricFamily("supportbot_answers", "Pasted errors answered with a catalog entry.",
                                  value=s.answers_given)
        yield CounterMetricFamily("supportbot_unmatched_pastes", "Pasted errors no catalog entry matched.",
                                  value=s.unmatched_pastes)
        yield SummaryMetricFamily("supportbot_detection_duration_seconds",
                                  "Spike-detection runs finished, and the time they took.",
                                  count_value=s.detection_runs, sum_value=s.detection_seconds)
        yield CounterMetricFamily("supportbot_detection_failures", "Spike-detection runs that failed.",
                                  value=s.detection_failures)
        version, entries = self._catalog()
        yield InfoMetricFamily("supportbot_catalog", "The catalog in use.",
                               value={"version": version, "entries": str(entries)})


def make_registry(stats: Stats, in_flight: Callable[[], int],
                  catalog: Callable[[], tuple[str, int]]) -> CollectorRegistry:
    """A registry holding only this process's service numbers (no process or platform collectors)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ServiceCollector(stats, in_flight, catalog))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
