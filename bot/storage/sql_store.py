"""Every `IncidentStore` method, written once against a small driver interface.

The SQL here is the dialect both backends understand, with `?` placeholders; a driver
(`sqlite.py`, `postgres.py`) supplies the rest:

- `_read(what)` / `_write(what)`: a `Session` on one connection; `_write` is one transaction,
  committed before the block exits and rolled back if it raises, so every write is durable when
  the method returns. Both turn driver errors into `StoreError` saying what could not be done.
- `_time_in` / `_time_out`: how a timestamp is stored (ISO text or `timestamptz`) and read back.
- the row-lock clauses for a read-then-write transaction, and the migration hooks.

Rows are read by position, which both sqlite3's tuples and asyncpg's records support.
"""

from __future__ import annotations

import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Protocol

from bot.core.models import (
    AnswerRecord,
    FeedbackSummary,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Origin,
    ParsedReadings,
    PurgeCounts,
    QuotaReport,
    Reading,
    UnmatchedPaste,
    Verdict,
)
from bot.core.normalize import encodable
from bot.errors import StoreError
from bot.storage import schema
from bot.storage._common import FORGOTTEN_ACTOR, OPENED_BY, check_transition, like_escape, utc

log = logging.getLogger(__name__)


def storable(args: Sequence[object]) -> tuple[object, ...]:
    """Statement arguments with the text no database can hold made storable, the same on both backends.

    PostgreSQL refuses NUL in text and neither driver can encode a lone surrogate (undecodable bytes
    that reached us as text); both become U+FFFD, so a paste with them is stored instead of failing.
    """
    return tuple(_storable_text(a) if isinstance(a, str) else a for a in args)


def _storable_text(text: str) -> str:
    return encodable(text.replace("\x00", "\ufffd") if "\x00" in text else text)


class Row(Protocol):
    def __getitem__(self, index: int, /) -> Any: ...


class Session(Protocol):
    """Statements on one connection; SQL uses `?` placeholders, arguments follow in order."""

    async def fetch(self, sql: str, *args: object) -> Sequence[Row]: ...

    async def fetchone(self, sql: str, *args: object) -> Row | None: ...

    async def execute(self, sql: str, *args: object) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None: ...

    async def insert(self, sql: str, *args: object) -> int:
        """Run one INSERT into a table with an `id` column; the new row's id."""
        ...


_REPORT_COLUMNS = (
    "id, platform, workspace_id, channel_id, user_id, received_at, raw_text, tool, plan,"
    " model_mode, tool_version, fingerprint"
)
_ANSWER_COLUMNS = (
    "id, platform, workspace_id, channel_id, user_id, answered_at, entry_id, score, catalog_version, paste"
)
_UNMATCHED_COLUMNS = (
    "id, platform, workspace_id, channel_id, user_id, seen_at, paste, best_entry_id, best_score, reason"
)
_INCIDENT_COLUMNS = "id, tool, symptom, opened_at, status, summary, reporters, baseline, entry_id, updated_at"
_INSERT_EVENT = (
    "INSERT INTO incident_events (incident_id, status, actor, event_at, note) VALUES (?, ?, ?, ?, ?)"
)


def _origin(row: Row) -> Origin:
    """The origin from columns 1-4 (platform, workspace_id, channel_id, user_id)."""
    return Origin(platform=row[1], workspace_id=row[2], channel_id=row[3], user_id=row[4])


class SQLStore(ABC):
    """`IncidentStore` on any driver that implements the hooks below."""

    # Appended to a SELECT whose rows the same transaction goes on to change or rely on. PostgreSQL
    # needs row locks for that; SQLite's `BEGIN IMMEDIATE` already holds the whole database.
    FOR_UPDATE: ClassVar[str]
    FOR_SHARE: ClassVar[str]
    # The `schema_version` DDL for this backend (the migrations' own DDL comes from `_statements`).
    VERSION_TABLE: ClassVar[str]

    @abstractmethod
    def _read(self, what: str) -> AbstractAsyncContextManager[Session]:
        """A session for reads; `what` completes "could not ..." in error messages."""

    @abstractmethod
    def _write(self, what: str) -> AbstractAsyncContextManager[Session]:
        """A session inside one transaction, committed when the block exits normally."""

    @abstractmethod
    def _time_in(self, moment: dt.datetime) -> object:
        """A timezone-aware datetime as the database stores it."""

    @abstractmethod
    def _time_out(self, value: Any) -> dt.datetime:
        """A stored timestamp as an aware UTC datetime."""

    @abstractmethod
    async def _before_migrations(self, db: Session) -> None:
        """Whatever must happen first in the migration transaction (locks, the schema itself)."""

    @abstractmethod
    def _statements(self, migration: schema.Migration) -> tuple[str, ...]:
        """This backend's DDL for `migration`."""

    def _maybe_time_in(self, moment: dt.datetime | None) -> object:
        return None if moment is None else self._time_in(moment)

    def _maybe_time_out(self, value: Any) -> dt.datetime | None:
        return None if value is None else self._time_out(value)

    def _now(self) -> object:
        # The bot's clock, not the server's: both backends stamp bookkeeping columns the same way.
        return self._time_in(dt.datetime.now(dt.UTC))

    # lifetime --------------------------------------------------------------------------------
    async def _migrate(self, where: str) -> None:
        """Bring the schema to `schema.LATEST` in one transaction; `where` names the database."""
        async with self._write("apply schema migrations") as db:
            await self._before_migrations(db)
            await db.execute(self.VERSION_TABLE)
            row = await db.fetchone("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            current = int(row[0]) if row is not None else 0
            schema.check_not_newer(current, where=where)
            for migration in schema.pending(current):
                log.info("applying schema migration %d: %s", migration.version, migration.description)
                for statement in self._statements(migration):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    migration.version,
                    migration.description,
                    self._now(),
                )

    async def ping(self) -> None:
        async with self._read("answer a ping") as db:
            await db.fetchone("SELECT 1")

    # quota reports -----------------------------------------------------------------------------
    async def add_report(self, report: QuotaReport) -> int:
        o, p = report.origin, report.parsed
        async with self._write("store a quota report") as db:
            report_id = await db.insert(
                "INSERT INTO quota_reports (platform, workspace_id, channel_id, user_id, received_at,"
                " raw_text, tool, plan, model_mode, tool_version, fingerprint)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                o.platform,
                o.workspace_id,
                o.channel_id,
                o.user_id,
                self._time_in(report.received_at),
                report.raw_text,
                p.tool,
                p.plan,
                p.model_mode,
                p.version,
                report.fingerprint,
            )
            if p.readings:
                # Booleans go in as Python bools: asyncpg needs them for `boolean`, and sqlite3
                # stores them as the 0/1 integers its CHECK constraints expect.
                await db.executemany(
                    "INSERT INTO report_readings (report_id, seq, quota_window, percent, from_percent,"
                    " limit_hit, resets, resets_at, idle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            report_id,
                            seq,
                            r.window,
                            r.percent,
                            r.from_percent,
                            bool(r.limit_hit),
                            r.resets,
                            self._maybe_time_in(r.resets_at),
                            None if r.idle is None else bool(r.idle),
                        )
                        for seq, r in enumerate(p.readings)
                    ],
                )
        return report_id

    async def find_duplicate(
        self, platform: str, user_id: str, fingerprint: str, since: dt.datetime
    ) -> int | None:
        async with self._read("look for a duplicate report") as db:
            row = await db.fetchone(
                "SELECT id FROM quota_reports WHERE platform = ? AND user_id = ? AND fingerprint = ?"
                " AND received_at >= ? ORDER BY received_at DESC, id DESC LIMIT 1",
                platform,
                user_id,
                fingerprint,
                self._time_in(since),
            )
        return None if row is None else int(row[0])

    async def count_reports_by(self, platform: str, user_id: str, since: dt.datetime) -> int:
        async with self._read("count reports") as db:
            row = await db.fetchone(
                "SELECT COUNT(*) FROM quota_reports WHERE platform = ? AND user_id = ? AND received_at >= ?",
                platform,
                user_id,
                self._time_in(since),
            )
        return 0 if row is None else int(row[0])

    async def reports_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[QuotaReport]:
        lo, hi = self._time_in(since), self._time_in(until)
        async with self._read("read quota reports") as db:
            report_rows = await db.fetch(
                f"SELECT {_REPORT_COLUMNS} FROM quota_reports"
                " WHERE received_at >= ? AND received_at < ? ORDER BY received_at, id",
                lo,
                hi,
            )
            reading_rows = await db.fetch(
                "SELECT rr.report_id, rr.quota_window, rr.percent, rr.from_percent, rr.limit_hit, rr.resets,"
                " rr.resets_at, rr.idle FROM report_readings rr JOIN quota_reports q ON q.id = rr.report_id"
                " WHERE q.received_at >= ? AND q.received_at < ? ORDER BY rr.report_id, rr.seq",
                lo,
                hi,
            )
        readings: dict[int, list[Reading]] = {}
        for row in reading_rows:
            readings.setdefault(int(row[0]), []).append(
                Reading(
                    window=row[1],
                    percent=row[2],
                    from_percent=row[3],
                    limit_hit=bool(row[4]),
                    resets=row[5],
                    resets_at=self._maybe_time_out(row[6]),
                    idle=None if row[7] is None else bool(row[7]),
                )
            )
        return [
            QuotaReport(
                origin=_origin(row),
                received_at=self._time_out(row[5]),
                raw_text=row[6],
                parsed=ParsedReadings(
                    tool=row[7],
                    plan=row[8],
                    model_mode=row[9],
                    version=row[10],
                    readings=tuple(readings.get(int(row[0]), ())),
                ),
                fingerprint=row[11],
                id=int(row[0]),
            )
            for row in report_rows
        ]

    # answers, unmatched pastes, feedback ------------------------------------------------------
    def _answer(self, row: Row) -> AnswerRecord:
        return AnswerRecord(
            origin=_origin(row),
            answered_at=self._time_out(row[5]),
            entry_id=row[6],
            score=float(row[7]),
            catalog_version=row[8],
            paste=row[9],
            id=int(row[0]),
        )

    async def add_answer(self, answer: AnswerRecord) -> int:
        o = answer.origin
        async with self._write("store an answer") as db:
            return await db.insert(
                "INSERT INTO answers (platform, workspace_id, channel_id, user_id, answered_at, entry_id,"
                " score, catalog_version, paste) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                o.platform,
                o.workspace_id,
                o.channel_id,
                o.user_id,
                self._time_in(answer.answered_at),
                answer.entry_id,
                float(answer.score),
                answer.catalog_version,
                answer.paste,
            )

    async def get_answer(self, answer_id: int) -> AnswerRecord | None:
        async with self._read("read an answer") as db:
            row = await db.fetchone(f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE id = ?", answer_id)
        return None if row is None else self._answer(row)

    async def answers_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[AnswerRecord]:
        async with self._read("read answers") as db:
            rows = await db.fetch(
                f"SELECT {_ANSWER_COLUMNS} FROM answers"
                " WHERE answered_at >= ? AND answered_at < ? ORDER BY answered_at, id",
                self._time_in(since),
                self._time_in(until),
            )
        return [self._answer(row) for row in rows]

    async def add_unmatched(self, paste: UnmatchedPaste) -> int:
        o = paste.origin
        async with self._write("store an unmatched paste") as db:
            return await db.insert(
                "INSERT INTO unmatched_pastes (platform, workspace_id, channel_id, user_id, seen_at, paste,"
                " best_entry_id, best_score, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                o.platform,
                o.workspace_id,
                o.channel_id,
                o.user_id,
                self._time_in(paste.seen_at),
                paste.paste,
                paste.best_entry_id,
                float(paste.best_score),
                paste.reason,
            )

    async def unmatched_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[UnmatchedPaste]:
        async with self._read("read unmatched pastes") as db:
            rows = await db.fetch(
                f"SELECT {_UNMATCHED_COLUMNS} FROM unmatched_pastes WHERE seen_at >= ? AND seen_at < ?"
                " ORDER BY seen_at, id",
                self._time_in(since),
                self._time_in(until),
            )
        return [
            UnmatchedPaste(
                origin=_origin(row),
                seen_at=self._time_out(row[5]),
                paste=row[6],
                best_entry_id=row[7],
                best_score=float(row[8]),
                reason=row[9],
                id=int(row[0]),
            )
            for row in rows
        ]

    async def set_feedback(
        self, answer_id: int, platform: str, user_id: str, verdict: Verdict, at: dt.datetime
    ) -> None:
        """Record a person's verdict on an answer; a later verdict by the same person replaces it."""
        async with self._write("record feedback") as db:
            # Locked so that a concurrent purge cannot delete the answer between check and insert.
            found = await db.fetchone(f"SELECT 1 FROM answers WHERE id = ?{self.FOR_SHARE}", answer_id)
            if found is None:
                raise StoreError(f"cannot record feedback: there is no answer with id {answer_id}")
            await db.execute(
                "INSERT INTO feedback (answer_id, platform, user_id, verdict, decided_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_id, platform, user_id)"
                " DO UPDATE SET verdict = excluded.verdict, decided_at = excluded.decided_at",
                answer_id,
                platform,
                user_id,
                Verdict(verdict).value,
                self._time_in(at),
            )

    async def feedback_summary(self) -> Sequence[FeedbackSummary]:
        async with self._read("summarise feedback") as db:
            rows = await db.fetch(
                "SELECT a.entry_id,"
                " SUM(CASE WHEN f.verdict = 'fixed' THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN f.verdict = 'not_helped' THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN f.verdict = 'wrong' THEN 1 ELSE 0 END)"
                " FROM feedback f JOIN answers a ON a.id = f.answer_id"
                " GROUP BY a.entry_id ORDER BY a.entry_id"
            )
        return [
            FeedbackSummary(entry_id=row[0], fixed=int(row[1]), not_helped=int(row[2]), wrong=int(row[3]))
            for row in rows
        ]

    # incidents ---------------------------------------------------------------------------------
    def _incident(self, row: Row) -> Incident:
        return Incident(
            tool=row[1],
            symptom=row[2],
            opened_at=self._time_out(row[3]),
            status=IncidentStatus(row[4]),
            summary=row[5],
            reporters=int(row[6]),
            baseline=float(row[7]),
            entry_id=row[8],
            id=int(row[0]),
            updated_at=self._time_out(row[9]),
        )

    async def open_incident(self, incident: Incident) -> int:
        status = IncidentStatus(incident.status)
        opened = self._time_in(incident.opened_at)
        async with self._write("open an incident") as db:
            incident_id = await db.insert(
                "INSERT INTO incidents (tool, symptom, opened_at, status, summary, reporters, baseline,"
                " entry_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                incident.tool,
                incident.symptom,
                opened,
                status.value,
                incident.summary,
                incident.reporters,
                float(incident.baseline),
                incident.entry_id,
                self._time_in(incident.updated_at or incident.opened_at),
            )
            await db.execute(_INSERT_EVENT, incident_id, status.value, OPENED_BY, opened, "")
        return incident_id

    async def get_incident(self, incident_id: int) -> Incident | None:
        async with self._read("read an incident") as db:
            row = await db.fetchone(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE id = ?", incident_id)
        return None if row is None else self._incident(row)

    async def list_incidents(self, statuses: Sequence[IncidentStatus] | None = None) -> Sequence[Incident]:
        """Incidents, newest first; only those in `statuses` when given."""
        sql = f"SELECT {_INCIDENT_COLUMNS} FROM incidents"
        params: tuple[str, ...] = ()
        if statuses is not None:
            if not statuses:
                return []
            params = tuple(IncidentStatus(s).value for s in statuses)
            sql += f" WHERE status IN ({', '.join('?' * len(params))})"
        sql += " ORDER BY opened_at DESC, id DESC"
        async with self._read("list incidents") as db:
            rows = await db.fetch(sql, *params)
        return [self._incident(row) for row in rows]

    async def transition_incident(
        self, incident_id: int, status: IncidentStatus, actor: str, at: dt.datetime, note: str = ""
    ) -> Incident:
        wanted = IncidentStatus(status)
        when = self._time_in(at)
        async with self._write("change an incident's status") as db:
            # Locked so that two people moving the same incident at once are checked one after the other.
            current = await db.fetchone(
                f"SELECT status FROM incidents WHERE id = ?{self.FOR_UPDATE}", incident_id
            )
            if current is None:
                raise StoreError(f"there is no incident with id {incident_id}")
            check_transition(incident_id, IncidentStatus(current[0]), wanted)
            await db.execute(
                "UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?",
                wanted.value,
                when,
                incident_id,
            )
            await db.execute(_INSERT_EVENT, incident_id, wanted.value, actor, when, note)
            row = await db.fetchone(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE id = ?", incident_id)
        if row is None:  # the row is locked by this transaction, so this cannot happen
            raise StoreError(f"there is no incident with id {incident_id}")
        return self._incident(row)

    async def incident_events(self, incident_id: int) -> Sequence[IncidentEvent]:
        async with self._read("read incident events") as db:
            rows = await db.fetch(
                "SELECT incident_id, status, actor, event_at, note FROM incident_events"
                " WHERE incident_id = ? ORDER BY event_at, id",
                incident_id,
            )
        return [
            IncidentEvent(
                incident_id=int(row[0]),
                status=IncidentStatus(row[1]),
                actor=row[2],
                at=self._time_out(row[3]),
                note=row[4],
            )
            for row in rows
        ]

    # settings ------------------------------------------------------------------------------------
    async def get_setting(self, key: str) -> str | None:
        async with self._read("read a setting") as db:
            row = await db.fetchone("SELECT value FROM settings WHERE key = ?", key)
        return None if row is None else str(row[0])

    async def set_setting(self, key: str, value: str) -> None:
        async with self._write("save a setting") as db:
            await db.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                key,
                value,
                self._now(),
            )

    # data care -----------------------------------------------------------------------------------
    async def purge_older_than(self, cutoff: dt.datetime) -> PurgeCounts:
        """Delete reports, answers, unmatched pastes and feedback from before `cutoff`.

        Feedback on a purged answer goes with it, whatever its own age. Incidents are kept.
        """
        c = self._time_in(cutoff)
        async with self._write("purge old records") as db:
            feedback = await db.execute(
                "DELETE FROM feedback WHERE decided_at < ?"
                " OR answer_id IN (SELECT id FROM answers WHERE answered_at < ?)",
                c,
                c,
            )
            answers = await db.execute("DELETE FROM answers WHERE answered_at < ?", c)
            reports = await db.execute("DELETE FROM quota_reports WHERE received_at < ?", c)
            unmatched = await db.execute("DELETE FROM unmatched_pastes WHERE seen_at < ?", c)
        log.info(
            "purged before %s: %d reports, %d answers, %d unmatched, %d feedback",
            utc(cutoff).isoformat(),
            reports,
            answers,
            unmatched,
            feedback,
        )
        return PurgeCounts(reports=reports, answers=answers, unmatched=unmatched, feedback=feedback)

    async def forget_user(self, user_id: str, platform: str | None = None) -> PurgeCounts:
        """Erase one person's reports, answers, unmatched pastes and feedback (on any platform
        unless `platform` is given). Feedback others left on that person's answers goes with the
        answers. Incident events keep the transition but the actor becomes "forgotten"
        (counted in `extra["incident_actors"]`)."""
        person: str
        params: list[str]
        if platform is None:
            person, params = "user_id = ?", [user_id]
            # Actors are written "platform:user_id"; match any platform's.
            actor_sql = "actor = ? OR actor LIKE ? ESCAPE '\\'"
            actor_params = [user_id, "%:" + like_escape(user_id)]
        else:
            person, params = "user_id = ? AND platform = ?", [user_id, platform]
            actor_sql, actor_params = "actor = ?", [f"{platform}:{user_id}"]
        async with self._write("forget a person") as db:
            feedback = await db.execute(
                f"DELETE FROM feedback WHERE ({person}) OR answer_id IN (SELECT id FROM answers WHERE {person})",
                *params,
                *params,
            )
            answers = await db.execute(f"DELETE FROM answers WHERE {person}", *params)
            reports = await db.execute(f"DELETE FROM quota_reports WHERE {person}", *params)
            unmatched = await db.execute(f"DELETE FROM unmatched_pastes WHERE {person}", *params)
            actors = await db.execute(
                f"UPDATE incident_events SET actor = ? WHERE {actor_sql}", FORGOTTEN_ACTOR, *actor_params
            )
        log.info(
            "forgot a person: %d reports, %d answers, %d unmatched, %d feedback, %d incident actors",
            reports,
            answers,
            unmatched,
            feedback,
            actors,
        )
        return PurgeCounts(
            reports=reports,
            answers=answers,
            unmatched=unmatched,
            feedback=feedback,
            extra={"incident_actors": actors},
        )
