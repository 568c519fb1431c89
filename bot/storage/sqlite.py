"""The embedded SQLite backend: one aiosqlite connection for the life of the process.

The store's queries live in `sql_store.py`; this module opens and guards the connection.

- `journal_mode=WAL` lets readers in other processes (a `tally` run) work while the bot writes.
- `synchronous=FULL`: with WAL, NORMAL survives a process crash but may drop the last commits on a
  power cut. The store promises a report is durable once `add_report` returns, and we commit a
  handful of rows a minute, so the extra fsync per commit is cheap.
- A page cache of up to 64 MiB (`cache_size`), so a large tracker's indexes stay in memory while an
  import or a tally walks them instead of being read back from the file page by page.
- `foreign_keys=ON` (readings, feedback and events cascade with their parent row) and a busy timeout,
  so a second process waits for the write lock instead of failing at once.
- Every operation runs under one `asyncio.Lock`: tasks share the connection, so a transaction must
  not interleave with another task's statements. Writes use `BEGIN IMMEDIATE ... COMMIT`, which
  also takes the database's write lock up front, so no row locks are needed.

Timestamps are stored as fixed-width ISO-8601 UTC text (`2025-01-02T03:04:05.000000+00:00`), so
comparing the text compares the times.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StoreError
from bot.storage import schema
from bot.storage._common import SqliteTarget, utc
from bot.storage.sql_store import Row, Session, SQLStore, insert_sql, storable, storable_rows

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


@contextlib.contextmanager
def _translate(what: str, where: str) -> Iterator[None]:
    """Turn sqlite3 errors into `StoreError`, keeping the original as the cause."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"SQLite database {where}: could not {what}: {exc}") from exc


class _SQLiteSession:
    """`Session` on the shared connection; the caller holds the store's lock."""

    def __init__(self, db: aiosqlite.Connection, what: str) -> None:
        self._db = db
        self._what = what

    async def fetch(self, sql: str, *args: object) -> Sequence[Row]:
        return list(await self._db.execute_fetchall(sql, storable(args)))

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: object) -> int:
        cursor = await self._db.execute(sql, storable(args))
        count = cursor.rowcount
        await cursor.close()
        return max(count, 0)  # sqlite3 says -1 for statements other than INSERT/UPDATE/DELETE (DDL)

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        await self._db.executemany(sql, storable_rows(rows))

    async def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        await self.executemany(insert_sql(table, columns), rows)

    async def insert(self, sql: str, *args: object) -> int:
        cursor = await self._db.execute(sql, storable(args))
        new_id = cursor.lastrowid
        await cursor.close()
        if new_id is None:
            raise StoreError(f"SQLite did not return an id for the new row (while trying to {self._what})")
        return new_id


class SQLiteStore(SQLStore):
    """`IncidentStore` on one SQLite file (or `:memory:`). Build it with `SQLiteStore.open()`."""

    FOR_UPDATE = ""
    FOR_SHARE = ""
    VERSION_TABLE = schema.SCHEMA_VERSION_TABLE_SQLITE

    def __init__(self, db: aiosqlite.Connection, where: str) -> None:
        self._db: aiosqlite.Connection | None = db
        self._where = where
        self._lock = asyncio.Lock()
        self._queued_reports = []
        self._report_writer = None

    # lifetime --------------------------------------------------------------------------------
    @classmethod
    async def open(cls, target: SqliteTarget) -> SQLiteStore:
        where = target.path
        if not target.in_memory:
            try:
                Path(target.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder for the SQLite database {where}: {exc.strerror or exc}"
                ) from exc
        try:
            db = await aiosqlite.connect(
                str(Path(target.path).expanduser()) if not target.in_memory else ":memory:",
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the SQLite database {where}: {exc}") from exc
        store = cls(db, where)
        try:
            await store._prepare()
        except BaseException:
            await db.close()
            raise
        log.info("opened SQLite store %s (schema version %d)", where, schema.LATEST)
        return store

    async def _prepare(self) -> None:
        db = self._require()
        with _translate("prepare the connection", self._where):
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA foreign_keys = ON")
            await self._enable_wal(db)
            await db.execute("PRAGMA synchronous = FULL")
            await db.execute("PRAGMA cache_size = -65536")
        await self._migrate(self._where)

    async def _enable_wal(self, db: aiosqlite.Connection) -> None:
        """Switch to WAL. Switching needs a moment alone with the file, and SQLite reports "locked"
        at once, without using the busy timeout, while another process is opening it too: retry."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                rows = list(await db.execute_fetchall("PRAGMA journal_mode = WAL"))
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or loop.time() > deadline:
                    raise
                await asyncio.sleep(0.02)
        mode = str(rows[0][0]) if rows else "?"
        if mode != "wal":
            log.debug("SQLite database %s uses journal mode %s", self._where, mode)

    async def close(self) -> None:
        await self._finish_writes()
        async with self._lock:
            db, self._db = self._db, None
            if db is not None:
                with _translate("close", self._where):
                    await db.close()
                log.info("closed SQLite store %s", self._where)

    def _require(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError(f"the SQLite store {self._where} is closed")
        return self._db

    # driver hooks ------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _read(self, what: str) -> AsyncIterator[Session]:
        async with self._lock:
            db = self._require()
            with _translate(what, self._where):
                yield _SQLiteSession(db, what)

    @contextlib.asynccontextmanager
    async def _write(self, what: str) -> AsyncIterator[Session]:
        async with self._lock:
            db = self._require()
            with _translate(what, self._where):
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield _SQLiteSession(db, what)
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")

    def _time_in(self, moment: dt.datetime) -> str:
        return utc(moment).isoformat(timespec="microseconds")

    def _time_out(self, value: Any) -> dt.datetime:
        return utc(dt.datetime.fromisoformat(value))

    async def _before_migrations(self, db: Session) -> None:
        """Nothing: `BEGIN IMMEDIATE` already keeps a second process out until we commit."""

    def _statements(self, migration: schema.Migration) -> tuple[str, ...]:
        return migration.sqlite

    async def _after_bulk_insert(self, added: int) -> None:
        """Nothing: without statistics SQLite's planner already reads neighbouring reports by person."""

    async def _reserve_report_ids(self, db: Session, count: int) -> list[int]:
        # `BEGIN IMMEDIATE` keeps every other writer out until we commit, so the ids after the
        # highest ever handed out (AUTOINCREMENT's own counter included) are ours.
        row = await db.fetchone(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'quota_reports'), 0),"
            " COALESCE((SELECT MAX(id) FROM quota_reports), 0))"
        )
        top = 0 if row is None else int(row[0])
        return list(range(top + 1, top + 1 + count))
