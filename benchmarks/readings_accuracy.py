"""Accuracy and speed of the quota-reading parser on a labelled jsonl file.

Usage: python benchmarks/readings_accuracy.py [PATH] [--repeat N] [--quiet]

Scoring follows tests/data/eval/READINGS.md: a line is exactly right when its tool matches and its
readings match as an unordered multiset on window, percent, from_percent, limit_hit and idle.
Per-field figures break that down (resets, plan and model mode are reported but not part of the
exact match). Throughput is measured in the same run over the file repeated.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.readings import parse_readings  # noqa: E402

DEFAULT_PATH = ROOT / "tests" / "data" / "eval" / "readings-dev.jsonl"
EXACT_FIELDS = ("window", "percent", "from_percent", "limit_hit", "idle")


def _norm_resets(value: Any) -> str | None:
    return None if value is None else re.sub(r"\s+", "", str(value)).lower()


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def reading_key(reading: dict[str, Any], with_resets: bool = False) -> tuple[Any, ...]:
    key = (
        reading["window"],
        _num(reading["percent"]),
        _num(reading["from_percent"]),
        bool(reading["limit_hit"]),
        reading["idle"],
    )
    return (*key, _norm_resets(reading["resets"])) if with_resets else key


def readings_equal(
    expected: list[dict[str, Any]], got: list[dict[str, Any]], with_resets: bool = False
) -> bool:
    """Unordered multiset comparison of two reading lists."""
    return Counter(reading_key(r, with_resets) for r in expected) == Counter(
        reading_key(r, with_resets) for r in got
    )


def load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    fields = Counter()
    misses = []
    exact = 0
    for row in rows:
        expect = row["expect"]
        got = parse_readings(row["text"]).as_contract(row.get("id"))
        negative = not expect["readings"]
        checks = {
            "tool": negative or got["tool"] == expect["tool"],
            "readings": readings_equal(expect["readings"], got["readings"]),
            "readings+resets": readings_equal(expect["readings"], got["readings"], with_resets=True),
            "count": len(expect["readings"]) == len(got["readings"]),
            "plan": negative or got["plan"] == expect["plan"],
            "model_mode": negative or got["model_mode"] == expect["model_mode"],
        }
        fields.update(name for name, ok in checks.items() if ok)
        if checks["tool"] and checks["readings"]:
            exact += 1
        else:
            misses.append((row, got))
    return {"n": len(rows), "exact": exact, "fields": fields, "misses": misses}


def throughput(rows: list[dict[str, Any]], repeat: int) -> float:
    texts = [row["text"] for row in rows] * repeat
    started = time.perf_counter()
    for text in texts:
        parse_readings(text)
    elapsed = time.perf_counter() - started
    return len(texts) / elapsed if elapsed else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument(
        "--repeat", type=int, default=50, help="times the file is parsed for the speed figure"
    )
    parser.add_argument("--quiet", action="store_true", help="do not list the misses")
    args = parser.parse_args(argv)

    rows = load(args.path)
    result = score(rows)
    n = result["n"] or 1
    print(f"file: {args.path}")
    print(f"exact match (tool + readings): {result['exact']}/{result['n']} = {result['exact'] / n:.3f}")
    for name in ("tool", "readings", "readings+resets", "count", "plan", "model_mode"):
        print(f"  {name:<16} {result['fields'][name]:>4}/{result['n']} = {result['fields'][name] / n:.3f}")
    if not args.quiet:
        for row, got in result["misses"]:
            expect = row["expect"]
            print(f"\nMISS {row.get('id')}: {row['text'][:160]!r}")
            print(f"  expected tool={expect['tool']!r}")
            for r in expect["readings"]:
                print(f"    {r}")
            print(f"  got      tool={got['tool']!r}")
            for r in got["readings"]:
                print(f"    {r}")
    rate = throughput(rows, args.repeat)
    print(f"\nspeed: {rate:,.0f} lines/second ({len(rows) * args.repeat} parses)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
