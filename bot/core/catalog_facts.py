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

import numpy as np

from bot.core import catalog as catalog_module
from bot.core.catalog import Entry, catalog_version
from bot.core.catalog_folders import folder_label, folders_version_part
from bot.core.catalog_problem import CatalogProblem

# A folder as the file system lists it: its resolved path, its catalog files' names and, four numbers
# per file in the same order, their stats: size, inode, modification and change time (ns), as
# `catalog_cache.stamp` records them.
Listing = tuple[str, list[str], list[int]]
# Beyond this many files to parse, the full check (which parses in worker processes) is the better deal.
MOST_PARSED = 32


class FolderFacts(NamedTuple):
    """The files of one folder as the last check that passed found them, column by column, in the
    order the folder listed them: a few lists of plain values, quick to save and load at any size."""

    root: str  # resolved, as in the listing
    names: list[str]
    numbers: list[int]  # four per file: size, inode, modification and change time (ns)
    digests: list[str]  # SHA-256 of each file's bytes, hex
    ids: list[str]  # each file's entry id
    related: list[tuple[str, ...]]  # each file's entry's related ids


# One entry of the catalog: its id, the folder (by position) and file it is served from, and that
# file's digest. A plain tuple: there are as many as entries, made on every update.
Served = tuple[str, int, str, str]


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
        found = FolderFacts(root, list(names), list(numbers), [], [], [])
        for name in names:
            digest = read.get(name)
            entry = None if digest is None else entries.get((name, digest))
            if digest is None or entry is None:
                return None
            found.digests.append(digest)
            found.ids.append(entry.id)
            found.related.append(entry.related)
        kept.append(found)
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
    for number, (folder, listing, before) in enumerate(zip(folders, listings, previous, strict=True)):
        root, names, numbers = listing
        if root != before.root or not names:
            return None
        # Each file's facts as they were, where its stat is the same; the others' are found below.
        known = _unchanged(listing, before)
        now = FolderFacts(root, names, numbers, [before.digests[k] if k >= 0 else "" for k in known],
                          [before.ids[k] if k >= 0 else "" for k in known],
                          [before.related[k] if k >= 0 else () for k in known])
        where: dict[str, int] | None = None  # the earlier files by name, made when one is looked up
        for position in [position for position, k in enumerate(known) if k < 0]:
            # The stat changed: the file is read; a file of the same name and bytes is the same entry.
            name = names[position]
            if where is None:
                where = {earlier: place for place, earlier in enumerate(before.names)}
            was = where.get(name, -1)
            read = _read(folder / name, before.digests[was] if was >= 0 else None)
            if read is None:
                return None
            now.digests[position], entry = read
            if entry is None:
                now.ids[position], now.related[position] = before.ids[was], before.related[was]
                continue
            now.ids[position], now.related[position] = entry.id, entry.related
            parsed[number, name] = entry
            if len(parsed) > MOST_PARSED:
                return None
        if len(set(now.ids)) != len(now.ids):  # a duplicate id: the full check says which and where
            return None
        facts.append(now)
        versions.append(catalog_version(sorted(zip(names, now.digests, strict=True))))
    # Later folders replace earlier ones' entries by id, as in check_folders.
    served: dict[str, tuple[int, int]] = {}
    for number, now in enumerate(facts):
        served.update((entry_id, (number, position)) for position, entry_id in enumerate(now.ids))
    for entry_id, (number, position) in served.items():
        for related in facts[number].related[position]:
            if related not in served or related == entry_id:
                return None
    if len(folders) == 1:
        version = versions[0]
    else:
        combined = hashlib.sha256()
        for label, folder_version in zip(labels, versions, strict=True):
            combined.update(folders_version_part(label, folder_version))
        version = combined.hexdigest()[:12]
    return Rechecked(version, labels, [(entry_id, number, facts[number].names[position], facts[number].digests[position])
                                       for entry_id, (number, position) in sorted(served.items())], parsed, facts)


def _unchanged(listing: Listing, before: FolderFacts) -> list[int]:
    """For each file of `listing`, its position in `before` when its stat is the same there, else -1.
    A folder listed in the same order as before is compared in one array operation."""
    _, names, numbers = listing
    if names == before.names:
        same = np.asarray(numbers, dtype=np.int64) == np.asarray(before.numbers, dtype=np.int64)
        kept = same.reshape(-1, 4).all(axis=1)
        positions: list[int] = np.where(kept, np.arange(len(names)), -1).tolist()
        return positions
    where = {name: position for position, name in enumerate(before.names)}
    found: list[int] = []
    for position, name in enumerate(names):
        known = where.get(name, -1)
        if known >= 0 and numbers[4 * position: 4 * position + 4] != before.numbers[4 * known: 4 * known + 4]:
            known = -1
        found.append(known)
    return found


def _read(path: Path, known: str | None) -> tuple[str, Entry | None] | None:
    """A file whose stat changed: its digest, and its entry when its bytes are not those of digest
    `known` (None: a problem)."""
    problems: list[CatalogProblem] = []
    raw = catalog_module._read_bytes(path, problems)  # as a full check reads it
    if raw is None:
        return None
    digest = hashlib.sha256(raw).hexdigest()
    if digest == known:  # touched, or copied back: the same entry
        return digest, None
    entry = catalog_module._parse_file(path, raw, problems)
    if entry is None or problems:
        return None
    return digest, entry
