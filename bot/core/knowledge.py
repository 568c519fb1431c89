"""The catalog in use and its matcher; a reload reads and checks the files off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from bot.core.catalog import Catalog, CatalogEntries, CheckResult
from bot.core.catalog_cache import CatalogCache, FileStamp
from bot.core.catalog_folders import check_folders
from bot.core.errors import CatalogError
from bot.core.matching import Matcher

log = logging.getLogger(__name__)


class KnowledgeBase:
    """The catalog in use and its matcher; reloads keep the last good catalog on failure."""

    def __init__(self, catalog: Catalog, folder: Path | Sequence[Path], cache: CatalogCache | None = None,
                 *, matcher: Matcher | None = None) -> None:
        # Several folders: the shipped catalog and a team's own (later ones replace entries by id).
        self.folders: tuple[Path, ...] = (folder,) if isinstance(folder, Path) else tuple(folder)
        self.folder = self.folders[-1]
        self.cache = cache
        self.catalog = catalog
        # A matcher already prepared for this catalog (the cache's ready one) is used as it is.
        self.matcher = matcher if matcher is not None and matcher.catalog is catalog else self._prepare(catalog)
        self.last_problems: tuple[str, ...] = ()

    def _prepare(self, catalog: Catalog, base: Matcher | None = None) -> Matcher:
        """A matcher for `catalog`; through the cache, the entries `base` holds unchanged are kept as they are."""
        return self.cache.matcher(catalog, base) if self.cache is not None else Matcher(catalog)

    async def reload(self, files: FileStamp | None = None) -> CheckResult:
        """Load the folders again; swap only if they are valid. The result says what happened.
        `files` is `stamp(self.folders)` when the caller has just taken it (the catalog watcher).

        Through the cache, only the files whose stat changed are read and only the changed entries
        prepared, as a restart does (`CatalogCache.open`). Reading the files, parsing the YAML and
        updating the matcher run in a worker thread, so the bot keeps answering while a large catalog
        loads; the swap itself happens on the loop.
        """
        if self.cache is None:
            result = await asyncio.to_thread(check_folders, self.folders)
            if result.ok and result.version != self.catalog.version:
                catalog = Catalog.of(result.entries, result.version, ":".join(map(str, self.folders)))
                self._swap(catalog, await asyncio.to_thread(self._prepare, catalog, self.matcher))
        else:
            try:
                catalog, matcher = await asyncio.to_thread(self.cache.open, self.folders, files, self.matcher)
            except CatalogError as exc:
                result = CheckResult((), tuple(exc.problems), self.catalog.version)
            else:
                result = CheckResult(CatalogEntries(catalog), (), catalog.version)
                if catalog.version != self.catalog.version:
                    self._swap(catalog, matcher)
        if result.ok:
            self.last_problems = ()
        else:
            self.last_problems = tuple(str(p) for p in result.problems)
            log.warning("catalog reload refused, keeping version %s: %d problem(s)",
                        self.catalog.version, len(result.problems))
        return result

    def _swap(self, catalog: Catalog, matcher: Matcher) -> None:
        self.catalog, self.matcher = catalog, matcher
        log.info("catalog reloaded: %d entries, version %s", len(catalog), catalog.version)
