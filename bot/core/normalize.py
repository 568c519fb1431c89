"""Turn what people paste into text the matcher can compare.

Two levels: `clean()` undoes transport noise (ANSI colours, chat markup, HTML entities, JSON string
escaping, curly quotes, box drawing) but keeps the words and numbers, so catalog regexes can be written
against the error as the tool printed it. `normalize()` goes further for fuzzy comparison: case folded,
volatile tokens (ids, timestamps, paths, URLs, long numbers) replaced by placeholders, punctuation dropped.
"""

from __future__ import annotations

import html
import re
import unicodedata

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Slack: <@U123>, <@U123|name>, <#C123|general>, <!here>, <https://x|label>; Discord: <@123>, <@!123>,
# <@&123>, <#123>, <:emoji:123>, <t:1700000000:R>.
SLACK_LINK = re.compile(r"<(https?://[^|<>\s]++)\|([^<>]*+)>")
SLACK_CHANNEL = re.compile(r"<#[A-Z0-9]++\|([^<>]*+)>")
CHAT_TOKEN = re.compile(r"<(?:@[!&]?|#|!|a?:\w+:|t:)[^>\s]{1,64}>")
CODE_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n?|```")
INLINE_TICKS = re.compile(r"`+")
QUOTE_MARKER = re.compile(r"(?m)^[^\S\n]*+(?:>|&gt;)[^\S\n]?")
# Box drawing, block elements, geometric shapes and the dingbats terminal UIs use as bullets.
DECORATION = re.compile(r"[\u2500-\u259f\u25a0-\u25ff\u2700-\u27bf\u23b0-\u23ff\u2800-\u28ff\u2190-\u21ff•·∙⋯…]")
JSON_ESCAPE = re.compile(r"\\\\|\\\"|\\[nrt]|\\u[0-9a-fA-F]{4}|\\/")
WHITESPACE = re.compile(r"\s+")
QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "´": "'", "`": "'"})

URL = re.compile(r"\b(?:https?|file|wss?)://[^\s\"'<>)\]]+", re.IGNORECASE)
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
PREFIXED_ID = re.compile(r"\b(?:req|toolu|msg|chatcmpl|resp|run|call|sess|org|user)_[A-Za-z0-9]{6,}+\b")
TIMESTAMP = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d++)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d++)?)?\s?(?:am|pm)?\b",
    re.IGNORECASE,
)
HEX = re.compile(r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b", re.IGNORECASE)
WIN_PATH = re.compile(r"\b[A-Za-z]:\\(?:[^\\\s\"'<>|]++\\)*+[^\\\s\"'<>|]*+")
POSIX_PATH = re.compile(r"(?<![\w.])(?:~|\.{1,2})?(?:/[\w.@+-]++){2,}+/?")
LONG_NUMBER = re.compile(r"\b\d[\d,._]{3,}\d\b|\b\d{4,}\b")
NON_WORD = re.compile(r"[^\w%]+")
APOSTROPHE_IN_WORD = re.compile(r"(?<=\w)'(?=\w)")


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes that reached us as text) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return LONE_SURROGATE.sub("\ufffd", text)


def _unescape_json(match: re.Match[str]) -> str:
    token = match.group(0)
    if token == "\\\\":
        return "\\"
    if token == '\\"':
        return '"'
    if token == "\\/":
        return "/"
    if token in ("\\n", "\\r", "\\t"):
        return " "
    try:
        return chr(int(token[2:], 16))
    except ValueError:
        return token


def clean(text: str) -> str:
    """Strip transport noise but keep the words, numbers and punctuation of the error itself."""
    text = unicodedata.normalize("NFKC", text)
    text = ANSI.sub("", text)
    text = CONTROL.sub(" ", text)
    text = SLACK_LINK.sub(r"\1 \2", text)
    text = SLACK_CHANNEL.sub(r"#\1", text)
    text = CHAT_TOKEN.sub(" ", text)
    text = CODE_FENCE.sub("\n", text)
    text = QUOTE_MARKER.sub("", text)
    text = html.unescape(text)
    text = INLINE_TICKS.sub("", text)
    # JSON escaping can be nested (an error string inside a JSON log line inside a JSON array).
    for _ in range(3):
        unescaped = JSON_ESCAPE.sub(_unescape_json, text)
        if unescaped == text:
            break
        text = unescaped
    text = text.translate(QUOTES)
    text = DECORATION.sub(" ", text)
    return WHITESPACE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """Case-folded, placeholder-substituted, punctuation-free text for fuzzy comparison."""
    return normalize_cleaned(clean(text))


def normalize_cleaned(cleaned: str) -> str:
    """`normalize` for text that has already been through `clean` (saves the work twice)."""
    text = cleaned.casefold()
    text = URL.sub(" url ", text)
    text = EMAIL.sub(" email ", text)
    text = UUID.sub(" uuid ", text)
    text = PREFIXED_ID.sub(" id ", text)
    text = TIMESTAMP.sub(" time ", text)
    text = HEX.sub(" hex ", text)
    text = WIN_PATH.sub(" path ", text)
    text = POSIX_PATH.sub(" path ", text)
    text = LONG_NUMBER.sub(" num ", text)
    text = APOSTROPHE_IN_WORD.sub("", text)
    text = NON_WORD.sub(" ", text)
    return WHITESPACE.sub(" ", text).strip()


TOKEN = re.compile(r"[a-z][a-z0-9]+|\d{3}")


def tokens(normalized: str) -> list[str]:
    """Word tokens of normalised text: words of two or more characters and three-digit codes (429, 529)."""
    return TOKEN.findall(normalized)
