"""What a catalog file must not do to the process reading it: hang, fill memory, or make matching slow.

A catalog folder is data written by people, possibly a shared folder or a pull request, so reading it is
guarded like any other input:

* `read_entry_file` opens only regular files (a FIFO would block forever, `/dev/zero` never ends), never
  follows a symbolic link out of the folder, and stops reading at a hard byte limit whatever the file's
  size claims to be;
* `load_yaml` refuses aliases (`*name`: a few lines can expand to gigabytes) and nesting deeper than any
  entry needs, before any object is built;
* `pattern_problem` refuses regular expressions whose time can explode: a quantifier over something
  that is itself repeated (`(a+)+`), and anything a timed trial on adversarial text finds too slow.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 512 * 1024
MAX_YAML_DEPTH = 12  # an entry is a mapping of lists of mappings: depth 4 is plenty
TRIAL_CHARS = 2048  # longest adversarial text tried; linear patterns search it in well under 1 ms
TRIAL_SECONDS = 0.05  # one search slower than this is refused (a quadratic pattern at 12 KB: seconds)
# A search that takes this long on a trial text and grows this much while the text doubles twice is
# quadratic or worse (16x; linear is 4x): on a fast machine it may stay under TRIAL_SECONDS at
# TRIAL_CHARS, yet a longer paste still takes seconds.
GROWTH_FLOOR_SECONDS = 0.004
GROWTH_OVER_TWO_DOUBLINGS = 9.0
RELOOK_SECONDS = 0.0005  # a search this slow is timed again (linear patterns take ~0.02 ms: never)
CONFIRM_ROUNDS = 5  # a growth that would refuse a pattern is timed again this many times
SMALL_REPEAT = 10  # an outer repeat of at most this many rounds is not a blow-up


class FileRefused(Exception):
    """A catalog file that is not read; the message says why in words for the author."""


def read_entry_file(path: Path, folder: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of one catalog file, or `FileRefused`. Never blocks on a FIFO or reads past `limit`."""
    try:
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(folder.resolve()):
                raise FileRefused("is a symbolic link to a file outside the catalog folder")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise FileRefused(f"cannot read file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"is not a regular file ({_kind(info.st_mode)}); only plain files are read")
        if info.st_size > limit:
            raise FileRefused(f"file is {info.st_size} bytes; the limit is {limit}")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(descriptor, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew, or its size lied
                raise FileRefused(f"file is more than {limit} bytes; the limit is {limit}")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"


# ---------------------------------------------------------------------------------------------
# YAML


class _EntryLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting while composing, before objects are built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in catalog files; write the value out",
                event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# libyaml's parser and constructor, when PyYAML was built with it: about twenty times faster than the
# pure-Python ones, which decides how long a first start of a large catalog takes.
_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def load_yaml(text: str) -> Any:
    """Parse one catalog file; raises `yaml.YAMLError` (or ValueError for an absurd scalar)."""
    if _CSafeLoader is None:
        loader = _EntryLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    # The C composer cannot be told to refuse aliases or deep nesting, so the event stream (flat, and
    # cheap) is checked first; only a file that passes is composed and built.
    _check_events(text)
    return yaml.load(text, Loader=_CSafeLoader)  # a safe loader, in C


def _check_events(text: str) -> None:
    """`_EntryLoader`'s refusals, over libyaml's events: no alias, no nesting deeper than allowed."""
    scanner = _CSafeLoader(text)
    depth = 0
    try:
        while (event := scanner.get_event()) is not None:
            if isinstance(event, yaml.AliasEvent):
                raise _refusal("aliases (*name) are not allowed in catalog files; write the value out",
                               event.start_mark)
            if isinstance(event, _OPENS):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise _refusal(f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
            elif isinstance(event, _CLOSES):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" not in str(exc.problem):
            raise
        # libyaml scans ahead and stops at its own depth limit first: the same refusal, in our words.
        raise _refusal(f"nested deeper than {MAX_YAML_DEPTH} levels", exc.problem_mark) from None
    finally:
        scanner.dispose()


def _refusal(problem: str, mark: Any) -> yaml.YAMLError:
    """The error the pure-Python loader raises for the same refusal (libyaml's marks are another type)."""
    return yaml.composer.ComposerError(None, None, problem, mark)


# ---------------------------------------------------------------------------------------------
# Regular expressions

try:  # the stdlib's own regex parser; private, so when missing only the timed trial remains
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Python versions
    _sre_parser = None
    _sre_constants = None


@functools.lru_cache(maxsize=8192)
def pattern_problem(pattern: str, flags: int = re.IGNORECASE | re.DOTALL) -> str | None:
    """Why `pattern` may not run over chat text, or None when it is safe. Results are cached per pattern."""
    nested = _nested_quantifier(pattern, flags)
    if nested:
        return (f"a repeated group holds another repeat ({nested}): its time explodes on near-misses; "
                "make the inner part possessive (x++) or atomic ((?>...)), or write it without the nesting")
    try:
        compiled = re.compile(pattern, flags)
    except re.error:
        return None  # reported by the caller as an invalid regular expression
    slow = _timed_trial(compiled, pattern)
    if slow:
        return f"too slow on adversarial text ({slow}); rewrite it so each part can match in only one way"
    return None


@functools.lru_cache(maxsize=64)
def _parsed(pattern: str, flags: int) -> list[Any] | None:
    """The stdlib parser's tree of `pattern` (read, never changed): parsed once for both checks that read it."""
    if _sre_parser is None:
        return None
    try:
        return list(_sre_parser.parse(pattern, flags))
    except Exception:
        return None


def _repeat_ops() -> tuple[Any, ...]:
    c = _sre_constants
    return (c.MAX_REPEAT, c.MIN_REPEAT)


def _nested_quantifier(pattern: str, flags: int) -> str | None:
    if _sre_parser is None:
        return None
    parsed = _parsed(pattern, flags)
    return None if parsed is None else _find_nested(parsed, outer=None)


def _find_nested(items: list[Any], outer: str | None) -> str | None:
    c = _sre_constants
    for op, arg in items:
        if op in _repeat_ops():
            low, high, body = arg
            big = high is c.MAXREPEAT or high > SMALL_REPEAT
            if outer is not None and (high is c.MAXREPEAT or high > 1):
                return outer
            if big and _delimited(list(body)):
                continue  # (?:\.\d+)*: each round starts with a character its repeats cannot eat
            inner = _find_nested(list(body), _describe_repeat(low, high) if big else outer)
            if inner:
                return inner
        elif op is c.SUBPATTERN:
            found = _find_nested(list(arg[-1]), outer)
            if found:
                return found
        elif op is c.BRANCH:
            for branch in arg[1]:
                found = _find_nested(list(branch), outer)
                if found:
                    return found
        elif op in (c.ASSERT, c.ASSERT_NOT):
            found = _find_nested(list(arg[1]), outer)
            if found:
                return found
        # POSSESSIVE_REPEAT and ATOMIC_GROUP never backtrack into their body: safe inside a repeat.
    return None


def _delimited(body: list[Any]) -> bool:
    """The body starts with a literal character that none of its other parts can match."""
    c = _sre_constants
    if not body or body[0][0] is not c.LITERAL:
        return False
    delimiter = chr(body[0][1])
    return not _can_match(body[1:], delimiter)


def _can_match(items: list[Any], ch: str) -> bool:
    """Whether any single-character part of `items` (at any depth) could match `ch` (when unsure: yes)."""
    c = _sre_constants
    for op, arg in items:
        if op is c.LITERAL:
            if chr(arg).lower() == ch.lower():
                return True
        elif op is c.NOT_LITERAL or op is c.ANY:
            return True
        elif op is c.IN:
            if _in_class(arg, ch):
                return True
        elif op in (*_repeat_ops(), getattr(c, "POSSESSIVE_REPEAT", None)):
            if _can_match(list(arg[2]), ch):
                return True
        elif op is c.SUBPATTERN:
            if _can_match(list(arg[-1]), ch):
                return True
        elif op is c.BRANCH:
            if any(_can_match(list(branch), ch) for branch in arg[1]):
                return True
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # zero-width
        else:
            return True
    return False


_CATEGORY_TESTS = {"DIGIT": str.isdigit, "WORD": lambda x: x.isalnum() or x == "_", "SPACE": str.isspace}


def _in_class(items: list[Any], ch: str) -> bool:
    c = _sre_constants
    negate = False
    hit = False
    for op, arg in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            hit = hit or chr(arg).lower() == ch.lower()
        elif op is c.RANGE:
            hit = hit or arg[0] <= ord(ch.lower()) <= arg[1] or arg[0] <= ord(ch.upper()) <= arg[1]
        elif op is c.CATEGORY:
            name = str(arg).rsplit("_", 1)[-1]
            test = _CATEGORY_TESTS.get(name)
            if test is None:
                return True
            result = test(ch)
            hit = hit or (not result if "NOT" in str(arg) else result)
        else:
            return True
    return hit != negate


def _describe_repeat(low: int, high: Any) -> str:
    c = _sre_constants
    if high is c.MAXREPEAT:
        return "a '*' or '+' around a repeat" if low <= 1 else f"'{{{low},}}' around a repeat"
    return f"'{{{low},{high}}}' around a repeat"


def _atoms(pattern: str, flags: int) -> list[str]:
    """Literal runs and a representative of each character class: what adversarial text is made of."""
    if _sre_parser is None:
        return []
    parsed = _parsed(pattern, flags)
    if parsed is None:
        return []
    found: list[str] = []
    _collect(parsed, found)
    return list(dict.fromkeys(a for a in found if a))[:12]


def _collect(items: list[Any], found: list[str]) -> None:
    c = _sre_constants
    run: list[str] = []
    for op, arg in items:
        if op is c.LITERAL:
            run.append(chr(arg))
            continue
        if run:
            found.append("".join(run))
            run = []
        if op is c.IN:
            found.append(_representative(arg))
        elif op is c.ANY:
            found.append("a")
        elif op in (*_repeat_ops(), getattr(c, "POSSESSIVE_REPEAT", None)):
            _collect(list(arg[2]), found)
        elif op is c.SUBPATTERN:
            _collect(list(arg[-1]), found)
        elif op is c.BRANCH:
            for branch in arg[1]:
                _collect(list(branch), found)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            _collect(list(arg[1]), found)
    if run:
        found.append("".join(run))


def _representative(items: list[Any]) -> str:
    c = _sre_constants
    for op, arg in items:
        if op is c.LITERAL:
            return chr(arg)
        if op is c.RANGE:
            return chr(arg[0])
        if op is c.CATEGORY:
            name = str(arg)
            return "1" if "DIGIT" in name and "NOT" not in name else " " if "SPACE" in name and "NOT" not in name \
                else "a"
    return "a"


def _adversarial_texts(pattern: str, flags: int) -> list[str]:
    """Repetitions that match part of the pattern over and over and then fail: where backtracking lives."""
    atoms = _atoms(pattern, flags)
    longest = sorted(atoms, key=len, reverse=True)[:3]
    # All of it but the last part (a near-miss: every start gets far, then fails), all of it, the
    # longest parts alone, then generic runs.
    pieces = [" ".join(atoms[:-1]), " ".join(atoms), *longest[:2], (longest or ["a"])[0] + " ", "a-"]
    return list(dict.fromkeys(p for p in pieces if p))[:6]


def _cpu_seconds(compiled: re.Pattern[str], text: str) -> float:
    """CPU time of this thread for one search: other processes on a busy machine do not count."""
    started = time.thread_time()
    compiled.search(text)
    return time.thread_time() - started


def _timed_trial(compiled: re.Pattern[str], pattern: str) -> str | None:
    """Search adversarial texts of growing size; stop at the first that takes longer than the budget.

    Sizes grow by small steps while short, so an exponential pattern is caught at a few dozen characters
    (before one search takes minutes), then geometrically up to what the matcher scans.
    """
    texts = _adversarial_texts(pattern, compiled.flags)
    sizes = [*range(4, 34, 2), 48, 64, 128, 256, 512, 1024, TRIAL_CHARS]
    seen: dict[str, dict[int, float]] = {piece: {} for piece in texts}  # piece -> size -> seconds
    for size in sizes:
        for piece in texts:
            text = _repeated(piece, size)
            elapsed = _cpu_seconds(compiled, text)
            if elapsed > RELOOK_SECONDS:  # the best of three, in case of a hiccup
                elapsed = min(elapsed, _cpu_seconds(compiled, text), _cpu_seconds(compiled, text))
            if elapsed > TRIAL_SECONDS:
                return f"{elapsed:.1f} s for {size} characters of {piece[:20]!r} repeated"
            seen[piece][size] = elapsed
            quarter = seen[piece].get(size // 4) if size % 4 == 0 else None
            if quarter is None or elapsed <= GROWTH_FLOOR_SECONDS or elapsed <= GROWTH_OVER_TWO_DOUBLINGS * quarter:
                continue
            # Two doublings, not one: a linear pattern slow enough to come near the floor grows 4x
            # over them, a quadratic one 16x, so a time inflated by other work on the machine cannot
            # pass for growth. Confirmed before refusing: both sizes timed again in turns, best of each.
            shorter = _repeated(piece, size // 4)
            for _ in range(CONFIRM_ROUNDS):
                quarter = min(quarter, _cpu_seconds(compiled, shorter))
                elapsed = min(elapsed, _cpu_seconds(compiled, text))
            if elapsed > GROWTH_FLOOR_SECONDS and elapsed > GROWTH_OVER_TWO_DOUBLINGS * quarter:
                return (f"{elapsed * 1000:.0f} ms for {size} characters of {piece[:20]!r} repeated, "
                        f"{elapsed / max(quarter, 1e-9):.1f}x the time of a quarter as many")
            seen[piece][size] = elapsed
    return None


def _repeated(piece: str, size: int) -> str:
    """`piece` repeated to `size` characters, then a character no pattern expects: the search fails late."""
    return (piece * (size // len(piece) + 1))[:size] + "\x00!"
