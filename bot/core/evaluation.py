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
    misses: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return self.correct / self.pastes if self.pastes else 0.0

    @property
    def false_trigger_rate(self) -> float:
        return self.false_triggers / self.negatives if self.negatives else 0.0


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(
    matcher: Matcher, pastes: Iterable[dict[str, object]], negatives: Iterable[dict[str, object]]
) -> AccuracyReport:
    """Top-1 over pastes whose expected entry exists; false triggers over non-ambiguous negatives."""
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
        if item.get("kind") == "ambiguous":
            continue
        report.negatives += 1
        result = matcher.match(str(item["text"]))
        if result.best is not None:
            report.false_triggers += 1
            best = result.best
            report.triggers.append(f"{item['id']}: triggered {best.entry_id} {best.score} via {best.reason}")
    return report
