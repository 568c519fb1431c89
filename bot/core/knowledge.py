"""The catalog in use and its matcher; a reload reads and checks the files off the event loop."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.core.catalog import Catalog, CheckResult, check_catalog
from bot.core.matching import Matcher

log = logging.getLogger(__name__)


class KnowledgeBase:
    """The catalog in use and its matcher; reloads keep the last good catalog on failure."""

    def __init__(self, catalog: Catalog, folder: Path) -> None:
        self.folder = folder
        self._set(catalog)
        self.last_problems: tuple[str, ...] = ()

    def _set(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.matcher = Matcher(catalog)

    async def reload(self) -> CheckResult:
        """Load the folder again; swap only if it is valid. The result says what happened.

        Reading the files, parsing the YAML and building the new matcher run in a worker thread, so
        the bot keeps answering while a large catalog loads; the swap itself happens on the loop.
        """
        result = await asyncio.to_thread(check_catalog, self.folder)
        if result.ok:
            if result.version != self.catalog.version:
                catalog = Catalog.of(result.entries, result.version, str(self.folder))
                matcher = await asyncio.to_thread(Matcher, catalog)
                self.catalog, self.matcher = catalog, matcher
                log.info("catalog reloaded: %d entries, version %s", len(result.entries), result.version)
            self.last_problems = ()
        else:
            self.last_problems = tuple(str(p) for p in result.problems)
            log.warning("catalog reload refused, keeping version %s: %d problem(s)",
                        self.catalog.version, len(result.problems))
        return result
