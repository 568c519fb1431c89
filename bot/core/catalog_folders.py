"""Several catalog folders served as one: the shipped catalog plus a team's own.

`SUPPORTBOT_KNOWLEDGE=builtin:/srv/team-knowledge` reads the shipped catalog, then the team's folder:
a later folder adds entries and replaces the entries that have the same id (its file has the same
name). The folders are validated together — related ids may point into any folder — and every
problem names the folder its file is in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bot.core.catalog import (
    Catalog,
    CheckResult,
    Entry,
    EntryMemo,
    check_catalog,
    default_catalog_dir,
    related_problems,
)
from bot.core.catalog_problem import CatalogProblem
from bot.core.errors import CatalogError

BUILTIN = "builtin"


def parse_folders(spec: str | None, builtin: Path | None = None) -> tuple[tuple[Path, ...], list[str]]:
    """`builtin:/path/team` -> the folders in order, and a problem line per part that is not a folder."""
    shipped = builtin or default_catalog_dir()
    if spec is None or not spec.strip():
        return (shipped,), []
    folders: list[Path] = []
    problems: list[str] = []
    for part in spec.split(":"):
        part = part.strip()
        if not part:
            continue
        folder = shipped if part == BUILTIN else Path(part).expanduser()
        if not folder.is_dir():
            problems.append(f"SUPPORTBOT_KNOWLEDGE names {part}, which is not a folder")
            continue
        if folder not in folders:
            folders.append(folder)
    if not folders and not problems:
        folders.append(shipped)
    return tuple(folders), problems


def folder_label(folder: Path, builtin: Path | None = None) -> str:
    """How problems name a folder: `builtin` for the shipped one, else the path as given."""
    shipped = builtin or default_catalog_dir()
    try:
        if folder.resolve() == shipped.resolve():
            return BUILTIN
    except OSError:
        pass
    return str(folder)


def check_folders(folders: Sequence[Path | str], memo: EntryMemo | None = None,
                  digests: dict[Path, str] | None = None) -> CheckResult:
    """Validate `folders` as one catalog (later folders replace entries by id); never raises.

    With `memo`, a file whose exact content was validated before is not parsed again (see
    `check_catalog`), in whichever folder it is; `digests` receives every file read's SHA-256.
    """
    paths = [Path(f) for f in folders]
    if len(paths) == 1:
        return check_catalog(paths[0], memo=memo, digests=digests)
    problems: list[CatalogProblem] = []
    by_id: dict[str, Entry] = {}
    digest = hashlib.sha256()
    for folder in paths:
        label = folder_label(folder)
        result = check_catalog(folder, check_related=False, memo=memo, digests=digests)
        digest.update(folders_version_part(label, result.version))
        problems.extend(replace(p, file=f"{label}/{p.file}" if p.file != str(folder) else label)
                        for p in result.problems)
        for entry in result.entries:
            by_id[entry.id] = replace(entry, source_file=f"{label}/{entry.source_file}")
    entries = sorted(by_id.values(), key=lambda e: e.id)
    problems.extend(related_problems(entries, set(by_id)))
    return CheckResult(tuple(entries), tuple(problems), digest.hexdigest()[:12])


def folders_version_part(label: str, version: str) -> bytes:
    """What one folder adds to the version of several folders served as one."""
    return f"{label}\0{version}\0".encode()


def load_folders(folders: Sequence[Path | str]) -> Catalog:
    """Load the catalog for serving; raise `CatalogError` listing every problem if any exists."""
    result = check_folders(folders)
    if not result.ok:
        raise CatalogError(list(result.problems))
    return Catalog.of(result.entries, result.version, ":".join(str(f) for f in folders))
