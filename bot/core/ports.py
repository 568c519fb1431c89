"""The interfaces the core needs from the outside world.

`IncidentStore` is implemented in `bot.storage`; `ChatPort` by each chat adapter (Slack, Discord, the
terminal) for the one message or command being handled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.models import (
    AnswerRecord,
    FeedbackSummary,
    Incident,
    IncidentEvent,
    IncidentStatus,
    PurgeCounts,
    QuotaReport,
    Reply,
    UnmatchedPaste,
    Verdict,
)

# ---------------------------------------------------------------------------------------------
# Chat platforms


@dataclass(frozen=True, slots=True)
class Posted:
    """A message the bot posted, so it can be edited in place later."""

    channel_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ThreadAuthors:
    """Who wrote in the thread of a message, before that message (bots other than this one left out)."""

    opener: str | None = None  # the person who started the thread: asking, not helping
    people: frozenset[str] = frozenset()  # every person who wrote there, the opener included
    bot_replied: bool = False  # this bot already answered in the thread


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

    async def post(self, reply: Reply) -> Posted | None:
        """Answer the message: in its thread, or only to its author when `reply.private`."""
        ...

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace an earlier answer with `reply`."""
        ...

    async def is_staff(self) -> bool:
        """Whether the platform itself makes the author staff (a user group, a role, a permission)."""
        ...


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
    """

    # quota reports ---------------------------------------------------------------------------
    async def add_report(self, report: QuotaReport) -> int: ...

    async def find_duplicate(
        self, platform: str, user_id: str, fingerprint: str, since: dt.datetime
    ) -> int | None: ...

    async def count_reports_by(self, platform: str, user_id: str, since: dt.datetime) -> int: ...

    async def reports_between(self, since: dt.datetime, until: dt.datetime) -> Sequence[QuotaReport]: ...

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
    async def open_incident(self, incident: Incident) -> int: ...

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
