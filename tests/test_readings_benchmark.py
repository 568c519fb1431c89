"""The readings benchmark lists the misses of the studied parts and never those of a part kept aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import readings_accuracy

_MISSED = {
    "id": "t-1",
    "text": "Codex says I hit my weekly limit",
    "expect": {"tool": "Codex CLI", "readings": [], "plan": None, "model_mode": None},
}


def _write(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(json.dumps(_MISSED) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "listed"), [("dev.jsonl", True), ("holdout4.jsonl", True), ("kept.jsonl", False)])
def test_misses_are_listed_only_for_studied_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, listed: bool
) -> None:
    monkeypatch.setattr(readings_accuracy, "HELD_ASIDE", frozenset({"kept.jsonl"}))
    path = _write(tmp_path, name)
    readings_accuracy.report(path, quiet=not readings_accuracy.lists_misses(path, quiet=False))
    out = capsys.readouterr().out
    assert "exact match (tool + readings): 0/1" in out
    assert ("MISS t-1" in out) is listed


def test_a_part_kept_aside_is_never_listed_wherever_it_lives() -> None:
    for name in readings_accuracy.HELD_ASIDE:
        assert not readings_accuracy.lists_misses(Path("/elsewhere") / name, quiet=False)


@pytest.mark.parametrize("name", ["holdout4.jsonl", "holdout5.jsonl", "holdout8.jsonl"])
def test_parts_moved_into_development_are_studied_now(name: str) -> None:
    path = next(p for p in readings_accuracy.DEFAULT_PATHS if p.name == name)
    assert readings_accuracy.lists_misses(path, quiet=False)


def test_every_part_kept_aside_is_scored_by_default() -> None:
    names = {p.name for p in readings_accuracy.DEFAULT_PATHS}
    assert names >= readings_accuracy.HELD_ASIDE


def test_every_run_carries_the_unseen_figures_of_every_part_ever_kept_aside() -> None:
    history = readings_accuracy.held_aside_history()
    kept_once = {p.name for p in readings_accuracy.DEFAULT_PATHS if p.name.startswith("holdout")}
    assert kept_once  # otherwise there is nothing whose record could go missing
    for name in kept_once | readings_accuracy.HELD_ASIDE:
        assert name in history, f"{name}: its unseen figures are not in the benchmark's history"
