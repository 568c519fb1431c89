"""`supportbot console` at a real (pseudo-)terminal: Enter answers a command, a paste ends at an empty line.

The chat runs as its own process with a pty for stdin and stdout, exactly as a person would start it.
Nothing here measures speed: the deadline only stops a broken build from hanging the suite. That
`/errfix 529 overloaded` is answered while no empty line was ever sent is the point.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

OVERLOADED = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
TITLE = b"Anthropic API overloaded (529)"
DEADLINE = 90.0  # startup loads the whole catalog; a shared CI machine can be slow
BRACKETED_PASTE = (b"\x1b[200~", b"\x1b[201~")  # how a terminal hands over pasted text


class Terminal:
    def __init__(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
        env.pop("DATABASE_URL", None)
        env.update(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1",
                   SUPPORTBOT_DB=f"sqlite:///{tmp_path / 'chat.db'}")
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "console"], stdin=slave, stdout=slave,
                                        stderr=slave, env=env, cwd=tmp_path, close_fds=True)
        os.close(slave)
        self.output = b""

    def read_until(self, marker: bytes, *, after: int = 0) -> int:
        """Read until `marker` shows up past offset `after`; return where it starts."""
        deadline = time.monotonic() + DEADLINE
        while (found := self.output.find(marker, after)) < 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{marker!r} never came; the terminal shows:\n"
                                     f"{self.output[-2000:].decode(errors='replace')}")
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    continue
        return found

    def type(self, keys: bytes) -> int:
        """Send keys; return the output offset before them, so later reads look only at what follows."""
        mark = len(self.output)
        os.write(self.master, keys)
        return mark

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path)
    try:
        term.read_until(b"you>")
        yield term
    finally:
        term.close()


def test_a_command_is_answered_on_enter(terminal: Terminal) -> None:
    mark = terminal.type(b"/errfix 529 overloaded\r")  # Enter once: no empty line follows
    terminal.read_until(TITLE, after=mark)
    terminal.read_until(b"you>", after=mark)  # and the prompt is back for the next line


def test_a_paste_ends_at_an_empty_line_and_quit_leaves_cleanly(terminal: Terminal) -> None:
    start, end = BRACKETED_PASTE
    mark = terminal.type(start + b"some log line\n" + OVERLOADED.encode() + end)
    terminal.type(b"\r")  # the paste's last line: still waiting for more
    terminal.type(b"\r")  # an empty line sends it
    terminal.read_until(b"Quick fix:", after=mark)
    quit_mark = terminal.type(b"/quit\r")
    assert terminal.process.wait(timeout=DEADLINE) == 0
    assert b"Traceback" not in terminal.output[quit_mark:]


def test_no_line_stops_the_chat(terminal: Terminal) -> None:
    mark = terminal.type(b"\xff\xfe not text \xc3\r\r")
    terminal.read_until(b"not valid UTF-8", after=mark)
    mark = terminal.type(b"/ack 99999999999999999999999\r")
    terminal.read_until(b"Which incident?", after=mark)
    mark = terminal.type(b"/errfix claude-code-529-overloaded\r")
    terminal.read_until(TITLE, after=mark)
    assert b"Traceback" not in terminal.output


def test_tab_completes_commands_and_entry_ids(terminal: Terminal) -> None:
    # Only a completed line gives these answers: "/inc" and a cut-off id are neither commands nor entries.
    mark = terminal.type(b"/inc\t")
    terminal.read_until(b"idents", after=mark)  # the completion is drawn (it runs in the background)
    terminal.type(b"\r")
    terminal.read_until(b"Support overview", after=mark)
    mark = terminal.type(b"/more claude-code-529-overl\t")
    terminal.read_until(b"oaded", after=mark)
    terminal.type(b"\r")
    terminal.read_until(b"Step by step", after=mark)
