"""Catalog gaps: the error pastes the catalog did not know, grouped by template.

Log-template miners (Drain and its kin) group one-line log records by their constant words. A paste
in a chat is not one record: it is an error message wrapped in someone's words, a stack of
environment lines ("OS version: …") and ids that differ every time. So the miner here works in
three steps, on the matcher's own cleaning and normalisation:

1. each paste is cut into message lines (wrapped continuation lines joined, environment lines of the
   `Label: value` kind without an error word dropped), and each line into words where anything volatile (numbers, ids,
   paths, URLs, hex) is the wildcard `<*>`;
2. pastes are compared by the word pairs they share, each pair weighed by how rare it is among all
   the pastes mined together (and the background texts, e.g. the catalog), so the boilerplate every
   API error carries ("api error 400 type error") says little and the message itself says a lot;
   a paste joins the cluster it shares most with, or starts a new one;
3. a cluster's template is its key message line with the words that differ between members (and
   volatile ones) shown as `<*>`.

Work per paste is bounded (the paste is cut to its head, lines to a fixed length) and comparison only
looks at pastes sharing a word pair, found through an inverted index.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.core.catalog import Entry
from bot.core.matching import ERROR_CUES, named_tools_beyond_sdk
from bot.core.models import UnmatchedPaste
from bot.core.normalize import clean, normalize_cleaned

WILDCARD = "<*>"
MAX_PASTE_CHARS = 8_000
MAX_LINES = 120
MAX_LINE_CHARS = 400
JOIN_SIMILARITY = 0.45  # share of the smaller paste's weight that must be shared to join a cluster
MIN_SHARED_WEIGHT = 9.0  # and at least this much in absolute terms (a few rare word pairs)
SHORT_SHARE = 0.8
CHAT_FACTOR = 0.3
WORD_FACTOR = 0.5
STOP_FACTOR = 0.3
MAX_COMPARED_MEMBERS = 4
CANDIDATE_KEYS = 32
PER_KEY_CANDIDATES = 40
TEMPLATE_MEMBERS = 25  # a template is merged from the first and the latest members, not from thousands
MAX_CANDIDATES = 200
SAMPLE_CHARS = 600
MAX_PASTES = 5_000
MAX_TEMPLATE_CHARS = 300

# "OS version: Darwin arm64", "- Platform: darwin", "* **CLI Version:** 0.3.4", "Commit: 34935d6": a
# label of a few words, a colon, a short value. Dropped unless the label itself is an error word.
FIELD_LINE = re.compile(r"^[-*#>\s]*\**\s*([A-Za-z][\w ./()-]{0,28}?)\s*\**\s*:\s*\**\s*(\S.{0,160})?$")
VOLATILE = re.compile(r"\d|^(?:num|hex|path|url|uuid|id|time|email)$")
HTTP_CODE = re.compile(r"^[1-5]\d\d$")
# A line that starts the way printed errors do ("Error:", "[ERROR]", "✖ API Error", "Fatal …").
ERROR_START = re.compile(
    r"^\W{0,4}(?:\[?[\w.]*(?:error|exception|fatal|failed|failure|unexpected|warning)\b|[✕✗✖✘⚠])", re.IGNORECASE)
# Someone talking about the error rather than the error itself.
CHATTY = re.compile(r"\b(?:i|i'm|i've|me|my|we|our|anyone|pls|please help|help|keeps?|since|after the)\b",
                    re.IGNORECASE)
JSON_KEY = re.compile(r"[\"']\w{1,30}[\"']\s*:")
SENTENCE_END = re.compile(r"[.!?)}\]\"']\s*$")
STOP = frozenset(
    "a an and are as at be but by for from has have i if in is it its me my no not of on or so that the "
    "then this to was we were with you your".split()
)


@dataclass(frozen=True, slots=True)
class GapCluster:
    """One group of unmatched error pastes that look like the same error."""

    id: str
    template: str
    count: int
    people: int
    tool: str | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    samples: tuple[str, ...]  # masked pastes, newest first, trimmed
    lines: tuple[str, ...] = ()  # the members' distinct literal key lines (masked), for variants
    wrong_error: int = 0  # how many came from a "Wrong error" click
    best_entry_ids: tuple[str, ...] = ()  # entries the matcher came closest with
    members: tuple[int, ...] = field(default=(), repr=False)  # positions in the mined sequence

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "template": self.template,
            "count": self.count,
            "people": self.people,
            "tool": self.tool,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "samples": list(self.samples),
        }

    def summary_line(self, width: int = 110) -> str:
        who = f"{self.people} {'person' if self.people == 1 else 'people'}"
        tool = f" · {self.tool}" if self.tool else ""
        template = self.template if len(self.template) <= width else self.template[: width - 1] + "…"
        return f"`{self.id}` {self.count}× ({who}{tool}) “{template}”"


@dataclass(slots=True)
class _Line:
    text: str  # cleaned, as printed
    words: tuple[str, ...]  # lower-case words, volatile ones as WILDCARD
    cue: bool  # carries an error cue
    errorness: int = 0  # how much it reads like the error itself rather than talk about it


@dataclass(slots=True)
class _Paste:
    source: UnmatchedPaste
    lines: list[_Line]
    pairs: frozenset[tuple[str, str]]
    factors: dict[tuple[str, str], float]  # 1 for a pair on an error line, less for one in the chat around it
    weights: dict[tuple[str, str], float] = field(default_factory=dict)  # rarity x factor
    weight: float = 0.0
    keys: list[tuple[str, str]] = field(default_factory=list)  # the rarest pairs, to find candidates


@dataclass(slots=True)
class _Cluster:
    members: list[int] = field(default_factory=list)


# -- step 1: message lines -------------------------------------------------------------------------


def message_lines(paste: str) -> list[str]:
    """The lines of a paste that can carry its message: wrapped lines joined, environment lines dropped."""
    raw_lines = paste[:MAX_PASTE_CHARS].splitlines()[:MAX_LINES * 2]
    joined: list[str] = []
    after_blank = True
    for raw in raw_lines:
        text = clean(raw[:MAX_LINE_CHARS])
        if not text:
            after_blank = True
            continue
        indented = raw[:1].isspace()
        if not after_blank and indented and text[:1].isalpha() and not SENTENCE_END.search(joined[-1]) \
                and len(joined[-1]) < MAX_LINE_CHARS:
            joined[-1] = f"{joined[-1]} {text}"
        else:
            joined.append(text)
        after_blank = False
    kept = []
    for text in joined[:MAX_LINES]:
        field_line = FIELD_LINE.match(text)
        if field_line and not ERROR_CUES.search(text) and len(text) < 200:
            continue
        if not any(ch.isalpha() for ch in text):
            continue
        kept.append(text)
    return kept


@functools.lru_cache(maxsize=65_536)
def _word_of(token: str) -> str:
    normalised = normalize_cleaned(token)
    if not normalised:
        return ""
    if HTTP_CODE.match(normalised):
        return normalised
    if any(VOLATILE.search(part) for part in normalised.split()):
        return WILDCARD
    return normalised.replace(" ", "")


def _line(text: str) -> _Line:
    words = tuple(w for w in (_word_of(t) for t in JSON_KEY.sub(" ", text).split()) if w)
    errorness = len({m.group(0).casefold() for m in ERROR_CUES.finditer(text)})
    if ERROR_START.match(text):
        errorness += 2
    if CHATTY.search(text):
        errorness = max(0, errorness - 2)
    return _Line(text, words, errorness > 0, errorness)


def _line_pairs(line: _Line) -> set[tuple[str, str]]:
    """Adjacent word pairs (wildcards skipped), and each word alone as (word, "")."""
    words = [w for w in line.words if w != WILDCARD]
    pairs = {(w, "") for w in words if w not in STOP and len(w) > 2}
    for first, second in itertools.pairwise(words):
        if not (first in STOP and second in STOP):
            pairs.add((first, second))
    return pairs


def _pairs(lines: Iterable[_Line]) -> frozenset[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for line in lines:
        pairs |= _line_pairs(line)
    return frozenset(pairs)


def _prepare(paste: UnmatchedPaste) -> _Paste:
    lines = [_line(text) for text in message_lines(paste.paste)]
    any_cue = any(line.cue for line in lines)
    factors: dict[tuple[str, str], float] = {}
    for line in lines:
        # Words around the error ("anyone seen this?") are said about many errors: they count less.
        factor = 1.0 if line.cue or not any_cue else CHAT_FACTOR
        for pair in _line_pairs(line):
            factors[pair] = max(factor, factors.get(pair, 0.0))
    return _Paste(paste, lines, frozenset(factors), factors)


# -- step 2: clustering ----------------------------------------------------------------------------


def _idf(pastes: Sequence[_Paste], background: Sequence[frozenset[tuple[str, str]]]) -> dict[tuple[str, str], float]:
    """Rarity among the pastes, times how specific the pair is to one kind of error.

    A pair that several background documents (catalog entries: different errors) share is part of
    an envelope every error of that kind prints ("api error 400 … invalid request error"), so it
    weighs a fraction of a pair no known error has.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for paste in pastes:
        counts.update(paste.pairs)
    generic: Counter[tuple[str, str]] = Counter()
    for pairs in background:
        generic.update(pairs)
    total = len(pastes)
    return {pair: (math.log((1 + total) / (1 + count)) + 1.0) / (1 + generic[pair])
            for pair, count in counts.items()}


def _pair_weight(pair: tuple[str, str], idf: dict[tuple[str, str], float]) -> float:
    weight = idf.get(pair, 1.0)
    if not pair[1]:
        return weight * WORD_FACTOR
    return weight * (STOP_FACTOR if pair[0] in STOP or pair[1] in STOP else 1.0)


@functools.lru_cache(maxsize=4)
def _background_pairs(texts: tuple[str, ...]) -> tuple[frozenset[tuple[str, str]], ...]:
    """The word pairs of each background text. Kept for the last few catalogs: working them out
    costs more than mining a week of pastes, and a catalog's texts only change when it reloads."""
    return tuple(_pairs([_line(t) for t in message_lines(text)]) for text in texts)


def mine_gaps(
    pastes: Sequence[UnmatchedPaste], background: Iterable[str] = (), *, samples: int = 3
) -> list[GapCluster]:
    """Group `pastes` (oldest first) by template; the biggest clusters first.

    Only the newest `MAX_PASTES` are mined, so a long window costs a bounded amount of work;
    `members` are positions in `pastes`.

    `background` texts, one per known error (e.g. each catalog entry's signature, variants and
    examples), only lower the weight of word pairs that several errors share; they never form
    clusters themselves.
    """
    mined = pastes[-MAX_PASTES:]
    offset = len(pastes) - len(mined)
    prepared = [_prepare(p) for p in mined]
    background_pairs = _background_pairs(tuple(background)) if prepared else ()
    idf = _idf(prepared, background_pairs)
    for paste in prepared:
        paste.weights = {p: _pair_weight(p, idf) * f for p, f in paste.factors.items()}
        paste.weight = sum(paste.weights.values())
        # The rarest pairs find the candidates: an earlier paste of the same error shares them.
        paste.keys = sorted(paste.weights, key=lambda p: -paste.weights[p])[:CANDIDATE_KEYS]
    clusters: list[_Cluster] = []
    cluster_of: dict[int, int] = {}
    postings: dict[tuple[str, str], list[int]] = {}
    for index, paste in enumerate(prepared):
        best_cluster, best_score = -1, 0.0
        candidates: dict[int, None] = {}
        for pair in paste.keys:
            for other in reversed(postings.get(pair, ())[-PER_KEY_CANDIDATES:]):  # the most recent first
                candidates.setdefault(other, None)
            if len(candidates) >= MAX_CANDIDATES:
                break
        compared: Counter[int] = Counter()
        for other in candidates:
            cluster_index = cluster_of[other]
            if compared[cluster_index] >= MAX_COMPARED_MEMBERS:
                continue
            compared[cluster_index] += 1
            score = _similarity(paste, prepared[other])
            if score > best_score:
                best_cluster, best_score = cluster_index, score
        if best_cluster >= 0 and best_score >= JOIN_SIMILARITY:
            clusters[best_cluster].members.append(index)
            cluster_of[index] = best_cluster
        else:
            cluster_of[index] = len(clusters)
            clusters.append(_Cluster([index]))
        for pair in paste.keys:
            postings.setdefault(pair, []).append(index)
    built = _merge_same_template([_build(cluster, prepared, idf, samples, offset) for cluster in clusters],
                                 prepared, idf, samples, offset)
    return sorted(built, key=lambda c: (-c.count, -c.people, -c.last_seen.timestamp(), c.id))


def _merge_same_template(built: list[GapCluster], prepared: Sequence[_Paste],
                         idf: dict[tuple[str, str], float], samples: int, offset: int) -> list[GapCluster]:
    """Clusters that came out with the same template are one gap (and one id)."""
    by_id: dict[str, list[int]] = {}
    for cluster in built:
        by_id.setdefault(cluster.id, []).extend(m - offset for m in cluster.members)
    if len(by_id) == len(built):
        return built
    return [_build(_Cluster(sorted(members)), prepared, idf, samples, offset) for members in by_id.values()]


def _similarity(a: _Paste, b: _Paste) -> float:
    small, large = (a.weights, b.weights) if len(a.weights) <= len(b.weights) else (b.weights, a.weights)
    shared = sum(min(w, large[p]) for p, w in small.items() if p in large)
    smaller = min(a.weight, b.weight)
    # Short messages must be shared nearly whole; longer ones need a few rare pairs at least.
    if not smaller or shared < min(MIN_SHARED_WEIGHT, SHORT_SHARE * smaller):
        return 0.0
    return shared / smaller


# -- step 3: templates -----------------------------------------------------------------------------


def _key_line(paste: _Paste, idf: dict[tuple[str, str], float], shared: frozenset[tuple[str, str]]) -> _Line | None:
    """The line that carries the message: most of what the members share, else the most error-like."""
    if not paste.lines:
        return None

    def score(line: _Line) -> float:
        weight = sum(_pair_weight(p, idf) for p in _line_pairs(line) & shared)
        return weight * (1 + line.errorness)

    return max(paste.lines, key=score)


def _display_words(text: str) -> list[str]:
    shown = []
    for token in text.split():
        word = _word_of(token)
        if not word:
            continue
        shown.append(WILDCARD if word == WILDCARD else token)
    return shown


def _key(token: str) -> str:
    return WILDCARD if token == WILDCARD else _word_of(token)


def _merge_template(template: list[str], other: list[str]) -> list[str]:
    """Words both have, in order; what differs becomes one wildcard (Drain's merge, with alignment)."""
    matcher = difflib.SequenceMatcher(a=[_key(t) for t in template], b=[_key(t) for t in other], autojunk=False)
    merged: list[str] = []
    for tag, a1, a2, _b1, _b2 in matcher.get_opcodes():
        if tag == "equal":
            merged.extend(template[a1:a2])
        elif not merged or merged[-1] != WILDCARD:
            merged.append(WILDCARD)
    return merged


def _collapse(words: list[str]) -> str:
    out: list[str] = []
    for word in words:
        if word == WILDCARD and out and out[-1] == WILDCARD:
            continue
        out.append(word)
    return " ".join(out)


def _build(cluster: _Cluster, prepared: Sequence[_Paste], idf: dict[tuple[str, str], float],
           samples: int, offset: int = 0) -> GapCluster:
    members = [prepared[i] for i in cluster.members]
    shown = members if len(members) <= TEMPLATE_MEMBERS else [
        *members[: TEMPLATE_MEMBERS // 2], *members[-(TEMPLATE_MEMBERS - TEMPLATE_MEMBERS // 2):]]
    shared = shown[0].pairs
    for member in shown[1:]:
        common = shared & member.pairs
        shared = common if common else shared
    key_lines = [line for line in (_key_line(m, idf, shared) for m in shown) if line is not None]
    if key_lines:
        template_words = _display_words(key_lines[0].text)
        for line in key_lines[1:]:
            template_words = _merge_template(template_words, _display_words(line.text))
        template = _collapse(template_words)
    else:
        template = ""
    if not template.replace(WILDCARD, "").strip():
        template = " ".join(members[0].source.paste.split())[:200]
    if len(template) > MAX_TEMPLATE_CHARS:
        template = template[: MAX_TEMPLATE_CHARS - 1] + "…"
    people = {(m.source.origin.platform, m.source.origin.user_id) for m in members}
    tools: Counter[str] = Counter()
    for member in members:
        tools.update(set(named_tools_beyond_sdk(clean(member.source.paste[:MAX_PASTE_CHARS]))))
    seen = [m.source.seen_at for m in members]
    newest_first = sorted(members, key=lambda m: m.source.seen_at, reverse=True)
    sample_texts: list[str] = []
    sample_keys: set[str] = set()
    for member in newest_first:
        text = member.source.paste.strip()
        key = normalize_cleaned(clean(text[:SAMPLE_CHARS]))
        if key in sample_keys:
            continue
        sample_keys.add(key)
        sample_texts.append(text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1] + "…")
        if len(sample_texts) >= samples:
            break
    literal_lines: list[str] = []
    literal_keys: set[str] = set()
    for line in key_lines:
        key = " ".join(line.words)
        if key not in literal_keys:
            literal_keys.add(key)
            literal_lines.append(line.text)
    digest = hashlib.sha1(" ".join(_key(w) for w in template.split()).encode()).hexdigest()[:7]
    best = Counter(m.source.best_entry_id for m in members if m.source.best_entry_id)
    return GapCluster(
        id=f"g{digest}",
        template=template,
        count=len(members),
        people=len(people),
        tool=tools.most_common(1)[0][0] if tools else None,
        first_seen=min(seen),
        last_seen=max(seen),
        samples=tuple(sample_texts),
        lines=tuple(literal_lines[:8]),
        wrong_error=sum(1 for m in members if m.source.reason == "wrong_error"),
        best_entry_ids=tuple(entry_id for entry_id, _ in best.most_common(3)),
        members=tuple(m + offset for m in cluster.members),
    )


def background_of(entries: Iterable[Entry]) -> list[str]:
    """One text per known error: what the miner weighs common word pairs against."""
    return ["\n".join((e.signature, *e.variants, *e.examples)) for e in entries]


def find_cluster(clusters: Sequence[GapCluster], wanted: str) -> GapCluster | None:
    """A cluster by id (`g1a2b3c4`, a unique prefix is enough) or by its rank in the list (`1`)."""
    wanted = wanted.strip()
    if wanted.isdigit():
        rank = int(wanted)
        return clusters[rank - 1] if 1 <= rank <= len(clusters) else None
    found = [c for c in clusters if c.id == wanted]
    if found:
        return found[0]
    prefixed = [c for c in clusters if c.id.startswith(wanted)] if len(wanted) >= 3 else []
    return prefixed[0] if len(prefixed) == 1 else None
