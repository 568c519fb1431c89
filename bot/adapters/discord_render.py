"""Discord rendering for the adapter: `Reply` -> embed + persistent buttons + plain text, within Discord's limits.

Pure functions apart from `chart_files` and `render_message` (which draw a chart off the event loop)
and `ActionButton`, the one `DynamicItem` every button of ours is made of: its custom_id ("sb:<command>:<value>", e.g.
"sb:feedback:12:fixed") carries everything a click needs, so buttons keep working after a restart
without any view being stored (`Client.add_dynamic_items`).

Pings: an embed never pings, and every message we send carries `allowed_mentions` none (the staff role
for an escalation is the one exception, allowed by id). Text a person typed is therefore shown as is.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import discord

from bot.chart import chart_text, render_png_async
from bot.core.models import Action, Command, Reply, ReplyKind, Section
from bot.core.replies import render_text

log = logging.getLogger(__name__)

# Discord's documented limits (https://discord.com/developers/docs/resources/message#create-message,
# .../resources/message#embed-object-embed-limits, .../interactions/message-components).
MESSAGE_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
BUTTONS_PER_ROW = 5
ROWS_MAX = 5
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
THREAD_NAME_MAX = 100

CUSTOM_ID_PREFIX = "sb"
CUSTOM_ID_TEMPLATE = r"sb:(?P<command>[a-z_]*)(?::(?P<value>[^\n]*))?"
STALE_BUTTON = "That button is from an older version of the bot and no longer works; try `/errfix` again."
ELLIPSIS = "…"
# The core keeps "Related errors" behind "More"; the issue wants it visible on the answer itself.
RELATED_HEADING = "Related errors"

NO_PINGS = discord.AllowedMentions.none()

_COLOURS = {
    ReplyKind.ANSWER: discord.Colour.green(),
    ReplyKind.ENTRY: discord.Colour.blurple(),
    ReplyKind.NOT_RECOGNISED: discord.Colour.orange(),
    ReplyKind.READING: discord.Colour.teal(),
    ReplyKind.HELP: discord.Colour.blurple(),
    ReplyKind.STAFF: discord.Colour.dark_blue(),
    ReplyKind.NOTICE: discord.Colour.light_grey(),
    ReplyKind.REFUSAL: discord.Colour.red(),
    ReplyKind.ALERT: discord.Colour.dark_red(),
}
_STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}


# -- clean cuts ------------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a line or word boundary, closing any open code.

    Discord rejects an over-long field outright, and a cut through a code fence turns the rest of a
    message into code, so the cut backs off to whitespace and re-closes ``` and ` spans it opened.
    """
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS) + 4:
        return text[:limit]
    for reserve in (0, 1, 4):  # room for nothing, a closing "`", or a closing "\n```"
        cut = _cut_at_boundary(text, limit - len(ELLIPSIS) - reserve)
        closing = _closing(cut)
        if len(cut) + len(closing) + len(ELLIPSIS) <= limit:
            return cut + closing + ELLIPSIS
    return text[:limit - len(ELLIPSIS)] + ELLIPSIS  # unreachable: the last reserve always fits


def _cut_at_boundary(text: str, budget: int) -> str:
    cut = text[:budget]
    for boundary in ("\n", " "):
        position = cut.rfind(boundary)
        if position >= budget // 2:
            return cut[:position].rstrip()
    return cut.rstrip()


def _closing(cut: str) -> str:
    if cut.count("```") % 2:
        return "\n```"
    if cut.replace("```", "").count("`") % 2:
        return "`"
    return ""


def chunks(text: str, limit: int = MESSAGE_MAX) -> list[str]:
    """Split a long text into message-sized parts at line boundaries (a single huge line is clipped)."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines():
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = line
    if current:
        parts.append(current)
    return parts or [""]


# -- embeds ----------------------------------------------------------------------------------------


def section_lines(section: Section) -> list[str]:
    """Items as list lines; a lone item (e.g. "What it means") reads better as plain text."""
    if len(section.items) == 1 and not section.numbered:
        return [section.items[0]]
    return [f"{n}. {item}" if section.numbered else f"- {item}" for n, item in enumerate(section.items, 1)]


def section_fields(section: Section) -> list[tuple[str, str]]:
    """One section as (name, value) fields: a long section continues in further fields, never mid-line."""
    name = clip(section.heading, FIELD_NAME_MAX) or "\u200b"
    fields: list[tuple[str, str]] = []
    current = ""
    for line in section_lines(section):
        line = clip(line, FIELD_VALUE_MAX)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= FIELD_VALUE_MAX:
            current = candidate
            continue
        fields.append((name if not fields else "\u200b", current))
        current = line
    if current or not fields:
        fields.append((name if not fields else "\u200b", current or "-"))
    return fields


def visible_sections(reply: Reply) -> tuple[Section, ...]:
    """What the embed shows: the reply's sections, plus "Related errors" for an answer (see RELATED_HEADING)."""
    if reply.kind is ReplyKind.ANSWER:
        related = tuple(s for s in reply.more if s.heading == RELATED_HEADING and s.items)
        return (*reply.sections, *related)
    return reply.sections


def link_lines(reply: Reply) -> list[str]:
    return [f"[{link.label.replace(']', ')')}]({link.url})" for link in reply.links]


def render_embed(reply: Reply, *, include_more: bool = False) -> discord.Embed:
    """The reply as one embed: title, summary, sections as fields, evidence links, why-it-matched footer.

    Everything is fitted to Discord's embed limits; what does not fit is dropped from the end, and the
    last field says so (the "More" button and `/errfix` still reach the full entry).
    """
    title = clip(reply.title, EMBED_TITLE_MAX)
    footer = clip(reply.footer, FOOTER_MAX) if reply.footer else ""
    # Title, description and footer may together exceed the 6000 total; the description gives way.
    room = min(EMBED_DESCRIPTION_MAX, EMBED_TOTAL_MAX - len(title) - len(footer) - 200)
    description = clip(reply.summary, room) if reply.summary else None
    embed = discord.Embed(title=title, description=description, colour=_COLOURS.get(reply.kind))
    budget = EMBED_TOTAL_MAX - len(title) - len(description or "") - len(footer)
    sections = (*visible_sections(reply), *(reply.more if include_more else ()))
    fields = [field for section in sections if section.items for field in section_fields(section)]
    links = link_lines(reply)
    if links:
        fields.extend(section_fields(Section("Evidence", tuple(links))))
    note = f"{ELLIPSIS} cut to fit Discord; use More or /errfix for the rest."
    dropped = False
    for index, (name, value) in enumerate(fields):
        # Until the last field, keep room for the note that says something was left out.
        is_last = index == len(fields) - 1
        slots_needed = 1 if is_last else 2
        chars_needed = len(name) + len(value) + (0 if is_last else len(note) + 1)
        if len(embed.fields) + slots_needed > EMBED_FIELDS_MAX or chars_needed > budget:
            dropped = True
            break
        embed.add_field(name=name, value=value, inline=False)
        budget -= len(name) + len(value)
    if dropped and budget > len(note) + 1 and len(embed.fields) < EMBED_FIELDS_MAX:
        embed.add_field(name="\u200b", value=note, inline=False)
        log.debug("embed for %r cut to %d fields", reply.title, len(embed.fields))
    if footer:
        embed.set_footer(text=footer)
    return embed


def plain_text(reply: Reply, *, include_more: bool = False) -> str:
    """The plain-text form fitted to one message (used when an embed cannot be sent)."""
    return clip(render_text(reply, include_more=include_more), MESSAGE_MAX)


def staff_ping(reply: Reply, role: discord.abc.Snowflake) -> tuple[str, discord.AllowedMentions]:
    """An escalation's content and allowed mentions: the staff role, and nobody else, is pinged."""
    content = clip(f"<@&{role.id}> {reply.summary or reply.title}", MESSAGE_MAX)
    return content, discord.AllowedMentions(everyone=False, users=False, roles=[role], replied_user=False)


def staff_role(guild: discord.Guild | None, wanted: str | None) -> discord.Role | None:
    """The staff role (DISCORD_STAFF_ROLE), by id or by exact name."""
    if not wanted or guild is None:
        return None
    if wanted.isdigit():
        return guild.get_role(int(wanted))
    return discord.utils.get(guild.roles, name=wanted)


def staff_mention(reply: Reply, guild: discord.Guild | None,
                  wanted: str | None) -> tuple[str | None, discord.AllowedMentions]:
    """Content and allowed mentions: nobody is pinged except the staff role on an escalation."""
    if not reply.ping_staff:
        return None, NO_PINGS
    role: discord.abc.Snowflake | None = staff_role(guild, wanted)
    if role is None and wanted and wanted.isdigit():
        role = discord.Object(id=int(wanted))
    if role is None:
        log.warning("escalation without a staff role to ping: set DISCORD_STAFF_ROLE")
        return None, NO_PINGS
    return staff_ping(reply, role)


async def chart_files(reply: Reply, embed: discord.Embed) -> list[discord.File]:
    """The reply's chart as a PNG attached to `embed` (drawn off the event loop); sparklines without matplotlib."""
    if reply.chart is None:
        return []
    png = await render_png_async(reply.chart)
    if png is None:
        value = clip("```\n" + chart_text(reply.chart) + "\n```", FIELD_VALUE_MAX)
        if len(embed.fields) < EMBED_FIELDS_MAX and len(embed) + len(value) + 5 <= EMBED_TOTAL_MAX:
            embed.add_field(name="Chart", value=value, inline=False)
        return []
    embed.set_image(url=f"attachment://{reply.chart.filename}")
    return [discord.File(io.BytesIO(png), filename=reply.chart.filename)]


async def render_message(reply: Reply, guild: discord.Guild | None, staff_role_wanted: str | None) -> dict[str, Any]:
    """A reply as the parts of one message, for `send()`: the embed (with its chart), its buttons, and
    on an escalation the staff role's ping (the only mention ever allowed)."""
    content, mentions = staff_mention(reply, guild, staff_role_wanted)
    embed = render_embed(reply)
    files, view = await chart_files(reply, embed), build_view(reply)
    return {"embed": embed, "allowed_mentions": mentions, **({"content": content} if content else {}),
            **({"files": files} if files else {}), **({"view": view} if view is not None else {})}


def fallback_parts(reply: Reply, content: str | None = None) -> list[str]:
    """The plain-text form (after the ping `content`, if any) cut at line boundaries into message-sized parts."""
    return chunks(f"{content}\n{plain_text(reply)}" if content else plain_text(reply))


# -- buttons ---------------------------------------------------------------------------------------


def custom_id(action: Action) -> str:
    return f"{CUSTOM_ID_PREFIX}:{action.command.value}:{action.value}"


def parse_custom_id(value: str) -> tuple[Command, str] | None:
    """ "sb:feedback:12:fixed" -> (Command.FEEDBACK, "12:fixed"); None for anything not ours."""
    match = re.fullmatch(CUSTOM_ID_TEMPLATE, value)
    if match is None or match["value"] is None:
        return None
    try:
        return Command(match["command"]), match["value"]
    except ValueError:
        return None


@runtime_checkable
class ActionHandler(Protocol):
    async def handle_action(self, interaction: discord.Interaction[Any], command: Command, value: str) -> None: ...


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_TEMPLATE):
    """Every button we send. The click is routed by custom_id alone, so it survives restarts."""

    def __init__(self, command: Command | None, value: str, *, label: str = "Open",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary, row: int | None = None) -> None:
        # command None: a button of ours we no longer understand (an older release); `value` is its id.
        identifier = f"{CUSTOM_ID_PREFIX}:{command.value}:{value}" if command is not None else value
        super().__init__(discord.ui.Button(label=clip(label, BUTTON_LABEL_MAX) or "Open", style=style,
                                           custom_id=identifier), row=row)
        self.command = command
        self.value = value

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str]) -> ActionButton:
        parsed = parse_custom_id(match.group(0))
        label = getattr(item, "label", None) or "Open"
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        if parsed is None:
            return cls(None, match.group(0), label=label, style=style)
        return cls(parsed[0], parsed[1], label=label, style=style)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if self.command is None:
            log.info("stale button %r clicked", self.value[:40])
            await interaction.response.send_message(STALE_BUTTON, ephemeral=True)
            return
        client = interaction.client
        if isinstance(client, ActionHandler):
            await client.handle_action(interaction, self.command, self.value)


def build_view(reply: Reply) -> discord.ui.View | None:
    """Buttons for the reply's actions: persistent (no timeout), deduplicated, at most 5 rows of 5.

    Alternates ("Could also be" entries) start their own row so feedback buttons stay together.
    """
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    main = [a for a in reply.actions if a.command is not Command.SHOW_ENTRY]
    alternates = [a for a in reply.actions if a.command is Command.SHOW_ENTRY]
    row, in_row = 0, 0
    for group in (main, alternates):
        if in_row:
            row, in_row = row + 1, 0
        for action in group:
            identifier = custom_id(action)
            if identifier in seen:
                continue
            if len(identifier) > CUSTOM_ID_MAX:
                log.warning("button %r skipped: custom_id longer than %d characters", action.label, CUSTOM_ID_MAX)
                continue
            if in_row == BUTTONS_PER_ROW:
                row, in_row = row + 1, 0
            if row >= ROWS_MAX:
                log.warning("reply %r has more buttons than Discord shows; extra ones dropped", reply.title)
                return view if view.children else None
            view.add_item(ActionButton(action.command, action.value, label=action.label,
                                       style=_STYLES.get(action.style, discord.ButtonStyle.secondary), row=row))
            seen.add(identifier)
            in_row += 1
    return view if view.children else None


# -- autocomplete ----------------------------------------------------------------------------------


def choice_name(title: str, tool: str) -> str:
    return clip(f"{title} · {tool}", CHOICE_NAME_MAX)


def thread_name(reply: Reply) -> str:
    return clip(" ".join(reply.title.split()), THREAD_NAME_MAX) or "supportbot"


def fits_message(content: str | None, embeds: Sequence[discord.Embed]) -> bool:
    """True when a message is within Discord's size limits (used by tests and as a last guard)."""
    if content is not None and len(content) > MESSAGE_MAX:
        return False
    return sum(len(e) for e in embeds) <= EMBED_TOTAL_MAX and all(len(e.fields) <= EMBED_FIELDS_MAX for e in embeds)
