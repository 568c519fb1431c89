"""Drafting a catalog entry from a gap cluster: it passes `catalog check` once its TODOs are written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from bot.core.catalog import PROSE_FIELDS, check_catalog, load_catalog
from bot.core.drafts import draft_entry, guess_category, guess_id
from bot.core.gaps import mine_gaps
from bot.core.matching import Matcher
from bot.core.models import Origin, UnmatchedPaste

PASTES = [
    "corpctl 4.2.1 on my laptop:\nERROR gateway rejected token tk_8812aa91f (policy P-17): re-login with corpctl auth",
    "ERROR gateway rejected token tk_0000bb12c (policy P-3): re-login with corpctl auth\n\nOS version: Darwin 23.6",
    "help pls\n\nERROR gateway rejected token tk_9a9a9a9a1 (policy P-17): re-login with corpctl auth",
]


def _cluster():  # type: ignore[no-untyped-def]
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    pastes = [UnmatchedPaste(Origin("slack", "T", "C", f"U{i}"), start + dt.timedelta(hours=i), text, None, 0.0)
              for i, text in enumerate(PASTES)]
    clusters = mine_gaps(pastes)
    assert len(clusters) == 1
    return clusters[0]


def _fill(value: object) -> object:
    """What a staff member does: replace every TODO with real words."""
    if isinstance(value, str):
        return value.replace("TODO", "Written").replace("https://example.com/Written-public-report",
                                                        "https://wiki.example.com/corpctl-gateway")
    if isinstance(value, list):
        return [_fill(v) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v) for k, v in value.items()}
    return value


def test_a_draft_passes_the_check_once_its_todos_are_written(tmp_path: Path) -> None:
    cluster = _cluster()
    entry_id, text = draft_entry(cluster, taken={"x"}, today=dt.date(2026, 3, 2))
    path = tmp_path / f"{entry_id}.yaml"
    path.write_text(text, encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["id"] == entry_id and data["signature"].startswith("ERROR gateway rejected token")
    assert "tk_" not in data["signature"]
    assert data["examples"] == list(cluster.samples)
    assert data["category"] == "auth" and data["updated"] == "2026-03-02"
    before = check_catalog(tmp_path)
    assert before.problems, "a draft must not pass while it still says TODO"
    assert {p.field for p in before.problems} <= set(PROSE_FIELDS)
    assert all("TODO" in p.problem for p in before.problems)
    path.write_text(yaml.safe_dump(_fill(data), sort_keys=False, allow_unicode=True), encoding="utf-8")
    after = check_catalog(tmp_path)
    assert after.ok, after.problems
    # The new entry answers the error it was drafted from, with another token in it.
    best = Matcher(load_catalog(tmp_path)).match(
        "ERROR gateway rejected token tk_77aa77aa7 (policy P-2): re-login with corpctl auth").best
    assert best is not None and best.entry_id == entry_id


def test_guessed_ids_are_valid_and_free() -> None:
    cluster = _cluster()
    first = guess_id(cluster, taken=())
    assert first == guess_id(cluster, taken=())
    assert guess_id(cluster, taken={first}) == f"{first}-2"
    assert guess_category("429 Too Many Requests") == "quota-rate"
    assert guess_category("connect ETIMEDOUT 10.0.0.1:443") == "network"
    assert guess_category("segfault in the renderer core dumped") in {"ui-crash", "local-runtime"}
