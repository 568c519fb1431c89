"""What a catalog's checks need of each file, kept so that a changed catalog is checked from the changes.

A full check (`check_folders`) reads and hashes every file and compares every entry with the others
(duplicate ids, related ids). For a catalog that passed it, these facts are kept per file: its stat
(size, inode, modification and change times), the SHA-256 of its bytes, its entry's id and related
ids. `recheck` then checks the catalog as it is now from the facts of the files whose stat did not
change and from reading only the others (parsing only those whose bytes are new), and gives the same
verdict, version and entries as a full check would. It never reports problems: anything it cannot
vouch for, a problem included, is None, and the caller runs the full check, which lists them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bot.core import catalog as catalog_module
from bot.core.catalog import Entry, catalog_version
from bot.core.catalog_folders import folder_label, folders_version_part
from bot.core.catalog_problem import CatalogProblem

# size, inode, modification time (ns), change time (ns): as `catalog_cache.stamp` records them.
Stat = tuple[int, int, int, int]
# A folder as the file system lists it: its resolved path, its catalog files' names and, four numbers
# per file in the same order, their stats.
Listing = tuple[str, list[str], list[int]]
# Beyond this many files to parse, the full check (which parses in worker processes) is the better deal.
MOST_PARSED = 32


class FileFacts(NamedTuple):
    """One catalog file as the last check that passed found it: a plain tuple, cheap to load in bulk."""

    size: int
    inode: int
    modified_ns: int
    changed_ns: int
    digest: str  # SHA-256 of the bytes, hex
    entry_id: str
    related: tuple[str, ...]


class FolderFacts(NamedTuple):
    root: str  # resolved, as in the listing
    files: dict[str, FileFacts]


@dataclass(frozen=True, slots=True)
class Served:
    """One entry of the catalog: the folder (by position) and file it is served from, and that file's digest."""

    entry_id: str
    folder: int
    name: str
    digest: str


@dataclass(frozen=True, slots=True)
class Rechecked:
    """What `recheck` found: the catalog passes, with this version and these entries (by id)."""

    version: str
    labels: list[str]  # how problems and source files name each folder
    served: list[Served]  # in id order
    parsed: dict[tuple[int, str], Entry]  # the entries whose files were parsed, by (folder, name)
    facts: list[FolderFacts]  # the facts of the catalog as it is now


def source_file(labels: Sequence[str], folder: int, name: str) -> str:
    """An entry's `source_file` as `check_folders` sets it: its file's name, behind its folder's label
    when there are several folders."""
    return name if len(labels) == 1 else f"{labels[folder]}/{name}"


def facts_of(listings: Sequence[Listing], digests: Mapping[Path, str], folders: Sequence[Path],
             entries: Mapping[tuple[str, str], Entry]) -> list[FolderFacts] | None:
    """The facts of a catalog that just passed a full check: `listings` taken before it read the files,
    `digests` of what it read, `entries` its parsed entries by (file name, digest). None when the
    files read are not exactly those listed (one came or went meanwhile): no facts rather than doubtful ones.
    """
    if len(listings) != len(folders):
        return None
    kept: list[FolderFacts] = []
    for (root, names, numbers), folder in zip(listings, folders, strict=True):
        read = {path.name: digest for path, digest in digests.items() if path.parent == folder}
        if len(read) != len(names):
            return None
        files: dict[str, FileFacts] = {}
        for position, name in enumerate(names):
            digest = read.get(name)
            entry = None if digest is None else entries.get((name, digest))
            if digest is None or entry is None:
                return None
            size, inode, modified, changed = numbers[4 * position: 4 * position + 4]
            files[name] = FileFacts(size, inode, modified, changed, digest, entry.id, entry.related)
        kept.append(FolderFacts(root, files))
    return kept


def recheck(folders: Sequence[Path], listings: Sequence[Listing], previous: Sequence[FolderFacts]) -> Rechecked | None:
    """The catalog in `folders`, now listed as `listings`, checked from the `previous` facts: the files
    whose stat is unchanged are taken as they were; the others are read, and parsed when their bytes
    are new. None when the full check must decide (a problem, a folder added or gone, many changes)."""
    if len(listings) != len(folders) or len(previous) != len(folders) or not folders:
        return None
    labels = [folder_label(folder) for folder in folders]
    facts: list[FolderFacts] = []
    parsed: dict[tuple[int, str], Entry] = {}
    versions: list[str] = []
    for number, (folder, (root, names, numbers), before) in enumerate(zip(folders, listings, previous, strict=True)):
        if root != before.root or not names:
            return None
        files: dict[str, FileFacts] = {}
        for position, name in enumerate(names):
            stat: Stat = (numbers[4 * position], numbers[4 * position + 1], numbers[4 * position + 2],
                          numbers[4 * position + 3])
            known = before.files.get(name)
            if known is not None and known[:4] == stat:
                files[name] = known
                continue
            read = _read(folder / name, stat, known)
            if read is None:
                return None
            files[name], entry = read
            if entry is not None:
                parsed[number, name] = entry
                if len(parsed) > MOST_PARSED:
                    return None
        ids = [facts_of_file.entry_id for facts_of_file in files.values()]
        if len(set(ids)) != len(ids):  # a duplicate id: the full check says which and where
            return None
        facts.append(FolderFacts(root, files))
        versions.append(catalog_version((name, files[name].digest) for name in sorted(files)))
    # Later folders replace earlier ones' entries by id, as in check_folders.
    served: dict[str, Served] = {}
    for number, folder_facts in enumerate(facts):
        for name, facts_of_file in folder_facts.files.items():
            served[facts_of_file.entry_id] = Served(facts_of_file.entry_id, number, name, facts_of_file.digest)
    for one in served.values():
        for related in facts[one.folder].files[one.name].related:
            if related not in served or related == one.entry_id:
                return None
    if len(folders) == 1:
        version = versions[0]
    else:
        digest = hashlib.sha256()
        for label, folder_version in zip(labels, versions, strict=True):
            digest.update(folders_version_part(label, folder_version))
        version = digest.hexdigest()[:12]
    return Rechecked(version, labels, [served[entry_id] for entry_id in sorted(served)], parsed, facts)


def _read(path: Path, stat: Stat, known: FileFacts | None) -> tuple[FileFacts, Entry | None] | None:
    """A file whose stat changed: its facts now, and its entry when its bytes are new (None: a problem)."""
    problems: list[CatalogProblem] = []
    raw = catalog_module._read_bytes(path, problems)  # as a full check reads it
    if raw is None:
        return None
    digest = hashlib.sha256(raw).hexdigest()
    size, inode, modified, changed = stat
    if known is not None and known.digest == digest:  # touched, or copied back: the same entry
        return known._replace(size=size, inode=inode, modified_ns=modified, changed_ns=changed), None
    entry = catalog_module._parse_file(path, raw, problems)
    if entry is None or problems:
        return None
    return FileFacts(size, inode, modified, changed, digest, entry.id, entry.related), entry

