"""A matcher updated for a changed catalog answers exactly as one built from scratch on that catalog.

`Matcher.updated` keeps the unchanged entries' rows and derives every weight again; these tests change
one entry (edited, added, removed, and all three), then several in a row, on the shipped catalog and on
a synthetic one of a few hundred near neighbours, and compare every answer on the development pastes,
the negatives and the changed entries' own texts with a matcher built afresh. Through the catalog
cache, an edited, added or removed file updates the ready matcher, and a broken edit keeps the last
good catalog.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core import catalog as catalog_module
from bot.core import matching
from bot.core.catalog import Catalog, Entry, default_catalog_dir, load_catalog
from bot.core.catalog_cache import CatalogCache, wait_for_saves
from bot.core.evaluation import read_jsonl
from bot.core.matching import EntryFeatures, Matcher

EVAL_DIR = Path(__file__).resolve().parents[1] / "data" / "eval"
EDITED = "claude-code-529-overloaded"
WORD = re.compile(r"\b[a-z]{5,}\b")


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog(default_catalog_dir())


@pytest.fixture(scope="module")
def features() -> dict[Entry, EntryFeatures]:
    """Features shared by every matcher of the module: they depend on the entry alone."""
    return {}


@pytest.fixture(scope="module")
def dev_texts() -> list[str]:
    rows = read_jsonl(EVAL_DIR / "pastes-dev.jsonl") + read_jsonl(EVAL_DIR / "negatives-dev.jsonl")
    return [str(row["text"]) for row in rows]


def _invented(rng: random.Random) -> str:
    return "".join(rng.choice("bdgkmprstvz") + rng.choice("aeiou") for _ in range(3)) + rng.choice("qxj")


def _variant(entry: Entry, number: int, rng: random.Random) -> Entry:
    """A near neighbour of `entry`: a new id, and most of its long words swapped, the same way everywhere."""
    swapped: dict[str, str] = {}

    def perturb(text: str) -> str:
        def swap(found: re.Match[str]) -> str:
            word = found.group(0)
            if word not in swapped:
                swapped[word] = _invented(rng) if rng.random() < 0.7 else word
            return swapped[word]

        return WORD.sub(swap, text)

    return replace(entry, id=f"{entry.id}-n{number:03d}", title=perturb(entry.title),
                   signature=perturb(entry.signature), variants=tuple(map(perturb, entry.variants)),
                   examples=tuple(map(perturb, entry.examples)), meaning=perturb(entry.meaning),
                   why=perturb(entry.why), causes=tuple(map(perturb, entry.causes)), related=())


@pytest.fixture(scope="module")
def synthetic(shipped: Catalog) -> Catalog:
    """The shipped entries and 300 near neighbours of them."""
    rng = random.Random(14)
    originals = shipped.entries
    neighbours = [_variant(originals[n % len(originals)], n, rng) for n in range(300)]
    return Catalog.of([*originals, *neighbours], "synthetic")


def _edited(entry: Entry) -> Entry:
    # New words (never seen in the catalog) and a removed example: document frequencies move both ways.
    return replace(entry, title=f"Edited {entry.title}", examples=(*entry.examples[1:], "zorblax quux overloaded"),
                   patterns=(*entry.patterns, r"zorblax\s+quux"))


def _added(entry: Entry) -> Entry:
    return replace(entry, id="aaa-added-entry", title="Wibblewobble sync failure",
                   signature="Wibblewobble sync failed: token bucket drained (code WBX-42)",
                   examples=("wibblewobble keeps failing with WBX-42 after the update",), related=())


def _changes(catalog: Catalog) -> dict[str, tuple[list[Entry], set[str]]]:
    """Each kind of change: the new catalog's entries and the ids it keeps unchanged."""
    entries = list(catalog.entries)
    target = catalog.get(EDITED)
    assert target is not None
    gone = entries[len(entries) // 2]
    ids = set(catalog.ids)
    edited = [_edited(e) if e is target else e for e in entries]
    return {
        "edit": (edited, ids - {EDITED}),
        "add": ([*entries, _added(entries[3])], ids),
        "remove": ([e for e in entries if e is not gone], ids - {gone.id}),
        "all three": ([*(e for e in edited if e.id != gone.id), _added(entries[3])], ids - {EDITED, gone.id}),
    }


def _texts(dev_texts: Sequence[str], entries: Iterable[Entry]) -> list[str]:
    return [*dev_texts, *(text for entry in entries for text in (entry.signature, *entry.examples[:2]))]


def _assert_same_answers(updated: Matcher, fresh: Matcher, texts: Iterable[str]) -> None:
    for text in texts:
        assert updated.match(text) == fresh.match(text), text


def _updated_and_fresh(
    catalog: Catalog, kind: str, features: dict[Entry, EntryFeatures]
) -> tuple[Matcher, Matcher, list[Entry], Catalog]:
    """A matcher of `catalog` updated with the `kind` of change, one built afresh for the changed
    catalog, the entries the change touched, and the changed catalog."""
    entries, unchanged = _changes(catalog)[kind]
    changed = Catalog.of(entries, kind)
    updated = Matcher(catalog, features=features).updated(changed, unchanged, features)
    assert updated is not None
    touched = [entry for entry in changed.entries if entry.id not in unchanged]
    return updated, Matcher(changed, features=features), touched, changed


@pytest.mark.parametrize("kind", ["edit", "add", "remove", "all three"])
def test_one_changed_entry_answers_as_a_fresh_build_of_the_shipped_catalog(
    kind: str, shipped: Catalog, features: dict[Entry, EntryFeatures], dev_texts: list[str]
) -> None:
    updated, fresh, touched, _ = _updated_and_fresh(shipped, kind, features)
    _assert_same_answers(updated, fresh, _texts(dev_texts, touched))
    if kind in ("edit", "all three"):
        hit = updated.match("zorblax quux overloaded: API Error 529 again")
        assert hit.best is not None and hit.best.entry_id == EDITED


@pytest.mark.parametrize("kind", ["edit", "add", "remove", "all three"])
def test_one_changed_entry_answers_as_a_fresh_build_among_hundreds_of_neighbours(
    kind: str, synthetic: Catalog, features: dict[Entry, EntryFeatures], dev_texts: list[str]
) -> None:
    updated, fresh, touched, changed = _updated_and_fresh(synthetic, kind, features)
    neighbours = [entry for entry in changed.entries if "-n" in entry.id][::7]
    _assert_same_answers(updated, fresh, _texts(dev_texts, [*touched, *neighbours]))


def test_updates_in_a_row_and_a_saved_and_restored_update_answer_as_fresh_builds(
    shipped: Catalog, features: dict[Entry, EntryFeatures], dev_texts: list[str]
) -> None:
    matcher = Matcher(shipped, features=features)
    entries = list(shipped.entries)
    steps = [
        [_edited(e) if e.id == EDITED else e for e in entries],
        [*(_edited(e) if e.id == EDITED else e for e in entries), _added(entries[3])],
        [*(e for e in entries if e.id != entries[7].id), _added(entries[3])],  # the edit undone, one gone
        [_added(entries[3]), *entries[:7], *entries[13:]],  # five more gone
    ]
    previous = {entry.id: entry for entry in entries}
    for number, step in enumerate(steps):
        changed = Catalog.of(step, f"step {number}")
        unchanged = {entry.id for entry in step if previous.get(entry.id) == entry}
        updated = matcher.updated(changed, unchanged, features)
        assert updated is not None
        restored = Matcher.restore(changed, updated.state())
        fresh = Matcher(changed, features=features)
        texts = _texts(dev_texts, step[:12])
        _assert_same_answers(updated, fresh, texts)
        _assert_same_answers(restored, fresh, texts)
        matcher, previous = updated, {entry.id: entry for entry in step}


def test_too_many_changed_patterns_for_the_side_index_mean_a_full_build(
    synthetic: Catalog, features: dict[Entry, EntryFeatures]
) -> None:
    base = Matcher(synthetic, features=features)
    with_patterns = {entry.id for entry in synthetic.entries if entry.patterns}
    rewritten = [replace(entry, patterns=(*entry.patterns, r"never\s+seen\s+before")) if entry.id in with_patterns
                 else entry for entry in synthetic.entries]
    assert base.updated(Catalog.of(rewritten, "rewritten"), set(synthetic.ids) - with_patterns, features) is None


# -- through the catalog cache -----------------------------------------------------------------------


@pytest.fixture
def folder(catalog_copy: Path) -> Path:
    return catalog_copy


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count parsing a file, preparing an entry's features, and building a matcher whole or updating one."""
    calls = {"parse": 0, "features": 0, "built": 0, "updated": 0}
    parse, features, init, updated = (catalog_module._parse_file, matching.entry_features, Matcher.__init__,
                                      Matcher.updated)

    def counting(name: str, function: object) -> object:
        def counted_call(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            return function(*args, **kwargs)  # type: ignore[operator]

        return counted_call

    monkeypatch.setattr(catalog_module, "_parse_file", counting("parse", parse))
    monkeypatch.setattr(matching, "entry_features", counting("features", features))
    monkeypatch.setattr(Matcher, "__init__", counting("built", init))
    monkeypatch.setattr(Matcher, "updated", counting("updated", updated))
    return calls


def _restart(cache_dir: Path, folder: Path) -> Matcher:
    """A start that then stops: what it saved for the next start is written."""
    opened = CatalogCache(cache_dir, str(folder)).open(folder)[1]
    wait_for_saves()
    return opened


def _edit_file(folder: Path) -> None:
    path = folder / f"{EDITED}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("\ntitle: ", "\ntitle: Edited ", 1), encoding="utf-8")


def _add_file(folder: Path) -> None:
    text = (folder / f"{EDITED}.yaml").read_text(encoding="utf-8")
    (folder / "zz-team-entry.yaml").write_text(text.replace(f"id: {EDITED}", "id: zz-team-entry"), encoding="utf-8")


def _remove_file(folder: Path) -> None:
    (folder / "claude-code-ide-not-detected.yaml").unlink()
    for path in folder.glob("*.yaml"):  # no entry may name it as related any more
        text = path.read_text(encoding="utf-8")
        if "claude-code-ide-not-detected" in text and path.stem != "claude-code-ide-not-detected":
            path.write_text(re.sub(r"\n\s*- claude-code-ide-not-detected(?=\n)", "", text), encoding="utf-8")


@pytest.mark.parametrize("change", [_edit_file, _add_file, _remove_file])
def test_a_restart_after_a_file_changed_updates_the_ready_matcher(
    tmp_path: Path, folder: Path, counted: dict[str, int], dev_texts: list[str], change: object
) -> None:
    _restart(tmp_path / "cache", folder)
    change(folder)  # type: ignore[operator]
    counted.update(parse=0, features=0, built=0, updated=0)
    matcher = _restart(tmp_path / "cache", folder)
    assert counted["built"] == 0 and counted["updated"] == 1
    assert counted["parse"] == counted["features"] <= 2  # the changed files alone
    fresh = Matcher(load_catalog(folder))
    assert matcher.catalog.ids == fresh.catalog.ids
    _assert_same_answers(matcher, fresh, _texts(dev_texts, fresh.catalog.entries[:20]))
    # The next start finds it ready, with the changed entries' pages as they now are.
    counted.update(parse=0, features=0)
    again = _restart(tmp_path / "cache", folder)
    assert counted["parse"] == counted["features"] == 0
    assert again.catalog.entries == fresh.catalog.entries


def test_one_changed_file_adds_a_small_recent_parts_file_and_leaves_the_parts_file_alone(
    tmp_path: Path, folder: Path, counted: dict[str, int]
) -> None:
    cache = tmp_path / "cache"
    _restart(cache, folder)
    (parts,) = cache.glob("catalog-*[0-9a-f].pickle")
    written = parts.stat().st_mtime_ns, parts.stat().st_size
    _edit_file(folder)
    _restart(cache, folder)
    assert (parts.stat().st_mtime_ns, parts.stat().st_size) == written
    (recent,) = cache.glob("*.recent.pickle")
    assert recent.stat().st_size < written[1] / 10
    # A start that reads every file again (the ready catalog gone) parses none of them.
    for ready in cache.glob("*.ready.pickle"):
        ready.unlink()
    counted.update(parse=0, features=0)
    _restart(cache, folder)
    assert counted["parse"] == counted["features"] == 0


async def test_a_broken_edit_keeps_the_last_good_catalog_and_its_fix_updates_it(
    tmp_path: Path, folder: Path, counted: dict[str, int], dev_texts: list[str]
) -> None:
    cache = CatalogCache(tmp_path / "cache", str(folder))
    knowledge = cache.knowledge(folder)
    good_catalog, good_matcher = knowledge.catalog, knowledge.matcher
    path = folder / f"{EDITED}.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("\ntitle: ", "\ntitle: [unclosed\n", 1), encoding="utf-8")
    result = await knowledge.reload()
    assert not result.ok and knowledge.last_problems
    assert knowledge.catalog is good_catalog and knowledge.matcher is good_matcher
    counted.update(built=0, updated=0)
    path.write_text(original.replace("\ntitle: ", "\ntitle: Fixed ", 1), encoding="utf-8")
    result = await knowledge.reload()
    assert result.ok and not knowledge.last_problems
    assert counted["built"] == 0 and counted["updated"] == 1
    assert knowledge.catalog.get(EDITED).title.startswith("Fixed ")  # type: ignore[union-attr]
    fresh = Matcher(load_catalog(folder))
    _assert_same_answers(knowledge.matcher, fresh, _texts(dev_texts, fresh.catalog.entries[:20]))


async def test_a_hot_reload_after_one_edit_reads_and_prepares_that_file_alone(
    tmp_path: Path, folder: Path, counted: dict[str, int], dev_texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    _restart(cache_dir, folder)  # the first start leaves a ready catalog and its facts
    knowledge = CatalogCache(cache_dir, str(folder)).knowledge(folder)  # a warm start
    parts_read = 0
    load_parts = CatalogCache._load_parts

    def counted_parts(self: CatalogCache) -> None:
        nonlocal parts_read
        parts_read += 1
        load_parts(self)

    monkeypatch.setattr(CatalogCache, "_load_parts", counted_parts)
    counted.update(parse=0, features=0, built=0, updated=0)
    _edit_file(folder)
    result = await knowledge.reload()
    assert result.ok and len(result.entries) == len(knowledge.catalog)
    assert counted == {"parse": 1, "features": 1, "built": 0, "updated": 1}
    assert parts_read == 0  # every other entry's parsed form stays on disk
    assert knowledge.catalog.get(EDITED).title.startswith("Edited ")  # type: ignore[union-attr]
    fresh = Matcher(load_catalog(folder))
    _assert_same_answers(knowledge.matcher, fresh, _texts(dev_texts, fresh.catalog.entries[:20]))
    # Nothing changed since: a reload keeps the catalog in use.
    in_use = knowledge.catalog
    assert (await knowledge.reload()).ok and knowledge.catalog is in_use


def test_a_save_that_fails_after_serving_is_logged_and_the_next_start_updates_again(
    tmp_path: Path, folder: Path, counted: dict[str, int], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    cache_dir = tmp_path / "cache"
    _restart(cache_dir, folder)
    _edit_file(folder)

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(CatalogCache, "_save_ready", full_disk)
        catalog, _ = CatalogCache(cache_dir, str(folder)).open(folder)
        assert catalog.get(EDITED).title.startswith("Edited ")  # type: ignore[union-attr]  # served at once
        wait_for_saves()
    assert "catalog cache not saved" in caplog.text
    counted.update(parse=0, built=0, updated=0)
    catalog, _ = CatalogCache(cache_dir, str(folder)).open(folder)  # the ready file is the one before the edit
    assert catalog.get(EDITED).title.startswith("Edited ")  # type: ignore[union-attr]
    assert counted["built"] == 0 and counted["updated"] == 1
