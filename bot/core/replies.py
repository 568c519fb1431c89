"""Build platform-neutral replies; adapters decide how they look (Block Kit, embeds, terminal).

Text uses a small markdown subset every front end can show: `*bold*` is avoided, headings are plain
lines, lists are "- " or "1. " items, code is in backticks.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.catalog import Catalog, Entry
from bot.core.models import Action, Candidate, Command, Link, Reply, ReplyKind, Section, Verdict

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
    actions += [Action(Command.SHOW_ENTRY, _button_label(catalog, c.entry_id), c.entry_id) for c in alternates]
    return Reply(
        kind=ReplyKind.ANSWER,
        title=entry.title,
        summary=f"Quick fix: {entry.quick_fix}",
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
        summary=f"Quick fix: {entry.quick_fix}",
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
        actions=tuple(Action(Command.SHOW_ENTRY, _button_label(catalog, c.entry_id), c.entry_id) for c in candidates),
        private=private,
    )


def _alternate_lines(candidates: Sequence[Candidate], catalog: Catalog) -> tuple[str, ...]:
    lines = []
    for candidate in candidates:
        entry = catalog.get(candidate.entry_id)
        if entry is not None:
            lines.append(f"{entry.title} (`{entry.id}`, score {candidate.score:.0f})")
    return tuple(lines)


def _button_label(catalog: Catalog, entry_id: str) -> str:
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
            "`/help` — this help",
        ),
    ),
    Section(
        "Pasting errors",
        (
            "Paste an error from Claude Code, Codex CLI, Gemini CLI, Copilot, Cursor, Aider, Cline, Continue "
            "or OpenCode and I answer with what it means and how to fix it.",
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
    if reply.links:
        lines.append("")
        lines.append("Evidence: " + " · ".join(link.url for link in reply.links))
    if reply.footer:
        lines.append("")
        lines.append(reply.footer)
    return "\n".join(lines)
