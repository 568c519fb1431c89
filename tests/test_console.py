"""The terminal chat, fed through StringIO: catalog -> match -> reply -> store, end to end."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.adapters.console import run_console
from bot.config import Settings
from bot.core.catalog import default_catalog_dir
from bot.core.service import KnowledgeBase, SupportService

OVERLOADED = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'


async def _chat(store, catalog, script: str, color: bool = False) -> str:
    service = SupportService(KnowledgeBase(catalog, default_catalog_dir()), store, Settings.from_env({}).policy())
    out = io.StringIO()
    await run_console(service, io.StringIO(script), out, color=color, user="tester")
    return out.getvalue()


async def test_pasted_error_and_errfix_are_answered(store, catalog) -> None:
    entry = catalog.get("claude-code-529-overloaded")
    output = await _chat(store, catalog, f"{OVERLOADED}\n\n/errfix claude-code-529-overloaded\n/help\n")
    assert output.count(entry.title) >= 2
    assert "Quick fix:" in output and "Why this answer" in output
    assert "/more claude-code-529-overloaded" in output and "Step by step" not in output  # the rest waits
    assert "/errfix TEXT" in output  # the help
    assert "\x1b[" not in output  # no colour codes when not a terminal


async def test_more_shows_the_rest_of_an_entry(store, catalog) -> None:
    output = await _chat(store, catalog, "/more claude-code-529-overloaded\n")
    assert "Step by step" in output and "FAQ" in output


async def test_multiline_paste_ends_at_blank_line(store, catalog) -> None:
    script = "some log line\n" + OVERLOADED + "\nmore log\n\nlunch anyone?\n\n"
    output = await _chat(store, catalog, script)
    assert output.count("Quick fix:") == 1
    assert "(no answer" in output


async def test_quota_and_incidents_in_the_terminal(store, catalog) -> None:
    output = await _chat(store, catalog, "/quota weekly at 80%, session 12%\n\n/incidents\n/quota\n/bogus\n")
    assert "recorded" in output
    assert "Support overview" in output
    assert "Examples" in output
    assert "Unknown command" in output


async def test_colour_when_asked(store, catalog) -> None:
    title = catalog.get("claude-code-529-overloaded").title
    output = await _chat(store, catalog, OVERLOADED + "\n", color=True)
    title_line = next(line for line in output.splitlines() if title in line)
    assert title_line.startswith("\x1b[") and "\x1b[0m" in title_line  # styled by rich, then reset
    assert "\x1b[" not in (await _chat(store, catalog, OVERLOADED + "\n")).replace(title, "")


async def test_a_support_bundle_is_one_block_between_two_rules_with_colour_too(store, catalog) -> None:
    for color, percent in ((False, 80), (True, 90)):  # two readings: the same one twice is counted once
        output = await _chat(store, catalog, f"/quota weekly at {percent}%, session 12%\n", color=color)
        lines = output.splitlines()
        rules = [i for i, line in enumerate(lines) if "─" * 60 in line]
        assert len(rules) == 2, output
        inside = lines[rules[0] + 1:rules[1]]
        assert inside and not any(line.lstrip().startswith(("•", "-", "*")) for line in inside)
        assert any("Tool:" in line or "Window" in line or "%" in line for line in inside)


def test_bare_supportbot_starts_the_terminal_chat_on_sqlite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot"], input=OVERLOADED + "\n\n", capture_output=True, text=True, cwd=tmp_path,
        env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "No chat credentials set: starting the terminal chat" in done.stderr
    assert "Quick fix:" in done.stdout
    assert (tmp_path / "data" / "supportbot.db").is_file()  # created on first use


async def _chat_bytes(store, catalog, script: bytes) -> str:
    """Like `_chat`, but the input is raw bytes, as a terminal or a pipe delivers them."""
    service = SupportService(KnowledgeBase(catalog, default_catalog_dir()), store, Settings.from_env({}).policy())
    out = io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(script), encoding="utf-8")
    await run_console(service, stdin, out, color=False, user="tester")
    return out.getvalue()


async def test_one_line_commands_do_not_swallow_the_next_line(store, catalog) -> None:
    # No empty line between them: each command is answered on its own line.
    output = await _chat(store, catalog, "/quota Claude Code weekly at 80%, session 12%\n/incidents\n"
                                         "/errfix 529 overloaded\n")
    assert "recorded" in output and "Support overview" in output
    assert catalog.get("claude-code-529-overloaded").title in output


async def test_the_support_bundle_is_one_block_to_copy(store, catalog) -> None:
    output = await _chat(store, catalog, "/quota Claude Code session 64% -> 100% overnight, nothing running\n")
    lines = output.splitlines()
    start = lines.index("Support bundle (copy everything between the lines)")
    rule = lines[start + 1]
    end = lines.index(rule, start + 2)
    bundle = lines[start + 2:end]
    assert bundle[0].startswith("Tool: Claude Code") and any(line.startswith("Readings:") for line in bundle)
    assert not any(line.startswith("- ") for line in bundle)  # no bullets inside the block


async def test_input_that_is_not_utf8_gets_one_line_and_the_chat_goes_on(store, catalog) -> None:
    script = b"\xff\xfe broken \xc3 paste\nsecond line\n\n/errfix claude-code-529-overloaded\n" \
             b"/ack 99999999999999999999999\n/errfix \xe9\n/more claude-code-529-overloaded\n"
    output = await _chat_bytes(store, catalog, script)
    assert output.count("not valid UTF-8") == 2
    assert catalog.get("claude-code-529-overloaded").title in output  # the lines after it still count
    assert "Which incident?" in output  # a number no store can hold is a question, not a crash
    assert "Step by step" in output  # the last line was read too
    assert "Traceback" not in output
