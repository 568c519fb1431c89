"""What both store backends share besides their SQL: URL parsing and masking, time, incident rules.

Nothing here talks to a database; the SQL is in `sql_store.py`, the drivers in `sqlite.py` and
`postgres.py`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from bot.core.masking import mask_url, password_of
from bot.core.models import IncidentStatus
from bot.errors import StoreError

log = logging.getLogger(__name__)

__all__ = ["mask_url"]  # the one URL-masking function lives in the core; re-exported for the store

ACCEPTED_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory:, "
    "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME] (postgres:// is the same)"
)

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _password_of(url: str) -> str | None:
    return password_of(url)


def scrub(text: str, secret: str | None) -> str:
    """Remove a secret (raw and percent-decoded) from a message that is about to leave this package."""
    if not secret:
        return text
    for variant in {secret, unquote(secret)}:
        if variant:
            text = text.replace(variant, "***")
    return text


# ---------------------------------------------------------------------------------------------
# Database URLs


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    path: str  # a file path, or ":memory:"

    @property
    def in_memory(self) -> bool:
        return self.path == ":memory:"


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    dsn: str  # what asyncpg gets: the URL without our own `schema` parameter
    host: str
    port: int
    database: str
    user: str
    password: str | None
    schema: str | None

    @property
    def where(self) -> str:
        """Host and port for messages; never the password."""
        return f"{self.host}:{self.port}" if not self.host.startswith("/") else f"socket {self.host}"


def _bad_url(problem: str, url: str) -> StoreError:
    return StoreError(f"bad database URL {mask_url(url)!r}: {problem}. Accepted forms: {ACCEPTED_FORMS}")


def parse_database_url(url: str) -> SqliteTarget | PostgresTarget:
    """Split a database URL into what a backend needs; a malformed URL raises `StoreError`.

    The error never contains the password: the URL is shown through `mask_url`, and the original
    parsing error is not chained because its text may quote the URL.
    """
    if not isinstance(url, str) or not url.strip():
        raise StoreError(f"no database URL given. Accepted forms: {ACCEPTED_FORMS}")
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _bad_url(_safe_reason(exc, url), url) from None
    scheme = parts.scheme.lower()
    if not scheme or "://" not in url:
        # Not echoed, even masked: without a scheme we cannot tell where a password would sit.
        raise StoreError(
            "bad database URL: it does not start with a scheme such as sqlite:/// or postgresql://. "
            f"Accepted forms: {ACCEPTED_FORMS}"
        )
    if scheme == "sqlite":
        return _parse_sqlite(url, parts.netloc, parts.path, parts.query)
    if scheme in ("postgres", "postgresql"):
        return _parse_postgres(url)
    raise _bad_url(f"unknown scheme {scheme!r}", url)


def _safe_reason(exc: Exception, url: str) -> str:
    # The standard library's messages name the port or bracket problem, but be sure anyway.
    reason = str(exc)
    password = _password_of(url)
    return scrub(reason, password)


def _parse_sqlite(url: str, netloc: str, path: str, query: str) -> SqliteTarget:
    if netloc:
        # The host part is not echoed: it may hold "user:password@".
        raise _bad_url("a sqlite URL has no host; write three slashes: sqlite:///PATH", url)
    if query:
        raise _bad_url("a sqlite URL takes no ?parameters", url)
    # urlsplit("sqlite:///data/x.db").path == "/data/x.db": the first slash ends the empty host.
    if not path.startswith("/") or len(path) < 2:
        raise _bad_url("the sqlite URL has no file path", url)
    file_path = unquote(path[1:])
    if file_path.endswith("/"):
        raise _bad_url("the sqlite path names a folder, not a file", url)
    return SqliteTarget(path=file_path)


def _parse_postgres(url: str) -> PostgresTarget:
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        raise _bad_url("the port is not a number between 0 and 65535", url) from None
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema: str | None = None
    kept: list[tuple[str, str]] = []
    host = parts.hostname or ""
    for key, value in params:
        if key == "schema":
            if not _SCHEMA_NAME.fullmatch(value):
                raise _bad_url(
                    "?schema= must be a lower-case identifier (letters, digits, underscore; "
                    "at most 63 characters, not starting with a digit)",
                    url,
                )
            schema = value
        else:
            if key == "host" and not host:
                host = value
            kept.append((key, value))
    database = unquote(parts.path.lstrip("/"))
    if "/" in database:
        raise _bad_url("the database name may not contain '/'", url)
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))
    password = unquote(parts.password) if parts.password is not None else None
    return PostgresTarget(
        dsn=dsn,
        host=host or "localhost",
        port=port,
        database=database,
        user=unquote(parts.username or ""),
        password=password,
        schema=schema,
    )


# ---------------------------------------------------------------------------------------------
# Time


def utc(moment: dt.datetime) -> dt.datetime:
    """A timezone-aware UTC datetime. A naive value is taken to be UTC already (the core's rule)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


# ---------------------------------------------------------------------------------------------
# Incidents

# Status only moves forward: open -> acknowledged -> resolved (open -> resolved is allowed too,
# for an incident closed without anyone acknowledging it first). Resolved is final.
NEXT_STATUSES: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.OPEN: frozenset({IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED}),
    IncidentStatus.ACKNOWLEDGED: frozenset({IncidentStatus.RESOLVED}),
    IncidentStatus.RESOLVED: frozenset(),
}

OPENED_BY = "detector"
FORGOTTEN_ACTOR = "forgotten"


def check_transition(incident_id: int, current: IncidentStatus, wanted: IncidentStatus) -> None:
    """Raise `StoreError` unless `current -> wanted` is a valid incident transition."""
    if wanted in NEXT_STATUSES[current]:
        return
    if current is IncidentStatus.RESOLVED:
        raise StoreError(
            f"incident {incident_id} is already resolved; resolved is final, so it cannot become {wanted.value}"
        )
    if current is wanted:
        raise StoreError(f"incident {incident_id} is already {current.value}")
    raise StoreError(
        f"incident {incident_id} cannot go from {current.value} to {wanted.value}: "
        "status only moves open -> acknowledged -> resolved"
    )


def like_escape(text: str) -> str:
    """Escape LIKE wildcards; use with `ESCAPE '\\'`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
