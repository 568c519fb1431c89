"""The catalog cache: what is reused across starts, what is redone after an edit, what is refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.core import catalog as catalog_module
from bot.core import matching
from bot.core.catalog import default_catalog_dir
from bot.core.catalog_cache import CatalogCache
from bot.core.errors import CatalogError
from bot.core.matching import Matcher

SHIPPED = sorted(p.stem for p in default_catalog_dir().glob("*.yaml"))
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
    cache = CatalogCache(cache_dir, str(folder))
    return cache.matcher(cache.load(folder))


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
    start(tmp_path / "cache", folder)
    [written] = (tmp_path / "cache").glob("*.pickle")
    written.chmod(0o666)
    counted.update(parse=0, features=0)
    start(tmp_path / "cache", folder)
    assert counted == {"parse": len(SHIPPED), "features": len(SHIPPED)}  # everything done again


def test_a_corrupt_cache_file_is_rebuilt(tmp_path: Path, folder: Path, counted: dict[str, int]) -> None:
    start(tmp_path / "cache", folder)
    [written] = (tmp_path / "cache").glob("*.pickle")
    written.write_bytes(b"not a pickle at all")
    counted.update(parse=0, features=0)
    matcher = start(tmp_path / "cache", folder)
    assert counted == {"parse": len(SHIPPED), "features": len(SHIPPED)}
    assert len(matcher.catalog) == len(SHIPPED)
    counted.update(parse=0, features=0)
    start(tmp_path / "cache", folder)
    assert counted == {"parse": 0, "features": 0}  # and written anew
