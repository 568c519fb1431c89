"""The composition root: settings -> catalog -> store -> service, with every lifetime owned here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings, mask_url
from bot.core.catalog_folders import load_folders
from bot.core.ports import IncidentStore
from bot.core.service import KnowledgeBase, SupportService
from bot.errors import StoreError
from bot.storage import open_store

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    service: SupportService
    store: IncidentStore


def catalog_folder(settings: Settings) -> Path:
    """The last catalog folder in use (the team's own when there are several)."""
    return settings.knowledge_folders[-1]


@asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    """Load the catalog, open the store, build the service; close the store on the way out."""
    folders = settings.knowledge_folders
    catalog = load_folders(folders)
    try:
        store = await open_store(settings.database_url)
    except StoreError as exc:
        raise StoreError(f"{exc} (check SUPPORTBOT_DB / DATABASE_URL)") from exc
    log.info("store opened: %s", mask_url(settings.database_url))
    try:
        service = SupportService(KnowledgeBase(catalog, folders), store, settings)
        yield App(settings, service, store)
    finally:
        await store.close()
        log.info("store closed")
