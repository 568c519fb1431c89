"""Rows of weighted words in flat arrays, so that one paste is compared with thousands of rows at once.

A row is a keyword document or an entry's vocabulary; a column is a word, by its number. Scoring a
paste against its candidate rows is then a handful of array operations whose cost follows the number
of words those rows hold, instead of a Python loop per row and word; and the arrays are a few large
objects, which the catalog cache writes and reads back much faster than many small dictionaries.
"""

from __future__ import annotations

import abc
import itertools
import zlib
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
_Cell = TypeVar("_Cell", bound=np.generic)


def _spans(starts: Ints, rows: Ints) -> tuple[Ints | list[slice], Ints]:
    """Where the cells of `rows` (in that order) sit in the flat array, and the starts they get together.

    Rows taken in runs of consecutive numbers (a table with a few rows replaced) come back as a few
    slices, copied whole; rows in any other order as the position of every cell.
    """
    begin = starts[rows]
    lengths = starts[rows + 1] - begin
    joined = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=joined[1:])
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    if len(breaks) < len(rows) // 64:
        firsts = np.concatenate([[0], breaks]).astype(np.int64)
        lasts = np.concatenate([breaks, [len(rows)]]).astype(np.int64) - 1
        return [slice(int(a), int(b)) for a, b in zip(starts[rows[firsts]].tolist(),
                                                       starts[rows[lasts] + 1].tolist(), strict=True)], joined
    # Cell k of the result sits at begin[its row] + (k - where its row starts in the result).
    positions = np.arange(int(joined[-1]), dtype=np.int64) + np.repeat(begin - joined[:-1], lengths)
    return positions, joined


_DIGIT_BITS = 16


def stable_order(keys: Ints, bound: int) -> Ints:
    """`np.argsort(keys, kind="stable")` for keys in [0, bound), by 16-bit digits, last digit first.

    NumPy sorts 16-bit integers stably by radix but wider ones by merging: for a million keys in no
    particular order (word numbers, entry by entry) two radix passes take a fifth of the time. A
    stable order is unique, so the result is the same permutation whichever way it is found.
    """
    if bound <= 1 << _DIGIT_BITS or len(keys) < 1 << 12:
        order: Ints = np.argsort(keys, kind="stable")
        return order
    keys = np.asarray(keys, dtype=np.int64)
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    shift = _DIGIT_BITS
    while bound - 1 >> shift:
        digit = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += _DIGIT_BITS
    return order.astype(np.int64)


def _picked(values: npt.NDArray[_Cell], where: Ints | list[slice]) -> npt.NDArray[_Cell]:
    """`values` at the positions or slices `_spans` gave."""
    if isinstance(where, list):
        return np.concatenate([values[span] for span in where]) if where else values[:0]
    return values[where]


def _joined_starts(parts: Sequence[Ints]) -> Ints:
    """The starts of several row lists laid one after the other."""
    pieces = [parts[0][:1]]
    offset = 0
    for starts in parts:
        pieces.append(starts[1:] + offset)
        offset += int(starts[-1])
    return np.concatenate(pieces).astype(np.int64)


@dataclass(frozen=True, slots=True)
class SparseRows:
    """Compressed sparse rows: row r holds columns[starts[r]:starts[r + 1]] with their values."""

    starts: Ints
    columns: Ints
    values: Floats

    @classmethod
    def build(cls, rows: Sequence[Sequence[tuple[int, float]]]) -> SparseRows:
        lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        starts = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        total = int(starts[-1])
        columns = np.fromiter((column for row in rows for column, _ in row), dtype=np.int64, count=total)
        values = np.fromiter((value for row in rows for _, value in row), dtype=np.float64, count=total)
        return cls(starts, columns, values)

    @classmethod
    def transposed(cls, pairs: Sequence[tuple[int, int, float]], rows: int) -> SparseRows:
        """Rows from (row, column, value) triples in any order; within a row, in the order given."""
        if not pairs:
            return cls(np.zeros(rows + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        keys = np.fromiter((row for row, _, _ in pairs), dtype=np.int64, count=len(pairs))
        order = np.argsort(keys, kind="stable")
        columns = np.fromiter((column for _, column, _ in pairs), dtype=np.int64, count=len(pairs))[order]
        values = np.fromiter((value for _, _, value in pairs), dtype=np.float64, count=len(pairs))[order]
        starts = np.zeros(rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys, minlength=rows), out=starts[1:])
        return cls(starts, columns, values)

    @classmethod
    def grouped(cls, keys: Ints, columns: Ints, values: Floats, rows: int) -> SparseRows:
        """Cells filed under row `keys[k]`, each row's in the order given (`transposed`, from arrays)."""
        order = stable_order(keys, rows)
        starts = np.zeros(rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys, minlength=rows), out=starts[1:])
        return cls(starts, columns[order].astype(np.int64), values[order].astype(np.float64))

    @property
    def rows(self) -> int:
        return len(self.starts) - 1

    def owners(self) -> Ints:
        """The row of every cell."""
        return np.repeat(np.arange(self.rows, dtype=np.int64), np.diff(self.starts))

    def row(self, number: int) -> tuple[Ints, Floats]:
        start, end = self.starts[number], self.starts[number + 1]
        return self.columns[start:end], self.values[start:end]

    def gather(self, rows: Ints) -> tuple[Ints, Ints, Floats]:
        """Every cell of `rows`, flat: (position of its row in `rows`, column, value)."""
        begin = self.starts[rows]
        lengths = self.starts[rows + 1] - begin
        total = int(lengths.sum())
        owner = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
        # Cell k of the gathered rows sits at begin[owner[k]] + (k - where its row starts in the output).
        offsets = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        positions = np.arange(total, dtype=np.int64) + np.repeat(begin - offsets, lengths)
        return owner, self.columns[positions], self.values[positions]

    def take(self, rows: Ints) -> SparseRows:
        """`rows`, in that order, as a table of their own (a row may be taken twice or left out)."""
        where, starts = _spans(self.starts, rows)
        return SparseRows(starts, _picked(self.columns, where), _picked(self.values, where))

    @classmethod
    def concat(cls, parts: Sequence[SparseRows]) -> SparseRows:
        """The rows of `parts`, one table after the other."""
        return cls(_joined_starts([part.starts for part in parts]),
                   np.concatenate([part.columns for part in parts]).astype(np.int64),
                   np.concatenate([part.values for part in parts]).astype(np.float64))

    def union(self, rows: Ints) -> Ints:
        """The distinct columns of `rows`, in increasing order (a postings list's union)."""
        return np.unique(self.gather(rows)[1])


@dataclass(frozen=True, slots=True)
class PasteVector:
    """A paste's known words as sorted column numbers with their weights, for lookups in gathered cells."""

    columns: Ints
    weights: Floats

    @classmethod
    def of(cls, weighted: Sequence[tuple[int, float]]) -> PasteVector:
        ordered = sorted(weighted)
        return cls(np.fromiter((c for c, _ in ordered), dtype=np.int64, count=len(ordered)),
                   np.fromiter((w for _, w in ordered), dtype=np.float64, count=len(ordered)))

    def lookup(self, columns: Ints) -> tuple[Bools, Floats]:
        """For each column: whether the paste holds it, and its weight there (0 where not)."""
        if not len(self.columns):
            return np.zeros(len(columns), dtype=np.bool_), np.zeros(len(columns))
        at = np.minimum(np.searchsorted(self.columns, columns), len(self.columns) - 1)
        held = self.columns[at] == columns
        return held, np.where(held, self.weights[at], 0.0)


@dataclass(frozen=True, slots=True)
class Texts:
    """Many short texts kept as one array of their UTF-8 bytes, by number: one object to save and load
    instead of one each. Bytes rather than one long string because an array loads mapped from the file
    as it is, while a string would be decoded whole on every load; a text is decoded when asked for."""

    encoded: npt.NDArray[np.uint8]
    starts: Ints  # text i is encoded[starts[i]:starts[i + 1]]

    @classmethod
    def of(cls, texts: Sequence[str]) -> Texts:
        # Lone surrogates (from pasted JSON escapes) survive the round trip.
        encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
        starts = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=starts[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), starts)

    def take(self, numbers: Ints) -> Texts:
        """Texts `numbers`, in that order, without decoding any."""
        where, starts = _spans(self.starts, numbers)
        return Texts(_picked(self.encoded, where), starts)

    @classmethod
    def concat(cls, parts: Sequence[Texts]) -> Texts:
        return cls(np.concatenate([part.encoded for part in parts]).astype(np.uint8),
                   _joined_starts([part.starts for part in parts]))

    def __getitem__(self, number: int) -> str:
        starts = self.starts.data  # plain ints, faster than numpy scalars one at a time
        return str(self.encoded.data[starts[number] : starts[number + 1]], "utf-8", "surrogatepass")

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __iter__(self) -> Iterator[str]:
        data = self.encoded.data
        return (str(data[start:end], "utf-8", "surrogatepass") for start, end in itertools.pairwise(self.starts.tolist()))


def text_hash(text: str) -> int:
    # Stable across processes (str's own hash is not); lone surrogates from pasted JSON still encode.
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


class LookupByGet(Mapping[str, int]):
    """A text -> number mapping whose `get` is the one lookup; `[]` and `in` are answered by it."""

    __slots__ = ()

    @abc.abstractmethod
    def get(self, text: str, default: int | None = None) -> int | None:  # type: ignore[override]
        """The text's number, or `default`."""

    def __getitem__(self, text: str) -> int:
        found = self.get(text)
        if found is None:
            raise KeyError(text)
        return found

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.get(text) is not None


@dataclass(frozen=True, slots=True)
class TextIndex(LookupByGet):
    """Texts by number and the number of a text, as three flat arrays instead of a dictionary.

    A dictionary of a large vocabulary is rebuilt key by key when loaded; this loads as it was saved
    (its arrays mapped from the file), and a lookup reads only the few cells it needs: a binary search
    among the sorted hashes, then the texts with that hash compared with the one asked for.
    """

    texts: Texts
    hashes: npt.NDArray[np.uint32]  # every text's hash, sorted
    order: Ints  # the number of the text whose hash sits at the same position

    @classmethod
    def of(cls, texts: Sequence[str]) -> TextIndex:
        hashes = np.fromiter(map(text_hash, texts), dtype=np.uint32, count=len(texts))
        order = np.argsort(hashes, kind="stable").astype(np.int64)
        return cls(Texts.of(texts), hashes[order], order)

    def get(self, text: str, default: int | None = None) -> int | None:  # type: ignore[override]
        wanted = text_hash(text)
        # Memoryviews index as plain ints, much faster than numpy scalars one at a time.
        hashes, order = self.hashes.data, self.order.data
        position = bisect_left(hashes, wanted)
        while position < len(hashes) and hashes[position] == wanted:
            if self.texts[order[position]] == text:
                return int(order[position])
            position += 1
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)
