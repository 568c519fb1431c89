"""The PostgreSQL backend: asyncpg with a small pool. Needs the `postgres` extra.

The store's queries live in `sql_store.py`; this module connects, runs them and translates errors.

asyncpg is imported only here, and only when a store is opened, so `bot.storage` works without it;
a missing asyncpg is a `StoreError` that says to install `supportbot[postgres]`.

- The shared SQL uses `?` placeholders; they are rewritten to asyncpg's `$1, $2, ...` here.
- Timestamps are `timestamptz`; asyncpg hands them back as aware UTC datetimes.
- `?schema=NAME` in the URL puts every table in that schema (created if missing): the pool sets
  `search_path` for each connection through `server_settings`. Tests use a fresh schema per test.
- Migrations run in one transaction that first takes `pg_advisory_xact_lock`, so two processes
  starting at once apply each version exactly once (PostgreSQL DDL is transactional).
- A transaction that reads a row and then changes it (or relies on it) locks the row with
  `SELECT ... FOR UPDATE` / `FOR SHARE`: the pool runs transactions side by side.
- A batch of rows (an import) is added with COPY, a handful (a report from chat) with INSERT.
- Every asyncpg/OS error is translated to `StoreError` at this edge with the original chained; the
  password is scrubbed from every message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bot.errors import StoreError
from bot.storage import schema
from bot.storage._common import PostgresTarget, scrub, utc
from bot.storage.sql_store import Row, Session, SQLStore, insert_sql, storable, storable_rows

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

POOL_MIN = 1
POOL_MAX = 5
CONNECT_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 30.0
#: Rows added at once from which COPY beats INSERT (it first asks the server for the table's columns).
COPY_FROM_ROWS = 100
#: Reports an import adds before the planner's statistics are refreshed (and at least as many as the
#: table held when they last were, so a long import refreshes them a handful of times).
ANALYZE_AFTER_ROWS = 50_000

# A quoted literal or identifier (skipped whole, so a "?" inside one stays), or a placeholder.
# The shared SQL only uses standard strings ('' doubles a quote), never E'...' escapes.
_QUOTED_OR_PLACEHOLDER = re.compile(r"'[^']*'|\"[^\"]*\"|\?")


@functools.lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """`sql` with its `?` placeholders numbered for asyncpg: `$1, $2, ...` in order."""
    counter = itertools.count(1)
    return _QUOTED_OR_PLACEHOLDER.sub(lambda m: f"${next(counter)}" if m.group() == "?" else m.group(), sql)


def _load_asyncpg() -> ModuleType:
    try:
        import asyncpg as module
    except ImportError as exc:
        raise StoreError(
            "a postgresql:// database needs the asyncpg driver: install supportbot[postgres] "
            "(pip install 'supportbot[postgres]')"
        ) from exc
    mod: ModuleType = module
    return mod


def _driver_errors(asyncpg_mod: ModuleType) -> tuple[type[BaseException], ...]:
    return (
        asyncpg_mod.PostgresError,
        asyncpg_mod.InterfaceError,
        asyncpg_mod.exceptions.InternalClientError,
        OSError,
        TimeoutError,
    )


def _rowcount(status: str) -> int:
    """asyncpg's command status ("DELETE 3", "UPDATE 0") -> 3, 0."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class _PostgresSession:
    """`Session` on one pooled connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: object) -> Sequence[Row]:
        rows: list[Row] = await self._conn.fetch(numbered(sql), *storable(args))
        return rows

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        row: Row | None = await self._conn.fetchrow(numbered(sql), *storable(args))
        return row

    async def execute(self, sql: str, *args: object) -> int:
        return _rowcount(await self._conn.execute(numbered(sql), *storable(args)))

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        await self._conn.executemany(numbered(sql), storable_rows(rows))

    async def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        if len(rows) < COPY_FROM_ROWS:
            await self.executemany(insert_sql(table, columns), rows)
            return
        # COPY streams the rows in one go; the table name is resolved through search_path, as in SQL.
        await self._conn.copy_records_to_table(table, records=storable_rows(rows), columns=list(columns))

    async def insert(self, sql: str, *args: object) -> int:
        return int(await self._conn.fetchval(numbered(sql + " RETURNING id"), *storable(args)))


class PostgresStore(SQLStore):
    """`IncidentStore` on PostgreSQL. Build it with `PostgresStore.open()`."""

    FOR_UPDATE = " FOR UPDATE"
    FOR_SHARE = " FOR SHARE"
    VERSION_TABLE = schema.SCHEMA_VERSION_TABLE_POSTGRES

    def __init__(self, pool: asyncpg.Pool, target: PostgresTarget, asyncpg_mod: ModuleType) -> None:
        self._pool: asyncpg.Pool | None = pool
        self._target = target
        self._errors = _driver_errors(asyncpg_mod)
        self._queued_reports = []
        self._report_writer = None
        self._rows_at_analyse: int | None = None  # reports in the table when last analysed (see below)
        self._added_since_analyse = 0

    # lifetime --------------------------------------------------------------------------------
    @classmethod
    async def open(cls, target: PostgresTarget) -> PostgresStore:
        asyncpg_mod = _load_asyncpg()
        errors = _driver_errors(asyncpg_mod)
        server_settings = {"application_name": "supportbot"}
        if target.schema:
            server_settings["search_path"] = target.schema
        try:
            pool = await asyncpg_mod.create_pool(
                target.dsn,
                min_size=POOL_MIN,
                max_size=POOL_MAX,
                timeout=CONNECT_TIMEOUT_S,
                command_timeout=COMMAND_TIMEOUT_S,
                server_settings=server_settings,
            )
        except (*errors, ValueError) as exc:  # type: ignore[misc]  # a runtime tuple of classes
            reason = scrub(f"{type(exc).__name__}: {exc}", target.password)
            raise StoreError(
                f"cannot connect to PostgreSQL at {target.where} "
                f"(database {target.database!r}, user {target.user!r}): {reason}"
            ) from exc
        store = cls(pool, target, asyncpg_mod)
        where = f"{target.where}/{target.database}"
        if target.schema:
            where += f" (schema {target.schema})"
        try:
            await store._migrate(where)
        except BaseException:
            await pool.close()
            raise
        log.info(
            "opened PostgreSQL store at %s, database %s%s (schema version %d)",
            target.where,
            target.database,
            f", schema {target.schema}" if target.schema else "",
            schema.LATEST,
        )
        return store

    async def close(self) -> None:
        await self._finish_writes()
        pool, self._pool = self._pool, None
        if pool is not None:
            with self._translate("close the connection pool"):
                await pool.close()
            log.info("closed PostgreSQL store at %s", self._target.where)

    @contextlib.contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            reason = scrub(f"{type(exc).__name__}: {exc}", self._target.password)
            raise StoreError(f"PostgreSQL at {self._target.where}: could not {what}: {reason}") from exc

    def _require(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError(f"the PostgreSQL store at {self._target.where} is closed")
        return self._pool

    # driver hooks ------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _read(self, what: str) -> AsyncIterator[Session]:
        pool = self._require()
        with self._translate(what):
            async with pool.acquire() as conn:
                yield _PostgresSession(conn)

    @contextlib.asynccontextmanager
    async def _write(self, what: str) -> AsyncIterator[Session]:
        pool = self._require()
        with self._translate(what):
            async with pool.acquire() as conn, conn.transaction():
                yield _PostgresSession(conn)

    def _time_in(self, moment: dt.datetime) -> dt.datetime:
        return utc(moment)

    def _time_out(self, value: Any) -> dt.datetime:
        return utc(value)

    async def _before_migrations(self, db: Session) -> None:
        await db.fetchone(
            "SELECT pg_advisory_xact_lock(?, ?)",
            schema.ADVISORY_LOCK_CLASS,
            schema.advisory_lock_key(self._target.schema),
        )
        if self._target.schema:
            # The name was checked against [a-z_][a-z0-9_]* when the URL was parsed.
            await db.execute(f'CREATE SCHEMA IF NOT EXISTS "{self._target.schema}"')

    def _statements(self, migration: schema.Migration) -> tuple[str, ...]:
        return migration.postgres

    async def _after_bulk_insert(self, added: int) -> None:
        """Refresh the planner's statistics once an import has doubled the report tables (and added
        at least `ANALYZE_AFTER_ROWS`). Autovacuum would, but only after its next nap, and until then
        the planner takes a freshly filled table for empty and reads each batch's neighbouring
        reports by time across everyone instead of by person: an import would slow down as it goes."""
        if self._rows_at_analyse is None:
            async with self._read("read the report table's statistics") as db:
                row = await db.fetchone("SELECT reltuples FROM pg_class WHERE oid = 'quota_reports'::regclass")
            self._rows_at_analyse = max(0, int(row[0])) if row is not None else 0
        self._added_since_analyse += added
        if self._added_since_analyse < max(ANALYZE_AFTER_ROWS, self._rows_at_analyse):
            return
        async with self._read("update the report tables' statistics") as db:
            await db.execute("ANALYZE quota_reports, report_readings, report_symptoms")
        self._rows_at_analyse += self._added_since_analyse
        self._added_since_analyse = 0

    async def _reserve_report_ids(self, db: Session, count: int) -> list[int]:
        rows = await db.fetch(
            "SELECT nextval(pg_get_serial_sequence('quota_reports', 'id')) FROM generate_series(1, ?)", count
        )
        return sorted(int(row[0]) for row in rows)
