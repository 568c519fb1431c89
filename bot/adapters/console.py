"""The terminal chat: a newcomer's first contact with the bot, and the fastest end-to-end check.

A paste is every line up to a blank line (or end of input); a line starting with "/" is a command.
The person at the terminal is the operator, so staff commands are allowed here.
"""

from __future__ import annotations

import asyncio
import getpass
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.core.models import Command, Incoming, Reply, ReplyKind
from bot.core.replies import render_text
from bot.core.service import SupportService

COMMANDS = {
    "/errfix": Command.ERRFIX,
    "/quota": Command.QUOTA,
    "/incidents": Command.INCIDENTS,
    "/help": Command.HELP,
    "/reload": Command.RELOAD,
    "/more": Command.MORE,
    "/show": Command.SHOW_ENTRY,
    "/ack": Command.ACK_INCIDENT,
    "/resolve": Command.RESOLVE_INCIDENT,
}
QUIT = {"/quit", "/exit", "/q"}

BANNER = (
    "supportbot terminal chat — paste an error and end it with an empty line (or Ctrl-D).\n"
    "Commands: /errfix TEXT, /quota TEXT, /incidents, /more ENTRY-ID, /help, /quit"
)


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def title(self, text: str) -> str:
        return self._wrap("1;36", text)

    def heading(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def warn(self, text: str) -> str:
        return self._wrap("1;33", text)


def render_console(reply: Reply, style: _Style) -> str:
    """The plain-text reply, with colour where the terminal has it; the rest is one `/more` away."""
    lines = render_text(reply).splitlines()
    headings = {s.heading for s in (*reply.sections, *reply.more)}
    out = []
    for index, line in enumerate(lines):
        if index == 0:
            is_warning = reply.kind in (ReplyKind.REFUSAL, ReplyKind.NOT_RECOGNISED)
            out.append(style.warn(line) if is_warning else style.title(line))
        elif line in headings:
            out.append(style.heading(line))
        elif line.startswith(("Why this answer", "Sources:", "Catalog entry")):
            out.append(style.dim(line))
        else:
            out.append(line)
    if reply.more and reply.entry_id:
        out.append(style.dim(f"More (checks, step by step, prevention, FAQ): /more {reply.entry_id}"))
    buttons = [a for a in reply.actions if a.command in (Command.SHOW_ENTRY,)]
    if buttons:
        out.append(style.dim("See one: " + ", ".join(f"/show {a.value}" for a in buttons)))
    if reply.answer_id is not None:
        out.append(style.dim(f"(answer #{reply.answer_id})"))
    return "\n".join(out)


def parse_line(first_line: str) -> tuple[Command, str] | None:
    """A command line -> (command, argument); None for a plain paste line."""
    stripped = first_line.strip()
    if not stripped.startswith("/"):
        return None
    name, _, rest = stripped.partition(" ")
    command = COMMANDS.get(name.lower())
    return (command, rest.strip()) if command else None


async def run_console(
    service: SupportService,
    stdin: TextIO,
    stdout: TextIO,
    *,
    color: bool | None = None,
    user: str | None = None,
) -> None:
    style = _Style(stdout.isatty() if color is None else color)
    user_id = user or _whoami()
    read_line = _line_reader(stdin)

    def say(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    say(style.dim(BANNER))
    interactive = stdin.isatty()
    while True:
        if interactive:
            stdout.write(style.heading("you> "))
            stdout.flush()
        line = await read_line()
        if line == "":
            break
        if not line.strip():
            continue
        if line.strip().lower() in QUIT:
            break
        parsed = parse_line(line)
        if parsed is None and line.strip().startswith("/"):
            say(style.warn(f"Unknown command {line.split()[0]!r}.") + " Try /help.")
            continue
        if parsed is not None:
            command, text = parsed
            if command in (Command.ERRFIX, Command.QUOTA) and text:
                # A command may be followed by a multi-line paste, ended like any paste.
                text = "\n".join([text, *await _read_paste(read_line)]).strip()
        else:
            command = Command.MESSAGE
            text = "\n".join([line.rstrip("\n"), *await _read_paste(read_line)])
        incoming = Incoming(
            platform="console",
            channel_id="terminal",
            user_id=user_id,
            text=text,
            command=command,
            is_direct=True,
            platform_staff=True,
        )
        answers = await service.handle(incoming)
        if not answers:
            say(style.dim("(no answer: that does not look like an error I can help with)"))
        for reply in answers:
            say("")
            say(render_console(reply, style))
            say("")


async def _read_paste(read_line: Callable[[], Awaitable[str]]) -> list[str]:
    lines: list[str] = []
    while True:
        line = await read_line()
        if line == "" or not line.strip():
            return lines
        lines.append(line.rstrip("\n"))


def _line_reader(stdin: TextIO) -> Callable[[], Awaitable[str]]:
    """Read lines on a daemon thread: a blocked read must never keep a stopping process alive."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            try:
                line = stdin.readline()
            except (OSError, ValueError):
                line = ""
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                return
            if line == "":
                return

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    at_end = False

    async def read_line() -> str:
        nonlocal at_end
        if at_end:  # end of input stays the end, however often it is asked for
            return ""
        line = await lines.get()
        at_end = line == ""
        return line

    return read_line


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
