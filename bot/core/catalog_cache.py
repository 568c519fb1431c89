"""The validated, prepared catalog kept on disk, so a restart or reload pays only for what changed.

Reading a catalog means parsing and validating every file, then normalising every text and parsing
every regular expression for the matcher. All of it depends on one file's content alone, so both
results are kept per file content: a parsed entry under (file name, SHA-256 of its bytes), the
matcher's features under the entry itself. A restart with an unchanged catalog reads the files (to
know they are unchanged) and rebuilds only the indexes; a catalog with one edited file parses and
prepares that one file again. Cross-file checks (duplicate ids, related ids) always run.

The cache is a pickle, so it is only read from a file this user owns that nobody else can write, in a
folder nobody else can write; anything else, and any file that fails to load, is ignored and
rebuilt. A folder that cannot be written is no error: the bot runs without saving.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core import catalog as catalog_module
from bot.core import matching, normalize, regex_prefilter
from bot.core.catalog import Catalog, CheckResult, Entry, EntryMemo, check_catalog
from bot.core.errors import CatalogError
from bot.core.matching import EntryFeatures, Matcher

if TYPE_CHECKING:
    from bot.core.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

FORMAT = 1


def _code_version() -> str:
    """Entries and features are only valid for the code that made them: its source is part of the key."""
    digest = hashlib.sha256(f"{FORMAT}:{matching.FEATURES_VERSION}".encode())
    for module in (catalog_module, matching, normalize, regex_prefilter):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


class CatalogCache:
    """Parsed entries and matcher features for one catalog, loaded from and saved to `directory`.

    `directory=None` keeps everything in memory only (still useful: a hot reload reuses it).
    """

    def __init__(self, directory: Path | None, name: str = "catalog") -> None:
        self.directory = directory
        self.path = None if directory is None else directory / f"{_slug(name)}.pickle"
        self.entries: EntryMemo = {}
        self.features: dict[Entry, EntryFeatures] = {}
        self._code = _code_version()
        self._saved: frozenset[tuple[str, str]] | None = None
        self._writable = directory is not None
        self._load()

    # -- the two uses ----------------------------------------------------------------------------

    def check(self, folder: Path | str) -> CheckResult:
        """`check_catalog`, parsing only the files whose content is not known yet."""
        return check_catalog(folder, memo=self.entries)

    def load(self, folder: Path | str) -> Catalog:
        """`load_catalog` through the cache: raise `CatalogError` listing every problem if any exists."""
        result = self.check(folder)
        if not result.ok:
            raise CatalogError(list(result.problems))
        log.info("catalog loaded: %d entries, version %s, from %s", len(result.entries), result.version, folder)
        return Catalog.of(result.entries, result.version, str(folder))

    def knowledge(self, folder: Path) -> KnowledgeBase:
        """The catalog in `folder` and its matcher, ready to serve, kept up to date through this cache."""
        from bot.core.knowledge import KnowledgeBase  # it imports this module

        return KnowledgeBase(self.load(folder), (folder,), self)

    def matcher(self, catalog: Catalog) -> Matcher:
        """A matcher for `catalog`, preparing only the entries not prepared before; then saved."""
        matcher = Matcher(catalog, features=self.features)
        self._forget_all_but(catalog.entries)
        self.save()
        return matcher

    # -- disk ----------------------------------------------------------------------------------------

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        problem = _unsafe(self.path)
        if problem:
            log.warning("catalog cache %s ignored: %s", self.path, problem)
            return
        try:
            with self.path.open("rb") as handle:
                data: Any = pickle.load(handle)
            if not isinstance(data, dict) or data.get("code") != self._code:
                return  # written by other code: rebuilt and overwritten on the next save
            entries, features = data["entries"], data["features"]
            if isinstance(entries, dict) and isinstance(features, dict):
                self.entries, self.features = entries, features
                self._saved = frozenset(entries)
        except Exception as exc:  # a truncated or foreign file is only a slower start
            log.warning("catalog cache %s unreadable (%s: %s); rebuilding", self.path, type(exc).__name__, exc)

    def save(self) -> None:
        """Write the cache atomically when it changed; a failure only disables saving."""
        if self.path is None or not self._writable:
            return
        if self._saved == frozenset(self.entries):
            return
        assert self.directory is not None
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".catalog-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    pickle.dump({"code": self._code, "entries": self.entries, "features": self.features},
                                out, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            self._saved = frozenset(self.entries)
            _prune(self.directory, keep=self.path)
        except OSError as exc:
            self._writable = False
            log.warning("catalog cache not saved to %s (%s); running without it", self.directory,
                        exc.strerror or exc)

    def _forget_all_but(self, entries: Iterable[Entry]) -> None:
        """Keep only what the current catalog uses, so the file does not grow with every edit."""
        keep = set(entries)
        self.features = {entry: f for entry, f in self.features.items() if entry in keep}
        self.entries = {key: entry for key, entry in self.entries.items() if entry in keep}


def _unsafe(path: Path) -> str | None:
    """Why a cache file must not be unpickled, or None when it is ours alone."""
    for target in (path, path.parent):
        info = target.stat()
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return f"{target} belongs to another user"
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{target} is writable by others"
    return None


def _prune(directory: Path, keep: Path, most: int = 8) -> None:
    """Every catalog folder gets its own file; only the most recently written few are kept."""
    files = sorted(directory.glob("catalog-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files[most:]:
        if path != keep:
            path.unlink(missing_ok=True)


def _slug(name: str) -> str:
    return "catalog-" + hashlib.sha256(name.encode()).hexdigest()[:16]
