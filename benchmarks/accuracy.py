"""Print the matcher's top-1 accuracy on labelled pastes and its false-trigger rate on negatives.

Usage: python benchmarks/accuracy.py [--pastes FILE] [--negatives FILE] [--catalog DIR]
Defaults are the development sets shipped in tests/data/eval and the shipped catalog.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bot.core.catalog import default_catalog_dir, load_catalog
from bot.core.evaluation import evaluate, read_jsonl
from bot.core.matching import Matcher

HERE = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pastes", type=Path, default=HERE / "pastes-dev.jsonl")
    parser.add_argument("--negatives", type=Path, default=HERE / "negatives-dev.jsonl")
    parser.add_argument("--catalog", type=Path, default=default_catalog_dir())
    args = parser.parse_args()
    started = time.perf_counter()
    matcher = Matcher(load_catalog(args.catalog))
    loaded = time.perf_counter()
    report = evaluate(matcher, read_jsonl(args.pastes), read_jsonl(args.negatives))
    done = time.perf_counter()
    print(f"catalog: {len(matcher.catalog)} entries, prepared in {1000 * (loaded - started):.0f} ms")
    print(f"top-1: {report.correct}/{report.pastes} = {100 * report.top1:.1f}%"
          f" (pastes of entries not in the catalog skipped: {report.skipped_unknown_entry})")
    print(f"false triggers: {report.false_triggers}/{report.negatives} = {100 * report.false_trigger_rate:.1f}%"
          " (chat and other software; ambiguous negatives left out)")
    print(f"out-of-catalog errors answered: {report.out_of_catalog_answered}/{report.out_of_catalog}"
          f" = {100 * report.out_of_catalog_rate:.1f}% (should say 'not recognised')")
    print(f"matched {report.pastes + report.negatives} texts in {1000 * (done - loaded):.0f} ms")
    for line in report.misses:
        print("  miss:", line)
    for line in report.triggers:
        print("  false trigger:", line)
    for line in report.wrong_answers:
        print("  wrong answer:", line)


if __name__ == "__main__":
    main()
