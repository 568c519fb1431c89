"""The command grammar every front end shares: a command name and its text -> (Command, argument).

Slack's slash commands, Discord's app commands and the terminal's `/lines` all come through here, so
`/errfix mode off` or `/errfix help` cannot mean one thing on one platform and another elsewhere.

    /errfix TEXT            look up an error, an entry id or a title
    /errfix, /errfix help   help
    /errfix mode MODE       staff: channel mode (auto | mention | off); also Discord's /channel-mode
    /errfix reload          staff: reload the catalog
    /quota TEXT             report a quota reading
    /incidents              staff: tallies and open incidents

The terminal also has the buttons other platforms show, as commands: /more, /show, /ack, /resolve.
"""

from __future__ import annotations

from bot.core.models import Command

# Commands every platform registers under these names.
CHAT_COMMANDS: dict[str, Command] = {
    "errfix": Command.ERRFIX,
    "quota": Command.QUOTA,
    "incidents": Command.INCIDENTS,
    "channel-mode": Command.CHANNEL_MODE,
}
# What the terminal adds: it has no buttons, so their actions are typed.
TERMINAL_COMMANDS: dict[str, Command] = {
    **CHAT_COMMANDS,
    "help": Command.HELP,
    "reload": Command.RELOAD,
    "more": Command.MORE,
    "show": Command.SHOW_ENTRY,
    "ack": Command.ACK_INCIDENT,
    "resolve": Command.RESOLVE_INCIDENT,
}
HELP_WORDS = frozenset({"", "help", "?", "-h", "--help"})
# A command whose argument may be a multi-line paste (the others take one line).
PASTE_COMMANDS = frozenset({Command.ERRFIX, Command.QUOTA})


def parse_command(name: str, text: str, *, known: dict[str, Command] = CHAT_COMMANDS) -> tuple[Command, str] | None:
    """`("errfix", "mode off")` -> `(Command.CHANNEL_MODE, "off")`; None for a command we do not have."""
    command = known.get(name.strip().lstrip("/").lower())
    if command is None:
        return None
    text = text.strip()
    if command is not Command.ERRFIX:
        return command, text
    word, _, rest = text.partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in HELP_WORDS and not rest:
        return Command.HELP, ""
    if word == "mode":
        return Command.CHANNEL_MODE, rest
    if word == "reload" and not rest:
        return Command.RELOAD, ""
    return Command.ERRFIX, text


def parse_line(line: str) -> tuple[Command, str] | None:
    """A terminal line: `/errfix 529 overloaded` -> (ERRFIX, "529 overloaded"); None when it is no command."""
    stripped = line.strip()
    if not stripped.startswith("/"):
        return None
    name, _, rest = stripped.partition(" ")
    return parse_command(name, rest, known=TERMINAL_COMMANDS)
