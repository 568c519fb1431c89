"""How far two labellings of the same real texts agree, and how the parser does where they agree.

Usage: python benchmarks/label_agreement.py LABELLED.jsonl SECOND.jsonl

LABELLED is a part of the real-text set (id, text, expect); SECOND holds another person's labels of
the same ids (id, expect), made blind from tests/data/eval/READINGS.md alone. Two labellings are
compared the way the parser is scored (tool, and readings as an unordered multiset). Where the two
agree, a miss is the parser's; where they differ, the rules leave room, and a parser miss there says
less. Prints counts only, never a line's text.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.readings_accuracy import readings_equal  # noqa: E402
from bot.core.readings import parse_readings  # noqa: E402


def same(expect: dict[str, Any], other: dict[str, Any]) -> bool:
    negative = not expect["readings"]
    return (negative or expect["tool"] == other["tool"]) and readings_equal(expect["readings"], other["readings"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labelled", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    rows = {r["id"]: r for r in map(json.loads, args.labelled.read_text(encoding="utf-8").splitlines()) if r}
    second = {r["id"]: r["expect"] for r in map(json.loads, args.second.read_text(encoding="utf-8").splitlines()) if r}
    missing = sorted(set(rows) - set(second))
    if missing:
        print(f"the second labelling lacks {len(missing)} ids (first: {missing[0]})", file=sys.stderr)
        return 2
    agreed = [i for i in rows if same(rows[i]["expect"], second[i])]
    parsed = {i: parse_readings(rows[i]["text"]).as_contract(i) for i in rows}
    right = {i for i in rows if same(rows[i]["expect"], parsed[i])}
    print(f"labellings agree exactly: {len(agreed)}/{len(rows)}")
    print(f"parser right against the first labels: {len(right)}/{len(rows)}")
    print(f"parser right where both labellings agree: {len(right & set(agreed))}/{len(agreed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
