"""Print how well unmatched pastes are grouped into catalog gaps, beside simpler groupings run in the same process.

Usage: python benchmarks/gap_clusters.py [--pastes FILE] [--catalog DIR] [--copies N]

The pastes are the development pastes of the wave-2 errors (`"wave": 2`), fed in as unmatched
pastes, with the catalog minus those errors as the background of known errors. Figures:

* as given (one or two pastes per error), and retold: each paste N more times with other ids and
  numbers, another lead-in and some environment lines dropped, as when many people paste one error;
* for each: the worst and mean share of an error's pastes in its biggest cluster (80% is the bar),
  and the clusters mixing two errors (0 is the bar);
* the same for the greedy fuzzy grouping the staff view used before, and for drain3 (whole pastes as
  log records) when it is installed; time relative to the greedy grouping.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.core.catalog import default_catalog_dir, load_catalog
from bot.core.evaluation import read_jsonl
from bot.core.gap_evaluation import GroupingReport, as_unmatched, grouping_report, retellings
from bot.core.gaps import GapCluster, mine_gaps
from bot.core.models import UnmatchedPaste

HERE = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval"

Grouper = Callable[[Sequence[UnmatchedPaste], Sequence[str]], list[list[int]]]


def ours(pastes: Sequence[UnmatchedPaste], background: Sequence[str]) -> list[list[int]]:
    return [list(c.members) for c in mine_gaps(pastes, background)]


def greedy_fuzzy(pastes: Sequence[UnmatchedPaste], background: Sequence[str]) -> list[list[int]]:
    """The grouping the staff view had: first paste within token-set ratio 80 wins."""
    from rapidfuzz import fuzz

    from bot.core.normalize import normalize

    groups: list[tuple[str, list[int]]] = []
    for index, paste in enumerate(pastes):
        key = normalize(paste.paste[:500])
        for representative, members in groups:
            if fuzz.token_set_ratio(key, representative) >= 80:
                members.append(index)
                break
        else:
            groups.append((key, [index]))
    return [members for _, members in groups]


def drain(pastes: Sequence[UnmatchedPaste], background: Sequence[str]) -> list[list[int]]:
    from drain3 import TemplateMiner  # type: ignore[import-not-found]
    from drain3.template_miner_config import TemplateMinerConfig  # type: ignore[import-not-found]

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    by_cluster: dict[int, list[int]] = {}
    for index, paste in enumerate(pastes):
        result = miner.add_log_message(" ".join(paste.paste.split()))
        by_cluster.setdefault(result["cluster_id"], []).append(index)
    return list(by_cluster.values())


def measure(grouper: Grouper, labelled: Sequence[tuple[str, str]], background: Sequence[str]) -> tuple[
        GroupingReport, float]:
    pastes = as_unmatched([text for text, _ in labelled])
    started = time.perf_counter()
    groups = grouper(pastes, background)
    elapsed = time.perf_counter() - started
    clusters = [GapCluster(f"c{i}", "", len(m), 0, None, pastes[0].seen_at, pastes[0].seen_at, (), members=tuple(m))
                for i, m in enumerate(groups)]
    return grouping_report([label for _, label in labelled], pastes, clusters), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pastes", type=Path, default=HERE / "pastes-dev.jsonl")
    parser.add_argument("--catalog", type=Path, default=default_catalog_dir())
    parser.add_argument("--copies", type=int, default=4, help="retellings of each paste (default 4)")
    args = parser.parse_args()
    rows = [r for r in read_jsonl(args.pastes) if r.get("wave") == 2]
    labelled = [(r["text"], r["expect"]) for r in rows]
    unknown = {label for _, label in labelled}
    catalog = load_catalog(args.catalog)
    background = ["\n".join((e.signature, *e.variants, *e.examples)) for e in catalog.entries if e.id not in unknown]
    retold = [(copy, label) for index, (text, label) in enumerate(labelled)
              for copy in (text, *retellings(text, args.copies, seed=index))]
    groupers: list[tuple[str, Grouper]] = [("greedy fuzzy (before)", greedy_fuzzy), ("gap miner", ours)]
    try:
        import drain3  # type: ignore[import-not-found]  # noqa: F401

        groupers.append(("drain3, whole pastes", drain))
    except ImportError:
        print("(drain3 not installed: pip install drain3 to compare with it)")
    print(f"catalog background: {len(background)} known errors; wave-2 dev pastes: {len(labelled)}")
    for title, data in (("as given", labelled), (f"retold x{args.copies + 1}", retold)):
        print(f"\n== {title}")
        baseline_time = None
        for name, grouper in groupers:
            report, elapsed = measure(grouper, data, background)
            baseline_time = baseline_time or elapsed
            print(f"-- {name}: {elapsed / baseline_time:.2f}x the greedy grouping's time")
            for line in report.lines():
                print("   " + line)
        report, _ = measure(ours, data, [])
        print("-- gap miner without the catalog as background")
        for line in report.lines()[:3]:
            print("   " + line)


if __name__ == "__main__":
    main()
