"""A restart after some catalog files changed checks the changes against the facts kept of the others,
and comes to exactly what a full check of every file comes to: the same version and entries when the
catalog passes, the same problems (from the full check, which it then leaves the verdict to) when not.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.core import catalog as catalog_module
from bot.core import catalog_cache
from bot.core.catalog_cache import CatalogCache, listings, stamp, wait_for_saves
from bot.core.catalog_facts import recheck
from bot.core.catalog_folders import check_folders
from bot.core.errors import CatalogError

EDITED = "claude-code-529-overloaded"
# An entry some other entries name as related, and one that nothing names.
NAMED = "claude-code-ide-not-detected"


@pytest.fixture
def folder(catalog_copy: Path) -> Path:
    return catalog_copy


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the files parsed, the full checks run and the parts file unpickled."""
    calls = {"parse": 0, "full": 0, "parts": 0}
    parse, full, read = catalog_module._parse_file, catalog_cache.check_folders, CatalogCache._read

    def counting_parse(*args: object) -> object:
        calls["parse"] += 1
        return parse(*args)  # type: ignore[arg-type]

    def counting_full(*args: object, **kwargs: object) -> object:
        calls["full"] += 1
        return full(*args, **kwargs)  # type: ignore[arg-type]

    def counting_read(self: CatalogCache, path: Path | None) -> object:
        calls["parts"] += path is not None and path == self.path
        return read(self, path)

    monkeypatch.setattr(catalog_module, "_parse_file", counting_parse)
    monkeypatch.setattr(catalog_cache, "check_folders", counting_full)
    monkeypatch.setattr(CatalogCache, "_read", counting_read)
    return calls


def _open_and_compare(cache_dir: Path, folders: list[Path], work: dict[str, int] | None = None) -> bool:
    """Open `folders` through the cache and compare with a full check made afresh: True when it passed.
    `work` counts what the open alone did."""
    full = check_folders(folders)
    if work is not None:
        work.update(parse=0, full=0, parts=0)
    cache = CatalogCache(cache_dir, ":".join(map(str, folders)))
    if not full.ok:
        with pytest.raises(CatalogError) as raised:
            cache.open(folders)
        assert raised.value.problems == list(full.problems)
        return False
    catalog, matcher = cache.open(folders)
    wait_for_saves()  # as a stop would: the next open finds what this one saved
    assert catalog.version == full.version
    assert catalog.entries == tuple(sorted(full.entries, key=lambda entry: entry.id))
    assert matcher.catalog is catalog
    return True


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _set_related(path: Path, related: list[str]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["related"] = related
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _without_related(folder: Path, entry_id: str) -> None:
    """No entry names `entry_id` as related any more."""
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if entry_id in data.get("related", []) and path.stem != entry_id:
            _set_related(path, [r for r in data["related"] if r != entry_id])


def test_edits_in_a_row_come_to_what_a_full_check_comes_to(
    tmp_path: Path, folder: Path, work: dict[str, int]
) -> None:
    cache_dir = tmp_path / "cache"
    assert _open_and_compare(cache_dir, [folder])
    edited = folder / f"{EDITED}.yaml"
    added = folder / "aaa-added-entry.yaml"
    steps: list[tuple[str, Callable[[], None], bool, int]] = [
        # (what, the edit, passes, files parsed by the update: none when the full check decides)
        ("an edit", lambda: _edit(edited, "\ntitle: ", "\ntitle: Edited "), True, 1),
        ("a related link broken", lambda: _set_related(edited, ["no-such-entry"]), False, -1),
        ("fixed again", lambda: _set_related(edited, [NAMED]), True, 1),
        ("a duplicate id", lambda: shutil.copyfile(edited, folder / f"{EDITED}.yml"), False, -1),
        ("the duplicate removed", lambda: (folder / f"{EDITED}.yml").unlink(), True, 0),
        ("a file added", lambda: _write_added(added, edited), True, 1),
        ("a link to the added file", lambda: _set_related(edited, [NAMED, added.stem]), True, 1),
        ("the linked file deleted", lambda: added.unlink(), False, -1),
        ("the link removed too", lambda: _set_related(edited, [NAMED]), True, 1),
        ("a file others name deleted", lambda: (folder / f"{NAMED}.yaml").unlink(), False, -1),
        ("and the names of it", lambda: _without_related(folder, NAMED), True, -1),
        ("touched, same content", lambda: edited.write_bytes(edited.read_bytes()), True, 0),
    ]
    for what, change, passes, parsed in steps:
        change()
        assert _open_and_compare(cache_dir, [folder], work) is passes, what
        if parsed >= 0:
            # Checked from the facts kept: only the changed files read, no entry of the others unpickled.
            assert work == {"parse": parsed, "full": 0, "parts": 0}, what
        elif not passes:
            assert work["full"] == 1, what


def _write_added(path: Path, like: Path) -> None:
    data = yaml.safe_load(like.read_text(encoding="utf-8"))
    data.update(id=path.stem, title="Wibblewobble sync failure", related=[],
                signature="Wibblewobble sync failed: token bucket drained (code WBX-42)",
                examples=["wibblewobble keeps failing with WBX-42 after the update"])
    data.pop("patterns", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_overlay_folders_come_to_what_a_full_check_comes_to(tmp_path: Path, folder: Path, work: dict[str, int]) -> None:
    team = tmp_path / "team"
    team.mkdir()
    shutil.copyfile(folder / f"{EDITED}.yaml", team / f"{EDITED}.yaml")  # the team's own version of it
    folders = [folder, team]
    cache_dir = tmp_path / "cache"
    assert _open_and_compare(cache_dir, folders)
    replaced = team / f"{EDITED}.yaml"
    # (what, the edit, passes, full checks run by the open)
    steps: list[tuple[str, Callable[[], None], bool, int]] = [
        ("the team's entry edited", lambda: _edit(replaced, "\ntitle: ", "\ntitle: Ours "), True, 0),
        ("the replaced shipped entry edited", lambda: _edit(folder / f"{EDITED}.yaml", "\ntitle: ", "\ntitle: X "),
         True, 0),
        ("a team entry added", lambda: _write_added(team / "aaa-added-entry.yaml", replaced), True, 0),
        ("a team link to a missing entry", lambda: _set_related(team / "aaa-added-entry.yaml", ["nope"]), False, 1),
        ("the link to a shipped entry", lambda: _set_related(team / "aaa-added-entry.yaml", [NAMED]), True, 0),
        # The shipped entry served again was never parsed by this cache's updates: the full load decides.
        ("the team's version removed", lambda: replaced.unlink(), True, 1),
    ]
    for what, change, passes, full in steps:
        change()
        assert _open_and_compare(cache_dir, folders, work) is passes, what
        assert work["full"] == full and work["parse"] <= 1 + full, what  # the update parses the changed file
    edited = CatalogCache(cache_dir, ":".join(map(str, folders))).open(folders)[0].get(EDITED)
    assert edited is not None and edited.title.startswith("X ") and edited.source_file == f"{folder}/{EDITED}.yaml"


def test_recheck_declines_what_it_cannot_vouch_for(tmp_path: Path, folder: Path) -> None:
    cache_dir = tmp_path / "cache"
    CatalogCache(cache_dir, str(folder)).open(folder)
    (facts_file,) = cache_dir.glob("*.facts.pickle")
    facts = catalog_cache._load(facts_file)["facts"]

    def rechecked() -> object:
        listed = listings(stamp(folder))
        assert listed is not None
        return recheck([folder], listed, facts)

    found = rechecked()
    assert found is not None and found.version == check_folders([folder]).version  # type: ignore[attr-defined]
    (folder / f"{EDITED}.yaml").write_text("title: [unclosed\n", encoding="utf-8")  # a problem
    assert rechecked() is None
    (folder / f"{EDITED}.yaml").unlink()
    assert rechecked() is None  # others name it as related
    assert recheck([folder, tmp_path], listings(stamp([folder, tmp_path])) or [], facts) is None  # another folder


def test_facts_saved_with_another_ready_catalog_are_not_used(
    tmp_path: Path, folder: Path, work: dict[str, int]
) -> None:
    cache_dir = tmp_path / "cache"
    assert _open_and_compare(cache_dir, [folder])
    (facts_file,) = cache_dir.glob("*.facts.pickle")
    earlier = facts_file.read_bytes()
    edited = folder / f"{EDITED}.yaml"
    _edit(edited, "\ntitle: ", "\ntitle: Edited ")
    assert _open_and_compare(cache_dir, [folder], work)
    assert work["full"] == 0
    facts_file.write_bytes(earlier)  # the facts of the ready catalog before the edit
    _edit(edited, "\ntitle: ", "\ntitle: Again ")
    assert _open_and_compare(cache_dir, [folder], work)
    assert work["full"] == 1  # the full load decided
