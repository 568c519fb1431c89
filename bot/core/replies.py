"""Build platform-neutral replies; adapters decide how they look (Block Kit, embeds, terminal).

Text uses a small markdown subset every front end can show: `*bold*` is avoided, headings are plain
lines, lists are "- " or "1. " items, code is in backticks.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.catalog import Catalog, Entry
from bot.core.charts import ChartData, text_chart
from bot.core.gaps import GapCluster
from bot.core.models import (
    Action,
    Candidate,
    Command,
    FeedbackSummary,
    Incident,
    IncidentStatus,
    Link,
    Reply,
    ReplyKind,
    Section,
    Verdict,
)

QUOTA_CATEGORIES = frozenset({"quota-rate", "billing-tracking"})


def entry_sections(entry: Entry) -> tuple[Section, ...]:
    """What a channel sees at once: meaning, causes and fixes."""
    return (
        Section("What it means", (entry.meaning,)),
        Section("Common causes", entry.causes),
        Section("Quick fixes", entry.fixes),
    )


def entry_more(entry: Entry, catalog: Catalog) -> tuple[Section, ...]:
    """What sits behind "More": the rest of the page."""
    sections = [
        Section("Why it happens", (entry.why,)),
        Section(f"{entry.tool} checks", entry.checks),
        Section("Step by step", entry.steps, numbered=True),
        Section("How to prevent it", entry.prevention),
        Section("FAQ", tuple(f"{item.question} — {item.answer}" for item in entry.faq)),
    ]
    related = related_lines(entry, catalog)
    if related:
        sections.append(Section("Related errors", related))
    sections.append(Section("Evidence", (entry.evidence.note,)))
    return tuple(sections)


def related_lines(entry: Entry, catalog: Catalog) -> tuple[str, ...]:
    lines = []
    for related_id in entry.related:
        other = catalog.get(related_id)
        if other is not None:
            lines.append(f"{other.title} (`{other.id}`)")
    return tuple(lines)


def evidence_links(entry: Entry) -> tuple[Link, ...]:
    return tuple(Link(_link_label(url), url) for url in entry.evidence.urls)


def _link_label(url: str) -> str:
    parts = url.rstrip("/").split("/")
    if "github.com" in url and len(parts) >= 7 and parts[-2] in ("issues", "pull", "discussions"):
        return f"{parts[3]}/{parts[4]}#{parts[-1]}"
    return parts[2] if len(parts) > 2 else url


def why_matched(candidate: Candidate) -> str:
    how = {
        "pattern": "matched the error's wording",
        "signature": "matched the known error text",
        "variant": "matched a known form of the error",
        "keywords": "matched the key words",
    }.get(candidate.reason, "matched")
    return f"Why this answer: {how} “{candidate.fragment}” (score {candidate.score:.0f}/100)."


def answer_actions(entry: Entry, answer_id: int | None) -> tuple[Action, ...]:
    actions = [Action(Command.MORE, "More", entry.id)]
    if answer_id is not None:
        actions += [
            Action(Command.FEEDBACK, "Fixed it", f"{answer_id}:{Verdict.FIXED.value}", "primary"),
            Action(Command.FEEDBACK, "Didn't help", f"{answer_id}:{Verdict.NOT_HELPED.value}"),
            Action(Command.FEEDBACK, "Wrong error", f"{answer_id}:{Verdict.WRONG.value}", "danger"),
            Action(Command.ESCALATE, "Escalate", str(answer_id)),
        ]
    return tuple(actions)


GAPS_SHOWN = 5
TOP_ANSWERS_SHOWN = 5  # entries in "Most answered, last 7 days"


def entry_summary(entry: Entry) -> str:
    """The quick fix; for a retired entry, first that it no longer applies to current versions."""
    quick = f"Quick fix: {entry.quick_fix}"
    if not entry.retired:
        return quick
    versions = f" (it applied to {', '.join(entry.applies_to)})" if entry.applies_to else ""
    return (f"⚠ This entry no longer applies to current versions of {entry.tool}{versions}: "
            f"updating is usually the fix. What it said then — {quick}")


def reply_for_match(
    entry: Entry,
    candidate: Candidate,
    catalog: Catalog,
    *,
    answer_id: int | None = None,
    alternates: Sequence[Candidate] = (),
    extra: Sequence[Section] = (),
    private: bool = False,
    merge_key: str | None = None,
) -> Reply:
    """A confident answer to a pasted error."""
    sections = list(entry_sections(entry))
    sections.extend(extra)
    alt_lines = _alternate_lines(alternates, catalog)
    if alt_lines:
        sections.append(Section("Could also be", alt_lines))
    actions = list(answer_actions(entry, answer_id))
    actions += [Action(Command.SHOW_ENTRY, button_label(catalog, c.entry_id), c.entry_id) for c in alternates]
    return Reply(
        kind=ReplyKind.ANSWER,
        title=entry.title,
        summary=entry_summary(entry),
        sections=tuple(sections),
        more=entry_more(entry, catalog),
        links=evidence_links(entry),
        footer=why_matched(candidate),
        actions=tuple(actions),
        private=private,
        entry_id=entry.id,
        answer_id=answer_id,
        merge_key=merge_key,
    )


def reply_for_entry(entry: Entry, catalog: Catalog, *, private: bool = True, full: bool = False) -> Reply:
    """An entry shown on request (/errfix by id, an alternate button, "Share in channel")."""
    return Reply(
        kind=ReplyKind.ENTRY,
        title=entry.title,
        summary=entry_summary(entry),
        sections=entry_sections(entry) + (entry_more(entry, catalog) if full else ()),
        more=() if full else entry_more(entry, catalog),
        links=evidence_links(entry),
        footer=f"Catalog entry `{entry.id}` · {entry.tool} · {entry.category} · updated {entry.updated.isoformat()}",
        actions=() if full or not private else (Action(Command.MORE, "More", entry.id),
                                                 Action(Command.SHARE, "Share in channel", entry.id)),
        private=private,
        entry_id=entry.id,
    )


def reply_for_more(entry: Entry, catalog: Catalog) -> Reply:
    return Reply(
        kind=ReplyKind.ENTRY,
        title=f"More on: {entry.title}",
        sections=entry_more(entry, catalog),
        links=evidence_links(entry),
        private=True,
        entry_id=entry.id,
    )


def not_recognised(candidates: Sequence[Candidate], catalog: Catalog, *, private: bool = False) -> Reply:
    """No confident match: never guess, but show the closest entries so a person can pick."""
    lines = _alternate_lines(candidates, catalog)
    sections = (Section("Closest entries", lines),) if lines else ()
    return Reply(
        kind=ReplyKind.NOT_RECOGNISED,
        title="I don't recognise this error yet",
        summary=(
            "Nothing in the catalog matches it confidently. Try pasting the exact error line, "
            "or look it up with `/errfix` and a few words."
        ),
        sections=sections,
        actions=tuple(Action(Command.SHOW_ENTRY, button_label(catalog, c.entry_id), c.entry_id) for c in candidates),
        private=private,
    )


def _alternate_lines(candidates: Sequence[Candidate], catalog: Catalog) -> tuple[str, ...]:
    lines = []
    for candidate in candidates:
        entry = catalog.get(candidate.entry_id)
        if entry is not None:
            lines.append(f"{entry.title} (`{entry.id}`, score {candidate.score:.0f})")
    return tuple(lines)


def button_label(catalog: Catalog, entry_id: str) -> str:
    entry = catalog.get(entry_id)
    title = entry.title if entry else entry_id
    return title if len(title) <= 70 else title[:69] + "…"


def notice(title: str, summary: str = "", *, private: bool = True, kind: ReplyKind = ReplyKind.NOTICE,
           sections: tuple[Section, ...] = ()) -> Reply:
    return Reply(kind=kind, title=title, summary=summary, sections=sections, private=private)


HELP_SECTIONS = (
    Section(
        "Commands",
        (
            "`/errfix TEXT` — look up an error (paste it) or a catalog entry id or title",
            "`/quota TEXT` — report a usage-quota reading, e.g. `session 64% -> 100% with nothing running`",
            "`/incidents` — tallies and open incidents (support staff only)",
            "`/errfix help` — this help",
            "`/errfix mode auto|mention|off` — how I answer pastes in this channel (support staff only)",
            "`/errfix reload` — reload the catalog (support staff only)",
        ),
    ),
    Section(
        "Pasting errors",
        (
            "Paste an error from Claude Code, Codex CLI, Gemini CLI, Copilot, Cursor, Aider, Cline, Continue, "
            "OpenCode, Kiro, Qwen Code, Warp, Kilo Code or Google Antigravity and I answer with what it means "
            "and how to fix it.",
            "Secrets in a paste (API keys, tokens, passwords, e-mail addresses) are masked before anything is stored.",
        ),
    ),
)


def help_reply(catalog_size: int) -> Reply:
    return Reply(
        kind=ReplyKind.HELP,
        title="supportbot: help for AI coding tool errors",
        summary=f"I know {catalog_size} error signatures.",
        sections=HELP_SECTIONS,
        private=True,
    )


QUOTA_EXAMPLES = (
    "`/quota session 64% -> 100% overnight, nothing running`",
    "`/quota You've hit your session limit · resets 5pm (Europe/Paris)`",
    "`/quota weekly at 80%, session 12%, Max 5x`",
    "or paste your whole `/usage` screen or Codex `/status` card",
)


def render_text(reply: Reply, *, include_more: bool = False) -> str:
    """The plain-text form: the fallback every platform needs, and the terminal's output."""
    lines = [reply.title]
    if reply.summary:
        lines.append(reply.summary)
    for section in (*reply.sections, *(reply.more if include_more else ())):
        lines.append("")
        lines.append(section.heading)
        for number, item in enumerate(section.items, start=1):
            lines.append(f"{number}. {item}" if section.numbered else f"- {item}")
    if reply.chart is not None:
        lines.append("")
        lines.extend(text_chart(reply.chart))
    if reply.links:
        lines.append("")
        lines.append("Sources: " + " · ".join(link.url for link in reply.links))
    if reply.footer:
        lines.append("")
        lines.append(reply.footer)
    return "\n".join(lines)


def related_lines_for(entry_ids: Sequence[str], catalog: Catalog) -> tuple[str, ...]:
    lines = []
    for entry_id in dict.fromkeys(entry_ids):
        entry = catalog.get(entry_id)
        if entry is not None:
            lines.append(f"{entry.title} (`{entry.id}`)")
    return tuple(lines)


def incident_alert(incident: Incident, catalog: Catalog) -> Reply:
    """What staff see in their alert channel when detection opens an incident."""
    entry = catalog.get(incident.entry_id) if incident.entry_id else None
    lines = [
        f"{incident.reporters} distinct people reported `{incident.symptom}` for {incident.tool} "
        f"(usual for this hour: {incident.baseline:.1f}).",
        f"Opened {incident.opened_at:%Y-%m-%d %H:%M} UTC.",
    ]
    if entry is not None:
        lines.append(f"Catalog entry: {entry.title} (`{entry.id}`)")
    actions: tuple[Action, ...] = ()
    if incident.id is not None:
        actions = (
            Action(Command.ACK_INCIDENT, "Acknowledge", str(incident.id), "primary"),
            Action(Command.RESOLVE_INCIDENT, "Resolve", str(incident.id)),
        )
    return Reply(
        kind=ReplyKind.ALERT,
        title=f"Incident #{incident.id}: {incident.summary}",
        sections=(Section("What we see", tuple(lines)),),
        actions=actions,
        incident_id=incident.id,
        entry_id=incident.entry_id,
    )


def staff_reply(
    tally_lines: Sequence[str],
    incidents: Sequence[Incident],
    gaps: Sequence[GapCluster],
    top_answers: Sequence[tuple[str, int]],
    feedback: Sequence[FeedbackSummary],
    catalog: Catalog,
    chart: ChartData | None = None,
) -> Reply:
    """The staff view: tallies, open incidents, catalog gaps, most frequent answers (entry id and
    count, most first, as `IncidentStore.top_answers` gives them) and fix rates."""
    sections = [Section("Quota reports, last 24 h", tuple(tally_lines) or ("No reports.",))]
    if incidents:
        sections.append(Section("Open incidents", tuple(
            f"#{i.id} [{i.status.value}] {i.summary} — {i.reporters} reporters, opened {i.opened_at:%b %d %H:%M} UTC"
            for i in incidents)))
    else:
        sections.append(Section("Open incidents", ("None.",)))
    if top_answers:
        sections.append(Section("Most answered, last 7 days",
                                tuple(f"`{k}`: {v}" for k, v in top_answers[:TOP_ANSWERS_SHOWN])))
    if gaps:
        sections.append(Section("Catalog gaps: unmatched error pastes by template, last 7 days", (
            *(cluster.summary_line() for cluster in gaps[:GAPS_SHOWN]),
            "`supportbot gaps` lists them all; `supportbot catalog draft ID` drafts an entry.")))
    rated = [f for f in feedback if f.total]
    if rated:
        rated.sort(key=lambda f: (f.fix_rate or 0.0, -f.total))
        sections.append(Section("Fix rate per entry (lowest first)", tuple(
            f"`{f.entry_id}`: {100 * (f.fix_rate or 0):.0f}% fixed of {f.total} "
            f"({f.not_helped} didn't help, {f.wrong} wrong error)" for f in rated[:8])))
    actions = tuple(
        action
        for incident in incidents
        if incident.id is not None
        for action in (
            *((Action(Command.ACK_INCIDENT, f"Ack #{incident.id}", str(incident.id), "primary"),)
              if incident.status is IncidentStatus.OPEN else ()),
            Action(Command.RESOLVE_INCIDENT, f"Resolve #{incident.id}", str(incident.id)),
        )
    )
    return Reply(kind=ReplyKind.STAFF, title="Support overview", sections=tuple(sections),
                 actions=actions[:10], private=True, chart=chart)


def too_slow() -> Reply:
    """A text whose reading ran past its deadline (or one of too many from one sender at once)."""
    return notice("That took too long to read",
                  "Nothing was stored. Please send a shorter excerpt: the error lines themselves.")
