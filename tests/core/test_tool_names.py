"""Every tool the catalog covers can be named in a paste, and naming it counts for that tool's entries."""

from __future__ import annotations

import pytest

from bot.core.catalog import Catalog
from bot.core.matching import TOOL_WORDS, Matcher, named_tools_beyond_sdk
from bot.core.normalize import clean


def test_every_catalog_tool_has_words_that_name_it(catalog: Catalog) -> None:
    # The table is keyed by the entries' own tool names; a key spelled differently never gives a bonus.
    unnamed = sorted({entry.tool for entry in catalog.entries} - set(TOOL_WORDS))
    assert unnamed == []


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("kiro-cli stopped answering after the update", "Kiro"),
        ("the Qwen Code companion in vscode lost its login", "Qwen Code"),
        ("warp's agent mode refuses every prompt today", "Warp"),
        ("KiloCode panel stays blank after reinstalling", "Kilo Code"),
        ("agy asks me to log in again every morning", "Google Antigravity"),
        ("roo code cannot read my terminal", "Cline / Roo Code"),
    ],
)
def test_new_tools_are_named(text: str, tool: str) -> None:
    assert named_tools_beyond_sdk(clean(text))[:1] == [tool]


@pytest.mark.parametrize(
    "text",
    [
        "switched on cloudflare warp and now everything is slow",
        "let routes = warp::path(\"hello\") in my rust server",
        "fine-tuned qwen2.5-coder locally, works well",
    ],
)
def test_look_alike_words_do_not_name_a_tool(text: str) -> None:
    assert named_tools_beyond_sdk(clean(text)) == []


def test_a_named_tool_wins_over_the_same_words_from_another_tool(matcher: Matcher) -> None:
    # "Too many requests" alone is generic; naming Kiro must point at Kiro's entry, not another tool's 429.
    result = matcher.match("kiro keeps answering too many requests, please wait before trying again, on every model")
    assert result.top is not None and result.top.entry_id == "kiro-too-many-requests"
