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

import asyncio
import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Protocol

from bot.core.detection import BUCKET, ChunkQuery, Sighting, bucket_end, bucket_of, floor_to_bucket
from bot.core.models import (
    AnswerRecord,
    FeedbackSummary,
    ImportCounts,
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
from bot.core.tallies import (
    CONTRADICTION_HORIZON,
    PREVIOUS_READING_HORIZON,
    UNKNOWN,
    UNKNOWN_TOOL,
    Count,
    Tally,
    symptoms_by_report,
    tally_from_counts,
    tool_label,
)
from bot.errors import StoreError
from bot.storage import schema
from bot.storage._common import FORGOTTEN_ACTOR, OPENED_BY, check_transition, like_escape, utc

log = logging.getLogger(__name__)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # where bucket numbers count from (see `bucket_of`)


def storable(args: Sequence[object]) -> tuple[object, ...]:
    """Statement arguments with the text no database can hold made storable, the same on both backends.

    PostgreSQL refuses NUL in text and neither driver can encode a lone surrogate (undecodable bytes
    that reached us as text); both become U+FFFD, so a paste with them is stored instead of failing.
    """
    return tuple(_storable_text(a) if isinstance(a, str) else a for a in args)


def storable_rows(rows: Sequence[Sequence[object]]) -> Sequence[Sequence[object]]:
    """`storable` for every row of a batch. Text that needs no change (nearly all of it) is found
    with one check over the whole batch, so a bulk import does not pay for a check per value."""
    texts = "".join([value for row in rows for value in row if isinstance(value, str)])
    if "\x00" not in texts and encodable(texts) is texts:
        return rows
    return [storable(row) for row in rows]


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

    async def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Add rows to a table, as quickly as the driver can (COPY on PostgreSQL for a batch)."""
        ...

    async def insert(self, sql: str, *args: object) -> int:
        """Run one INSERT into a table with an `id` column; the new row's id."""
        ...


_REPORT_COLUMNS = (
    "id, platform, workspace_id, channel_id, user_id, received_at, raw_text, tool, plan,"
    " model_mode, tool_version, fingerprint"
)
_ANSWER_COLUMNS = (
    "id, platform, workspace_id, channel_id, user_id, answered_at, entry_id, score, catalog_version, paste,"
    " thread_id"
)
_UNMATCHED_COLUMNS = (
    "id, platform, workspace_id, channel_id, user_id, seen_at, paste, best_entry_id, best_score, reason"
)
_INCIDENT_COLUMNS = "id, tool, symptom, opened_at, status, summary, reporters, baseline, entry_id, updated_at"
_REPORT_TABLE = (
    "quota_reports",
    ("id", "platform", "workspace_id", "channel_id", "user_id", "received_at", "raw_text", "tool", "plan",
     "model_mode", "tool_version", "fingerprint"),
)
_READING_TABLE = (
    "report_readings",
    ("report_id", "seq", "quota_window", "percent", "from_percent", "limit_hit", "resets", "resets_at", "idle",
     "received_at", "platform", "user_id"),
)
_SYMPTOM_TABLE = ("report_symptoms", ("report_id", "symptom", "tool", "bucket", "received_at", "platform", "user_id"))


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """`INSERT INTO table (columns) VALUES (?, ...)`."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


#: Reports imported per transaction (and per id reservation).
IMPORT_BATCH = 5_000
#: Reports from chat written in one transaction at most (see `add_report`).
REPORT_BATCH = 200
_INSERT_EVENT = (
    "INSERT INTO incident_events (incident_id, status, actor, event_at, note) VALUES (?, ?, ?, ?, ?)"
)


def _with_id(report: QuotaReport, report_id: int) -> QuotaReport:
    # What dataclasses.replace does, without its per-call look at the fields: an import makes 200,000.
    return QuotaReport(report.origin, report.received_at, report.raw_text, report.parsed, report.fingerprint,
                       report_id)


def _origin(row: Row) -> Origin:
    """The origin from columns 1-4 (platform, workspace_id, channel_id, user_id)."""
    return Origin(platform=row[1], workspace_id=row[2], channel_id=row[3], user_id=row[4])


class SQLStore(ABC):
    """`IncidentStore` on any driver that implements the hooks below."""

    # Reports waiting for the group-commit writer (see `add_report`); set up by the drivers.
    _queued_reports: list[tuple[QuotaReport, asyncio.Future[int]]]
    _report_writer: asyncio.Task[None] | None

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

    @abstractmethod
    async def _after_bulk_insert(self, added: int) -> None:
        """Called after each transaction of an import with the reports it added."""

    @abstractmethod
    async def _reserve_report_ids(self, db: Session, count: int) -> list[int]:
        """`count` unused `quota_reports` ids, inside the current write transaction."""

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
                if migration.version == schema.SYMPTOMS_VERSION and current > 0:
                    await self._backfill_symptoms(db)

    async def _backfill_symptoms(self, db: Session) -> None:
        """Work out the symptoms of every report stored before `report_symptoms` existed."""
        people = await db.fetch("SELECT DISTINCT platform, user_id FROM quota_reports")
        for platform, user_id in ((str(r[0]), str(r[1])) for r in people):
            own = await self._person_reports(db, platform, user_id, None, None)
            await self._store_symptoms(db, own, own, {})
        log.info("worked out the symptoms of the reports of %d people", len(people))

    async def ping(self) -> None:
        async with self._read("answer a ping") as db:
            await db.fetchone("SELECT 1")

    # quota reports -----------------------------------------------------------------------------
    async def add_report(self, report: QuotaReport) -> int:
        """Store a report and its readings, and keep the symptom rows of this person up to date:
        the report's own, and those of their neighbouring reports that it changes (a contradiction
        pairs reports minutes apart). Reads only this person's reports around it.

        Reports arriving together are written in one transaction (group commit): each caller still
        returns only once its report is committed, but a burst costs one commit per batch, not one
        per report. A cancelled caller does not cancel the write.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        self._queued_reports.append((report, done))
        if self._report_writer is None or self._report_writer.done():
            self._report_writer = loop.create_task(self._write_queued_reports(), name="store:reports")
        return await asyncio.shield(done)

    async def _write_queued_reports(self) -> None:
        while self._queued_reports:
            batch = self._queued_reports[:REPORT_BATCH]
            del self._queued_reports[:REPORT_BATCH]
            by_person: dict[tuple[str, str], list[int]] = {}
            for index, (report, _) in enumerate(batch):
                by_person.setdefault((report.origin.platform, report.origin.user_id), []).append(index)
            groups = [[batch[i][0] for i in indexes] for indexes in by_person.values()]
            try:
                ids = await self._import_batch(groups, skip_present=False)
            except Exception as exc:
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(exc)
                continue
            except BaseException:
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(StoreError("the store was closed before the report was written"))
                raise
            order = [i for indexes in by_person.values() for i in indexes]
            for index, report_id in zip(order, ids, strict=True):
                waiting = batch[index][1]
                if not waiting.done() and report_id is not None:
                    waiting.set_result(report_id)

    async def _finish_writes(self) -> None:
        """Let queued reports be written before the store closes."""
        writer = self._report_writer
        if writer is not None and not writer.done():
            await asyncio.gather(writer, return_exceptions=True)

    def _report_row(self, report: QuotaReport) -> tuple[object, ...]:
        o, p = report.origin, report.parsed
        return (
            report.id,
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

    async def _insert_reports(self, db: Session, reports: Sequence[QuotaReport]) -> None:
        """Insert reports that already carry their (reserved) ids, with their readings."""
        await db.insert_rows(*_REPORT_TABLE, [self._report_row(r) for r in reports])
        # Booleans go in as Python bools: asyncpg needs them for `boolean`, and sqlite3 stores
        # them as the 0/1 integers its CHECK constraints expect.
        readings = [
            (
                report.id,
                seq,
                r.window,
                r.percent,
                r.from_percent,
                bool(r.limit_hit),
                r.resets,
                self._maybe_time_in(r.resets_at),
                None if r.idle is None else bool(r.idle),
                self._time_in(report.received_at),
                report.origin.platform,
                report.origin.user_id,
            )
            for report in reports
            for seq, r in enumerate(report.parsed.readings)
        ]
        if readings:
            await db.insert_rows(*_READING_TABLE, readings)

    async def _person_reports(
        self, db: Session, platform: str, user_id: str, lo: dt.datetime | None, hi: dt.datetime | None
    ) -> list[QuotaReport]:
        """One person's reports received in [lo, hi] (None: unbounded), oldest first, with readings."""
        where = "q.platform = ? AND q.user_id = ?"
        args: list[object] = [platform, user_id]
        if lo is not None:
            where, args = where + " AND q.received_at >= ?", [*args, self._time_in(lo)]
        if hi is not None:
            where, args = where + " AND q.received_at <= ?", [*args, self._time_in(hi)]
        report_rows = await db.fetch(
            f"SELECT {_REPORT_COLUMNS} FROM quota_reports q WHERE {where}"
            " ORDER BY q.received_at, q.id",
            *args,
        )
        reading_rows = await db.fetch(
            "SELECT rr.report_id, rr.quota_window, rr.percent, rr.from_percent, rr.limit_hit, rr.resets,"
            f" rr.resets_at, rr.idle FROM report_readings rr JOIN quota_reports q ON q.id = rr.report_id"
            f" WHERE {where} ORDER BY rr.report_id, rr.seq",
            *args,
        )
        return self._build_reports(report_rows, reading_rows)

    async def _stored_symptoms(self, db: Session, report_ids: Sequence[int | None]) -> dict[int, frozenset[str]]:
        found: dict[int, set[str]] = {}
        ids = [i for i in report_ids if i is not None]
        for at in range(0, len(ids), 500):
            part = ids[at : at + 500]
            rows = await db.fetch(
                f"SELECT report_id, symptom FROM report_symptoms WHERE report_id IN ({', '.join('?' * len(part))})",
                *part,
            )
            for row in rows:
                found.setdefault(int(row[0]), set()).add(str(row[1]))
        return {key: frozenset(value) for key, value in found.items()}

    async def _store_symptoms(
        self,
        db: Session,
        own: Sequence[QuotaReport],
        targets: Sequence[QuotaReport],
        stored: dict[int, frozenset[str]],
    ) -> None:
        """Write the symptoms of `targets`, judged against `own` (the person's reports around them),
        where they differ from `stored`."""
        removed: list[tuple[object, ...]] = []
        added: list[tuple[object, ...]] = []
        self._symptom_changes(own, targets, stored, removed, added)
        await self._apply_symptom_changes(db, removed, added)

    def _symptom_changes(
        self,
        own: Sequence[QuotaReport],
        targets: Sequence[QuotaReport],
        stored: dict[int, frozenset[str]],
        removed: list[tuple[object, ...]],
        added: list[tuple[object, ...]],
    ) -> None:
        computed = symptoms_by_report(own)
        for report in targets:
            assert report.id is not None
            now = computed[id(report)]
            before = stored.get(report.id, frozenset())
            removed.extend((report.id, symptom) for symptom in sorted(before - now))
            tool, bucket = tool_label(report.parsed.tool), bucket_of(report.received_at)
            at, o = self._time_in(report.received_at), report.origin
            added.extend(
                (report.id, symptom, tool, bucket, at, o.platform, o.user_id) for symptom in sorted(now - before)
            )

    async def _apply_symptom_changes(
        self, db: Session, removed: Sequence[tuple[object, ...]], added: Sequence[tuple[object, ...]]
    ) -> None:
        if removed:
            await db.executemany("DELETE FROM report_symptoms WHERE report_id = ? AND symptom = ?", removed)
        if added:
            await db.insert_rows(*_SYMPTOM_TABLE, added)

    async def import_reports(self, reports: Sequence[QuotaReport]) -> ImportCounts:
        """Store reports with their own `received_at`, skipping any already present (same platform,
        person, time and text). A batch of people at a time, each batch one transaction."""
        by_person: dict[tuple[str, str], list[QuotaReport]] = {}
        for report in reports:
            by_person.setdefault((report.origin.platform, report.origin.user_id), []).append(report)
        stored = present = 0
        batch: list[list[QuotaReport]] = []
        size = 0
        groups = list(by_person.values())
        for index, group in enumerate(groups):
            batch.append(group)
            size += len(group)
            if size >= IMPORT_BATCH or index == len(groups) - 1:
                ids = await self._import_batch(batch, skip_present=True)
                added = sum(1 for i in ids if i is not None)
                stored, present = stored + added, present + len(ids) - added
                batch, size = [], 0
                await self._after_bulk_insert(added)
        return ImportCounts(stored=stored, present=present)

    async def _import_batch(
        self, groups: Sequence[Sequence[QuotaReport]], *, skip_present: bool
    ) -> list[int | None]:
        """Store one person's reports per group in one transaction; the new ids in group order
        (None for a report skipped as already present)."""
        placed: list[int | None] = []
        async with self._write("store quota reports") as db:
            around = await self._people_reports(db, groups)
            plans: list[tuple[list[QuotaReport], list[QuotaReport]]] = []
            fresh_count = present = 0
            for group in groups:
                person = (group[0].origin.platform, group[0].origin.user_id)
                existing = around.get(person, [])
                seen = {(utc(r.received_at), r.raw_text) for r in existing}
                fresh: list[QuotaReport] = []
                for report in group:
                    key = (utc(report.received_at), report.raw_text)
                    if skip_present and key in seen:
                        present += 1
                        placed.append(None)
                        continue
                    seen.add(key)
                    fresh.append(report)
                    placed.append(-1)
                fresh_count += len(fresh)
                plans.append((existing, fresh))
            ids = iter(await self._reserve_report_ids(db, fresh_count) if fresh_count else [])
            numbered: list[tuple[list[QuotaReport], list[QuotaReport]]] = [
                (existing, [_with_id(r, next(ids)) for r in fresh]) for existing, fresh in plans
            ]
            new_ids = iter([r.id for _, fresh in numbered for r in fresh])
            placed = [None if slot is None else next(new_ids) for slot in placed]
            await self._insert_reports(db, [r for _, fresh in numbered for r in fresh])
            work: list[tuple[list[QuotaReport], list[QuotaReport]]] = []
            for existing, fresh in numbered:
                if not fresh:
                    continue
                own = sorted([*existing, *fresh], key=lambda r: (r.received_at, r.id or 0))
                first = min(r.received_at for r in fresh) - CONTRADICTION_HORIZON
                last = max(r.received_at for r in fresh) + PREVIOUS_READING_HORIZON
                work.append((own, [r for r in own if first <= r.received_at <= last]))
            existing_ids = {r.id for existing, _ in numbered for r in existing}
            stored = await self._stored_symptoms(
                db, [r.id for _, targets in work for r in targets if r.id in existing_ids]
            )
            removed: list[tuple[object, ...]] = []
            added: list[tuple[object, ...]] = []
            for own, targets in work:
                self._symptom_changes(own, targets, stored, removed, added)
            await self._apply_symptom_changes(db, removed, added)
        return placed

    async def _people_reports(
        self, db: Session, groups: Sequence[Sequence[QuotaReport]]
    ) -> dict[tuple[str, str], list[QuotaReport]]:
        """Each group's person's stored reports that matter to the group (from a day before its first
        report to a day after its last), a few hundred people per query."""
        ranges: dict[tuple[str, str], tuple[dt.datetime, dt.datetime]] = {}
        for group in groups:
            person = (group[0].origin.platform, group[0].origin.user_id)
            lo = min(r.received_at for r in group) - CONTRADICTION_HORIZON - PREVIOUS_READING_HORIZON
            hi = max(r.received_at for r in group) + PREVIOUS_READING_HORIZON + CONTRADICTION_HORIZON
            old = ranges.get(person)
            ranges[person] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
        found: dict[tuple[str, str], list[QuotaReport]] = {}
        by_platform: dict[str, list[tuple[str, str]]] = {}
        for person in ranges:
            by_platform.setdefault(person[0], []).append(person)
        parts = [people[at : at + 300] for people in by_platform.values() for at in range(0, len(people), 300)]
        for part in parts:
            lo = min(ranges[p][0] for p in part)
            hi = max(ranges[p][1] for p in part)
            # The people as a joined list, not `user_id IN (...)`: PostgreSQL tests a long IN list
            # value by value on every row it reads, where a join hashes the list (or, on SQLite, looks
            # each person up in the (platform, user_id, received_at) index).
            people = ", ".join(["(?)"] * len(part))
            report_rows = await db.fetch(
                f"SELECT {', '.join('q.' + c for c in _REPORT_COLUMNS.split(', '))} FROM quota_reports q"
                f" JOIN (VALUES {people}) AS p ON q.user_id = p.column1"
                " WHERE q.platform = ? AND q.received_at >= ? AND q.received_at <= ? ORDER BY q.received_at, q.id",
                *(p[1] for p in part),
                part[0][0],
                self._time_in(lo),
                self._time_in(hi),
            )
            reading_rows = await self._readings_of(db, [int(r[0]) for r in report_rows])
            for report in self._build_reports(report_rows, reading_rows):
                person = (report.origin.platform, report.origin.user_id)
                start, end = ranges[person]
                if start <= report.received_at <= end:
                    found.setdefault(person, []).append(report)
        return found

    async def report_symptoms(self, report_id: int) -> frozenset[str]:
        async with self._read("read a report's symptoms") as db:
            rows = await db.fetch("SELECT symptom FROM report_symptoms WHERE report_id = ?", report_id)
        return frozenset(str(row[0]) for row in rows)

    async def count_reporters(
        self,
        tools: Sequence[str],
        symptom: str,
        since: dt.datetime,
        until: dt.datetime,
        exclude: tuple[str, str] | None = None,
    ) -> int:
        """Distinct people who reported `symptom` for any of `tools` (labels, as `tool_label` gives
        them) in the 5-minute buckets from `since`'s to `until`'s, leaving out the person `exclude`
        (platform, user id)."""
        if not tools:
            return 0
        # By bucket only, so the (tool, symptom, bucket, platform, user_id) index answers it alone:
        # the window is taken to whole 5-minute buckets.
        sql = (
            "SELECT COUNT(*) FROM (SELECT DISTINCT platform, user_id FROM report_symptoms"
            f" WHERE tool IN ({', '.join('?' * len(tools))}) AND symptom = ? AND bucket >= ? AND bucket <= ?"
        )
        args: list[object] = [*tools, symptom, bucket_of(since), bucket_of(until)]
        if exclude is not None:
            sql += " AND NOT (platform = ? AND user_id = ?)"
            args += list(exclude)
        sql += ") AS t"
        async with self._read("count reporters") as db:
            row = await db.fetchone(sql, *args)
        return 0 if row is None else int(row[0])

    # detection ---------------------------------------------------------------------------------
    async def first_report_at(self) -> dt.datetime | None:
        async with self._read("find the first report") as db:
            row = await db.fetchone("SELECT MIN(received_at) FROM quota_reports")
        return None if row is None or row[0] is None else self._time_out(row[0])

    async def sightings(self, since: dt.datetime, until: dt.datetime,
                        of: tuple[str, str] | None = None) -> Sequence[Sighting]:
        """Who showed which symptom of which tool in the buckets ending in (since, until]; each
        sighting is dated at the end of its bucket. `of` = (tool, symptom) reads only that pair's
        (an incident's chart), not every tool's during a storm."""
        sql = (
            "SELECT DISTINCT tool, symptom, platform, user_id, bucket FROM report_symptoms"
            " WHERE bucket > ? AND bucket <= ?"
        )
        params: tuple[object, ...] = (bucket_of(since), bucket_of(until))
        if of is not None:
            sql += " AND tool = ? AND symptom = ?"
            params += of
        async with self._read("read recent symptoms") as db:
            rows = await db.fetch(sql, *params)
        return [Sighting(str(r[0]), str(r[1]), (str(r[2]), str(r[3])), bucket_end(int(r[4]))) for r in rows]

    async def chunk_counts(self, queries: Sequence[ChunkQuery]) -> dict[ChunkQuery, int]:
        """Answer each `ChunkQuery` with one indexed count (boundaries are taken to the bucket)."""
        answers: dict[ChunkQuery, int] = {}
        async with self._read("count reporters per window") as db:
            for query in queries:
                whole = query.whole
                if whole < 1:
                    answers[query] = 0
                    continue
                per_chunk, rest = divmod(query.chunk, BUCKET)
                if rest or per_chunk < 1:
                    raise StoreError("detection windows must be whole multiples of 5 minutes")
                end = bucket_of(query.end)
                first = bucket_of(query.end - whole * query.chunk)
                row = await db.fetchone(
                    "SELECT COUNT(*) FROM (SELECT DISTINCT (? - bucket) / ?, platform, user_id"
                    " FROM report_symptoms WHERE tool = ? AND symptom = ? AND bucket > ? AND bucket <= ?) AS t",
                    end,
                    int(per_chunk),
                    query.tool,
                    query.symptom,
                    first,
                    end,
                )
                answers[query] = 0 if row is None else int(row[0])
        return answers

    async def people_per_period(
        self, since: dt.datetime, until: dt.datetime, period: dt.timedelta
    ) -> dict[tuple[str, int], int]:
        """Distinct people per symptom and period, grouped in SQL: a week of a busy tracker is a
        few hundred numbers here, not a row per person and bucket."""
        per_bucket, rest = divmod(period, BUCKET)
        if rest or per_bucket < 1:
            raise StoreError("chart periods must be whole multiples of 5 minutes")
        micros = dt.timedelta(microseconds=1)
        # A bucket ends at bucket * BUCKET after the epoch; its period is (end - since) // period.
        # Only buckets that end by `until` count, so the last one is the one ending at or before it.
        last = bucket_of(floor_to_bucket(until))
        async with self._read("count people per period") as db:
            rows = await db.fetch(
                "SELECT symptom, p, COUNT(*) FROM (SELECT symptom, (bucket * ? - ?) / ? AS p, platform, user_id"
                " FROM report_symptoms WHERE bucket > ? AND bucket <= ?"
                " GROUP BY symptom, p, platform, user_id) AS t GROUP BY symptom, p",
                BUCKET // micros,
                (utc(since) - _EPOCH) // micros,
                period // micros,
                bucket_of(since),
                last,
            )
        return {(str(row[0]), int(row[1])): int(row[2]) for row in rows}

    # tallies -----------------------------------------------------------------------------------
    async def tally(self, since: dt.datetime, until: dt.datetime) -> Tally:
        """`bot.core.tallies.tally` of the reports received in [since, until), counted in SQL.

        Each count groups by value and person first, then by value: reports are the sum, distinct
        reporters the number of groups. Both databases can hash that, where COUNT(DISTINCT ...)
        would sort every row.
        """
        lo, hi = self._time_in(since), self._time_in(until)
        span = "received_at >= ? AND received_at < ?"

        def by_person(value: str, source: str) -> str:
            return (
                f"SELECT k, SUM(n), COUNT(*) FROM (SELECT {value} AS k, platform, user_id, COUNT(*) AS n"
                f" FROM {source} WHERE {span} GROUP BY {value}, platform, user_id) AS t GROUP BY k"
            )

        def counts(rows: Sequence[Row]) -> dict[str, Count]:
            return {str(r[0]): Count(int(r[1]), int(r[2])) for r in rows}

        async with self._read("count quota reports") as db:
            total = await db.fetchone(
                "SELECT COALESCE(SUM(n), 0), COUNT(*) FROM (SELECT platform, user_id, COUNT(*) AS n"
                f" FROM quota_reports WHERE {span} GROUP BY platform, user_id) AS t",
                lo,
                hi,
            )
            symptoms = await db.fetch(by_person("symptom", "report_symptoms"), lo, hi)
            breakdowns: dict[str, dict[str, Count]] = {}
            for name, column, unknown in (
                ("tool", "tool", UNKNOWN_TOOL),
                ("plan", "plan", UNKNOWN),
                ("model_mode", "model_mode", UNKNOWN),
                ("version", "tool_version", UNKNOWN),
            ):
                value = f"COALESCE(NULLIF({column}, ''), '{unknown}')"
                breakdowns[name] = counts(await db.fetch(by_person(value, "quota_reports"), lo, hi))
            # Readings carry their report's time and person, so these read readings alone.
            window = "COALESCE(NULLIF(quota_window, ''), 'unknown')"
            windows = await db.fetch(
                "SELECT k, SUM(n), COUNT(*) FROM (SELECT k, platform, user_id, COUNT(*) AS n FROM"
                f" (SELECT DISTINCT {window} AS k, platform, user_id, report_id FROM report_readings"
                f" WHERE {span}) AS r GROUP BY k, platform, user_id) AS t GROUP BY k",
                lo,
                hi,
            )
            percents = await db.fetch(
                f"SELECT quota_window, percent, COUNT(*) FROM report_readings"
                f" WHERE {span} AND percent IS NOT NULL GROUP BY quota_window, percent",
                lo,
                hi,
            )
        return tally_from_counts(
            since,
            until,
            reports=0 if total is None else int(total[0]),
            reporters=0 if total is None else int(total[1]),
            symptoms=counts(symptoms),
            by_tool=breakdowns["tool"],
            by_plan=breakdowns["plan"],
            by_window=counts(windows),
            by_model_mode=breakdowns["model_mode"],
            by_version=breakdowns["version"],
            percents=[(str(r[0]), float(r[1]), int(r[2])) for r in percents],
        )

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
        return self._build_reports(report_rows, reading_rows)

    async def reports_page(
        self, since: dt.datetime, until: dt.datetime, after: tuple[dt.datetime, int] | None, limit: int
    ) -> Sequence[QuotaReport]:
        """Up to `limit` reports received in [since, until), by time and id, after `after` (the
        last one of the previous page): a whole history in bounded memory."""
        where = "received_at >= ? AND received_at < ?"
        args: list[object] = [self._time_in(since), self._time_in(until)]
        if after is not None:
            at = self._time_in(after[0])
            where += " AND (received_at > ? OR (received_at = ? AND id > ?))"
            args += [at, at, after[1]]
        async with self._read("read quota reports") as db:
            report_rows = await db.fetch(
                f"SELECT {_REPORT_COLUMNS} FROM quota_reports WHERE {where} ORDER BY received_at, id LIMIT ?",
                *args,
                limit,
            )
            reading_rows = await self._readings_of(db, [int(r[0]) for r in report_rows])
        return self._build_reports(report_rows, reading_rows)

    async def _readings_of(self, db: Session, ids: Sequence[int]) -> list[Row]:
        """The readings of these reports, found by their primary key (whatever the planner knows
        about the tables), ordered by report and position."""
        reading_rows: list[Row] = []
        for at_index in range(0, len(ids), 500):
            part = ids[at_index : at_index + 500]
            reading_rows += await db.fetch(
                "SELECT report_id, quota_window, percent, from_percent, limit_hit, resets, resets_at, idle"
                f" FROM report_readings WHERE report_id IN ({', '.join('?' * len(part))})"
                " ORDER BY report_id, seq",
                *part,
            )
        return reading_rows

    def _build_reports(self, report_rows: Sequence[Row], reading_rows: Sequence[Row]) -> list[QuotaReport]:
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
            thread_id=row[10],
            id=int(row[0]),
        )

    async def add_answer(self, answer: AnswerRecord) -> int:
        o = answer.origin
        async with self._write("store an answer") as db:
            return await db.insert(
                "INSERT INTO answers (platform, workspace_id, channel_id, user_id, answered_at, entry_id,"
                " score, catalog_version, paste, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                o.platform,
                o.workspace_id,
                o.channel_id,
                o.user_id,
                self._time_in(answer.answered_at),
                answer.entry_id,
                float(answer.score),
                answer.catalog_version,
                answer.paste,
                answer.thread_id,
            )

    async def answered_in_thread(self, platform: str, channel_id: str, thread_id: str) -> bool:
        async with self._read("look up a thread's answers") as db:
            row = await db.fetchone(
                "SELECT 1 FROM answers WHERE platform = ? AND channel_id = ? AND thread_id = ? LIMIT 1",
                platform, channel_id, thread_id)
        return row is not None

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

    async def top_answers(self, since: dt.datetime, until: dt.datetime, limit: int) -> Sequence[tuple[str, int]]:
        async with self._read("count answers") as db:
            rows = await db.fetch(
                "SELECT entry_id, COUNT(*) AS n FROM answers WHERE answered_at >= ? AND answered_at < ?"
                " GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT ?",
                self._time_in(since),
                self._time_in(until),
                limit,
            )
        return [(str(row[0]), int(row[1])) for row in rows]

    async def unmatched_between(
        self, since: dt.datetime, until: dt.datetime, newest: int | None = None
    ) -> Sequence[UnmatchedPaste]:
        span: tuple[object, ...] = (self._time_in(since), self._time_in(until))
        sql = f"SELECT {_UNMATCHED_COLUMNS} FROM unmatched_pastes WHERE seen_at >= ? AND seen_at < ?"
        async with self._read("read unmatched pastes") as db:
            if newest is None:
                rows = list(await db.fetch(sql + " ORDER BY seen_at, id", *span))
            else:
                rows = list(await db.fetch(sql + " ORDER BY seen_at DESC, id DESC LIMIT ?", *span, max(0, newest)))
                rows.reverse()
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

    async def open_incident(self, incident: Incident) -> int | None:
        """Open an incident; None when one for the same tool and symptom is already open or
        acknowledged. A unique index decides, so processes sharing the database agree."""
        status = IncidentStatus(incident.status)
        opened = self._time_in(incident.opened_at)
        async with self._write("open an incident") as db:
            row = await db.fetchone(
                "INSERT INTO incidents (tool, symptom, opened_at, status, summary, reporters, baseline,"
                " entry_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (tool, symptom) WHERE status IN ('open', 'acknowledged') DO NOTHING RETURNING id",
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
            if row is None:
                return None
            incident_id = int(row[0])
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

    async def incidents_during(self, since: dt.datetime, until: dt.datetime) -> Sequence[Incident]:
        """Incidents that overlap [since, until], newest first: opened by `until` and either still
        open or changed since `since`. Bounded by the window, not by every incident ever kept."""
        sql = (
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE opened_at <= ? AND"
            " (status IN ('open', 'acknowledged') OR updated_at >= ?)"
            " ORDER BY opened_at DESC, id DESC"
        )
        async with self._read("list incidents") as db:
            rows = await db.fetch(sql, self._time_in(until), self._time_in(since))
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
