"""Accuracy of the matcher on labelled pastes: shared by benchmarks/accuracy.py and the tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.matching import Matcher


@dataclass
class AccuracyReport:
    pastes: int = 0
    correct: int = 0
    negatives: int = 0
    false_triggers: int = 0
    skipped_unknown_entry: int = 0
    out_of_catalog: int = 0
    out_of_catalog_answered: int = 0
    misses: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    wrong_answers: list[str] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return self.correct / self.pastes if self.pastes else 0.0

    @property
    def false_trigger_rate(self) -> float:
        return self.false_triggers / self.negatives if self.negatives else 0.0

    @property
    def out_of_catalog_rate(self) -> float:
        """Share of real errors no entry covers that still got a confident answer (a wrong one)."""
        return self.out_of_catalog_answered / self.out_of_catalog if self.out_of_catalog else 0.0


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(
    matcher: Matcher, pastes: Iterable[dict[str, object]], negatives: Iterable[dict[str, object]]
) -> AccuracyReport:
    """Top-1 over pastes whose expected entry exists; false triggers over chat and other software;
    wrong confident answers over real errors of our tools that no entry covers (kind `out-of-catalog`).
    Ambiguous negatives are left out."""
    report = AccuracyReport()
    known = set(matcher.catalog.ids)
    for item in pastes:
        expected = str(item["expect"])
        if expected not in known:
            report.skipped_unknown_entry += 1
            continue
        report.pastes += 1
        result = matcher.match(str(item["text"]))
        got = result.best.entry_id if result.best else None
        if got == expected:
            report.correct += 1
        else:
            top = result.top
            detail = f"{top.entry_id} {top.score} via {top.reason}" if top else "no candidate"
            report.misses.append(f"{item['id']}: expected {expected}, got {got} (top: {detail})")
    for item in negatives:
        kind = item.get("kind")
        if kind == "ambiguous":
            continue
        result = matcher.match(str(item["text"]))
        if kind == "out-of-catalog":
            report.out_of_catalog += 1
            if result.best is not None:
                report.out_of_catalog_answered += 1
                best = result.best
                report.wrong_answers.append(f"{item['id']}: answered {best.entry_id} {best.score} via {best.reason}")
            continue
        report.negatives += 1
        if result.best is not None:
            report.false_triggers += 1
            best = result.best
            report.triggers.append(f"{item['id']}: triggered {best.entry_id} {best.score} via {best.reason}")
    return report
