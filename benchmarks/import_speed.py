"""Print how long `supportbot import` takes for a large backup, on SQLite (and PostgreSQL when reachable).

Usage: python benchmarks/import_speed.py [--reports N] [--postgres URL]

Writes N reports (default 200,000: 5,000 people over four weeks, one to three readings each) as the
jsonl `supportbot export` writes, then times the import command's own steps (read and check the
file, store in chunks with symptoms worked out) into an empty database, and a second import of the
same file (which stores nothing). Beside it, as the in-process baseline, the time to only parse the
file. Runs in a temporary folder; PostgreSQL gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import tempfile
import time
import uuid
from pathlib import Path

from bot.report_files import read_reports
from bot.storage import open_store

IMPORT_CHUNK = 5_000
START = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
TOOLS = ("Claude Code", "Codex CLI", "Gemini CLI", "Cursor", None)


def backup_lines(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    lines: list[str] = []
    for n in range(count):
        at = START + dt.timedelta(seconds=rng.uniform(0, 28 * 24 * 3600))
        person = f"U{rng.randrange(5000):05d}"
        tool = rng.choice(TOOLS)
        windows = rng.sample(("session", "weekly", "weekly-opus"), rng.randint(1, 3))
        for window in windows:
            percent = round(rng.uniform(0, 100), 1)
            lines.append(json.dumps({
                "report_id": n, "received_at": at.isoformat(), "platform": "slack", "workspace": "T1",
                "channel": "C1", "reporter": person, "tool": tool, "plan": "Pro", "model_mode": None,
                "version": None, "window": window, "percent": percent, "from_percent": None,
                "limit_hit": percent > 97, "idle": None, "resets": None, "resets_at": None,
                "text": f"{tool}: usage report {n}",
            }))
    return lines


async def timed_import(url: str, text: str) -> tuple[float, float, int, int, float]:
    """(first import s, second import s, stored, present on the second, CPU s of the first import in
    this process); wall-clock seconds. On a shared machine the CPU time says what the import costs
    when the wall clock also counts other people's work."""
    store = await open_store(url)
    try:
        times: list[float] = []
        cpu: list[float] = []
        results: list[tuple[int, int]] = []
        for _ in range(2):
            started, cpu_started = time.perf_counter(), time.process_time()
            found = read_reports(text, "jsonl")
            reports = sorted(found.reports, key=lambda r: (r.origin.platform, r.origin.user_id, r.received_at))
            stored = present = 0
            for at in range(0, len(reports), IMPORT_CHUNK):  # as `supportbot import` does
                counts = await store.import_reports(reports[at : at + IMPORT_CHUNK])
                stored, present = stored + counts.stored, present + counts.present
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            results.append((stored, present))
        return times[0], times[1], results[0][0], results[1][1], cpu[0]
    finally:
        await store.close()


async def _postgres_schema(url: str, create: bool, name: str) -> bool:
    try:
        import asyncpg

        conn = await asyncpg.connect(url, timeout=5)
    except Exception as exc:  # not reachable: the PostgreSQL line is skipped, with the reason
        print(f"postgresql: skipped ({type(exc).__name__}: {exc})")
        return False
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"' if create else f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()
    return True


async def run(count: int, postgres: str | None) -> None:
    lines = backup_lines(count)
    text = "\n".join(lines) + "\n"
    started, cpu = time.perf_counter(), time.process_time()
    parsed = read_reports(text, "jsonl")
    parse_only = time.perf_counter() - started
    parse_cpu = time.process_time() - cpu
    print(f"backup: {len(parsed.reports):,} reports in {len(lines):,} rows ({len(text) / 1e6:.0f} MB of jsonl)")
    print(f"baseline, reading and checking the file only: {parse_only:.1f} s ({parse_cpu:.1f} s of CPU)")
    with tempfile.TemporaryDirectory() as folder:
        first, second, stored, present, cpu = await timed_import(f"sqlite:///{Path(folder) / 'bench.db'}", text)
    print(f"sqlite: import {first:.1f} s ({stored:,} stored, {stored / first:,.0f} reports/s, "
          f"{first / parse_only:.1f}x the parse; {cpu:.1f} s of CPU, {cpu / parse_cpu:.1f}x the parse's); "
          f"again {second:.1f} s ({present:,} already present)")
    if postgres:
        name = f"bench_{uuid.uuid4().hex[:12]}"
        if await _postgres_schema(postgres, True, name):
            try:
                sep = "&" if "?" in postgres else "?"
                first, second, stored, present, cpu = await timed_import(f"{postgres}{sep}schema={name}", text)
                print(f"postgresql: import {first:.1f} s ({stored:,} stored, {stored / first:,.0f} reports/s, "
                      f"{first / parse_only:.1f}x the parse; {cpu:.1f} s of CPU here, the server's not counted); "
                      f"again {second:.1f} s ({present:,} already present)")
            finally:
                await _postgres_schema(postgres, False, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200_000, help="reports in the backup (default 200000)")
    parser.add_argument("--postgres", default=None,
                        help="also import into this PostgreSQL URL (a scratch schema is created and dropped)")
    args = parser.parse_args()
    asyncio.run(run(args.reports, args.postgres))


if __name__ == "__main__":
    main()
