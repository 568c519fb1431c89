"""The interfaces the core needs from the outside world.

`IncidentStore` is implemented in `bot.storage`; `ChatPort` by each chat adapter (Slack, Discord, the
terminal) for the one message or command being handled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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
    Reply,
    UnmatchedPaste,
    Verdict,
)
from bot.core.tallies import Tally

# ---------------------------------------------------------------------------------------------
# Chat platforms


@dataclass(frozen=True, slots=True)
class Posted:
    """A message the bot posted, so it can be edited in place later."""

    channel_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ThreadAuthors:
    """Who wrote in the thread of a message, before that message (bots left out).

    Whether the bot itself already answered there is the store's to say (`answered_in_thread`).
    """

    opener: str | None = None  # the person who started the thread: asking, not helping
    people: frozenset[str] = frozenset()  # every person who wrote there, the opener included


class ChatPort(Protocol):
    """The conversation one message or command came from, as the core sees it.

    Each adapter implements it for the platform's own calls. A call the platform refuses or fails
    raises `bot.core.errors.DeliveryError`, never the SDK's own exception.
    """

    async def react(self) -> None:
        """Mark the message as being looked at (👀)."""
        ...

    async def unreact(self) -> None:
        """Take that mark back."""
        ...

    async def thread_authors(self) -> ThreadAuthors:
        """Who wrote in the message's thread before it (asked of the platform, so it survives restarts)."""
        ...

    async def channel_name(self) -> str:
        """The channel's name, asked only when a watch list names channels and the id is not on it."""
        ...

    async def post(self, reply: Reply) -> Posted | None:
        """Answer the message: in its thread, or only to its author when `reply.private`."""
        ...

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace an earlier answer with `reply`."""
        ...

    async def is_staff(self) -> bool:
        """Whether the platform itself makes the author staff (a user group, a role, a permission)."""
        ...


class PlainPort:
    """A conversation with no receipts, threads, names or staff of its own (the terminal, a collector,
    an interaction): the `ChatPort` calls that do nothing there, for a port to take over."""

    async def react(self) -> None:
        return None

    async def unreact(self) -> None:
        return None

    async def thread_authors(self) -> ThreadAuthors:
        return ThreadAuthors()

    async def channel_name(self) -> str:
        return ""

    async def is_staff(self) -> bool:
        return False


AlertSink = Callable[[Reply], Awaitable[None]]


class AlertRelay:
    """One alert sink per front end, registered once by the runner, pointing at its live connection.

    A front end that reconnects sets `target` again instead of registering a second sink, so an alert
    is never sent twice, and one that stops clears it.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.target: AlertSink | None = None

    async def __call__(self, reply: Reply) -> None:
        if self.target is not None:
            await self.target(reply)

    def attach(self, sink: AlertSink) -> None:
        self.target = sink

    def detach(self, sink: AlertSink) -> None:
        """Clear the target, unless another connection has taken it over since."""
        if self.target == sink:
            self.target = None


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
    counts with indexed queries. `reports_between` and `reports_page` load rows: for exports only.
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

    async def sightings(self, since: dt.datetime, until: dt.datetime,
                        of: tuple[str, str] | None = None) -> Sequence[Sighting]: ...

    async def chunk_counts(self, queries: Sequence[ChunkQuery]) -> dict[ChunkQuery, int]: ...

    async def people_per_period(
        self, since: dt.datetime, until: dt.datetime, period: dt.timedelta
    ) -> dict[tuple[str, int], int]:
        """Distinct people per symptom and period, counted in the database: keys are (symptom, n)
        for the n-th `period` from `since` (a whole number of 5-minute buckets), a 5-minute bucket
        counting in the period that holds its end; only buckets ending in (since, until]."""
        ...

    # answers, unmatched pastes, feedback ----------------------------------------------------
    async def add_answer(self, answer: AnswerRecord) -> int: ...

    async def answered_in_thread(self, platform: str, channel_id: str, thread_id: str) -> bool:
        """Whether a paste's answer went to this thread (`AnswerRecord.thread_id`)."""
        ...

    async def get_answer(self, answer_id: int) -> AnswerRecord | None: ...

    async def add_unmatched(self, paste: UnmatchedPaste) -> int: ...

    async def answers_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[AnswerRecord]: ...

    async def top_answers(self, since: dt.datetime, until: dt.datetime, limit: int) -> Sequence[tuple[str, int]]:
        """The `limit` catalog entries answered most often in [since, until), with their counts,
        most first (ties by entry id); counted in the database."""
        ...

    async def unmatched_between(
        self, since: dt.datetime, until: dt.datetime, newest: int | None = None
    ) -> Sequence[UnmatchedPaste]:
        """Unmatched pastes seen in [since, until), oldest first; only the newest `newest` when given."""
        ...

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
    async def incidents_during(self, since: dt.datetime, until: dt.datetime) -> Sequence[Incident]: ...

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
