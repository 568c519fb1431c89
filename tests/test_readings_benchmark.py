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


@pytest.mark.parametrize(("name", "listed"), [("dev.jsonl", True), ("holdout4.jsonl", False)])
def test_misses_are_listed_only_for_studied_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, listed: bool
) -> None:
    path = _write(tmp_path, name)
    readings_accuracy.report(path, quiet=not readings_accuracy.lists_misses(path, quiet=False))
    out = capsys.readouterr().out
    assert "exact match (tool + readings): 0/1" in out
    assert ("MISS t-1" in out) is listed


def test_the_kept_aside_part_is_among_the_default_paths_and_never_listed() -> None:
    aside = [p for p in readings_accuracy.DEFAULT_PATHS if p.name in readings_accuracy.HELD_ASIDE]
    assert aside and not any(readings_accuracy.lists_misses(p, quiet=False) for p in aside)
