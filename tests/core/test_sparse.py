"""Texts and their index: what a ready catalog looks words, clauses and ids up in."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from bot.core import catalog_cache, sparse
from bot.core.matching import _Numbers
from bot.core.sparse import SparseRows, TextIndex, Texts

WORDS = ["overloaded_error", "", "日本語", "rate-limit", "\ud83dlone", "café", "a"]


def test_texts_give_back_every_text_by_number_and_in_order() -> None:
    texts = Texts.of(WORDS)
    assert len(texts) == len(WORDS)
    assert [texts[i] for i in range(len(WORDS))] == WORDS
    assert list(texts) == WORDS
    assert list(Texts.of([])) == []


def test_an_index_finds_every_text_and_nothing_else() -> None:
    index = TextIndex.of(WORDS)
    assert [index[word] for word in WORDS] == list(range(len(WORDS)))
    assert index.get("overloaded") is None and "overloaded" not in index
    assert index.get("cafe", -1) == -1
    with pytest.raises(KeyError):
        index["missing"]
    assert list(index) == WORDS and len(index) == len(WORDS)


def test_texts_sharing_a_hash_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparse, "text_hash", lambda text: 7)  # every text collides
    index = TextIndex.of(WORDS)
    assert [index.get(word) for word in WORDS] == list(range(len(WORDS)))
    assert index.get("unknown") is None


def test_an_index_saved_and_mapped_back_from_a_file_answers_the_same(tmp_path: Path) -> None:
    path = tmp_path / "index.pickle"
    out = io.BytesIO()
    catalog_cache._dump({"index": TextIndex.of(WORDS)}, out)
    path.write_bytes(out.getvalue())
    loaded = catalog_cache._load(path)["index"]
    assert not loaded.texts.encoded.flags.writeable  # a view of the file, not a copy
    assert [loaded.get(word) for word in WORDS] == list(range(len(WORDS)))
    assert pickle.loads(pickle.dumps(loaded)).get("café") == WORDS.index("café")


def test_only_found_texts_are_remembered() -> None:
    numbers = _Numbers(TextIndex.of(WORDS))
    for _ in range(2):
        assert [numbers.get(word) for word in [*WORDS, "x", "y" * 1000]] == [*range(len(WORDS)), None, None]
        assert set(numbers._seen) == set(WORDS)
    assert "a" in numbers and "zz" not in numbers and numbers.get("zz", -1) == -1
    with pytest.raises(KeyError):
        numbers["zz"]


@pytest.mark.parametrize("order", ["runs", "shuffled", "none"])
def test_rows_and_texts_taken_in_runs_or_any_order_are_those_rows(order: str) -> None:
    rows = [[(i, float(i)), (i + 1, 0.5)] if i % 3 else [] for i in range(300)]
    texts = [f"text {i} " * (i % 4) for i in range(300)]
    table = SparseRows.concat([SparseRows.build(rows[:120]), SparseRows.build(rows[120:])])
    joined = Texts.concat([Texts.of(texts[:120]), Texts.of(texts[120:])])
    picks = {"runs": np.r_[0:100, 200:300, 101:200],  # row 100 left out
             "shuffled": np.random.default_rng(14).permutation(300),
             "none": np.zeros(0, dtype=np.int64)}[order]
    taken, taken_texts = table.take(picks), joined.take(picks)
    assert [list(zip(*(part.tolist() for part in taken.row(k)), strict=True)) for k in range(len(picks))] \
        == [rows[i] for i in picks]
    assert list(taken_texts) == [texts[i] for i in picks]


@pytest.mark.parametrize("bound", [50, 70_000, 5_000_000_000])
def test_the_stable_order_by_digits_is_numpys_stable_argsort(bound: int) -> None:
    rng = np.random.default_rng(bound)
    for size in (0, 1, 5_000, 200_000):
        keys = rng.integers(0, bound, size, dtype=np.int64)
        keys[: size // 3] = keys[0] if size else 0  # many ties: their order must be kept
        assert np.array_equal(sparse.stable_order(keys, bound), np.argsort(keys, kind="stable"))
