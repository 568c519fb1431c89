"""Coverage of the catalog by tool and category (`supportbot catalog stats`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from bot.core.catalog import CATEGORIES, Entry


def _table(entries: Sequence[Entry]) -> tuple[list[str], list[str], Counter[tuple[str, str]]]:
    tools = sorted({e.tool for e in entries})
    categories = sorted(CATEGORIES)
    cells: Counter[tuple[str, str]] = Counter((e.tool, e.category) for e in entries)
    return tools, categories, cells


def stats_json(entries: Sequence[Entry]) -> dict[str, object]:
    tools, categories, cells = _table(entries)
    return {
        "entries": len(entries),
        "by_tool": dict(Counter(e.tool for e in entries)),
        "by_category": dict(Counter(e.category for e in entries)),
        "matrix": {tool: {c: cells[(tool, c)] for c in categories if cells[(tool, c)]} for tool in tools},
    }


def stats_markdown(entries: Sequence[Entry]) -> str:
    tools, categories, cells = _table(entries)
    used = [c for c in categories if any(cells[(t, c)] for t in tools)]
    lines = ["| tool | " + " | ".join(used) + " | total |", "|---|" + "---:|" * (len(used) + 1)]
    for tool in tools:
        row = [str(cells[(tool, c)] or "") for c in used]
        lines.append(f"| {tool} | " + " | ".join(row) + f" | {sum(cells[(tool, c)] for c in used)} |")
    totals = [str(sum(cells[(t, c)] for t in tools)) for c in used]
    lines.append("| **total** | " + " | ".join(totals) + f" | {len(entries)} |")
    return "\n".join(lines)


def stats_text(entries: Sequence[Entry]) -> str:
    tools, categories, cells = _table(entries)
    used = [c for c in categories if any(cells[(t, c)] for t in tools)]
    width = max([len(t) for t in tools] + [5])
    header = "tool".ljust(width) + "".join(c[:14].rjust(16) for c in used) + "total".rjust(8)
    lines = [f"{len(entries)} entries", header]
    for tool in tools:
        counts = "".join(str(cells[(tool, c)] or "-").rjust(16) for c in used)
        lines.append(tool.ljust(width) + counts + str(sum(cells[(tool, c)] for c in used)).rjust(8))
    return "\n".join(lines)


def stale_entries(entries: Sequence[Entry], today: dt.date, days: int = 180) -> list[Entry]:
    """Entries nobody has reviewed for `days` days (by `reviewed`, else `updated`), oldest first."""
    cutoff = today - dt.timedelta(days=days)
    return sorted((e for e in entries if e.last_reviewed < cutoff), key=lambda e: (e.last_reviewed, e.id))


def freshness_lines(entries: Sequence[Entry], today: dt.date, days: int = 180) -> list[str]:
    stale = stale_entries(entries, today, days)
    retired = [e for e in entries if e.retired]
    lines = [f"{len(stale)} entries not reviewed for {days} days" + (":" if stale else ".")]
    lines += [f"  {e.id}  last reviewed {e.last_reviewed.isoformat()}" + ("  (retired)" if e.retired else "")
              for e in stale]
    if retired:
        lines.append(f"{len(retired)} retired (answered, marked as not applying to current versions): "
                     + ", ".join(e.id for e in retired))
    return lines
