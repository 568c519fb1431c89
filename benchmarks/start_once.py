"""One start of the matcher, from a fresh interpreter to the first answer: what a restart costs.

`python -m benchmarks.start_once FOLDER CACHE_DIR` imports what the bot needs to match, opens the
catalog in FOLDER through the catalog cache in CACHE_DIR (ready from it when no file changed, else
read, validated and prepared, and saved there), matches one paste and prints one JSON line: the time
the catalog took inside this process, and the entries. The caller times the whole process until that
line arrives, so interpreter start-up and imports count as they do for the bot.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bot.core.catalog_cache import CatalogCache
from bot.core.workers import allow_processes

PASTE = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'


def main(argv: list[str] | None = None) -> int:
    folder, cache_dir = (Path(a) for a in (argv if argv is not None else sys.argv[1:]))
    allow_processes()  # as the bot's entry point does
    started = time.perf_counter()
    catalog, matcher = CatalogCache(cache_dir, str(folder)).open(folder)
    opened = time.perf_counter() - started
    answered = matcher.match(PASTE).best is not None
    print(json.dumps({"catalog_s": opened, "entries": len(catalog), "answered": answered}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
