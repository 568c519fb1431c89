"""Matcher speed and memory, against a plain rapidfuzz baseline measured in the same process.

Prints: catalog preparation time and peak memory; pastes/second for the matcher and for the baseline
(`process.extractOne` over the literal signatures, the naive approach); time for a 1 MB log paste.
Usage: python benchmarks/match_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.core.catalog import default_catalog_dir, load_catalog
from bot.core.evaluation import read_jsonl
from bot.core.matching import Matcher

EVAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    texts = [str(d["text"]) for d in read_jsonl(EVAL / "pastes-dev.jsonl") + read_jsonl(EVAL / "negatives-dev.jsonl")]
    texts = texts * args.repeat

    tracemalloc.start()
    started = time.perf_counter()
    catalog = load_catalog(default_catalog_dir())
    matcher = Matcher(catalog)
    prepared = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"catalog: {len(catalog)} entries, prepared in {1000 * (prepared - started):.0f} ms, "
          f"peak memory {peak / 1e6:.1f} MB")

    begin = time.perf_counter()
    for text in texts:
        matcher.match(text)
    ours = time.perf_counter() - begin

    signatures = {entry.id: entry.signature.lower() for entry in catalog.entries}
    begin = time.perf_counter()
    for text in texts:
        process.extractOne(text.lower(), signatures, scorer=fuzz.partial_ratio)
    baseline = time.perf_counter() - begin

    print(f"matcher:  {len(texts) / ours:8.0f} pastes/s ({len(texts)} pastes)")
    print(f"baseline: {len(texts) / baseline:8.0f} pastes/s (rapidfuzz extractOne over signatures)")

    log = "\n".join(f"2026-01-01T00:00:00Z INFO worker {i} ok" for i in range(30_000))
    huge = log + "\n" + catalog.entries[0].signature + "\n" + log
    begin = time.perf_counter()
    result = matcher.match(huge)
    print(f"1 MB paste ({len(huge) / 1e6:.1f} MB): {1000 * (time.perf_counter() - begin):.0f} ms, "
          f"match={result.best.entry_id if result.best else None} (expected {catalog.entries[0].id})")


if __name__ == "__main__":
    main()
