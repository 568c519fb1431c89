"""Recognise a pasted error: which catalog entry it is, how sure we are, and which part matched.

Three kinds of evidence are scored per entry and the strongest wins:

* patterns: the entry's regular expressions over the cleaned paste (the error's stable wording);
* literals: the signature and variants, aligned inside the paste with rapidfuzz's partial ratio, so
  a known error line buried in a long log still scores high, discounted when the paste only covers a
  small part of a long literal;
* keywords: IDF-weighted token overlap with the entry's examples and literals, which is what lets a
  casual description ("claude -c errors out in a new folder") find its entry.

A named tool (Codex, Gemini, Claude Code...) in the paste is extra evidence for that tool's entries and
against the others. The threshold separating "answer in the channel" from "stay quiet" is calibrated on
the development eval sets (see benchmarks/accuracy.py).
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import ahocorasick
import numpy as np
import numpy.typing as npt
import yaml
from rapidfuzz import fuzz, process

from bot.core.catalog import Catalog, Entry
from bot.core.models import Candidate, MatchResult
from bot.core.normalize import clean, normalize_cleaned, tokens
from bot.core.regex_prefilter import FragmentIndex, PrefilteredPattern, Requirement, required_fragments
from bot.core.sparse import (
    Bools,
    Floats,
    Ints,
    LookupByGet,
    PasteVector,
    SparseRows,
    TextIndex,
    Texts,
    text_hash,
)

# Scores are on a 0-100 scale. A paste is answered in a channel at or above CONFIDENT.
CONFIDENT = 62.0
PATTERN_SCORE = 92.0
TOOL_BONUS = 6.0
OTHER_TOOL_PENALTY = 12.0
CLAUSE_MIN_RARITY = 6.5
SDK_PENALTY = 15.0
TOOL_NAMED_RELIEF = 10.0
ANONYMOUS_PENALTY = 25.0
PROSE_WEIGHT = 0.5  # words only in an entry's explanations count half
PROFILE_EXPONENT = 0.6
PROFILE_MASS = 12.0
PROFILE_MIN_WORDS = 3
PROFILE_MAX = 80.0
PATTERN_FLAGS = re.IGNORECASE | re.DOTALL
MAX_SCAN_CHARS = 12_000  # longer pastes are cut down to their error-looking lines first
MIN_LITERAL_CHARS = 14
LITERAL_MIN = 60.0
KEYWORD_MIN = 35.0
# A keyword document scores at most 100 * share ** 0.75, where share is the part of its squared weight
# the paste shares; so KEYWORD_MIN needs this share (a hair lower, against rounding).
KEYWORD_SHARE = 0.999 * (KEYWORD_MIN / 100) ** (4 / 3)
PROFILE_MIN = 35.0
# A profile score needs (mass / informative) ** PROFILE_EXPONENT >= PROFILE_MIN / PROFILE_MAX.
PROFILE_NEED = (PROFILE_MIN / PROFILE_MAX) ** (1 / PROFILE_EXPONENT)
PROFILE_NEED_MARGIN = 0.999

# Words that name a tool in a paste: data, so that a new tool is one record (see tool_names.yaml).
TOOL_WORDS: dict[str, re.Pattern[str]] = {}
TOOL_NAME_WORDS: frozenset[str] = frozenset()


def _load_tool_names() -> tuple[dict[str, re.Pattern[str]], frozenset[str]]:
    raw = yaml.safe_load(resources.files("bot.core").joinpath("tool_names.yaml").read_text(encoding="utf-8"))
    patterns: dict[str, re.Pattern[str]] = {}
    name_words: set[str] = set()
    for record in raw["tools"]:
        patterns[str(record["tool"])] = re.compile(
            r"\b(?:" + "|".join(str(word) for word in record["words"]) + r")\b", re.IGNORECASE
        )
        name_words.update(str(word) for word in record.get("name_words", ()))
    return patterns, frozenset(name_words)


TOOL_WORDS, TOOL_NAME_WORDS = _load_tool_names()

# A message that carries none of these is ordinary chat, whatever it fuzzily resembles.
ERROR_CUES = re.compile(
    r"\b(error|errors|errno|exception|fail(?:ed|s|ure|ing)?|fatal|panic|traceback|denied|refus\w*|"
    r"unable|cannot|can'?t|couldn'?t|could not|won'?t|invalid|unauthori[sz]ed|forbidden|expired|"
    r"exceed\w*|exhaust\w*|limit\w*|quota|overloaded|timed? ?out|timeout|not found|not supported|"
    r"unhandled|crash\w*|abort\w*|disconnect\w*|reset|enoent|econn\w+|etimedout|rate[- ]limit\w*|"
    r"retry\w*|retrying|blocked|stuck|broken|bug|usage|spawn|sigabrt|oom|out of memory|too long|"
    r"too many|too low|unexpected|not (?:working|available|in your path)|doesn'?t work|keeps?|again)\b"
    r"|\b[45]\d\d\b|[✗✕✘⚠]",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Literals:
    """Every literal of the catalog, by position, in flat columns (a few objects to save and load)."""

    entry: Ints  # the entry each belongs to
    texts: Texts  # normalised
    signature: Bools  # a signature (else a variant)
    shown: Texts  # the literal as the catalog quotes it, for "why this answer"
    words: SparseRows  # its distinct words, by number
    marks: SparseRows  # the words that set it apart, by number, with their weight (see _distinctive)

    def __len__(self) -> int:
        return len(self.texts)


class _Numbers(LookupByGet):
    """A `TextIndex` with the texts already found kept at hand: a paste asks for each of its words
    several times (weights, literals, postings), and a dictionary answers the repeats faster.

    Only texts found are kept, so it never outgrows the index, whatever words pastes bring.
    """

    def __init__(self, index: TextIndex) -> None:
        self.index = index
        self._seen: dict[str, int] = {}

    def get(self, text: str, default: int | None = None) -> int | None:  # type: ignore[override]
        found = self._seen.get(text)
        if found is None:
            found = self.index.get(text)
            if found is None:
                return default
            self._seen[text] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)


class _Postings:
    """Word -> positions, kept as rows of word numbers (the matcher's own numbering)."""

    def __init__(self, numbers: Mapping[str, int], rows: SparseRows) -> None:
        self.numbers = numbers
        self.rows = rows

    def get(self, word: str, default: Sequence[int] = ()) -> Sequence[int]:
        number = self.numbers.get(word)
        if number is None:
            return default
        positions: list[int] = self.rows.row(number)[0].tolist()
        return positions


@dataclass(frozen=True, slots=True)
class EntryFeatures:
    """What the matcher reads out of one entry, whatever else the catalog holds.

    Normalising text and parsing regular expressions is most of the cost of preparing a catalog, and none
    of it depends on the other entries; so it is computed once per entry and can be kept (see
    `bot.core.catalog_cache`): a catalog in which one file changed prepares one entry's features again.
    """

    literals: tuple[tuple[str, str, str], ...]  # (normalised, "signature" | "variant", as quoted)
    texts: tuple[str, ...]  # normalised signature, variants, examples and title: the keyword documents
    words: frozenset[str]  # the words of those texts, for the IDF
    vocabulary: tuple[tuple[str, float], ...]  # the entry's profile: word -> 1.0, or PROSE_WEIGHT
    clauses: tuple[str, ...]  # candidate distinctive phrases of the literals
    requirements: tuple[tuple[Requirement, ...], ...]  # per pattern: literal fragments it needs


FEATURES_VERSION = "1"  # bump when EntryFeatures or what goes into them changes


def entry_features(entry: Entry) -> EntryFeatures:
    """The per-entry, catalog-independent part of preparing a matcher."""
    memo: dict[str, str] = {}

    def norm(text: str) -> str:
        found = memo.get(text)
        if found is None:
            found = memo[text] = normalize_cleaned(clean(text))
        return found

    literals = []
    for kind, raw in [("signature", entry.signature), *(("variant", v) for v in entry.variants)]:
        normalized = norm(raw)
        if len(normalized) >= MIN_LITERAL_CHARS:
            literals.append((normalized, kind, " ".join(raw.split())))
    texts = tuple(norm(text) for text in (entry.signature, *entry.variants, *entry.examples, entry.title))
    words = frozenset(word for text in texts for word in tokens(text))
    vocabulary: dict[str, float] = {}
    for text in (entry.title, entry.signature, *entry.variants, *entry.examples):
        for word in tokens(norm(text)):
            vocabulary[word] = 1.0
    for text in (entry.meaning, entry.why, *entry.causes):
        for word in tokens(norm(text)):
            vocabulary.setdefault(word, PROSE_WEIGHT)
    clauses: dict[str, None] = {}
    for raw in (entry.signature, *entry.variants):
        # URLs are cut out first: "com settings billing" is no phrase of any error.
        for piece in CLAUSE_SPLIT.split(URL_IN_LITERAL.sub(" ", raw)):
            phrase = norm(piece)
            if len(phrase.split()) >= 3 and len(phrase) >= 14:
                clauses[phrase] = None
    return EntryFeatures(
        literals=tuple(literals),
        texts=texts,
        words=words,
        # Tool and model names are weighed separately (see _weigh_tools), not as vocabulary.
        vocabulary=tuple((w, f) for w, f in vocabulary.items() if w not in STOPWORDS and w not in TOOL_NAME_WORDS),
        clauses=tuple(clauses),
        requirements=tuple(required_fragments(p) for p in entry.patterns),
    )


def _fragment_index(
    needs: Sequence[tuple[int, tuple[Requirement, ...]]],
) -> tuple[FragmentIndex | None, list[int]]:
    """Pattern positions filed under the fragments of one requirement each, and those that need none.

    Any requirement will do for the index; the one whose fragments the fewest patterns share wakes
    the pattern least often ("api error" is in hundreds of them, "overloaded_error" in few).
    """
    frequency: Counter[str] = Counter(
        fragment for _, requirements in needs for requirement in requirements for fragment in requirement)
    by_fragment: dict[str, list[int]] = {}
    unfiltered: list[int] = []
    for position, requirements in needs:
        if requirements:
            rarest = min(requirements, key=lambda r: (sum(frequency[f] for f in r), sorted(r)))
            for fragment in rarest:
                by_fragment.setdefault(fragment, []).append(position)
        else:
            unfiltered.append(position)
    if not by_fragment:
        return None, unfiltered
    return FragmentIndex.build({f: tuple(positions) for f, positions in by_fragment.items()}), unfiltered


def _digest(text: str) -> int:
    """A 64-bit name for a text: two different phrases of a catalog share one by chance about once in
    ten thousand catalogs of ten million phrases."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _heaviest_first(weights: Floats) -> Ints:
    """Each weight's place among the distinct weights, the heaviest first (0)."""
    distinct, place = np.unique(weights, return_inverse=True)
    return (len(distinct) - 1 - place.reshape(-1)).astype(np.int64)


def _within_rows(owner: Ints, keys: Ints) -> Ints:
    """The cell order that sorts each row's cells by `keys`, ties in their order: rows stay in place
    (`owner` is ascending). One sort of integers, several times faster than sorting on two keys."""
    span = int(keys.max(initial=0)) + 1
    order: Ints = np.argsort(owner * span + keys, kind="stable")
    return order


def _filed_prefix(starts: Ints, owner: Ints, amounts: Floats, enough: Floats) -> Bools:
    """Per row, the leading cells filed: the first, and each next while what is left of the row's
    amount before it is at least `enough` of that row (the rest alone could never make up the share)."""
    if not len(amounts):
        return np.zeros(0, dtype=np.bool_)
    running = np.cumsum(amounts)
    before = running - amounts
    # What the row's earlier cells hold: the running total before this cell less that before the row.
    earlier = before - before[np.minimum(starts[:-1], len(amounts) - 1)][owner]
    row_total = np.bincount(owner, weights=amounts, minlength=len(starts) - 1)
    first = np.arange(len(amounts)) == starts[owner]
    filed: Bools = first | (row_total[owner] - earlier >= enough[owner])
    return filed


@dataclass(frozen=True, slots=True)
class _EntryRows:
    """One entry's part of the matcher's tables, in words: what no other entry can change."""

    words: tuple[str, ...]  # the words of its keyword documents, for the document frequencies
    vocabulary: tuple[tuple[str, float], ...]  # its profile: word -> 1.0, or PROSE_WEIGHT
    docs: tuple[tuple[str, ...], ...]  # each keyword document's words, stopwords left out
    # (normalised, a signature, as quoted, its words, its marks: the words that set it apart)
    literals: tuple[tuple[str, bool, str, tuple[str, ...], tuple[str, ...]], ...]
    clauses: tuple[tuple[str, tuple[str, ...]], ...]  # candidate phrase, the words its rarity counts

    @classmethod
    def of(cls, features: EntryFeatures) -> _EntryRows:
        docs = []
        for text in features.texts:
            found = tuple(sorted({word for word in tokens(text) if word not in STOPWORDS}))
            if found:
                docs.append(found)
        literals = []
        for text, kind, quoted in features.literals:
            distinct = tuple(sorted(set(tokens(text))))
            # What sets a literal apart from the error frames every tool shares ("API Error: 400
            # {"type":"error",...}"): an alignment that covers the frame but not these words is no match.
            marks = tuple(word for word in distinct if word not in STOPWORDS and word not in GENERIC_ERROR_WORDS
                          and word not in FRAME_WORDS and not word.isdigit())
            literals.append((text, kind == "signature", quoted, distinct, marks))
        clauses: dict[str, tuple[str, ...]] = {}
        for phrase in features.clauses:
            clauses.setdefault(" ".join(phrase.split()), tuple(sorted(
                {word for word in tokens(phrase) if word not in STOPWORDS and word not in GENERIC_ERROR_WORDS})))
        return cls(tuple(sorted(features.words)), features.vocabulary, tuple(docs), tuple(literals),
                   tuple(clauses.items()))

    def every_word(self) -> Iterator[str]:
        yield from self.words
        yield from (word for word, _ in self.vocabulary)
        for _, _, _, _, marks in self.literals:
            yield from marks
        for _, words in self.clauses:
            yield from words


@dataclass(frozen=True, slots=True)
class _Tables:
    """Each entry's part of the matcher, by word number, as rows of flat arrays in entry order.

    Nothing here depends on another entry, so a changed catalog keeps the rows of its unchanged
    entries as they are and adds those of its new ones (`spliced`); what the weights decide is then
    derived from these for the whole catalog at once (`Matcher._index`).
    """

    entry_words: SparseRows  # entry -> its keyword documents' words
    vocabulary: SparseRows  # entry -> (word, 1.0 or PROSE_WEIGHT)
    doc_entry: Ints
    doc_words: SparseRows  # keyword document -> (word, GENERIC_WEIGHT or 1.0)
    literal_entry: Ints
    literal_texts: Texts
    literal_signature: Bools
    literal_shown: Texts
    literal_words: SparseRows  # literal -> its distinct words
    literal_marks: SparseRows  # literal -> the words that set it apart
    clause_entry: Ints
    clause_phrases: Texts
    clause_words: SparseRows  # candidate phrase -> the words its rarity counts
    # Each phrase and its group (its first three words) named by a 64-bit digest, so that telling
    # equal phrases and groups apart takes array operations; the group's text and its TextIndex hash.
    clause_ids: npt.NDArray[np.uint64]
    clause_groups: Texts
    clause_group_ids: npt.NDArray[np.uint64]
    clause_group_hashes: npt.NDArray[np.uint32]

    @classmethod
    def of(cls, rows: Sequence[_EntryRows], entries: Ints, numbers: Mapping[str, int]) -> _Tables:
        """The tables of `rows`, which are those of entry numbers `entries`."""
        def row_of(words: Iterable[str]) -> list[tuple[int, float]]:
            return [(numbers[word], 1.0) for word in words]

        owners = entries.tolist()
        docs = [(entry, doc) for entry, row in zip(owners, rows, strict=True) for doc in row.docs]
        literals = [(entry, literal) for entry, row in zip(owners, rows, strict=True) for literal in row.literals]
        clauses = [(entry, clause) for entry, row in zip(owners, rows, strict=True) for clause in row.clauses]
        groups = [" ".join(clause[0].split()[:3]) for _, clause in clauses]
        return cls(
            entry_words=SparseRows.build([row_of(row.words) for row in rows]),
            vocabulary=SparseRows.build([[(numbers[word], factor) for word, factor in row.vocabulary]
                                         for row in rows]),
            doc_entry=np.array([entry for entry, _ in docs], dtype=np.int64),
            doc_words=SparseRows.build([[(numbers[word], GENERIC_WEIGHT if word in GENERIC_ERROR_WORDS else 1.0)
                                         for word in sorted(doc, key=numbers.__getitem__)] for _, doc in docs]),
            literal_entry=np.array([entry for entry, _ in literals], dtype=np.int64),
            literal_texts=Texts.of([literal[0] for _, literal in literals]),
            literal_signature=np.array([literal[1] for _, literal in literals], dtype=np.bool_),
            literal_shown=Texts.of([literal[2] for _, literal in literals]),
            literal_words=SparseRows.build([sorted(row_of(literal[3])) for _, literal in literals]),
            literal_marks=SparseRows.build([sorted(row_of(literal[4])) for _, literal in literals]),
            clause_entry=np.array([entry for entry, _ in clauses], dtype=np.int64),
            clause_phrases=Texts.of([clause[0] for _, clause in clauses]),
            clause_words=SparseRows.build([sorted(row_of(clause[1])) for _, clause in clauses]),
            clause_ids=np.array([_digest(clause[0]) for _, clause in clauses], dtype=np.uint64),
            clause_groups=Texts.of(groups),
            clause_group_ids=np.array([_digest(group) for group in groups], dtype=np.uint64),
            clause_group_hashes=np.array([text_hash(group) for group in groups], dtype=np.uint32),
        )

    def renumbered(self, words: Ints) -> _Tables:
        """The same tables with word number w become words[w] (new words joined the numbering)."""
        def moved(rows: SparseRows) -> SparseRows:
            return SparseRows(rows.starts, words[rows.columns], rows.values)

        return replace(self, entry_words=moved(self.entry_words), vocabulary=moved(self.vocabulary),
                       doc_words=moved(self.doc_words), literal_words=moved(self.literal_words),
                       literal_marks=moved(self.literal_marks), clause_words=moved(self.clause_words))

    def spliced(self, moves: Ints, new: _Tables, added: Ints) -> _Tables:
        """These tables for a changed catalog: old entry e becomes moves[e] (-1: gone), and `new` holds
        the rows of entries `added` (numbered in the changed catalog already); every table by entry."""
        def order(old_owner: Ints, new_owner: Ints) -> tuple[Ints, Ints]:
            owner = np.concatenate([moves[old_owner], new_owner])
            kept = np.flatnonzero(owner >= 0)
            picks = kept[np.argsort(owner[kept], kind="stable")]
            return picks, owner[picks]

        entries, _ = order(np.arange(self.entry_words.rows, dtype=np.int64), added)
        docs, doc_entry = order(self.doc_entry, new.doc_entry)
        literals, literal_entry = order(self.literal_entry, new.literal_entry)
        clauses, clause_entry = order(self.clause_entry, new.clause_entry)

        def rows(old: SparseRows, fresh: SparseRows, picks: Ints) -> SparseRows:
            return SparseRows.concat([old, fresh]).take(picks)

        def texts(old: Texts, fresh: Texts, picks: Ints) -> Texts:
            return Texts.concat([old, fresh]).take(picks)

        return _Tables(
            entry_words=rows(self.entry_words, new.entry_words, entries),
            vocabulary=rows(self.vocabulary, new.vocabulary, entries),
            doc_entry=doc_entry,
            doc_words=rows(self.doc_words, new.doc_words, docs),
            literal_entry=literal_entry,
            literal_texts=texts(self.literal_texts, new.literal_texts, literals),
            literal_signature=np.concatenate([self.literal_signature, new.literal_signature])[literals],
            literal_shown=texts(self.literal_shown, new.literal_shown, literals),
            literal_words=rows(self.literal_words, new.literal_words, literals),
            literal_marks=rows(self.literal_marks, new.literal_marks, literals),
            clause_entry=clause_entry,
            clause_phrases=texts(self.clause_phrases, new.clause_phrases, clauses),
            clause_words=rows(self.clause_words, new.clause_words, clauses),
            clause_ids=np.concatenate([self.clause_ids, new.clause_ids])[clauses],
            clause_groups=texts(self.clause_groups, new.clause_groups, clauses),
            clause_group_ids=np.concatenate([self.clause_group_ids, new.clause_group_ids])[clauses],
            clause_group_hashes=np.concatenate([self.clause_group_hashes, new.clause_group_hashes])[clauses],
        )

class _Evidence:
    """The best candidate per entry, and which kinds of evidence each entry has.

    The strongest score wins the ranking, but a regex or literal hit stays known even when a keyword
    score happens to rank higher: that decides whether text without error words may be answered.
    """

    def __init__(self, ids: Sequence[str]) -> None:
        self._ids = ids
        self.best: dict[int, Candidate] = {}
        self.kinds: dict[int, set[str]] = {}

    def offer(self, index: int, score: float, fragment: str, reason: str) -> None:
        self.kinds.setdefault(index, set()).add(reason)
        current = self.best.get(index)
        if current is None or score > current.score:
            self.best[index] = Candidate(self._ids[index], score, fragment, reason)

    def adjust(self, rescore: Callable[[int, Candidate], float]) -> None:
        for index, candidate in list(self.best.items()):
            self.best[index] = replace(candidate, score=rescore(index, candidate))


class Matcher:
    """Preprocesses a catalog once; `match()` is then cheap per message.

    Its cost per message follows the message, not the catalog: every kind of evidence is looked up in an
    index, and only the entries that share enough rare evidence with the paste to possibly reach a score
    are scored in full (see the `_*_evidence` methods for the bound each one uses). The bounds are exact:
    pruning changes no answer, only how many entries are looked at.

    `features` maps entries to their `EntryFeatures`: those found there are reused, the others computed
    and added, so a caller that keeps the mapping (the on-disk catalog cache) prepares an unchanged
    entry only once. `fingerprints` names what each entry was made from, in the caller's terms; the
    matcher keeps them so that a caller can tell, later, which entries a changed catalog still shares
    with it and have it `updated` with the others alone.
    """

    def __init__(
        self,
        catalog: Catalog,
        threshold: float = CONFIDENT,
        features: MutableMapping[Entry, EntryFeatures] | None = None,
        fingerprints: Sequence[str] | None = None,
    ) -> None:
        self.catalog = catalog
        self.threshold = threshold
        entries = catalog.entries
        # What matching needs of each entry; the entries themselves stay with the catalog.
        self._ids: list[str] = [entry.id for entry in entries]
        self._tools: list[str] = [entry.tool for entry in entries]
        self._titles = Texts.of([entry.title for entry in entries])
        self._has_patterns: list[bool] = [bool(entry.patterns) for entry in entries]
        self._index_of = TextIndex.of(self._ids)
        known = {} if features is None else features
        prepared: list[EntryFeatures] = []
        for entry in entries:
            found = known.get(entry)
            if found is None:
                found = entry_features(entry)
                known[entry] = found
            prepared.append(found)
        # One array of bytes, not a string each: a warm start loads it mapped, for nothing.
        self._fingerprints = Texts.of([""] * len(entries) if fingerprints is None else fingerprints)
        self._build_patterns(entries, prepared)
        rows = [_EntryRows.of(features) for features in prepared]
        # Every word of the tables, by number, in text order (ties between equal weights go by it).
        words = sorted({word for row in rows for word in row.every_word()})
        self._word_index = TextIndex.of(words)
        self._words: Texts = self._word_index.texts
        # A dictionary while building (many lookups); kept as the TextIndex, which loads at once.
        numbers = dict(zip(words, range(len(words)), strict=True))
        self._tables = _Tables.of(rows, np.arange(len(rows), dtype=np.int64), numbers)
        self._index()
        self._numbered()

    # -- the ready form ---------------------------------------------------------------------------

    # What `state` holds: lists of text and flat arrays, no object per entry, literal or pattern, so
    # that a ready catalog of any size loads in a few large pieces (see bot.core.catalog_cache).
    _STATE = ("threshold", "_ids", "_tools", "_titles", "_has_patterns", "_pattern_entry", "_pattern_texts",
              "_unfiltered", "_fragments", "_index_of", "_word_index", "_idf", "_literals", "_literal_rows",
              "_clause_index",
              "_clause_starts", "_clause_phrases", "_clause_entry", "_clause_score", "_doc_rows", "_doc_entry",
              "_entry_docs", "_doc_norms", "_doc_postings", "_profiles", "_generic", "_tables", "_fingerprints",
              "_indexed_patterns", "_added_fragments")

    def state(self) -> dict[str, Any]:
        """Everything `restore` needs to rebuild this matcher without its catalog's entries."""
        state = {name: getattr(self, name) for name in self._STATE}
        for name in ("_fragments", "_added_fragments"):
            fragments = getattr(self, name)
            state[name] = None if fragments is None else fragments.state()
        return state

    @classmethod
    def restore(cls, catalog: Catalog, state: Mapping[str, Any]) -> Matcher:
        """The matcher `state()` was taken from, serving `catalog` (the same catalog, possibly lazy)."""
        matcher = cls.__new__(cls)
        matcher.catalog = catalog
        for name in cls._STATE:
            setattr(matcher, name, state[name])
        if list(matcher._ids) != catalog.ids:
            raise ValueError("the saved matcher was made for another catalog")
        matcher._words = matcher._word_index.texts
        matcher._idf_of = matcher._idf.data
        matcher._compiled = {}
        matcher._numbered()
        for name in ("_fragments", "_added_fragments"):
            fragments = state[name]
            setattr(matcher, name, None if fragments is None else FragmentIndex(*fragments))
        return matcher

    @property
    def fingerprints(self) -> Texts:
        """What each entry was prepared from, as the caller described it (see `updated`), by entry number;
        a text is decoded when asked for."""
        return self._fingerprints

    def updated(self, catalog: Catalog, unchanged: Collection[str],
                features: MutableMapping[Entry, EntryFeatures] | None = None,
                fingerprints: Sequence[str] | None = None) -> Matcher | None:
        """This matcher made over for `catalog`, in which the entries `unchanged` names are exactly as
        in this matcher's catalog and every other entry is new or changed.

        The rows of the entries gone or changed leave the tables, those of the new ones join them
        (their features from `features` when there, else computed and added), and the weights and
        what they decide are derived again for the whole catalog, as array operations: the answers
        are those of `Matcher(catalog)`. None when the patterns changed since the last full build
        would be too many for their side index: building afresh is then the better deal.
        """
        ids = catalog.ids
        was = {entry_id: number for number, entry_id in enumerate(self._ids)}
        moves = np.full(len(self._ids), -1, dtype=np.int64)  # old entry number -> new (-1: gone)
        origin = np.full(len(ids), -1, dtype=np.int64)  # new entry number -> old (-1: new)
        for number, entry_id in enumerate(ids):
            old = was.get(entry_id)
            if old is not None and entry_id in unchanged:
                moves[old], origin[number] = number, old
        added = np.flatnonzero(origin < 0)
        entries = [catalog.at(number) for number in added.tolist()]
        kept_patterns = np.where(self._pattern_entry >= 0, moves[np.maximum(self._pattern_entry, 0)], -1)
        side = len(self._pattern_texts) - self._indexed_patterns + sum(len(entry.patterns) for entry in entries)
        if int(np.count_nonzero(kept_patterns < 0)) + side > max(64, len(self._pattern_texts) // 4):
            return None
        known = {} if features is None else features
        prepared: list[EntryFeatures] = []
        for entry in entries:
            found = known.get(entry)
            if found is None:
                found = known[entry] = entry_features(entry)
            prepared.append(found)
        rows = [_EntryRows.of(found) for found in prepared]

        matcher = Matcher.__new__(Matcher)
        matcher.catalog, matcher.threshold = catalog, self.threshold
        new_at = dict(zip(added.tolist(), entries, strict=True))
        before = origin.tolist()
        matcher._ids = list(ids)
        matcher._tools = [self._tools[old] if old >= 0 else new_at[n].tool for n, old in enumerate(before)]
        matcher._has_patterns = [self._has_patterns[old] if old >= 0 else bool(new_at[n].patterns)
                                 for n, old in enumerate(before)]
        matcher._fingerprints = Texts.of(fingerprints if fingerprints is not None
                                         else [self._fingerprints[old] if old >= 0 else "" for old in before])
        # New titles come after the old ones, then every title is taken in the catalog's order.
        source = np.where(origin >= 0, origin, len(self._ids) + np.cumsum(origin < 0) - 1)
        matcher._titles = Texts.concat([self._titles, Texts.of([entry.title for entry in entries])]).take(source)
        matcher._index_of = TextIndex.of(matcher._ids)

        # Words new to the catalog join the numbering in their place in text order; a word no entry
        # uses any more keeps its number (it weighs nothing, as an unknown word does) until a full build.
        tables, word_index = self._tables, self._word_index
        words = {word for row in rows for word in row.every_word()}
        fresh = sorted(word for word in words if self._word_numbers.get(word) is None)
        if fresh:
            old_words = list(self._words)
            places = np.array([bisect_left(old_words, word) for word in fresh], dtype=np.int64)
            everyone = np.arange(len(old_words), dtype=np.int64)
            tables = tables.renumbered(everyone + np.searchsorted(places, everyone, side="right"))
            word_index = TextIndex.of(list(heapq.merge(old_words, fresh)))
        matcher._word_index, matcher._words = word_index, word_index.texts
        numbers = {word: word_index[word] for word in words}
        matcher._tables = tables.spliced(moves, _Tables.of(rows, added, numbers), added)

        # Patterns: the removed ones stay in place, dead; the new ones are appended and indexed apart.
        start = len(self._pattern_texts)
        texts: list[str] = []
        owners: list[int] = []
        # Copied in one step first: a hot reload runs this while pastes still compile patterns into it.
        matcher._compiled = {position: pattern for position, pattern in dict(self._compiled).items()
                             if kept_patterns[position] >= 0}
        for number, entry, found in zip(added.tolist(), entries, prepared, strict=True):
            for pattern, requirements in zip(entry.patterns, found.requirements, strict=True):
                matcher._compiled[start + len(texts)] = PrefilteredPattern(pattern, PATTERN_FLAGS, requirements)
                texts.append(pattern)
                owners.append(number)
        matcher._pattern_entry = np.concatenate([kept_patterns, np.array(owners, dtype=np.int64)])
        matcher._pattern_texts = Texts.concat([self._pattern_texts, Texts.of(texts)])
        matcher._fragments, matcher._indexed_patterns = self._fragments, self._indexed_patterns
        later = [(position, matcher._pattern(position).requirements)
                 for position in range(self._indexed_patterns, len(matcher._pattern_texts))
                 if matcher._pattern_entry[position] >= 0]
        matcher._added_fragments, unfiltered = _fragment_index(later)
        matcher._unfiltered = [position for position in self._unfiltered
                               if position < self._indexed_patterns and kept_patterns[position] >= 0] + unfiltered
        matcher._index()
        matcher._numbered()
        return matcher

    def _numbered(self) -> None:
        """The lookups by text a paste makes, from the saved indexes (no dictionary of the vocabulary)."""
        self._word_numbers = _Numbers(self._word_index)
        self._clauses: Mapping[str, int] = _Numbers(self._clause_index)
        self._literal_postings = _Postings(self._word_numbers, self._literal_rows)

    # -- preprocessing ----------------------------------------------------------------------------

    def _build_patterns(self, entries: Sequence[Entry], prepared: list[EntryFeatures]) -> None:
        """Patterns, found through an index of the literal fragments they need.

        A pattern runs only when its most selective requirement occurs in the paste (one lookup per
        run of characters finds all of them at once); patterns that need no literal run always.
        """
        # Pattern texts and their entries; each is made ready for searching when a paste first wakes it.
        pattern_texts: list[str] = []
        owners: list[int] = []
        needs: list[tuple[Requirement, ...]] = []
        self._compiled: dict[int, PrefilteredPattern] = {}
        for index, (entry, features) in enumerate(zip(entries, prepared, strict=True)):
            for pattern, requirements in zip(entry.patterns, features.requirements, strict=True):
                self._compiled[len(pattern_texts)] = PrefilteredPattern(pattern, PATTERN_FLAGS, requirements)
                pattern_texts.append(pattern)
                owners.append(index)
                needs.append(requirements)
        self._fragments, self._unfiltered = _fragment_index(list(enumerate(needs)))
        # Patterns added by later changes (`updated`) are indexed apart, in `_added_fragments`: this
        # index holds the positions below `_indexed_patterns`, and a removed pattern's entry is -1.
        self._indexed_patterns = len(pattern_texts)
        self._added_fragments: FragmentIndex | None = None
        self._pattern_entry = np.array(owners, dtype=np.int64)
        self._pattern_texts = Texts.of(pattern_texts)

    def _pattern(self, position: int) -> PrefilteredPattern:
        found = self._compiled.get(position)
        if found is None:  # a restored matcher: its literal requirements are worked out again, once
            found = self._compiled[position] = PrefilteredPattern(self._pattern_texts[position], PATTERN_FLAGS)
        return found

    def _index(self) -> None:
        """Everything the tables imply through the words' weights, which depend on every entry.

        A word's IDF follows its document frequency and the number of entries, so one entry more or
        less, or one entry's words changed, moves weights all over the catalog: this recomputes them
        and what they decide (document norms, the words each document and literal is filed under,
        which phrases are rare enough to count) for the whole catalog at once, as array operations,
        from tables that hold each entry's part as it is whatever the others hold.
        """
        tables = self._tables
        size = len(self._words)
        frequency = np.bincount(tables.entry_words.columns, minlength=size)
        # Computed per distinct frequency with math.log, as a word at a time would be, bit for bit.
        total = max(len(self._ids), 1)
        by_frequency = np.full(int(frequency.max(initial=0)) + 1, -1.0)
        for count in np.unique(frequency[frequency > 0]).tolist():
            by_frequency[count] = math.log((1 + total) / (1 + count)) + 1.0
        # By word number; a word with no document frequency (only in prose) is unknown (-1).
        self._idf = by_frequency[frequency]
        self._idf_of = self._idf.data
        self._generic = np.zeros(size, dtype=np.bool_)
        for word in GENERIC_ERROR_WORDS:
            number = self._word_index.get(word)
            if number is not None:
                self._generic[number] = True
        self._index_docs()
        self._index_literals()
        self._index_clauses(frequency)
        vocabulary = tables.vocabulary
        # Word -> the entries using it (in entry order) and how much it counts there.
        self._profiles = SparseRows.grouped(vocabulary.columns, vocabulary.owners(), vocabulary.values, size)

    def _index_docs(self) -> None:
        """Keyword documents, each indexed under the heaviest words it needs a paste to share.

        A document scores at most 100 * (shared / total) ** 0.75 of its squared weight (see
        `_keyword_evidence`), so reaching KEYWORD_MIN needs a share of at least KEYWORD_SHARE; the words
        past the point where what is left weighs less than that are never needed to find it.
        """
        words = self._tables.doc_words
        owner = words.owners()
        weights = self._idf[words.columns] * words.values
        # Heaviest word first within each document, equal weights in word order (a row's cells are
        # stored in word order, and the sort keeps it among equals).
        heaviness = _heaviest_first(self._idf * np.where(self._generic, GENERIC_WEIGHT, 1.0))
        order = _within_rows(owner, heaviness[words.columns])
        columns, weights = words.columns[order], weights[order]
        self._doc_rows = SparseRows(words.starts, columns, weights)
        squares = weights * weights
        norms = np.bincount(owner, weights=squares, minlength=words.rows)
        self._doc_norms = np.sqrt(norms)
        filed = _filed_prefix(words.starts, owner, squares, KEYWORD_SHARE * norms)
        self._doc_postings = SparseRows.grouped(columns[filed], owner[filed], np.ones(int(filed.sum())),
                                                len(self._words))
        self._doc_entry = self._tables.doc_entry
        # Each entry's documents are consecutive: entry i has numbers _entry_docs[i] to _entry_docs[i + 1].
        self._entry_docs = np.searchsorted(self._doc_entry, np.arange(len(self._ids) + 1))

    def _index_literals(self) -> None:
        """Literals, indexed under just enough of their rarest words.

        A literal is aligned only when the paste holds at least `_literal_need` of its words; so a
        literal of s words can miss at most s - need of them, and indexing it under its s - need + 1
        rarest words guarantees that any paste that may qualify shares one of them (prefix filtering).
        A literal with words that set it apart (its marks) also needs DISTINCT_MIN_COVERAGE of their
        weight: the heaviest marks up to the point where the rest weighs less than that find it.
        """
        tables = self._tables
        words, marks = tables.literal_words, tables.literal_marks
        sizes = np.diff(words.starts)
        may_miss = sizes - np.ceil(np.maximum(2, 0.6 * sizes)).astype(np.int64)
        aligned = may_miss >= 0  # fewer than two words: never aligned
        mark_owner = marks.owners()
        mark_weights = self._idf[marks.columns]
        order = _within_rows(mark_owner, _heaviest_first(self._idf)[marks.columns])
        totals: Floats = np.bincount(mark_owner, weights=mark_weights, minlength=marks.rows).astype(np.float64)
        by_marks = _filed_prefix(marks.starts, mark_owner[order], mark_weights[order],
                                 DISTINCT_MIN_COVERAGE * totals)
        marked = np.diff(marks.starts) > 0
        take = by_marks & aligned[mark_owner[order]]
        filed_words = [marks.columns[order][take]]
        filed_literals = [mark_owner[order][take]]
        # Without marks: the literal's s - need + 1 words that the fewest literals hold.
        owner = words.owners()
        frequency = np.bincount(words.columns, minlength=len(self._words))
        order = _within_rows(owner, frequency[words.columns])
        rank = np.arange(len(order)) - words.starts[owner]  # cells stay in their rows: owner[order] == owner
        take = (aligned & ~marked)[owner] & (rank <= may_miss[owner])
        filed_words.append(words.columns[order][take])
        filed_literals.append(owner[take])
        self._literals = _Literals(tables.literal_entry, tables.literal_texts, tables.literal_signature,
                                   tables.literal_shown, words, SparseRows(marks.starts, marks.columns, mark_weights))
        filed = np.concatenate(filed_literals)
        # Word number -> literal positions.
        self._literal_rows = SparseRows.grouped(np.concatenate(filed_words), filed, np.ones(len(filed)),
                                                len(self._words))

    def _index_clauses(self, frequency: Ints) -> None:
        """Distinctive phrases of the literals, grouped by their first three words ("w1 w2 w3").

        An error message is usually several clauses ("Auto-update failed · Try claude doctor"); people
        paste or quote just one. A clause that belongs to one entry only, and whose words are rare
        across the catalog, is strong evidence when it appears verbatim (after normalisation).
        """
        tables = self._tables
        words = tables.clause_words
        # A phrase that several entries list is nobody's.
        _, which, counts = np.unique(tables.clause_ids, return_inverse=True, return_counts=True)
        alone = counts[which.reshape(-1)] == 1
        # A word no entry's documents hold counts 1.
        known = frequency[words.columns] > 0
        rarity = np.bincount(words.owners(), weights=np.where(known, self._idf[words.columns], 1.0),
                             minlength=words.rows)
        kept = np.flatnonzero(alone & (rarity >= CLAUSE_MIN_RARITY))
        groups, firsts, group = np.unique(tables.clause_group_ids[kept], return_index=True, return_inverse=True)
        group = group.reshape(-1).astype(np.int64)
        members = kept[np.argsort(group, kind="stable")]
        # The groups' index, as TextIndex.of would make it from their texts.
        hashes = tables.clause_group_hashes[kept[firsts]]
        by_hash = np.argsort(hashes, kind="stable").astype(np.int64)
        self._clause_index = TextIndex(tables.clause_groups.take(kept[firsts]), hashes[by_hash], by_hash)
        self._clause_starts = np.zeros(len(groups) + 1, dtype=np.int64)
        np.cumsum(np.bincount(group, minlength=len(groups)), out=self._clause_starts[1:])
        self._clause_phrases = tables.clause_phrases.take(members)
        self._clause_entry = tables.clause_entry[members]
        self._clause_score = np.minimum(90.0, 60.0 + 2.2 * rarity[members])

    def _weights(self, words: Iterable[str]) -> dict[str, float]:
        # Unknown words get the highest IDF: they are rare, but they say nothing about our entries,
        # and they only grow the paste's norm, which is what lowers a chatty paste's similarity.
        unknown = math.log(1 + len(self._ids)) + 1.0
        numbers, idf = self._word_numbers, self._idf_of
        weights = {}
        for word in set(words):
            if word in STOPWORDS:
                continue
            number = numbers.get(word)
            known = -1.0 if number is None else idf[number]
            weights[word] = (unknown if known < 0 else known) * (GENERIC_WEIGHT if word in GENERIC_ERROR_WORDS else 1.0)
        return weights

    # -- matching ---------------------------------------------------------------------------------

    def match(self, text: str, top: int = 3) -> MatchResult:
        cleaned = clean(_focus(text))
        if not cleaned:
            return MatchResult(None, (), False)
        normalized = normalize_cleaned(cleaned)
        looks_like_error = bool(ERROR_CUES.search(cleaned))
        evidence = _Evidence(self._ids)
        self._pattern_evidence(cleaned, evidence)
        self._literal_evidence(normalized, evidence)
        self._phrase_evidence(normalized, evidence)
        self._keyword_evidence(normalized, evidence)
        self._profile_evidence(normalized, evidence)
        named_tools = _named_tools(cleaned)
        self._weigh_tools(named_tools, evidence)
        if SDK_TRACE.search(cleaned) and not named_tools_beyond_sdk(cleaned):
            # A raw exception from the OpenAI/Anthropic SDK inside someone's own program: the same
            # wording as a coding tool's error, but not one of the tools this catalog is about.
            evidence.adjust(lambda index, c: c.score if c.reason == "pattern" else c.score - SDK_PENALTY)

        ranked = sorted(evidence.best.values(), key=lambda c: (-c.score, c.entry_id))[: max(top, 1)]
        ranked = [replace(c, score=round(c.score, 1)) for c in ranked]
        confident = None
        if ranked:
            leader = ranked[0]
            # A message that names the tool and describes a failure in its own words needs less
            # textual evidence than an anonymous paste: the tool narrows the field to a few entries.
            about_named_tool = bool(named_tools) and self._tools[self._index_of[leader.entry_id]] == named_tools[0]
            needed = self.threshold - (TOOL_NAMED_RELIEF if about_named_tool and looks_like_error else 0.0)
            # Ordinary chat never triggers: without an error cue only the error's own wording is trusted.
            strong_evidence = bool(evidence.kinds[self._index_of[leader.entry_id]] - {"keywords"})
            if (
                leader.score >= needed
                and (looks_like_error or strong_evidence)
                and (strong_evidence or self._explains_quoted_errors(self._index_of[leader.entry_id], cleaned))
            ):
                confident = leader
        return MatchResult(confident, tuple(ranked), looks_like_error or confident is not None)

    def _explains_quoted_errors(self, index: int, cleaned: str) -> bool:
        """Whether an entry found on shared vocabulary alone also knows the error message the paste quotes.

        A description that quotes the tool's actual message ("keeps printing 'Empty response received'")
        is about that message: when the entry's vocabulary misses most of its rare words, the paste is
        a different error that merely shares the topic, and staying quiet beats a wrong page.
        """
        quoted = " ".join(found.group(1) or found.group(2) for found in QUOTED_MESSAGE.finditer(cleaned))
        weights = {
            word: weight
            for word, weight in self._weights(tokens(normalize_cleaned(quoted))).items()
            if word not in GENERIC_ERROR_WORDS and word not in FRAME_WORDS and word not in TOOL_NAME_WORDS
        }
        if len(weights) < QUOTED_MIN_WORDS:
            return True
        # The words of the entry's error texts, not its prose: those of its keyword documents.
        docs = self._doc_rows.starts[self._entry_docs[index] : self._entry_docs[index + 1] + 1]
        error_words = set(self._doc_rows.columns[docs[0] : docs[-1]].tolist())
        known = sum(weight for word, weight in weights.items() if self._word_numbers.get(word, -1) in error_words)
        return known / sum(weights.values()) >= QUOTED_MIN_COVERAGE

    def _pattern_evidence(self, cleaned: str, evidence: _Evidence) -> None:
        lowered = cleaned.lower()
        troubled = bool(TROUBLE_CUES.search(cleaned))
        candidates = set(self._unfiltered)
        for fragments in (self._fragments, self._added_fragments):
            if fragments is not None:
                for positions in fragments.found(lowered):
                    candidates.update(positions)
        for position in sorted(candidates):
            index = int(self._pattern_entry[position])
            if index < 0:
                continue  # its entry was changed or removed since the index was built
            found = self._pattern(position).search(cleaned, lowered)
            if not found:
                continue
            fragment = found.group(0)
            if not troubled and _names_a_tool(fragment):
                # A regex that leans on the tool's name ("cline ... rate limits") also fits chat about
                # the tool ("cline rate limits have been fine for us"); without any sign of trouble
                # it is only a hint, like shared keywords.
                hint = self.threshold - TOOL_NAMED_RELIEF - TOOL_BONUS - 1.0  # stays below the bar
                evidence.offer(index, hint, _shorten(fragment), "keywords")
                continue
            evidence.offer(index, PATTERN_SCORE, _shorten(fragment), "pattern")

    def _literal_evidence(self, normalized: str, evidence: _Evidence) -> None:
        if len(normalized) < 8:
            return
        # A near-verbatim occurrence shares most of the literal's words; checking that first spares
        # the costly alignment for the literals that cannot score.
        paste_words = set(tokens(normalized))
        numbers = self._word_numbers
        paste_numbers = {numbers[word] for word in paste_words if word in numbers}
        candidates: set[int] = set()
        for word in paste_words:
            candidates.update(self._literal_postings.get(word, ()))
        literals = self._literals
        for position in sorted(candidates):
            literal_words = literals.words.row(position)[0].tolist()
            shared = paste_numbers.intersection(literal_words)
            if len(shared) < _literal_need(len(literal_words)):
                continue
            marked, weights = literals.marks.row(position)
            if len(marked) and (sum(w for m, w in zip(marked.tolist(), weights.tolist(), strict=True) if m in shared)
                                < DISTINCT_MIN_COVERAGE * float(weights.sum())):
                # Covering the error frame every provider shares but not what sets this literal apart
                # is no match (it would score at most DISTINCT_MIN_COVERAGE of LITERAL_MIN's scale).
                continue
            # Partial ratios in the 70s and 80s are common between unrelated error lines, so the scale
            # is stretched: only a near-verbatim occurrence scores high. A short paste that is merely a
            # piece of a long literal is weak evidence, and so is a short literal, which aligns by
            # chance inside unrelated logs.
            text = literals.texts[position]
            coverage = min(1.0, len(normalized) / len(text))
            length_weight = min(1.0, 0.6 + len(text) / 100)
            scale = (0.55 + 0.45 * coverage) * length_weight
            # Both factors are known before aligning, so the ratio needed to reach LITERAL_MIN is too:
            # the alignment is skipped, or stopped early, when it cannot get there.
            needed = 50 + LITERAL_MIN / (2 * scale)
            if needed > 100:
                continue
            raw_score = fuzz.partial_ratio(text, normalized, score_cutoff=max(70.0, needed - 1e-6))
            if not raw_score:
                continue
            score = (2 * raw_score - 100) * scale
            if score >= LITERAL_MIN:
                kind = "signature" if literals.signature[position] else "variant"
                evidence.offer(int(literals.entry[position]), score, _shorten(literals.shown[position]), kind)

    def _phrase_evidence(self, normalized: str, evidence: _Evidence) -> None:
        words = normalized.split()
        for position, start in enumerate(zip(words, words[1:], words[2:], strict=False)):
            group = self._clauses.get(" ".join(start))
            if group is None:
                continue
            for member in range(int(self._clause_starts[group]), int(self._clause_starts[group + 1])):
                phrase = self._clause_phrases[member]
                if " ".join(words[position : position + phrase.count(" ") + 1]) == phrase:
                    evidence.offer(int(self._clause_entry[member]), float(self._clause_score[member]), phrase,
                                   "phrase")

    def _paste_vector(self, paste_weights: dict[str, float]) -> PasteVector:
        numbers = self._word_numbers
        return PasteVector.of([(numbers[word], weight) for word, weight in paste_weights.items() if word in numbers])

    def _keyword_evidence(self, normalized: str, evidence: _Evidence) -> None:
        paste_weights = self._weights(tokens(normalized))
        if not paste_weights:
            return
        paste_norm = math.sqrt(sum(w * w for w in paste_weights.values()))
        paste = self._paste_vector(paste_weights)
        candidates = self._doc_postings.union(paste.columns)
        if not len(candidates):
            return
        owner, words, weights = self._doc_rows.gather(candidates)
        held, paste_weight = paste.lookup(words)
        size = len(candidates)
        dot = np.bincount(owner, weights=weights * paste_weight, minlength=size)
        shared = np.bincount(owner, weights=held, minlength=size)
        # Nothing but words every program prints is no evidence.
        telling = np.bincount(owner, weights=held & ~self._generic[words], minlength=size)
        norms = self._doc_norms[candidates]
        # Cosine, but measured mostly against the example: a long paste that contains all of an
        # example's key words should not be punished for its other lines.
        scores = 100 * np.minimum(1.0, dot / (norms * np.sqrt(norms * paste_norm)))
        # Only each entry's best document can be its candidate: the words shown are looked up for that one.
        best: dict[int, tuple[float, int]] = {}
        for position in np.flatnonzero((shared >= 2) & (telling >= 1) & (scores >= KEYWORD_MIN)).tolist():
            number = int(candidates[position])
            index, score = int(self._doc_entry[number]), float(scores[position])
            if index not in best or score > best[index][0]:
                best[index] = (score, number)
        for index, (score, number) in best.items():
            row_words = self._doc_rows.row(number)[0]  # stored heaviest word first
            shared_words = " ".join(self._words[w] for w in row_words[paste.lookup(row_words)[0]][:6])
            evidence.offer(index, score, shared_words, "keywords")

    def _profile_evidence(self, normalized: str, evidence: _Evidence) -> None:
        """How much of a casual description one entry's whole vocabulary explains.

        An entry must explain at least PROFILE_NEED of the paste's informative weight (and PROFILE_MASS
        times the same share in absolute terms) to score; every entry's share is summed at once over
        the postings of the paste's words, so only those that reach it are looked at one by one.
        """
        paste_weights = self._weights(tokens(normalized))
        informative = sum(paste_weights.values())
        if not informative:
            return
        needed = PROFILE_NEED_MARGIN * max(PROFILE_NEED * informative, PROFILE_MASS * PROFILE_MIN / PROFILE_MAX)
        paste = self._paste_vector(paste_weights)
        if not len(paste.columns):
            return
        owner, entries, factors = self._profiles.gather(paste.columns)
        contribution = factors * paste.weights[owner]
        total = len(self._ids)
        mass = np.bincount(entries, weights=contribution, minlength=total)
        telling = ~self._generic[paste.columns[owner]]
        words = np.bincount(entries[telling], minlength=total)
        for index in np.flatnonzero((words >= PROFILE_MIN_WORDS) & (mass >= needed)):
            explained = float(mass[index])
            # The share of the paste's informative words this entry explains, discounted while the
            # explained amount is still small (three rare words are not yet a description).
            # Capped below literal evidence: shared vocabulary ranks entries, the error's own text decides.
            score = PROFILE_MAX * (explained / informative) ** PROFILE_EXPONENT * min(1.0, explained / PROFILE_MASS)
            if score >= PROFILE_MIN:
                mine = np.flatnonzero((entries == index) & telling)
                strongest = sorted(((float(contribution[k]), self._words[paste.columns[owner[k]]]) for k in mine),
                                   reverse=True)
                evidence.offer(int(index), score, " ".join(word for _, word in strongest[:6]), "keywords")

    def _weigh_tools(self, named_tools: list[str], evidence: _Evidence) -> None:
        """The tool a paste names is evidence for its entries and against the others."""
        if not named_tools:
            # An anonymous paste: generic wording ("500 Internal Server Error", "ECONNRESET") is shared
            # with every web server and Node program, so only the catalog's own regexes, written with
            # each tool's context, keep their full weight. When an entry's regexes deliberately ask for
            # that context and none fired, its generic signature alone is not enough to answer.
            def anonymous(index: int, candidate: Candidate) -> float:
                if "pattern" in evidence.kinds[index]:
                    return candidate.score
                score = candidate.score - ANONYMOUS_PENALTY
                return min(score, self.threshold - 1.0) if self._has_patterns[index] else score

            evidence.adjust(anonymous)
            return
        primary = named_tools[0]

        def named(index: int, candidate: Candidate) -> float:
            entry_tool = self._tools[index]
            if entry_tool == primary:
                return min(100.0, candidate.score + TOOL_BONUS)
            if entry_tool in named_tools:
                return min(100.0, candidate.score + TOOL_BONUS / 3)
            if candidate.reason == "pattern":
                return candidate.score - OTHER_TOOL_PENALTY
            # Another tool is named and this one is not: the same wording from a different product
            # (OpenAI's quota text, a generic 429) must not be claimed.
            return candidate.score - 1.6 * OTHER_TOOL_PENALTY

        evidence.adjust(named)

    def looks_like_error(self, text: str) -> bool:
        """The error-cue test of `match` alone: cheap enough to run before the full match."""
        return bool(ERROR_CUES.search(clean(text[:4_000])))

    def lookup(self, query: str) -> Entry | None:
        """An entry named exactly by id or title (what `/errfix <id>` and autocomplete send)."""
        wanted = query.strip().casefold()
        found = [i for i in (self._index_of.get(wanted), self._by_title.get(wanted)) if i is not None]
        return self.catalog.at(min(found)) if found else None

    @functools.cached_property
    def _by_title(self) -> dict[str, int]:
        by_title: dict[str, int] = {}
        for index, title in enumerate(self._titles):
            by_title.setdefault(title.casefold(), index)
        return by_title

    @functools.cached_property
    def _search_texts(self) -> dict[int, str]:
        return {i: f"{entry_id} {title} {tool}".casefold()
                for i, (entry_id, title, tool) in enumerate(zip(self._ids, self._titles, self._tools, strict=True))}

    def complete(self, prefix: str, limit: int = 25) -> list[Entry]:
        """Entries for autocomplete: fuzzy over ids and titles, best first."""
        if not prefix.strip():
            return [self.catalog.at(index) for index in range(min(limit, len(self._ids)))]
        return [entry for entry, _ in self.search(prefix, limit)]

    def search(self, query: str, limit: int = 5) -> list[tuple[Entry, float]]:
        """Entries whose id, title or tool resemble a few typed words ("stream disconnected")."""
        wanted = query.strip().casefold()
        if not wanted:
            return []
        found = process.extract(wanted, self._search_texts, scorer=fuzz.WRatio, limit=limit, score_cutoff=40)
        return [(self.catalog.at(key), float(score)) for _, score, key in found]


# Words every kind of software prints in its errors. Rare in our catalog is not rare in the world:
# "internal server error" or "fetch failed" must not make a paste look like one tool's error.
GENERIC_ERROR_WORDS = frozenset(
    "error errors failed fail failure internal server request requests status code http https api exception "
    "unable connect connection timeout timed out limit limits rate exceeded exceed too many invalid key keys "
    "unauthorized forbidden found denied type typeerror message response fetch network retry retrying try "
    "please later again bad gateway service unavailable read write file directory".split()
)
GENERIC_WEIGHT = 0.35
# The scaffolding of JSON error bodies and log frames: shared by every provider's errors.
FRAME_WORDS = frozenset(
    "type message code status details detail param reason domain errors body json object null true false "
    "invalid_request_error api_error request_id requestid id num time uuid hex path url email".split()
)
DISTINCT_MIN_COVERAGE = 0.6
# A message quoted inside a description: "..." or '...' on one line, long enough to be a message.
QUOTED_MESSAGE = re.compile(r"\"([^\"\n]{12,400})\"|(?<!\w)'([^'\n]{12,400})'(?!\w)")
QUOTED_MIN_WORDS = 3
QUOTED_MIN_COVERAGE = 0.5

STOPWORDS = frozenset(
    "the a an and or to of in on for is it this that with at by from be as are was were my me i you your "
    "we our its it's im ive just so but not no yes do does did have has had any all can get got if then "
    "when what why how which there here they them he she his her one two more some out up about into "
    "again still even also only like would should could will time num path url uuid id hex email".split()
)


SDK_TRACE = re.compile(
    r"(?<![\w.])(?:openai|anthropic)\.(?:\w++\.)*+\w*(?:Error|Exception)\b|site-packages/(?:openai|anthropic)/"
    r"|\bTraceback \(most recent call last\)"
)
SDK_WORDS = re.compile(r"\b(?:openai|anthropic)(?=\.)|\bopenai\b|\banthropic\b", re.IGNORECASE)


def named_tools_beyond_sdk(cleaned: str) -> list[str]:
    """Tools named in a paste, not counting the bare SDK names (openai/anthropic) of a traceback."""
    return _named_tools(SDK_WORDS.sub(" ", cleaned))


def _literal_need(size: int) -> float:
    """How many of a literal's words a paste must hold before the literal is aligned with it."""
    return max(2, 0.6 * size)


def _names_a_tool(fragment: str) -> bool:
    return any(words.search(fragment) for words in TOOL_WORDS.values())


def _named_tools(cleaned: str) -> list[str]:
    """Tools the paste names, the first-named first: the subject of a message usually comes first."""
    first_seen: list[tuple[int, str]] = []
    for tool, words in TOOL_WORDS.items():
        found = words.search(cleaned)
        if found:
            first_seen.append((found.start(), tool))
    return [tool for _, tool in sorted(first_seen)]


def _shorten(fragment: str, limit: int = 160) -> str:
    fragment = " ".join(fragment.split())
    return fragment if len(fragment) <= limit else fragment[: limit - 1] + "…"


URL_IN_LITERAL = re.compile(r"\b(?:https?|file)://\S++|(?<![\w-])[\w-]++(?:\.[\w-]++)++/\S*+", re.IGNORECASE)
CLAUSE_SPLIT = re.compile(r"[·•∙|.:;!?()\[\]{}\"`—–,⎿●⏺✗✕✘■]+|\s-\s|\\n|\n")

# Signs that something went wrong, as opposed to words that merely name a topic ("limit", "429").
TROUBLE_CUES = re.compile(
    r"\b(?:error|errors|errno|exception|fail\w*|fatal|panic|traceback|denied|refus\w*|reject\w*|unable|cannot|"
    r"can'?t|couldn'?t|could not|won'?t|wont|doesn'?t|does not|isn'?t|not working|stopp?\w*|stuck|broken|"
    r"break\w*|block\w*|keeps?|again|still|hit|hits|hitting|exceed\w*|exhaust\w*|reached|ran out|runs out|"
    r"crash\w*|died|dies|dying|killed|hang\w*|freez\w*|timed? ?out|timeout|expired|invalid|missing|"
    r"unexpected|unhandled|wrong|bug|issue|problem|help|suddenly|but|says|said|gives|gets|getting|shows|"
    r"asks|tells|complains|only|instead|even though|greyed|grayed|silent\w*|"
    r"every (?:time|request|prompt|message)|retry\w*|disconnect\w*|lost|drop\w*|empty|blank|nothing)\b"
    r"|[✗✕✘⚠]",
    re.IGNORECASE,
)

_ERROR_LINE = re.compile(
    r"error|exception|fail|fatal|denied|unable|cannot|invalid|limit|quota|exceed|exhaust|overload|"
    r"timed out|not found|unhandled|refus|\b(?:429|401|403|500|529)\b|✗|✕|✘",
    re.IGNORECASE,
)


def _error_line_words() -> Any:
    """Every alternative of _ERROR_LINE holds one of these literals: lines without one are skipped unread."""
    automaton = ahocorasick.Automaton()
    for word in ("error", "exception", "fail", "fatal", "denied", "unable", "cannot", "invalid", "limit",
                 "quota", "exceed", "exhaust", "overload", "timed out", "not found", "unhandled", "refus",
                 "429", "401", "403", "500", "529", "✗", "✕", "✘"):
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


_ERROR_LINE_WORDS = _error_line_words()


def _error_looking_lines(middle: str) -> Iterable[str]:
    """The lines of `middle` that _ERROR_LINE finds something in (within their first 2,000 characters).

    A case-insensitive alternation costs Python's regex engine about a microsecond per character, a
    second for a 1 MB log; one pass of an automaton over the lower-cased text finds the few lines
    worth that search.
    """
    lowered = middle.lower()
    if len(lowered) != len(middle):  # a rare character whose lower case is longer: offsets differ
        yield from (line for line in middle.splitlines() if _ERROR_LINE.search(line[:2_000]))
        return
    hits = [end for end, _ in _ERROR_LINE_WORDS.iter(lowered)]
    if not hits:
        return
    position = 0
    index = 0
    for line in middle.splitlines(keepends=True):
        start, position = position, position + len(line)
        while index < len(hits) and hits[index] < start:
            index += 1
        if index == len(hits):
            return
        if hits[index] < position:
            content = line.splitlines()[0]
            if _ERROR_LINE.search(content[:2_000]):
                yield content


def _focus(text: str) -> str:
    """Bound the work on huge pastes: keep the head, the tail and the error-looking lines."""
    if len(text) <= MAX_SCAN_CHARS:
        return text
    head, tail = text[:2_000], text[-2_000:]
    budget = MAX_SCAN_CHARS - len(head) - len(tail)
    picked: list[str] = []
    for line in _error_looking_lines(text[2_000:-2_000]):
        if budget <= 0:
            break
        piece = line[:1_000]
        picked.append(piece)
        budget -= len(piece) + 1
    return "\n".join([head, *picked, tail])
