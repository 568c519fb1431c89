"""Shared fixtures: a clean environment for every test, the shipped catalog, a real temporary store."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.core.catalog import Catalog, default_catalog_dir, load_catalog
from bot.core.matching import Matcher

EVAL_DIR = Path(__file__).parent / "data" / "eval"
_ENV_PREFIXES = ("SLACK_", "DISCORD_", "SUPPORTBOT_", "DATABASE_URL", "PORT", "LOG_LEVEL", "LOG_FORMAT")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test may pick up a developer's real tokens or database from the environment."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(default_catalog_dir())


@pytest.fixture(scope="session")
def matcher(catalog: Catalog) -> Matcher:
    return Matcher(catalog)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[object]:
    from bot.storage import open_store

    opened = await open_store(f"sqlite:///{tmp_path / 'test.db'}")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A copy of the shipped catalog in a folder of its own, for tests that edit catalog files."""
    target = tmp_path / "knowledge"
    shutil.copytree(default_catalog_dir(), target)
    return target
