"""The composition root: settings -> policy, catalog -> store -> service, with every lifetime owned here.

The health report and the service's metrics live here too, as the routes (`GET /healthz`, `GET /metrics`)
a front end that serves HTTP mounts beside its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import Settings, mask_url
from bot.core.catalog_cache import CatalogCache, FileStamp, stamp
from bot.core.ports import IncidentStore
from bot.core.service import SupportService
from bot.errors import StoreError
from bot.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.metrics import make_registry
from bot.metrics import render as render_metrics
from bot.storage import open_store

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


@dataclass
class App:
    settings: Settings
    service: SupportService
    store: IncidentStore
    # Front end name -> "running" | "reconnecting" | "stopped", kept by the runner.
    front_end_status: dict[str, str] = field(default_factory=dict)
    # The catalog files (names, times, sizes) as they were just before they were loaded: where the
    # catalog watcher starts, so its first look reloads only what changed since, not the whole catalog.
    catalog_files: FileStamp | None = None
    _store_check: asyncio.Future[str] | None = field(default=None, init=False, repr=False)

    async def health(self) -> dict[str, Any]:
        """What `GET /healthz` answers: the store, the catalog in use, and each front end's state."""
        # Checks that arrive while one is asking the store share its answer: a burst of probes costs
        # one round trip to the database thread, not one each in a queue.
        if self._store_check is None or self._store_check.done():
            self._store_check = asyncio.ensure_future(self._check_store())
        store = await asyncio.shield(self._store_check)
        catalog = self.service.catalog
        front_ends = dict(self.front_end_status)
        healthy = store == "ok" and all(state == "running" for state in front_ends.values())
        return {"ok": healthy, "store": store, "catalog": {"entries": len(catalog), "version": catalog.version},
                "front_ends": front_ends}

    async def _check_store(self) -> str:
        try:
            await self.store.ping()
        except Exception as exc:  # the reason class is enough; the message could carry a URL
            return f"error: {type(exc).__name__}"
        return "ok"

    def http_routes(self) -> list[web.RouteDef]:
        """`GET /healthz` (the report above, as JSON) and `GET /metrics` (the service's counters)."""
        service = self.service
        registry = make_registry(service.stats, lambda: service.in_flight,
                                 lambda: (service.catalog.version, len(service.catalog)))

        async def healthz(request: web.Request) -> web.Response:
            return web.json_response(await self.health())

        async def metrics(request: web.Request) -> web.Response:
            return web.Response(body=render_metrics(registry), headers={"Content-Type": METRICS_CONTENT_TYPE})

        return [web.get(HEALTH_PATH, healthz), web.get(METRICS_PATH, metrics)]


@asynccontextmanager
async def serve_http(web_app: web.Application, host: str, port: int) -> AsyncIterator[None]:
    """Serve `web_app` on host:port for the block's lifetime (the process handles signals; no access log)."""
    runner = web.AppRunner(web_app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield
    finally:
        await runner.cleanup()


def catalog_folder(settings: Settings) -> Path:
    """The last catalog folder in use (the team's own when there are several)."""
    return settings.knowledge_folders[-1]


@asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    """Load the catalog, open the store, build the service; close the store on the way out."""
    folders = settings.knowledge_folders
    files = await asyncio.to_thread(stamp, folders)
    # Reading, validating and preparing the catalog is file and CPU work: a worker thread does it, and
    # the cache spares all of it when no catalog file changed since the last start, and otherwise
    # every file and entry that did not change. The stamp just taken is the one the ready catalog is
    # compared with: at ten thousand files, a second look at each would double the warm start.
    cache = CatalogCache(settings.cache_dir, ":".join(str(f.resolve()) for f in folders))
    knowledge = await asyncio.to_thread(cache.knowledge, folders, files)
    try:
        store = await open_store(settings.database_url)
    except StoreError as exc:
        raise StoreError(f"{exc} (check SUPPORTBOT_DB / DATABASE_URL)") from exc
    log.info("store opened: %s", mask_url(settings.database_url))
    try:
        service = SupportService(knowledge, store, settings.policy())
        yield App(settings, service, store, catalog_files=files)
    finally:
        await store.close()
        log.info("store closed")
