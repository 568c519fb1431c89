"""The catalog loader and validator: the shipped catalog is clean; every planted problem is reported."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core import workers
from bot.core.catalog import check_catalog, default_catalog_dir, load_catalog
from bot.errors import CatalogError

SEED = "claude-code-quota-increases-without-tasks"


def test_shipped_catalog_is_clean() -> None:
    result = check_catalog(default_catalog_dir())
    assert result.problems == ()
    assert len(result.entries) >= 11


def _copy_seed(folder: Path, new_id: str, replace: dict[str, str] | None = None) -> Path:
    text = (default_catalog_dir() / f"{SEED}.yaml").read_text(encoding="utf-8")
    text = text.replace(f"id: {SEED}", f"id: {new_id}")
    # Related ids point at entries that are not in this small folder.
    text = text.split("related:")[0] + "updated: 2026-11-24\n"
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / f"{new_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def broken_catalog(tmp_path: Path) -> Path:
    _copy_seed(tmp_path, "good-entry")
    _copy_seed(tmp_path, "unknown-field", {"tool: Claude Code": "tool: Claude Code\ncolour: blue"})
    _copy_seed(tmp_path, "wrong-type", {"causes:\n": "causes: just one string\nold_causes:\n"})
    _copy_seed(tmp_path, "missing-title", {"title: Usage meter": "# title: Usage meter"})
    _copy_seed(tmp_path, "empty-text", {"quick_fix: ": "quick_fix: ''\nx_quick_fix: "})
    _copy_seed(tmp_path, "bad-regex", {"patterns:\n": "patterns:\n  - '(unclosed'\n"})
    _copy_seed(tmp_path, "bad-related", {"updated: 2026-11-24": "related:\n  - no-such-entry\nupdated: 2026-11-24"})
    _copy_seed(tmp_path, "bad-url", {"    - https://github.com/anthropics/claude-code/issues/80117":
                                     "    - not a url"})
    duplicate = _copy_seed(tmp_path, "dup-one")
    shutil.copy(duplicate, tmp_path / "dup-two.yaml")
    (tmp_path / "not-yaml.yaml").write_text("id: x\n  - : [unclosed\n", encoding="utf-8")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00junk")
    (tmp_path / "a-list.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    return tmp_path


def test_every_planted_problem_is_reported(broken_catalog: Path) -> None:
    result = check_catalog(broken_catalog)
    found = {(p.file, p.field) for p in result.problems}
    expected = {
        ("unknown-field.yaml", "colour"),
        ("wrong-type.yaml", "causes"),
        ("wrong-type.yaml", "old_causes"),
        ("missing-title.yaml", "title"),
        ("empty-text.yaml", "quick_fix"),
        ("bad-regex.yaml", "patterns"),
        ("bad-related.yaml", "related"),
        ("bad-url.yaml", "evidence"),
        ("dup-two.yaml", "id"),
        ("not-yaml.yaml", "-"),
        ("binary.yaml", "-"),
        ("a-list.yaml", "-"),
    }
    assert expected <= found, expected - found
    messages = {p.file: p.problem for p in result.problems}
    assert "missing required field" in messages["missing-title.yaml"]
    assert "invalid regular expression" in messages["bad-regex.yaml"]
    assert "does not exist" in messages["bad-related.yaml"]
    assert "line" in messages["not-yaml.yaml"]
    # The good entry still loads; the broken ones do not.
    assert [e.id for e in result.entries if e.id == "good-entry"] == ["good-entry"]
    assert not result.ok


def test_load_catalog_raises_with_every_problem(broken_catalog: Path) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(broken_catalog)
    assert len(caught.value.problems) >= 12


def test_yaml_is_read_safely(tmp_path: Path) -> None:
    _copy_seed(tmp_path, "evil", {"tool: Claude Code": "tool: !!python/object/apply:os.system ['echo hacked']"})
    result = check_catalog(tmp_path)
    assert any(p.file == "evil.yaml" and "YAML" in p.problem for p in result.problems)


def test_missing_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    result = check_catalog(tmp_path / "nope")
    assert not result.ok and "does not exist" in result.problems[0].problem


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_cli_catalog_check_json_contract(broken_catalog: Path) -> None:
    bad = _cli("catalog", "check", str(broken_catalog), "--json")
    assert bad.returncode == 2
    payload = json.loads(bad.stdout)
    assert payload["ok"] is False
    assert payload["entries"] == len(payload["ids"]) >= 1
    assert {"file", "field", "problem"} == set(payload["errors"][0])
    assert "Traceback" not in bad.stderr

    good = _cli("catalog", "check", "--json")
    assert good.returncode == 0, good.stderr
    shipped = json.loads(good.stdout)
    assert shipped["ok"] is True and shipped["errors"] == [] and SEED in shipped["ids"]


def test_cli_catalog_check_text(broken_catalog: Path) -> None:
    bad = _cli("catalog", "check", str(broken_catalog))
    assert bad.returncode == 2
    assert "bad-regex.yaml: patterns:" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_many_files_parsed_in_worker_processes_give_the_same_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(default_catalog_dir(), folder)
    (folder / "broken-one.yaml").write_text("id: broken-one\ntool: [unclosed\n", encoding="utf-8")
    (folder / "slow-one.yaml").write_text(
        (default_catalog_dir() / f"{SEED}.yaml").read_text(encoding="utf-8").replace(f"id: {SEED}", "id: slow-one")
        + "\npatterns:\n  - '(a+)+$'\n", encoding="utf-8")
    alone = check_catalog(folder)
    monkeypatch.setattr(workers, "workers", lambda items: 2)
    together = check_catalog(folder)
    assert together.entries == alone.entries and len(together.entries) == len(list(default_catalog_dir().glob("*.yaml")))
    assert together.problems == alone.problems and together.version == alone.version
    assert {p.file for p in together.problems} >= {"broken-one.yaml", "slow-one.yaml"}
    assert "in this process instead" not in caplog.text  # the workers did it
