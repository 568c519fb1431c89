"""How well the matcher recognises pastes it has never seen: leave each catalog example out in turn.

For every example of every entry, the entry is rebuilt without that example and the example is
matched against the rest of the catalog. It approximates accuracy on unseen pastes better than the
examples themselves can (they are in the catalog), and needs no labelled data beyond the catalog.
Usage: python benchmarks/holdout.py [--catalog DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import Counter
from pathlib import Path

from bot.core.catalog import Catalog, default_catalog_dir, load_catalog
from bot.core.matching import Matcher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=default_catalog_dir())
    args = parser.parse_args()
    catalog = load_catalog(args.catalog)
    started = time.perf_counter()
    outcomes: Counter[str] = Counter()
    misses: list[str] = []
    for entry in catalog.entries:
        for held_out in entry.examples:
            reduced = dataclasses.replace(entry, examples=tuple(e for e in entry.examples if e != held_out))
            others = [reduced if e.id == entry.id else e for e in catalog.entries]
            result = Matcher(Catalog.of(others, catalog.version)).match(held_out)
            got = result.best.entry_id if result.best else None
            if got == entry.id:
                outcomes["right"] += 1
            elif got is None:
                outcomes["no answer"] += 1
                misses.append(f"  no answer  {entry.id}: {held_out[:90]!r}")
            else:
                outcomes["wrong"] += 1
                misses.append(f"  WRONG      {entry.id} -> {got}: {held_out[:90]!r}")
    total = sum(outcomes.values())
    print(f"held-out examples: {total} from {len(catalog)} entries, {time.perf_counter() - started:.0f} s")
    for outcome in ("right", "no answer", "wrong"):
        print(f"{outcome:>10}: {outcomes[outcome]:4d} = {100 * outcomes[outcome] / total:.1f}%")
    print("\n".join(misses))


if __name__ == "__main__":
    main()
