"""The PostgreSQL backend: asyncpg with a small pool. Needs the `postgres` extra.

asyncpg is imported only here, and only when a store is opened, so `bot.storage` works without it;
a missing asyncpg is a `StoreError` that says to install `supportbot[postgres]`.

- Timestamps are `timestamptz`; asyncpg hands them back as aware UTC datetimes.
- `?schema=NAME` in the URL puts every table in that schema (created if missing): the pool sets
  `search_path` for each connection through `server_settings`. Tests use a fresh schema per test.
- Migrations run in one transaction that first takes `pg_advisory_xact_lock`, so two processes
  starting at once apply each version exactly once (PostgreSQL DDL is transactional).
- Every asyncpg/OS error is translated to `StoreError` at this edge with the original chained; the
  password is scrubbed from every message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

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
    PostgresTarget,
    check_transition,
    like_escape,
    maybe_utc,
    scrub,
    utc,
)

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

POOL_MIN = 1
POOL_MAX = 5
CONNECT_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 30.0


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


def _origin(row: Any) -> Origin:
    return Origin(
        platform=row["platform"],
        workspace_id=row["workspace_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
    )


class PostgresStore:
    """`IncidentStore` on PostgreSQL. Build it with `PostgresStore.open()`."""

    def __init__(self, pool: asyncpg.Pool, target: PostgresTarget, asyncpg_mod: ModuleType) -> None:
        self._pool: asyncpg.Pool | None = pool
        self._target = target
        self._errors = _driver_errors(asyncpg_mod)

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
        try:
            await store._migrate()
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

    async def _migrate(self) -> None:
        where = f"{self._target.where}/{self._target.database}"
        if self._target.schema:
            where += f" (schema {self._target.schema})"
        async with self._tx("apply schema migrations") as conn:
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, $2)",
                schema.ADVISORY_LOCK_CLASS,
                schema.advisory_lock_key(self._target.schema),
            )
            if self._target.schema:
                # The name was checked against [a-z_][a-z0-9_]* when the URL was parsed.
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self._target.schema}"')
            await conn.execute(schema.SCHEMA_VERSION_TABLE_POSTGRES)
            current = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
            schema.check_not_newer(current, where=where)
            for migration in schema.pending(current):
                log.info("applying schema migration %d: %s", migration.version, migration.description)
                for statement in migration.postgres:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, now())",
                    migration.version,
                    migration.description,
                )

    async def ping(self) -> None:
        async with self._conn("answer a ping") as conn:
            await conn.fetchval("SELECT 1")

    async def close(self) -> None:
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

    @contextlib.asynccontextmanager
    async def _conn(self, what: str) -> AsyncIterator[asyncpg.Connection]:
        pool = self._require()
        with self._translate(what):
            async with pool.acquire() as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def _tx(self, what: str) -> AsyncIterator[asyncpg.Connection]:
        """One committed transaction; rolled back if the body raises."""
        pool = self._require()
        with self._translate(what):
            async with pool.acquire() as conn, conn.transaction():
                yield conn

    # quota reports -----------------------------------------------------------------------------
    async def add_report(self, report: QuotaReport) -> int:
        o, p = report.origin, report.parsed
        async with self._tx("store a quota report") as conn:
            report_id = int(
                await conn.fetchval(
                    "INSERT INTO quota_reports (platform, workspace_id, channel_id, user_id, received_at,"
                    " raw_text, tool, plan, model_mode, tool_version, fingerprint)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    o.platform,
                    o.workspace_id,
                    o.channel_id,
                    o.user_id,
                    utc(report.received_at),
                    report.raw_text,
                    p.tool,
                    p.plan,
                    p.model_mode,
                    p.version,
                    report.fingerprint,
                )
            )
            if p.readings:
                await conn.executemany(
                    "INSERT INTO report_readings (report_id, seq, quota_window, percent, from_percent,"
                    " limit_hit, resets, resets_at, idle) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    [
                        (
                            report_id,
                            seq,
                            r.window,
                            r.percent,
                            r.from_percent,
                            r.limit_hit,
                            r.resets,
                            maybe_utc(r.resets_at),
                            r.idle,
                        )
                        for seq, r in enumerate(p.readings)
                    ],
                )
        return report_id

    async def find_duplicate(
        self, platform: str, user_id: str, fingerprint: str, since: dt.datetime
    ) -> int | None:
        async with self._conn("look for a duplicate report") as conn:
            found = await conn.fetchval(
                "SELECT id FROM quota_reports WHERE platform = $1 AND user_id = $2 AND fingerprint = $3"
                " AND received_at >= $4 ORDER BY received_at DESC, id DESC LIMIT 1",
                platform,
                user_id,
                fingerprint,
                utc(since),
            )
        return None if found is None else int(found)

    async def count_reports_by(self, platform: str, user_id: str, since: dt.datetime) -> int:
        async with self._conn("count reports") as conn:
            count = await conn.fetchval(
                "SELECT COUNT(*) FROM quota_reports WHERE platform = $1 AND user_id = $2 AND received_at >= $3",
                platform,
                user_id,
                utc(since),
            )
        return int(count)

    async def reports_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[QuotaReport]:
        lo, hi = utc(since), utc(until)
        async with self._conn("read quota reports") as conn:
            report_rows = await conn.fetch(
                "SELECT id, platform, workspace_id, channel_id, user_id, received_at, raw_text, tool, plan,"
                " model_mode, tool_version, fingerprint FROM quota_reports"
                " WHERE received_at >= $1 AND received_at < $2 ORDER BY received_at, id",
                lo,
                hi,
            )
            reading_rows = await conn.fetch(
                "SELECT rr.report_id, rr.quota_window, rr.percent, rr.from_percent, rr.limit_hit, rr.resets,"
                " rr.resets_at, rr.idle FROM report_readings rr JOIN quota_reports q ON q.id = rr.report_id"
                " WHERE q.received_at >= $1 AND q.received_at < $2 ORDER BY rr.report_id, rr.seq",
                lo,
                hi,
            )
        readings: dict[int, list[Reading]] = {}
        for row in reading_rows:
            readings.setdefault(int(row["report_id"]), []).append(
                Reading(
                    window=row["quota_window"],
                    percent=row["percent"],
                    from_percent=row["from_percent"],
                    limit_hit=bool(row["limit_hit"]),
                    resets=row["resets"],
                    resets_at=maybe_utc(row["resets_at"]),
                    idle=row["idle"],
                )
            )
        return [
            QuotaReport(
                origin=_origin(row),
                received_at=utc(row["received_at"]),
                raw_text=row["raw_text"],
                parsed=ParsedReadings(
                    tool=row["tool"],
                    plan=row["plan"],
                    model_mode=row["model_mode"],
                    version=row["tool_version"],
                    readings=tuple(readings.get(int(row["id"]), ())),
                ),
                fingerprint=row["fingerprint"],
                id=int(row["id"]),
            )
            for row in report_rows
        ]

    # answers, unmatched pastes, feedback ------------------------------------------------------
    _ANSWER_COLUMNS = "id, platform, workspace_id, channel_id, user_id, answered_at, entry_id, score, catalog_version, paste"

    @staticmethod
    def _answer(row: Any) -> AnswerRecord:
        return AnswerRecord(
            origin=_origin(row),
            answered_at=utc(row["answered_at"]),
            entry_id=row["entry_id"],
            score=float(row["score"]),
            catalog_version=row["catalog_version"],
            paste=row["paste"],
            id=int(row["id"]),
        )

    async def add_answer(self, answer: AnswerRecord) -> int:
        o = answer.origin
        async with self._tx("store an answer") as conn:
            answer_id = await conn.fetchval(
                "INSERT INTO answers (platform, workspace_id, channel_id, user_id, answered_at, entry_id,"
                " score, catalog_version, paste) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                o.platform,
                o.workspace_id,
                o.channel_id,
                o.user_id,
                utc(answer.answered_at),
                answer.entry_id,
                float(answer.score),
                answer.catalog_version,
                answer.paste,
            )
        return int(answer_id)

    async def get_answer(self, answer_id: int) -> AnswerRecord | None:
        async with self._conn("read an answer") as conn:
            row = await conn.fetchrow(f"SELECT {self._ANSWER_COLUMNS} FROM answers WHERE id = $1", answer_id)
        return None if row is None else self._answer(row)

    async def answers_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[AnswerRecord]:
        async with self._conn("read answers") as conn:
            rows = await conn.fetch(
                f"SELECT {self._ANSWER_COLUMNS} FROM answers"
                " WHERE answered_at >= $1 AND answered_at < $2 ORDER BY answered_at, id",
                utc(since),
                utc(until),
            )
        return [self._answer(row) for row in rows]

    async def add_unmatched(self, paste: UnmatchedPaste) -> int:
        o = paste.origin
        async with self._tx("store an unmatched paste") as conn:
            paste_id = await conn.fetchval(
                "INSERT INTO unmatched_pastes (platform, workspace_id, channel_id, user_id, seen_at, paste,"
                " best_entry_id, best_score, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                o.platform,
                o.workspace_id,
                o.channel_id,
                o.user_id,
                utc(paste.seen_at),
                paste.paste,
                paste.best_entry_id,
                float(paste.best_score),
                paste.reason,
            )
        return int(paste_id)

    async def unmatched_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[UnmatchedPaste]:
        async with self._conn("read unmatched pastes") as conn:
            rows = await conn.fetch(
                "SELECT id, platform, workspace_id, channel_id, user_id, seen_at, paste, best_entry_id,"
                " best_score, reason FROM unmatched_pastes WHERE seen_at >= $1 AND seen_at < $2"
                " ORDER BY seen_at, id",
                utc(since),
                utc(until),
            )
        return [
            UnmatchedPaste(
                origin=_origin(row),
                seen_at=utc(row["seen_at"]),
                paste=row["paste"],
                best_entry_id=row["best_entry_id"],
                best_score=float(row["best_score"]),
                reason=row["reason"],
                id=int(row["id"]),
            )
            for row in rows
        ]

    async def set_feedback(
        self, answer_id: int, platform: str, user_id: str, verdict: Verdict, at: dt.datetime
    ) -> None:
        """Record a person's verdict on an answer; a later verdict by the same person replaces it."""
        async with self._tx("record feedback") as conn:
            # Lock the answer row so a concurrent purge cannot delete it between check and insert.
            found = await conn.fetchval("SELECT 1 FROM answers WHERE id = $1 FOR SHARE", answer_id)
            if found is None:
                raise StoreError(f"cannot record feedback: there is no answer with id {answer_id}")
            await conn.execute(
                "INSERT INTO feedback (answer_id, platform, user_id, verdict, decided_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (answer_id, platform, user_id)"
                " DO UPDATE SET verdict = excluded.verdict, decided_at = excluded.decided_at",
                answer_id,
                platform,
                user_id,
                Verdict(verdict).value,
                utc(at),
            )

    async def feedback_summary(self) -> Sequence[FeedbackSummary]:
        async with self._conn("summarise feedback") as conn:
            rows = await conn.fetch(
                "SELECT a.entry_id,"
                " COUNT(*) FILTER (WHERE f.verdict = 'fixed') AS fixed,"
                " COUNT(*) FILTER (WHERE f.verdict = 'not_helped') AS not_helped,"
                " COUNT(*) FILTER (WHERE f.verdict = 'wrong') AS wrong"
                " FROM feedback f JOIN answers a ON a.id = f.answer_id"
                " GROUP BY a.entry_id ORDER BY a.entry_id"
            )
        return [
            FeedbackSummary(
                entry_id=row["entry_id"],
                fixed=int(row["fixed"]),
                not_helped=int(row["not_helped"]),
                wrong=int(row["wrong"]),
            )
            for row in rows
        ]

    # incidents ---------------------------------------------------------------------------------
    _INCIDENT_COLUMNS = (
        "id, tool, symptom, opened_at, status, summary, reporters, baseline, entry_id, updated_at"
    )

    @staticmethod
    def _incident(row: Any) -> Incident:
        return Incident(
            tool=row["tool"],
            symptom=row["symptom"],
            opened_at=utc(row["opened_at"]),
            status=IncidentStatus(row["status"]),
            summary=row["summary"],
            reporters=int(row["reporters"]),
            baseline=float(row["baseline"]),
            entry_id=row["entry_id"],
            id=int(row["id"]),
            updated_at=utc(row["updated_at"]),
        )

    async def open_incident(self, incident: Incident) -> int:
        status = IncidentStatus(incident.status)
        async with self._tx("open an incident") as conn:
            incident_id = int(
                await conn.fetchval(
                    "INSERT INTO incidents (tool, symptom, opened_at, status, summary, reporters, baseline,"
                    " entry_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    incident.tool,
                    incident.symptom,
                    utc(incident.opened_at),
                    status.value,
                    incident.summary,
                    incident.reporters,
                    float(incident.baseline),
                    incident.entry_id,
                    utc(incident.updated_at or incident.opened_at),
                )
            )
            await conn.execute(
                "INSERT INTO incident_events (incident_id, status, actor, event_at, note)"
                " VALUES ($1, $2, $3, $4, '')",
                incident_id,
                status.value,
                OPENED_BY,
                utc(incident.opened_at),
            )
        return incident_id

    async def get_incident(self, incident_id: int) -> Incident | None:
        async with self._conn("read an incident") as conn:
            row = await conn.fetchrow(
                f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE id = $1", incident_id
            )
        return None if row is None else self._incident(row)

    async def list_incidents(self, statuses: Sequence[IncidentStatus] | None = None) -> Sequence[Incident]:
        """Incidents, newest first; only those in `statuses` when given."""
        async with self._conn("list incidents") as conn:
            if statuses is None:
                rows = await conn.fetch(
                    f"SELECT {self._INCIDENT_COLUMNS} FROM incidents ORDER BY opened_at DESC, id DESC"
                )
            else:
                rows = await conn.fetch(
                    f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE status = ANY($1::text[])"
                    " ORDER BY opened_at DESC, id DESC",
                    [IncidentStatus(s).value for s in statuses],
                )
        return [self._incident(row) for row in rows]

    async def transition_incident(
        self, incident_id: int, status: IncidentStatus, actor: str, at: dt.datetime, note: str = ""
    ) -> Incident:
        wanted = IncidentStatus(status)
        async with self._tx("change an incident's status") as conn:
            current = await conn.fetchval(
                "SELECT status FROM incidents WHERE id = $1 FOR UPDATE", incident_id
            )
            if current is None:
                raise StoreError(f"there is no incident with id {incident_id}")
            check_transition(incident_id, IncidentStatus(current), wanted)
            row = await conn.fetchrow(
                f"UPDATE incidents SET status = $1, updated_at = $2 WHERE id = $3 RETURNING {self._INCIDENT_COLUMNS}",
                wanted.value,
                utc(at),
                incident_id,
            )
            await conn.execute(
                "INSERT INTO incident_events (incident_id, status, actor, event_at, note)"
                " VALUES ($1, $2, $3, $4, $5)",
                incident_id,
                wanted.value,
                actor,
                utc(at),
                note,
            )
        return self._incident(row)

    async def incident_events(self, incident_id: int) -> Sequence[IncidentEvent]:
        async with self._conn("read incident events") as conn:
            rows = await conn.fetch(
                "SELECT incident_id, status, actor, event_at, note FROM incident_events"
                " WHERE incident_id = $1 ORDER BY event_at, id",
                incident_id,
            )
        return [
            IncidentEvent(
                incident_id=int(row["incident_id"]),
                status=IncidentStatus(row["status"]),
                actor=row["actor"],
                at=utc(row["event_at"]),
                note=row["note"],
            )
            for row in rows
        ]

    # settings ------------------------------------------------------------------------------------
    async def get_setting(self, key: str) -> str | None:
        async with self._conn("read a setting") as conn:
            value = await conn.fetchval("SELECT value FROM settings WHERE key = $1", key)
        return None if value is None else str(value)

    async def set_setting(self, key: str, value: str) -> None:
        async with self._tx("save a setting") as conn:
            await conn.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, now())"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                key,
                value,
            )

    # data care -----------------------------------------------------------------------------------
    async def purge_older_than(self, cutoff: dt.datetime) -> PurgeCounts:
        """Delete reports, answers, unmatched pastes and feedback from before `cutoff`.

        Feedback on a purged answer goes with it, whatever its own age. Incidents are kept.
        """
        c = utc(cutoff)
        async with self._tx("purge old records") as conn:
            feedback = _rowcount(
                await conn.execute(
                    "DELETE FROM feedback WHERE decided_at < $1"
                    " OR answer_id IN (SELECT id FROM answers WHERE answered_at < $1)",
                    c,
                )
            )
            answers = _rowcount(await conn.execute("DELETE FROM answers WHERE answered_at < $1", c))
            reports = _rowcount(await conn.execute("DELETE FROM quota_reports WHERE received_at < $1", c))
            unmatched = _rowcount(await conn.execute("DELETE FROM unmatched_pastes WHERE seen_at < $1", c))
        log.info(
            "purged before %s: %d reports, %d answers, %d unmatched, %d feedback",
            c.isoformat(),
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
            person, params = "user_id = $1", [user_id]
            actor_sql = "actor = $2 OR actor LIKE $3 ESCAPE '\\'"
            actor_params = [user_id, "%:" + like_escape(user_id)]
        else:
            person, params = "user_id = $1 AND platform = $2", [user_id, platform]
            actor_sql, actor_params = "actor = $2", [f"{platform}:{user_id}"]
        async with self._tx("forget a person") as conn:
            feedback = _rowcount(
                await conn.execute(
                    f"DELETE FROM feedback WHERE ({person})"
                    f" OR answer_id IN (SELECT id FROM answers WHERE {person})",
                    *params,
                )
            )
            answers = _rowcount(await conn.execute(f"DELETE FROM answers WHERE {person}", *params))
            reports = _rowcount(await conn.execute(f"DELETE FROM quota_reports WHERE {person}", *params))
            unmatched = _rowcount(await conn.execute(f"DELETE FROM unmatched_pastes WHERE {person}", *params))
            actors = _rowcount(
                await conn.execute(
                    f"UPDATE incident_events SET actor = $1 WHERE {actor_sql}", FORGOTTEN_ACTOR, *actor_params
                )
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
