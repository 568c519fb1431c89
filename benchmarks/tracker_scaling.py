"""Print how the tracker's answers scale with stored history, through Slack HTTP mode, beside the empty case.

Usage: python benchmarks/tracker_scaling.py [--reports N] [--big N] [--presses N] [--postgres URL] [--no-sqlite]

For SQLite and PostgreSQL: two real `supportbot slack --http` processes (see slack_rig.py), one on an
empty tracker and one on a tracker holding N reports (default 200,000), answer `/quota` from distinct
people, pressed on one and then the other in turn (the same warm-up and number of presses for both, so
the shared machine's load falls on both alike); printed is the median time from pressing the command
to the thank-you, and the ratio of the two (the goal: at most 2x). On PostgreSQL it then times `/incidents` (staff) on the empty
tracker and on one holding --big reports (default 1,000,000; goal: within 1 s).

Stored reports are written straight into the tables (a report, one reading, its symptom rows), spread
over the last 28 days among 5,000 people and four tools, so seeding takes seconds instead of an import;
PostgreSQL then gets the VACUUM ANALYZE that autovacuum would run after such an insert.
Each database is a scratch file or schema, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from slack_rig import SlackRig

from bot.core.detection import bucket_of
from bot.storage import open_store

TOOLS = ("Claude Code", "Codex CLI", "Gemini CLI", "Cursor")
QUOTA_TEXT = "Claude Code weekly usage 87%, session 40% — resets Monday"
CHUNK = 50_000


def seed_rows(count: int, now: dt.datetime, seed: int = 5) -> Iterator[tuple[list[tuple[Any, ...]], ...]]:
    """Chunks of (report rows, reading rows, symptom rows) for `count` reports with ids 1..count."""
    rng = random.Random(seed)
    for start in range(1, count + 1, CHUNK):
        reports, readings, symptoms = [], [], []
        for rid in range(start, min(count, start + CHUNK - 1) + 1):
            at = now - dt.timedelta(seconds=rng.uniform(60, 28 * 24 * 3600))
            user, tool = f"S{rid % 5000:04d}", TOOLS[rid % 4]
            percent = float(rid % 101)
            reports.append((rid, "slack", "T1", "C1", user, at, f"seeded report {rid}", tool, "Pro", None, None,
                            f"seed-{rid}"))
            readings.append((rid, 0, "weekly", percent, None, percent >= 100, None, None, None, at, "slack", user))
            bucket = bucket_of(at)
            symptoms.append((rid, "report", tool, bucket, at, "slack", user))
            if percent >= 100:
                symptoms.append((rid, "limit_hit", tool, bucket, at, "slack", user))
        yield reports, readings, symptoms


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


async def seed_sqlite(path: Path, count: int) -> None:
    store = await open_store(f"sqlite:///{path}")  # creates the schema
    await store.close()
    now = dt.datetime.now(dt.UTC)
    with sqlite3.connect(path) as conn:
        for reports, readings, symptoms in seed_rows(count, now):
            conn.executemany("INSERT INTO quota_reports VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                             [(*r[:5], _iso(r[5]), *r[6:]) for r in reports])
            conn.executemany("INSERT INTO report_readings VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                             [(*r[:9], _iso(r[9]), *r[10:]) for r in readings])
            conn.executemany("INSERT INTO report_symptoms VALUES (?,?,?,?,?,?,?)",
                             [(*s[:4], _iso(s[4]), *s[5:]) for s in symptoms])
        conn.execute("ANALYZE")


async def seed_postgres(url: str, schema: str, count: int) -> None:
    import asyncpg

    store = await open_store(f"{url}{'&' if '?' in url else '?'}schema={schema}")
    await store.close()
    conn = await asyncpg.connect(url, server_settings={"search_path": schema})
    try:
        now = dt.datetime.now(dt.UTC)
        for reports, readings, symptoms in seed_rows(count, now):
            await conn.copy_records_to_table("quota_reports", records=reports)
            await conn.copy_records_to_table("report_readings", records=readings)
            await conn.copy_records_to_table("report_symptoms", records=symptoms)
        await conn.execute("SELECT setval(pg_get_serial_sequence('quota_reports', 'id'), $1)", max(count, 1))
        # What autovacuum does soon after a bulk insert: statistics, and the visibility map that lets
        # counts read covering indexes alone. Without it a freshly seeded table reads the heap.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def press(rig: SlackRig, command: str, who: str) -> float:
    """Seconds from pressing `/command` as `who` to the answer (a /quota must be thanked)."""
    answer = await rig.command(command, QUOTA_TEXT if command == "quota" else "", who)
    if answer is None:
        raise RuntimeError(f"/{command} got no answer")
    if command == "quota" and "Thanks" not in answer.text:
        raise RuntimeError(f"/quota was not thanked: {answer.text[:300]}")
    return answer.seconds


async def alternate(rigs: list[SlackRig], command: str, count: int, user: str | None = None) -> list[list[float]]:
    """Seconds from press to answer on each rig, pressing on each rig in turn (in reverse order every
    other round), `count` rounds after two warm-up rounds, once every bot's start-up detection run is
    over (steady state).

    Alternating puts both cases under the same load: on a shared machine another process's burst of
    work slows both alike instead of whichever case happened to run during it."""
    for rig in rigs:
        await rig.settled()
    times: list[list[float]] = [[] for _ in rigs]
    for n in range(count + 2):
        turn = list(enumerate(rigs))
        for index, rig in turn if n % 2 else reversed(turn):  # neither case always goes first
            seconds = await press(rig, command, user or f"U{index}x{n:04d}")
            if n >= 2:
                times[index].append(seconds)
    return times


def _ms(values: list[float]) -> str:
    return f"median {1000 * statistics.median(values):.0f} ms (max {1000 * max(values):.0f} ms)"


async def quota_pair(name: str, empty_url: str, full_url: str, stored: int, count: int) -> None:
    async with SlackRig(empty_url) as empty_rig, SlackRig(full_url) as full_rig:
        empty, full = await alternate([empty_rig, full_rig], "quota", count)
    ratio = statistics.median(full) / statistics.median(empty)
    print(f"{name}: /quota press to thank-you, empty tracker: {_ms(empty)}")
    print(f"{name}: /quota press to thank-you, {stored:,} stored reports: {_ms(full)}  -> {ratio:.2f}x the empty case"
          f" ({'within' if ratio <= 2.0 else 'NOT within'} 2x; {count} presses each, alternated, medians)")


async def run(args: argparse.Namespace) -> None:
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            empty, full = Path(folder) / "empty.db", Path(folder) / "full.db"
            started = time.perf_counter()
            await seed_sqlite(full, args.reports)
            print(f"sqlite: seeded {args.reports:,} reports in {time.perf_counter() - started:.0f} s")
            await quota_pair("sqlite", f"sqlite:///{empty}", f"sqlite:///{full}", args.reports, args.presses)
    if not args.postgres:
        return
    import asyncpg

    try:
        admin = await asyncpg.connect(args.postgres, timeout=5)
    except Exception as exc:
        print(f"postgresql: skipped ({type(exc).__name__}: {exc})")
        return
    schemas = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(3)]
    try:
        for name in schemas:
            await admin.execute(f'CREATE SCHEMA "{name}"')
        sep = "&" if "?" in args.postgres else "?"
        urls = [f"{args.postgres}{sep}schema={name}" for name in schemas]
        started = time.perf_counter()
        await seed_postgres(args.postgres, schemas[1], args.reports)
        await seed_postgres(args.postgres, schemas[2], args.big)
        print(f"postgresql: seeded {args.reports:,} and {args.big:,} reports in {time.perf_counter() - started:.0f} s")
        await quota_pair("postgresql", urls[0], urls[1], args.reports, args.presses)
        async with SlackRig(urls[0]) as empty_rig, SlackRig(urls[2]) as big_rig:
            empty, big = await alternate([empty_rig, big_rig], "incidents", 5, user="UBOSS")
        print(f"postgresql: /incidents press to answer, empty tracker: {_ms(empty)}")
        print(f"postgresql: /incidents press to answer, {args.big:,} stored reports: {_ms(big)}"
              f"  -> {statistics.median(big) / statistics.median(empty):.2f}x the empty case"
              f" ({'within' if max(big) <= 1.0 else 'NOT within'} 1 s)")
    finally:
        for name in schemas:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200_000, help="stored reports for /quota (default 200000)")
    parser.add_argument("--big", type=int, default=1_000_000, help="stored reports for /incidents (default 1000000)")
    parser.add_argument("--presses", type=int, default=20, help="/quota presses per case (default 20)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL URL for scratch schemas ('' to skip PostgreSQL)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
