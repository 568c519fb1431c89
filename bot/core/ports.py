"""The interfaces the core needs from the outside world; implementations live in `bot.storage`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from bot.core.detection import ChunkQuery, Sighting
from bot.core.models import (
    AnswerRecord,
    FeedbackSummary,
    ImportCounts,
    Incident,
    IncidentEvent,
    IncidentStatus,
    PurgeCounts,
    QuotaReport,
    UnmatchedPaste,
    Verdict,
)
from bot.core.tallies import Tally


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class IncidentStore(Protocol):
    """Persistence for quota reports, answers, feedback and incidents.

    Every write is committed before the coroutine returns: once a caller has been told that a
    report is stored, a crash cannot lose it.

    Nothing a single report or a detection run needs grows with the stored history: the store
    keeps, per report, the symptoms it shows (by tool, 5-minute bucket and person), and answers
    counts with indexed queries. `reports_between` loads rows and is for exports and charts only.
    """

    # quota reports ---------------------------------------------------------------------------
    async def add_report(self, report: QuotaReport) -> int:
        """Store a report (and work out its symptoms, and its neighbours' that it changes)."""
        ...

    async def import_reports(self, reports: Sequence[QuotaReport]) -> ImportCounts:
        """Store reports with their own times, skipping those already present (same platform,
        person, `received_at` and text)."""
        ...

    async def find_duplicate(
        self, platform: str, user_id: str, fingerprint: str, since: dt.datetime
    ) -> int | None: ...

    async def count_reports_by(self, platform: str, user_id: str, since: dt.datetime) -> int: ...

    async def report_symptoms(self, report_id: int) -> frozenset[str]: ...

    async def count_reporters(
        self,
        tools: Sequence[str],
        symptom: str,
        since: dt.datetime,
        until: dt.datetime,
        exclude: tuple[str, str] | None = None,
    ) -> int:
        """Distinct people reporting `symptom` for any of `tools` (tool labels) in [since, until)."""
        ...

    async def tally(self, since: dt.datetime, until: dt.datetime) -> Tally: ...

    async def reports_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[QuotaReport]: ...

    async def reports_page(
        self, since: dt.datetime, until: dt.datetime, after: tuple[dt.datetime, int] | None, limit: int
    ) -> Sequence[QuotaReport]: ...

    # detection -----------------------------------------------------------------------------------
    async def first_report_at(self) -> dt.datetime | None: ...

    async def sightings(self, since: dt.datetime, until: dt.datetime) -> Sequence[Sighting]: ...

    async def chunk_counts(self, queries: Sequence[ChunkQuery]) -> dict[ChunkQuery, int]: ...

    # answers, unmatched pastes, feedback ----------------------------------------------------
    async def add_answer(self, answer: AnswerRecord) -> int: ...

    async def get_answer(self, answer_id: int) -> AnswerRecord | None: ...

    async def add_unmatched(self, paste: UnmatchedPaste) -> int: ...

    async def answers_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[AnswerRecord]: ...

    async def unmatched_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[UnmatchedPaste]: ...

    async def set_feedback(
        self, answer_id: int, platform: str, user_id: str, verdict: Verdict, at: dt.datetime
    ) -> None:
        """Record a person's verdict on an answer; a later verdict by the same person replaces it."""
        ...

    async def feedback_summary(self) -> Sequence[FeedbackSummary]: ...

    # incidents ---------------------------------------------------------------------------------
    async def open_incident(self, incident: Incident) -> int | None:
        """The new incident's id; None when one for the same tool and symptom is still open or
        acknowledged (the database decides, across processes)."""
        ...

    async def get_incident(self, incident_id: int) -> Incident | None: ...

    async def list_incidents(self, statuses: Sequence[IncidentStatus] | None = None) -> Sequence[Incident]: ...

    async def transition_incident(
        self, incident_id: int, status: IncidentStatus, actor: str, at: dt.datetime, note: str = ""
    ) -> Incident: ...

    async def incident_events(self, incident_id: int) -> Sequence[IncidentEvent]: ...

    # settings (per-channel modes and the like) -------------------------------------------------
    async def get_setting(self, key: str) -> str | None: ...

    async def set_setting(self, key: str, value: str) -> None: ...

    # data care -----------------------------------------------------------------------------------
    async def purge_older_than(self, cutoff: dt.datetime) -> PurgeCounts: ...

    async def forget_user(self, user_id: str, platform: str | None = None) -> PurgeCounts: ...

    # lifetime ------------------------------------------------------------------------------------
    async def ping(self) -> None:
        """Raise `StoreError` if the database cannot be reached."""
        ...

    async def close(self) -> None: ...
