"""Block Kit rendering for the Slack adapter: `Reply` -> blocks + plain-text fallback, within Slack's limits.

Pure functions, no I/O. Everything a user could have typed is escaped (`&`, `<`, `>`), which is how
Slack says to neutralise `<!channel>`, `<!here>`, `<@U…>` and `<!subteam^…>`: escaped markup shows
as text and pings nobody. The only live mention we ever emit is the staff ping we build ourselves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.charts import text_chart
from bot.core.models import Action, Command, HomePage, Reply, Section
from bot.core.ports import ThreadAuthors
from bot.core.replies import render_text

log = logging.getLogger(__name__)

# Ordinary messages carry no subtype; these two are still a person's own new words (a paste with a
# screenshot, a thread reply also sent to the channel). Every other subtype (edits, deletions, joins,
# bot messages, topic changes…) is never answered.
ANSWERABLE_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})

# Slack's documented limits (https://api.slack.com/reference/block-kit/blocks).
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
ACTIONS_PER_BLOCK = 25
FALLBACK_TEXT_MAX = 3000  # Slack accepts 40k, but the fallback only feeds notifications and screen readers
ACTION_PREFIX = "sb:"

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rendered:
    blocks: list[Block]
    text: str  # the plain-text fallback: always set


# -- text in and out -------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup; neutralises every mention form."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inert(text: str) -> str:
    """For plain_text fields (headers, button labels): Slack never parses mentions there, but a
    zero-width space after each `<` keeps the text inert even if it is ever reused as mrkdwn."""
    return text.replace("<", "<\u200b")


_MARKUP = re.compile(r"<([^<>]*)>")


def from_slack(text: str) -> str:
    """Slack's wire format -> what the person typed: links unwrapped, mentions made inert, entities decoded."""

    def plain(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            name = target[1:].split("^", 1)[0]
            return label or "@" + name
        return label if label and label != target else target

    text = _MARKUP.sub(plain, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentions_user(text: str, user_id: str) -> bool:
    return bool(user_id) and re.search(rf"<@{re.escape(user_id)}(\|[^>]*)?>", text) is not None


def strip_mention(text: str, user_id: str) -> str:
    """Remove `<@BOT>` (the bot being addressed) before the text reaches the matcher."""
    if not user_id:
        return text
    return re.sub(rf"<@{re.escape(user_id)}(\|[^>]*)?>:?", " ", text).strip()


def sender(payload: Mapping[str, Any]) -> tuple[str, str, str]:
    """(user id, user name, workspace id) of an interaction: a slash command's flat fields or nested `user`/`team`."""
    user = payload.get("user") or {}
    return (str(user.get("id") or payload.get("user_id") or ""),
            str(user.get("username") or user.get("name") or payload.get("user_name") or ""),
            str((payload.get("team") or {}).get("id") or user.get("team_id") or payload.get("team_id") or ""))


def channel_of(payload: Mapping[str, Any]) -> str:
    """The channel an interaction came from: a slash command's `channel_id`, else `channel.id` or the container's."""
    return str((payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
               or payload.get("channel_id") or "")


def _ts_key(ts: Any) -> tuple[int, int]:
    seconds, _, fraction = str(ts or "0").partition(".")
    try:
        return int(seconds), int(fraction or 0)
    except ValueError:
        return 0, 0


def thread_authors(messages: Iterable[Mapping[str, Any]], *, thread_ts: str | None,
                   ts: str | None) -> ThreadAuthors:
    """Read a thread (conversations.replies): the people who wrote before message `ts` (bots left out)."""
    opener, people = None, set()
    for message in messages:
        author = message.get("user")
        if message.get("ts") == thread_ts:
            opener = author
        elif _ts_key(message.get("ts")) >= _ts_key(ts):
            continue  # posted after this message
        elif author and not message.get("bot_id") and message.get("subtype") in ANSWERABLE_SUBTYPES:
            people.add(str(author))
    return ThreadAuthors(opener=opener, people=frozenset(people))


def cut(text: str, limit: int) -> str:
    """Cut to `limit` characters at a word boundary, never inside an `&amp;`-style entity."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit * 0.6:
        head = head[:space]
    head = re.sub(r"&[a-z]*$", "", head)
    return head.rstrip() + "…"


def fallback_text(reply: Reply, *, ping: str = "") -> str:
    text = escape(render_text(reply))
    if ping:
        text = f"{ping} {text}"
    return cut(text, FALLBACK_TEXT_MAX)


# -- blocks ----------------------------------------------------------------------------------------------


def _mrkdwn(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(inert(text), HEADER_TEXT_MAX), "emoji": True}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, SECTION_TEXT_MAX)}]}


def section_blocks(section: Section) -> list[Block]:
    """One Section -> as many section blocks as its items need, each under 3000 characters."""
    lines = [f"{n}. {escape(item)}" if section.numbered else f"• {escape(item)}"
             for n, item in enumerate(section.items, start=1) if item]
    if not lines:
        return []
    blocks: list[Block] = []
    current = f"*{escape(section.heading)}*"
    for line in lines:
        line = cut(line, SECTION_TEXT_MAX - 10)
        if len(current) + 1 + len(line) > SECTION_TEXT_MAX:
            blocks.append(_mrkdwn(current))
            current = line
        else:
            current = f"{current}\n{line}"
    blocks.append(_mrkdwn(current))
    return blocks


def action_id(command: Command, index: int) -> str:
    return f"{ACTION_PREFIX}{command.value}:{index}"


def parse_action_id(value: str) -> Command | None:
    """`sb:feedback:3` -> Command.FEEDBACK; anything else -> None."""
    if not value.startswith(ACTION_PREFIX):
        return None
    name = value[len(ACTION_PREFIX):].split(":", 1)[0]
    try:
        return Command(name)
    except ValueError:
        return None


def button(action: Action, index: int) -> Block | None:
    if len(action.value) > BUTTON_VALUE_MAX:
        # A cut value would send the wrong id back; leave the button out instead.
        log.warning("button %r dropped: value is %d characters (Slack allows %d)",
                    action.label, len(action.value), BUTTON_VALUE_MAX)
        return None
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(inert(action.label), BUTTON_TEXT_MAX), "emoji": True},
        "action_id": action_id(action.command, index),
        "value": action.value,
    }
    if action.style in ("primary", "danger"):
        element["style"] = action.style
    return element


def action_blocks(actions: Sequence[Action]) -> list[Block]:
    buttons = [b for b in (button(a, i) for i, a in enumerate(actions)) if b is not None]
    return [{"type": "actions", "elements": buttons[i:i + ACTIONS_PER_BLOCK]}
            for i in range(0, len(buttons), ACTIONS_PER_BLOCK)]


def reply_blocks(reply: Reply, *, ping: str = "", include_more: bool = False, max_blocks: int = MESSAGE_BLOCKS_MAX,
                 with_actions: bool = True) -> list[Block]:
    """The blocks for one reply, cut to `max_blocks` with the cut said plainly."""
    head: list[Block] = [_header(reply.title)]
    if ping:
        head.append(_mrkdwn(f"{ping} a person from support is needed here."))
    if reply.summary:
        head.append(_mrkdwn(cut(escape(reply.summary), SECTION_TEXT_MAX)))
    body: list[Block] = []
    for section in (*reply.sections, *(reply.more if include_more else ())):
        body.extend(section_blocks(section))
    tail: list[Block] = []
    if reply.links:
        links = " · ".join(f"<{escape(link.url)}|{escape(link.label)}>" for link in reply.links)
        tail.append(_mrkdwn(cut(f"*Evidence:* {links}", SECTION_TEXT_MAX)) if len(links) < SECTION_TEXT_MAX
                    else _context("Evidence: " + " · ".join(escape(link.url) for link in reply.links)))
    if reply.footer:
        tail.append(_context(escape(reply.footer)))
    if with_actions:
        tail.extend(action_blocks(reply.actions))
    room = max_blocks - len(head) - len(tail)
    if len(body) > room:
        has_more = any(a.command is Command.MORE for a in reply.actions)
        note = ("Cut here to fit Slack's limits — press *More* for the rest." if has_more and not include_more
                else "Cut here to fit Slack's limits.")
        body = [*body[: max(room - 1, 0)], _context(note)]
    return [*head, *body, *tail][:max_blocks]


def staff_mention(usergroup: str | None, staff_ids: Iterable[str]) -> str:
    """The live mention for escalations: the staff user group, else the configured Slack staff ids."""
    if usergroup:
        return f"<!subteam^{usergroup}>"
    ids = sorted(i.removeprefix("slack:") for i in staff_ids if re.fullmatch(r"(slack:)?[UW][A-Z0-9]+", i))
    return " ".join(f"<@{i}>" for i in ids)


def render(reply: Reply, *, ping: str = "", include_more: bool = False) -> Rendered:
    """A message (or ephemeral) body: blocks plus the plain-text fallback."""
    return Rendered(reply_blocks(reply, ping=ping, include_more=include_more), fallback_text(reply, ping=ping))


# -- App Home and modals ---------------------------------------------------------------------------------


def home_view(page: HomePage) -> dict[str, Any]:
    """The App Home tab: a button's notice, the staff overview (or the polite refusal), then help."""
    blocks: list[Block] = []
    if page.notice is not None:
        blocks.append(_context(f"*{escape(page.notice.title)}* {escape(page.notice.summary)}".strip()))
    overview = page.overview
    blocks.extend(reply_blocks(overview, max_blocks=VIEW_BLOCKS_MAX - 30))
    if overview.chart is not None:  # an image needs an upload: the tab shows the chart as sparklines
        blocks.append(_mrkdwn(cut("```" + "\n".join(text_chart(overview.chart)) + "```", SECTION_TEXT_MAX)))
    blocks.append({"type": "divider"})
    blocks.extend(reply_blocks(page.help, max_blocks=25, with_actions=False))
    return {"type": "home", "callback_id": "sb_home", "blocks": blocks[:VIEW_BLOCKS_MAX]}


QUOTA_CALLBACK = "sb_quota"
QUOTA_TOOLS = ("Claude Code", "Codex CLI", "Gemini CLI", "Cursor", "GitHub Copilot", "Aider", "Other")
QUOTA_WINDOWS = (("session", "Session (5-hour)"), ("weekly", "Weekly (all models)"),
                 ("weekly opus", "Weekly (Opus)"), ("weekly sonnet", "Weekly (Sonnet)"),
                 ("daily", "Daily"), ("monthly", "Monthly"))


def _option(value: str, label: str) -> Block:
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def _input(block_id: str, label: str, element: Block, *, optional: bool = True, hint: str = "") -> Block:
    block: Block = {"type": "input", "block_id": block_id, "optional": optional,
                    "label": {"type": "plain_text", "text": label}, "element": element}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def quota_modal(channel_id: str = "") -> dict[str, Any]:
    """`/quota` without text: the same report, as fields."""
    return {
        "type": "modal",
        "callback_id": QUOTA_CALLBACK,
        "private_metadata": channel_id,
        "title": {"type": "plain_text", "text": "Report a quota reading"},
        "submit": {"type": "plain_text", "text": "Report"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input("tool", "Tool", {"type": "static_select", "action_id": "v",
                                    "options": [_option(t, t) for t in QUOTA_TOOLS]}, optional=False),
            _input("plan", "Plan", {"type": "plain_text_input", "action_id": "v",
                                    "placeholder": {"type": "plain_text", "text": "Pro, Max 5x, Plus…"}}),
            _input("window", "Which limit", {"type": "static_select", "action_id": "v",
                                             "options": [_option(v, label) for v, label in QUOTA_WINDOWS]},
                   optional=False),
            _input("percent", "Used now (%)", {"type": "number_input", "action_id": "v",
                                               "is_decimal_allowed": True, "min_value": "0", "max_value": "100"}),
            _input("from_percent", "Earlier reading (%)", {"type": "number_input", "action_id": "v",
                                                           "is_decimal_allowed": True, "min_value": "0",
                                                           "max_value": "100"},
                   hint="Fill this in if the meter jumped, e.g. 64 then 100."),
            _input("flags", "What happened", {"type": "checkboxes", "action_id": "v", "options": [
                _option("limit", "I hit the limit"), _option("idle", "Nothing was running")]}),
            _input("resets", "Resets at", {"type": "plain_text_input", "action_id": "v",
                                           "placeholder": {"type": "plain_text", "text": "5pm (Europe/Paris)"}}),
            _input("details", "Anything else", {"type": "plain_text_input", "action_id": "v", "multiline": True},
                   hint="Or paste your whole /usage screen here."),
        ],
    }


def _value(values: Mapping[str, Any], block_id: str) -> Any:
    field = values.get(block_id, {}).get("v", {})
    kind = field.get("type")
    if kind == "static_select":
        option = field.get("selected_option") or {}
        return option.get("value")
    if kind == "checkboxes":
        return {o.get("value") for o in field.get("selected_options") or []}
    return field.get("value")


def quota_text_from_view(values: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The modal's fields -> the sentence `/quota` would have received, plus field errors (if any)."""
    tool = _value(values, "tool") or ""
    plan = (_value(values, "plan") or "").strip()
    window = _value(values, "window") or ""
    percent = _value(values, "percent")
    earlier = _value(values, "from_percent")
    flags = _value(values, "flags") or set()
    resets = (_value(values, "resets") or "").strip()
    details = (_value(values, "details") or "").strip()
    if percent in (None, "") and "limit" not in flags and not details:
        return "", {"percent": "Give the percentage used, tick “I hit the limit”, or paste your /usage screen."}
    words = [tool if tool != "Other" else "", plan]
    reading = f"{window} limit"
    if percent not in (None, ""):
        reading = f"{window} {earlier}% -> {percent}%" if earlier not in (None, "") else f"{window} {percent}%"
    elif "limit" in flags:
        reading = f"hit the {window} limit"
    parts = [" ".join(w for w in words if w) + ":" if any(words) else "", reading]
    if "limit" in flags and percent not in (None, ""):
        parts.append(f", hit the {window} limit")
    if resets:
        parts.append(f", resets {resets}")
    if "idle" in flags:
        parts.append(", nothing running")
    text = " ".join(p for p in parts[:2] if p) + "".join(parts[2:])
    if details:
        text = f"{text}\n{details}"
    return text.strip(), {}


def result_modal(reply: Reply) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "sb_quota_done",
        "title": {"type": "plain_text", "text": "Quota report"},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": reply_blocks(reply, max_blocks=VIEW_BLOCKS_MAX, with_actions=False),
    }


def all_text(blocks: Iterable[Block]) -> str:
    """Every text in a list of blocks, joined: handy for logs and tests."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(blocks))
    return "\n".join(out)

