"""Print the spike detector's precision, recall and detection delay over seeded simulations.

Usage: python benchmarks/detection_quality.py [--seeds N] [--first SEED] [--people N]

Each simulation is five weeks of background reports (0-2 an hour, diurnal, quieter weekends) with a
crowd hitting the weekly limit every Monday at 09:00. In week five it adds one real burst (N distinct
people reporting Claude Code idle jumps within 20 minutes, at a random time) and one person flooding
200 reports within 10 minutes at another random time. The detector runs every 10 minutes over week
five, as the service would. Consecutive steps with a spike for the same tool and symptom are one
alarm (the service keeps one incident open). An alarm is true when it is the burst's tool and starts
while the burst is in the recent window; everything else is a false alarm.

The simulator (detection_sim.py) is the one the detection tests use, so these figures and the tests'
assertions describe the same streams.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))

import detection_sim


def simulate(sim: ModuleType, seed: int, people: int) -> tuple[int, int, float | None]:
    """One simulation: (true alarms, false alarms, delay to the first true alarm in minutes)."""
    rng = random.Random(seed)
    week5 = sim.T0 + 4 * sim.WEEK
    # The burst somewhere between Monday noon and Sunday noon, at any minute; the flood elsewhere.
    burst_start = week5 + sim.HOUR * 12 + dt.timedelta(seconds=rng.uniform(0, 6 * 24 * 3600))
    flood_start = burst_start + dt.timedelta(hours=rng.uniform(6, 48))
    flood_start = flood_start if flood_start < week5 + sim.WEEK else burst_start - dt.timedelta(hours=30)
    reports = (
        sim.noise(rng, sim.T0, sim.T0 + 5 * sim.WEEK)
        + sim.weekly_busy_hours(rng, 5)
        + sim.burst(rng, burst_start, people=people)
        + sim.flood(rng, flood_start)
    )
    steps = sim.evaluate(reports, week5, week5 + sim.WEEK)

    true_alarms = false_alarms = 0
    delay: float | None = None
    active: set[tuple[str, str]] = set()
    burst_end = burst_start + 20 * sim.MINUTE + sim.CONFIG.recent
    for now, spikes in steps:
        current = {(s.tool, s.symptom) for s in spikes}
        for key in current - active:  # a new alarm starts
            if key[0] == "Claude Code" and burst_start <= now <= burst_end:
                true_alarms += 1
                if delay is None:
                    delay = (now - burst_start) / sim.MINUTE
            else:
                false_alarms += 1
        active = current
    return true_alarms, false_alarms, delay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="number of simulations (default 20)")
    parser.add_argument("--first", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--people", type=int, default=15, help="people in the burst (default 15)")
    args = parser.parse_args()

    sim = detection_sim
    started = time.perf_counter()
    true_alarms = false_alarms = 0
    delays: list[float] = []
    for seed in range(args.first, args.first + args.seeds):
        t, f, delay = simulate(sim, seed, args.people)
        true_alarms, false_alarms = true_alarms + t, false_alarms + f
        if delay is not None:
            delays.append(delay)
        shown = f"{delay:5.1f} min" if delay is not None else "   missed"
        print(f"  seed {seed:3d}: delay {shown}, alarms {t} true / {f} false")
    elapsed = time.perf_counter() - started

    alarms = true_alarms + false_alarms
    print(f"simulations: {args.seeds} (burst of {args.people} people within 20 min; a 200-report flood;"
          " a weekly busy hour; detector every 10 min over one week each)")
    print(f"precision: {true_alarms}/{alarms} = {100 * true_alarms / alarms:.1f}%" if alarms else "precision: no alarms")
    print(f"recall: {len(delays)}/{args.seeds} bursts detected")
    if delays:
        print(f"delay from burst start to first alarm: mean {statistics.mean(delays):.1f} min,"
              f" median {statistics.median(delays):.1f}, max {max(delays):.1f} (simulated minutes)")
    print(f"false alarms: {false_alarms} in {args.seeds} simulated weeks")
    print(f"ran in {elapsed:.1f} s of wall-clock time")


if __name__ == "__main__":
    main()
