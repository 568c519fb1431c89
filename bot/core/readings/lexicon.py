"""The parser's vocabulary, read once at import from one data file per language.

Each file in ``lexicon/`` lists plain phrases by category (window words, used/left words, limit-reached
words, change words, idle cues, months, ...). Teaching the parser a language or a new wording is an
edit to these files, not to the parser: every category is compiled into one alternation that the
parser's patterns interpolate.

Phrase syntax, kept small on purpose:

- a phrase is literal text, matched case-insensitively;
- a space matches any run of spaces, tabs, hyphens or underscores ("5 hour" reads "5-hour", "5_hour");
- a trailing ``*`` accepts any word ending ("wöchentlich*" reads "wöchentliche", "wöchentlichen");
- phrases that start or end with a letter or digit only match whole words; phrases in scripts that
  do not separate words (Japanese, Chinese) match anywhere;
- ``(a|b|c)`` says one of the words ("me (quedé|quede) sin"), ``(a|b)?`` one of them or none
  ("sem (eu)? usar nada", "sin (el|la|mi)? límite"): one phrase stands for every way of saying it,
  so optional articles and spellings are not enumerated by hand (parentheses, unlike brackets, need
  no quoting inside a YAML list). Groups do not nest; a phrase is expanded once, when the lexicon
  loads, into the plain phrases it stands for (at most ``MAX_VARIANTS``), so the compiled
  alternation is the same trie as before and stays linear-time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

__all__ = ["LEXICON", "MAX_VARIANTS", "Lexicon", "alternation", "expand_phrase", "load_lexicon", "phrase_pattern"]

_SPACE = r"[\s_-]+"
# Word edges are checked against Latin letters and digits only: in "Current sessionが0%" the
# Japanese particle touches the English word, and must not hide it.
# Case-sensitive on purpose: under IGNORECASE the regex compiler would case-fold the whole range
# for every copy of the class, which makes compiling the lexicon slow.
_LATIN = r"[A-Za-z0-9\u00c0-\u00ff]"


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed


class _WordLoader(_BaseLoader):  # type: ignore[misc]
    """YAML without implicit booleans: "on", "no" and "yes" are words here, not True and False."""


_WordLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _edge_is_word(ch: str) -> bool:
    """Latin-script letters and digits get word boundaries; CJK and symbols do not."""
    return (ch.isascii() and ch.isalnum()) or ("\u00c0" <= ch <= "\u024f")


def phrase_pattern(phrase: str) -> str:
    """One lexicon phrase as a regex fragment (see the module docstring for the syntax)."""
    stem = phrase.endswith("*")
    text = phrase[:-1] if stem else phrase
    words = [re.escape(w) for w in text.split()]
    body = _SPACE.join(words)
    if not text:
        return ""
    if stem:
        body += r"\w*"
    if _edge_is_word(text[0]):
        body = rf"(?<!{_LATIN})" + body
    if not stem and _edge_is_word(text[-1]):
        body += rf"(?!{_LATIN})"
    return body


_END = ""  # trie key of a phrase that ends here

# One lexicon line may stand for this many plain phrases; more means the line should be split.
MAX_VARIANTS = 512
_GROUP_RE = re.compile(r"\(([^()]*)\)(\??)")
_STRAY_RE = re.compile(r"[()|]")


def expand_phrase(phrase: str) -> list[str]:
    """Every plain phrase one lexicon line stands for ("(a|b)" one of, "(a|b)?" one of or none).

    Raises ValueError on a malformed line (nested or unclosed groups, a "|" outside a group) or on
    one that stands for more than MAX_VARIANTS phrases.
    """
    variants = [""]
    cursor = 0
    for m in _GROUP_RE.finditer(phrase):
        literal = phrase[cursor : m.start()]
        if _STRAY_RE.search(literal):
            raise ValueError(f"lexicon phrase {phrase!r}: malformed group")
        options = m.group(1).split("|")
        if m.group(2):
            options.append("")
        variants = [v + literal + o for v in variants for o in options]
        if len(variants) > MAX_VARIANTS:
            raise ValueError(f"lexicon phrase {phrase!r}: more than {MAX_VARIANTS} variants")
        cursor = m.end()
    tail = phrase[cursor:]
    if _STRAY_RE.search(tail):
        raise ValueError(f"lexicon phrase {phrase!r}: malformed group")
    return [text for text in dict.fromkeys(" ".join((variant + tail).split()) for variant in variants) if text]


def _tokens(phrase: str) -> list[str]:
    """A phrase as regex tokens: one per character, a separator run per space, a stem tail."""
    stem = phrase.endswith("*")
    text = phrase[:-1] if stem else phrase
    out: list[str] = []
    for word_no, word in enumerate(text.lower().split()):
        if word_no:
            out.append(_SPACE)
        out.extend(re.escape(ch) for ch in word)
    tail = r"\w*" if stem else (rf"(?!{_LATIN})" if text and _edge_is_word(text[-1]) else "")
    out.append(_END + tail)  # the end marker carries what must follow the phrase
    return out


def _trie_regex(node: dict[str, Any]) -> str:
    """A regex for a trie of tokens: at each position only the branches for that character run."""
    branches = []
    ends = []
    for key in sorted(node):
        child = node[key]
        if child is None:
            ends.append(key)  # an end marker (its tail)
        else:
            branches.append(key + _trie_regex(child))
    options = branches + ends  # longer phrases first: an end only wins when nothing longer matches
    if len(options) == 1:
        return options[0]
    return "(?:" + "|".join(options) + ")"


def alternation(phrases: Iterable[str]) -> str:
    """A non-capturing group matching any of `phrases` (see the module docstring for the syntax).

    The phrases are compiled as a trie, so a regex over a few hundred phrases still costs one
    character test per position where no phrase starts.
    """
    words: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for phrase in {p for p in phrases if p and p.strip("*").strip()}:
        tokens = _tokens(phrase)
        node = words if _edge_is_word(phrase.strip()[0]) else others
        for token in tokens[:-1]:
            node = node.setdefault(token, {})
        node[tokens[-1]] = None
    parts = []
    if words:
        parts.append(rf"(?<!{_LATIN})" + _trie_regex(words))
    if others:
        parts.append(_trie_regex(others))
    if not parts:
        return "(?!x)x"  # matches nothing
    return "(?:" + "|".join(parts) + ")"


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Phrases by category, merged over every language, plus the word -> number tables."""

    phrases: Mapping[str, tuple[str, ...]]
    numbers: Mapping[str, Mapping[str, int]]  # months, weekdays, relative days, number words
    languages: tuple[str, ...]

    def words(self, category: str) -> tuple[str, ...]:
        return self.phrases.get(category, ())

    def alt(self, *categories: str) -> str:
        """One regex alternation over every phrase of the given categories."""
        return alternation(p for c in categories for p in self.words(c))


def _flatten(prefix: str, node: Any, phrases: dict[str, list[str]], numbers: dict[str, dict[str, int]]) -> None:
    if isinstance(node, Mapping):
        if node and all(isinstance(v, int) and not isinstance(v, bool) for v in node.values()):
            table = numbers.setdefault(prefix, {})
            table.update({str(k).lower(): int(v) for k, v in node.items()})
            return
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, phrases, numbers)
    elif isinstance(node, list):
        phrases.setdefault(prefix, []).extend(p for v in node for p in expand_phrase(str(v)))
    elif isinstance(node, str):
        phrases.setdefault(prefix, []).extend(expand_phrase(node))


def load_lexicon(files: Iterable[tuple[str, str]]) -> Lexicon:
    """Merge lexicon documents given as (name, yaml text); categories are dotted paths."""
    phrases: dict[str, list[str]] = {}
    numbers: dict[str, dict[str, int]] = {}
    languages: list[str] = []
    for name, text in files:
        doc = yaml.load(text, Loader=_WordLoader) or {}
        if not isinstance(doc, Mapping):
            raise ValueError(f"lexicon file {name}: expected a mapping at the top")
        languages.append(str(doc.get("language", name)))
        body = {k: v for k, v in doc.items() if k != "language"}
        _flatten("", body, phrases, numbers)
    return Lexicon(
        phrases={k: tuple(v) for k, v in phrases.items()},
        numbers={k: dict(v) for k, v in numbers.items()},
        languages=tuple(languages),
    )


def _shipped_files() -> list[tuple[str, str]]:
    folder = resources.files("bot.core.readings") / "lexicon"
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name)
    return [(e.name, e.read_text(encoding="utf-8")) for e in entries]


LEXICON = load_lexicon(_shipped_files())
