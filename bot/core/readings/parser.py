"""Quota readings: turn a pasted usage screen, limit notice or casual report into structured readings.

The labelling rules live in ``tests/data/eval/READINGS.md``; this module implements them as a small
pipeline of plain functions:

1. ``_clean``: normalise the paste (NFKC, line endings, control characters, bar glyphs, markdown).
2. find statements: structured JSON buckets, percent figures, limit notices and warnings, and
   "resets ..." clauses. Each statement knows its span, so later steps can reason about which
   clause, sentence and paragraph it came from.
3. attach every reset clause to the statement it belongs to, pair "before -> after" figures into
   jumps, and merge consistent statements about the same window (contradictions stay apart).
4. tool, plan, model mode and version are read from the whole text.

Everything is synchronous, stdlib-only and bounded: every regex is linear, every look-around is
limited in length and the number of statements is capped, so a megabyte of junk is read in well
under a second and nothing in here raises on odd input.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bot.core.models import ParsedReadings, Reading
from bot.core.readings.fingerprint import reading_fingerprint
from bot.core.readings.formats import FORMATS
from bot.core.readings.lexicon import LEXICON as LX
from bot.core.readings.lexicon import alternation
from bot.core.readings.times import EPOCH_RE, is_relative_span, resolve_reset, scan_time_expression

__all__ = ["parse_readings", "reading_fingerprint"]

# Pastes longer than this are cut to their head and tail: quota notices sit at the top (what the
# person saw) or at the bottom (the last thing the terminal printed), and the cap keeps the worst
# case fast no matter what is pasted.
_MAX_CHARS = 200_000
_HEAD_CHARS = 150_000
# A real report holds a handful of statements; past this many the paste is a log or a table dump,
# and reading the first ones keeps merging (quadratic in the worst case) cheap.
_MAX_STATEMENTS = 200

# ---------------------------------------------------------------------------------------------
# Cleaning

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u200b-\u200f\ufeff]")
# Progress-bar and box-drawing glyphs carry no words; "■" is kept because Codex prints it as a
# bullet in front of its limit notice.
_BAR_RE = re.compile(r"[\u2500-\u257f\u2580-\u259f\u25a1\u25ac\u25ae\u25af\u2b1b\u2b1c]+")
_EMPTY_BRACKETS_RE = re.compile(r"\[[\s.#=>-]*\]")
_MARKDOWN_RE = re.compile(r"[*`]+")
_MD_LINK_RE = re.compile(r"\[([^\]\n]{0,200})\]\((?:https?://)?[^\s)]{0,500}\)")
_URL_RE = re.compile(r"\bhttps?://[^\s)\]>\"']{1,500}")
# Screens copied without their line breaks glue labels together ("45% usedResets 3pm", "(UTC)Current
# week"); a break goes back in front of the labels the /usage screen starts its lines with.
_GLUED_LABEL_RE = re.compile(r"(?<=[a-z0-9%)])(?=(?:Resets|Current\s+(?:session|week))\b)")
_SPACES_RE = re.compile(r"[ \t\u00a0\u3000]+")
# Languages that say "percent" before the number ("百分之80") or as one word for all of it ("百分百"):
# rewritten as figures so every later pattern reads them as it reads "80%".
_PERCENT_BEFORE_RE = re.compile("(?:" + LX.alt("percent_before") + r")\s*(\d{1,3}(?:\.\d{1,2})?)(?![\d.%])")
_PERCENT_WHOLE_RE = re.compile(LX.alt("percent_whole"))
# ... and with the number in its own numerals ("百分之八十五"): digits, then tens and hundreds
_CJK_NUMERALS = dict(LX.numbers.get("cjk_numerals", {}))
_PERCENT_BEFORE_WORDS_RE = re.compile(
    "(?:" + LX.alt("percent_before") + r")\s*([" + "".join(_CJK_NUMERALS) + r"]{1,4})"
    if _CJK_NUMERALS
    else r"(?!x)x"
)


def _cjk_percent(m: re.Match[str]) -> str:
    total = digit = 0
    for ch in m.group(1):
        value = _CJK_NUMERALS[ch]
        if value >= 10:  # a multiplier: "八十" is 8 x 10, a bare "十" is 10
            total += (digit or 1) * value
            digit = 0
        else:
            digit = value
    number = total + digit
    return f"{number}%" if number <= 100 else m.group(0)
# "my utilisation went from 0 to 100": a change of a usage figure, told without "%"
_BARE_CHANGE_RE = re.compile(
    "(?P<head>(?:" + LX.alt("used_noun", "used_before", "limit") + r")[^.\n%]{0,40}?(?:"
    + LX.alt("bare_change_verbs") + r")\s+from\s+)(?P<a>\d{1,3})\s+to\s+(?P<b>\d{1,3})"
    r"(?![\d.,%]|\s*(?:[$/]|k\b|tokens?\b|requests?\b|messages?\b|credits?\b|dollars?\b|usd\b|times\b|x\b))",
    re.IGNORECASE,
)


# "weekly went 12 -> 58 overnight": the same, with an arrow, right after a window or usage word
_BARE_ARROW_RE = re.compile(
    "(?P<head>(?:" + LX.alt("window.session", "window.weekly", "window.daily", "window.monthly", "used_noun", "limit")
    + r")(?:\s+(?:" + LX.alt("bare_change_verbs") + r"))?[\s:]{0,3}(?:from\s+)?)(?<![\d.])(?P<a>\d{1,3})"
    r"(?P<arrow>\s*(?:->|→|=>|⟶|➜|-->)\s*)(?P<b>\d{1,3})"
    r"(?![\d.,%]|\s*(?:[$/]|k\b|tokens?\b|requests?\b|messages?\b|credits?\b|dollars?\b|usd\b|times\b|x\b))",
    re.IGNORECASE,
)


def _bare_change(m: re.Match[str]) -> str:
    a, b = int(m.group("a")), int(m.group("b"))
    if a > 100 or b > 100:
        return m.group(0)
    between = m.groupdict().get("arrow") or " to "
    return f"{m.group('head')}{a}%{between}{b}%"
_MANY_NEWLINES_RE = re.compile(r"\n{3,}")


def _prepare(text: str) -> str:
    """Unicode and line-ending normalisation shared by every later view of the text."""
    if len(text) > _MAX_CHARS:
        text = text[:_HEAD_CHARS] + "\n\n" + text[-(_MAX_CHARS - _HEAD_CHARS) :]
    text = unicodedata.normalize("NFKC", text)  # full-width "％", digits and spaces become ASCII
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub(" ", text)


def _clean(prepared: str) -> str:
    """The text the statement finders read: no bars, no markdown, no URLs, tidy whitespace."""
    text = _BAR_RE.sub(" ", prepared)
    text = _EMPTY_BRACKETS_RE.sub(" ", text)
    text = _MD_LINK_RE.sub(r"\1", text)
    # URLs hold words such as "tier=pro" or "/usage" that would read as plans or labels.
    text = _URL_RE.sub(" ", text)
    text = _MARKDOWN_RE.sub(" ", text)
    text = _GLUED_LABEL_RE.sub("\n", text)
    text = _PERCENT_WHOLE_RE.sub("100%", _PERCENT_BEFORE_RE.sub(r"\1%", text))
    text = _PERCENT_BEFORE_WORDS_RE.sub(_cjk_percent, text)
    text = _BARE_ARROW_RE.sub(_bare_change, _BARE_CHANGE_RE.sub(_bare_change, text))
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES_RE.sub("\n\n", _join_wrapped(lines)).strip()


# Prose hard-wrapped at a fixed width ("...while my weekly usage\nwas at roughly 35%.") is one sentence:
# a long line that stops mid-sentence, followed by a line that carries on in lower case.
_WRAP_WIDTH = 50
_WRAPPED_TAIL_RE = re.compile(r"[a-z,]$")
_CONTINUED_RE = re.compile(r"[a-z]")


def _join_wrapped(lines: list[str]) -> str:
    parts: list[str] = []
    previous = ""
    for line in lines:
        wrapped = len(previous) >= _WRAP_WIDTH and _WRAPPED_TAIL_RE.search(previous) and _CONTINUED_RE.match(line)
        if parts:
            parts.append(" " if wrapped else "\n")
        parts.append(line)
        previous = line
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Layout: paragraphs, sentences and clauses, looked up by position

_PARAGRAPH_BREAK_RE = re.compile(r"\n\n")
_SENTENCE_BREAK_RE = re.compile(r"\n|(?<!\.)[.!?](?=\s|$)|[。！？]")
# Clauses split a sentence where people list or contrast figures ("session 49%, weekly 27%",
# "I've reached my limit but I still have 44%"). Colons are not breaks: they join a label to its
# value ("5h limit: 40% left").
_CLAUSE_BREAK_RE = re.compile(
    r"\n|(?<!\.)[.!?](?=\s|$)|[。！？;·∙•|()\[\]{}、，]|,(?!\d{3}|\d{1,2}\s?%)|\s[/—–-]\s|\s" + LX.alt("clause_joiners") + r"\s",
    re.IGNORECASE,
)


_PARAGRAPH_REACH = 3000
_SENTENCE_REACH = 400


class _Layout:
    """Start offsets of paragraphs, sentences and clauses, so any span can be placed by bisect."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.paragraphs = [0] + [m.end() for m in _PARAGRAPH_BREAK_RE.finditer(text)]
        self.sentences = [0] + [m.end() for m in _SENTENCE_BREAK_RE.finditer(text)]
        self.clauses = [0] + [m.end() for m in _CLAUSE_BREAK_RE.finditer(text)]
        self.time_ranks: dict[int, int | None] = {}  # by clause start: see _time_rank

    @staticmethod
    def _index(starts: list[int], pos: int) -> int:
        return bisect.bisect_right(starts, pos) - 1

    @staticmethod
    def _span(starts: list[int], pos: int, text_len: int, reach: int) -> tuple[int, int]:
        # Spans are clipped to `reach` around `pos`: a human sentence is short, and the clip keeps
        # every look-around bounded on a megabyte-long line of junk.
        i = bisect.bisect_right(starts, pos) - 1
        end = starts[i + 1] if i + 1 < len(starts) else text_len
        return max(starts[i], pos - reach), min(end, pos + reach)

    def paragraph(self, pos: int) -> int:
        return self._index(self.paragraphs, pos)

    def sentence(self, pos: int) -> int:
        return self._index(self.sentences, pos)

    def paragraph_span(self, pos: int) -> tuple[int, int]:
        return self._span(self.paragraphs, pos, len(self.text), _PARAGRAPH_REACH)

    def sentence_span(self, pos: int) -> tuple[int, int]:
        return self._span(self.sentences, pos, len(self.text), _SENTENCE_REACH)

    def clause_span(self, pos: int) -> tuple[int, int]:
        return self._span(self.clauses, pos, len(self.text), _SENTENCE_REACH)


# ---------------------------------------------------------------------------------------------
# Statements: what one phrase of the text says about one window


@dataclass(slots=True)
class _Statement:
    start: int
    end: int
    window: str  # session | weekly | weekly-<model> | daily | monthly | unknown
    paragraph: int
    percent: float | None = None
    from_percent: float | None = None
    hit: bool | None = None  # True: says the limit is reached; False: a warning; None: not said
    resets: str | None = None
    subject: str | None = None  # a row label (model id): rows of one table never merge
    sentences: set[int] = field(default_factory=set)
    paragraphs: set[int] = field(default_factory=set)
    idle: bool | None = None
    is_figure: bool = False  # a percent figure (candidate for jump pairing)
    raw: float | None = None  # the figure as written, before "left" was turned into "used"
    polarity: str | None = None  # "left" / "used" when the text says which
    line: int | None = None  # for a figure under a label of its own ("Remaining usage: 0%"): its line start

    def effective_hit(self) -> bool | None:
        if self.hit:
            return True
        if self.percent is not None:
            return self.percent >= 100
        return self.hit


# ---------------------------------------------------------------------------------------------
# Window words

_MODEL_FAMILIES = "|".join(re.escape(w) for w in LX.words("model_families"))
_LIMIT = LX.alt("limit")
# The /usage screen's bucket labels ("Current week (Sonnet only)") and the JSON keys are the tools' own
# layout; the plain window words come from the lexicon, in every language it knows.
_WINDOW_RE = re.compile(
    # matched first so the window word inside is consumed: "a 7 day free trial" names no week
    r"(?P<notwin>" + LX.alt("not_window") + ")"
    r"|(?P<anti>" + LX.alt("window.anti") + ")"
    r"|(?:\bcurrent\s+)?\bweek(?:ly)?\s*\(\s*(?P<wm>[a-z][\w .-]{0,24}?)\s*\)"
    rf"|(?:\bcurrent\s+)?\bweek(?:ly)?\s*\(\s*(?P<wf>{_MODEL_FAMILIES})\b"  # a clipped "Current week (Sonnet"
    # "Opus weekly limit", "Fable's own weekly limit"
    rf"|(?<![A-Za-z0-9])(?P<mw>{_MODEL_FAMILIES})(?:\s+\d(?:\.\d)?)?(?:['’]s)?(?:\s+own)?(?:\s+|\s*\(\s*|(?=[\u3040-\u9fff]))"
    + LX.alt("window.weekly") + ""
    r"|" + LX.alt("window.weekly") + rf"[\s,·∙:–—-]+(?P<wmm>{_MODEL_FAMILIES})\b"
    # "the weekly limit for Fable", "weekly cap on Opus"
    r"|" + LX.alt("window.weekly") + r"\s+(?:" + _LIMIT + r"|usage)\s+(?:for|on|of)\s+(?:the\s+)?"
    rf"(?P<wfor>{_MODEL_FAMILIES})\b"
    rf"|\b(?P<mo>{_MODEL_FAMILIES})[\s-]*(?:" + LX.alt("only_words") + ")"
    r"|\bseven_day_(?P<js>[a-z]+)\b"
    # a bare family used as a bucket label next to its figure: "opus 4%", "18% opus"
    rf"|\b(?P<mp>{_MODEL_FAMILIES})(?:\s+\d(?:\.\d)?)?(?:\s+(?:" + LX.alt("used_noun") + "))?"  # "Sonnet usage: 2%"
    r"(?=\s*(?:[:=]|が|は|의|:)?\s*(?:(?:" + LX.alt("copula") + r")\s+)?~?\d{1,3}(?:[.,]\d+)?\s*%)"
    rf"|(?<=%\s)(?P<pm>{_MODEL_FAMILIES})\b|(?<=%\sof\s)(?P<pof>{_MODEL_FAMILIES})\b"
    r"|(?P<weekly>" + LX.alt("window.weekly") + "|" + LX.alt("window_before_limit.weekly") + r"(?=\s*" + _LIMIT + "))"
    r"|(?P<session>" + LX.alt("window.session") + "|" + LX.alt("window_before_limit.session") + r"(?=\s*" + _LIMIT + "))"
    r"|(?P<daily>" + LX.alt("window.daily") + "|" + LX.alt("window_before_limit.daily") + r"(?=\s*" + _LIMIT + "))"
    r"|(?P<monthly>" + LX.alt("window.monthly") + "|" + LX.alt("window_before_limit.monthly") + r"(?=\s*" + _LIMIT + "))",
    re.IGNORECASE,
)
# "this session", "a new session", "last week" talk about time, not about a quota window.
_TIME_NOUNS = {
    window: frozenset(w.lower() for w in LX.words(f"window_time_nouns.{window}")) for window in ("session", "weekly")
}
_DETERMINER_RES = {
    window: re.compile(
        "(?:" + LX.alt(f"determiners.{window}") + r")(?:\s+(?:" + LX.alt("time_adjectives") + r"))?\s*$", re.IGNORECASE
    )
    for window in ("session", "weekly")
}


_LIMIT_WORD_RE = re.compile(LX.alt("limit", "used_noun"), re.IGNORECASE)
_RESET_WORD_RE = re.compile(LX.alt("quota_talk"), re.IGNORECASE)
_LIMIT_AFTER_RE = re.compile(r"\s*(?:" + _LIMIT + r"|usage\b)", re.IGNORECASE)
_PRICE_BEFORE_RE = re.compile(
    r"(?:[$€£¥]\s?\d[\d,.]*|\d[\d,.]*\s*(?:usd|eur|gbp|dollars?|euros?|bucks))\s*(?:/|\ba\b|\bper\b)?\s*$",
    re.IGNORECASE,
)
_DURATION_BEFORE_RE = re.compile("(?:" + LX.alt("duration_before") + r")\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Keyword:
    start: int
    end: int
    window: str  # a window, or "anti" for labels that mean the figure is not a quota at all


_BARE_FAMILY_WINDOWS = {k: v for k, v in LX.numbers.get("bare_family_window", {}).items()}


def _model_window(name: str) -> str:
    name = re.sub(r"[\s-]+(?:only|models?)$", "", name.strip().lower())
    if name.startswith("all"):
        return "weekly"
    return "weekly-" + re.sub(r"[\s_]+", "-", name)


def _find_window_keywords(text: str, masked: list[tuple[int, int]]) -> list[_Keyword]:
    """Every word in the text that names a quota window, skipping words inside reset times."""
    keywords: list[_Keyword] = []
    mask_starts = [s for s, _ in masked]
    for m in _WINDOW_RE.finditer(text):
        i = bisect.bisect_right(mask_starts, m.start()) - 1
        if i >= 0 and masked[i][0] <= m.start() < masked[i][1]:
            continue  # "in 5 hours" inside a reset time is not the 5-hour window
        kind = m.lastgroup
        if kind == "notwin":
            continue
        before = text[max(0, m.start() - 20) : m.start()]
        word = m.group(0).lower()
        if kind == "anti":
            window = "anti"
        elif kind in ("mp", "pm", "pof"):
            family = m.group(kind).lower()
            window = "unknown" if _BARE_FAMILY_WINDOWS.get(family) == 0 else _model_window(family)
        elif kind in ("wm", "wf", "mw", "wmm", "wfor", "mo", "js"):
            window = _model_window(m.group(kind))
        elif kind in ("session", "weekly"):
            if (
                word in _TIME_NOUNS[kind]
                and _DETERMINER_RES[kind].search(before)
                and not _LIMIT_AFTER_RE.match(text, m.end())  # "10% of a session limit" names the window
            ):
                continue
            window = kind
        else:
            window = kind or "unknown"
        if window in ("weekly", "daily", "monthly") and _PRICE_BEFORE_RE.search(before):
            continue  # "$200/month", "($100 USD/monthly)": a price, not a quota window
        if word.startswith("a ") and _DURATION_BEFORE_RE.search(before):
            continue  # "in a day", "within a month": how long something took
        if (
            kind == "session"
            and word in _TIME_NOUNS["session"]
            and keywords
            and keywords[-1].window in ("weekly", "daily", "monthly")
            and not text[keywords[-1].end : m.start()].strip(" -")
        ):
            continue  # "my weekly session", "daily session": the noun takes its modifier's window
        keywords.append(_Keyword(m.start(), m.end(), window))
    return keywords


def _keywords_in(keywords: list[_Keyword], starts: list[int], lo: int, hi: int) -> list[_Keyword]:
    i = bisect.bisect_left(starts, lo)
    j = bisect.bisect_left(starts, hi)
    return keywords[i:j]


# ---------------------------------------------------------------------------------------------
# Reset times: "resets 5:40pm (Europe/Berlin)", "try again in 5 days 22 hours 11 minutes", ...

_RESET_LEAD_RE = re.compile(
    r"(?P<epoch>limit\s+reached\s*\|\s*)(?=\d{10}\b)"
    r"|(?P<lead>" + LX.alt("reset.lead", "reset.after") + ")"
    r"(?:\s*:)?(?:\s+(?P<conn>" + LX.alt("reset.connector") + "))?",
    re.IGNORECASE,
)
# A reset already in the past ("it reset at 7:00", "just reset") is not recorded.
_PAST_RESET_RE = re.compile("(?:" + LX.alt("reset.past") + r")\s*$", re.IGNORECASE)
_INLINE_SPACE_RE = re.compile(r"[ \t]+")
# A bare "reset" (no "s", no "will") is a past event when its clause says when in the past.
_BARE_LEADS = frozenset(w.lower() for w in LX.words("reset.bare"))
_RELATIVE_WORDS = frozenset(w.lower() for w in LX.words("reset.relative"))
_PAST_TIME_RE = re.compile(LX.alt("time.earliest", "time.past"), re.IGNORECASE)


# The time said before its reset word ("5時にリセット", "下午5点重置", "오후 5시에 초기화", "um 17 Uhr
# zurückgesetzt"): the word, the particles allowed between it and the time, what marks it as past.
_RESET_AFTER_RE = re.compile(LX.alt("reset.after"), re.IGNORECASE)
_RESET_AFTER_GAP_RE = re.compile(
    r"(?:\s*(?:" + LX.alt("reset.after_gap") + r")){0,2}\s*$", re.IGNORECASE
)
_RESET_AFTER_PAST_RE = re.compile(r"\s*(?:" + LX.alt("reset.after_past") + ")", re.IGNORECASE)
_RESET_PAST_AUX_RE = re.compile("(?:" + LX.alt("reset.past_aux") + r")\s*$", re.IGNORECASE)
_TIME_BEFORE_REACH = 40  # characters a time said before its reset word may span
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9\u00c0-\u024f]")


def _time_before(text: str, word_start: int) -> tuple[int, int, int] | None:
    """The time expression that ends right before a reset word (particles aside), as (where it
    starts, where its value starts after a connector such as "um", end).

    Starts are tried left to right inside a short reach, so the longest expression wins ("明天下午
    5点" over "5点"); each try is one bounded token scan, so the cost per reset word is constant.
    """
    floor = max(0, word_start - _TIME_BEFORE_REACH - 12)
    gap = _RESET_AFTER_GAP_RE.search(text, floor, word_start)
    stop = gap.start() if gap else word_start
    lo = max(0, stop - _TIME_BEFORE_REACH, text.rfind("\n", 0, stop) + 1)
    for start in range(lo, stop):
        if start > 0 and _LATIN_OR_DIGIT.match(text, start - 1):
            continue  # inside a word or a number: not where a time starts
        scanned = scan_time_expression(text, start)
        if scanned is None or scanned[0] != stop:
            continue
        end, tokens = scanned
        if [k for k, _ in tokens if k != "connector"] == ["duration"] and not is_relative_span(text[start:end]):
            continue  # "la limite de 5 heures se réinitialise": a bare span is the window's name, not when
        value_start = start
        if tokens and tokens[0][0] == "connector" and len(tokens) > 1:
            # the value starts at its first real token, as "at"/"um" after a lead-in is dropped
            value_start = text.index(tokens[1][1], start)
        return start, value_start, end
    return None


def _reset_clauses_after_time(text: str, words: list[re.Match[str]]) -> list[_ResetClause]:
    """Reset clauses read back from reset words said after their time (`words`: where they stand)."""
    clauses: list[_ResetClause] = []
    for m in words[:_MAX_STATEMENTS]:
        if _RESET_AFTER_PAST_RE.match(text, m.end()):
            continue  # "5時にリセットされた": it already reset
        found = _time_before(text, m.start())
        if found is None:
            continue
        said_from, start, end = found
        if _RESET_PAST_AUX_RE.search(text, max(0, said_from - 16), said_from):
            continue  # "wurde um 5 Uhr zurückgesetzt", "已经下午5点重置"
        value = re.sub(r"\s+", " ", text[start:end]).strip(" ,")
        if value:
            clauses.append(_ResetClause(start, start, m.end(), value))
    return clauses


def layout_clause(text: str, pos: int) -> tuple[int, int]:
    """The line around `pos` up to a sentence end: enough to see "this morning" after a reset."""
    start = max(text.rfind("\n", 0, pos) + 1, pos - 200)
    stop = text.find("\n", pos, pos + 200)
    stop = min(len(text), pos + 200) if stop < 0 else stop
    dot = text.find(". ", pos, stop)
    return start, (dot if dot >= 0 else stop)


@dataclass(frozen=True, slots=True)
class _ResetClause:
    lead_start: int
    start: int
    end: int
    text: str


def _find_reset_clauses(text: str) -> list[_ResetClause]:
    clauses: list[_ResetClause] = []
    said_after: list[re.Match[str]] = []  # reset words that may close a time said before them
    for m in _RESET_LEAD_RE.finditer(text):
        if m.group("epoch") is not None:
            em = EPOCH_RE.match(text, m.end())
            if em:
                clauses.append(_ResetClause(m.start(), em.start(), em.end(), em.group(0)))
            continue
        after = _RESET_AFTER_RE.match(text, m.start("lead"))
        if after:
            said_after.append(after)
        lead = m.group("lead").strip().lower()
        if (lead in _BARE_LEADS or lead.startswith("to ")) and _PAST_RESET_RE.search(
            text[max(0, m.start() - 16) : m.start()]
        ):
            continue  # "it reset at 7:00", "supposed to reset at 7": not a reset still to come
        if lead in _BARE_LEADS and _PAST_TIME_RE.search(
            text, *layout_clause(text, m.start())
        ):
            continue  # "my weekly limit reset at 07:38 this morning" tells of a reset that happened
        start = m.end()
        gap = _INLINE_SPACE_RE.match(text, start)
        if gap:
            start = gap.end()
        scanned = None
        if m.group("conn") and m.group("conn").lower() in _RELATIVE_WORDS:
            # "volta em 3 dias", "se reinicia en 2 horas": the word is the relative "in", kept
            # with its duration as "in 3h" is; before a date ("em 5 de junho") it is a connector.
            scanned = scan_time_expression(text, m.start("conn"))
            if scanned is not None and scanned[1] and scanned[1][0][0] == "duration":
                start = m.start("conn")
            else:
                scanned = None
        scanned = scanned or scan_time_expression(text, start)
        if scanned is None:
            continue
        end, _tokens = scanned
        value = re.sub(r"\s+", " ", text[start:end]).strip(" ,")
        if value:
            clauses.append(_ResetClause(m.start(), start, end, value))
    seen = {c.start for c in clauses}
    clauses += [c for c in _reset_clauses_after_time(text, said_after) if c.start not in seen]
    clauses.sort(key=lambda c: c.lead_start)
    return clauses


# ---------------------------------------------------------------------------------------------
# Percent figures

_PERCENT_RE = re.compile(
    r"(?<![0-9A-Za-z_.])(?P<approx>(?:" + LX.alt("approx") + r")\s*)?(?P<num>\d{1,3}(?:[.,]\d{1,2})?)\s?(?:%|"
    + LX.alt("percent_words")
    + ")",
    re.IGNORECASE,
)
_LEFT_WORDS = LX.alt("left")
_USED_WORDS = LX.alt("used", "used_noun")
_LEFT_WORD_RE = re.compile(_LEFT_WORDS, re.IGNORECASE)
_CUE_AFTER_RE = re.compile(
    r"\s*(?:\)\s*)?(?:(?:" + LX.alt("figure_link") + r")\s+){0,3}?(?P<cue>" + _LEFT_WORDS + "|" + _USED_WORDS + ")",
    re.IGNORECASE,
)
_CUE_BEFORE_LEFT_RE = re.compile(
    "(?:" + LX.alt("left_before") + r")\s*[:=]?\s*$"
    # "the remaining quota indicator always shows 100%": what left-wording names, shown on a display
    "|(?:" + LX.alt("left_before") + r")\s+(?:" + LX.alt("display.nouns") + r")\s+(?:\w+\s+)?(?:"
    + LX.alt("display.verbs") + r")\s*[:=]?\s*$"
    # "Usage remaining: 5h, 97%", "Remaining (weekly): 40%": the label, its window, then the figure
    "|(?:" + LX.alt("left_before") + r")[\s:=(]{0,4}(?:" + LX.alt("window.session", "window.weekly", "window.daily", "window.monthly")
    + r")[\s),:=]{0,4}$"
    # "usage remaining suddenly dropped from about 70% to about 7%": the left-wording leads the change
    "|(?:" + LX.alt("left_before") + r")\s+(?:[^\W\d_]+\s+){0,2}?(?:" + LX.alt("fall", "bare_change_verbs")
    + r")\s+(?:(?:from|to|by)\s+)?(?:(?:" + LX.alt("approx") + r")\s*)?"
    r"(?:~?\d{1,3}(?:[.,]\d{1,2})?\s*%\s*(?:to|->|→|-->)\s*(?:(?:" + LX.alt("approx") + r")\s*)?)?$",
    re.IGNORECASE,
)
_CUE_BEFORE_USED_RE = re.compile("(?:" + LX.alt("used_before") + r")\s*[:=]?\s*$", re.IGNORECASE)
_CUE_WORD_RE = re.compile(
    "(?P<left>" + _LEFT_WORDS + ")|(?P<used>" + LX.alt("used") + ")|(?P<pct>%)",
    re.IGNORECASE,
)
_STILL_HAVE_RE = re.compile(LX.alt("left_still"), re.IGNORECASE)
# A table whose column says what is left (Gemini /stats "Usage left").
_LEFT_HEADER_RE = re.compile(
    LX.alt("left_header")
    # a heading that says its figures are what is left: "claude.ai panel (remaining):"
    + r"|\((?:" + LX.alt("left") + r")\)\s*:?\s*$",
    re.IGNORECASE,
)

# Figures that measure something else: context, coverage, disks, installs, progress, promotions.
_OTHER_METRIC_RE = re.compile(LX.alt("other_metric") + r"|(?-i:\bCI\b)", re.IGNORECASE)
_COMPARATIVE_AFTER_RE = re.compile(
    r"\s*(?:more|less|fewer|bigger|larger|smaller|faster|slower|cheaper|higher|lower|off|discount|increase"
    r"|decrease|boost|bonus|extra|of\s+(?:the\s+)?(?:time|cases|people|users|way)"
    r"|(?:per|a|an|each|every)\s+(?:session|prompt|message|request|day|hour|call|turn))\b",
    re.IGNORECASE,
)
_CHANGE_AMOUNT_BEFORE_RE = re.compile(
    r"(?:\bby|\bup\s+to|%\s*/|%\s+of|\bextra|\bbonus|" + LX.alt("amount_before") + r")\s*$", re.IGNORECASE
)
# "went up to 90%", "is now up to 90%": a change word before "up to" makes it the level reached,
# where "up to 90%" alone is a ceiling ("saves up to 50%")
_RISEN_UP_TO_RE = re.compile("(?:" + LX.alt("change") + r")\s+(?:up\s+)?to\s*~?\s*$", re.IGNORECASE)
# "the weekly limit is spent by 20%": a used-word before "by" gives a level, not a change
_USED_BY_RE = re.compile("(?:" + LX.alt("used") + r")\s+by\s*(?:(?:" + LX.alt("approx") + r")\s*)?$", re.IGNORECASE)
# "between 2%-5% of the users": the second figure of a range, before what both are "of"
_RANGE_TAIL_RE = re.compile(
    r"\s*(?:-|–|—|~|to|and|or|y|a|et|bis|und|e|o)\s*(?:(?:the|el|la|le|les|o|der|die|il)\s+)?\d{1,3}(?:[.,]\d{1,2})?\s?%",
    re.IGNORECASE,
)
_OF_NOUN_RE = re.compile(
    r"\s*(?:used\s+|left\s+)?of\s+(?:(?:the|this|my|your|our|their|a|an|all|its)\s+)?(?P<noun>[\w-]+)"
    r"(?:\s+(?P<noun2>[\w-]+))?(?:\s+(?P<noun3>[\w-]+))?",  # "of the allowed quota", "of my total weekly limit"
    re.IGNORECASE,
)
# The later figure of a jump ("from 98% to 100% faster"): a level, whatever follows it.
_JUMP_TARGET_BEFORE_RE = re.compile(
    r"\d\s*%\s*(?:->|→|=>|➜|⟶|-|" + LX.alt("arrow") + r")\s*~?\s*$", re.IGNORECASE
)
# The whole before the part ("100퍼센트 중 52퍼센트", "100%のうち52%"): the first figure is the scale.
_SCALE_AFTER_RE = re.compile(
    r"\s*(?:" + LX.alt("scale_words") + r")\s*~?\d{1,3}(?:[.,]\d{1,2})?\s?(?:%|" + LX.alt("percent_words") + ")",
    re.IGNORECASE,
)
_POPULATION_RE = re.compile(LX.alt("population_nouns"), re.IGNORECASE)
_POPULATION_AFTER_RE = re.compile(r"\s*(?:" + LX.alt("population_after") + ")", re.IGNORECASE)
# ... or before it, where a language says "of the subscribers, 5%": "구독자의 5% 미만", "用户的5%"
_POPULATION_BEFORE_RE = re.compile("(?:" + LX.alt("population_before") + r")\s*(?:(?:" + LX.alt("approx") + r")\s*)?$", re.IGNORECASE)
_LEFT_AFTER_NOUN_RE = re.compile(r"\s+(?:" + LX.alt("left") + ")", re.IGNORECASE)
_USED_NOUN_RE = re.compile(LX.alt("used_noun"), re.IGNORECASE)
_BOTH_RE = re.compile(
    r"\s*(?:(?:for|on|in|of|across)\s+)?(?:" + LX.alt("both_words") + r")\s+(?:(?:the|my|of)\s+)?", re.IGNORECASE
)
_PAIR_JOIN_RE = re.compile(r"\s*(?:and|&|,|y|e|et|und)\s*(?:(?:the|my)\s+)?", re.IGNORECASE)
_QUOTA_NOUNS = frozenset(w.lower() for w in LX.words("quota_nouns")) | frozenset(
    w.lower() for w in LX.words("limit")
)
_QUOTA_WORD_RE = re.compile(
    r"\b(?:plan|bucket|/usage|/status|/stats)\b|"
    + LX.alt("limit", "used", "used_noun", "left", "quota_phrase", "quota_talk"),
    re.IGNORECASE,
)
# The earlier value of a jump, written without its own "%": "from 0 to 100%", "30 -> 45%".
_BARE_FROM_RE = re.compile(
    r"(?<![\d.%])(?P<n>\d{1,3}(?:\.\d+)?)\s*(?:->|→|=>|➜|\bto\b|から)\s*(?:~\s*)?$", re.IGNORECASE
)
_MODEL_ID_RE = re.compile(r"\b(?:gemini|gpt|claude|codex|o[1-9])-[\w.-]*\w", re.IGNORECASE)
_MODEL_ID_AFTER_RE = re.compile(r"[ \t]{0,2}" + _MODEL_ID_RE.pattern, re.IGNORECASE)
_CONNECTOR_FORWARD_RE = re.compile(
    r"\s*(?:(?:" + LX.alt("figure_link", "limit") + r")\s+){1,5}$",
    re.IGNORECASE,
)
_FILLER_FORWARD_RE = re.compile(
    r"\s*(?:(?:" + _LEFT_WORDS + "|" + _USED_WORDS + r")\s+)?(?:(?:" + LX.alt("window_fillers") + r")\s+)?$", re.IGNORECASE
)


@dataclass(slots=True)
class _Figure:
    """One percent figure before pairing: its used value and where its window came from."""

    start: int
    end: int
    used: float
    window: str
    subject: str | None
    keyword: _Keyword | None
    from_used: float | None = None  # "from 0 to 100%": the earlier value written without "%"
    raw: float | None = None
    polarity: str | None = None
    line: int | None = None  # set when the figure follows a label of its own on its line


def _local_cue(text: str, m: re.Match[str]) -> str | None:
    after = _CUE_AFTER_RE.match(text, m.end(), min(len(text), m.end() + 30))
    if after:
        if _LEFT_WORD_RE.fullmatch(after.group("cue")):
            return "left"
        if _USED_NOUN_RE.fullmatch(after.group("cue")) and _LEFT_AFTER_NOUN_RE.match(text, after.end()):
            return "left"  # "2% of usage remaining"
        return "used"
    before = text[max(0, m.start() - 90) : m.start()]
    if _CUE_BEFORE_LEFT_RE.search(before):
        return "left"
    if _CUE_BEFORE_USED_RE.search(before):
        return "used"
    return None


def _sentence_cue(text: str, layout: _Layout, m: re.Match[str]) -> str | None:
    """A cue said once for a list of figures: "44% of the 5h and 91% of the weekly free".

    Looks forward to the end of the sentence, but stops at a later figure that carries its own cue,
    since that cue belongs to that figure.
    """
    s_start, s_end = layout.sentence_span(m.start())
    pos = m.end()
    limit = min(s_end, pos + 200)
    for _ in range(4):  # a cue said once covers a short list, not a whole table
        if pos >= limit:
            break
        cw = _CUE_WORD_RE.search(text, pos, limit)
        if not cw:
            break
        if cw.group("pct"):
            num_start = cw.start()
            while num_start > 0 and (text[num_start - 1].isdigit() or text[num_start - 1] in ".,"):
                num_start -= 1
            fake = _PERCENT_RE.match(text, num_start)
            if fake and _local_cue(text, fake):
                break
            pos = cw.end()
            continue
        return "left" if cw.group("left") else "used"
    if _STILL_HAVE_RE.search(text, max(s_start, m.start() - 200), m.start()):
        return "left"
    return None


def _left_table_header(text: str, layout: _Layout, pos: int) -> bool:
    p_start, _ = layout.paragraph_span(pos)
    line_start = text.rfind("\n", p_start, pos)
    region = text[max(p_start, pos - 600) : max(p_start, line_start)]
    return any("%" not in line and _LEFT_HEADER_RE.search(line) for line in region.split("\n"))


_EXAMPLE_RE = re.compile(LX.alt("example_markers"), re.IGNORECASE)
# Only figures listed right after the marker are examples; "For example, I had used 10% of my
# weekly limit" tells what happened.
_EXAMPLE_LIST_RE = re.compile(
    r"[\s,;:()/-]*(?:(?:and|or|y|o|e|et|und|oder)\s+|~?\d{1,3}(?:[.,]\d{1,2})?\s?%[\s,;:()/-]*)*",
    re.IGNORECASE,
)
_HABITUAL_RE = re.compile(LX.alt("habitual"), re.IGNORECASE)
_EXPECTATION_RE = re.compile(LX.alt("expectation"), re.IGNORECASE)
_REQUEST_RE = re.compile(LX.alt("request"), re.IGNORECASE)


def _requested(text: str, layout: _Layout, pos: int) -> bool:
    """The statement at `pos` is part of a request for a change: a request word earlier in its
    sentence, with no ";" between ("Please add a meter; I hit my limit" reports the limit)."""
    s_start, _ = layout.sentence_span(pos)
    ends = [m.end() for m in _REQUEST_RE.finditer(text, s_start, pos)]
    return bool(ends) and ";" not in text[ends[-1] : pos]
_HYPOTHETICAL_RE = re.compile("(?:" + LX.alt("hypothetical") + r")\s*(?:(?:" + LX.alt("approx") + r")\s*)?$", re.IGNORECASE)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n-*>":
        pos += 1
    return pos


def _left_row(text: str, pos: int) -> bool:
    """A line in a tool's own layout whose figures are shares left (format records' left_rows)."""
    if FORMATS.left_rows is None:
        return False
    line_start = text.rfind("\n", max(0, pos - 300), pos) + 1
    line_end = text.find("\n", pos, pos + 300)
    line_end = min(len(text), pos + 300) if line_end < 0 else line_end
    return FORMATS.left_rows.search(text[line_start:line_end]) is not None


def _window_right_before(text: str, start: int, m: re.Match[str]) -> bool:
    """A window word stands right before the figure ("weekly 77%", "session: 40%")."""
    last = None
    for found in _WINDOW_RE.finditer(text, max(start, m.start() - 30), m.start()):
        last = found
    return bool(last and not last.group("anti") and not text[last.end() : m.start()].strip(" \t:=~"))


_OF_WINDOW_LEAD_RE = re.compile(r"\s*(?:used\s+)?of\s+(?:(?:a|an|the|my|your|our|their)\s+)?", re.IGNORECASE)


def _window_named_after(text: str, m: re.Match[str]) -> bool:
    """The figure is "of" an AI tool's own window: "consumed roughly 10% of a session limit".

    Only the session and weekly windows count: other services meter by the day and the month too
    ("CI minutes at 60% of the monthly allowance")."""
    lead = _OF_WINDOW_LEAD_RE.match(text, m.end(), min(len(text), m.end() + 30))
    if not lead:
        return False
    window = _WINDOW_RE.match(text, lead.end())
    return bool(window and window.lastgroup in ("session", "weekly"))


def _is_other_metric(text: str, layout: _Layout, m: re.Match[str]) -> bool:
    c_start, c_end = layout.clause_span(m.start())
    metric = _OTHER_METRIC_RE.search(text, max(c_start, m.start() - 80), min(c_end, m.end() + 60))
    # A metric word after the figure ("77% tests") yields to a window named right before it: "weekly
    # 77% test A" is a weekly reading with a remark after it. One before it yields to a window the
    # figure is "of": "a 250,000-token context consumed roughly 10% of a session limit".
    if metric and not (
        (metric.start() >= m.end() and _window_right_before(text, c_start, m))
        or (metric.start() < m.start() and _window_named_after(text, m))
    ):
        return True
    if _COMPARATIVE_AFTER_RE.match(text, m.end(), min(len(text), m.end() + 40)) and not (
        _JUMP_TARGET_BEFORE_RE.search(text, max(0, m.start() - 25), m.start())
    ):
        return True
    before = max(0, m.start() - 25)
    if (
        _CHANGE_AMOUNT_BEFORE_RE.search(text, before, m.start())
        and not _USED_BY_RE.search(text, before, m.start())
        and not _RISEN_UP_TO_RE.search(text, before, m.start())
    ):
        return True  # "limits cut by 50%", "45%/100%": an amount or a scale, not a level
    tail = _RANGE_TAIL_RE.match(text, m.end(), min(len(text), m.end() + 16))
    end = tail.end() if tail else m.end()
    if _POPULATION_AFTER_RE.match(text, end, min(len(text), end + 12)) or _POPULATION_BEFORE_RE.search(
        text, max(0, m.start() - 16), m.start()
    ):
        return True  # "不到 5% 的用户"
    of = _OF_NOUN_RE.match(text, end, min(len(text), end + 60))
    if not of:
        return False
    nouns = [n for n in of.group("noun", "noun2", "noun3") if n]
    if any(_POPULATION_RE.fullmatch(n) for n in nouns):
        return True  # "will affect less than 5% of its total users"
    return not any(n.lower() in _QUOTA_NOUNS or _WINDOW_RE.match(n) for n in nouns)


def _window_for_figure(
    text: str,
    layout: _Layout,
    m: re.Match[str],
    keywords: list[_Keyword],
    starts: list[int],
    notice_sentences: frozenset[int] = frozenset(),
) -> _Keyword | None:
    """Which window word a figure belongs to, in order of how tightly the words bind.

    1. a word after the figure joined by "of/on/in" ("44% of the 5h", "12% left on the weekly");
    2. the nearest word before it in the same clause ("session 100%");
    3. a word right after it ("7% weekly");
    4. the nearest word before it in the paragraph (a /usage header line above its bar).
    """
    c_start, c_end = layout.clause_span(m.start())
    after = _keywords_in(keywords, starts, m.end(), min(c_end, m.end() + 60))
    if after and _CONNECTOR_FORWARD_RE.match(text[m.end() : after[0].start]):
        return after[0]
    if _MODEL_ID_AFTER_RE.match(text, m.end()):
        return None  # "100% GPT-5.3-Codex-Spark usage": the figure labels its own model's bucket
    line_start = text.rfind("\n", max(0, m.start() - 200), m.start()) + 1
    label = _ROW_LABEL_BEFORE_RE.search(text, max(line_start, m.start() - 50), m.start())
    if label and _PERCENT_RE.search(text, line_start, label.start()):
        # a row of labelled figures ("Sonnet only: 0% · Claude Design: 0%"): each label names its
        # own bucket, not the window of the label before it
        # (a label may start with a number the regex skipped: "5 horas: 44%")
        near = _keywords_in(keywords, starts, max(line_start, label.start() - 12), m.start())
        labelled = [k for k in near if k.end > label.start()]
        return labelled[-1] if labelled else None
    before = _keywords_in(keywords, starts, c_start, m.start())
    if before:
        return before[-1]
    if after and _FILLER_FORWARD_RE.match(text[m.end() : after[0].start]):
        return after[0]
    p_start, _ = layout.paragraph_span(m.start())
    earlier = _keywords_in(keywords, starts, max(p_start, m.start() - 2000), m.start())
    if not earlier:
        return None
    # A header line above its bar, not the window a limit notice in an earlier sentence names.
    own = layout.sentence(earlier[-1].start)
    if own != layout.sentence(m.start()) and own in notice_sentences:
        return None
    return earlier[-1]


def _bounded(matches: Iterator[re.Match[str]], limit: int = _MAX_STATEMENTS) -> Iterator[re.Match[str]]:
    for i, match in enumerate(matches):
        if i >= limit:
            return
        yield match


_CONTRAST_RE = re.compile(LX.alt("contrast"), re.IGNORECASE)


def _contrasted(text: str, layout: _Layout, previous: _Figure, m: re.Match[str], keyword: _Keyword | None) -> bool:
    """The figure is set against the one before it in its sentence ("... left, but actually 10%"),
    about the same window, so it is told in the same terms (a share left, or used)."""
    return (
        previous.polarity is not None
        and layout.sentence(previous.start) == layout.sentence(m.start())
        and (keyword is None or keyword.window == previous.window)
        and _CONTRAST_RE.search(text, previous.end, m.start()) is not None
    )


# Between two items of one list: a separator, then the next item's label ("、週間制限が", ",\n- Weekly: ").
_LIST_GAP_RE = re.compile(r"[^%\n]{0,40}?(?:[,，、;；]|\band\b|\n\s*[-*•]\s)[^%\n]{0,40}")


def _left_listed(text: str, layout: _Layout, previous: _Figure, m: re.Match[str], keyword: _Keyword | None) -> bool:
    """The figure is the next item of a list whose first item was said as a share left, about another
    window, with only its own label between: "5h 75% remaining, weekly 96%", "残りが75%、週間が96%"."""
    if not (
        previous.polarity == "left"
        and keyword is not None
        and previous.keyword is not None
        and keyword.window != previous.window
        and previous.end <= keyword.start < m.start()
        and layout.paragraph(previous.start) == layout.paragraph(m.start())
    ):
        return False
    own = _CUE_AFTER_RE.match(text, previous.end, min(len(text), previous.end + 30))
    gap_start = own.end() if own else previous.end  # past the first item's own "left"
    return (
        _LIST_GAP_RE.fullmatch(text, gap_start, m.start()) is not None
        and not _CUE_WORD_RE.search(text, gap_start, m.start())
    )


_GRAPHIC_RE = re.compile(LX.alt("graphic_nouns"), re.IGNORECASE)
_APPEARANCE_RE = re.compile(LX.alt("appearance"), re.IGNORECASE)


def _eyed(text: str, layout: _Layout, figures: list[_Figure], m: re.Match[str]) -> bool:
    """A share guessed from a graphic by eye after the meter's own number was read: "My weekly usage is
    at 64% but the bar only looks 25% full", "显示周限制为 52%，但是圆圈显示明显超过 50%"."""
    if not figures or layout.paragraph(figures[-1].start) != layout.paragraph(m.start()):
        return False
    c_start, _ = layout.clause_span(m.start())
    lo = max(c_start, m.start() - 60)
    graphic = _GRAPHIC_RE.search(text, lo, m.start())
    return graphic is not None and _APPEARANCE_RE.search(text, graphic.end(), m.start()) is not None


_RESTATED_RE = re.compile(r"(?<![\w'’])(?:" + LX.alt("restated") + r")\s*$", re.IGNORECASE)
_EMPTIED_RE = re.compile("(?:" + LX.alt("emptied") + r")\s*(?:(?:" + LX.alt("approx") + r")\s*)?$", re.IGNORECASE)


def _find_figures(
    text: str,
    layout: _Layout,
    keywords: list[_Keyword],
    has_tool: bool,
    idle_sentences: set[int],
    notices: Sequence[tuple[re.Match[str], bool]],
) -> list[_Figure]:
    starts = [k.start for k in keywords]
    notice_sentences = frozenset(layout.sentence(n.start()) for n, _ in notices)
    figures: list[_Figure] = []
    for n, m in enumerate(_PERCENT_RE.finditer(text)):
        if n >= _MAX_STATEMENTS * 2:
            break  # a dump of thousands of percentages is not a quota report; keep it cheap
        value = float(m.group("num").replace(",", "."))
        if value > 999 or _is_other_metric(text, layout, m):
            continue
        example = _EXAMPLE_RE.search(text, max(0, m.start() - 40), m.start())
        if example and _EXAMPLE_LIST_RE.fullmatch(text, example.end(), m.start()):
            continue  # "alert me at (e.g., 50%, 75%)": thresholds given as examples, not readings
        if _requested(text, layout, m.start()):
            continue  # "please consider showing the share used after 80%": asked for, not seen
        if _EXPECTATION_RE.search(text, *layout.clause_span(m.start())):
            continue  # "Debería tener el 100% de mi uso restante": what should be, not what is
        if _eyed(text, layout, figures, m):
            continue  # "... at 64% but the bar only looks 25% full": the same meter guessed by eye
        if _HYPOTHETICAL_RE.search(text, max(0, m.start() - 30), m.start()):
            continue  # "I want to know if I am at 80% of usage": a figure asked about, not seen
        if _HABITUAL_RE.search(text, *layout.clause_span(m.start())) or _HABITUAL_RE.match(
            text, _skip_space(text, layout.sentence_span(m.start())[0])
        ):
            continue  # "normally it uses up about 4-6%": what usually happens, not a reading
        if _SCALE_AFTER_RE.match(text, m.end(), min(len(text), m.end() + 40)):
            continue  # "100퍼센트 중 52퍼센트": the whole, not a reading
        if any(f.raw == value for f in figures) and _RESTATED_RE.search(text, max(0, m.start() - 12), m.start()):
            continue  # "... Remaining reqs.: 0%. That 0% tells me nothing": the figure read before, named again
        keyword = _window_for_figure(text, layout, m, keywords, starts, notice_sentences)
        if keyword is not None and keyword.window == "anti":
            continue  # "Context window: 100% left", "Extra usage 40% used"
        cue = _local_cue(text, m)
        polarity = cue or _sentence_cue(text, layout, m)
        if polarity is None and (_left_table_header(text, layout, m.start()) or _left_row(text, m.start())):
            polarity = "left"
        if polarity is None and value == 0 and _EMPTIED_RE.search(text, max(0, m.start() - 30), m.start()):
            polarity = "left"  # "my weekly quota had reached 0%": a used share cannot fall to nothing
        if polarity is None and figures and _contrasted(text, layout, figures[-1], m, keyword):
            polarity = figures[-1].polarity  # "62% of my session left, when I actually have 0%"
        if polarity is None and figures and _left_listed(text, layout, figures[-1], m, keyword):
            polarity = "left"  # "5h 75% remaining, weekly 96%": the list is told in shares left
        if polarity == "left" and value > 100:
            continue
        used = round(100 - value, 2) if polarity == "left" else value
        window = keyword.window if keyword else "unknown"
        s_start, s_end = layout.sentence_span(m.start())
        evidence = (
            keyword is not None
            or cue is not None
            or has_tool
            or _QUOTA_WORD_RE.search(text, s_start, s_end) is not None
            or bool(_keywords_in(keywords, starts, s_start, s_end))
            or layout.sentence(m.start()) in idle_sentences
            # "... 30% of my weekly allowance.\n\nAfter a break it showed 52%": a figure said at a
            # later moment, right after a kept one, is the same meter read again
            or (
                bool(figures)
                and layout.paragraph(m.start()) - layout.paragraph(figures[-1].start) <= 1
                and _time_rank(text, layout, m.start()) is not None
            )
        )
        if not evidence:
            continue
        line_start = text.rfind("\n", max(0, m.start() - 200), m.start()) + 1
        line_end = text.find("\n", m.end(), m.end() + 200)
        line_end = min(len(text), m.end() + 200) if line_end < 0 else line_end
        subject_m = _MODEL_ID_RE.search(text, max(line_start, m.start() - 200), line_end)
        subject = subject_m.group(0).lower() if subject_m else None
        bare = _BARE_FROM_RE.search(text, max(0, m.start() - 30), m.start())
        from_used = None
        if bare:
            earlier = float(bare.group("n"))
            from_used = round(100 - earlier, 2) if polarity == "left" else earlier
        both = _BOTH_RE.match(text, m.end(), min(len(text), m.end() + 30))
        pair = (
            [k for k in _keywords_in(keywords, starts, both.end(), both.end() + 40) if k.window != "anti"][:2]
            if both
            else []
        )
        if (
            len(pair) == 2
            and pair[0].window != pair[1].window
            and _PAIR_JOIN_RE.fullmatch(text, pair[0].end, pair[1].start)
        ):
            # "51% for both session and weekly": one figure, two readings
            figures += [
                _Figure(m.start(), m.end(), used, k.window, subject, k, from_used, value, polarity) for k in pair
            ]
            continue
        row = _ROW_LABEL_BEFORE_RE.search(text, max(line_start, m.start() - 50), m.start())
        figures.append(
            _Figure(
                m.start(), m.end(), used, window, subject, keyword, from_used, value, polarity,
                line_start if row else None,
            )
        )
    return figures


# "I used 3/4 of my weekly quota": a small fraction of an allowance is a share like a percentage
# (a count such as "793/1000 credits" is not: its denominator is not a fraction's).
_FRACTION_RE = re.compile(
    r"(?<![\d/.,])(?P<n>[1-9])\s*/\s*(?P<d>[2-9]|10)(?![\d/.,])\s+of\s+(?:(?:the|my|your|our|their|this)\s+)?"
    r"(?:[\w-]+\s+){0,2}?(?:" + _LIMIT + r"|usage|allowance|budget)\b",
    re.IGNORECASE,
)


def _find_fraction_figures(text: str, layout: _Layout, keywords: list[_Keyword]) -> list[_Figure]:
    starts = [k.start for k in keywords]
    figures = []
    for m in _bounded(_FRACTION_RE.finditer(text)):
        n, d = int(m.group("n")), int(m.group("d"))
        if n > d:
            continue
        inside = _keywords_in(keywords, starts, m.start(), m.end())  # "3/4 of my weekly quota"
        keyword = inside[-1] if inside else _window_for_figure(text, layout, m, keywords, starts)
        if keyword is not None and keyword.window == "anti":
            continue
        window = keyword.window if keyword else "unknown"
        used = round(n / d * 100, 2)
        figures.append(_Figure(m.start(), m.end(), used, window, None, keyword, None, used, "used"))
    return figures


# ---------------------------------------------------------------------------------------------
# Limit notices and warnings

# Limit-reached notices and "approaching" warnings. The sentence shapes are few ("hit ... limit",
# "limit ... reached", a stand-alone phrase); the words in them come from the lexicon.
_HIT_RE = re.compile(
    "(?:" + LX.alt("hit.before") + "|(?:" + LX.alt("hit.whole_verbs") + r")\s+(?:up\s+)?(?:all\s+of\s+)?"
    r"(?:(?:my|their|the|our|his|her|your|its)\s+)?(?:" + LX.alt("hit.whole_words") + r"))"
    r"(?!\s+out\b)(?:[^.\n;!?,，、]|\.(?=\d)|,(?=\d)){0,40}?(?:" + _LIMIT
    + r"|(?<!/)\busage\b(?!\s*(?:page|screen|dashboard|panel|tab|command|stats|bar|meter)))"
    r"|\b(?:ran|run|running)\s+out\s+of\s+(?:(?:my|the|your|all|our)\s+)?(?:\w+\s+)?(?:usage|quota|credits|limit|requests|messages)\b"
    r"|\bout\s+of\s+(?:(?:fast|premium|free)\s+)?(?:usage|quota|credits|requests)\b"
    # translated notices put the product between ("Limite di utilizzo di Claude raggiunto"); verb-final
    # clauses put the participle last, far from the limit, where it must close its clause ("Ich habe
    # mein Wochenlimit nach zwei Tagen ganz normaler Arbeit erreicht."); one branch for both, so the
    # limit word is tested once per position
    "|(?:" + _LIMIT + r")(?:[^.\n;!?%]{0,32}?(?:" + LX.alt("hit.after") + ")"
    r"|[^.\n;!?%,]{0,100}?\s(?:" + LX.alt("hit.final") + r")(?:\s+(?:" + LX.alt("hit.final_aux")
    + r")){0,2}(?=\s*(?:[.!?;,:)]|$)|\s+(?:" + LX.alt("clause_joiners") + r")\b))"
    "|" + LX.alt("hit.phrases") + ""
    # "used all my vibe requests", "burned through all of the credits"
    "|(?:" + LX.alt("hit.whole_verbs") + r")\s+(?:(?:up|through)\s+)?all\s+(?:of\s+)?(?:(?:my|their|the|our|his|her|your|its)\s+)?"
    r"(?:[\w-]+\s+){0,2}?(?:" + LX.alt("hit.all_nouns") + ")"
    # the allowance of a named window said to be gone: "the entire weekly allocation. Gone."
    "|(?:" + LX.alt("window.session", "window.weekly", "window.daily", "window.monthly") + r")\s+(?:[\w-]+\s+)?"
    "(?:" + LX.alt("hit.depleted_nouns") + r")(?:[^.\n;!?%]{0,20}?|\s*[.!]\s*)(?:" + LX.alt("hit.depleted") + ")"
    # a window said as the allowance itself: "maxed my weekly in 2 days", "capped on the 5 hour window."
    # (only where the window word ends the phrase: "hit my weekly review" is something else)
    "|(?:" + LX.alt("hit.window_verbs") + r")\s+(?:(?:" + LX.alt("hit.window_determiners") + r")\s+)(?:(?:whole|entire|full)\s+)?(?:"
    + LX.alt("window.session", "window.weekly", "window.daily", "window.monthly") + r")(?:\s+window)?"
    r"(?=\s*(?:[.,;:!?)]|$)|\s+(?:" + LX.alt("hit.window_followers") + r")\b)"
    # a window said to be full, closing its clause: "my session is full again", "la sessione è piena"
    # ("a full session of work", "weekly full reset" are something else)
    "|(?:" + LX.alt("window.session", "window.weekly", "window.daily", "window.monthly") + r")\s+(?:(?:"
    + LX.alt("hit.full_copula") + r")\s+)?(?:" + LX.alt("hit.full") + r")(?=\s*(?:[.,;:!?)]|$)|\s+(?:"
    + LX.alt("clause_joiners") + r"|again|already)\b)"
    + "|(?:" + LX.alt("hit.get_verbs") + r")\s+(?:(?:the|my|a|that|this)\s+)?(?:"
    + LX.alt("window.session", "window.weekly", "window.daily", "window.monthly") + r")\s+(?:" + _LIMIT + ")"
    # said of the whole allowance afterwards: "all the credits had been used", "all of my quota is gone"
    + r"|\ball\s+(?:of\s+)?(?:(?:my|their|the|our|his|her|your|its)\s+)?(?:[\w-]+\s+)?(?:" + LX.alt("hit.all_nouns")
    + r")\s+(?:(?:" + LX.alt("hit.passive_aux") + r")\s+)?(?:already\s+)?(?:" + LX.alt("hit.whole_verbs", "hit.after", "hit.depleted") + ")"
    # an overage said as going past the plan: "gone $4 over my plan", "went over the limit"
    # ("went over the plan" alone is reading it through: a plan needs the amount gone past)
    + r"|\b(?:" + LX.alt("hit.over_verbs") + r")\s+(?:(?P<over_amount>[$€£]\s?\d[\d.,]*|\d[\d.,]*\s?(?:usd|eur|dollars?))\s+)?over\s+"
    r"(?:(?:my|the|our|their|your)\s+)?(?:[\w-]+\s+)?(?:" + LX.alt("hit.over_nouns")
    + r"|(?(over_amount)(?:" + LX.alt("hit.over_amount_nouns") + r")|(?!x)x))"
    r"|\bcan(?:'t|not|\s+not)\s+use\s+\w+(?:\s+\w+)?\s+at\s+all\b"
    # "can't use claude code until friday": shut out until a time (not "until I fix my proxy")
    r"|\bcan(?:'t|not|\s+not)\s+use\s+\w+(?:\s+\w+)?\s+(?:again\s+)?until\s+(?=\d|(?:"
    + alternation([*LX.numbers.get("weekdays", {}), *LX.numbers.get("months", {}), *LX.numbers.get("relative_days", {}), *LX.words("next_words")])
    + r")\b)"
    r"|\b(?:been|got|getting|being|was|were|am|are|is)\s+rate[- ]limited\b|\brate[- ]limit(?:s|ed|ing)\s+me\b",
    re.IGNORECASE,
)
_WARN_RE = re.compile(
    "(?:" + LX.alt("warn.before") + r")[^.\n]{0,40}?(?:" + _LIMIT + ")"
    "|(?:" + _LIMIT + r")[^.\n]{0,20}?(?:" + LX.alt("warn.after") + ")"
    "|" + LX.alt("warn.phrases"),
    re.IGNORECASE,
)
_PROGRESSIVE_RE = re.compile("(?:" + LX.alt("hit.progressive") + r")\s+\S+\s*$", re.IGNORECASE)
# A negation inside "limit ... reached": "the weekly credit limit is always not used up".
_LIMIT_FIRST_RE = re.compile("(?:" + _LIMIT + ")", re.IGNORECASE)
_INNER_NEGATION_RE = re.compile(r"(?:" + LX.alt("negation", "conditional_inner") + r"|n't|n’t)", re.IGNORECASE)
# "80% of the weekly limit used up": the limit's words belong to the figure before them, a share
_SHARE_BEFORE_RE = re.compile(
    r"\d\s*%\s*(?:(?:" + LX.alt("figure_link") + r")\s+){1,3}(?:(?:"
    + LX.alt("window.session", "window.weekly", "window.daily", "window.monthly") + r")[\s-]+)?$",
    re.IGNORECASE,
)
# "90 out of 100": a count, not a limit run out of.
_COUNT_OUT_OF_RE = re.compile(r"out\s+of\s+\d", re.IGNORECASE)
# A condition is no report either: "if you hit the weekly limit", "si te quedas sin créditos".
_NEGATED_RE = re.compile(
    "(?:" + LX.alt("negation", "conditional") + r"|n't|n’t)\s*(?:\w+\s+)?(?:even\s+)?$", re.IGNORECASE
)
# Limits that are not AI-tool quotas: context/token windows, other services' API limits.
_NOT_QUOTA_LIMIT_RE = re.compile(
    r"(?<!monthly )(?<!weekly )(?<!daily )\btoken\s+limit\b|\bheap\s+limit\b|\bcontext\b|\bretry\s+limit\b|\bper[\s-]minute\b|\btokens\s+per\b",
    re.IGNORECASE,
)
_HARDWARE_RE = re.compile(
    r"\b(?:cpu|gpu|ram|memory|disk|heap|storage|bandwidth|battery|connections?)\b", re.IGNORECASE
)
_FOREIGN_SERVICE_RE = re.compile(
    r"\b(?:github\s+api|gh\s+api|docker|npm|pypi|pull\s+rate\s+limit|public\s+api|our\s+api|load\s+test\w*)\b",
    re.IGNORECASE,
)
# Every web API has a "quota"; these words are what AI coding tools say about their own plans.
_QUOTA_PHRASE_RE = re.compile(LX.alt("quota_phrase"), re.IGNORECASE)


_LABEL_GAP_RE = re.compile(r"[\s\"'“”‘’«»()\[\]:,·-]{0,4}")


def _beside_claimed(
    text: str, keywords: list[_Keyword], starts: list[int], keyword: _Keyword, claimed: set[_Keyword]
) -> bool:
    """A window word that is part of a figure's label: `Weekly "All models": 58%` is one label, and
    the figure claims both words even when its keyword is only one of them."""
    i = bisect.bisect_left(starts, keyword.start)
    for other in (keywords[i - 1] if i > 0 else None, keywords[i + 1] if i + 1 < len(keywords) else None):
        if other is None or other not in claimed:
            continue
        lo, hi = (keyword.end, other.start) if other.start >= keyword.end else (other.end, keyword.start)
        if 0 <= hi - lo <= 4 and _LABEL_GAP_RE.fullmatch(text, lo, hi):
            return True
    return False


def _notice_window(
    text: str,
    layout: _Layout,
    start: int,
    end: int,
    keywords: list[_Keyword],
    starts: list[int],
    claimed: set[_Keyword],
) -> str:
    """The window a notice names: words in its own clause, else unclaimed words in its sentence.

    Never borrowed from a figure's label ("I've reached my limit but I still have 44% of the 5h"
    is a limit of unknown window) and never guessed from the reset format.
    """
    c_start, _ = layout.clause_span(start)
    _, c_end = layout.clause_span(max(start, end - 1))
    own = [k for k in _keywords_in(keywords, starts, c_start, c_end) if k.window != "anti"]
    if own:
        inside = [k for k in own if start <= k.start < end]
        return (inside or own)[0].window
    s_start, s_end = layout.sentence_span(start)
    free = [
        k
        for k in _keywords_in(keywords, starts, s_start, s_end)
        if k.window != "anti" and k not in claimed and not _beside_claimed(text, keywords, starts, k, claimed)
    ]
    if free:
        return min(free, key=lambda k: abs(k.start - start)).window
    if _BACK_REFERENCE_RE.search(text, start, end):
        # "increase my daily Kiro limit? ... I hit the limit every day": "the limit" is the one the
        # paragraph named before, when it named exactly one window's limit (and no figure took it)
        p_start, _ = layout.paragraph_span(start)
        named = {
            k.window
            for k in _keywords_in(keywords, starts, max(p_start, start - 600), s_start)
            if k.window != "anti"
            and k not in claimed
            and (
                _LIMIT_NEAR_AFTER_RE.match(text, k.end)
                or _LIMIT_NEAR_BEFORE_RE.search(text, max(0, k.start - 40), k.start)
                or _LIMIT_FIRST_RE.match(text, k.start)  # a compound that is the limit: "Tageslimit"
            )
        }
        if len(named) == 1:
            return named.pop()
    return "unknown"


_BACK_REFERENCE_RE = re.compile(r"(?:" + LX.alt("back_reference") + r")\s+(?:" + _LIMIT + ")", re.IGNORECASE)
# a window word with its limit noun close after it: "daily Kiro limit", "weekly usage limit"
_LIMIT_NEAR_AFTER_RE = re.compile(r"(?:\s+[\w.-]+){0,2}?\s*(?:" + _LIMIT + ")", re.IGNORECASE)
# ... or before it, where the adjective follows its noun: "límite semanal", "limite hebdomadaire"
_LIMIT_NEAR_BEFORE_RE = re.compile(r"(?:" + _LIMIT + r")(?:\s+[\w.-]+){0,2}?\s*$", re.IGNORECASE)


def _notice_matches(text: str) -> list[tuple[re.Match[str], bool]]:
    """Every limit-reached (True) and warning (False) phrase, found once per parse and shared."""
    return [(m, hit) for regex, hit in ((_HIT_RE, True), (_WARN_RE, False)) for m in _bounded(regex.finditer(text))]


def _find_notices(
    text: str,
    layout: _Layout,
    keywords: list[_Keyword],
    claimed: set[_Keyword],
    has_context: bool,
    notices: Sequence[tuple[re.Match[str], bool]],
    idle_sentences: frozenset[int] = frozenset(),
) -> list[_Statement]:
    """Limit-reached notices (hit) and "approaching" warnings (not hit), with the window they name."""
    starts = [k.start for k in keywords]
    statements: list[_Statement] = []
    hit_spans: list[tuple[int, int]] = []
    for m, hit in notices:
        phrase = m.group(0)
        s_start, s_end = layout.sentence_span(m.start())
        c_start, c_end = layout.clause_span(m.start())
        if (
            "%" in phrase  # "hit 91% of my weekly limit" is a figure, read as one
            or _NOT_QUOTA_LIMIT_RE.search(phrase)
            or _FOREIGN_SERVICE_RE.search(text, s_start, s_end)
            or _HARDWARE_RE.search(text, c_start, c_end)
        ):
            continue
        if _requested(text, layout, m.start()):
            continue  # "could you add a warning when I have reached the limit": asked for, not seen
        if hit and _WARN_RE.search(phrase):
            continue  # a warning quoted after a verb ("提示“Approaching weekly limit”"): read as one below
        if hit and _EXPECTATION_RE.search(phrase):
            continue  # "那5小时额度就应该也是0": what should be, not what is
        if hit and _NEGATED_RE.search(text, max(c_start, m.start() - 25), m.start()):
            continue  # "I haven't hit the limit", "without reaching my quota"
        if hit and (
            (_LIMIT_FIRST_RE.match(phrase) and _INNER_NEGATION_RE.search(phrase))
            or _COUNT_OUT_OF_RE.match(phrase)
        ):
            continue  # "the limit is not used up", "90 out of 100 ... usage"
        if hit and _LIMIT_FIRST_RE.match(phrase) and _SHARE_BEFORE_RE.search(text, max(c_start, m.start() - 40), m.start()):
            continue  # "80% of the weekly limit used up": a share of the limit, read as a figure
        if hit and _PROGRESSIVE_RE.search(phrase):
            continue  # "usage being drained very quickly" tells a rate, not an allowance gone
        window = _notice_window(text, layout, m.start(), m.end(), keywords, starts, claimed)
        # The words around count too: in "Usage limit reached" the match is "limit reached", and
        # "显示150额度，...就提示限制了" names the quota in the clause before.
        lead_in = text[max(s_start, m.start() - 40) : m.end()]
        # Someone saying they were not using anything is talking about their own tool's quota.
        context = has_context or layout.sentence(m.start()) in idle_sentences
        if not context and window == "unknown" and not _QUOTA_PHRASE_RE.search(lead_in):
            continue  # "hit the rate limit" with no AI tool or quota figure in sight is someone else's
        i = bisect.bisect_right(hit_spans, (m.end(), m.end())) - 1
        if not hit and i >= 0 and hit_spans[i][1] > m.start():
            continue  # a warning phrase inside a notice already read
        if hit:
            hit_spans.append((m.start(), m.end()))
        statements.append(
            _Statement(
                start=m.start(),
                end=m.end(),
                window=window,
                paragraph=layout.paragraph(m.start()),
                hit=hit,
            )
        )
    return statements


# ---------------------------------------------------------------------------------------------
# Structured output: rate-limit JSON from Claude Code and Codex, Anthropic headers

_CLAUDE_BUCKET_RE = re.compile(r'"(?P<key>five_hour|seven_day(?:_[a-z]+)?)"\s*:\s*\{(?P<body>[^{}]{0,400})\}')
# Key spellings differ by producer and version: the OAuth usage endpoint says "utilization", the
# statusline input "used_percentage", Codex "used_percent" (snake case in session logs, camel case
# in the app server).
_USED_KEY = r'"?(?:utilization|used_?percent(?:age)?|usedPercent(?:age)?)"?'
_UTILIZATION_RE = re.compile(_USED_KEY + r"\s*[:=]\s*(?P<v>-?\d+(?:\.\d+)?)", re.IGNORECASE)
_RESETS_AT_STR_RE = re.compile(r'"?resets_?at"?\s*[:=]\s*"(?P<v>[^"\n]{1,40})"', re.IGNORECASE)
_RESETS_AT_NUM_RE = re.compile(r'"?resets_?at"?\s*[:=]\s*(?:Some\()?(?P<v>\d{10})\b', re.IGNORECASE)
_CODEX_BLOCK_RE = re.compile(
    r"\{(?P<body>[^{}]{0,600}?\bused_?percent(?:age)?\b[^{}]{0,600}?)\}", re.IGNORECASE
)
# the same fields quoted on one line, outside any braces: "primary: usedPercent = 0, windowDurationMins = 10080"
_CODEX_LINE_RE = re.compile(r"^(?P<body>[^{}\n]{0,300}?\bused_?percent(?:age)?\b[^{}\n]{0,300})$", re.IGNORECASE | re.MULTILINE)
_WINDOW_MINUTES_RE = re.compile(
    r'"?window_?(?:minutes|duration_?mins)"?\s*[:=]\s*(?:Some\()?(?P<v>\d+)', re.IGNORECASE
)
_HEADER_UTIL_RE = re.compile(
    r"anthropic-ratelimit-unified-(?P<w>5h|7d)(?:[-_](?P<m>[a-z]+))?-utilization\W{1,4}(?P<v>\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_HEADER_RESET_RE = re.compile(
    r"anthropic-ratelimit-unified-(?P<w>5h|7d)-reset\W{1,4}(?P<v>\d{10})", re.IGNORECASE
)

_KEYED_BUCKET_RE = re.compile(r'"(?P<key>[A-Za-z_]{2,20})"\s*:\s*\{(?P<body>[^{}]{0,400})\}')
_KEYED_PERCENT_RE = re.compile(r'"?(?:percent|used_?percent|usedPercent|percent_?used)"?\s*[:=]\s*(?P<v>\d{1,3}(?:\.\d+)?)\b')
# GitHub Copilot's quota snapshot ("quota_snapshots" in its user endpoint), pasted as JSON or as a
# key/value list: each bucket gives the share *left*, and the reset date is one for all buckets.
# Buckets other than premium requests ("chat", "completions") are usually unlimited and say nothing.
_PERCENT_REMAINING_RE = re.compile(
    r"\bpercent_remaining\b[\"'`\s]*[:=][\"'`\s]*(?P<v>\d{1,3}(?:\.\d+)?)", re.IGNORECASE
)
_SNAPSHOT_BUCKET_RE = re.compile(r"\b(premium_interactions|chat|completions)\b", re.IGNORECASE)
_SNAPSHOT_RESET_RE = re.compile(
    r"\bquota_reset_date(?:_utc)?\b[\"'`\s]*[:=][\"'`\s]*(?P<v>\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z?)?)", re.IGNORECASE
)
_MINUTES_TO_WINDOW = {300: "session", 1440: "daily", 10080: "weekly", 43200: "monthly", 44640: "monthly"}


def _find_structured(text: str, layout: _Layout) -> list[_Statement]:
    statements: list[_Statement] = []

    def add(start: int, end: int, window: str, percent: float, resets: str | None) -> None:
        statements.append(
            _Statement(start, end, window, layout.paragraph(start), percent=percent, resets=resets)
        )

    for m in _CLAUDE_BUCKET_RE.finditer(text):
        util = _UTILIZATION_RE.search(m.group("body"))
        if not util:
            continue  # "seven_day_opus": {"utilization": null} says nothing
        key = m.group("key")
        window = "session" if key == "five_hour" else _model_window(key[len("seven_day_") :] or "all")
        if key == "seven_day":
            window = "weekly"
        reset = _RESETS_AT_STR_RE.search(m.group("body")) or _RESETS_AT_NUM_RE.search(m.group("body"))
        add(m.start(), m.end(), window, float(util.group("v")), reset.group("v") if reset else None)

    claude_spans = [(st.start, st.end) for st in statements]
    blocks = list(_bounded(_CODEX_BLOCK_RE.finditer(text)))
    block_spans = [(b.start(), b.end()) for b in blocks]
    lines = [
        m for m in _bounded(_CODEX_LINE_RE.finditer(text))
        if not any(s <= m.start() < e or m.start() <= s < m.end() for s, e in block_spans)
    ]
    for m in blocks + lines:
        if any(s <= m.start() < e or m.start() <= s < m.end() for s, e in claude_spans):
            continue  # already read as a five_hour / seven_day bucket
        body = m.group("body")
        used = _UTILIZATION_RE.search(body)
        if not used:
            continue
        minutes = _WINDOW_MINUTES_RE.search(body)
        window = _MINUTES_TO_WINDOW.get(int(minutes.group("v")), "unknown") if minutes else "unknown"
        reset = _RESETS_AT_NUM_RE.search(body) or _RESETS_AT_STR_RE.search(body)
        add(m.start(), m.end(), window, float(used.group("v")), reset.group("v") if reset else None)

    # Usage endpoints that key each bucket by its window: {"weekly": {"percent": 39, "resetsAt": "..."}}.
    taken = [(st.start, st.end) for st in statements]
    for m in _bounded(_KEYED_BUCKET_RE.finditer(text)):
        if any(m.start() < e and s < m.end() for s, e in taken):
            continue  # a bucket already read as Claude's or Codex's own JSON
        pct = _KEYED_PERCENT_RE.search(m.group("body"))
        if not pct:
            continue
        key = _WINDOW_RE.fullmatch(m.group("key"))
        window = (key.lastgroup or "unknown") if key else "unknown"
        if window == "anti" or window not in ("session", "weekly", "daily", "monthly", "unknown"):
            continue
        reset = _RESETS_AT_STR_RE.search(m.group("body")) or _RESETS_AT_NUM_RE.search(m.group("body"))
        add(m.start(), m.end(), window, float(pct.group("v")), reset.group("v") if reset else None)

    snapshot_reset = _SNAPSHOT_RESET_RE.search(text)
    for m in _bounded(_PERCENT_REMAINING_RE.finditer(text)):
        buckets = list(_SNAPSHOT_BUCKET_RE.finditer(text, max(0, m.start() - 300), m.start()))
        if buckets and buckets[-1].group(1).lower() != "premium_interactions":
            continue  # the chat and completions buckets: unlimited on every paid plan
        share_used = round(100 - float(m.group("v")), 2)
        if 0 <= share_used <= 100:
            add(m.start(), m.end(), "unknown", share_used, snapshot_reset.group("v") if snapshot_reset else None)

    header_resets: dict[str, str] = {}
    for m in _HEADER_RESET_RE.finditer(text):
        header_resets[m.group("w").lower()] = m.group("v")
    for m in _HEADER_UTIL_RE.finditer(text):
        w = m.group("w").lower()
        value = float(m.group("v"))
        percent = value * 100 if value <= 1 else value  # headers carry a fraction
        window = "session" if w == "5h" else (_model_window(m.group("m")) if m.group("m") else "weekly")
        add(m.start(), m.end(), window, round(percent, 2), header_resets.get(w))
    return statements


# ---------------------------------------------------------------------------------------------
# Attaching resets, pairing jumps, merging


def _window_of_reset(
    clause: _ResetClause, layout: _Layout, keywords: list[_Keyword], starts: list[int], floor: int
) -> str | None:
    s_start, _ = layout.sentence_span(clause.lead_start)
    found = _keywords_in(keywords, starts, max(s_start, floor), clause.lead_start)
    return found[-1].window if found else None


def _attach_resets(
    statements: list[_Statement],
    clauses: list[_ResetClause],
    layout: _Layout,
    keywords: list[_Keyword],
) -> list[_Statement]:
    """Give each reset clause to the statement it follows; a clause that names its own window and
    finds no taker is a reading of its own ("/usage says the session resets at 3:30pm")."""
    starts = [k.start for k in keywords]
    ordered = sorted(statements, key=lambda s: s.start)
    stmt_starts = [s.start for s in ordered]
    extra: list[_Statement] = []
    for clause in clauses:
        paragraph = layout.paragraph(clause.lead_start)
        i = bisect.bisect_right(stmt_starts, clause.lead_start) - 1
        target = ordered[i] if i >= 0 and ordered[i].paragraph == paragraph else None
        if target is None:
            # A reset printed before its figure: in the same sentence ("Resets 5pm: 40% used"), or
            # as a header of the block the figure opens ("Estimated Usage | resets on 06/01 ... 1%").
            j = i + 1
            if (
                j < len(ordered)
                and ordered[j].paragraph == paragraph
                and ordered[j].resets is None
                and ordered[j].start - clause.end < 300
            ):
                target = ordered[j]
        floor = target.end if target is not None and target.start < clause.lead_start else 0
        window = _window_of_reset(clause, layout, keywords, starts, floor)
        p_start, _ = layout.paragraph_span(clause.lead_start)
        between = _keywords_in(keywords, starts, max(floor, p_start), clause.lead_start)
        if window == "anti" or (between and between[-1].window == "anti"):
            continue  # the reset of an "Extra usage" block or a context meter
        if target is not None and target.resets is None and window in (None, target.window, "unknown"):
            target.resets = clause.text
            target.end = max(target.end, clause.end)
            continue
        if target is not None and target.resets is None and target.window == "unknown" and window:
            target.window = window  # "Your usage limits will reset when your monthly cycle ends"
            target.resets = clause.text
            continue
        if target is not None and _same_text(target.resets, clause.text):
            continue
        if window is not None:
            extra.append(_Statement(clause.lead_start, clause.end, window, paragraph, resets=clause.text))
    return statements + extra


_ARROWS = r"->|→|=>|⇒|➜|➡|⟶|-->"
_CHANGE_RE = re.compile(_ARROWS + "|" + LX.alt("change", "arrow"), re.IGNORECASE)
# Earlier moments rank lower; a pair written latest-first ("today 56% / yesterday 65%") is swapped.
_TIME_RANKS = tuple(
    (re.compile(LX.alt(f"time.{name}"), re.IGNORECASE), rank)
    for rank, name in enumerate(("earliest", "earlier", "today", "now"))
)


def _time_rank(text: str, layout: _Layout, start: int) -> int | None:
    """How early the moment of a figure is, from the time words of its clause or, when the clause
    has none, of its sentence up to it ("After a pause, I resumed work and saw 100%")."""
    c_start, c_end = layout.clause_span(start)
    if c_start in layout.time_ranks:
        return layout.time_ranks[c_start]
    found = None
    for lo in (c_start, layout.sentence_span(start)[0]):
        ranks = [rank for regex, rank in _TIME_RANKS if regex.search(text, lo, c_end)]
        if ranks:
            found = min(ranks)
            break
    layout.time_ranks[c_start] = found
    return found


def _figure_statements(figures: list[_Figure], layout: _Layout) -> list[_Statement]:
    return [
        _Statement(
            fig.start,
            fig.end,
            fig.window,
            layout.paragraph(fig.start),
            percent=fig.used,
            from_percent=fig.from_used,
            subject=fig.subject,
            is_figure=True,
            raw=fig.raw,
            polarity=fig.polarity,
            line=fig.line,
        )
        for fig in figures
    ]


_ARROW_RE = re.compile(_ARROWS + "|" + LX.alt("arrow"), re.IGNORECASE)
# The earlier value of a change may come second: "jumped to 60% from 20%", "60% (before: 20%)",
# "prima era al 10%" (up to two short words between the marker and the figure).
_ORIGIN_BEFORE_RE = re.compile(
    "(?:" + LX.alt("origin") + r")(?:\s+[^\W\d_]{1,5}){0,2}[\s:(\"'“~≈]{0,4}$", re.IGNORECASE
)


def _said_as_origin(text: str, start: int) -> bool:
    return bool(_ORIGIN_BEFORE_RE.search(text, max(0, start - 24), start))


def _same_window_for_jump(
    first: _Statement,
    second: _Statement,
    text: str,
    first_start: int,
    first_rank: int | None,
    second_rank: int | None,
) -> bool:
    """Figures of one window, or an unlabelled figure tied to a labelled one by an arrow or by
    dates on both ("64% -> 100% weekly", "today 56% left / yesterday 65% left on the weekly")."""
    if first.window == second.window:
        return True
    if "unknown" not in (first.window, second.window):
        return False
    told = _told_in_order(first_rank, second_rank, first.window != "unknown")
    return told or bool(_ARROW_RE.search(text, first_start, second.start))


def _told_in_order(first_rank: int | None, second_rank: int | None, first_named: bool) -> bool:
    """Both moments are dated, or the second is said to come later than an undated first that
    named its window ("30% of my weekly allowance ... After a break it showed 52%")."""
    if second_rank is None:
        return False
    return first_rank is not None or (first_named and second_rank == len(_TIME_RANKS) - 1)


_FALL_RE = re.compile(LX.alt("fall"), re.IGNORECASE)


def _told_as_fall(first: _Statement, second: _Statement, text: str, start: int, end: int, reset_said: bool) -> bool:
    """Two figures with no used/left word, the later lower, told with a word of falling (before them
    or, verb-final, after: "von 80% auf 20% gefallen"), in a text that says nothing of a reset (after
    a reset a used share does fall: "weekly dropped 84% → 2%")."""
    return (
        first.polarity is None
        and second.polarity is None
        and first.raw is not None
        and second.raw is not None
        and first.from_percent is None
        and first.raw > second.raw
        and not reset_said
        and _FALL_RE.search(text, start, end) is not None
    )


def _pair_snapshots(statements: list[_Statement], text: str, layout: _Layout) -> list[_Statement]:
    """Two snapshots of the same meters, one after the other: "before: 5h 83% | wk 84% / after: 5h 22%
    | wk 2%". A run of figures naming two or more distinct windows, then figures of some of those
    windows again (a later look may skip a meter), with a change or time word between the two, is one
    jump per window read twice. Tool cards read as structured statements count as figures here."""
    figures = sorted(
        (s for s in statements if s.percent is not None and s.from_percent is None and s.hit is None),
        key=lambda s: s.start,
    )
    joined: set[int] = set()
    i = 0
    while i < len(figures):
        taken = _snapshot_pair_at(figures, i, text, layout)
        if not taken:
            i += 1
            continue
        joined |= taken
        # a pair read, the next snapshot can only start after its later half (at most 8 figures on)
        i = max(n for n in range(i, min(len(figures), i + 8)) if id(figures[n]) in taken) + 1
    return [s for s in statements if id(s) not in joined] if joined else statements


def _snapshot_pair_at(figures: list[_Statement], i: int, text: str, layout: _Layout) -> set[int]:
    """Pair the snapshot that starts at figures[i] with the one after it; the ids of the later
    figures joined into the earlier ones (none when no snapshot pair starts there)."""
    for k in (4, 3, 2):
        first = figures[i : i + k]
        windows = [f.window for f in first]
        if len(first) < k or "unknown" in windows or len(set(windows)) != k:
            continue
        for j in range(k, 1, -1):
            second = figures[i + k : i + k + j]
            later = [f.window for f in second]
            if (
                len(second) < j
                or len(set(later)) != j
                or not set(later) <= set(windows)
                # the later look may stand under a heading of its own ("After reset:")
                or second[0].paragraph - first[-1].paragraph > 2
                or not _CHANGE_RE.search(text, first[-1].end, second[0].start)
            ):
                continue
            by_window = {f.window: f for f in first}
            pairs = [(by_window[b.window], b) for b in second]
            # rows of two model tables keep their model; prose naming a model once does not split them
            if any(a.subject and b.subject and a.subject != b.subject for a, b in pairs) or all(
                a.percent == b.percent for a, b in pairs
            ):
                continue
            earlier, now = _time_rank(text, layout, first[0].start), _time_rank(text, layout, second[0].start)
            latest_first = earlier is not None and now is not None and earlier > now
            for a, b in pairs:
                if latest_first:  # "today: 5h 90% ... yesterday: 5h 40%"
                    a.from_percent = b.percent
                else:
                    a.from_percent, a.percent = a.percent, b.percent
                    a.resets = b.resets or a.resets
                a.end = max(a.end, b.end)
            return {id(b) for _, b in pairs}
    return set()


def _pair_jumps(statements: list[_Statement], text: str, layout: _Layout) -> list[_Statement]:
    """Join consecutive figures of one window linked by a change word into one jump.

    "weekly 84% -> 2%", "was 83% ..., now 22%", "30%から100%に": from = the earlier value, percent =
    the later one, and the reset of the later figure wins since it is the current one.
    """
    reset_said = _RESET_WORD_RE.search(text) is not None  # once per text, not once per pair
    out: list[_Statement] = []
    previous: _Statement | None = None
    previous_start = 0
    for stmt in sorted(statements, key=lambda s: s.start):
        if not stmt.is_figure:
            out.append(stmt)
            continue
        first_rank = _time_rank(text, layout, previous_start)
        second_rank = _time_rank(text, layout, stmt.start)
        if (
            previous is not None
            and _same_window_for_jump(previous, stmt, text, previous_start, first_rank, second_rank)
            and previous.subject == stmt.subject
            and (
                previous.paragraph == stmt.paragraph
                # dated snapshots may sit in paragraphs of their own ("Today: ...\n\nYesterday: ...")
                or (
                    _told_in_order(first_rank, second_rank, previous.window != "unknown")
                    and stmt.paragraph == previous.paragraph + 1
                )
            )
            and previous.percent != stmt.percent
            and _CHANGE_RE.search(text, layout.clause_span(previous_start)[0], stmt.end)
        ):
            if previous.window == "unknown":
                previous.window = stmt.window
            if previous.polarity == "left" and stmt.polarity is None and stmt.raw is not None:
                stmt.percent = round(100 - stmt.raw, 2)  # "from 96% remaining to 0%": both are shares left
            elif _told_as_fall(
                previous,
                stmt,
                text,
                layout.clause_span(previous_start)[0],
                layout.clause_span(stmt.start)[1],
                reset_said,
            ):
                # "my 5-hour quota dropped from 100% to 0%": use only grows inside a window, so a
                # figure that falls with no reset said is the share left
                assert previous.raw is not None and stmt.raw is not None
                previous.percent, previous.from_percent = round(100 - previous.raw, 2), None
                stmt.percent = round(100 - stmt.raw, 2)
            dated = first_rank is not None and second_rank is not None and first_rank != second_rank
            swapped = (
                (dated and (first_rank or 0) > (second_rank or 0))
                # "I have 40% left; yesterday I had 70%": an undated figure is now, set against a past day
                or (first_rank is None and second_rank == 0)
                # "jumped to 60%, was 20%" (two dated moments outweigh "was": "hit 100% the night
                # before ... this morning it was at 69%")
                or (not dated and _said_as_origin(text, stmt.start) and not _said_as_origin(text, previous_start))
            )
            if swapped:  # written latest-first: "today 56% left / yesterday 65% left"
                previous.from_percent, previous.percent = stmt.percent, previous.percent
            else:
                if previous.from_percent is None:
                    previous.from_percent = previous.percent
                previous.percent = stmt.percent
                previous.resets = stmt.resets or previous.resets
            previous.end = max(previous.end, stmt.end)
            previous_start = stmt.start
            continue
        out.append(stmt)
        previous, previous_start = stmt, stmt.start
    return out


def _same_text(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return re.sub(r"\s+", "", a).lower() == re.sub(r"\s+", "", b).lower()


def _resets_agree(a: str, b: str) -> bool:
    """The same reset time, once written with its zone and once without ("3pm" / "3pm (UTC)")."""
    x, y = re.sub(r"\s+", "", a).lower(), re.sub(r"\s+", "", b).lower()
    return x == y or (x.startswith(y) and x[len(y)] == "(") or (y.startswith(x) and y[len(x)] == "(")


# A reset said as a duration ("6d", "in 4h 10m") and one said as a date or clock ("Sun 7 Jun, 6:00")
# cannot be compared without knowing when they were read: they do not contradict each other.
_DURATION_UNITS = "|".join(
    re.escape(u)
    for u in sorted(
        {w for k in ("weeks", "days", "hours", "minutes", "seconds") for w in LX.words("units." + k)},
        key=len,
        reverse=True,
    )
)
_DURATION_RESET_RE = re.compile(
    r"(?:in\s+)?\d+\s*(?:" + _DURATION_UNITS + r")\.?(?:,?\s*\d+\s*(?:" + _DURATION_UNITS + r")\.?){0,3}",
    re.IGNORECASE,
)


def _resets_comparable(a: str, b: str) -> bool:
    return _is_duration(a) == _is_duration(b)


@functools.lru_cache(maxsize=1024)
def _is_duration(reset: str) -> bool:
    return bool(_DURATION_RESET_RE.fullmatch(reset.strip()))


def _consistent(a: _Statement, b: _Statement) -> bool:
    """Two statements can be one reading when nothing they say disagrees."""
    if a.subject and b.subject and a.subject != b.subject:
        return False
    if a.percent is not None and b.percent is not None and abs(a.percent - b.percent) > 0.05:
        return False
    if a.from_percent is not None and b.from_percent is not None and a.from_percent != b.from_percent:
        return False
    ha, hb = a.effective_hit(), b.effective_hit()
    if ha is not None and hb is not None and ha != hb:
        return False
    return not (
        a.resets and b.resets and _resets_comparable(a.resets, b.resets) and not _resets_agree(a.resets, b.resets)
    )


def _can_merge(into: _Statement, new: _Statement, row_windows: frozenset[str] = frozenset()) -> bool:
    if into.window == new.window:
        return _consistent(into, new)
    # An unnamed statement joins a named one only inside the same notice or report (paragraph):
    # across paragraphs that would be guessing the window.
    # A model row of a table ("gemini-2.5-pro 0% left") stays a row of its own.
    unnamed = into if into.window == "unknown" else new
    named = new if unnamed is into else into
    if unnamed.line is not None and named.window in row_windows:
        # A list with a row of its own for that window ("Weekly: 0% remaining"): the row under another
        # label ("Remaining usage: 0%") is another bucket.
        return False
    if unnamed.window == "unknown" and not unnamed.subject and into.paragraphs & new.paragraphs:
        return _consistent(into, new)
    return False


def _merge(statements: list[_Statement], layout: _Layout) -> list[_Statement]:
    merged: list[_Statement] = []
    row_windows = frozenset(s.window for s in statements if s.line is not None and s.window != "unknown")
    for stmt in sorted(statements, key=lambda s: s.start):
        stmt.sentences = {layout.sentence(stmt.start), layout.sentence(max(stmt.start, stmt.end - 1))}
        stmt.paragraphs = {stmt.paragraph}
        for into in merged:
            if _can_merge(into, stmt, row_windows):
                if into.window == "unknown":
                    into.window = stmt.window
                into.percent = into.percent if into.percent is not None else stmt.percent
                into.from_percent = into.from_percent if into.from_percent is not None else stmt.from_percent
                if not into.resets or (
                    stmt.resets
                    and len(stmt.resets) > len(into.resets)
                    and _resets_comparable(into.resets, stmt.resets)
                ):
                    into.resets = stmt.resets or into.resets  # the fuller spelling of the same time
                into.subject = into.subject or stmt.subject
                if stmt.hit is not None and into.hit is not True:
                    into.hit = stmt.hit
                into.sentences |= stmt.sentences
                into.paragraphs |= stmt.paragraphs
                break
        else:
            merged.append(stmt)
    return merged


def _join_unnamed_notice(merged: list[_Statement]) -> list[_Statement]:
    """A notice that names no window, in a text that names exactly one limit as hit, is that limit
    ("You've hit your usage limit ... try again at 5pm" + "I hit my weekly limit")."""
    named_hits = [r for r in merged if r.window != "unknown" and r.effective_hit()]
    if len(named_hits) != 1:
        return merged
    target = named_hits[0]
    out = []
    for r in merged:
        if (
            r.window == "unknown"
            and r.effective_hit()
            and (r.hit or r.percent is None or r.percent >= 100)
            and r.subject is None
            and not (r.line is not None and target.line is not None)  # two rows, two labels, two buckets
            and _consistent(target, r)
        ):
            # "seeing 100% usage limits" + "You've hit your session limit": one reading
            target.percent = target.percent if target.percent is not None else r.percent
            target.from_percent = target.from_percent if target.from_percent is not None else r.from_percent
            target.resets = target.resets or r.resets
            target.idle = target.idle if target.idle is not None else r.idle
            target.sentences |= r.sentences
            target.paragraphs |= r.paragraphs
            continue
        out.append(r)
    return out


def _join_restated_figure(merged: list[_Statement]) -> list[_Statement]:
    """An unnamed figure that repeats the exact figure of one named reading, before or after it, is
    that reading said again ("Current session: 44% used" ... "the site showed 44% used", "it reports
    11%/24% ... Current session 11% used"); with two named readings of that figure it could be
    either, and stays apart."""
    named = [o for o in merged if o.window != "unknown" and o.percent is not None]
    out: list[_Statement] = []
    for r in merged:
        if r.window == "unknown" and r.percent is not None and r.subject is None and r.line is None:
            same = [o for o in named if abs(o.percent - r.percent) <= 0.05]  # type: ignore[operator]
            if len(same) == 1 and _consistent(same[0], r):
                target = same[0]
                target.from_percent = target.from_percent if target.from_percent is not None else r.from_percent
                target.resets = target.resets or r.resets
                target.sentences |= r.sentences
                target.paragraphs |= r.paragraphs
                continue
        out.append(r)
    return out


# A figure under its own label ("Claude Design: 0% used") is that bucket's, whatever else is named.
_ROW_LABEL_BEFORE_RE = re.compile(r"[^\W\d_][^:\n]{0,40}:\s*(?:~\s*)?$")


def _drop_replaced_resets(merged: list[_Statement], text: str, layout: _Layout) -> list[_Statement]:
    """A reset time the text dates earlier than another of the same window was replaced by it
    ("Yesterday it said resets Nov 3. Today it says resets Nov 7"): only the later one is kept."""
    bare = [
        (st, _time_rank(text, layout, st.start))
        for st in merged
        if st.resets is not None and st.percent is None and not st.hit
    ]
    replaced = {
        id(st)
        for st, rank in bare
        if rank is not None
        and any(
            other is not st and other.window == st.window and later is not None and later > rank
            and not _same_text(other.resets, st.resets)
            for other, later in bare
        )
    }
    return [st for st in merged if id(st) not in replaced]


def _figure_of_the_one_window(merged: list[_Statement], keywords: list[_Keyword], text: str) -> list[_Statement]:
    """A lone figure in a report about one window is that window's: "Weekly limits always reset
    early. ... I had around 60% left". Only when the text names no other window, says nothing is hit,
    and the figure is not a labelled row of some other bucket."""
    if len(merged) != 1 or merged[0].window != "unknown" or merged[0].percent is None or merged[0].hit:
        return merged
    windows = {k.window for k in keywords}
    if len(windows) != 1 or "anti" in windows:
        return merged
    figure = merged[0]
    if figure.subject is not None or figure.effective_hit():
        return merged
    line_start = text.rfind("\n", max(0, figure.start - 200), figure.start) + 1
    if _ROW_LABEL_BEFORE_RE.search(text, max(line_start, figure.start - 50), figure.start):
        return merged
    figure.window = windows.pop()
    return merged


# ---------------------------------------------------------------------------------------------
# Idle: was anything running?

_IDLE_RE = re.compile(
    LX.alt("idle.phrases")
    + "|(?:" + LX.alt("idle.more") + r")(?!\s+(?:" + LX.alt("idle.not_followed_by") + "))"
    + "|(?:" + LX.alt("idle.negators") + r")\s+(?:even\s+)?(?:" + LX.alt("idle.verbs") + ")"
    + r"(?!\s+(?:" + LX.alt("idle.not_followed_by") + "))"
    + "|(?:" + LX.alt("idle.before") + r")\s+(?:" + LX.alt("idle.before_verbs") + ")"
    + "|(?:" + LX.alt("idle.none") + r")\s+(?:(?:" + LX.alt("idle.adjectives") + r")\s+)?(?:" + LX.alt("idle.nouns") + ")",
    re.IGNORECASE,
)
_IDLE_LIMITER_RE = re.compile(LX.alt("idle.limiters"), re.IGNORECASE)
_ALLOWANCE_BEFORE_RE = re.compile("(?:" + LX.alt("idle.allowance_before") + r")\s+$", re.IGNORECASE)
_ALLOWANCE_NONE_RE = re.compile(
    "(?:" + LX.alt("idle.none") + r")\s+(?:" + LX.alt("idle.allowance_nouns") + ")", re.IGNORECASE
)
_ACTIVE_RE = re.compile(
    "(?:" + LX.alt("active.after") + r")\s+(?:(?:" + LX.alt("active.fillers") + r")\s+)?"
    r"(?:" + LX.alt("active.counts") + r"|~?\d+\+?)\s+(?:[\w-]+\s+)?(?:" + LX.alt("active.nouns") + r"|/\w+)"
    r"(?!\s*(?:per|a|an|/|left|remaining)\b)"  # "only 2 prompts left", "50 requests per day": an allowance
    # "just about 3 prompts (and it hit the limit)": a count of things sent, not of time passed
    "|(?:" + LX.alt("active.count_leads") + r")\s+(?:(?:used|sent|did)\s+)?(?:(?:" + LX.alt("active.fillers")
    + r")\s+)?(?:" + LX.alt("active.counts") + r"|~?\d+\+?)(?:\s+or\s+\d+)?\s+(?:[\w-]+\s+){0,2}(?:"
    + LX.alt("active.sent_nouns") + ")"
    r"(?!\s*(?:per|a|an|/|left|remaining|of)\b)"
    "|(?:" + LX.alt("active.few_leads") + r")\s+(?:used\s+)?(?:(?:" + LX.alt("active.fillers") + r")\s+)?(?:"
    + LX.alt("active.counts") + r"|\d+)(?:\s+or\s+\d+)?\s+(?:[\w-]+\s+){0,2}(?:" + LX.alt("active.few_nouns") + ")"
    # "a single 'hello'", "just \"continue\"": one message, quoted
    r"|\b(?:a\s+single|one|just|only)\s+(?:(?:by\s+)?(?:writing|typing|sending|saying)\s+)?['\"“‘][^'\"”’\n]{1,20}['\"”’]"
    "|(?:" + LX.alt("active.quote_verbs") + r")\s+['\"“‘][^'\"”’\n]{1,20}['\"”’]"
    r"|(?:\b(?:one|a|1|single)\s+)/\w+"
    "|" + LX.alt("active.phrases") + ""
    # "just by chatting", "simply by asking questions"
    "|(?:" + LX.alt("active.by_leads") + r")\s+\w+ing\b"
    # "two prompts and I reached the session limit": a count of things sent, then the limit
    r"|\b(?:" + LX.alt("active.sent_counts") + r")\s+(?:[\w-]+\s+)?(?:" + LX.alt("active.sent_nouns")
    + r")\s*,?\s+(?:and|&)\s"
    # "after ~40 min of sonnet", "in less than an hour of usage", "2 days of use"
    r"|(?:\b~?\d+(?:\.\d+)?|" + alternation(LX.numbers.get("number_words", {})) + r")\s*(?:"
    + LX.alt("active.spans") + r")(?:\s*\d{1,2}\s*(?:m|min|mins|minutes)?)?\s+of\s+(?:(?:my|the|a|an|our)\s+)?"
    r"(?:(?:first|second|one|single)\s+)?(?:" + LX.alt("active.span_of") + ")"
    r"|\b\d{1,2}h\d{2}\s+of\s+(?:" + LX.alt("active.span_of") + ")"  # "1h30 of use"
    # "used 52% in less than 120 minutes", "my usage was under two hours": a sitting of use, measured
    "|(?:" + LX.alt("active.speed_leads") + "|(?:" + LX.alt("active.sitting_leads") + r")(?:\s+(?:"
    + LX.alt("active.sitting_fillers") + r"))?)\s+(?:~?\d+(?:\.\d+)?(?:\s*(?:-|–|to|or)\s*\d+)?|an?|"  # "within 10-15 mins"
    + alternation(LX.numbers.get("number_words", {}))
    + r")\s*(?:" + LX.alt("active.speed_spans") + r")\b"
    # "I used it for 2 days": a sitting measured in days (not "haven't used claude for 2 days")
    r"|(?<!not\s)(?<!n't\s)(?<!never\s)(?:" + LX.alt("active.sitting_leads") + r")(?:\s+(?:" + LX.alt("active.sitting_fillers") + r"))?\s+(?:~?\d+(?:\.\d+)?|an?|"
    + alternation(LX.numbers.get("number_words", {})) + r")\s*(?:" + LX.alt("active.sitting_days") + r")\b"
    # "20 minutes in and the limit was hit", "an hour in, blocked": time into a sitting of use
    # (the unit may touch the number, "11m in", so it is matched without a word edge before it)
    r"|(?:\b~?\d+(?:\.\d+)?\s*|\b(?:an?|" + alternation(LX.numbers.get("number_words", {})) + r")\s+)(?:"
    + "|".join(sorted((re.escape(w) for w in LX.words("active.speed_spans")), key=len, reverse=True))
    + r")\s+in\b(?=\s*(?:,|&|and\b|\.\.\.|—|-))"
    # "I hit the limit very quickly (around 200 requests)": an estimate of things sent, given as an aside
    # (without the estimate, "your limit (2000 requests)" is the allowance's size)
    r"|\(\s*(?:" + LX.alt("approx") + r")\s*\d+\+?\s+(?:" + LX.alt("active.sent_nouns") + r")\s*\)"
    # "I sent one refactoring prompt", "asked a single question", "ask it a simple question" (a thing
    # sent to the tool: "submit a new query" alone is a tool's hint)
    "|(?:" + LX.alt("active.send_verbs") + r")\s+(?:(?:" + LX.alt("active.sent_to") + r")\s+(?:a|an)\s+|(?:(?:"
    + LX.alt("active.sent_to") + r")\s+)?(?:(?:" + LX.alt("active.fillers") + r")\s+)?(?:" + LX.alt("active.sent_counts")
    + r"|\d+)\s+)(?:[\w-]+\s+)?(?:" + LX.alt("active.sent_nouns") + ")"
    "|(?:" + LX.alt("active.sent_verbs_past") + r")\s+(?:(?:only|just)\s+)?(?:a|an)\s+(?:[\w-]+\s+){0,2}(?:"
    + LX.alt("active.sent_nouns") + ")"
    # "it spawned 12 subagents", "启动了20个子代理", "エージェントを20個起動": the tool set to work (a few
    # characters between, in one clause; not "didn't launch any agents")
    r"|(?<!n't\s)(?<!not\s)(?<!never\s)(?<!without\s)(?:" + LX.alt("active.agent_verbs")
    + r")(?!\s+(?:any|no)\b)[^.,;:!?。，、！？\n]{0,16}?(?:" + LX.alt("active.agent_nouns") + ")"
    "|(?:" + LX.alt("active.agent_nouns") + r")[^.,;:!?。，、！？\n]{0,12}?(?:" + LX.alt("active.agent_verbs_after") + ")",
    re.IGNORECASE,
)


def _idle_cues(
    text: str, layout: _Layout, reset_spans: list[tuple[int, int]] | None = None
) -> list[tuple[int, int, bool]]:
    """(sentence, paragraph, idle) for each thing the reporter says about activity.

    Words inside a reset time ("reset after 50 min") say when, not what the reporter did."""
    spans = reset_spans or []
    span_starts = [s for s, _ in spans]

    def in_reset(pos: int) -> bool:
        i = bisect.bisect_right(span_starts, pos) - 1
        return i >= 0 and spans[i][0] <= pos < spans[i][1]

    cues = [
        (layout.sentence(m.start()), layout.paragraph(m.start()), True)
        for m in _IDLE_RE.finditer(text)
        if not _IDLE_LIMITER_RE.search(text, m.end(), layout.clause_span(m.start())[1])
        and not (
            _ALLOWANCE_NONE_RE.fullmatch(m.group(0))
            and _ALLOWANCE_BEFORE_RE.search(text, max(0, m.start() - 20), m.start())
        )
    ]
    cues += [
        (layout.sentence(m.start()), layout.paragraph(m.start()), False)
        for m in _ACTIVE_RE.finditer(text)
        if not in_reset(m.start())
    ]
    return cues


def _apply_idle(readings: list[_Statement], cues: list[tuple[int, int, bool]]) -> None:
    cued = {c[0] for c in cues}
    # Idle cues first: "nothing running" outweighs a stray "after" in the same breath.
    for sentence, paragraph, idle in sorted(cues, key=lambda c: not c[2]):
        targets = [r for r in readings if sentence in r.sentences]
        if targets and idle:
            # "67% used ... with zero messages sent. Current session shows 0%": no use covers every
            # figure read in that paragraph, not only the one in the cue's sentence (but not one
            # whose own sentence says what was done: "... The session is at 90% after 3 prompts")
            targets += [
                r for r in readings if paragraph in r.paragraphs and r not in targets and not (r.sentences & cued)
            ]
        if not targets:
            # Said in a sentence of its own ("...100%に。何も動かしてないのに"): it is about the jump or
            # the limit being complained about in that paragraph.
            same_paragraph = [r for r in readings if paragraph in r.paragraphs]
            targets = [r for r in same_paragraph if r.from_percent is not None or r.effective_hit()]
            if idle:
                # "nothing was running" covers every figure read in that paragraph, not only the jump
                targets = same_paragraph
            targets = targets or same_paragraph
        if not targets:
            # Said in a paragraph with no reading of its own ("You've hit your limit ...\n\nand I
            # wasn't even using it"): it is about the limit or jump the report complains of.
            targets = [r for r in readings if r.from_percent is not None or r.effective_hit()]
        for r in targets:
            if r.idle is None:
                r.idle = idle


# ---------------------------------------------------------------------------------------------
# Tool, plan, model mode, version

@dataclass(frozen=True, slots=True)
class _ToolCue:
    tool: str
    weight: int
    in_body: bool  # found in the cleaned text (else in the raw text: it only breaks ties by order)
    starts: tuple[int, ...]  # where it was found, at most 20 times


def _find_tool_cues(body: str, raw: str) -> list[_ToolCue]:
    """Every format cue found in the text, searched once per parse."""
    found = []
    for cue in FORMATS.cues:
        text = raw if cue.raw else body
        starts = tuple(m.start() for m in itertools.islice(cue.pattern.finditer(text), 20))
        if starts:
            found.append(_ToolCue(cue.tool, cue.weight, text is body, starts))
    return found


def _detect_tool(cues: list[_ToolCue], body_len: int, anchors: list[int] | None = None) -> str | None:
    """The product the readings are about: the best-supported cue wins.

    Ties ("moved from claude to codex, codex says 12% left") go to the product named closest to a
    reading (`anchors`: statement offsets in the cleaned text), else to the one named first.
    """
    scores: dict[str, int] = {}
    nearest: dict[str, int] = {}
    for cue in cues:
        for start in cue.starts:
            if cue.in_body and anchors:
                distance = min(abs(start - a) for a in anchors[:20])
            else:
                distance = start + body_len  # raw-text cues only break ties by order
            nearest[cue.tool] = min(nearest.get(cue.tool, distance), distance)
        scores[cue.tool] = scores.get(cue.tool, 0) + cue.weight
    if not scores:
        return None
    return max(scores, key=lambda t: (scores[t], -nearest[t]))


_PLAN_RE = re.compile(
    r"(?P<tier_first>\b(?:5|20)x\s+max\b)"
    r"|\bmax\s*\(?\s*(?:x\s*)?(?P<tier>5|20)\s*x?\s*\)?(?![\d.])"
    r"|\bmax(?P<tier2>5|20)x?\b"
    r"|\b(?P<name>max|pro|plus|team|business|enterprise|ultra|free)\b(?P<plus>\s*\+)?",
    re.IGNORECASE,
)
_UPSELL_BEFORE_RE = re.compile(
    r"\b(?:upgrade|get|buy|purchase|switch|subscribe|try|consider|go)\b[^.!?]{0,60}$", re.IGNORECASE
)
_PLAN_BEFORE_RE = re.compile(
    r"\b(?:on|have|having|using|with|my|our|i'?m\s+on|am\s+on|subscribed\s+to|subscriber|paying\s+for|pay\s+for"
    r"|bought|paid|plan|tier|subscription|account|got|upgraded\s+to|downgraded\s+to)\s*[:=]?\s*"
    r"(?:(?:claude|chatgpt|openai|cursor|github|copilot|gemini|google\s+ai|the|a|an)\s+)*$"
    r"|\b(?:claude|chatgpt|cursor|copilot|google\s+ai)\s+$",
    re.IGNORECASE,
)
_PLAN_AFTER_RE = re.compile(
    r"\s*(?:plan|subscription|subscribers?|tier|users?|account|seat|sub|members?|customers?)\b", re.IGNORECASE
)
_PLAN_TYPE_RE = re.compile(r'"?plan_?type"?\s*[:=]\s*"(?P<v>[a-z_+]+)"', re.IGNORECASE)
_PLAN_NAMES = {
    "max": "Max",
    "pro": "Pro",
    "plus": "Plus",
    "team": "Team",
    "business": "Business",
    "enterprise": "Enterprise",
    "ultra": "Ultra",
    "free": "Free",
    "pro+": "Pro+",
}


def _plan_accepted(text: str, m: re.Match[str]) -> bool:
    start = m.start()
    before = text[max(0, start - 80) : start]
    sentence_before = re.split(r"[.!?](?:\s|$)", before)[-1]
    if _UPSELL_BEFORE_RE.search(sentence_before) or re.match(
        r"\s+for\s+more\b", text[m.end() : m.end() + 12]
    ):
        return False
    if m.group("tier") or m.group("tier2") or m.group("tier_first"):
        return True
    if before[-1:] in ("-", ".", "/", "=", "_") or re.search(r"\d(?:\.\d+)*\s*$", before):
        return False  # "gemini-2.5-pro", "Gemini 2.5 Pro Requests"
    name = m.group("name").lower()
    if name == "free":
        return (
            bool(_PLAN_AFTER_RE.match(text, m.end()))
            and "request" not in text[m.end() : m.end() + 12].lower()
        )
    if _PLAN_AFTER_RE.match(text, m.end()) or _PLAN_BEFORE_RE.search(before[-40:]):
        return True
    if re.search(r"\(\s*$", before):  # "codex (plus):", "(pro, 5.2-xhigh)"
        return True
    # A sentence that opens with the plan: "Max plan, /usage:" / "Pro, weekly at 80%".
    return bool(re.search(r"(?:^|[\n.!?]\s*)$", before) and re.match(r"\s*[,:]", text[m.end() : m.end() + 2]))


def _detect_plan(text: str) -> str | None:
    pt = _PLAN_TYPE_RE.search(text)
    if pt:
        value = pt.group("v").lower()
        return _PLAN_NAMES.get(value, value.replace("_", " ").title())
    first: str | None = None
    for n, m in enumerate(_PLAN_RE.finditer(text)):
        if n >= _MAX_STATEMENTS:
            break
        if not _plan_accepted(text, m):
            continue
        tier = m.group("tier") or m.group("tier2")
        if m.group("tier_first"):
            tier = m.group("tier_first").split("x")[0]
        if tier:
            return f"Max {tier}x"
        name = m.group("name").lower() + ("+" if m.group("plus") else "")
        plan = _PLAN_NAMES.get(name, name.title())
        if plan != "Max":
            return first or plan
        # "the Claude Max plan, specifically the Max 5x plan": a tier said later names the plan better
        first = first or plan
    return first


# /usage bucket labels and JSON keys name models as layout, not as what the person was using.
_MODE_LAYOUT_RE = re.compile(r"\bweek(?:ly)?\s*\([^)\n]{0,30}\)|seven_day_\w+", re.IGNORECASE)
_MODE_CUE_RE = re.compile(
    r"\b(?:on|using|use|used|with|in|via|of|switched\s+to|switch\s+to|/model)\s+(?:claude\s+)?(?P<a>opus|sonnet)\b"
    r"|\b(?P<b>opus|sonnet)(?:[\s-]+(?:only|mode|weekly|week|usage|limit|\d(?:\.\d)?)\b)(?!\s*%)",
    re.IGNORECASE,
)


def _detect_model_mode(text: str) -> str | None:
    stripped = _MODE_LAYOUT_RE.sub(" ", text)
    families = {(m.group("a") or m.group("b")).lower() for m in _MODE_CUE_RE.finditer(stripped)}
    if len(families) != 1:
        return None
    return "opus" if families == {"opus"} else "sonnet-only"


_VERSION_RES = (
    re.compile(
        r"\b(?:claude[\s-]?code|codex[\s-]?cli|codex|gemini[\s-]?cli|gemini|copilot(?:[\s-]?cli)?|cursor(?:[\s-]?agent)?"
        r"|kiro|opencode|claude)\s*(?:version\s*)?v?(?P<v>\d+\.\d+\.\d+(?:-[\w.]+)?)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:version|ver\.?)\s*[:=]?\s*v?(?P<v>\d+\.\d+(?:\.\d+)+)", re.IGNORECASE),
    re.compile(r"(?<![\w.])v(?P<v>\d+\.\d+\.\d+)\b"),
    re.compile(r"(?<![\w./-])(?P<v>\d+\.\d+\.\d+)(?![\w.]*\d)"),
)
# Versions of the platform around the tool: "Linux 6.16.8", "Darwin 25.1.0", "Node 20.11.1".
_PLATFORM_BEFORE_RE = re.compile(
    r"\b(?:linux|darwin|macos|mac\s+os|windows|win|node|nodejs|npm|python|kernel|ios|android|ubuntu|debian"
    r"|vs\s*code|(?<!claude\s)(?<!claude-)code|chrome|firefox|iterm2?|ghostty|electron|bun|deno)\s*v?$",
    re.IGNORECASE,
)


def _detect_version(text: str) -> str | None:
    for anchored, regex in enumerate(_VERSION_RES):
        for m in regex.finditer(text):
            # The first pattern names the tool itself; the looser ones must not pick up the OS's.
            if anchored and _PLATFORM_BEFORE_RE.search(text[max(0, m.start() - 20) : m.start()]):
                continue
            return m.group("v")
    return None


# ---------------------------------------------------------------------------------------------
# Entry points


# The last resort, for a text about an AI tool where nothing else was read: an allowance and a word of
# it being spent, in one sentence, in either order and a few words apart ("for the original 65 requests
# for vibe, they were all used up", "ho di nuovo la sessione full", "can't use opencode go because
# monthly usage was not reset"). Never in a question, a condition, a request or after a negation.
_LOOSE_NOUN_RE = re.compile(
    LX.alt("limit", "hit.all_nouns", "used_noun", "window.session", "window.weekly", "window.daily", "window.monthly"),
    re.IGNORECASE,
)
_LOOSE_SPENT_RE = re.compile(LX.alt("loose_spent"), re.IGNORECASE)
_LOOSE_BLOCKERS_RE = re.compile(LX.alt("conditional", "request", "expectation", "hypothetical"), re.IGNORECASE)
_LOOSE_REACH = 60


def _loose_hit(text: str, layout: _Layout, keywords: list[_Keyword]) -> list[_Statement]:
    starts = [k.start for k in keywords]
    for spent in _bounded(_LOOSE_SPENT_RE.finditer(text), 50):
        s_start, s_end = layout.sentence_span(spent.start())
        sentence = text[s_start:s_end]
        if "?" in sentence or "？" in sentence or _LOOSE_BLOCKERS_RE.search(sentence):
            continue
        if _NEGATED_RE.search(text, max(s_start, spent.start() - 25), spent.start()):
            continue
        lo, hi = max(s_start, spent.start() - _LOOSE_REACH), min(s_end, spent.end() + _LOOSE_REACH)
        if not _LOOSE_NOUN_RE.search(text, lo, hi):
            continue
        named = {k.window for k in _keywords_in(keywords, starts, s_start, s_end) if k.window != "anti"}
        window = named.pop() if len(named) == 1 else "unknown"
        statement = _Statement(spent.start(), spent.end(), window, layout.paragraph(spent.start()), hit=True)
        return [statement]
    return []


def parse_readings(text: str, now: dt.datetime | None = None) -> ParsedReadings:
    """Parse every quota reading in `text` (see tests/data/eval/READINGS.md for the rules).

    `now` anchors relative resets ("in 3h") and clock times without a date; it defaults to the
    current time. Never raises on odd input: anything unreadable simply yields no reading.
    """
    if now is None:
        now = dt.datetime.now(dt.UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    prepared = _prepare(text or "")
    body = _clean(prepared)
    if not body:
        return ParsedReadings(tool=None, plan=None, model_mode=None, version=None, readings=())

    layout = _Layout(body)
    plan = _detect_plan(body)
    max_plan_tool = "Claude Code" if plan and plan.startswith("Max") else None  # Max is Claude-only
    tool_cues = _find_tool_cues(body, prepared)
    tool = _detect_tool(tool_cues, len(body)) or max_plan_tool
    reset_clauses = _find_reset_clauses(body)
    keywords = _find_window_keywords(body, [(c.start, c.end) for c in reset_clauses])
    cues = _idle_cues(body, layout, sorted((c.lead_start, c.end) for c in reset_clauses))

    notices = _notice_matches(body)
    figures = _find_figures(body, layout, keywords, tool is not None, {c[0] for c in cues if c[2]}, notices)
    figures += _find_fraction_figures(body, layout, keywords)
    claimed = {f.keyword for f in figures if f.keyword is not None}
    statements = _find_structured(body, layout)
    statements += _figure_statements(figures, layout)
    # A named plan ("I just paid the Pro plan") says the limit is a subscription's, as a tool name does.
    has_context = tool is not None or plan is not None or bool(figures)
    statements += _find_notices(body, layout, keywords, claimed, has_context, notices, frozenset(c[0] for c in cues))
    statements = sorted(statements, key=lambda st: st.start)[:_MAX_STATEMENTS]
    found = bool(statements)
    # A reset that names its window is a reading even alone ("the weekly limit resets on Nov 12"),
    # when its sentence says it is a limit's ("my monthly subscription renews on the 5th" is billing).
    statements = _attach_resets(statements, reset_clauses, layout, keywords)
    if not found:
        # ... and says "reset" itself: "we should be fine till the 30th" is no limit's reset.
        statements = [
            st
            for st in statements
            # (the reset word may close the clause: "周限额11月3日重置", "wird am 3. November zurückgesetzt")
            if _RESET_WORD_RE.search(body, st.start, st.end) and _LIMIT_WORD_RE.search(body, *layout.sentence_span(st.start))
        ]
    if not statements and tool is not None:
        statements = _loose_hit(body, layout, keywords)
    if not statements:
        return ParsedReadings(tool=None, plan=None, model_mode=None, version=None, readings=())
    statements = _pair_jumps(_pair_snapshots(statements, body, layout), body, layout)
    merged = _join_restated_figure(_join_unnamed_notice(_merge(statements, layout)))
    merged = _figure_of_the_one_window(_drop_replaced_resets(merged, body, layout), keywords, body)
    if tool is not None:
        tool = _detect_tool(tool_cues, len(body), [st.start for st in statements]) or tool
    _apply_idle(merged, cues[:_MAX_STATEMENTS])
    readings = tuple(
        Reading(
            window=s.window,
            percent=s.percent,
            from_percent=s.from_percent,
            limit_hit=bool(s.effective_hit()),
            resets=s.resets,
            idle=s.idle,
            resets_at=resolve_reset(s.resets, now) if s.resets else None,
        )
        for s in merged
    )
    return ParsedReadings(
        tool=tool,
        plan=plan,
        model_mode=_detect_model_mode(body),
        version=_detect_version(prepared),
        readings=readings,
    )
