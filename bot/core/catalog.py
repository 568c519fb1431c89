"""The catalog: one YAML file per error signature, loaded and validated in one pass.

Every problem in a folder is collected before anything is raised, so an author fixing a broken
catalog sees the whole list at once instead of one error per run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import yaml

from bot.core.catalog_problem import CatalogProblem
from bot.core.catalog_safety import MAX_FILE_BYTES, FileRefused, load_yaml, pattern_problem, read_entry_file
from bot.core.errors import CatalogError
from bot.core.workers import map_in_workers

log = logging.getLogger(__name__)

CATEGORIES = frozenset(
    {
        "quota-rate",
        "billing-tracking",
        "model-provider",
        "auth",
        "network",
        "local-runtime",
        "config",
        "ui-crash",
        "safety-filter",
        "tool-use",
    }
)
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s/]*\.[^\s/]+(?:/\S*)?$")
UNANCHORED_SCAN = re.compile(r"^(?:\(\?[=!]\.\*|\.\*|\(\?[=!]\(\?:[^)]*\)\.\*)")

# field name -> (kind, required). Kinds: "text" a non-empty string, "texts" a list of non-empty strings,
# "faq" a list of {q, a}, "evidence" a mapping {note, urls}, "date" an ISO date.
FIELDS: dict[str, tuple[str, bool]] = {
    "id": ("text", True),
    "tool": ("text", True),
    "category": ("text", True),
    "title": ("text", True),
    "signature": ("text", True),
    "variants": ("texts", False),
    "patterns": ("texts", False),
    "examples": ("texts", False),
    "quick_fix": ("text", True),
    "meaning": ("text", True),
    "why": ("text", True),
    "causes": ("texts", True),
    "fixes": ("texts", True),
    "checks": ("texts", True),
    "steps": ("texts", True),
    "prevention": ("texts", True),
    "faq": ("faq", True),
    "evidence": ("evidence", True),
    "related": ("texts", False),
    "updated": ("date", True),
    # Freshness: the tool versions the entry applies to ("2.0.x", ">= 1.0.24"), when someone last
    # checked it still holds, and whether it no longer applies to current versions at all.
    "applies_to": ("texts", False),
    "reviewed": ("date", False),
    "retired": ("bool", False),
}
# Fields written for people: a draft leaves TODO in them, and the check says which are still to write.
PROSE_FIELDS = ("tool", "title", "quick_fix", "meaning", "why", "causes", "fixes", "checks", "steps",
                "prevention", "faq", "evidence")
TODO = re.compile(r"\bTODO\b")


@dataclass(frozen=True, slots=True)
class FaqItem:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Evidence:
    note: str
    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """One catalog entry: everything a support page for one error signature holds."""

    id: str
    tool: str
    category: str
    title: str
    signature: str
    quick_fix: str
    meaning: str
    why: str
    causes: tuple[str, ...]
    fixes: tuple[str, ...]
    checks: tuple[str, ...]
    steps: tuple[str, ...]
    prevention: tuple[str, ...]
    faq: tuple[FaqItem, ...]
    evidence: Evidence
    updated: dt.date
    variants: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    source_file: str = ""
    applies_to: tuple[str, ...] = ()
    reviewed: dt.date | None = None
    retired: bool = False

    @property
    def last_reviewed(self) -> dt.date:
        """When someone last checked the entry: `reviewed`, else when it was written (`updated`)."""
        return self.reviewed or self.updated


class Catalog:
    """A validated, immutable set of entries plus a content hash that names this version.

    The entries are held (`of`), or read one at a time when first asked for (`lazy`): a catalog of
    thousands of entries, opened ready from the cache, then costs only its ids until an answer shows a
    page, and `entries` reads the rest only for the rare uses that walk all of them.
    """

    __slots__ = ("_all", "_ids", "_index", "_known", "_read", "folder", "version")

    def __init__(self, ids: Sequence[str], version: str, folder: str,
                 known: dict[int, Entry], read: Callable[[int], Entry] | None) -> None:
        self._ids = tuple(ids)
        self.version = version
        self.folder = folder
        # Made on the first lookup by id: a start that answers by number (the matcher's) never pays for it.
        self._index: dict[str, int] | None = None
        self._known = known
        self._read = read
        self._all: tuple[Entry, ...] | None = None

    @classmethod
    def of(cls, entries: Iterable[Entry], version: str, folder: str = "") -> Catalog:
        ordered = sorted(entries, key=lambda e: e.id)
        return cls([e.id for e in ordered], version, folder, dict(enumerate(ordered)), None)

    @classmethod
    def lazy(cls, ids: Sequence[str], version: str, folder: str, read: Callable[[int], Entry]) -> Catalog:
        """A catalog of `ids` (sorted) whose entry number i is `read(i)`, read on first use and kept."""
        return cls(ids, version, folder, {}, read)

    def at(self, number: int) -> Entry:
        """The entry at `number` in id order (the matcher's numbering)."""
        found = self._known.get(number)
        if found is None:
            if self._read is None:
                raise IndexError(number)
            found = self._known[number] = self._read(number)
        return found

    @property
    def entries(self) -> tuple[Entry, ...]:
        if self._all is None:
            self._all = tuple(self.at(number) for number in range(len(self._ids)))
        return self._all

    def get(self, entry_id: str) -> Entry | None:
        if self._index is None:
            self._index = dict(zip(self._ids, range(len(self._ids)), strict=True))
        number = self._index.get(entry_id)
        return None if number is None else self.at(number)

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"Catalog({len(self)} entries, version {self.version!r}, folder {self.folder!r})"


class CatalogEntries(Sequence[Entry]):
    """A catalog's entries in id order, each read only when asked for (a reload's result counts them
    without reading every page)."""

    __slots__ = ("_catalog",)

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def __len__(self) -> int:
        return len(self._catalog)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | Sequence[Entry]:
        if isinstance(index, slice):
            return tuple(self._catalog.at(n) for n in range(len(self._catalog))[index])
        if not -len(self._catalog) <= index < len(self._catalog):
            raise IndexError(index)
        return self._catalog.at(index % len(self._catalog))


@dataclass(frozen=True, slots=True)
class CheckResult:
    entries: Sequence[Entry]
    problems: tuple[CatalogProblem, ...]
    version: str

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": len(self.entries),
            "ids": sorted(e.id for e in self.entries),
            "errors": [p.as_dict() for p in self.problems],
        }


def default_catalog_dir() -> Path:
    """The shipped catalog: inside the installed package, else beside it in a source checkout."""
    package_dir = Path(__file__).resolve().parent.parent
    installed = package_dir / "knowledge"
    if installed.is_dir():
        return installed
    return package_dir.parent / "knowledge"


# Entries already parsed and validated, by (file name, SHA-256 of the file's bytes): see catalog_cache.
EntryMemo = MutableMapping[tuple[str, str], Entry]


def check_catalog(
    folder: Path | str, *, check_related: bool = True, memo: EntryMemo | None = None,
    digests: dict[Path, str] | None = None,
) -> CheckResult:
    """Read and validate every `*.yaml` file in `folder`; never raises for content problems.

    `check_related=False` leaves the related-id check to the caller (overlay folders check it over
    all folders together, see `bot.core.catalog_folders`). With `memo`, a file whose exact content
    was validated before is not parsed again (and files that parse cleanly are added to it).
    `digests`, when given, receives the SHA-256 of every file read, by path.

    The version digests each file's name and the SHA-256 of its bytes (see `catalog_version`), so
    that it can be derived again from the files' digests alone, without reading the files.
    """
    root = Path(folder)
    problems: list[CatalogProblem] = []
    if not root.is_dir():
        problems.append(CatalogProblem(str(root), "-", "catalog folder does not exist or is not a folder"))
        return CheckResult((), tuple(problems), "")
    # Names listed, not globbed: pathlib's per-file objects cost more than reading a small file.
    files = [root / name for name in sorted(os.listdir(root)) if name.endswith((".yaml", ".yml"))]
    if not files:
        problems.append(CatalogProblem(str(root), "-", "no *.yaml entry files found"))
    named_digests: list[tuple[str, str]] = []
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    # Read every file first, so that those whose content is new can be parsed together (see _parse_all);
    # each file's problems are still reported in file order.
    read: list[tuple[Path, bytes | None, list[CatalogProblem], tuple[str, str] | None]] = []
    for path in files:
        file_problems: list[CatalogProblem] = []
        raw_bytes = _read_bytes(path, file_problems)
        key = None
        if raw_bytes is not None:
            key = (path.name, hashlib.sha256(raw_bytes).hexdigest())
            named_digests.append(key)
            if digests is not None:
                digests[path] = key[1]
        read.append((path, raw_bytes, file_problems, key))
    new = [(path, raw) for path, raw, _, key in read
           if raw is not None and (memo is None or key is None or key not in memo)]
    parsed = dict(zip([path for path, _ in new], _parse_all(new), strict=True))
    for path, raw_bytes, file_problems, key in read:
        problems.extend(file_problems)
        if raw_bytes is None:
            continue
        if path in parsed:
            entry, parse_problems = parsed[path]
            problems.extend(parse_problems)
            if entry is not None and memo is not None and key is not None:
                memo[key] = entry  # only clean parses are remembered
        else:
            assert memo is not None and key is not None
            entry = memo[key]
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(
                CatalogProblem(path.name, "id", f"duplicate id {entry.id!r} (also in {seen[entry.id]})")
            )
            continue
        seen[entry.id] = path.name
        entries.append(entry)
    if check_related:
        problems.extend(related_problems(entries, set(seen)))
    return CheckResult(tuple(entries), tuple(problems), catalog_version(named_digests))


def catalog_version(named_digests: Iterable[tuple[str, str]]) -> str:
    """A folder's version from its files' names and SHA-256 digests (hex), in file-name order."""
    digest = hashlib.sha256()
    for name, file_digest in named_digests:
        digest.update(f"{name}\0{file_digest}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:12]


def related_problems(entries: Iterable[Entry], ids: set[str]) -> list[CatalogProblem]:
    """Related ids that name no entry in `ids`, or the entry itself."""
    problems = []
    for entry in entries:
        for related_id in entry.related:
            if related_id not in ids:
                problems.append(
                    CatalogProblem(entry.source_file, "related", f"related id {related_id!r} does not exist")
                )
            elif related_id == entry.id:
                problems.append(CatalogProblem(entry.source_file, "related", "an entry cannot relate to itself"))
    return problems


def load_catalog(folder: Path | str) -> Catalog:
    """Load a catalog for serving; raise `CatalogError` listing every problem if any exists."""
    result = check_catalog(folder)
    if not result.ok:
        raise CatalogError(list(result.problems))
    log.info("catalog loaded: %d entries, version %s, from %s", len(result.entries), result.version, folder)
    return Catalog.of(result.entries, result.version, str(folder))


def _read_bytes(path: Path, problems: list[CatalogProblem]) -> bytes | None:
    """Only regular files inside the folder, never more than MAX_FILE_BYTES (see catalog_safety)."""
    try:
        return read_entry_file(path, path.parent, MAX_FILE_BYTES)
    except FileRefused as exc:
        problems.append(CatalogProblem(path.name, "-", str(exc)))
        return None


Parsed = tuple[Entry | None, list[CatalogProblem]]


def _parse_one(item: tuple[Path, bytes]) -> Parsed:
    problems: list[CatalogProblem] = []
    return _parse_file(item[0], item[1], problems), problems


def _parse_all(items: list[tuple[Path, bytes]]) -> list[Parsed]:
    """`_parse_file` of each (path, bytes), in order. Parsing and validating a file takes a millisecond
    or more (most of it the timed trial of its regular expressions), so a first start of a large catalog
    spreads it over worker processes."""
    return map_in_workers(_parse_one, items)


def _parse_file(path: Path, raw_bytes: bytes, problems: list[CatalogProblem]) -> Entry | None:
    name = path.name
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(CatalogProblem(name, "-", f"not UTF-8 text (byte {exc.start})"))
        return None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        reason = getattr(exc, "problem", None) or "invalid YAML"
        problems.append(CatalogProblem(name, "-", f"not valid YAML{at}: {reason}"))
        return None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 100,000 digits
        problems.append(CatalogProblem(name, "-", f"not valid YAML: {str(exc)[:120]}"))
        return None
    if not isinstance(data, dict):
        problems.append(CatalogProblem(name, "-", "the file must hold one mapping of field: value"))
        return None
    before = len(problems)
    for key in data:
        if key not in FIELDS:
            problems.append(CatalogProblem(name, str(key), f"unknown field (known: {', '.join(FIELDS)})"))
    values: dict[str, Any] = {}
    for key, (kind, required) in FIELDS.items():
        if key not in data or data[key] is None:
            if required:
                problems.append(CatalogProblem(name, key, "missing required field"))
            continue
        checked = _check_value(name, key, kind, data[key], problems)
        if checked is not None:
            values[key] = checked
    _check_semantics(name, path.stem, values, problems)
    if len(problems) > before:
        return None
    faq = tuple(FaqItem(q, a) for q, a in values["faq"])
    note, urls = values["evidence"]
    return Entry(
        id=values["id"],
        tool=values["tool"],
        category=values["category"],
        title=values["title"],
        signature=values["signature"],
        quick_fix=values["quick_fix"],
        meaning=values["meaning"],
        why=values["why"],
        causes=values["causes"],
        fixes=values["fixes"],
        checks=values["checks"],
        steps=values["steps"],
        prevention=values["prevention"],
        faq=faq,
        evidence=Evidence(note, urls),
        updated=values["updated"],
        variants=values.get("variants", ()),
        patterns=values.get("patterns", ()),
        examples=values.get("examples", ()),
        related=values.get("related", ()),
        source_file=name,
        applies_to=values.get("applies_to", ()),
        reviewed=values.get("reviewed"),
        retired=values.get("retired", False),
    )


def _check_value(name: str, key: str, kind: str, value: Any, problems: list[CatalogProblem]) -> Any:
    def bad(problem: str) -> None:
        problems.append(CatalogProblem(name, key, problem))

    if kind == "text":
        if not isinstance(value, str):
            bad(f"expected text, got {type(value).__name__}")
            return None
        if not value.strip():
            bad("empty text")
            return None
        return value.strip()
    if kind == "texts":
        if not isinstance(value, list):
            bad(f"expected a list of texts, got {type(value).__name__}")
            return None
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                bad(f"item {index + 1}: expected text, got {type(item).__name__}")
            elif not item.strip():
                bad(f"item {index + 1}: empty text")
            else:
                items.append(item.strip())
        return tuple(items)
    if kind == "faq":
        if not isinstance(value, list) or not value:
            bad("expected a non-empty list of {q: question, a: answer}")
            return None
        pairs: list[tuple[str, str]] = []
        for index, item in enumerate(value):
            if not isinstance(item, dict) or set(item) != {"q", "a"}:
                bad(f"item {index + 1}: expected exactly the keys q and a")
                continue
            q, a = item["q"], item["a"]
            if not isinstance(q, str) or not q.strip() or not isinstance(a, str) or not a.strip():
                bad(f"item {index + 1}: q and a must be non-empty text")
                continue
            pairs.append((q.strip(), a.strip()))
        return tuple(pairs)
    if kind == "evidence":
        if not isinstance(value, dict):
            bad("expected a mapping with note and urls")
            return None
        unknown = set(value) - {"note", "urls"}
        if unknown:
            bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; expected note and urls")
        note = value.get("note")
        urls = value.get("urls")
        well_formed = True
        if not isinstance(note, str) or not note.strip():
            bad("note must be non-empty text")
            well_formed = False
        if not isinstance(urls, list) or not urls:
            bad("urls must be a non-empty list")
            return None
        for index, url in enumerate(urls):
            if not isinstance(url, str) or not URL_PATTERN.match(url.strip()):
                bad(f"url {index + 1} is not a well-formed http(s) URL: {str(url)[:80]!r}")
                well_formed = False
        if not well_formed or not isinstance(note, str):
            return None
        return note.strip(), tuple(u.strip() for u in urls)
    if kind == "bool":
        if not isinstance(value, bool):
            bad(f"expected true or false, got {str(value)[:40]!r}")
            return None
        return value
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        bad(f"expected a date as YYYY-MM-DD, got {str(value)[:40]!r}")
        return None
    raise AssertionError(f"unknown field kind {kind}")


def _check_semantics(name: str, stem: str, values: dict[str, Any], problems: list[CatalogProblem]) -> None:
    entry_id = values.get("id")
    if entry_id is not None:
        if not ID_PATTERN.match(entry_id):
            problems.append(CatalogProblem(name, "id", "must be lower-case words joined by hyphens"))
        elif entry_id != stem:
            problems.append(CatalogProblem(name, "id", f"id {entry_id!r} must equal the file name {stem!r}"))
    for key in PROSE_FIELDS:
        if key in values and TODO.search(str(values[key])):
            problems.append(CatalogProblem(name, key, "still says TODO: write it in your own words"))
    category = values.get("category")
    if category is not None and category not in CATEGORIES:
        problems.append(
            CatalogProblem(name, "category", f"unknown category {category!r} (known: {', '.join(sorted(CATEGORIES))})")
        )
    for index, pattern in enumerate(values.get("patterns", ())):
        try:
            # The flags the trial below compiles with, so that re's own cache compiles it once.
            compiled = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        except re.error as exc:
            problems.append(CatalogProblem(name, "patterns", f"item {index + 1}: invalid regular expression: {exc}"))
            continue
        if compiled.match(""):
            problems.append(CatalogProblem(name, "patterns", f"item {index + 1}: matches empty text"))
        slow = pattern_problem(pattern, re.IGNORECASE | re.DOTALL)
        if slow:
            problems.append(CatalogProblem(name, "patterns", f"item {index + 1}: {slow}"))
        if UNANCHORED_SCAN.match(pattern):
            # Tried at every position of a long paste, a leading ".*" turns a search quadratic.
            problems.append(CatalogProblem(
                name, "patterns", f"item {index + 1}: starts with an unanchored '.*' or lookahead; begin it with ^"))
