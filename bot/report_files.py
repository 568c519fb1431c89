"""The tracker's quota reports as files: what `supportbot export` writes and `supportbot import` reads.

A row is one reading of one report (CONTRACT.md, "export and import"); a report without readings is
one row whose reading fields are empty. `json` is one array, `jsonl` one object a line, `csv` has
the header `FIELDS`. Reading a file checks every row and gives back whole reports only: a report with
a bad row is refused as a whole, with the line number and the reason, so nothing is half-stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.core.models import Origin, ParsedReadings, QuotaReport, Reading
from bot.core.readings import reading_fingerprint

FIELDS = (
    "report_id", "received_at", "platform", "workspace", "channel", "reporter", "tool", "plan",
    "model_mode", "version", "window", "percent", "from_percent", "limit_hit", "idle", "resets",
    "resets_at", "text",
)
FORMATS = ("csv", "json", "jsonl")
_REPORT_FIELDS = ("received_at", "platform", "workspace", "channel", "reporter", "tool", "plan", "model_mode",
                  "version", "text")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


# ---------------------------------------------------------------------------------------------
# export


def report_rows(report: QuotaReport) -> list[dict[str, Any]]:
    """The rows of one report, one per reading (one empty-reading row when it has none)."""
    rows = []
    for reading in report.parsed.readings or (None,):
        rows.append({
            "report_id": report.id,
            "received_at": report.received_at.isoformat(),
            "platform": report.origin.platform,
            "workspace": report.origin.workspace_id,
            "channel": report.origin.channel_id,
            "reporter": report.origin.user_id,
            "tool": report.parsed.tool,
            "plan": report.parsed.plan,
            "model_mode": report.parsed.model_mode,
            "version": report.parsed.version,
            "window": reading.window if reading else None,
            "percent": reading.percent if reading else None,
            "from_percent": reading.from_percent if reading else None,
            "limit_hit": reading.limit_hit if reading else None,
            "idle": reading.idle if reading else None,
            "resets": reading.resets if reading else None,
            "resets_at": reading.resets_at.isoformat() if reading and reading.resets_at else None,
            "text": report.raw_text,
        })
    return rows


class RowWriter:
    """Writes rows to `out` in one of `FORMATS` as they come; `close()` finishes the file."""

    def __init__(self, out: TextIO, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        self._out, self._fmt = out, fmt
        self.count = 0
        self._csv: csv.DictWriter[str] | None = None
        if fmt == "csv":
            self._csv = csv.DictWriter(out, fieldnames=FIELDS)
            self._csv.writeheader()
        elif fmt == "json":
            out.write("[")

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            if self._csv is not None:
                self._csv.writerow(row)
            elif self._fmt == "jsonl":
                self._out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                self._out.write(("\n" if not self.count else ",\n") + json.dumps(row, ensure_ascii=False))
            self.count += 1

    def close(self) -> None:
        if self._fmt == "json":
            self._out.write("\n]\n" if self.count else "]\n")


# ---------------------------------------------------------------------------------------------
# import


class BadRow(ValueError):
    """A row that cannot be part of a report; the message says why."""


@dataclass
class ReadResult:
    """Whole reports from a file, in file order, and what was refused."""

    reports: list[QuotaReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "line N: reason", in file order
    refused: int = 0  # reports refused (a report with one bad row is refused whole)

    @property
    def read(self) -> int:
        return len(self.reports) + self.refused


def format_of(path: Path, given: str | None) -> str:
    """The format named, else the one the file name ends with; ValueError when neither says."""
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise ValueError(f"cannot tell the format of {path.name} from its name; give --format csv, json or jsonl")


def read_reports(text: str, fmt: str) -> ReadResult:
    """Parse a whole export file. A row that is not even a row (bad JSON) is refused on its own."""
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    result = ReadResult()
    order: list[str] = []
    for line, row in _rows(text, fmt, result):
        key = _report_key(row, line)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((line, row))
    for key in order:
        rows = groups[key]
        try:
            result.reports.append(_report(rows))
        except BadRow as exc:
            result.problems.append(str(exc))
            result.refused += 1
    result.problems.sort(key=_line_of)
    return result


def _line_of(problem: str) -> int:
    head = problem.split(":", 1)[0].removeprefix("line ")
    return int(head) if head.isdigit() else 0


def _report_key(row: dict[str, Any], line: int) -> str:
    """Rows sharing a report_id are one report; a row without one is a report of its own."""
    value = row.get("report_id")
    if value is None or value == "":
        return f"line:{line}"
    return f"id:{value}"


def _rows(text: str, fmt: str, result: ReadResult) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt == "jsonl":
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                result.problems.append(f"line {number}: not valid JSON ({exc.msg})")
                result.refused += 1
                continue
            if not isinstance(row, dict):
                result.problems.append(f"line {number}: expected a JSON object, got {type(row).__name__}")
                result.refused += 1
                continue
            yield number, row
    elif fmt == "json":
        yield from _json_array(text, result)
    else:
        yield from _csv_rows(text, result)


def _json_array(text: str, result: ReadResult) -> Iterator[tuple[int, dict[str, Any]]]:
    """The objects of one JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if not text.startswith("[", pos):
        raise ValueError("a json export is one array of objects, and this file does not start with '['")
    pos = _skip_space(text, pos + 1)
    line, counted = 1, 0
    while pos < len(text) and text[pos] != "]":
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            row, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {exc.lineno}: not valid JSON ({exc.msg}); nothing was imported") from None
        if isinstance(row, dict):
            yield line, row
        else:
            result.problems.append(f"line {line}: expected a JSON object, got {type(row).__name__}")
            result.refused += 1
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
    if pos >= len(text):
        raise ValueError("the json array is not closed with ']'; nothing was imported")


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _csv_rows(text: str, result: ReadResult) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [f for f in ("received_at", "platform", "reporter") if f not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"the csv header lacks {', '.join(missing)}; expected {','.join(FIELDS)}")
    start = 2
    for row in reader:
        if None in row:
            result.problems.append(f"line {start}: more fields than the header names")
            result.refused += 1
        else:
            yield start, dict(row)
        start = reader.line_num + 1


def _report(rows: list[tuple[int, dict[str, Any]]]) -> QuotaReport:
    first_line, first = rows[0]
    if len(rows) > 1:
        expected = [first.get(name) for name in _REPORT_FIELDS]
        for line, row in rows[1:]:
            for name, want in zip(_REPORT_FIELDS, expected, strict=True):
                got = row.get(name)
                if got != want and _norm(got) != _norm(want):
                    raise BadRow(f"line {line}: {name} differs from line {first_line}, a row of the same report_id")
    received = _time(first_line, first, "received_at", required=True)
    assert received is not None
    platform = _text(first_line, first, "platform", required=True)
    reporter = _text(first_line, first, "reporter", required=True)
    readings: list[Reading] = []
    for line, row in rows:
        window = _text(line, row, "window")
        if window is None:
            if len(rows) > 1:
                raise BadRow(f"line {line}: window is empty, but the report has other rows")
            continue
        readings.append(Reading(
            window=window,
            percent=_number(line, row, "percent"),
            from_percent=_number(line, row, "from_percent"),
            limit_hit=bool(_flag(line, row, "limit_hit")),
            resets=_text(line, row, "resets"),
            idle=_flag(line, row, "idle"),
            resets_at=_time(line, row, "resets_at"),
        ))
    parsed = ParsedReadings(
        tool=_text(first_line, first, "tool"),
        plan=_text(first_line, first, "plan"),
        model_mode=_text(first_line, first, "model_mode"),
        version=_text(first_line, first, "version"),
        readings=tuple(readings),
    )
    origin = Origin(str(platform), _text(first_line, first, "workspace") or "",
                    _text(first_line, first, "channel") or "", str(reporter))
    text = first.get("text")
    if text is not None and not isinstance(text, str):
        raise BadRow(f"line {first_line}: text must be a string")
    return QuotaReport(origin, received, text or "", parsed, reading_fingerprint(parsed))


def _norm(value: Any) -> Any:
    return None if value == "" else value


def _text(line: int, row: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise BadRow(f"line {line}: {name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRow(f"line {line}: {name} must be text, not {type(value).__name__}")
    return str(value)


def _number(line: int, row: dict[str, Any], name: str) -> float | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadRow(f"line {line}: {name} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRow(f"line {line}: {name} must be a number, not {str(value)[:40]!r}") from None
    if not math.isfinite(number) or not -1000 <= number <= 1000:
        raise BadRow(f"line {line}: {name} {number} is out of range")
    return number


def _flag(line: int, row: dict[str, Any], name: str) -> bool | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadRow(f"line {line}: {name} must be true or false, not {str(value)[:40]!r}")


def _time(line: int, row: dict[str, Any], name: str, *, required: bool = False) -> dt.datetime | None:
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise BadRow(f"line {line}: {name} is missing")
        return None
    if not isinstance(value, str):
        raise BadRow(f"line {line}: {name} must be an ISO 8601 time, not {type(value).__name__}")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRow(f"line {line}: {name} is not an ISO 8601 time ({value[:40]!r})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
