"""Charts as PNG (matplotlib, headless, no pyplot state) or, without matplotlib, as text sparklines.

Drawing takes tens of milliseconds of CPU, so front ends call `render_png` through
`asyncio.to_thread` (`render_png_async`), never on the event loop. Each call builds its own `Figure`
and Agg canvas, so concurrent renders share no global state.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from bot.core.charts import ChartData, text_chart
from bot.errors import UsageError

WIDTH_IN, HEIGHT_IN, DPI = 11.0, 4.8, 100
WIDTH_PX, HEIGHT_PX = int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI)  # every PNG is exactly this size
STYLES = {"report": "-", "jump": ":", "limit_hit": "-", "contradiction": "--", "idle_jump": "--"}
COLOURS = {"report": "#8c8c8c", "limit_hit": "#d62728", "idle_jump": "#ff7f0e", "contradiction": "#9467bd",
           "jump": "#1f77b4"}


def charts_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def render_png(chart: ChartData) -> bytes | None:
    """The chart as PNG bytes of WIDTH_PX x HEIGHT_PX; None when matplotlib is not installed."""
    try:
        import matplotlib.dates as mdates
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = mdates.date2num(list(chart.starts))
    for series in chart.series:
        ax.plot(xs, list(series.values), label=series.name.replace("_", " "),
                color=COLOURS.get(series.name, "#1f77b4"), linewidth=2.2,
                linestyle=STYLES.get(series.name, "-"), drawstyle="steps-post")
    if chart.baseline is not None:
        ax.axhline(chart.baseline, color="#2ca02c", linestyle="--", linewidth=1.5,
                   label=f"baseline {chart.baseline:.1f}")
    for span in chart.spans:
        start = float(mdates.date2num(span.start))
        ax.axvspan(start, float(mdates.date2num(span.end)), color="#d62728", alpha=0.12)
        ax.annotate(span.label, xy=(start, 0.98), xycoords=("data", "axes fraction"), fontsize=8, va="top",
                    color="#a11")
    ax.set_title(chart.title, fontsize=10)
    ax.set_ylabel(chart.y_label)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d\n%H:%M"))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8)
    if chart.empty:
        ax.text(0.5, 0.5, "no reports in this window", transform=ax.transAxes, ha="center", color="#666")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


async def render_png_async(chart: ChartData) -> bytes | None:
    """`render_png` in a worker thread, so the event loop keeps answering while it draws."""
    return await asyncio.to_thread(render_png, chart)


def chart_text(chart: ChartData) -> str:
    """The text fallback: a sparkline per series, for where no image can be shown."""
    return "\n".join(text_chart(chart))


def render_chart(chart: ChartData, out: Path) -> None:
    """`supportbot chart`: the reports chart (by kind of symptom, incidents shaded) written to `out`."""
    png = render_png(chart)
    if png is None:
        raise UsageError("the chart needs matplotlib: pip install matplotlib")
    out.write_bytes(png)
