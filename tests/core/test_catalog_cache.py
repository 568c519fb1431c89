"""The catalog cache: what is reused across starts, what is redone after an edit, what is refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.core import catalog as catalog_module
from bot.core import catalog_cache, matching, workers
from bot.core.catalog import default_catalog_dir
from bot.core.catalog_cache import CatalogCache, wait_for_saves
from bot.core.errors import CatalogError
from bot.core.matching import Matcher

SHIPPED = sorted(p.stem for p in default_catalog_dir().glob("*.yaml"))
PASTE = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
PICKED = ("claude-code-529-overloaded", "codex-cli-usage-limit-reached", "gemini-cli-fetch-failed")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    target.mkdir()
    for name in SHIPPED:  # the whole catalog: entries name each other as related
        shutil.copyfile(default_catalog_dir() / f"{name}.yaml", target / f"{name}.yaml")
    return target


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the expensive steps: parsing a file and preparing an entry's features."""
    calls = {"parse": 0, "features": 0}
    parse, features = catalog_module._parse_file, matching.entry_features

    def counting_parse(*args: object) -> object:
        calls["parse"] += 1
        return parse(*args)  # type: ignore[arg-type]

    def counting_features(entry: object) -> object:
        calls["features"] += 1
        return features(entry)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog_module, "_parse_file", counting_parse)
    monkeypatch.setattr(matching, "entry_features", counting_features)
    return calls


def start(cache_dir: Path | None, folder: Path) -> Matcher:
    """A start that reads the files (never the ready catalog): what the parts of the cache spare."""
    cache = CatalogCache(cache_dir, str(folder))
    return cache.matcher(cache.load(folder))


def ready_start(cache_dir: Path | None, folders: Path | list[Path]) -> Matcher:
    """What the bot does at start: the ready catalog when nothing changed, else the files; then it
    stops (the saves for the next start are written by then)."""
    name = str(folders) if isinstance(folders, Path) else ":".join(map(str, folders))
    opened = CatalogCache(cache_dir, name).open(folders)[1]
    wait_for_saves()
    return opened


def test_a_restart_parses_and_prepares_nothing_again(tmp_path: Path, folder: Path, counted: dict[str, int]) -> None:
    first = start(tmp_path / "cache", folder)
    assert counted == {"parse": len(SHIPPED), "features": len(SHIPPED)}
    second = start(tmp_path / "cache", folder)
    assert counted == {"parse": len(SHIPPED), "features": len(SHIPPED)}  # nothing more
    assert second.catalog.version == first.catalog.version
    paste = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    assert second.match(paste) == first.match(paste)
    assert second.match(paste).best is not None


def test_an_edited_file_is_the_only_one_parsed_and_prepared_again(
    tmp_path: Path, folder: Path, counted: dict[str, int]
) -> None:
    start(tmp_path / "cache", folder)
    edited = folder / f"{PICKED[0]}.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("\ntitle: ", "\ntitle: Edited ", 1),
                      encoding="utf-8")
    counted.update(parse=0, features=0)
    matcher = start(tmp_path / "cache", folder)
    assert counted == {"parse": 1, "features": 1}
    assert matcher.catalog.get(PICKED[0]) is not None
    assert matcher.catalog.get(PICKED[0]).title.startswith("Edited ")  # type: ignore[union-attr]


def test_a_cached_start_answers_like_a_fresh_one(tmp_path: Path, folder: Path) -> None:
    start(tmp_path / "cache", folder)
    cached = start(tmp_path / "cache", folder)
    fresh = Matcher(catalog_module.load_catalog(folder))
    for name in PICKED:
        entry = fresh.catalog.get(name)
        assert entry is not None
        for text in (*entry.examples, entry.signature):
            assert cached.match(text) == fresh.match(text)


def test_a_broken_file_is_still_reported_when_the_others_are_cached(tmp_path: Path, folder: Path) -> None:
    start(tmp_path / "cache", folder)
    (folder / f"{PICKED[1]}.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError):
        start(tmp_path / "cache", folder)


def test_an_unwritable_cache_folder_is_no_error(tmp_path: Path, folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    matcher = start(blocker / "cache", folder)  # mkdir under a file fails whoever runs the test
    assert len(matcher.catalog) == len(SHIPPED)
    assert "running without it" in caplog.text


def test_no_folder_means_no_file(tmp_path: Path, folder: Path) -> None:
    matcher = start(None, folder)
    assert len(matcher.catalog) == len(SHIPPED)
    assert not any(tmp_path.glob("**/*.pickle"))


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file ownership is a POSIX notion")
def test_a_cache_file_others_can_write_is_not_loaded(tmp_path: Path, folder: Path, counted: dict[str, int]) -> None:
    ready_start(tmp_path / "cache", folder)
    for written in (tmp_path / "cache").glob("*.pickle"):
        written.chmod(0o666)
    counted.update(parse=0, features=0)
    ready_start(tmp_path / "cache", folder)
    assert counted == {"parse": len(SHIPPED), "features": len(SHIPPED)}  # everything done again


def test_a_corrupt_cache_file_is_rebuilt(
    tmp_path: Path, folder: Path, counted: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    ready_start(tmp_path / "cache", folder)
    written = sorted((tmp_path / "cache").glob("*.pickle"))
    assert len(written) == 4  # the parts, the ready catalog, its entries and its files' facts
    for path in written:
        path.write_bytes(b"not a pickle at all")
    counted.update(parse=0, features=0)
    matcher = ready_start(tmp_path / "cache", folder)
    assert counted == {"parse": len(SHIPPED), "features": len(SHIPPED)}
    assert len(matcher.catalog) == len(SHIPPED)
    assert "unreadable" in caplog.text
    counted.update(parse=0, features=0)
    start(tmp_path / "cache", folder)
    assert counted == {"parse": 0, "features": 0}  # and written anew


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The catalog files read from disk."""
    seen: list[str] = []
    read = catalog_module.read_entry_file

    def counting_read(path: Path, *args: object) -> bytes:
        seen.append(path.name)
        return read(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog_module, "read_entry_file", counting_read)
    return seen


def test_an_unchanged_catalog_is_ready_without_reading_a_file(
    tmp_path: Path, folder: Path, counted: dict[str, int], reads: list[str]
) -> None:
    first = ready_start(tmp_path / "cache", folder)
    assert len(reads) == len(SHIPPED)
    reads.clear()
    counted.update(parse=0, features=0)
    second = ready_start(tmp_path / "cache", folder)
    assert reads == [] and counted == {"parse": 0, "features": 0}
    assert second.catalog.version == first.catalog.version
    assert second.catalog.entries == first.catalog.entries
    for name in PICKED:
        entry = first.catalog.get(name)
        assert entry is not None
        for text in (*entry.examples, entry.signature):
            assert second.match(text) == first.match(text)


def test_a_touched_file_is_read_again_but_not_parsed(
    tmp_path: Path, folder: Path, counted: dict[str, int], reads: list[str]
) -> None:
    ready_start(tmp_path / "cache", folder)
    touched = folder / f"{PICKED[2]}.yaml"
    touched.write_bytes(touched.read_bytes())  # same content, new times
    reads.clear()
    counted.update(parse=0, features=0)
    ready_start(tmp_path / "cache", folder)
    assert reads == [touched.name]  # the ready catalog no longer fits: the file whose stat changed is compared
    assert counted == {"parse": 0, "features": 0}  # but its content is not new
    # Without the facts of the ready catalog's files, every file is read and compared.
    for facts in (tmp_path / "cache").glob("*.facts.pickle"):
        facts.unlink()
    touched.write_bytes(touched.read_bytes())
    reads.clear()
    ready_start(tmp_path / "cache", folder)
    assert len(reads) == len(SHIPPED)
    assert counted == {"parse": 0, "features": 0}


def test_a_ready_catalog_never_hides_an_edit(tmp_path: Path, folder: Path) -> None:
    ready_start(tmp_path / "cache", folder)
    edited = folder / f"{PICKED[0]}.yaml"
    text = edited.read_text(encoding="utf-8")
    # Same size and modification time as before, only the content differs: the change time gives it away.
    info = edited.stat()
    at = text.index("\ntitle: ") + len("\ntitle: ")
    assert text[at] != "Z"
    edited.write_text(text[:at] + "Z" + text[at + 1 :], encoding="utf-8")
    os.utime(edited, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert edited.stat().st_size == info.st_size
    matcher = ready_start(tmp_path / "cache", folder)
    assert matcher.catalog.get(PICKED[0]).title.startswith("Z")  # type: ignore[union-attr]
    added = folder / "zz-team-entry.yaml"
    added.write_text(text.replace(f"id: {PICKED[0]}", "id: zz-team-entry"), encoding="utf-8")
    assert ready_start(tmp_path / "cache", folder).catalog.get("zz-team-entry") is not None
    added.unlink()
    assert ready_start(tmp_path / "cache", folder).catalog.get("zz-team-entry") is None


def test_an_overlay_folder_edit_parses_that_file_alone(
    tmp_path: Path, folder: Path, counted: dict[str, int], reads: list[str]
) -> None:
    team = tmp_path / "team"
    team.mkdir()
    source = (folder / f"{PICKED[1]}.yaml").read_text(encoding="utf-8")
    (team / f"{PICKED[1]}.yaml").write_text(source.replace("\ntitle: ", "\ntitle: Team ", 1), encoding="utf-8")
    folders = [folder, team]
    first = ready_start(tmp_path / "cache", folders)
    assert first.catalog.get(PICKED[1]).title.startswith("Team ")  # type: ignore[union-attr]
    reads.clear()
    counted.update(parse=0, features=0)
    ready_start(tmp_path / "cache", folders)
    assert reads == [] and counted == {"parse": 0, "features": 0}
    (team / f"{PICKED[1]}.yaml").write_text(source.replace("\ntitle: ", "\ntitle: Ours ", 1), encoding="utf-8")
    matcher = ready_start(tmp_path / "cache", folders)
    assert counted == {"parse": 1, "features": 1}
    assert matcher.catalog.get(PICKED[1]).title.startswith("Ours ")  # type: ignore[union-attr]
    assert matcher.catalog.get(PICKED[1]).source_file == f"{team}/{PICKED[1]}.yaml"  # type: ignore[union-attr]


def test_a_broken_catalog_is_refused_even_after_a_ready_start(tmp_path: Path, folder: Path) -> None:
    ready_start(tmp_path / "cache", folder)
    (folder / f"{PICKED[1]}.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError):
        ready_start(tmp_path / "cache", folder)


def test_a_ready_start_reads_an_entry_only_when_it_is_shown(tmp_path: Path, folder: Path) -> None:
    first = ready_start(tmp_path / "cache", folder)
    matcher = ready_start(tmp_path / "cache", folder)
    catalog = matcher.catalog
    assert catalog.ids == first.catalog.ids and len(catalog) == len(SHIPPED)
    assert catalog._known == {}  # nothing but ids so far
    answer = matcher.match(first.catalog.get(PICKED[0]).signature)  # type: ignore[union-attr]
    assert answer.best is not None and answer.best.entry_id == PICKED[0]
    assert catalog._known == {}  # matching needs no page
    assert catalog.get(PICKED[0]) == first.catalog.get(PICKED[0])
    assert list(catalog._known) == [catalog.ids.index(PICKED[0])]
    assert matcher.lookup(PICKED[1]) == first.catalog.get(PICKED[1])
    assert catalog.entries == first.catalog.entries


@pytest.mark.parametrize("damage", ["truncated", "removed", "replaced"])
def test_a_damaged_entries_file_means_a_full_build_not_a_crash(
    tmp_path: Path, folder: Path, counted: dict[str, int], caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    ready_start(tmp_path / "cache", folder)
    (entries,) = (tmp_path / "cache").glob("*.entries.pickle")
    if damage == "truncated":
        entries.write_bytes(entries.read_bytes()[:-100])
    elif damage == "removed":
        entries.unlink()
    else:  # another save's entries, of the same size: its token differs
        entries.write_bytes(bytes(16) + entries.read_bytes()[16:])
    (parts,) = (tmp_path / "cache").glob("catalog-*[0-9a-f].pickle")
    parts.unlink()  # so that the rebuild shows in the counts
    counted.update(parse=0, features=0)
    matcher = ready_start(tmp_path / "cache", folder)
    assert counted == {"parse": len(SHIPPED), "features": len(SHIPPED)}
    assert "unusable" in caplog.text
    assert matcher.catalog.get(PICKED[2]) is not None
    assert matcher.match(matcher.catalog.get(PICKED[2]).signature).best is not None  # type: ignore[union-attr]


def test_an_entry_stays_readable_after_later_saves_append_to_or_replace_the_file(tmp_path: Path, folder: Path) -> None:
    ready_start(tmp_path / "cache", folder)
    serving = ready_start(tmp_path / "cache", folder).catalog
    (entries,) = (tmp_path / "cache").glob("*.entries.pickle")
    before = entries.stat()
    text = (folder / f"{PICKED[0]}.yaml").read_text(encoding="utf-8")

    def add(entry_id: str) -> None:
        (folder / f"{entry_id}.yaml").write_text(text.replace(f"id: {PICKED[0]}", f"id: {entry_id}"),
                                                 encoding="utf-8")

    add("zz-team-entry")
    assert ready_start(tmp_path / "cache", folder).catalog.get("zz-team-entry") is not None
    # One new page: added at the end of the same file, where the pages of the earlier ready file stay.
    assert entries.stat().st_ino == before.st_ino and entries.stat().st_size > before.st_size
    assert serving.get(PICKED[1]) is not None and serving.get(PICKED[1]).id == PICKED[1]  # type: ignore[union-attr]
    later = ready_start(tmp_path / "cache", folder).catalog
    for number in range(40):  # many new pages: the file is written anew
        add(f"zz-team-entry-{number}")
    assert ready_start(tmp_path / "cache", folder).catalog.get("zz-team-entry-39") is not None
    assert entries.stat().st_ino != before.st_ino
    for catalog in (serving, later):
        assert catalog.get(PICKED[2]) is not None and catalog.get(PICKED[2]).id == PICKED[2]  # type: ignore[union-attr]
    assert later.get("zz-team-entry") is not None


def test_entries_prepared_in_worker_processes_match_as_prepared_here(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    here = Matcher(CatalogCache(None, str(folder)).load(folder))
    monkeypatch.setattr(workers, "workers", lambda items: 2)
    there = start(tmp_path / "cache", folder)
    assert "in this process instead" not in caplog.text  # the workers did it
    for name in PICKED:
        entry = here.catalog.get(name)
        assert entry is not None
        for text in (*entry.examples, entry.signature):
            assert there.match(text) == here.match(text)


def test_the_stamp_changes_with_any_file_and_only_then(tmp_path: Path, folder: Path) -> None:
    from bot.core.catalog_cache import stamp

    first = stamp(folder)
    assert stamp(folder) == first
    assert stamp([folder, folder]) == first + first
    (folder / "notes.txt").write_text("not a catalog file", encoding="utf-8")
    assert stamp(folder) == first
    added = folder / "extra.yml"
    added.write_text("x", encoding="utf-8")
    assert stamp(folder) != first
    added.unlink()
    assert stamp(folder) == first
    # Same size and times, another file under the name: the inode and change time tell.
    target = folder / f"{PICKED[0]}.yaml"
    info = target.stat()
    replacement = tmp_path / "replacement.yaml"
    shutil.copyfile(target, replacement)
    os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))
    replacement.replace(target)
    assert stamp(folder) != first
    assert stamp(tmp_path / "missing") == b""


def test_a_cache_file_pruned_by_another_process_while_read_means_a_rebuild(
        tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Processes sharing the cache folder prune each other's old files; one may go between being
    # listed and being read. That is a slower start, never a failed one.
    cache_dir = tmp_path / "cache"
    ready_start(cache_dir, folder)
    check = catalog_cache._unsafe

    def removed_first(path: Path) -> str | None:
        path.unlink(missing_ok=True)
        return check(path)

    monkeypatch.setattr(catalog_cache, "_unsafe", removed_first)
    matcher = ready_start(cache_dir, folder)
    best = matcher.match(PASTE).best
    assert best is not None and best.entry_id == "claude-code-529-overloaded"


def test_a_file_that_vanishes_while_pruning_does_not_stop_saving(tmp_path: Path, folder: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    (cache_dir / "catalog-gone.pickle").symlink_to(tmp_path / "nowhere")  # listed, but stat() fails
    cache = CatalogCache(cache_dir, str(folder))
    cache.open(folder)
    assert cache.ready_path is not None and cache.ready_path.is_file()
    assert cache._writable
