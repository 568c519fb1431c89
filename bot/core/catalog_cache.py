"""The validated, prepared catalog kept on disk, so a restart or reload pays only for what changed.

Four or five files per catalog (its folders, in order):

* the ready catalog: the catalog's ids and version and its prepared matcher (lists of text and flat
  arrays, no object per entry), as they were when every catalog file had the names, sizes, inodes and
  modification and change times recorded with it. A restart that finds exactly those files loads
  this one file and is ready: nothing is read, parsed, validated or indexed again.
* the ready catalog's facts: per catalog file, its stat, the SHA-256 of its bytes, its entry's id and
  related ids (see `catalog_facts`). When some files differ from the ready catalog's, only those
  whose stat changed are read, only those whose bytes are new are parsed, and the cross-file checks
  run over the facts, without unpickling any other entry; the ready matcher is then updated: the
  entries read from the same files as before keep their part of it, and only the others are prepared
  and put in (see `Matcher.updated`). Anything that check cannot vouch for (a problem, a folder added,
  many files to parse) goes to the full load below, which decides and lists every problem.
* the ready catalog's entries, the pages an answer shows; the ready file says where each starts and
  ends, and an entry is read when first shown, so a start does not pay for all of them. An update
  appends the changed entries' pages, so the file is written anew only when much of it changed.
* the parts: every parsed entry under (file name, SHA-256 of its bytes), and the matcher's features
  under the fingerprint of the file each entry came from (its folder's name for it and its SHA-256),
  left pickled until a full build needs them; the parts added since, while few, in a recent file
  beside them. The full load (no ready catalog, or one its facts cannot update) reads every file,
  parses only those whose content is new, and redoes the cross-file checks over the whole catalog.

Each is a pickle whose arrays are stored after it, unpickled straight from the file mapped into
memory (so a large matcher's arrays cost nothing until a paste reads them; the page cache keeps them
warm). They are pickles, so they are only read from a file this user owns that nobody else can write, in a
folder nobody else can write; anything else, and any file that fails to load, is ignored (with a log
line) and rebuilt. A folder that cannot be written is no error: the bot runs without saving.
"""

from __future__ import annotations

import array
import gc
import hashlib
import itertools
import logging
import mmap
import operator
import os
import pickle
import stat
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from bot.core import catalog as catalog_module
from bot.core import (
    catalog_facts,
    catalog_folders,
    catalog_safety,
    matching,
    normalize,
    regex_prefilter,
    sparse,
)
from bot.core.catalog import Catalog, CheckResult, Entry
from bot.core.catalog_facts import FolderFacts, Listing, facts_of, recheck, source_file
from bot.core.catalog_folders import check_folders
from bot.core.catalog_problem import CatalogProblem
from bot.core.errors import CatalogError
from bot.core.matching import EntryFeatures, Matcher
from bot.core.sparse import Ints, Texts
from bot.core.workers import map_in_workers

if TYPE_CHECKING:
    from bot.core.knowledge import KnowledgeBase

try:  # appending to a shared entries file takes a lock; without one the file is written anew
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FORMAT = 5
Folders = Path | str | Sequence[Path | str]
# What the catalog files looked like: per folder, its path, its files' names and for each file its
# size, inode, modification and change time in ns, packed in one string of bytes (see `stamp`).
FileStamp = bytes


def _code_version() -> str:
    """Entries and features are only valid for the code that made them: its source is part of the key."""
    digest = hashlib.sha256(f"{FORMAT}:{matching.FEATURES_VERSION}".encode())
    for module in (catalog_module, catalog_facts, catalog_folders, catalog_safety, matching, normalize,
                   regex_prefilter, sparse):
        digest.update(Path(module.__file__ or "").read_bytes())
    # The tool names are data the matcher's features are made with.
    digest.update(resources.files("bot.core").joinpath("tool_names.yaml").read_bytes())
    return digest.hexdigest()[:16]


def _folders(folders: Folders) -> tuple[Path, ...]:
    return (Path(folders),) if isinstance(folders, Path | str) else tuple(Path(f) for f in folders)


# Where the system can, files are listed and looked at relative to their open folder.
_BY_DIRECTORY = os.stat in os.supports_dir_fd and os.scandir in os.supports_fd


def stamp(folders: Folders) -> FileStamp:
    """Every catalog file of `folders` as the file system describes it, without reading any.

    The change time moves on every write and rename and cannot be set back by a copy that keeps
    modification times, so equal stamps mean the files were not touched since. The stamp is one
    string of bytes, so that comparing it with the saved one is a single comparison and loading it
    costs nothing, whatever the number of files.
    """
    parts: list[bytes] = []
    for folder in _folders(folders):
        # One stat per file and nothing else per file: at ten thousand files, pathlib's objects and a
        # resolve per file cost several times the system calls.
        root = str(folder.resolve())
        names: list[str] = []
        numbers: list[int] = []
        if not _BY_DIRECTORY:
            for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
                try:
                    info = path.stat()
                except OSError:
                    continue
                names.append(path.name)
                numbers += (info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
        else:
            try:
                directory = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            except OSError:
                continue
            try:
                names, numbers = _stat_by_directory(directory)
            finally:
                os.close(directory)
        # Lengths first, so that no two different listings pack to the same bytes.
        text = "\0".join([root, *names]).encode("utf-8", "surrogateescape")
        try:
            packed = b"A" + array.array("q", numbers).tobytes()
        except OverflowError:  # an inode or a time past 64 bits: rare enough to be written out in full
            packed = b"R" + repr(numbers).encode()
        parts.append(struct.pack("<QQ", len(text), len(packed)) + text + packed)
    return b"".join(parts)


def listings(files: FileStamp) -> list[Listing] | None:
    """What `stamp` packed, per folder: its resolved path, its files' names and their four numbers each;
    None when it was written out in full (a number past 64 bits)."""
    found: list[Listing] = []
    position = 0
    while position < len(files):
        text_size, packed_size = struct.unpack_from("<QQ", files, position)
        position += 16
        root, *names = files[position: position + text_size].decode("utf-8", "surrogateescape").split("\0")
        position += text_size
        packed = files[position: position + packed_size]
        position += packed_size
        if packed[:1] != b"A":
            return None
        numbers = array.array("q", packed[1:]).tolist()
        if len(numbers) != 4 * len(names):
            return None
        found.append((root, names, numbers))
    return found


_STAMPED = operator.attrgetter("st_size", "st_ino", "st_mtime_ns", "st_ctime_ns")


def _stat_by_directory(directory: int) -> tuple[list[str], list[int]]:
    """The catalog files of an open folder and their stamped numbers: one stat each and, at ten
    thousand files, no Python statement per file (a loop body costs a third of the stat itself)."""
    # In the listing's own order: an unchanged folder lists the same way, and a different order only
    # means a rebuild; sorting ten thousand names costs more than reading them.
    names = [name for name in os.listdir(directory) if name.endswith((".yaml", ".yml"))]
    try:
        infos = [os.stat(name, dir_fd=directory) for name in names]
    except OSError:  # a file removed since the listing: the files still there, one by one
        kept: list[str] = []
        infos = []
        for name in names:
            try:
                infos.append(os.stat(name, dir_fd=directory))
            except OSError:
                continue
            kept.append(name)
        names = kept
    return names, list(itertools.chain.from_iterable(map(_STAMPED, infos)))


class _Recording(MutableMapping[tuple[str, str], Entry]):
    """The parsed-entry memo, noting which keys the current catalog used (the rest is dropped on save)."""

    def __init__(self, known: dict[tuple[str, str], Entry]) -> None:
        self.known = known
        self.used: set[tuple[str, str]] = set()
        # Entry id -> the SHA-256 of the file it was read from; the later folder's when several have it,
        # as the later folder's entry is the one served.
        self.digests: dict[str, str] = {}

    def __getitem__(self, key: tuple[str, str]) -> Entry:
        found = self.known[key]
        self.used.add(key)
        self.digests[found.id] = key[1]
        return found

    def __setitem__(self, key: tuple[str, str], entry: Entry) -> None:
        self.known[key] = entry
        self.used.add(key)
        self.digests[entry.id] = key[1]

    def __delitem__(self, key: tuple[str, str]) -> None:
        del self.known[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)


class CatalogCache:
    """The ready catalog and its parts for one catalog, loaded from and saved to `directory`.

    `directory=None` keeps everything in memory only (still useful: a hot reload reuses it).
    """

    def __init__(self, directory: Path | None, name: str = "catalog") -> None:
        self.directory = directory
        slug = _slug(name)
        self.path = None if directory is None else directory / f"{slug}.pickle"
        self.ready_path = None if directory is None else directory / f"{slug}.ready.pickle"
        self.entries_path = None if directory is None else directory / f"{slug}.entries.pickle"
        # The parts added since the parts file was written, while they are few: a small file beside it,
        # so that one changed entry does not write every entry's parts again.
        self.recent_path = None if directory is None else directory / f"{slug}.recent.pickle"
        # What the checks need of each file of the ready catalog (see catalog_facts), written with it.
        self.facts_path = None if directory is None else directory / f"{slug}.facts.pickle"
        self._entries: dict[tuple[str, str], Entry] = {}
        self._used: set[tuple[str, str]] = set()
        # Matcher features by the fingerprint of what the entry was read from (see `check`): those
        # unpickled or prepared so far. The parts file's are kept pickled until a full build needs them:
        # a restart after an edit prepares the changed entries alone and never reads the others'.
        self._features: dict[str, EntryFeatures] = {}
        self._pickled_features: bytes | None = None
        self._unsaved: set[str] = set()  # prepared since the last save
        self._recent_prints: set[str] = set()  # in the recent file
        self._in_use: set[str] = set()  # the current catalog's
        self._code = _code_version()
        self._parts_loaded = False
        self._saved: frozenset[tuple[str, str]] | None = None  # the keys in the parts file
        self._recent_saved: frozenset[tuple[str, str]] = frozenset()  # and in the recent file
        self._stamps: dict[str, FileStamp] = {}  # catalog version -> the files it was read from
        self._facts: dict[str, list[FolderFacts]] = {}  # catalog version -> its files' facts
        # Catalog version -> entry id -> what the entry was read from (its file, by name and content):
        # an entry whose fingerprint a matcher already has is the same entry, prepared already.
        self._fingerprints: dict[str, dict[str, str]] = {}
        # The entries file last read or written, and the fingerprint of each entry in it, by id: an
        # unchanged entry's page is copied from it rather than pickled again.
        # The fingerprints are looked up only when a save needs them: a warm start does not decode them.
        self._pages: tuple[_EntryFile, Texts] | None = None
        self._writable = directory is not None

    @property
    def entries(self) -> dict[tuple[str, str], Entry]:
        self._load_parts()
        return self._entries

    def _all_features(self) -> dict[str, EntryFeatures]:
        """Every entry's matcher features known to the cache, by fingerprint."""
        self._load_parts()
        if self._pickled_features is not None:
            saved: dict[str, EntryFeatures] = pickle.loads(self._pickled_features)
            self._pickled_features = None
            for fingerprint, found in saved.items():
                self._features.setdefault(fingerprint, found)
        return self._features

    # -- the uses ----------------------------------------------------------------------------------

    def open(self, folders: Folders, files: FileStamp | None = None,
             base: Matcher | None = None) -> tuple[Catalog, Matcher]:
        """The catalog in `folders` and its matcher, ready to serve: from the ready file when no
        catalog file changed since it was written, else updated from it through the facts kept of
        its files, else loaded and prepared (and saved for next time). `files` is `stamp(folders)`
        when the caller has just taken it (each file is looked at once); `base` is the matcher in use,
        whose unchanged entries a full load keeps when there is no ready file (a hot reload).
        Raise `CatalogError` listing every problem if any exists."""
        wait_for_saves()  # the files as the last open left them
        data = self._read(self.ready_path)  # read once: it serves as it is, or as the base of an update
        files = stamp(folders) if files is None else files
        if data is not None and data.get("files") == files:
            ready = self._restore(data)
            if ready is not None:
                log.info("catalog ready from cache: %d entries, version %s", len(ready[0]), ready[0].version)
                return ready
            data = None  # unusable: already said so
        if data is not None:
            updated = self._reopen(_folders(folders), files, data)
            if updated is not None:
                return updated
        catalog = self.load(folders)
        # The last ready catalog, whatever files it was made from: the entries it shares with this one
        # are prepared in it already.
        last = None if data is None else self._restore(data)
        return catalog, self.matcher(catalog, base=base if last is None else last[1])

    def check(self, folders: Folders) -> CheckResult:
        """`check_folders`, parsing only the files whose content is not known yet."""
        wait_for_saves()
        files = stamp(folders)  # before reading: a file changed meanwhile then fails the next comparison
        memo = _Recording(self.entries)
        digests: dict[Path, str] = {}
        paths = _folders(folders)
        result = check_folders(paths, memo=memo, digests=digests)
        self._used = memo.used
        if result.ok:
            self._stamps[result.version] = files
            listed = listings(files)
            facts = None if listed is None else facts_of(listed, digests, paths, memo.known)
            if facts is not None:
                self._facts[result.version] = facts
            self._fingerprints[result.version] = {
                entry.id: f"{entry.source_file}\0{memo.digests.get(entry.id, '')}" for entry in result.entries}
        return result

    def load(self, folders: Folders) -> Catalog:
        """`load_folders` through the cache: raise `CatalogError` listing every problem if any exists."""
        result = self.check(folders)
        if not result.ok:
            raise CatalogError(list(result.problems))
        paths = _folders(folders)
        log.info("catalog loaded: %d entries, version %s, from %s", len(result.entries), result.version,
                 ":".join(map(str, paths)))
        return Catalog.of(result.entries, result.version, ":".join(map(str, paths)))

    def knowledge(self, folders: Folders, files: FileStamp | None = None) -> KnowledgeBase:
        """The catalog in `folders` and its matcher, ready to serve, kept up to date through this cache
        (`files` as for `open`)."""
        from bot.core.knowledge import KnowledgeBase  # it imports this module

        catalog, matcher = self.open(folders, files)
        return KnowledgeBase(catalog, _folders(folders), self, matcher=matcher)

    def matcher(self, catalog: Catalog, base: Matcher | None = None) -> Matcher:
        """A matcher for `catalog`, preparing only the entries not prepared before; then saved.

        With `base` (the matcher of an earlier version of this catalog), the entries read from the
        same files as base's are kept as base has them and only the others are prepared and put in
        (`Matcher.updated`); otherwise, or when that declines, the matcher is built whole.
        """
        self._load_parts()
        by_id = self._fingerprints.pop(catalog.version, None)
        fingerprints = None if by_id is None else [by_id.get(entry_id, "") for entry_id in catalog.ids]
        prints = fingerprints if fingerprints is not None else [""] * len(catalog)
        matcher = None
        if base is not None and by_id is not None:
            unchanged = {entry_id for entry_id, was in zip(base.catalog.ids, base.fingerprints, strict=True)
                         if was and by_id.get(entry_id) == was}
            # The changed entries alone are prepared: their content is new, so no saved features are read.
            changed = [n for n, entry_id in enumerate(catalog.ids) if entry_id not in unchanged]
            matcher = base.updated(catalog, unchanged, self._prepare(catalog, changed, prints, self._features),
                                   fingerprints)
        if matcher is None:
            features = self._prepare(catalog, range(len(catalog)), prints, self._all_features())
            matcher = Matcher(catalog, features=features, fingerprints=fingerprints)
        self._in_use = {fingerprint for fingerprint in prints if fingerprint}
        self._forget_all_but()
        self.save()
        files = self._stamps.pop(catalog.version, None)
        if files is not None:
            self._save_ready(files, catalog, matcher, self._facts.pop(catalog.version, None))
        return matcher

    def _reopen(self, folders: tuple[Path, ...], files: FileStamp, data: dict[str, Any]) -> tuple[Catalog, Matcher] | None:
        """The catalog as it is now and its matcher, from the ready catalog `data` and the facts saved
        with it, reading only the files whose stat changed and preparing only the entries whose file's
        content changed (see catalog_facts); None when the full load must decide."""
        listed = listings(files)
        saved = self._read(self.facts_path)
        if listed is None or saved is None or saved.get("serial") != data.get("serial"):
            return None
        rechecked = recheck(folders, listed, saved["facts"])
        if rechecked is None:
            return None
        last = self._restore(data)
        if last is None:
            return None
        last_catalog, base = last
        ids = [entry_id for entry_id, _, _, _ in rechecked.served]
        prints = [f"{source_file(rechecked.labels, folder, name)}\0{digest}"
                  for _, folder, name, digest in rechecked.served]
        was = {entry_id: number for number, entry_id in enumerate(last_catalog.ids)}
        before = base.fingerprints
        origin = [-1] * len(ids)  # entry number -> the same entry's number in the last catalog, or -1
        fresh: dict[int, Entry] = {}
        for number, ((entry_id, folder, name, _), fingerprint) in enumerate(zip(rechecked.served, prints, strict=True)):
            old = was.get(entry_id)
            if old is not None and before[old] == fingerprint:
                origin[number] = old
                continue
            entry = rechecked.parsed.get((folder, name))
            if entry is None:  # served from a file not parsed now (an overlay's entry removed): rare
                return None
            if len(folders) > 1:
                entry = replace(entry, source_file=source_file(rechecked.labels, folder, name))
            fresh[number] = entry

        def read(number: int) -> Entry:
            return last_catalog.at(origin[number])

        catalog = Catalog(ids, rechecked.version, ":".join(map(str, folders)), dict(fresh), read)
        unchanged = {entry_id for entry_id, old in zip(ids, origin, strict=True) if old >= 0}
        features = self._prepare(catalog, sorted(fresh), prints, self._features)
        matcher = base.updated(catalog, unchanged, features, prints)
        if matcher is None:
            return None
        self._in_use = set(prints)

        def save() -> None:
            self._keep_parsed(rechecked, ids, prints)
            self._save_ready(files, catalog, matcher, rechecked.facts)

        # The catalog serves now; what the next start needs is written meanwhile (at ten thousand
        # entries, a third of this update's time is writing the ready matcher's arrays again).
        _save_later(save)
        log.info("catalog updated from cache: %d entries, %d changed, version %s", len(catalog), len(fresh),
                 catalog.version)
        return catalog, matcher

    def _keep_parsed(self, rechecked: catalog_facts.Rechecked, ids: Sequence[str], prints: Sequence[str]) -> None:
        """The entries `recheck` parsed and their features join the parts, in the recent file while it
        stays small, so that a full load later parses and prepares none of them again."""
        entries = {(name, rechecked.facts[folder].digests[rechecked.facts[folder].names.index(name)]): entry
                   for (folder, name), entry in rechecked.parsed.items()}
        features = {fingerprint: self._features[fingerprint] for fingerprint in self._unsaved
                    if fingerprint in self._in_use and fingerprint in self._features}
        if not entries and not features:
            return
        recent = self._read(self.recent_path) if not self._parts_loaded else None
        kept_entries: dict[tuple[str, str], Entry] = {}
        kept_features: dict[str, EntryFeatures] = {}
        if recent is not None and isinstance(recent.get("entries"), dict) and isinstance(recent.get("features"), dict):
            kept_entries, kept_features = recent["entries"], recent["features"]
        kept_entries.update(entries)
        kept_features = {fingerprint: found for fingerprint, found in kept_features.items()
                         if fingerprint in self._in_use} | features
        if not self._parts_loaded and len(kept_entries) <= max(64, len(ids) // 8):
            if self._write(self.recent_path, {"code": self._code, "entries": kept_entries, "features": kept_features}):
                self._unsaved.clear()
            return
        # The recent file would grow too large: the parts are written whole again, as a full load does.
        self._load_parts()
        self._entries.update(entries)
        self._used = {key for folder in rechecked.facts for key in zip(folder.names, folder.digests, strict=True)}
        self._forget_all_but()
        self.save()

    def _prepare(self, catalog: Catalog, numbers: Iterable[int], prints: Sequence[str],
                 known: dict[str, EntryFeatures]) -> dict[Entry, EntryFeatures]:
        """The features of entries `numbers` of `catalog`, by entry: those `known` under the entry's
        fingerprint, the others prepared (in worker processes when there are many) and kept."""
        found: dict[Entry, EntryFeatures] = {}
        missing: list[tuple[Entry, str]] = []
        for number in numbers:
            entry, fingerprint = catalog.at(number), prints[number]
            features = known.get(fingerprint) if fingerprint else None
            if features is None:
                missing.append((entry, fingerprint))
            else:
                found[entry] = features
        made = map_in_workers(matching.entry_features, [entry for entry, _ in missing])
        for (entry, fingerprint), features in zip(missing, made, strict=True):
            found[entry] = features
            if fingerprint:
                self._features[fingerprint] = features
                self._unsaved.add(fingerprint)
        return found

    # -- disk ----------------------------------------------------------------------------------------

    def _read(self, path: Path | None) -> Any:
        """The unpickled content of one of our files, or None when absent, unsafe or unreadable."""
        if path is None:
            return None
        try:
            problem = _unsafe(path)
        except OSError:  # absent, or removed just now by another process's pruning
            return None
        if problem:
            log.warning("catalog cache %s ignored: %s", path, problem)
            return None
        # Unpickling a large catalog creates millions of objects and no garbage: the cyclic collector
        # would only walk the growing heap again and again (it doubles the time), so it waits.
        collecting = gc.isenabled()
        gc.disable()
        try:
            data: Any = _load(path)
        except Exception as exc:  # a truncated or foreign file is only a slower start
            log.warning("catalog cache %s unreadable (%s: %s); rebuilding", path, type(exc).__name__, exc)
            return None
        finally:
            if collecting:
                gc.enable()
        if not isinstance(data, dict) or data.get("code") != self._code:
            return None  # written by other code: rebuilt and overwritten on the next save
        return data

    def _restore(self, data: dict[str, Any]) -> tuple[Catalog, Matcher] | None:
        """The ready catalog and its matcher from the ready file's content, or None when unusable."""
        try:
            ids = list(data["ids"])
            pages = _EntryFile.open(self.entries_path, data["token"], data["starts"], data["ends"], ids)
            catalog = Catalog.lazy(ids, data["version"], data["folder"], pages.entry)
            matcher = Matcher.restore(catalog, data["matcher"])
            self._pages = pages, matcher.fingerprints
            return catalog, matcher
        except Exception as exc:  # another program's file, or half of a save: only a slower start
            log.warning("catalog cache %s unusable (%s: %s); rebuilding", self.ready_path, type(exc).__name__, exc)
            return None

    def _load_parts(self) -> None:
        if self._parts_loaded:
            return
        self._parts_loaded = True
        data = self._read(self.path)
        if data is None:
            return
        entries, features = data.get("entries"), data.get("features")
        if not isinstance(entries, dict) or not isinstance(features, bytes):
            return
        self._entries, self._pickled_features = entries, features
        self._saved = frozenset(entries)
        recent = self._read(self.recent_path)
        if recent is not None and isinstance(recent.get("entries"), dict) and isinstance(recent.get("features"), dict):
            self._entries.update(recent["entries"])
            self._features.update(recent["features"])
            self._recent_saved, self._recent_prints = frozenset(recent["entries"]), set(recent["features"])

    def save(self) -> None:
        """Write the parts atomically when they changed; a failure only disables saving.

        While the parts file lacks few of the parts in use and holds few unused ones, only those it
        lacks are written, to the recent file; past a quarter of the catalog, the parts file is
        written whole again (and the recent file goes).
        """
        current = frozenset(self._entries)
        saved = self._saved if self._saved is not None else frozenset()
        lacking = current - saved
        if self._saved is not None and len(lacking) + len(saved - current) <= len(current) // 4:
            if lacking <= self._recent_saved and not self._unsaved:
                return
            prints = (self._recent_prints | self._unsaved) & self._in_use
            features = {fingerprint: self._features[fingerprint] for fingerprint in prints
                        if fingerprint in self._features}
            entries = {key: self._entries[key] for key in lacking}
            if self._write(self.recent_path, {"code": self._code, "entries": entries, "features": features}):
                self._recent_saved, self._recent_prints = lacking, set(features)
                self._unsaved.clear()
            return
        known = self._all_features()
        features = {fingerprint: known[fingerprint] for fingerprint in self._in_use if fingerprint in known}
        if self._write(self.path, {"code": self._code, "entries": self._entries,
                                   "features": pickle.dumps(features, protocol=pickle.HIGHEST_PROTOCOL)}):
            self._saved = current
            if self.recent_path is not None and self._recent_saved:
                self.recent_path.unlink(missing_ok=True)
            self._recent_saved, self._recent_prints = frozenset(), set()
            self._unsaved.clear()

    def _save_ready(self, files: FileStamp, catalog: Catalog, matcher: Matcher,
                    facts: list[FolderFacts] | None) -> None:
        # The entries first. An entry read from the same file as before keeps its page where it is;
        # while the pages to write are few and the file holds little else, they are appended to it
        # (the ready files written before keep finding theirs), else the file is written anew under a
        # fresh token: a ready file only ever opens an entries file that starts with its token.
        earlier, where = None, {}
        if self._pages is not None:
            earlier, printed = self._pages
            where = earlier.fingerprints(printed)
        kept: list[int] = []  # per entry: its page number in the earlier file, or -1 (to write)
        fresh: list[bytes] = []
        for number, (entry_id, fingerprint) in enumerate(zip(catalog.ids, matcher.fingerprints, strict=True)):
            found = where.get(entry_id)
            if earlier is not None and found is not None and fingerprint and found[1] == fingerprint:
                kept.append(found[0])  # the same file made the same entry: its page as it was
            else:
                kept.append(-1)
                fresh.append(pickle.dumps(catalog.at(number), protocol=pickle.HIGHEST_PROTOCOL))
        spans = None
        if earlier is not None and len(fresh) <= max(16, len(kept) // 4) and self._writable:
            spans = earlier.append(self.entries_path, fresh, kept)
        if spans is not None and earlier is not None:
            token, (starts, ends) = earlier.token, spans
        else:
            token = os.urandom(16)
            pages = [token]
            fresh_pages = iter(fresh)
            for number in kept:
                pages.append(next(fresh_pages) if number < 0 else earlier.page(number) if earlier else b"")
            sizes = np.fromiter(map(len, pages), dtype=np.int64, count=len(pages))
            ends = np.cumsum(sizes)[1:]
            starts = ends - sizes[1:]
            if not self._write(self.entries_path, pages):
                return
        try:
            written = _EntryFile.open(self.entries_path, token, starts, ends, catalog.ids)
            self._pages = written, matcher.fingerprints
        except (OSError, ValueError):
            self._pages = None
            return
        # A name for this ready file alone, which its facts carry: facts are only used with their own.
        serial = os.urandom(16)
        if self._write(self.ready_path, {"code": self._code, "files": files, "version": catalog.version,
                                         "folder": catalog.folder, "ids": catalog.ids, "token": token,
                                         "starts": starts, "ends": ends, "serial": serial,
                                         "matcher": matcher.state()}) and facts is not None:
            self._write(self.facts_path, {"code": self._code, "serial": serial, "facts": facts})

    def _write(self, path: Path | None, data: dict[str, Any] | list[bytes]) -> bool:
        """`data` pickled (a list of bytes: written as they are) to `path`, atomically."""
        if path is None or not self._writable:
            return False
        assert self.directory is not None
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".catalog-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    if isinstance(data, list):
                        out.writelines(data)
                    else:
                        _dump(data, out)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            _prune(self.directory, keep={p for p in (self.path, self.ready_path, self.entries_path, self.recent_path,
                                                          self.facts_path)
                                         if p is not None})
            return True
        except OSError as exc:
            self._writable = False
            log.warning("catalog cache not saved to %s (%s); running without it", self.directory,
                        exc.strerror or exc)
            return False

    def _forget_all_but(self) -> None:
        """Keep only what the current catalog uses, so the files do not grow with every edit."""
        self._features = {fingerprint: f for fingerprint, f in self._features.items() if fingerprint in self._in_use}
        # Parsed entries are kept as parsed (an overlay folder's are renamed after), so by key.
        self._entries = {key: entry for key, entry in self._entries.items() if key in self._used}


# Saves that only the next start needs run after the catalog is served, on one writer thread for
# every cache of the process, so they happen in order; whatever reads the files first waits for them.
# The thread is joined when the interpreter exits, so a stop in between still leaves them written
# (or, killed mid-write, only a temporary file: the ready file is replaced in one step).
_saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-save")
_saves_lock = threading.Lock()
_saves: list[Future[None]] = []


def _save_later(work: Callable[[], None]) -> None:
    def logged() -> None:
        try:
            work()
        except Exception:  # the catalog serves as it is; the next start just does this update again
            log.exception("catalog cache not saved")

    with _saves_lock:
        _saves.append(_saver.submit(logged))


def wait_for_saves() -> None:
    """Return once every save begun so far is written (benchmarks and tests call it too)."""
    with _saves_lock:
        pending, _saves[:] = list(_saves), []
    for future in pending:
        future.result()


_MAGIC = b"SBCACHE\x03"
_ALIGN = 64


def _dump(data: Any, out: BinaryIO) -> None:
    """`data` pickled with its arrays out of band: magic, sizes, the pickle, then each array aligned."""
    buffers: list[pickle.PickleBuffer] = []
    body = pickle.dumps(data, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    position = len(_MAGIC) + 16 + 16 * len(raws) + len(body)
    spans: list[tuple[int, int]] = []
    for raw in raws:
        position = -(-position // _ALIGN) * _ALIGN
        spans.append((position, raw.nbytes))
        position += raw.nbytes
    header = _MAGIC + struct.pack("<QQ", len(body), len(raws)) + b"".join(struct.pack("<QQ", *s) for s in spans)
    out.write(header)
    out.write(body)
    written = len(header) + len(body)
    for (start, size), raw in zip(spans, raws, strict=True):
        out.write(bytes(start - written))
        out.write(raw)
        written = start + size


def _load(path: Path) -> Any:
    """What `_dump` wrote; its arrays are read-only views of the file mapped into memory."""
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    if view[: len(_MAGIC)] != _MAGIC:
        raise ValueError("not a catalog cache file of this version")
    body_size, count = struct.unpack_from("<QQ", mapped, len(_MAGIC))
    table = len(_MAGIC) + 16
    spans = [struct.unpack_from("<QQ", mapped, table + 16 * i) for i in range(count)]
    body = table + 16 * count
    if body + body_size > len(mapped) or any(start + size > len(mapped) for start, size in spans):
        raise ValueError("truncated")
    return pickle.loads(view[body : body + body_size], buffers=[view[start : start + size] for start, size in spans])


def _unsafe(path: Path) -> str | None:
    """Why a cache file must not be unpickled, or None when it is ours alone."""
    for target in (path, path.parent):
        info = target.stat()
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return f"{target} belongs to another user"
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{target} is writable by others"
    return None


def _prune(directory: Path, keep: set[Path], most: int = 32) -> None:
    """Every catalog gets its own three or four files; only the most recently written few are kept."""
    def written(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:  # another process pruned it meanwhile
            return 0.0

    files = sorted(directory.glob("catalog-*.pickle"), key=written, reverse=True)
    for path in files[most:]:
        if path not in keep:
            path.unlink(missing_ok=True)


class _EntryFile:
    """The ready catalog's entries file, held open: an entry is read from it the first time it is shown.

    Entry i is the bytes from starts[i] to ends[i]. The file starts with its token and only grows
    until it is written anew (see `append`), so it stays readable through its open descriptor, and by
    every ready file written with its token, whatever saves come later.
    """

    def __init__(self, descriptor: int, token: bytes, starts: Ints, ends: Ints, ids: list[str]) -> None:
        self._descriptor = descriptor
        self.token = token
        self._starts = starts
        self._ends = ends
        self._ids = ids

    @classmethod
    def open(cls, path: Path | None, token: bytes, starts: Ints, ends: Ints, ids: list[str]) -> _EntryFile:
        if path is None:
            raise FileNotFoundError("no folder")
        problem = _unsafe(path)
        if problem:
            raise PermissionError(problem)
        descriptor = os.open(path, os.O_RDONLY)
        pages = cls(descriptor, token, starts, ends, ids)  # closes the descriptor when dropped, whatever follows
        if len(starts) != len(ids) or len(ends) != len(ids) or (len(ids) and (
                int(ends.max()) > os.fstat(descriptor).st_size or int(starts.min()) < len(token)
                or bool((ends < starts).any()))) or os.pread(descriptor, len(token), 0) != token:
            raise ValueError("the entries file was not written with this ready file")
        return pages

    def append(self, path: Path | None, fresh: list[bytes], kept: list[int]) -> tuple[Ints, Ints] | None:
        """Pages `fresh` added at the end of this file, still at `path`: every entry's start and end,
        entry i's being page kept[i] of this file, or the next of `fresh` when kept[i] is -1. None when
        the file cannot take them (replaced meanwhile, or holding too much that is no longer used)."""
        numbers = np.asarray(kept, dtype=np.int64)
        live = int((self._ends - self._starts)[numbers[numbers >= 0]].sum()) + sum(map(len, fresh))
        if path is None or fcntl is None or _unsafe(path):
            return None
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            mine, there = os.fstat(self._descriptor), os.fstat(descriptor)
            if (mine.st_dev, mine.st_ino) != (there.st_dev, there.st_ino):
                return None
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # another process sharing the cache may append too
            end = os.fstat(descriptor).st_size
            if end > 2 * live:  # mostly pages no ready file uses any more: written anew
                return None
            if len(self._ends) and end < int(self._ends.max()):  # cut short by someone: not to be trusted
                return None
            data = memoryview(b"".join(fresh))
            done = 0
            while done < len(data):
                done += os.write(descriptor, data[done:])
        except OSError:
            return None
        finally:
            os.close(descriptor)  # and the lock with it
        fresh_sizes = np.fromiter(map(len, fresh), dtype=np.int64, count=len(fresh))
        fresh_ends = end + np.cumsum(fresh_sizes)
        written = numbers < 0
        starts = self._starts[np.maximum(numbers, 0)].astype(np.int64)
        ends = self._ends[np.maximum(numbers, 0)].astype(np.int64)
        starts[written], ends[written] = fresh_ends - fresh_sizes, fresh_ends
        return starts, ends

    def fingerprints(self, fingerprints: Iterable[str]) -> dict[str, tuple[int, str]]:
        """Entry id -> its page number and the fingerprint it was prepared from (as the matcher has it)."""
        return {entry_id: (number, fingerprint)
                for number, (entry_id, fingerprint) in enumerate(zip(self._ids, fingerprints, strict=True))}

    def page(self, number: int) -> bytes:
        """Entry `number` as stored, not unpickled."""
        start = int(self._starts[number])
        return os.pread(self._descriptor, int(self._ends[number]) - start, start)

    def entry(self, number: int) -> Entry:
        try:
            found = pickle.loads(self.page(number))
        except Exception as exc:
            raise CatalogError([self._problem(number, f"unreadable in the catalog cache: {exc}")]) from exc
        if not isinstance(found, Entry) or found.id != self._ids[number]:
            raise CatalogError([self._problem(number, "the catalog cache holds something else")])
        return found

    def _problem(self, number: int, problem: str) -> CatalogProblem:
        return CatalogProblem(f"{self._ids[number]}.yaml", "-", problem)

    def __del__(self) -> None:
        os.close(self._descriptor)


def _slug(name: str) -> str:
    return "catalog-" + hashlib.sha256(name.encode()).hexdigest()[:16]
