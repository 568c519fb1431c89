"""Ordered schema migrations for both backends, and the `schema_version` bookkeeping.

Each `Migration` carries the DDL for SQLite and for PostgreSQL side by side: the tables and
columns are the same, only the types differ (timestamps are ISO-8601 UTC text in SQLite and
`timestamptz` in PostgreSQL; ids are `INTEGER PRIMARY KEY` vs identity columns; booleans are 0/1
vs `boolean`).

Rules for adding a migration: append, never edit one that has shipped; give it the next version
number; keep each statement a single statement (they run one by one, inside one transaction).

The backends apply the list with `pending()` inside a transaction that first takes a lock (SQLite:
`BEGIN IMMEDIATE`; PostgreSQL: `pg_advisory_xact_lock`), so two processes starting at once apply
each version exactly once. A database whose version is newer than `LATEST` is refused by
`check_not_newer()`: an older supportbot must not write into a schema it does not understand.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


SCHEMA_VERSION_TABLE_SQLITE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL
)"""

SCHEMA_VERSION_TABLE_POSTGRES = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
)"""

# Advisory-lock key for migrations on PostgreSQL: (class, object). The object part is derived
# from the schema name so that stores in different schemas do not wait for each other.
ADVISORY_LOCK_CLASS = 0x5B07  # "supportbot"


def advisory_lock_key(schema: str | None) -> int:
    """A stable signed 32-bit key for the schema being migrated."""
    raw = zlib.crc32((schema or "public").encode())
    return raw - (1 << 32) if raw >= (1 << 31) else raw


def _both(sql: str) -> tuple[str, str]:
    """One statement that reads the same on both backends."""
    return sql, sql


_V1_SQLITE: tuple[str, ...] = (
    """
    CREATE TABLE quota_reports (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        platform     TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        channel_id   TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        received_at  TEXT NOT NULL,
        raw_text     TEXT NOT NULL,
        tool         TEXT,
        plan         TEXT,
        model_mode   TEXT,
        tool_version TEXT,
        fingerprint  TEXT NOT NULL
    )""",
    """
    CREATE TABLE report_readings (
        report_id    INTEGER NOT NULL REFERENCES quota_reports(id) ON DELETE CASCADE,
        seq          INTEGER NOT NULL,
        quota_window TEXT NOT NULL,
        percent      REAL,
        from_percent REAL,
        limit_hit    INTEGER NOT NULL CHECK (limit_hit IN (0, 1)),
        resets       TEXT,
        resets_at    TEXT,
        idle         INTEGER CHECK (idle IN (0, 1)),
        PRIMARY KEY (report_id, seq)
    )""",
    """
    CREATE TABLE answers (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        platform        TEXT NOT NULL,
        workspace_id    TEXT NOT NULL,
        channel_id      TEXT NOT NULL,
        user_id         TEXT NOT NULL,
        answered_at     TEXT NOT NULL,
        entry_id        TEXT NOT NULL,
        score           REAL NOT NULL,
        catalog_version TEXT NOT NULL,
        paste           TEXT NOT NULL
    )""",
    """
    CREATE TABLE unmatched_pastes (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        platform      TEXT NOT NULL,
        workspace_id  TEXT NOT NULL,
        channel_id    TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        seen_at       TEXT NOT NULL,
        paste         TEXT NOT NULL,
        best_entry_id TEXT,
        best_score    REAL NOT NULL,
        reason        TEXT NOT NULL
    )""",
    """
    CREATE TABLE feedback (
        answer_id  INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        platform   TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        verdict    TEXT NOT NULL CHECK (verdict IN ('fixed', 'not_helped', 'wrong')),
        decided_at TEXT NOT NULL,
        PRIMARY KEY (answer_id, platform, user_id)
    )""",
    """
    CREATE TABLE incidents (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        tool       TEXT NOT NULL,
        symptom    TEXT NOT NULL,
        opened_at  TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
        summary    TEXT NOT NULL,
        reporters  INTEGER NOT NULL,
        baseline   REAL NOT NULL,
        entry_id   TEXT,
        updated_at TEXT NOT NULL
    )""",
    """
    CREATE TABLE incident_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        status      TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
        actor       TEXT NOT NULL,
        event_at    TEXT NOT NULL,
        note        TEXT NOT NULL
    )""",
    """
    CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
)

_V1_POSTGRES: tuple[str, ...] = (
    """
    CREATE TABLE quota_reports (
        id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        platform     TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        channel_id   TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        received_at  TIMESTAMPTZ NOT NULL,
        raw_text     TEXT NOT NULL,
        tool         TEXT,
        plan         TEXT,
        model_mode   TEXT,
        tool_version TEXT,
        fingerprint  TEXT NOT NULL
    )""",
    """
    CREATE TABLE report_readings (
        report_id    BIGINT NOT NULL REFERENCES quota_reports(id) ON DELETE CASCADE,
        seq          INTEGER NOT NULL,
        quota_window TEXT NOT NULL,
        percent      DOUBLE PRECISION,
        from_percent DOUBLE PRECISION,
        limit_hit    BOOLEAN NOT NULL,
        resets       TEXT,
        resets_at    TIMESTAMPTZ,
        idle         BOOLEAN,
        PRIMARY KEY (report_id, seq)
    )""",
    """
    CREATE TABLE answers (
        id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        platform        TEXT NOT NULL,
        workspace_id    TEXT NOT NULL,
        channel_id      TEXT NOT NULL,
        user_id         TEXT NOT NULL,
        answered_at     TIMESTAMPTZ NOT NULL,
        entry_id        TEXT NOT NULL,
        score           DOUBLE PRECISION NOT NULL,
        catalog_version TEXT NOT NULL,
        paste           TEXT NOT NULL
    )""",
    """
    CREATE TABLE unmatched_pastes (
        id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        platform      TEXT NOT NULL,
        workspace_id  TEXT NOT NULL,
        channel_id    TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        seen_at       TIMESTAMPTZ NOT NULL,
        paste         TEXT NOT NULL,
        best_entry_id TEXT,
        best_score    DOUBLE PRECISION NOT NULL,
        reason        TEXT NOT NULL
    )""",
    """
    CREATE TABLE feedback (
        answer_id  BIGINT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        platform   TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        verdict    TEXT NOT NULL CHECK (verdict IN ('fixed', 'not_helped', 'wrong')),
        decided_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (answer_id, platform, user_id)
    )""",
    """
    CREATE TABLE incidents (
        id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        tool       TEXT NOT NULL,
        symptom    TEXT NOT NULL,
        opened_at  TIMESTAMPTZ NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
        summary    TEXT NOT NULL,
        reporters  INTEGER NOT NULL,
        baseline   DOUBLE PRECISION NOT NULL,
        entry_id   TEXT,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    """
    CREATE TABLE incident_events (
        id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        status      TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
        actor       TEXT NOT NULL,
        event_at    TIMESTAMPTZ NOT NULL,
        note        TEXT NOT NULL
    )""",
    """
    CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
)

# Indexes read the same on both backends.
_V1_INDEXES: tuple[tuple[str, str], ...] = (
    _both("CREATE INDEX quota_reports_received ON quota_reports (received_at)"),
    _both("CREATE INDEX quota_reports_person ON quota_reports (platform, user_id, received_at)"),
    _both("CREATE INDEX quota_reports_fingerprint ON quota_reports (platform, user_id, fingerprint)"),
    _both("CREATE INDEX answers_answered ON answers (answered_at)"),
    _both("CREATE INDEX answers_person ON answers (user_id, platform)"),
    _both("CREATE INDEX unmatched_seen ON unmatched_pastes (seen_at)"),
    _both("CREATE INDEX unmatched_person ON unmatched_pastes (user_id, platform)"),
    _both("CREATE INDEX feedback_person ON feedback (user_id, platform)"),
    _both("CREATE INDEX feedback_decided ON feedback (decided_at)"),
    _both("CREATE INDEX incidents_status ON incidents (status, opened_at)"),
    _both("CREATE INDEX incident_events_incident ON incident_events (incident_id, event_at)"),
)

# Version 2: what per-report work and the periodic detector read instead of history.
# `report_symptoms` holds, per report, the symptoms it shows (worked out when it is stored, and
# again for the same person's neighbouring reports when a later one changes them) with the tool,
# the 5-minute bucket and the person: distinct reporters per tool, symptom and window become
# indexed counts. The partial unique index lets the database, not a lock in one process, keep one
# open incident per tool and symptom; duplicates left by older versions are resolved first.
_V2_SYMPTOMS_SQLITE = """
    CREATE TABLE report_symptoms (
        report_id   INTEGER NOT NULL REFERENCES quota_reports(id) ON DELETE CASCADE,
        symptom     TEXT NOT NULL,
        tool        TEXT NOT NULL,
        bucket      INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        PRIMARY KEY (report_id, symptom)
    )"""
_V2_SYMPTOMS_POSTGRES = """
    CREATE TABLE report_symptoms (
        report_id   BIGINT NOT NULL REFERENCES quota_reports(id) ON DELETE CASCADE,
        symptom     TEXT NOT NULL,
        tool        TEXT NOT NULL,
        bucket      BIGINT NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        PRIMARY KEY (report_id, symptom)
    )"""
# Readings carry their report's time and person, so that tallies by window read readings alone.
_V2_READINGS_SQLITE = (
    "ALTER TABLE report_readings ADD COLUMN received_at TEXT",
    "ALTER TABLE report_readings ADD COLUMN platform TEXT",
    "ALTER TABLE report_readings ADD COLUMN user_id TEXT",
)
_V2_READINGS_POSTGRES = (
    "ALTER TABLE report_readings ADD COLUMN received_at TIMESTAMPTZ",
    "ALTER TABLE report_readings ADD COLUMN platform TEXT",
    "ALTER TABLE report_readings ADD COLUMN user_id TEXT",
)
_V2_COMMON: tuple[tuple[str, str], ...] = (
    _both(
        "UPDATE report_readings SET"
        " received_at = (SELECT q.received_at FROM quota_reports q WHERE q.id = report_readings.report_id),"
        " platform = (SELECT q.platform FROM quota_reports q WHERE q.id = report_readings.report_id),"
        " user_id = (SELECT q.user_id FROM quota_reports q WHERE q.id = report_readings.report_id)"
    ),
    _both(
        "CREATE INDEX report_readings_tally ON report_readings"
        " (received_at, quota_window, percent, platform, user_id, report_id)"
    ),
    _both("CREATE INDEX report_symptoms_window ON report_symptoms (tool, symptom, bucket, platform, user_id)"),
    _both("CREATE INDEX report_symptoms_bucket ON report_symptoms (bucket)"),
    # Covering indexes for the tallies: counts over a window read the index alone.
    _both("CREATE INDEX report_symptoms_received ON report_symptoms (received_at, symptom, platform, user_id)"),
    _both(
        "CREATE INDEX quota_reports_tally ON quota_reports"
        " (received_at, platform, user_id, tool, plan, model_mode, tool_version, id)"
    ),
    _both("DROP INDEX quota_reports_fingerprint"),
    _both(
        "CREATE INDEX quota_reports_fingerprint ON quota_reports (platform, user_id, fingerprint, received_at)"
    ),
    _both(
        "INSERT INTO incident_events (incident_id, status, actor, event_at, note)"
        " SELECT id, 'resolved', 'detector', updated_at, 'a second open incident for the same tool and symptom'"
        " FROM incidents WHERE status IN ('open', 'acknowledged') AND id NOT IN"
        " (SELECT MIN(id) FROM incidents WHERE status IN ('open', 'acknowledged') GROUP BY tool, symptom)"
    ),
    _both(
        "UPDATE incidents SET status = 'resolved' WHERE status IN ('open', 'acknowledged') AND id NOT IN"
        " (SELECT MIN(id) FROM incidents WHERE status IN ('open', 'acknowledged') GROUP BY tool, symptom)"
    ),
    _both(
        "CREATE UNIQUE INDEX incidents_one_open ON incidents (tool, symptom)"
        " WHERE status IN ('open', 'acknowledged')"
    ),
)

# Version 3: the staff view counts in the database. People per symptom and chart period read the
# bucket index alone, and the most answered entries read the answers' time index alone. The reports'
# own time index goes: the tally index starts with the same column, and every index costs each insert.
_V3_COMMON: tuple[tuple[str, str], ...] = (
    _both("DROP INDEX quota_reports_received"),
    _both("DROP INDEX report_symptoms_bucket"),
    _both("CREATE INDEX report_symptoms_bucket ON report_symptoms (bucket, symptom, platform, user_id, tool)"),
    _both("DROP INDEX answers_answered"),
    _both("CREATE INDEX answers_answered ON answers (answered_at, entry_id)"),
)

# Version 4: the thread each answer went to, so "the bot already answered in this thread" is asked of
# the store, the same on every platform and across restarts (answers from before it have none).
_V4_ANSWER_THREADS: tuple[tuple[str, str], ...] = (
    _both("ALTER TABLE answers ADD COLUMN thread_id TEXT"),
    _both("CREATE INDEX answers_thread ON answers (platform, channel_id, thread_id)"),
)

# Version 5: the staff chart and `supportbot chart` read only the incidents that overlap their window
# (still open, or changed since the window began), so the view does not grow with every incident ever.
_V5_INCIDENT_WINDOW: tuple[tuple[str, str], ...] = (
    _both("CREATE INDEX incidents_updated ON incidents (updated_at)"),
)

#: The migration after which stored reports need their symptoms worked out (see `SQLStore`).
SYMPTOMS_VERSION = 2

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="quota reports and readings, answers, unmatched pastes, feedback, incidents, settings",
        sqlite=_V1_SQLITE + tuple(s for s, _ in _V1_INDEXES),
        postgres=_V1_POSTGRES + tuple(p for _, p in _V1_INDEXES),
    ),
    Migration(
        version=2,
        description="report symptoms by tool, bucket and person; one open incident per tool and symptom",
        sqlite=(_V2_SYMPTOMS_SQLITE, *_V2_READINGS_SQLITE, *(s for s, _ in _V2_COMMON)),
        postgres=(_V2_SYMPTOMS_POSTGRES, *_V2_READINGS_POSTGRES, *(p for _, p in _V2_COMMON)),
    ),
    Migration(
        version=3,
        description="covering indexes for the staff view's counts; no separate index on report time",
        sqlite=tuple(s for s, _ in _V3_COMMON),
        postgres=tuple(p for _, p in _V3_COMMON),
    ),
    Migration(
        version=4,
        description="the thread each answer went to",
        sqlite=tuple(s for s, _ in _V4_ANSWER_THREADS),
        postgres=tuple(p for _, p in _V4_ANSWER_THREADS),
    ),
    Migration(
        version=5,
        description="incidents by last change, for views of one window",
        sqlite=tuple(s for s, _ in _V5_INCIDENT_WINDOW),
        postgres=tuple(p for _, p in _V5_INCIDENT_WINDOW),
    ),
)

LATEST: int = MIGRATIONS[-1].version


def _check_order(migrations: Sequence[Migration]) -> None:
    expected = list(range(1, len(migrations) + 1))
    if [m.version for m in migrations] != expected:
        raise AssertionError(
            f"migration versions must be 1..N in order, got {[m.version for m in migrations]}"
        )


_check_order(MIGRATIONS)


def check_not_newer(current: int, *, where: str) -> None:
    """Refuse a database written by a newer supportbot."""
    if current > LATEST:
        raise StoreError(
            f"the database at {where} has schema version {current}, but this supportbot only knows "
            f"versions up to {LATEST}; upgrade supportbot (pip install -U supportbot) before using this database"
        )


def pending(current: int) -> tuple[Migration, ...]:
    """The migrations still to apply to a database at version `current`, in order."""
    return tuple(m for m in MIGRATIONS if m.version > current)
