"""`supportbot chart`: reports over time by kind of symptom, incidents shaded (matplotlib, headless)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bot.core.models import Incident, QuotaReport
from bot.core.tallies import symptoms_of
from bot.errors import UsageError

# Drawn in this order, the most specific kinds last so they stay visible where counts coincide.
KINDS = ("report", "jump", "limit_hit", "contradiction", "idle_jump")
STYLES = {"report": "-", "jump": ":", "limit_hit": "-", "contradiction": "--", "idle_jump": "--"}
COLOURS = {"report": "#8c8c8c", "limit_hit": "#d62728", "idle_jump": "#ff7f0e", "contradiction": "#9467bd",
           "jump": "#1f77b4"}


def _bucket_size(span: dt.timedelta) -> dt.timedelta:
    if span <= dt.timedelta(days=2):
        return dt.timedelta(hours=1)
    if span <= dt.timedelta(days=14):
        return dt.timedelta(hours=6)
    return dt.timedelta(days=1)


def render_chart(
    reports: Sequence[QuotaReport], incidents: Sequence[Incident], since: dt.datetime, until: dt.datetime, out: Path
) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("the chart needs matplotlib: pip install 'supportbot[chart]'") from None
    size = _bucket_size(until - since)
    buckets = int((until - since) / size) + 1
    starts = [since + i * size for i in range(buckets)]
    counts: dict[str, Counter[int]] = {kind: Counter() for kind in KINDS}
    for report in reports:
        index = int((report.received_at - since) / size)
        for kind in symptoms_of(report):
            if kind in counts:
                counts[kind][index] += 1
    fig, ax = plt.subplots(figsize=(11, 4.8), dpi=110)
    for kind in KINDS:
        values = [counts[kind][i] for i in range(buckets)]
        if any(values):
            ax.plot(mdates.date2num(starts), values, label=kind.replace("_", " "), color=COLOURS[kind], linewidth=2.2,
                    linestyle=STYLES[kind], drawstyle="steps-post")
    for incident in incidents:
        end = incident.updated_at if incident.status.value == "resolved" and incident.updated_at else until
        if end < since or incident.opened_at > until:
            continue
        start_at = float(mdates.date2num(max(incident.opened_at, since)))
        ax.axvspan(start_at, float(mdates.date2num(min(end, until))), color="#d62728", alpha=0.12)
        ax.annotate(f"#{incident.id} {incident.tool}", xy=(start_at, 0.98),
                    xycoords=("data", "axes fraction"), fontsize=8, va="top", color="#a11")
    ax.set_title(f"Quota reports per {_label(size)}, {since:%Y-%m-%d} to {until:%Y-%m-%d} (UTC); incidents shaded")
    ax.set_ylabel("reports")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d\n%H:%M"))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no reports in this window", transform=ax.transAxes, ha="center", color="#666")
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)


def _label(size: dt.timedelta) -> str:
    hours = int(size.total_seconds() // 3600)
    return "hour" if hours == 1 else f"{hours} hours" if hours < 24 else "day"
