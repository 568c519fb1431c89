"""Block Kit rendering: Slack's limits, the plain-text fallback, and user text that never pings."""

from __future__ import annotations

import json

import pytest

from bot.adapters import slack_blocks as sb
from bot.core.models import Action, Command, HomePage, Link, Reply, ReplyKind, Section


def long_reply(**overrides: object) -> Reply:
    fields: dict[str, object] = {
        "kind": ReplyKind.ANSWER,
        "title": "T" * 400,
        "summary": "Quick fix: " + "restart it. " * 400,
        "sections": tuple(Section(f"Heading {n}", tuple("word " * 700 for _ in range(3))) for n in range(40)),
        "more": (Section("Step by step", ("one", "two"), numbered=True),),
        "links": (Link("github.com/x#1", "https://github.com/x/y/issues/1"),),
        "footer": "Why this answer: " + "x" * 5000,
        "actions": (Action(Command.MORE, "More", "entry-id"),
                    Action(Command.FEEDBACK, "Fixed it " * 20, "1:fixed", "primary"),
                    Action(Command.SHOW_ENTRY, "Too long", "v" * 2001)),
    }
    fields.update(overrides)
    return Reply(**fields)  # type: ignore[arg-type]


def texts(blocks: list[dict[str, object]]) -> list[str]:
    out = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            out.append(text["text"])
        for element in block.get("elements", []):  # type: ignore[attr-defined]
            if isinstance(element.get("text"), str):
                out.append(element["text"])
            elif isinstance(element.get("text"), dict):
                out.append(element["text"]["text"])
    return out


def test_long_reply_stays_within_slack_limits_and_says_where_the_rest_is() -> None:
    rendered = sb.render(long_reply())
    blocks = rendered.blocks
    assert len(blocks) <= sb.MESSAGE_BLOCKS_MAX
    assert all(len(t) <= sb.SECTION_TEXT_MAX for t in texts(blocks))
    assert len(blocks[0]["text"]["text"]) <= sb.HEADER_TEXT_MAX
    assert any("press *More* for the rest" in t for t in texts(blocks))
    # The tail survives the cut: evidence, why it matched, and the buttons.
    assert blocks[-1]["type"] == "actions"
    assert any(t.startswith("Why this answer") for t in texts(blocks))
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == ["entry-id", "1:fixed"]  # the 2001-character value was left out, not cut
    assert all(len(e["text"]["text"]) <= sb.BUTTON_TEXT_MAX for b in blocks if b["type"] == "actions"
               for e in b["elements"])
    assert rendered.text and len(rendered.text) <= sb.FALLBACK_TEXT_MAX


def test_a_long_section_is_split_between_items_not_inside_one() -> None:
    items = tuple(f"item {n} " + "abc " * 100 for n in range(30))
    blocks = sb.section_blocks(Section("Causes", items))
    assert len(blocks) > 1
    joined = "\n".join(b["text"]["text"] for b in blocks)
    assert all(f"• item {n} " in joined for n in range(30))
    assert all(len(b["text"]["text"]) <= sb.SECTION_TEXT_MAX for b in blocks)


def test_cut_never_leaves_half_an_entity() -> None:
    text = sb.escape("a" * 2995 + "<<<<<<")
    cut = sb.cut(text, 3000)
    assert len(cut) <= 3000 and cut.endswith("…") and not cut[:-1].endswith(("&", "&l", "&lt"))


@pytest.mark.parametrize("markup", ["<!channel>", "<!here>", "<!everyone>", "<@U0BOB>", "<!subteam^S0X|@staff>",
                                    "<@W0ENTERPRISE>"])
def test_echoed_text_never_pings(markup: str) -> None:
    reply = Reply(kind=ReplyKind.STAFF, title=f"gap {markup}", summary=f"said {markup}",
                  sections=(Section(f"h {markup}", (f"1× “{markup} Error: x”",)),), footer=f"matched “{markup}”",
                  links=(Link(markup, "https://example.com/?a=1&b=2"),))
    rendered = sb.render(reply)
    assert markup not in json.dumps(rendered.blocks) and markup not in rendered.text
    assert "&lt;" in rendered.text


def test_staff_ping_is_the_only_live_mention() -> None:
    reply = Reply(kind=ReplyKind.NOTICE, title="Escalated", summary="<!here> please", ping_staff=True)
    rendered = sb.render(reply, ping="<!subteam^S0STAFF>")
    sent = json.dumps(rendered.blocks)
    assert "<!subteam^S0STAFF>" in sent and "<!here>" not in sent
    assert rendered.text.startswith("<!subteam^S0STAFF>")


def test_fallback_text_is_always_set() -> None:
    rendered = sb.render(Reply(kind=ReplyKind.NOTICE, title="Hello"))
    assert rendered.text == "Hello" and rendered.blocks[0]["type"] == "header"


def test_buttons_round_trip_their_command() -> None:
    blocks = sb.action_blocks([Action(Command.RESOLVE_INCIDENT, "Resolve #3", "3", "danger")])
    [element] = blocks[0]["elements"]
    assert sb.parse_action_id(element["action_id"]) is Command.RESOLVE_INCIDENT
    assert element["style"] == "danger" and element["value"] == "3"
    assert sb.parse_action_id("sb:nonsense:1") is None and sb.parse_action_id("other") is None


def test_many_buttons_are_split_into_blocks_of_25() -> None:
    actions = [Action(Command.SHOW_ENTRY, f"e{n}", f"e{n}") for n in range(30)]
    blocks = sb.action_blocks(actions)
    assert [len(b["elements"]) for b in blocks] == [25, 5]
    ids = [e["action_id"] for b in blocks for e in b["elements"]]
    assert len(set(ids)) == 30


@pytest.mark.parametrize(("wire", "typed"), [
    ("Error &lt;html&gt; &amp; stuff", "Error <html> & stuff"),
    ("see <https://x.io/a|x.io/a> now", "see x.io/a now"),
    ("see <https://x.io/a> now", "see https://x.io/a now"),
    ("hey <@U0BOB> and <!here>", "hey @U0BOB and @here"),
    ("in <#C0HELP|help>", "in #help"),
    ("ping <!subteam^S0X|@staff>", "ping @staff"),
])
def test_from_slack_gives_back_what_the_person_typed(wire: str, typed: str) -> None:
    assert sb.from_slack(wire) == typed


def test_bot_mention_is_detected_and_stripped() -> None:
    assert sb.mentions_user("<@UBOT> API Error: 529", "UBOT")
    assert not sb.mentions_user("<@UOTHER> hi", "UBOT")
    assert sb.strip_mention("<@UBOT>: API Error: 529", "UBOT") == "API Error: 529"


def test_home_view_fits_in_100_blocks() -> None:
    view = sb.home_view(HomePage(long_reply(), Reply(kind=ReplyKind.HELP, title="Help",
                                                     sections=(Section("C", ("x",)),))))
    assert view["type"] == "home" and len(view["blocks"]) <= sb.VIEW_BLOCKS_MAX


@pytest.mark.parametrize(("values", "expected"), [
    ({"tool": "Claude Code", "plan": "Max 5x", "window": "session", "percent": "100", "from_percent": "64",
      "flags": {"idle"}}, "Claude Code Max 5x: session 64% -> 100%, nothing running"),
    ({"tool": "Codex CLI", "window": "weekly", "flags": {"limit"}, "resets": "Monday 9am"},
     "Codex CLI: hit the weekly limit, resets Monday 9am"),
    ({"tool": "Other", "window": "daily", "percent": "80"}, "daily 80%"),
])
def test_quota_modal_fields_become_a_sentence(values: dict[str, object], expected: str) -> None:
    state: dict[str, dict[str, dict[str, object]]] = {}
    for key, value in values.items():
        if key in ("tool", "window"):
            state[key] = {"v": {"type": "static_select", "selected_option": {"value": value}}}
        elif key == "flags":
            state[key] = {"v": {"type": "checkboxes", "selected_options": [{"value": v} for v in value]}}  # type: ignore[attr-defined]
        else:
            state[key] = {"v": {"type": "plain_text_input", "value": value}}
    text, errors = sb.quota_text_from_view(state)
    assert errors == {} and text == expected


def test_quota_modal_blocks_are_valid_inputs() -> None:
    modal = sb.quota_modal("C1")
    assert modal["callback_id"] == sb.QUOTA_CALLBACK and modal["private_metadata"] == "C1"
    assert {b["block_id"] for b in modal["blocks"]} >= {"tool", "window", "percent", "flags"}
    assert len(modal["title"]["text"]) <= 24  # Slack's limit for modal titles
