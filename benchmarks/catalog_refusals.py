"""How long and how much memory `supportbot catalog check` takes to refuse each hostile catalog file.

Each case is a folder holding one good entry plus one hostile file: a catastrophic pattern `(a+)+$`, a
polynomial one found only by the timed trial, a FIFO, a character device (made with mknod where
allowed, else a symbolic link to /dev/zero), an alias bomb and deeply nested YAML. Every case runs as
its own `python -m bot catalog check DIR --json` process; the figures are that process's wall time and
peak resident memory, beside the same check of the clean folder (the baseline), and the limits the
reliability doc promises (5 s, 200 MB).

Usage: python benchmarks/catalog_refusals.py
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.core.catalog import default_catalog_dir

SEED = "claude-code-quota-increases-without-tasks"
LIMIT_SECONDS, LIMIT_MB = 5.0, 200.0


def seed_text(new_id: str) -> str:
    text = (default_catalog_dir() / f"{SEED}.yaml").read_text(encoding="utf-8")
    return text.replace(f"id: {SEED}", f"id: {new_id}").split("related:")[0] + "updated: 2026-11-24\n"


def pattern(expression: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        text = seed_text("hostile").replace("patterns:\n", f"patterns:\n  - '{expression}'\n")
        (folder / "hostile.yaml").write_text(text, encoding="utf-8")
    return make


def fifo(folder: Path) -> None:
    os.mkfifo(folder / "hostile.yaml")


def device(folder: Path) -> None:
    try:
        os.mknod(folder / "hostile.yaml", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # what /dev/zero is
    except (PermissionError, AttributeError):
        (folder / "hostile.yaml").symlink_to("/dev/zero")


def alias_bomb(folder: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 12):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    text = seed_text("hostile").replace("updated: 2026-11-24", "updated: *l") + "\n".join(lines) + "\n"
    (folder / "hostile.yaml").write_text(text, encoding="utf-8")


def deep_nesting(folder: Path) -> None:
    (folder / "hostile.yaml").write_text("id: hostile\nx: " + "[" * 200_000 + "]" * 200_000 + "\n",
                                         encoding="utf-8")


CASES: list[tuple[str, Callable[[Path], None] | None]] = [
    ("clean folder (baseline)", None),
    ("pattern (a+)+$", pattern("(a+)+$")),
    ("pattern (a|a)+$", pattern("(a|a)+$")),
    ("pattern a.*b.*c.*d.*e", pattern("a.*b.*c.*d.*e")),
    ("FIFO", fifo),
    ("character device", device),
    ("alias bomb (9^12)", alias_bomb),
    ("nesting 200,000 deep", deep_nesting),
]


def check(folder: Path) -> tuple[float, float, int, str]:
    """(seconds, peak MB, exit status, first problem) of one `catalog check` process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bot", "catalog", "check", str(folder), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    out = process.stdout.read()
    _, wait_status, usage = os.wait4(process.pid, 0)  # this child's own peak memory
    process.returncode = os.waitstatus_to_exitcode(wait_status)
    seconds = time.perf_counter() - started
    problems = json.loads(out or b"{}").get("errors", [])
    first = problems[0]["problem"] if problems else "-"
    return seconds, usage.ru_maxrss / 1024, process.returncode, first


def main() -> None:
    print(f"`supportbot catalog check DIR --json`, one process per case; limits {LIMIT_SECONDS:g} s, {LIMIT_MB:g} MB")
    print(f"{'case':<26}{'seconds':>9}{'peak MB':>10}{'exit':>6}  refusal")
    baseline = 0.0
    for name, make in CASES:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            (folder / "good.yaml").write_text(seed_text("good"), encoding="utf-8")
            if make is not None:
                make(folder)
            seconds, peak_mb, status, first = check(folder)
        baseline = baseline or seconds
        verdict = "ok" if seconds <= LIMIT_SECONDS and peak_mb <= LIMIT_MB else "OVER LIMIT"
        print(f"{name:<26}{seconds:9.2f}{peak_mb:10.1f}{status:6d}  {first[:70]} [{verdict}, "
              f"{seconds / baseline:.1f}x baseline]")


if __name__ == "__main__":
    main()
