"""Platform-neutral value types shared by the core, the store and the adapters.

Everything here is a frozen dataclass: adapters build `Incoming` from a platform event, the service
answers with `Reply` objects, and the store persists the record types at the bottom.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.charts import ChartData

# ---------------------------------------------------------------------------------------------
# What arrives from a chat front end


class Command(StrEnum):
    """What a person asked for. `MESSAGE` is a plain channel message (maybe a pasted error)."""

    MESSAGE = "message"
    ERRFIX = "errfix"
    QUOTA = "quota"
    INCIDENTS = "incidents"
    HELP = "help"
    RELOAD = "reload"
    # Button presses and menu picks: `Incoming.text` carries the action's value.
    MORE = "more"
    SHOW_ENTRY = "show_entry"
    SHARE = "share"
    FEEDBACK = "feedback"
    ESCALATE = "escalate"
    ACK_INCIDENT = "ack_incident"
    RESOLVE_INCIDENT = "resolve_incident"
    CHANNEL_MODE = "channel_mode"
    # "Look up this error" on a message: its text is an error to look up, never a command; answered privately.
    LOOK_UP = "look_up"


class ChannelMode(StrEnum):
    AUTO = "auto"  # answer every confident paste
    MENTION = "mention"  # answer only when the bot is mentioned
    OFF = "off"  # never answer pastes (commands still work)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did, already stripped of platform markup by the adapter."""

    platform: str  # "slack" | "discord" | "console" | "cli"
    channel_id: str  # a thread's parent channel: modes and watch lists apply to it
    user_id: str
    text: str
    command: Command = Command.MESSAGE
    channel_name: str = ""  # where the platform gives it cheaply (watch lists may name channels)
    workspace_id: str = ""  # Slack team id, Discord guild id
    message_id: str | None = None  # Slack ts, Discord message id
    thread_id: str | None = None  # the thread this message sits in, if any
    user_name: str = ""
    is_direct: bool = False
    mentioned: bool = False  # the bot was addressed directly
    platform_staff: bool = False  # the platform itself grants staff (role, permission, user group)
    # It came from a place with no public way back (a private message with nothing to answer it
    # through): every reply stays private, even a Share or an Escalate.
    private_only: bool = False
    received_at: dt.datetime | None = None


# ---------------------------------------------------------------------------------------------
# What the core answers with


class ReplyKind(StrEnum):
    ANSWER = "answer"  # a confident catalog match
    NOT_RECOGNISED = "not_recognised"  # looked like an error, nothing confident
    ENTRY = "entry"  # an entry shown on request (/errfix id, "More", alternates)
    READING = "reading"  # a quota report was understood and stored
    HELP = "help"
    STAFF = "staff"  # tallies and incidents
    NOTICE = "notice"  # short confirmations and explanations
    REFUSAL = "refusal"  # not allowed (staff-only) or rate limited
    ALERT = "alert"  # an incident opened: for the staff channel


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    items: tuple[str, ...]
    numbered: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Action:
    """A button or menu item. The adapter sends `command` and `value` back as an `Incoming`."""

    command: Command
    label: str
    value: str
    style: str = ""  # "primary" | "danger" | ""


@dataclass(frozen=True, slots=True)
class Reply:
    kind: ReplyKind
    title: str
    summary: str = ""
    sections: tuple[Section, ...] = ()
    more: tuple[Section, ...] = ()  # shown behind a "More" button where the platform has buttons
    links: tuple[Link, ...] = ()
    footer: str = ""  # why it matched, or a hint
    actions: tuple[Action, ...] = ()
    private: bool = False  # ephemeral where the platform allows it
    entry_id: str | None = None
    answer_id: int | None = None  # store id of the answer, for feedback buttons
    incident_id: int | None = None
    # Pastes from one person within a short time share one key; an adapter that already posted a
    # reply under this key edits it in place instead of posting again.
    merge_key: str | None = None
    ping_staff: bool = False  # the adapter adds its staff mention (Slack user group, Discord role)
    # A picture for the reply (staff view, incident alert): the adapter draws it off the event loop and
    # attaches the PNG, or shows its text sparkline where it cannot.
    chart: ChartData | None = None


# ---------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True, slots=True)
class Candidate:
    entry_id: str
    score: float  # 0-100
    fragment: str  # the part of the paste that matched best
    reason: str  # which kind of evidence decided: pattern, literal, example, keywords


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The matcher's decision. `best` is None when nothing is confident enough for a channel."""

    best: Candidate | None
    candidates: tuple[Candidate, ...]  # best first, confident or not
    looks_like_error: bool

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


# ---------------------------------------------------------------------------------------------
# Quota readings


@dataclass(frozen=True, slots=True)
class Reading:
    window: str  # session | weekly | weekly-<model> | daily | monthly | unknown
    percent: float | None
    from_percent: float | None
    limit_hit: bool
    resets: str | None
    idle: bool | None
    resets_at: dt.datetime | None = None  # absolute UTC time when the text allows it

    def as_contract(self) -> dict[str, object]:
        return {
            "window": self.window,
            "percent": self.percent,
            "from_percent": self.from_percent,
            "limit_hit": self.limit_hit,
            "resets": self.resets,
            "idle": self.idle,
        }


@dataclass(frozen=True, slots=True)
class ParsedReadings:
    tool: str | None
    plan: str | None
    model_mode: str | None
    version: str | None
    readings: tuple[Reading, ...]

    def as_contract(self, line_id: object = None) -> dict[str, object]:
        return {
            "id": line_id,
            "tool": self.tool,
            "plan": self.plan,
            "model_mode": self.model_mode,
            "readings": [r.as_contract() for r in self.readings],
        }


# ---------------------------------------------------------------------------------------------
# What the store keeps


@dataclass(frozen=True, slots=True)
class Origin:
    """Where and from whom something came."""

    platform: str
    workspace_id: str
    channel_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class QuotaReport:
    origin: Origin
    received_at: dt.datetime  # UTC
    raw_text: str  # masked
    parsed: ParsedReadings
    fingerprint: str  # same person + same reading -> same fingerprint (duplicate detection)
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What an import did: reports stored, and reports skipped because they were already there."""

    stored: int = 0
    present: int = 0


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    origin: Origin
    answered_at: dt.datetime
    entry_id: str
    score: float
    catalog_version: str
    paste: str  # masked
    thread_id: str | None = None  # where a paste's answer went (its thread, or the message that starts one)
    id: int | None = None


@dataclass(frozen=True, slots=True)
class UnmatchedPaste:
    origin: Origin
    seen_at: dt.datetime
    paste: str  # masked
    best_entry_id: str | None
    best_score: float
    reason: str = "unmatched"  # "unmatched" | "wrong_error" (a person said the answer was wrong)
    id: int | None = None


class Verdict(StrEnum):
    FIXED = "fixed"
    NOT_HELPED = "not_helped"
    WRONG = "wrong"


class IncidentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Incident:
    tool: str
    symptom: str  # kind of symptom, e.g. "limit_hit", "idle_jump", "contradiction", "report"
    opened_at: dt.datetime
    status: IncidentStatus
    summary: str
    reporters: int  # distinct reporters in the window that opened it
    baseline: float
    entry_id: str | None = None
    id: int | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    incident_id: int
    status: IncidentStatus
    actor: str  # "detector" or "platform:user"
    at: dt.datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    entry_id: str
    fixed: int = 0
    not_helped: int = 0
    wrong: int = 0

    @property
    def total(self) -> int:
        return self.fixed + self.not_helped + self.wrong

    @property
    def fix_rate(self) -> float | None:
        return self.fixed / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    reports: int = 0
    answers: int = 0
    unmatched: int = 0
    feedback: int = 0
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HomePage:
    """A person's own page (Slack's App Home): the staff overview or the refusal, the help, and what a
    button pressed there last answered."""

    overview: Reply
    help: Reply
    notice: Reply | None = None
