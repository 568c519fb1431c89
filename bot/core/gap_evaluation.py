"""How well the gap miner groups pastes: shared by benchmarks/gap_clusters.py and the tests.

Labelled pastes (`{"text", "expect"}`) are fed to the miner as unmatched pastes, each from its own
person. Two figures come out: for each error, the share of its pastes that land in its biggest cluster
(grouping), and the clusters holding pastes of more than one error (mixing).

Labelled sets usually hold one or two pastes per error, while a real gap is the same error pasted by
many people. `retellings` makes such copies generically: other ids and numbers, another lead-in
sentence, some environment lines dropped. It knows nothing about any particular error.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.core.gaps import GapCluster, mine_gaps
from bot.core.models import Origin, UnmatchedPaste

LEAD_INS = (
    "",
    "getting this since this morning:",
    "anyone seen this? happens every time",
    "help pls",
    "after the update I keep getting",
    "on a fresh install, first thing it prints:",
    "same here, copy of my terminal below",
)
# Digits change, except a stand-alone three-digit status code: the same error has the same one.
DIGITS = re.compile(r"\b\d{3}\b|\d")
HEX_RUN = re.compile(r"\b[0-9a-fA-F]{7,}\b")
ENV_LINE = re.compile(
    r"^\s*[-*]?\s*\**\s*(?:[\w ]{0,20}\b(?:version|os|platform|terminal|commit|date|electron|chromium|"
    r"node(?:\.js)?|v8|runtime|auth|login|model|provider|ide|shell|system))\s*\**\s*:", re.IGNORECASE)


def retellings(text: str, copies: int, seed: int) -> list[str]:
    """`copies` other pastes of the same error: new ids and numbers, another lead-in, fewer env lines."""
    rng = random.Random(seed)
    out = []
    for _ in range(copies):
        body = HEX_RUN.sub(lambda m: "".join(rng.choice("0123456789abcdef") for _ in m.group(0)), text)
        body = DIGITS.sub(lambda m: m.group(0) if len(m.group(0)) == 3 else str(rng.randrange(10)), body)
        lines = [line for line in body.splitlines() if not (ENV_LINE.match(line) and rng.random() < 0.5)]
        lead = rng.choice(LEAD_INS)
        out.append("\n".join(([lead, ""] if lead else []) + lines))
    return out


@dataclass
class GroupingReport:
    pastes: int = 0
    errors: int = 0
    clusters: int = 0
    grouped: dict[str, float] = field(default_factory=dict)  # error -> share of its pastes in its biggest cluster
    mixed: list[str] = field(default_factory=list)  # one line per cluster holding several errors

    @property
    def worst(self) -> float:
        return min(self.grouped.values()) if self.grouped else 1.0

    @property
    def under(self) -> list[str]:
        return sorted(e for e, share in self.grouped.items() if share < 0.8)

    def lines(self) -> list[str]:
        mean = sum(self.grouped.values()) / len(self.grouped) if self.grouped else 1.0
        return [
            f"{self.pastes} pastes of {self.errors} errors -> {self.clusters} clusters",
            f"grouped together: worst error {100 * self.worst:.0f}%, mean {100 * mean:.1f}%, "
            f"errors under 80%: {len(self.under)}",
            f"clusters mixing two errors: {len(self.mixed)}",
            *(f"  under 80%: {e} ({100 * self.grouped[e]:.0f}%)" for e in self.under),
            *(f"  mixed: {line}" for line in self.mixed),
        ]


def as_unmatched(texts: Sequence[str], start: dt.datetime | None = None) -> list[UnmatchedPaste]:
    """Each text as an unmatched paste by its own person, a minute apart."""
    start = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [UnmatchedPaste(Origin("eval", "w", "c", f"u{i}"), start + dt.timedelta(minutes=i), text, None, 0.0)
            for i, text in enumerate(texts)]


def evaluate_grouping(labelled: Iterable[tuple[str, str]], background: Iterable[str] = ()) -> GroupingReport:
    """Mine (text, error) pairs as gaps and measure grouping and mixing."""
    items = list(labelled)
    texts = [text for text, _ in items]
    labels = [label for _, label in items]
    pastes = as_unmatched(texts)
    clusters = mine_gaps(pastes, background)
    return grouping_report(labels, pastes, clusters)


def grouping_report(labels: Sequence[str], pastes: Sequence[UnmatchedPaste],
                    clusters: Sequence[GapCluster]) -> GroupingReport:
    report = GroupingReport(pastes=len(pastes), errors=len(set(labels)), clusters=len(clusters))
    per_error: dict[str, Counter[str]] = defaultdict(Counter)
    for cluster in clusters:
        members = [labels[i] for i in cluster.members]
        for label in members:
            per_error[label][cluster.id] += 1
        kinds = Counter(members)
        if len(kinds) > 1:
            report.mixed.append(f"{cluster.id} “{cluster.template[:90]}”: " +
                                ", ".join(f"{k} ×{n}" for k, n in kinds.most_common()))
    totals = Counter(labels)
    report.grouped = {label: max(per_error[label].values()) / totals[label] for label in totals}
    return report
