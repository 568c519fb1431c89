"""Known tool output formats, one data record each, with the sample texts that show them.

A record lives in ``formats/<tool>.yaml``: the tool's product names (``names``) and, per format, the
cues that identify it (``cues`` on the cleaned text, ``raw_cues`` on the paste as it came, e.g. links),
lines whose bare figures are shares *left* (``left_rows``), and ``samples``: texts with the readings
they must give. Teaching the parser a new notice is adding a record with its samples; a test parses
every sample of every record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

__all__ = ["FORMATS", "Cue", "Sample", "ToolFormat", "load_formats"]

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed
NAME_WEIGHT = 3
CUE_WEIGHT = 4


@dataclass(frozen=True, slots=True)
class Cue:
    tool: str
    pattern: re.Pattern[str]
    weight: int
    raw: bool  # read on the paste before cleaning (links, bar layouts)


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    expect: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolFormat:
    id: str
    tool: str
    description: str
    cues: tuple[Cue, ...]
    left_rows: tuple[re.Pattern[str], ...]
    samples: tuple[Sample, ...]


@dataclass(frozen=True, slots=True)
class Formats:
    records: tuple[ToolFormat, ...]
    cues: tuple[Cue, ...]  # every tool's names and every format's cues
    left_rows: re.Pattern[str] | None  # one pattern over every format's left_rows


def _compile(pattern: str, where: str, flags: int = re.IGNORECASE | re.MULTILINE) -> re.Pattern[str]:
    # ASCII word boundaries: "的claude" or "Claudeで" still name the product.
    try:
        return re.compile(pattern, flags | re.ASCII)
    except re.error as exc:
        raise ValueError(f"{where}: bad pattern {pattern!r}: {exc}") from exc


def _cue_list(tool: str, items: Any, weight: int, raw: bool, where: str) -> list[Cue]:
    cues = []
    for item in items or ():
        if isinstance(item, Mapping):
            flags = 0 if item.get("case_sensitive") else re.IGNORECASE
            cues.append(
                Cue(tool, _compile(str(item["pattern"]), where, flags | re.MULTILINE), int(item.get("weight", weight)), raw)
            )
        else:
            cues.append(Cue(tool, _compile(str(item), where), weight, raw))
    return cues


def load_formats(files: Iterable[tuple[str, str]]) -> Formats:
    records: list[ToolFormat] = []
    cues: list[Cue] = []
    for name, text in files:
        doc = yaml.load(text, Loader=_LOADER) or {}
        tool = str(doc["tool"])
        cues += _cue_list(tool, doc.get("names"), NAME_WEIGHT, False, name)
        cues += _cue_list(tool, doc.get("raw_names"), NAME_WEIGHT, True, name)
        for fmt in doc.get("formats") or ():
            where = f"{name}:{fmt.get('id')}"
            # A format's cues count once however many of them match: one pattern per format.
            fmt_cues = [
                Cue(tool, _compile("|".join(f"(?:{c})" for c in patterns), where), CUE_WEIGHT, raw)
                for patterns, raw in ((fmt.get("cues") or [], False), (fmt.get("raw_cues") or [], True))
                if patterns
            ]
            cues += fmt_cues
            records.append(
                ToolFormat(
                    id=str(fmt["id"]),
                    tool=tool,
                    description=str(fmt.get("description", "")).strip(),
                    cues=tuple(fmt_cues),
                    left_rows=tuple(_compile(str(p), where) for p in fmt.get("left_rows") or ()),
                    samples=tuple(Sample(str(s["text"]), s["expect"]) for s in fmt.get("samples") or ()),
                )
            )
    rows = [p.pattern for r in records for p in r.left_rows]
    left_rows = _compile("|".join(f"(?:{p})" for p in rows), "left_rows") if rows else None
    return Formats(tuple(records), tuple(cues), left_rows)


def _shipped_files() -> list[tuple[str, str]]:
    folder = resources.files("bot.core.readings") / "formats"
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name)
    return [(e.name, e.read_text(encoding="utf-8")) for e in entries]


FORMATS = load_formats(_shipped_files())
