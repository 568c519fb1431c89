"""Required literal fragments of a regular expression, for a cheap "can it match at all?" test.

Running a few hundred catalog patterns over every message is most of the matcher's cost, yet almost
every pattern needs some literal word ("overloaded", "ECONNRESET") that the message lacks. Like the
literal prefilters of RE2 and Hyperscan, we read those words out of the parsed pattern once and try
the pattern only when all of them occur in the (lower-cased) text.
"""

from __future__ import annotations

import re
from typing import Any

try:  # the stdlib's own regex parser; private, so every failure just means "no prefilter"
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Python versions
    _sre_parser = None
    _sre_constants = None

MIN_FRAGMENT = 3


def required_fragments(pattern: str) -> tuple[str, ...]:
    """Lower-case ASCII fragments that every match of `pattern` contains; () when unsure."""
    if _sre_parser is None:
        return ()
    try:
        parsed = _sre_parser.parse(pattern, re.IGNORECASE)
    except Exception:
        return ()
    fragments: list[str] = []
    _walk(list(parsed), fragments)
    unique = sorted({f for f in fragments if len(f) >= MIN_FRAGMENT and f.isascii()}, key=len, reverse=True)
    return tuple(unique[:4])


def _walk(items: list[Any], out: list[str]) -> None:
    """Collect literal runs from a sequence of parsed nodes; only nodes that must occur count."""
    c = _sre_constants
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append("".join(run).lower())
            run.clear()

    for op, arg in items:
        if op is c.LITERAL:
            run.append(chr(arg))
            continue
        flush()
        if op is c.SUBPATTERN:
            _walk(list(arg[-1]), out)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, body = arg
            if low >= 1:
                _walk(list(body), out)
        elif op is c.ATOMIC_GROUP if hasattr(c, "ATOMIC_GROUP") else False:
            _walk(list(arg), out)
        # BRANCH, IN, ANY, AT, ASSERT, ASSERT_NOT, GROUPREF...: nothing is certain inside them.
    flush()


class PrefilteredPattern:
    """A compiled pattern plus the fragments a text must contain for it to have a chance."""

    __slots__ = ("fragments", "regex")

    def __init__(self, pattern: str, flags: int) -> None:
        self.regex = re.compile(pattern, flags)
        self.fragments = required_fragments(pattern)

    def search(self, text: str, lowered: str) -> re.Match[str] | None:
        for fragment in self.fragments:
            if fragment not in lowered:
                return None
        return self.regex.search(text)
