"""`supportbot export` and `supportbot import` as real processes: a backup moves a tracker from SQLite
into an empty database (PostgreSQL too) row for row; importing again stores nothing; bad rows are
refused with their line numbers and never half-stored."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.models import Origin, ParsedReadings, QuotaReport, Reading
from bot.storage import open_store

from .conftest import Backend

NOW = dt.datetime.now(dt.UTC).replace(microsecond=123456)


def cli(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
    env.pop("DATABASE_URL", None)
    env["SUPPORTBOT_DB"] = db
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def sample_reports() -> list[QuotaReport]:
    def rep(minutes: int, user: str, *readings: Reading, tool: str | None = "Claude Code",
            text: str = "session 64% -> 100%, nothing running") -> QuotaReport:
        parsed = ParsedReadings(tool, "Max 5x" if tool else None, None, "2.0.14" if tool else None, readings)
        return QuotaReport(Origin("slack", "T1", "C1", user), NOW - dt.timedelta(minutes=minutes), text, parsed,
                           f"fp-{user}-{minutes}")

    jump = Reading("session", 100.0, 64.0, True, "5pm (Europe/Paris)", True,
                   resets_at=NOW.replace(microsecond=0) + dt.timedelta(hours=2))
    weekly = Reading("weekly-opus", 42.5, None, False, None, None)
    return [
        rep(300, "U1", jump, weekly),
        rep(200, "U2", Reading("weekly", None, None, True, "Mon", False), text='"quoted", with, commas\nand a line'),
        rep(100, "U1", Reading("session", 20.0, None, False, None, None), tool=None, text="ünïcode ✓"),
        rep(50, "U3"),  # no readings at all: one empty-reading row
    ]


def rows_by_report(jsonl: str) -> list[list[dict[str, object]]]:
    """Rows grouped by report, without the ids (a new database numbers its own)."""
    groups: dict[object, list[dict[str, object]]] = {}
    for line in jsonl.splitlines():
        row = json.loads(line)
        groups.setdefault(row.pop("report_id"), []).append(row)
    return sorted(groups.values(), key=lambda rows: (str(rows[0]["received_at"]), str(rows[0]["reporter"])))


async def test_export_then_import_into_an_empty_database_reproduces_the_tracker(
    backend: Backend, tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    store = await open_store(source)
    try:
        for report in sample_reports():
            await store.add_report(report)
    finally:
        await store.close()
    backup = tmp_path / "backup.jsonl"
    exported = cli("export", "--format", "jsonl", "--out", str(backup), db=source)
    assert exported.returncode == 0, exported.stderr

    first = cli("import", str(backup), db=backend.url)
    assert first.returncode == 0, first.stderr
    assert "read 4 report(s): 4 stored, 0 already present, 0 refused" in first.stdout
    again = cli("import", str(backup), db=backend.url)
    assert again.returncode == 0, again.stderr
    assert "read 4 report(s): 0 stored, 4 already present, 0 refused" in again.stdout

    moved = cli("export", "--format", "jsonl", db=backend.url)
    assert moved.returncode == 0, moved.stderr
    assert rows_by_report(moved.stdout) == rows_by_report(backup.read_text(encoding="utf-8"))
    target = await backend.open()
    try:  # the imported reports count like reported ones: symptoms were worked out
        tally = await target.tally(NOW - dt.timedelta(days=1), NOW + dt.timedelta(minutes=1))
        assert (tally.reports, tally.reporters, tally.limits_hit.reports) == (4, 3, 2)
    finally:
        await target.close()


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_csv_and_json_backups_round_trip(fmt: str, tmp_path: Path) -> None:
    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    store = await open_store(source)
    try:
        for report in sample_reports():
            await store.add_report(report)
    finally:
        await store.close()
    backup = tmp_path / f"backup.{fmt}"  # the format comes from the file name
    assert cli("export", "--format", fmt, "--out", str(backup), db=source).returncode == 0
    done = cli("import", str(backup), db=target)
    assert done.returncode == 0, done.stderr
    assert "4 stored" in done.stdout
    before = cli("export", "--format", "jsonl", db=source).stdout
    after = cli("export", "--format", "jsonl", db=target).stdout
    assert rows_by_report(after) == rows_by_report(before)


def test_bad_rows_are_refused_with_line_numbers_and_never_half_stored(tmp_path: Path) -> None:
    good = {"report_id": 1, "received_at": NOW.isoformat(), "platform": "slack", "workspace": "T1",
            "channel": "C1", "reporter": "U1", "tool": "Codex CLI", "window": "weekly", "percent": 80,
            "limit_hit": False, "text": "weekly 80%"}
    half_bad = [dict(good, report_id=2, reporter="U2", window="session", percent=30),
                dict(good, report_id=2, reporter="U2", window="weekly", percent="lots")]
    lines = [json.dumps(good), json.dumps(half_bad[0]), json.dumps(half_bad[1]), "{not json",
             json.dumps(dict(good, report_id=3, received_at="yesterday")),
             json.dumps(dict(good, report_id=4, reporter="U4", received_at=(NOW - dt.timedelta(hours=1)).isoformat()))]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    done = cli("import", str(path), db=db)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "line 3: percent must be a number" in done.stderr
    assert "line 4: not valid JSON" in done.stderr
    assert "line 5: received_at is not an ISO 8601 time" in done.stderr
    assert "read 5 report(s): 2 stored, 0 already present, 3 refused" in done.stdout
    exported = [json.loads(line) for line in cli("export", "--format", "jsonl", db=db).stdout.splitlines()]
    assert sorted(row["reporter"] for row in exported) == ["U1", "U4"]  # nothing of report 2


def test_unknown_format_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    odd = tmp_path / "backup.txt"
    odd.write_text("", encoding="utf-8")
    unknown = cli("import", str(odd), db=db)
    assert unknown.returncode == 2 and "--format" in unknown.stderr and "Traceback" not in unknown.stderr
    missing = cli("import", str(tmp_path / "nope.jsonl"), db=db)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
