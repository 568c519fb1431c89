"""Accuracy and speed of the quota-reading parser on labelled jsonl files.

Usage: python benchmarks/readings_accuracy.py [PATH ...] [--repeat N] [--quiet]

Without PATH it scores the dev eval set and every part of the extra real-text set: the parts that
are studied (tests/data/readings-extra/dev.jsonl and holdout.jsonl to holdout8.jsonl), with their
misses listed, and any part kept aside (named in HELD_ASIDE), scored without its misses, whichever
way it is passed: it is not for reading.

History of the held-aside parts. holdout.jsonl and holdout3.jsonl were kept aside, unread, to see
whether a change generalised; on 2026-12-02 they were measured one last time and moved into
development (the names stay so older figures can be compared). Their last unseen figures, with the
same command: holdout.jsonl 26/34 = 0.765, holdout3.jsonl 20/31 = 0.645 (dev.jsonl 206/212 = 0.972,
eval dev 54/54). Figures printed for them since are figures on studied text, not on unseen text.
holdout4.jsonl (70 texts) was kept aside the same way and moved into development on 2026-12-02; its
unseen figures: 34/70 = 0.486 before the round of fixes that studied holdout and holdout3, 35/70 =
0.500 after it (that round's fixes barely carried over to unseen text).
holdout5.jsonl (55 texts) was kept aside the same way; its unseen figures: 30/55 = 0.545 on its
first run, 31/55 = 0.564 after the round of fixes that studied holdout4 (which took holdout4 to
57/70), 32/55 = 0.582 after a round that grew the lexicon category by category in every language
from written sentences, not from any set's lines (the studied parts unchanged), and still 32/55 after
the change-order and 'went up to' fixes. It was moved into development on 2026-12-02 with its last
unseen figure 32/55 = 0.582 (dev.jsonl 220/225 = 0.978, eval dev 54/54). Real text the rules were
not written against is read about half to three fifths exactly right.
holdout6.jsonl (71 texts) was gathered on 2026-12-02 from threads none of the older sets cite and
was kept aside the same way; its unseen figures: 32/71 = 0.451 on the parser that scored holdout5
32/55, and still 32/71 after the round of fixes that studied holdout5 (which took holdout5 to 49/55).
It was moved into development on 2026-12-02 with that last unseen figure, 32/71 = 0.451.
holdout7.jsonl (91 texts, 22 not in English, 12 negatives) was gathered on 2026-12-02 from threads
none of the older sets cite, labelled from READINGS.md alone. Its unseen figures: 54/91 = 0.593 on
the parser as it stood before the round that studied holdout6, and 54/91 = 0.593 after it, the same
lines right and wrong (that round took holdout6 from 32/71 to 47/71). A second person labelled it
again, blind (tests/data/readings-labels/holdout7.second.jsonl; `python benchmarks/label_agreement.py
tests/data/readings-extra/holdout7.jsonl tests/data/readings-labels/holdout7.second.jsonl`): on the
part as it is now the two labellings agree exactly on 76/82 lines, and the parser of commit 2d30634
was right on 47 of those 76, so its misses are its own, not disagreement about labels. It was then
studied.
Later on 2026-12-02 the lines quoted from trial-bypass, account-sharing and subscription-relay
projects were removed from every part (dev.jsonl 10, holdout3 1, holdout4 1, holdout5 1, holdout6 2,
holdout7 9, holdout8 9 lines; tests/core/test_readings_data.py keeps them out); the figures above
were measured before. On what is left, the parser of commit 2d30634 (the last one neither holdout6
nor holdout7 had taught) scores holdout6 30/69 = 0.435 and holdout7 49/82 = 0.598.
holdout8.jsonl (71 texts after that removal, 19 not in English, 11 negatives) was gathered on
2026-12-02 from threads none of the older sets cite and is kept aside now. Its unseen figures:
37/71 = 0.521 on the parser of commit 2d30634 and 37/71 = 0.521 after the rounds that studied
holdout6 and holdout7 (which took them to 46/69 and 63/82), the same lines right and wrong. Only its
per-field summary has been looked at: of its 34 misses, 11 are texts where the parser finds no
reading at all, 9 are activity (idle or not) not recognised and 6 are one reading split in two.
A last-resort rule for the first kind, written from the studied parts (an allowance and a word of
it being spent in one sentence, in either order, for a text about an AI tool), took it to 38/71 =
0.535, measured once after the rule was written; the first change of the day that carried over.
holdout8 moved into development on 2026-12-02 with its last unseen figure 38/71.
holdout9.jsonl (103 texts, 85 with readings and 18 negatives, 19 not in English, each from its own
thread) was gathered on 2026-12-02 from threads none of the older sets cite, labelled from READINGS.md
alone by someone who never ran the parser on it, and is kept aside now. Its unseen figure on the
parser that scored holdout8 38/71 (commit 13d4dbf): 48/103 = 0.466.
It was 49/103 after the Trae names record (two studied sets label Trae) and still 49/103 after
the round that fixed only kinds of misses found in two or more studied sets (which took holdout8 to
43/71 and holdout6 to 52/69): that round carried over to no unseen line. Then 50/103 after active
use said outright as a little use ('I just typed', 'after very limited usage'), a change written
knowing the labeller's summary of how the set labels activity, so that figure is not wholly unseen.

Scoring follows tests/data/eval/READINGS.md: a line is exactly right when its tool matches and its
readings match as an unordered multiset on window, percent, from_percent, limit_hit and idle.
Per-field figures break that down (resets, plan and model mode are reported but not part of the
exact match).

Speed is printed as texts per second beside a baseline measured in the same process (a plain
normalise-and-find-percentages pass over the same texts), so machines and load cancel out; the
ratio is compared with the one the previous parser (a single module of regular expressions)
had on 2026-12-01. Growth is printed as the time ratio of parsing a hostile text and one four
times longer (linear work gives about 4).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.readings import parse_readings  # noqa: E402

# The studied parts and the part kept aside (see the history above).
DEFAULT_PATHS = [
    ROOT / "tests" / "data" / "eval" / "readings-dev.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "dev.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "holdout.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "holdout3.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "holdout4.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "holdout5.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "holdout6.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "holdout7.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "holdout8.jsonl",
    ROOT / "tests" / "data" / "readings-extra" / "holdout9.jsonl",
]
# Parts kept aside: scored, never listed line by line, whichever way they are passed.
HELD_ASIDE = frozenset({"holdout9.jsonl"})
# The previous parser's speed as a share of the same-process baseline, measured on 2026-12-01 over
# the dev set with this file's _rate (three runs: 0.0044, 0.0045, 0.0059; the median is kept). In the
# same runs the new parser's share was 0.0046, 0.0050, 0.0036. "No slower than 2x" means a share
# above half of this.
PREVIOUS_SHARE = 0.0045
_FIGURE_RE = re.compile(r"\d{1,3}(?:[.,]\d+)?\s?%")
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


def _baseline(text: str) -> list[str]:
    """The cheapest honest reading: normalise the text and find its percentages."""
    return _FIGURE_RE.findall(unicodedata.normalize("NFKC", text).lower())


def _rate(fn: Any, texts: list[str], runs: int = 3, min_seconds: float = 0.5) -> float:
    """Texts per second, best of `runs`; each run goes over the texts as many times as it takes to
    last `min_seconds`, so a fast function is timed over as long a stretch as a slow one."""
    best = 0.0
    for _ in range(runs):
        done = 0
        started = time.perf_counter()
        while True:
            for text in texts:
                fn(text)
            done += len(texts)
            elapsed = time.perf_counter() - started
            if elapsed >= min_seconds:
                break
        best = max(best, done / elapsed)
    return best


def throughput(rows: list[dict[str, Any]], repeat: int) -> tuple[float, float]:
    texts = [row["text"] for row in rows] * repeat
    return _rate(parse_readings, texts), _rate(_baseline, texts)


def growth() -> float:
    """Time ratio of parsing a hostile text four times longer (linear work gives about 4)."""
    unit = "weekly 40% -> 100% · resets 5pm (UTC) | 1234567890 "
    small, large = unit * 800, unit * 3200
    t_small = min(_timed(small) for _ in range(3))
    t_large = min(_timed(large) for _ in range(3))
    return t_large / t_small if t_small else float("inf")


def _timed(text: str) -> float:
    started = time.perf_counter()
    parse_readings(text)
    return time.perf_counter() - started


def report(path: Path, quiet: bool) -> list[dict[str, Any]]:
    rows = load(path)
    result = score(rows)
    n = result["n"] or 1
    print(f"file: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"exact match (tool + readings): {result['exact']}/{result['n']} = {result['exact'] / n:.3f}")
    for name in ("tool", "readings", "readings+resets", "count", "plan", "model_mode"):
        print(f"  {name:<16} {result['fields'][name]:>4}/{result['n']} = {result['fields'][name] / n:.3f}")
    if not quiet:
        for row, got in result["misses"]:
            expect = row["expect"]
            print(f"\nMISS {row.get('id')}: {row['text'][:160]!r}")
            print(f"  expected tool={expect['tool']!r}")
            for r in expect["readings"]:
                print(f"    {r}")
            print(f"  got      tool={got['tool']!r}")
            for r in got["readings"]:
                print(f"    {r}")
    print()
    return rows


def lists_misses(path: Path, quiet: bool) -> bool:
    """Misses are listed for studied parts unless asked not to; never for a part kept aside."""
    return not quiet and path.name not in HELD_ASIDE


def held_aside_history() -> str:
    """The docstring's paragraph on the held-aside parts' unseen figures, as printed text."""
    paragraphs = (__doc__ or "").split("\n\n")
    return next((p for p in paragraphs if p.startswith("History of the held-aside parts")), "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=DEFAULT_PATHS)
    parser.add_argument(
        "--repeat", type=int, default=20, help="times the dev set is parsed for the speed figure"
    )
    parser.add_argument("--quiet", action="store_true", help="do not list the misses")
    args = parser.parse_args(argv)

    # The held-aside record travels with every run (and into docs/benchmarks.md), not only the source.
    print(held_aside_history(), end="\n\n")
    for path in args.paths:
        report(path, quiet=not lists_misses(path, args.quiet))
    # Speed is always measured on the dev set, the texts the previous parser's share was measured on.
    first = load(DEFAULT_PATHS[0])
    rate, base = throughput(first, args.repeat)
    share = rate / base if base else 0.0
    print(f"speed on the dev set: {rate:,.0f} texts/second ({len(first) * args.repeat} parses, best of 3)")
    print(f"  baseline in the same process (normalise + find percentages): {base:,.0f} texts/second")
    print(f"  parser = {share:.4f} of baseline; previous parser (2026-12-01) = {PREVIOUS_SHARE:.4f}")
    print(f"  relative to the previous parser: {share / PREVIOUS_SHARE:.2f}x its speed (target: >= 0.5x)")
    print(f"growth: 4x the text takes {growth():.1f}x the time (linear: about 4)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
