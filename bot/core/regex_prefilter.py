"""Literal fragments a regular expression needs, for a cheap "can it match at all?" test.

Running a few hundred catalog patterns over every message is most of the matcher's cost, yet almost
every pattern needs some literal word ("overloaded", "ECONNRESET") that the message lacks. Like the
literal prefilters of RE2 and Hyperscan, we read the requirements out of the parsed pattern once and
run the pattern only when the (lower-cased) text meets all of them. A requirement is a set of
alternatives, any one of which must occur: `(?:codex|claude) crashed` needs "crashed" and one of
"codex" or "claude".
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.sparse import SparseRows, Texts

try:  # the stdlib's own regex parser; private, so every failure just means "no prefilter"
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Python versions
    _sre_parser = None
    _sre_constants = None

Requirement = frozenset[str]  # any one of these fragments must occur
MAX_REQUIREMENTS = 4


def required_fragments(pattern: str) -> tuple[Requirement, ...]:
    """What every match of `pattern` contains, as any-of sets of lower-case fragments; () when unsure."""
    if _sre_parser is None:
        return ()
    try:
        parsed = _sre_parser.parse(pattern, re.IGNORECASE)
    except Exception:
        return ()
    requirements = [r for r in _sequence(list(parsed)) if all(f.isascii() and f for f in r)]
    # The most selective first: single long fragments before wide alternations.
    requirements.sort(key=_selectivity)
    return tuple(dict.fromkeys(requirements))[:MAX_REQUIREMENTS]


def _sequence(items: list[Any]) -> list[Requirement]:
    """Requirements of nodes that follow one another: each node's requirements all hold."""
    c = _sre_constants
    found: list[Requirement] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            found.append(frozenset({"".join(run).lower()}))
            run.clear()

    for op, arg in items:
        if op is c.LITERAL:
            run.append(chr(arg))
            continue
        flush()
        if op is c.SUBPATTERN:
            found.extend(_sequence(list(arg[-1])))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, body = arg
            if low >= 1:
                found.extend(_sequence(list(body)))
        elif op is c.ASSERT and arg[0] == 1:  # a positive lookahead: its content must be there too
            found.extend(_sequence(list(arg[1])))
        elif op is c.BRANCH:
            either = _branch(arg[1])
            if either:
                found.append(either)
        elif hasattr(c, "ATOMIC_GROUP") and op is c.ATOMIC_GROUP:
            found.extend(_sequence(list(arg)))
        # IN, ANY, AT, ASSERT_NOT, lookbehinds, GROUPREF...: nothing certain to read from them.
    flush()
    return found


def _branch(branches: list[Any]) -> Requirement | None:
    """One of the alternatives matches: the union of each alternative's strongest requirement."""
    union: set[str] = set()
    for branch in branches:
        inner = [r for r in _sequence(list(branch)) if r]
        if not inner:
            return None  # an alternative with no literal: the branch needs nothing certain
        strongest: Requirement = min(inner, key=_selectivity)
        union.update(strongest)
    return frozenset(union)


def _selectivity(requirement: Requirement) -> tuple[int, int]:
    """Fewer alternatives, then longer fragments: the likelier to rule a text out."""
    return len(requirement), -min(len(fragment) for fragment in requirement)


class PrefilteredPattern:
    """A pattern plus the requirements a text must meet for it to have a chance.

    The regular expression is compiled the first time a text meets the requirements: in a large
    catalog most patterns never get that far, and compiling them all would dominate start-up.
    """

    __slots__ = ("_regex", "flags", "pattern", "requirements")

    def __init__(self, pattern: str, flags: int, requirements: tuple[Requirement, ...] | None = None) -> None:
        self.pattern = pattern
        self.flags = flags
        self._regex: re.Pattern[str] | None = None
        self.requirements = required_fragments(pattern) if requirements is None else requirements

    def __getstate__(self) -> tuple[str, int, tuple[Requirement, ...]]:
        # A kept pattern is compiled again only when a text first needs it, as a new one is.
        return self.pattern, self.flags, self.requirements

    def __setstate__(self, state: tuple[str, int, tuple[Requirement, ...]]) -> None:
        self.pattern, self.flags, self.requirements = state
        self._regex = None

    @property
    def regex(self) -> re.Pattern[str]:
        if self._regex is None:
            self._regex = re.compile(self.pattern, self.flags)
        return self._regex

    def search(self, text: str, lowered: str) -> re.Match[str] | None:
        for requirement in self.requirements:
            if not any(fragment in lowered for fragment in requirement):
                return None
        return self.regex.search(text)


GRAM = 4  # fragments are filed under one run of this many characters


class FragmentIndex:
    """Which of many fragments occur in a text, each leading to its values (pattern positions).

    The same answer as an Aho-Corasick automaton over the fragments, from a dictionary instead: each
    fragment is filed under its rarest run of GRAM characters, a text's runs are looked up, and the
    fragments found that way are checked with a substring search. An automaton must be rebuilt node by
    node when loaded; this loads as a few lists, so a catalog of any size starts at once.
    """

    def __init__(self, fragments: Texts, values: SparseRows, grams: list[str], filed: SparseRows,
                 short: list[int]) -> None:
        self.fragments = fragments  # every fragment, by number
        self.values = values  # fragment number -> its values (columns)
        self.grams = grams  # the runs fragments are filed under
        self.filed = filed  # gram number -> the fragment numbers filed under it (columns)
        self.short = short  # fragments shorter than GRAM: each one tried on every text
        self._gram_numbers = dict(zip(grams, range(len(grams)), strict=True))

    @classmethod
    def build(cls, mapping: dict[str, tuple[int, ...]]) -> FragmentIndex:
        fragments = list(mapping)
        frequency: dict[str, int] = {}
        for fragment in fragments:
            for gram in {fragment[i : i + GRAM] for i in range(len(fragment) - GRAM + 1)}:
                frequency[gram] = frequency.get(gram, 0) + 1
        by_gram: dict[str, list[int]] = {}
        short: list[int] = []
        for number, fragment in enumerate(fragments):
            if len(fragment) < GRAM:
                short.append(number)
                continue
            runs = {fragment[i : i + GRAM] for i in range(len(fragment) - GRAM + 1)}
            by_gram.setdefault(min(runs, key=lambda gram: (frequency[gram], gram)), []).append(number)
        return cls(Texts.of(fragments), SparseRows.build([[(value, 1.0) for value in mapping[f]] for f in fragments]),
                   list(by_gram), SparseRows.build([[(number, 1.0) for number in row] for row in by_gram.values()]),
                   short)

    def state(self) -> tuple[Texts, SparseRows, list[str], SparseRows, list[int]]:
        return self.fragments, self.values, self.grams, self.filed, self.short

    def __len__(self) -> int:
        return len(self.fragments)

    def found(self, lowered: str) -> list[list[int]]:
        """The values of every fragment that occurs in `lowered`."""
        numbers = self._gram_numbers
        runs = {lowered[i : i + GRAM] for i in range(len(lowered) - GRAM + 1)}
        candidates = [*self.short]
        for gram in runs.intersection(numbers):
            candidates.extend(self.filed.row(numbers[gram])[0].tolist())
        fragments = self.fragments
        return [self.values.row(number)[0].tolist() for number in candidates if fragments[number] in lowered]
