"""The terminal chat: a newcomer's first contact with the bot, and the fastest end-to-end check.

A line starting with "/" is a command and is answered when Enter is pressed (`/errfix 529 overloaded`,
`/quota weekly at 80%`); anything else is a paste, which ends at an empty line or Ctrl-D and then goes
through the same triage a channel message does (`bot.core.triage`). Commands share the grammar of
Slack and Discord (`bot.core.commands`). The person at the terminal is the operator, so staff commands
are allowed here.

At a real terminal the input line is prompt_toolkit's: history, a multi-line paste arrives whole, and
Tab completes commands and catalog entry ids, and replies are rendered by rich. Without a terminal (a
pipe, a file, tests) lines are read plainly and the output is plain text. No line can stop the chat:
text that is not UTF-8 or a command that fails gets a one-line answer and the next line is read as usual.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from bot.core.commands import PASTE_COMMANDS, TERMINAL_COMMANDS, parse_line
from bot.core.models import Command, Incoming, Reply, ReplyKind
from bot.core.ports import PlainPort, Posted
from bot.core.replies import render_text
from bot.core.service import SupportService

log = logging.getLogger(__name__)

QUIT = {"/quit", "/exit", "/q"}
BANNER = (
    "supportbot terminal chat — type a command and press Enter, or paste an error and end it with an\n"
    "empty line (or Ctrl-D). Commands: /errfix TEXT, /quota TEXT, /incidents, /more ENTRY-ID, /help, /quit"
)
BUNDLE_HEADING = "Support bundle"
NOT_TEXT = "That input is not valid UTF-8 text, so nothing was sent. Paste it again as plain text."


# Rich styles by the role of a line; "" is plain. Without a terminal nothing is styled at all.
TITLE, WARN, HEADING, DIM = "bold cyan", "bold yellow", "bold", "dim"


def render_console(reply: Reply) -> list[tuple[str, str]]:
    """The reply as (style, line) pairs: the plain-text reply, the rest one `/more` away, and a support
    bundle as one block between two rules with nothing else inside, ready to copy."""
    bundles = [s for s in reply.sections if s.heading == BUNDLE_HEADING]
    shown = reply if not bundles else _without(reply, BUNDLE_HEADING)
    headings = {s.heading for s in (*shown.sections, *shown.more)}
    out: list[tuple[str, str]] = []
    for index, line in enumerate(render_text(shown).splitlines()):
        if index == 0:
            out.append((WARN if reply.kind in (ReplyKind.REFUSAL, ReplyKind.NOT_RECOGNISED) else TITLE, line))
        elif line in headings:
            out.append((HEADING, line))
        elif line.startswith(("Why this answer", "Sources:", "Catalog entry")):
            out.append((DIM, line))
        else:
            out.append(("", line))
    for bundle in bundles:
        rule = (DIM, "─" * 60)
        out += [("", ""), (HEADING, f"{BUNDLE_HEADING} (copy everything between the lines)"), rule,
                *(("", line) for line in "\n".join(bundle.items).splitlines()), rule]
    if reply.more and reply.entry_id:
        out.append((DIM, f"More (checks, step by step, prevention, FAQ): /more {reply.entry_id}"))
    buttons = [a for a in reply.actions if a.command in (Command.SHOW_ENTRY,)]
    if buttons:
        out.append((DIM, "See one: " + ", ".join(f"/show {a.value}" for a in buttons)))
    if reply.answer_id is not None:
        out.append((DIM, f"(answer #{reply.answer_id})"))
    return out


def _without(reply: Reply, heading: str) -> Reply:
    return replace(reply, sections=tuple(s for s in reply.sections if s.heading != heading))


class _TerminalPort(PlainPort):
    """The terminal as a conversation (`bot.core.ports.ChatPort`): answers are printed, edits reprinted.
    The operator is staff; receipts, threads and channel names do not exist here."""

    def __init__(self, show: Callable[[Reply, str], None]) -> None:
        self.show = show
        self.posted = 0

    async def post(self, reply: Reply) -> Posted | None:
        self.posted += 1
        self.show(reply, "")
        return Posted("terminal", str(self.posted))

    async def edit(self, posted: Posted, reply: Reply) -> None:
        self.posted += 1
        self.show(reply, "(your pastes so far, answered together)")

    async def is_staff(self) -> bool:
        return True


class TerminalChat:
    """One turn at a time: a command line or a whole paste in, the replies out.

    With `color`, lines are printed by rich (styles, the terminal's own width; long lines are never
    broken, so a copied bundle stays intact); without it, as plain text.
    """

    def __init__(self, service: SupportService, stdout: TextIO, *, color: bool, user: str) -> None:
        self.service = service
        self.stdout = stdout
        self.rich = Console(file=stdout, force_terminal=True, highlight=False, soft_wrap=True) if color else None
        self.user = user
        self.port = _TerminalPort(self.show)

    def say(self, text: str, style: str = "") -> None:
        if self.rich is not None:
            self.rich.print(Text(text, style=style))
        else:
            self.stdout.write(text + "\n")
        self.stdout.flush()

    def show(self, reply: Reply, note: str = "") -> None:
        self.say("")
        if note:
            self.say(note, DIM)
        for style, line in render_console(reply):
            self.say(line, style)
        self.say("")

    async def turn(self, text: str) -> bool:
        """Answer one command or paste; False when the person asked to quit. Never raises for any input."""
        try:
            return await self._turn(text)
        except Exception as exc:  # one bad line must never end the chat or eat the lines after it
            log.debug("terminal turn failed", exc_info=True)
            self.say(f"Sorry, that failed ({type(exc).__name__}). The chat goes on.", WARN)
            return True

    async def _turn(self, text: str) -> bool:
        stripped = text.strip()
        if not stripped:
            return True
        if _has_undecodable(stripped):
            self.say(NOT_TEXT, WARN)
            return True
        first, _, rest = stripped.partition("\n")
        if first.strip().lower() in QUIT:
            return False
        if not first.startswith("/"):
            before = self.port.posted
            await self.service.triage.handle(self._incoming(Command.MESSAGE, stripped), self.port)
            if self.port.posted == before:
                self.say("(no answer: that does not look like an error I can help with)", DIM)
            return True
        parsed = parse_line(first)
        if parsed is None:
            self.say(f"Unknown command {first.split()[0]!r}. Try /help.", WARN)
            return True
        command, argument = parsed
        if rest.strip() and command in PASTE_COMMANDS:  # a command followed by a multi-line paste
            argument = f"{argument}\n{rest}".strip()
        await self.service.respond(self._incoming(command, argument), self.port)
        return True

    def _incoming(self, command: Command, text: str) -> Incoming:
        return Incoming(platform="console", channel_id="terminal", user_id=self.user, text=text,
                        command=command, is_direct=True, platform_staff=True)


async def run_console(
    service: SupportService,
    stdin: TextIO,
    stdout: TextIO,
    *,
    color: bool | None = None,
    user: str | None = None,
) -> None:
    interactive = _isatty(stdin) and _isatty(stdout)
    chat = TerminalChat(service, stdout, color=_isatty(stdout) if color is None else color,
                        user=user or _whoami())
    chat.say(BANNER, DIM)
    read_turn = _prompt_reader(service, stdin, stdout) if interactive else _plain_reader(stdin)
    while True:
        text = await read_turn()
        if text is None or not await chat.turn(text):
            break


# -- reading: a plain line reader (pipes, files, tests) ------------------------------------------------


def _plain_reader(stdin: TextIO) -> Callable[[], Awaitable[str | None]]:
    """Turns from plain lines: a "/" line on its own, else every line up to an empty one (or the end)."""
    read_line = _line_reader(stdin)

    async def read_turn() -> str | None:
        line = await read_line()
        while line is not None and not line.strip():
            line = await read_line()
        if line is None:
            return None
        if line.lstrip().startswith("/"):
            return line
        lines = [line]
        while (more := await read_line()) is not None and more.strip():
            lines.append(more)
        return "\n".join(lines)

    return read_turn


_readers: weakref.WeakKeyDictionary[Any, Callable[[], Awaitable[str | None]]] = weakref.WeakKeyDictionary()


def _line_reader(stdin: TextIO) -> Callable[[], Awaitable[str | None]]:
    """Lines without their newline, None at the end. Read on a daemon thread (a blocked read must never
    keep a stopping process alive), once per input: a restarted chat goes on reading the same lines."""
    existing = _readers.get(stdin)
    if existing is not None:
        return existing
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    raw = getattr(stdin, "buffer", None)

    def next_line() -> str | None:
        if raw is None:
            text = stdin.readline()
            return text if text else None
        data = raw.readline()  # bytes: a line that is not UTF-8 must not end the input
        return data.decode("utf-8", errors="surrogateescape") if data else None

    def pump() -> None:
        while True:
            try:
                line = next_line()
            except (OSError, ValueError):
                line = None
            try:
                loop.call_soon_threadsafe(lines.put_nowait, None if line is None else line.rstrip("\r\n"))
            except RuntimeError:  # the loop is closed: nobody is listening any more
                return
            if line is None:
                return

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    at_end = False

    async def read_line() -> str | None:
        nonlocal at_end
        if at_end:  # end of input stays the end, however often it is asked for
            return None
        line = await lines.get()
        at_end = line is None
        return line

    _readers[stdin] = read_line
    return read_line


# -- reading: prompt_toolkit at a real terminal -------------------------------------------------------------


def _prompt_reader(service: SupportService, stdin: TextIO, stdout: TextIO) -> Callable[[], Awaitable[str | None]]:
    """Enter sends a command line at once; a paste is sent by an empty line (Enter twice), Ctrl-D or Alt-Enter."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.document import Document
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.input import create_input
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
    from prompt_toolkit.output import create_output

    class _Completions(Completer):
        """Command names, then entry ids after /errfix, /more and /show."""

        def get_completions(self, document: Document, complete_event: Any) -> Iterable[Completion]:
            text = document.text_before_cursor
            if "\n" in text or not text.startswith("/"):
                return
            name, space, word = text.partition(" ")
            if not space:
                for command in (*sorted(TERMINAL_COMMANDS), "quit"):
                    if command.startswith(name[1:]):
                        yield Completion(f"/{command}", start_position=-len(name))
                return
            if name in ("/errfix", "/more", "/show") and " " not in word:
                found = service.complete(word, 25)
                # Ids that start with what was typed complete in place; otherwise the closest few are offered.
                for entry in [e for e in found if e.id.startswith(word)] or found:
                    yield Completion(entry.id, start_position=-len(word), display_meta=entry.title[:40])

    keys = KeyBindings()

    @keys.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        text = buffer.text
        one_line_command = text.lstrip().startswith("/") and "\n" not in text.strip()
        if one_line_command or (text.strip() and text.endswith("\n")):
            buffer.validate_and_handle()
        elif text.strip():
            buffer.insert_text("\n")

    @keys.add("c-d")
    def _ctrl_d(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.text.strip():
            buffer.validate_and_handle()
        else:
            event.app.exit(exception=EOFError)

    @keys.add("escape", "enter")
    def _send(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    session: PromptSession[str] = PromptSession(
        multiline=True, history=InMemoryHistory(), completer=_Completions(), complete_while_typing=False,
        key_bindings=keys, prompt_continuation="... ", input=create_input(stdin), output=create_output(stdout),
    )

    async def read_turn() -> str | None:
        try:
            return await session.prompt_async("you> ")
        except EOFError:
            return None
        except KeyboardInterrupt:
            return ""

    return read_turn


def _has_undecodable(text: str) -> bool:
    """Bytes that were not UTF-8 arrive as lone surrogates; they can be neither stored nor printed."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
