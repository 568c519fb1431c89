"""Print how a burst of /quota from distinct people is answered by one `supportbot slack --http` process.

Usage: python benchmarks/quota_burst.py [--requests N] [--stored N] [--postgres URL]

Sends N (default 1,500) signed `/quota` slash commands from N different people to a real bot process
on 127.0.0.1 (see slack_rig.py), all at once, as fast as one client can, and waits up to two minutes.
Printed: how many were thanked (the report stored), told "busy, try again", or left without an answer;
when the last answer came; and, as the in-process baseline, a single /quota on the same bot before
the burst. With --stored, the tracker first holds that many reports (seeded as in tracker_scaling.py).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from slack_rig import SlackRig
from tracker_scaling import QUOTA_TEXT, seed_postgres, seed_sqlite

THANKS = re.compile(r"report #\d+ recorded")
WINDOW = 120.0  # every request must be answered within two minutes


async def burst(rig: SlackRig, count: int, label: str) -> None:
    single = await rig.command("quota", QUOTA_TEXT, "UWARM0")
    baseline = single.seconds if single else float("nan")
    started = time.perf_counter()
    answers = await asyncio.gather(*(rig.command("quota", QUOTA_TEXT, f"UBURST{n:05d}", timeout=WINDOW)
                                     for n in range(count)))
    took = time.perf_counter() - started
    thanked = [a for a in answers if a is not None and THANKS.search(a.text)]
    busy = [a for a in answers if a is not None and "Busy:" in a.text]
    other = [a for a in answers if a is not None and a not in thanked and a not in busy]
    silent = sum(1 for a in answers if a is None)
    times = [a.seconds for a in answers if a is not None]
    in_response = sum(1 for a in thanked if a.via == "http")
    print(f"{label}: {count:,} /quota at once: {len(thanked):,} thanked ({in_response:,} in the command's own "
          f"response), {len(busy):,} told busy, {len(other):,} other answers, {silent:,} unanswered")
    if times:
        print(f"{label}: last answer after {max(times):.1f} s (median {statistics.median(times):.1f} s; "
              f"the burst took {took:.1f} s); one /quota alone before it: {1000 * baseline:.0f} ms")
    print(f"{label}: every request answered within {WINDOW:.0f} s: {'yes' if not silent else 'NO'}")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "burst.db"
        if args.stored:
            await seed_sqlite(path, args.stored)
        async with SlackRig(f"sqlite:///{path}") as rig:
            await burst(rig, args.requests, "sqlite")
    if args.postgres:
        import asyncpg

        try:
            admin = await asyncpg.connect(args.postgres, timeout=5)
        except Exception as exc:
            print(f"postgresql: skipped ({type(exc).__name__}: {exc})")
            return
        name = f"bench_{uuid.uuid4().hex[:12]}"
        try:
            await admin.execute(f'CREATE SCHEMA "{name}"')
            if args.stored:
                await seed_postgres(args.postgres, name, args.stored)
            sep = "&" if "?" in args.postgres else "?"
            async with SlackRig(f"{args.postgres}{sep}schema={name}") as rig:
                await burst(rig, args.requests, "postgresql")
        finally:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            await admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_500, help="people pressing /quota at once (default 1500)")
    parser.add_argument("--stored", type=int, default=0, help="reports the tracker holds first (default 0)")
    parser.add_argument("--postgres", default="", help="also run against this PostgreSQL URL (a scratch schema)")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
