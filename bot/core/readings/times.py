"""Reset times: read the time expression after a reset lead-in, and resolve it to UTC when it can be.

The expression is kept as written (that is what the contract reports); ``resolve_reset`` turns it
into an absolute UTC time where the text pins it down: an epoch stamp, an ISO stamp with an offset,
a relative duration ("in 3h 20m"), or a date and/or clock time with a named zone ("Jul 26, 5:59am
(America/Los_Angeles)"). Calendar words in every language of the lexicon are understood; the
calendar arithmetic itself is python-dateutil's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as du_parser
from dateutil import tz as du_tz
from dateutil.relativedelta import relativedelta

from bot.core.readings.lexicon import LEXICON as LX

__all__ = ["ANCHOR_KINDS", "EPOCH_RE", "is_relative_span", "resolve_reset", "scan_time_expression"]

_NUMBER_WORDS = dict(LX.numbers.get("number_words", {}))
_MONTH_NUMBERS = dict(LX.numbers.get("months", {}))
_WEEKDAY_NUMBERS = dict(LX.numbers.get("weekdays", {}))
# Abbreviations that are also words ("set.", "out.") are listed with their dot and only read with it.
_MONTH_NAMES = {k.rstrip("."): v for k, v in _MONTH_NUMBERS.items()}
_WEEKDAY_NAMES = {k.rstrip("."): v for k, v in _WEEKDAY_NUMBERS.items()}
_RELATIVE_DAYS = dict(LX.numbers.get("relative_days", {}))
_UNIT_KINDS = ("weeks", "days", "hours", "minutes", "seconds")
_UNIT_OF = {w.lower(): kind for kind in _UNIT_KINDS for w in LX.words(f"units.{kind}")}


def _bare_alt(words: Iterable[str]) -> str:
    """An alternation of literal words that may follow a digit directly ("5h", "3日")."""
    items = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in items) + ")"


# A unit is whole when no Latin letter follows ("5 horas", not "5 horasX"); a script without spaces runs
# on ("3時間後", "3시간 후"), but "3日目" is the third day, not a span.
_LATIN_AFTER = r"(?![A-Za-z\u00c0-\u024f]|目)"
_UNIT = _bare_alt(_UNIT_OF) + _LATIN_AFTER
_COUNT_WORD = _bare_alt(_NUMBER_WORDS)
_MONTHS = _bare_alt(_MONTH_NUMBERS)
_WEEKDAYS = _bare_alt(_WEEKDAY_NUMBERS)
_DAY_WORDS = _bare_alt(_RELATIVE_DAYS)
# "next Monday", "下周一", "来週月曜", "다음 주 월요일": said before a weekday, in every language
_NEXT_WORDS = _bare_alt(LX.words("next_words"))
_WEEKDAY_IN_RE = re.compile(_WEEKDAYS, re.IGNORECASE)
_CLOCK_SUFFIX = "(?:" + LX.alt("clock_suffix") + ")"
# "after" said after a duration, where a language puts it there: "3時間後", "3小时后", "3시간 후"
_RELATIVE_AFTER = _bare_alt(LX.words("reset.relative_after")) + _LATIN_AFTER
# An hour said as a word after its number ("5時", "5点半", "오후 5시 30분", "17 Uhr"), with the part of
# the day before it ("下午", "오후"); never the start of an hour unit ("5時間", "5시간" are spans).
_CLOCK_HOUR = _bare_alt(LX.words("clock_hour"))
_CLOCK_MINUTE = _bare_alt(LX.words("clock_minute"))
_DAY_PART = _bare_alt(LX.words("day_part"))
_WORD_CLOCK = (
    rf"(?:{_DAY_PART}\s*)?\d{{1,2}}\s*(?!{_bare_alt(LX.words('units.hours'))}){_CLOCK_HOUR}"
    rf"(?:\s*\d{{1,2}}\s*{_CLOCK_MINUTE}|\s*{_CLOCK_MINUTE}|\s+\d{{2}}(?![\d%.,]))?"
)

_TIME_TOKEN_RE = re.compile(
    r"(?P<iso>\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?)(?![\w:])"
    r"|(?P<numdate>\d{1,2}/\d{1,2}(?:/\d{2,4})?)(?![\d/])"
    r"|(?P<jdate>\d{1,2}月\d{1,2}日)"
    rf"|(?P<duration>(?:\d+(?:\.\d+)?\s*{_UNIT}|{_COUNT_WORD}\s+{_UNIT})"
    rf"(?:\s*(?:,\s*|and\s+|e\s+|y\s+|et\s+|und\s+)?\d+(?:\.\d+)?\s*{_UNIT}){{0,6}}"
    rf"(?:\s*{_RELATIVE_AFTER})?)"
    r"|(?P<clock>\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}(?::\d{2})?(?:\s*" + _CLOCK_SUFFIX + r")?"
    r"|\d{1,2}\s*h\d{2}\b|" + _WORD_CLOCK + ")"
    rf"|(?P<weekday>{_WEEKDAYS}\.?){_LATIN_AFTER}"
    rf"|(?P<month>{_MONTHS}\.?){_LATIN_AFTER}"
    r"|(?P<year>(?:19|20)\d{2})(?![\d:])"
    # a German ordinal day carries a dot before its month: "am 3. November"
    rf"|(?P<day>\d{{1,2}}(?:st|nd|rd|th|º|°|\.(?=\s*{_MONTHS}))?)(?![\d:.%,]\d|[\d:%])"
    # A day word is whole when no Latin letter follows: "明天下午5点" runs on in its own script.
    rf"|(?P<word>{_DAY_WORDS}|{_NEXT_WORDS}\s*(?:week|month|{_WEEKDAYS}))(?![A-Za-z\u00c0-\u024f])"
    r"|(?P<zone>\((?:[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+|UTC|GMT|(?-i:[A-Z]{2,5})|UTC[+-]\d{1,2}(?::?\d{2})?)\)"
    r"|\b(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?\b|(?-i:\b[A-Z]{1,3}[SD]?T\b)|(?-i:\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b)"
    # a zone spelled out in words, as translated notices write it: "(horário de Tóquio)", "(heure de Paris)"
    r"|\((?:horário|hora|heure|ora|orario|Uhrzeit)\s+(?:de|di|d'|da|do|von)\s*[^()\n]{1,30}\))"
    r"|(?P<connector>at|on|de|del|the|às|à|a\s+las|alle|um|,|-)(?![^\W\d_])",
    re.IGNORECASE,
)
ANCHOR_KINDS = frozenset({"iso", "numdate", "jdate", "duration", "clock", "weekday", "month", "word", "epoch"})
_INLINE_SPACE_RE = re.compile(r"[ \t]+")
_CLOCK_SUFFIX_RE = re.compile(r"\s*" + _CLOCK_SUFFIX + "$", re.IGNORECASE)
_RELATIVE_IN_RE = re.compile(
    "(?:" + LX.alt("reset.relative") + r")\s+(?:(?:" + LX.alt("approx") + r"|just|less\s+than|under|over)\s*)?",
    re.IGNORECASE,
)
EPOCH_RE = re.compile(r"\d{10}\b")
_RELATIVE_AFTER_RE = re.compile(_RELATIVE_AFTER + r"\s*$")
_HOUR_ONLY_RE = re.compile(r"\d{1,2}\s*h", re.IGNORECASE)


def is_relative_span(value: str) -> bool:
    """A span said as a time from now: "in 3h", "en 2 horas", "3時間後" (not a bare "5 hours")."""
    return bool(_RELATIVE_IN_RE.match(value) or _RELATIVE_AFTER_RE.search(value))


def scan_time_expression(text: str, pos: int) -> tuple[int, list[tuple[str, str]]] | None:
    """Read one time expression starting at `pos`; return its end and its tokens, or None.

    Token by token, so the value stops exactly where the time expression stops ("...(Asia/Seoul)/login"
    gives "...(Asia/Seoul)") and wrapped lines inside a duration ("11\\nminutes") still read as one.
    """
    tokens: list[tuple[str, str]] = []
    end = pos
    cursor = pos
    relative = False
    m_in = _RELATIVE_IN_RE.match(text, pos)
    if m_in:
        relative = True
        cursor = m_in.end()
    for _ in range(16):  # a time expression is short; the bound keeps junk cheap
        m = _TIME_TOKEN_RE.match(text, cursor)
        if not m:
            break
        kind = m.lastgroup or ""
        if kind == "duration" and tokens and tokens[-1][0] == "connector" and _HOUR_ONLY_RE.fullmatch(m.group(0)):
            kind = "clock"  # "às 7h", "um 19h": an hour of the clock, not a span of hours
        if relative and not tokens and kind != "duration":
            return None  # "in" must be followed by a duration ("in 3h"), else it is not a time
        tokens.append((kind, m.group(0)))
        if kind != "connector":
            end = m.end()
            if kind in ("month", "weekday") and len(m.group(0)) > 5 and m.group(0).endswith("."):
                end -= 1  # "el 3 de noviembre.": the sentence's full stop, not an abbreviation's dot
        cursor = m.end()
        gap = _INLINE_SPACE_RE.match(text, cursor)
        if gap:
            cursor = gap.end()
        # A line break ends the expression unless the line ended on a connector ("resets at\n3pm").
        if cursor < len(text) and text[cursor] == "\n":
            if kind != "connector":
                break
            cursor += 1
    while tokens and tokens[-1][0] == "connector":
        tokens.pop()
    if not any(kind in ANCHOR_KINDS or (kind == "day" and not value.isdigit()) for kind, value in tokens):
        return None
    return end, tokens


# ---------------------------------------------------------------------------------------------
# Resolution


def _names_by_number(table: dict[str, int], numbers: range) -> Any:
    return [tuple(sorted({name for name, n in table.items() if n == i}, key=len)) for i in numbers]


class _LexiconParserInfo(du_parser.parserinfo):
    """dateutil's parser, taught the month and weekday names of every lexicon language."""

    MONTHS = _names_by_number(_MONTH_NAMES, range(1, 13))
    WEEKDAYS = _names_by_number(_WEEKDAY_NAMES, range(7))
    JUMP = [*du_parser.parserinfo.JUMP, "de", "del", "às", "à", "a las", "alle", "um", "the"]  # noqa: RUF012


_PARSER_INFO = _LexiconParserInfo()

_ZONE_ABBREVIATIONS = {
    "PT": "America/Los_Angeles", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
    "MT": "America/Denver", "MST": "America/Denver", "MDT": "America/Denver",
    "CT": "America/Chicago", "CST": "America/Chicago", "CDT": "America/Chicago",
    "ET": "America/New_York", "EST": "America/New_York", "EDT": "America/New_York",
    "CET": "Europe/Paris", "CEST": "Europe/Paris", "BST": "Europe/London", "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul", "IST": "Asia/Kolkata", "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney",
}  # fmt: skip
_UTC_OFFSET_RE = re.compile(r"(?:UTC|GMT)(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?", re.I)
_DURATION_PART_RE = re.compile(rf"(?P<n>\d+(?:\.\d+)?|{_COUNT_WORD})\s*(?P<u>{_UNIT})", re.I)


def _zone_of(tokens: list[tuple[str, str]]) -> dt.tzinfo | None:
    for kind, value in tokens:
        if kind != "zone":
            continue
        name = value.strip("()")
        offset = _UTC_OFFSET_RE.fullmatch(name)
        if offset:
            delta = dt.timedelta(hours=int(offset.group("h")), minutes=int(offset.group("m") or 0))
            return dt.timezone(delta if offset.group("sign") == "+" else -delta)
        if name.upper() in ("UTC", "GMT", "Z"):
            return dt.UTC
        name = _ZONE_ABBREVIATIONS.get(name.upper(), name)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return du_tz.gettz(name)
    return None


def _duration(value: str) -> dt.timedelta:
    total = dt.timedelta()
    for part in _DURATION_PART_RE.finditer(value):
        raw = part.group("n").lower()
        n = float(_NUMBER_WORDS.get(raw, raw) if not raw[0].isdigit() else raw)
        kind = _UNIT_OF.get(re.sub(r"\s+", " ", part.group("u").lower()), "seconds")
        total += dt.timedelta(**{kind: n})
    return total


def _date_text(tokens: list[tuple[str, str]]) -> str:
    """The tokens dateutil should read: no zone, no relative words, Japanese dates spelled out."""
    parts = []
    for kind, value in tokens:
        if kind in ("zone", "word", "weekday", "connector"):
            continue
        if kind == "jdate":
            jm = re.match(r"(\d+)月(\d+)日", value)
            value = f"{jm.group(1)}/{jm.group(2)}" if jm else value
        if kind == "clock":
            value = re.sub(r"(\d)\s*h(\d{2})", r"\1:\2", value)
            value = _CLOCK_SUFFIX_RE.sub("", value).strip()
        parts.append(value.rstrip("."))
    return " ".join(parts)


def resolve_reset(resets: str, now: dt.datetime) -> dt.datetime | None:
    """The absolute UTC time a reset expression means, when the text pins it down; else None."""
    value = resets.strip()
    if EPOCH_RE.fullmatch(value):
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    scanned = scan_time_expression(value, 0)
    if scanned is None:
        return None
    _, tokens = scanned
    kinds = {kind for kind, _ in tokens}
    if "iso" in kinds:
        iso = next(v for k, v in tokens if k == "iso")
        try:
            stamp = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
        except ValueError:
            return None
        return stamp.astimezone(dt.UTC) if stamp.tzinfo else None
    if "duration" in kinds:
        span = next(v for k, v in tokens if k == "duration")
        if _RELATIVE_IN_RE.match(value) or _RELATIVE_AFTER_RE.search(span):
            return now + _duration(span)  # "in 3h", "3時間後"
    zone = _zone_of(tokens)
    if zone is None:
        return None  # a clock time without a zone is not one instant for everyone
    local_now = now.astimezone(zone)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    dated = bool(kinds & {"month", "numdate", "jdate"})
    text = _date_text(tokens)
    try:
        stamp = du_parser.parse(text, parserinfo=_PARSER_INFO, default=midnight) if text else midnight
    except (ValueError, OverflowError):
        return None
    if dated and "year" not in kinds:
        # No year written: the occurrence of that date nearest to now.
        candidates = [stamp + relativedelta(years=k) for k in (-1, 0, 1)]
        stamp = min(candidates, key=lambda c: abs((c - local_now.replace(tzinfo=None)).total_seconds()))
    elif not dated:
        words = [v.lower() for k, v in tokens if k == "word"]
        weekdays = [_WEEKDAY_NAMES.get(v.lower().rstrip(".")) for k, v in tokens if k == "weekday"]
        weekdays += [
            _WEEKDAY_NAMES.get(day.group(0).lower())
            for k, v in tokens
            if k == "word" and (day := _WEEKDAY_IN_RE.search(v)) is not None
        ]
        if weekdays and weekdays[0] is not None:
            stamp += dt.timedelta(days=(weekdays[0] - midnight.weekday()) % 7)
        elif words and words[0] in _RELATIVE_DAYS:
            stamp += dt.timedelta(days=_RELATIVE_DAYS[words[0]])
        elif "clock" in kinds and stamp <= local_now.replace(tzinfo=None):
            stamp += dt.timedelta(days=1)  # a clock time alone is the next time that clock shows
        elif "clock" not in kinds:
            return None
    return stamp.replace(tzinfo=zone).astimezone(dt.UTC)
