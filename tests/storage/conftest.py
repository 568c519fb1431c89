"""Fixtures for the store contract suite: one `backend` per database, each test on a clean slate.

- sqlite: a fresh file under `tmp_path` (in a folder that does not exist yet).
- postgres: a fresh schema (`?schema=t_<random>`) in the database at `SUPPORTBOT_TEST_POSTGRES_URL`
  (default postgresql://postgres@127.0.0.1:5432/test), dropped at teardown. When PostgreSQL cannot
  be reached the postgres tests skip, except under CI (`CI` set and not "false"/"0"), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.ports import IncidentStore
from bot.storage import open_store

POSTGRES_URL = os.environ.get("SUPPORTBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

_probe: dict[str, str | None] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI a missing database is a failure, never a silent skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so the PostgreSQL tests must run)")
    pytest.skip(reason)


async def _postgres_problem() -> str | None:
    """None when the test PostgreSQL answers; otherwise why not. Probed once per session."""
    if "result" not in _probe:
        try:
            import asyncpg
        except ImportError:
            _probe["result"] = "asyncpg is not installed (pip install 'supportbot[postgres]')"
            return _probe["result"]
        try:
            conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _probe["result"] = f"PostgreSQL at {POSTGRES_URL} is not reachable: {type(exc).__name__}: {exc}"
        else:
            await conn.close()
            _probe["result"] = None
    return _probe["result"]


@dataclass
class Backend:
    """Where a test's store lives, and raw access to it for what the store API cannot do."""

    name: str
    url: str
    fetchval: Callable[[str], Awaitable[Any]]
    execute: Callable[[str], Awaitable[None]]
    sqlite_path: Path | None = None

    async def open(self) -> IncidentStore:
        return await open_store(self.url)


def _sqlite_backend(tmp_path: Path) -> Backend:
    path = tmp_path / "not-yet" / "supportbot.db"

    async def fetchval(sql: str) -> Any:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            row = conn.execute(sql).fetchone()
        return None if row is None else row[0]

    async def execute(sql: str) -> None:
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute(sql)

    return Backend("sqlite", f"sqlite:///{path}", fetchval, execute, sqlite_path=path)


@contextlib.asynccontextmanager
async def _postgres_backend() -> AsyncIterator[Backend]:
    problem = await _postgres_problem()
    if problem is not None:
        skip_or_fail(problem)
    import asyncpg

    schema_name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema_name}"')

        async def fetchval(sql: str) -> Any:
            conn = await asyncpg.connect(POSTGRES_URL, server_settings={"search_path": schema_name})
            try:
                return await conn.fetchval(sql)
            finally:
                await conn.close()

        async def execute(sql: str) -> None:
            conn = await asyncpg.connect(POSTGRES_URL, server_settings={"search_path": schema_name})
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        separator = "&" if "?" in POSTGRES_URL else "?"
        yield Backend("postgres", f"{POSTGRES_URL}{separator}schema={schema_name}", fetchval, execute)
    finally:
        with contextlib.suppress(Exception):
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield _sqlite_backend(tmp_path)
    else:
        async with _postgres_backend() as pg:
            yield pg


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[IncidentStore]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()
