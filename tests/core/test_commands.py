"""The one command grammar: what each front end's command text means."""

from __future__ import annotations

import pytest

from bot.core.commands import parse_command, parse_line
from bot.core.models import Command


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("errfix", "529 overloaded", (Command.ERRFIX, "529 overloaded")),
    ("/errfix", "  stream disconnected  ", (Command.ERRFIX, "stream disconnected")),
    ("errfix", "", (Command.HELP, "")),
    ("errfix", "help", (Command.HELP, "")),
    ("errfix", "HELP", (Command.HELP, "")),
    ("errfix", "?", (Command.HELP, "")),
    ("errfix", "help me, codex says 401", (Command.ERRFIX, "help me, codex says 401")),
    ("errfix", "mode off", (Command.CHANNEL_MODE, "off")),
    ("errfix", "Mode  Mention", (Command.CHANNEL_MODE, "Mention")),
    ("errfix", "mode", (Command.CHANNEL_MODE, "")),
    ("errfix", "reload", (Command.RELOAD, "")),
    ("errfix", "reload failed: ENOENT", (Command.ERRFIX, "reload failed: ENOENT")),
    ("channel-mode", "auto", (Command.CHANNEL_MODE, "auto")),
    ("quota", "weekly at 80%", (Command.QUOTA, "weekly at 80%")),
    ("incidents", "", (Command.INCIDENTS, "")),
    ("more", "x", None),  # a terminal command, not a chat one
    ("deploy", "now", None),
])
def test_chat_commands(name: str, text: str, expected: tuple[Command, str] | None) -> None:
    assert parse_command(name, text) == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("/errfix 529 overloaded", (Command.ERRFIX, "529 overloaded")),
    ("/errfix mode off", (Command.CHANNEL_MODE, "off")),
    ("/more claude-code-529-overloaded", (Command.MORE, "claude-code-529-overloaded")),
    ("/help", (Command.HELP, "")),
    ("/ack 12", (Command.ACK_INCIDENT, "12")),
    ("/bogus x", None),
    ("API Error: 529", None),
])
def test_terminal_lines(line: str, expected: tuple[Command, str] | None) -> None:
    assert parse_line(line) == expected
