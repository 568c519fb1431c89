"""The matcher's indexes only prune: every paste gets the answer an exhaustive comparison would give.

The exhaustive matcher is the same matcher with each index replaced by one that returns every entry
(every pattern, literal, keyword document and profile) for every word, so the scoring code is shared
and only the choice of what to score differs.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator

import numpy as np
import pytest

from bot.core import matching
from bot.core.catalog import Catalog
from bot.core.evaluation import read_jsonl
from bot.core.matching import Matcher
from tests.conftest import EVAL_DIR


class _Everything:
    """A stand-in index: any key is present and leads to all positions."""

    def __init__(self, positions: list[int], value: object = None) -> None:
        self.positions = positions
        self.value = value

    def get(self, key: str, default: object = None) -> object:
        return self.positions

    def __getitem__(self, key: str) -> object:
        return self.positions if self.value is None else self.value

    def __contains__(self, key: object) -> bool:
        return True


@pytest.fixture
def exhaustive(matcher: Matcher, monkeypatch: pytest.MonkeyPatch) -> Matcher:
    brute = copy.copy(matcher)
    brute._fragments = None
    brute._unfiltered = list(range(len(matcher._pattern_texts)))
    brute._literal_postings = _Everything(list(range(len(matcher._literals))))  # type: ignore[assignment]
    brute._doc_postings = _EveryRow(matcher._doc_rows.rows)  # type: ignore[assignment]
    monkeypatch.setattr(matching, "PROFILE_NEED_MARGIN", 0.0)  # no word is too light to look at
    return brute


class _EveryRow:
    """A stand-in postings index: any words lead to every row."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def union(self, columns: object) -> np.ndarray:
        return np.arange(self.rows, dtype=np.int64)


def texts(catalog: Catalog) -> Iterator[str]:
    for row in read_jsonl(EVAL_DIR / "pastes-dev.jsonl") + read_jsonl(EVAL_DIR / "negatives-dev.jsonl"):
        yield str(row["text"])
    for entry in catalog.entries:
        yield from entry.examples
        yield entry.signature
        # Pieces and mixtures: half a signature, two entries' wording in one paste, casual words.
        yield entry.signature[: len(entry.signature) // 2]
        yield f"{entry.title} — {entry.meaning[:120]}"
    entries = catalog.entries
    for first, second in itertools.pairwise(entries):
        yield f"{first.signature}\n{second.examples[0] if second.examples else second.title}"


def test_pruned_and_exhaustive_matching_agree(matcher: Matcher, exhaustive: Matcher, catalog: Catalog) -> None:
    compared = 0
    for text in texts(catalog):
        pruned, full = matcher.match(text, top=5), exhaustive.match(text, top=5)
        assert pruned.best == full.best, text[:120]
        assert [(c.entry_id, c.score) for c in pruned.candidates] == \
            [(c.entry_id, c.score) for c in full.candidates], text[:120]
        compared += 1
    assert compared > 300


def test_the_indexes_look_at_few_entries_for_a_typical_paste(matcher: Matcher, catalog: Catalog) -> None:
    """Pruning is not vacuous: a specific error line wakes a small part of each index."""
    entry = catalog.get("claude-code-529-overloaded")
    assert entry is not None
    words = set(matching.tokens(matching.normalize_cleaned(matching.clean(entry.signature))))
    literals = {p for w in words for p in matcher._literal_postings.get(w, ())}
    docs = matcher._doc_postings.union(np.array(sorted(matcher._word_numbers[w] for w in words)))
    assert 0 < len(literals) < len(matcher._literals) / 4
    assert 0 < len(docs) < matcher._doc_rows.rows / 4
