"""What a restart's catalog part costs when nothing changed and when one catalog file changed in place.

`python -m benchmarks.catalog_restart FOLDER [--cache DIR] [--profile N]` copies FOLDER to a scratch
folder, opens the copy once through the catalog cache in DIR (so the cache knows the copy's files; a
cache that knows none of its entries yet makes this a first start), then times warm opens, edits one
file in place and times the open that follows (`--rounds` edits, one after the other: their median),
and a warm open after them. Every open is in this process, as a reload is. `--profile N` prints the N
costliest functions of the opens after an edit.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.catalog import Catalog  # noqa: E402
from bot.core.catalog_cache import CatalogCache, wait_for_saves  # noqa: E402
from bot.core.matching import Matcher  # noqa: E402

EDITED = "claude-code-529-overloaded.yaml"


def edit_in_place(folder: Path, mark: str) -> Path:
    """One catalog file rewritten in place (same inode, new size and times): its title gains `mark`."""
    edited = folder / EDITED
    if not edited.exists():
        edited = sorted(folder.glob("*.yaml"))[0]
    text = edited.read_text(encoding="utf-8")
    with edited.open("r+", encoding="utf-8") as handle:
        handle.write(text.replace("title: ", f"title: {mark}", 1))
        handle.truncate()
    return edited


def timed_open(cache_dir: Path, name: str, folder: Path) -> tuple[float, tuple[Catalog, Matcher]]:
    """Seconds until the catalog serves; its save for the next start is then waited for, untimed."""
    started = time.perf_counter()
    opened = CatalogCache(cache_dir, name).open(folder)
    seconds = time.perf_counter() - started
    wait_for_saves()
    return seconds, opened


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--cache", type=Path, help="the catalog cache folder (default: a new one, so a first start)")
    parser.add_argument("--warm", type=int, default=5, help="warm opens timed (median)")
    parser.add_argument("--rounds", type=int, default=3, help="edits, each followed by a timed open (median)")
    parser.add_argument("--profile", type=int, default=0, help="print this many functions of the changed open")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-restart-") as scratch:
        cache_dir = args.cache or Path(scratch) / "cache"
        copy = Path(scratch) / args.folder.name
        shutil.copytree(args.folder, copy)
        name = str(args.folder)
        first, _ = timed_open(cache_dir, name, copy)
        warm = statistics.median(timed_open(cache_dir, name, copy)[0] for _ in range(args.warm))
        profile = cProfile.Profile() if args.profile else None
        times = []
        for round_number in range(args.rounds):
            mark = f"Edited {round_number} "
            edited = edit_in_place(copy, mark)
            if profile is not None:
                profile.enable()
            seconds, (catalog, _) = timed_open(cache_dir, name, copy)
            if profile is not None:
                profile.disable()
            times.append(seconds)
            entry = catalog.get(edited.stem)
            if entry is None or not entry.title.startswith(mark):
                raise RuntimeError("the changed file was not read again")
        changed = statistics.median(times)
        after = statistics.median(timed_open(cache_dir, name, copy)[0] for _ in range(args.warm))
    print(f"{len(catalog):,} entries: first open of the copy {first * 1e3:.1f} ms, warm {warm * 1e3:.2f} ms, "
          f"one file changed in place {changed * 1e3:.1f} ms (median of {len(times)}: "
          f"{', '.join(f'{t * 1e3:.0f}' for t in times)}), warm after it {after * 1e3:.2f} ms")
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
