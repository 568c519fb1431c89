"""The incident store: `open_store(url)` picks a backend from the URL scheme and migrates it.

Accepted URLs:

- `sqlite:///relative/path.db` (relative to the working directory), `sqlite:////absolute/path.db`
  (four slashes: three, then the path's own), `sqlite:///:memory:` (tests). The file's folder is
  created on first use.
- `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` or `postgres://...` (needs the `postgres`
  extra). Other query parameters (`sslmode=...`) go to asyncpg as usual. Our own `?schema=NAME`
  keeps every table in that schema (created when missing; a lower-case identifier): it lets
  several bots, or tests, share one database.

Errors are `StoreError`, whose messages never contain a password; use `mask_url()` to log a URL.
"""

from __future__ import annotations

import logging

from bot.core.ports import IncidentStore
from bot.storage._common import PostgresTarget, mask_url, parse_database_url

__all__ = ["IncidentStore", "mask_url", "open_store"]

log = logging.getLogger(__name__)


async def open_store(database_url: str) -> IncidentStore:
    """Open (creating and migrating as needed) the store at `database_url`; see the module docstring.

    Raises `StoreError` for a malformed URL or unknown scheme, an unreachable database, a missing
    `asyncpg` for a PostgreSQL URL, or a database written by a newer supportbot. The caller owns
    the store and must `await store.close()`.
    """
    target = parse_database_url(database_url)
    log.debug("opening store %s", mask_url(database_url))
    if isinstance(target, PostgresTarget):
        from bot.storage.postgres import PostgresStore

        return await PostgresStore.open(target)
    from bot.storage.sqlite import SQLiteStore

    return await SQLiteStore.open(target)
