"""`supportbot gaps` and `supportbot catalog draft` on a real store: from stored pastes to a draft file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bot.core.models import Origin, UnmatchedPaste
from bot.storage import open_store
from tests.test_cli import run

GATEWAY = "ERROR gateway rejected token tk_{} (policy P-{}): re-login with corpctl auth"


async def _seed(db: Path) -> None:
    store = await open_store(f"sqlite:///{db}")
    now = dt.datetime.now(dt.UTC)
    try:
        for i, token in enumerate(("8812aa91f", "0000bb12c", "9a9a9a9a1")):
            await store.add_unmatched(UnmatchedPaste(Origin("slack", "T", "C", f"U{i % 2}"),
                                                     now - dt.timedelta(hours=i + 1),
                                                     "help pls\n\n" + GATEWAY.format(token, i), None, 0.0))
        await store.add_unmatched(UnmatchedPaste(Origin("discord", "G", "C", "D1"), now - dt.timedelta(hours=2),
                                                 "codex: stream disconnected before completion", "x", 50.0,
                                                 reason="wrong_error"))
        await store.add_unmatched(UnmatchedPaste(Origin("slack", "T", "C", "U9"), now - dt.timedelta(days=40),
                                                 "fatal: an old widget error from long ago", None, 0.0))
    finally:
        await store.close()


async def test_gaps_json_contract_and_window(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await _seed(db)
    env = {"SUPPORTBOT_DB": f"sqlite:///{db}"}
    done = run("gaps", "--json", env=env)
    assert done.returncode == 0, done.stderr
    clusters = json.loads(done.stdout)
    assert [c["count"] for c in clusters] == [3, 1]
    top = clusters[0]
    assert set(top) == {"id", "template", "count", "people", "tool", "first_seen", "last_seen", "samples"}
    assert top["people"] == 2 and "gateway rejected token" in top["template"]
    assert dt.datetime.fromisoformat(top["first_seen"]) < dt.datetime.fromisoformat(top["last_seen"])
    assert clusters[1]["tool"] == "Codex CLI"
    wider = json.loads(run("gaps", "--json", "--since", "90d", env=env).stdout)
    assert sum(c["count"] for c in wider) == 5
    text = run("gaps", env=env)
    assert text.returncode == 0 and top["id"] in text.stdout and "catalog draft" in text.stdout
    bad = run("gaps", "--since", "yesterday-ish", env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


async def test_catalog_draft_writes_a_skeleton_named_after_its_guessed_id(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await _seed(db)
    env = {"SUPPORTBOT_DB": f"sqlite:///{db}"}
    top = json.loads(run("gaps", "--json", env=env).stdout)[0]
    out = tmp_path / "drafts"
    done = run("catalog", "draft", top["id"], "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.parent == out and path.is_file()
    check = json.loads(run("catalog", "check", str(out), "--json").stdout)
    assert check["ok"] is False and all("TODO" in e["problem"] for e in check["errors"])
    again = run("catalog", "draft", "1", "--out", str(out), env=env)
    assert again.returncode == 0 and Path(again.stdout.strip()) != path  # never overwrites a draft
    missing = run("catalog", "draft", "gnothere", env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "supportbot gaps" in missing.stderr
