"""The embedded SQLite backend: one aiosqlite connection for the life of the process.

- `journal_mode=WAL` lets readers in other processes (a `tally` run) work while the bot writes.
- `synchronous=FULL`: with WAL, NORMAL survives a process crash but may drop the last commits on a
  power cut. The store promises a report is durable once `add_report` returns, and we commit a
  handful of rows a minute, so the extra fsync per commit is cheap.
- `foreign_keys=ON` (readings, feedback and events cascade with their parent row) and a busy timeout,
  so a second process waits for the write lock instead of failing at once.
- Every operation runs under one `asyncio.Lock`: tasks share the connection, so a transaction must
  not interleave with another task's statements. Writes use `BEGIN IMMEDIATE ... COMMIT`.

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
from bot.errors import StoreError
from bot.storage import schema
from bot.storage._common import (
    FORGOTTEN_ACTOR,
    OPENED_BY,
    SqliteTarget,
    check_transition,
    like_escape,
    utc,
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


def _ts(moment: dt.datetime) -> str:
    return utc(moment).isoformat(timespec="microseconds")


def _ts_or_none(moment: dt.datetime | None) -> str | None:
    return None if moment is None else _ts(moment)


def _dt(text: str) -> dt.datetime:
    return utc(dt.datetime.fromisoformat(text))


def _dt_or_none(text: str | None) -> dt.datetime | None:
    return None if text is None else _dt(text)


def _bool_or_none(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _int_or_none(value: bool | None) -> int | None:
    return None if value is None else int(value)


@contextlib.contextmanager
def _translate(what: str, where: str) -> Iterator[None]:
    """Turn sqlite3 errors into `StoreError`, keeping the original as the cause."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"SQLite database {where}: could not {what}: {exc}") from exc


class SQLiteStore:
    """`IncidentStore` on one SQLite file (or `:memory:`). Build it with `SQLiteStore.open()`."""

    def __init__(self, db: aiosqlite.Connection, where: str) -> None:
        self._db: aiosqlite.Connection | None = db
        self._where = where
        self._lock = asyncio.Lock()

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
        await self._migrate()

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

    async def _migrate(self) -> None:
        async with self._write("apply schema migrations") as db:
            await db.execute(schema.SCHEMA_VERSION_TABLE_SQLITE)
            rows = await db.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            current = int(next(iter(rows))[0])
            schema.check_not_newer(current, where=self._where)
            for migration in schema.pending(current):
                log.info("applying schema migration %d: %s", migration.version, migration.description)
                for statement in migration.sqlite:
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.description, _ts(dt.datetime.now(dt.UTC))),
                )

    async def ping(self) -> None:
        async with self._read("answer a ping") as db:
            await db.execute_fetchall("SELECT 1")

    async def close(self) -> None:
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

    @contextlib.asynccontextmanager
    async def _read(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self._require()
            with _translate(what, self._where):
                yield db

    @contextlib.asynccontextmanager
    async def _write(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        """One committed transaction; rolled back if the body raises."""
        async with self._lock:
            db = self._require()
            with _translate(what, self._where):
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")

    # quota reports -----------------------------------------------------------------------------
    async def add_report(self, report: QuotaReport) -> int:
        o, p = report.origin, report.parsed
        async with self._write("store a quota report") as db:
            cursor = await db.execute(
                "INSERT INTO quota_reports (platform, workspace_id, channel_id, user_id, received_at,"
                " raw_text, tool, plan, model_mode, tool_version, fingerprint)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    o.platform,
                    o.workspace_id,
                    o.channel_id,
                    o.user_id,
                    _ts(report.received_at),
                    report.raw_text,
                    p.tool,
                    p.plan,
                    p.model_mode,
                    p.version,
                    report.fingerprint,
                ),
            )
            report_id = cursor.lastrowid
            await cursor.close()
            if report_id is None:
                raise StoreError("SQLite did not return an id for the new report")
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
                        int(r.limit_hit),
                        r.resets,
                        _ts_or_none(r.resets_at),
                        _int_or_none(r.idle),
                    )
                    for seq, r in enumerate(p.readings)
                ],
            )
        return report_id

    async def find_duplicate(
        self, platform: str, user_id: str, fingerprint: str, since: dt.datetime
    ) -> int | None:
        async with self._read("look for a duplicate report") as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT id FROM quota_reports WHERE platform = ? AND user_id = ? AND fingerprint = ?"
                    " AND received_at >= ? ORDER BY received_at DESC, id DESC LIMIT 1",
                    (platform, user_id, fingerprint, _ts(since)),
                )
            )
        return int(rows[0][0]) if rows else None

    async def count_reports_by(self, platform: str, user_id: str, since: dt.datetime) -> int:
        async with self._read("count reports") as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT COUNT(*) FROM quota_reports WHERE platform = ? AND user_id = ? AND received_at >= ?",
                    (platform, user_id, _ts(since)),
                )
            )
        return int(rows[0][0])

    async def reports_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[QuotaReport]:
        window = (_ts(since), _ts(until))
        async with self._read("read quota reports") as db:
            report_rows = await db.execute_fetchall(
                "SELECT id, platform, workspace_id, channel_id, user_id, received_at, raw_text, tool, plan,"
                " model_mode, tool_version, fingerprint FROM quota_reports"
                " WHERE received_at >= ? AND received_at < ? ORDER BY received_at, id",
                window,
            )
            reading_rows = await db.execute_fetchall(
                "SELECT rr.report_id, rr.quota_window, rr.percent, rr.from_percent, rr.limit_hit, rr.resets,"
                " rr.resets_at, rr.idle FROM report_readings rr JOIN quota_reports q ON q.id = rr.report_id"
                " WHERE q.received_at >= ? AND q.received_at < ? ORDER BY rr.report_id, rr.seq",
                window,
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
                    resets_at=_dt_or_none(row[6]),
                    idle=_bool_or_none(row[7]),
                )
            )
        return [
            QuotaReport(
                origin=Origin(platform=row[1], workspace_id=row[2], channel_id=row[3], user_id=row[4]),
                received_at=_dt(row[5]),
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
    async def add_answer(self, answer: AnswerRecord) -> int:
        o = answer.origin
        async with self._write("store an answer") as db:
            cursor = await db.execute(
                "INSERT INTO answers (platform, workspace_id, channel_id, user_id, answered_at, entry_id,"
                " score, catalog_version, paste) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    o.platform,
                    o.workspace_id,
                    o.channel_id,
                    o.user_id,
                    _ts(answer.answered_at),
                    answer.entry_id,
                    answer.score,
                    answer.catalog_version,
                    answer.paste,
                ),
            )
            answer_id = cursor.lastrowid
            await cursor.close()
        if answer_id is None:
            raise StoreError("SQLite did not return an id for the new answer")
        return answer_id

    _ANSWER_COLUMNS = "id, platform, workspace_id, channel_id, user_id, answered_at, entry_id, score, catalog_version, paste"

    @staticmethod
    def _answer(row: Any) -> AnswerRecord:
        return AnswerRecord(
            origin=Origin(platform=row[1], workspace_id=row[2], channel_id=row[3], user_id=row[4]),
            answered_at=_dt(row[5]),
            entry_id=row[6],
            score=float(row[7]),
            catalog_version=row[8],
            paste=row[9],
            id=int(row[0]),
        )

    async def get_answer(self, answer_id: int) -> AnswerRecord | None:
        async with self._read("read an answer") as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT {self._ANSWER_COLUMNS} FROM answers WHERE id = ?", (answer_id,)
                )
            )
        return self._answer(rows[0]) if rows else None

    async def answers_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[AnswerRecord]:
        async with self._read("read answers") as db:
            rows = await db.execute_fetchall(
                f"SELECT {self._ANSWER_COLUMNS} FROM answers"
                " WHERE answered_at >= ? AND answered_at < ? ORDER BY answered_at, id",
                (_ts(since), _ts(until)),
            )
        return [self._answer(row) for row in rows]

    async def add_unmatched(self, paste: UnmatchedPaste) -> int:
        o = paste.origin
        async with self._write("store an unmatched paste") as db:
            cursor = await db.execute(
                "INSERT INTO unmatched_pastes (platform, workspace_id, channel_id, user_id, seen_at, paste,"
                " best_entry_id, best_score, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    o.platform,
                    o.workspace_id,
                    o.channel_id,
                    o.user_id,
                    _ts(paste.seen_at),
                    paste.paste,
                    paste.best_entry_id,
                    paste.best_score,
                    paste.reason,
                ),
            )
            paste_id = cursor.lastrowid
            await cursor.close()
        if paste_id is None:
            raise StoreError("SQLite did not return an id for the new unmatched paste")
        return paste_id

    async def unmatched_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[UnmatchedPaste]:
        async with self._read("read unmatched pastes") as db:
            rows = await db.execute_fetchall(
                "SELECT id, platform, workspace_id, channel_id, user_id, seen_at, paste, best_entry_id,"
                " best_score, reason FROM unmatched_pastes WHERE seen_at >= ? AND seen_at < ?"
                " ORDER BY seen_at, id",
                (_ts(since), _ts(until)),
            )
        return [
            UnmatchedPaste(
                origin=Origin(platform=row[1], workspace_id=row[2], channel_id=row[3], user_id=row[4]),
                seen_at=_dt(row[5]),
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
            found = list(await db.execute_fetchall("SELECT 1 FROM answers WHERE id = ?", (answer_id,)))
            if not found:
                raise StoreError(f"cannot record feedback: there is no answer with id {answer_id}")
            await db.execute(
                "INSERT INTO feedback (answer_id, platform, user_id, verdict, decided_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_id, platform, user_id)"
                " DO UPDATE SET verdict = excluded.verdict, decided_at = excluded.decided_at",
                (answer_id, platform, user_id, Verdict(verdict).value, _ts(at)),
            )

    async def feedback_summary(self) -> Sequence[FeedbackSummary]:
        async with self._read("summarise feedback") as db:
            rows = await db.execute_fetchall(
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
    _INCIDENT_COLUMNS = (
        "id, tool, symptom, opened_at, status, summary, reporters, baseline, entry_id, updated_at"
    )

    @staticmethod
    def _incident(row: Any) -> Incident:
        return Incident(
            tool=row[1],
            symptom=row[2],
            opened_at=_dt(row[3]),
            status=IncidentStatus(row[4]),
            summary=row[5],
            reporters=int(row[6]),
            baseline=float(row[7]),
            entry_id=row[8],
            id=int(row[0]),
            updated_at=_dt(row[9]),
        )

    async def open_incident(self, incident: Incident) -> int:
        status = IncidentStatus(incident.status)
        updated = incident.updated_at or incident.opened_at
        async with self._write("open an incident") as db:
            cursor = await db.execute(
                "INSERT INTO incidents (tool, symptom, opened_at, status, summary, reporters, baseline,"
                " entry_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    incident.tool,
                    incident.symptom,
                    _ts(incident.opened_at),
                    status.value,
                    incident.summary,
                    incident.reporters,
                    incident.baseline,
                    incident.entry_id,
                    _ts(updated),
                ),
            )
            incident_id = cursor.lastrowid
            await cursor.close()
            if incident_id is None:
                raise StoreError("SQLite did not return an id for the new incident")
            await db.execute(
                "INSERT INTO incident_events (incident_id, status, actor, event_at, note) VALUES (?, ?, ?, ?, ?)",
                (incident_id, status.value, OPENED_BY, _ts(incident.opened_at), ""),
            )
        return incident_id

    async def get_incident(self, incident_id: int) -> Incident | None:
        async with self._read("read an incident") as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
                )
            )
        return self._incident(rows[0]) if rows else None

    async def list_incidents(self, statuses: Sequence[IncidentStatus] | None = None) -> Sequence[Incident]:
        """Incidents, newest first; only those in `statuses` when given."""
        sql = f"SELECT {self._INCIDENT_COLUMNS} FROM incidents"
        params: tuple[str, ...] = ()
        if statuses is not None:
            if not statuses:
                return []
            params = tuple(IncidentStatus(s).value for s in statuses)
            sql += f" WHERE status IN ({', '.join('?' * len(params))})"
        sql += " ORDER BY opened_at DESC, id DESC"
        async with self._read("list incidents") as db:
            rows = await db.execute_fetchall(sql, params)
        return [self._incident(row) for row in rows]

    async def transition_incident(
        self, incident_id: int, status: IncidentStatus, actor: str, at: dt.datetime, note: str = ""
    ) -> Incident:
        wanted = IncidentStatus(status)
        async with self._write("change an incident's status") as db:
            rows = list(
                await db.execute_fetchall("SELECT status FROM incidents WHERE id = ?", (incident_id,))
            )
            if not rows:
                raise StoreError(f"there is no incident with id {incident_id}")
            check_transition(incident_id, IncidentStatus(rows[0][0]), wanted)
            await db.execute(
                "UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?",
                (wanted.value, _ts(at), incident_id),
            )
            await db.execute(
                "INSERT INTO incident_events (incident_id, status, actor, event_at, note) VALUES (?, ?, ?, ?, ?)",
                (incident_id, wanted.value, actor, _ts(at), note),
            )
            rows = list(
                await db.execute_fetchall(
                    f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
                )
            )
        return self._incident(rows[0])

    async def incident_events(self, incident_id: int) -> Sequence[IncidentEvent]:
        async with self._read("read incident events") as db:
            rows = await db.execute_fetchall(
                "SELECT incident_id, status, actor, event_at, note FROM incident_events"
                " WHERE incident_id = ? ORDER BY event_at, id",
                (incident_id,),
            )
        return [
            IncidentEvent(
                incident_id=int(row[0]),
                status=IncidentStatus(row[1]),
                actor=row[2],
                at=_dt(row[3]),
                note=row[4],
            )
            for row in rows
        ]

    # settings ------------------------------------------------------------------------------------
    async def get_setting(self, key: str) -> str | None:
        async with self._read("read a setting") as db:
            rows = list(await db.execute_fetchall("SELECT value FROM settings WHERE key = ?", (key,)))
        return str(rows[0][0]) if rows else None

    async def set_setting(self, key: str, value: str) -> None:
        async with self._write("save a setting") as db:
            await db.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, value, _ts(dt.datetime.now(dt.UTC))),
            )

    # data care -----------------------------------------------------------------------------------
    async def purge_older_than(self, cutoff: dt.datetime) -> PurgeCounts:
        """Delete reports, answers, unmatched pastes and feedback from before `cutoff`.

        Feedback on a purged answer goes with it, whatever its own age. Incidents are kept.
        """
        c = _ts(cutoff)
        async with self._write("purge old records") as db:
            feedback = await _rowcount(
                db,
                "DELETE FROM feedback WHERE decided_at < ?"
                " OR answer_id IN (SELECT id FROM answers WHERE answered_at < ?)",
                (c, c),
            )
            answers = await _rowcount(db, "DELETE FROM answers WHERE answered_at < ?", (c,))
            reports = await _rowcount(db, "DELETE FROM quota_reports WHERE received_at < ?", (c,))
            unmatched = await _rowcount(db, "DELETE FROM unmatched_pastes WHERE seen_at < ?", (c,))
        log.info(
            "purged before %s: %d reports, %d answers, %d unmatched, %d feedback",
            c,
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
        if platform is None:
            person, params = "user_id = ?", [user_id]
            actor_sql = "actor = ? OR actor LIKE ? ESCAPE '\\'"
            actor_params = [user_id, "%:" + like_escape(user_id)]
        else:
            person, params = "user_id = ? AND platform = ?", [user_id, platform]
            actor_sql, actor_params = "actor = ?", [f"{platform}:{user_id}"]
        async with self._write("forget a person") as db:
            feedback = await _rowcount(
                db,
                f"DELETE FROM feedback WHERE ({person})"
                f" OR answer_id IN (SELECT id FROM answers WHERE {person})",
                params + params,
            )
            answers = await _rowcount(db, f"DELETE FROM answers WHERE {person}", params)
            reports = await _rowcount(db, f"DELETE FROM quota_reports WHERE {person}", params)
            unmatched = await _rowcount(db, f"DELETE FROM unmatched_pastes WHERE {person}", params)
            actors = await _rowcount(
                db,
                f"UPDATE incident_events SET actor = ? WHERE {actor_sql}",
                [FORGOTTEN_ACTOR, *actor_params],
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


async def _rowcount(db: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> int:
    cursor = await db.execute(sql, params)
    count = cursor.rowcount
    await cursor.close()
    return max(count, 0)
