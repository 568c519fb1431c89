"""Running front ends: restarts with backoff, catalog hot reload, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app import open_app
from bot.config import Settings
from bot.core.catalog import default_catalog_dir
from bot.core.models import Reply
from bot.errors import ConfigError, StartupError
from bot.runner import supervise, watch_catalog


async def test_a_failing_front_end_is_restarted_with_backoff() -> None:
    stop = asyncio.Event()
    attempts: list[float] = []

    async def flaky() -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 4:
            raise ConnectionError("connection lost")
        stop.set()

    fatal: list[BaseException] = []
    await asyncio.wait_for(supervise("flaky", flaky, stop, fatal, final=False, backoff_start=0.05,
                                     backoff_max=0.4), 10)
    assert len(attempts) == 4 and fatal == []
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps[1] >= gaps[0] * 1.5  # the delay grows


async def test_a_rejected_credential_stops_for_good() -> None:
    stop = asyncio.Event()
    calls = 0

    async def rejected() -> None:
        nonlocal calls
        calls += 1
        raise ConfigError("DISCORD_TOKEN was rejected by Discord")

    fatal: list[BaseException] = []
    await asyncio.wait_for(supervise("discord", rejected, stop, fatal, final=False, backoff_start=0.01), 10)
    assert calls == 1 and stop.is_set()
    assert isinstance(fatal[0], StartupError) and "DISCORD_TOKEN" in str(fatal[0])


async def test_catalog_changes_are_reloaded_and_a_broken_catalog_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(default_catalog_dir(), folder)
    settings = Settings.from_env({"SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'db.sqlite'}",
                                  "SUPPORTBOT_KNOWLEDGE": str(folder)})
    alerts: list[Reply] = []

    async def sink(reply: Reply) -> None:
        alerts.append(reply)

    async with open_app(settings) as app:
        app.service.add_alert_sink(sink)
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_catalog(app, stop, interval=0.05))
        first_version = app.service.catalog.version
        entry = folder / "claude-code-529-overloaded.yaml"
        entry.write_text(entry.read_text(encoding="utf-8").replace("title: ", "title: Edited - ", 1), encoding="utf-8")
        await _until(lambda: app.service.catalog.version != first_version)
        assert app.service.catalog.get("claude-code-529-overloaded").title.startswith("Edited - ")
        good_version = app.service.catalog.version
        (folder / "broken.yaml").write_text("id: [", encoding="utf-8")
        await _until(lambda: bool(alerts))
        assert "NOT reloaded" in alerts[0].title
        assert app.service.catalog.version == good_version
        stop.set()
        await watcher


async def test_the_watcher_does_not_load_again_a_catalog_unchanged_since_start(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(default_catalog_dir(), folder)
    settings = Settings.from_env({"SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'db.sqlite'}",
                                  "SUPPORTBOT_KNOWLEDGE": str(folder)})
    async with open_app(settings) as app:
        knowledge = app.service.knowledge
        reloads = 0
        real_reload = knowledge.reload

        async def counted_reload(*args):  # type: ignore[no-untyped-def]
            nonlocal reloads
            reloads += 1
            return await real_reload(*args)

        knowledge.reload = counted_reload  # type: ignore[method-assign]
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_catalog(app, stop, interval=0.02))
        await asyncio.sleep(0.3)
        assert reloads == 0
        entry = folder / "claude-code-529-overloaded.yaml"
        entry.write_text(entry.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        await _until(lambda: reloads == 1)
        stop.set()
        await watcher


async def _until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_keeps_an_acknowledged_report_and_exits_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
    env.update({"SUPPORTBOT_DB": f"sqlite:///{db}", "PYTHONUNBUFFERED": "1"})
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "console"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    ) as process:
        assert process.stdin and process.stdout
        process.stdin.write("/quota weekly went 60% -> 100% overnight with nothing running\n\n")
        process.stdin.flush()
        deadline = time.monotonic() + 60
        seen = ""
        while "recorded" not in seen:
            line = process.stdout.readline()
            assert line, "the bot ended before acknowledging the report"
            seen += line
            assert time.monotonic() < deadline
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)  # stdin stays open: the bot must not wait for it
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
    with contextlib.closing(sqlite3.connect(db)) as connection:
        (count,) = connection.execute("SELECT COUNT(*) FROM quota_reports").fetchone()
    assert count == 1


async def test_health_checks_arriving_together_share_one_store_round_trip(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env({"SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    async with open_app(settings) as app:
        pings = 0
        answer: Exception | None = None
        gate = asyncio.Event()

        async def slow_ping() -> None:
            nonlocal pings
            pings += 1
            await gate.wait()
            if answer is not None:
                raise answer

        monkeypatch.setattr(app.store, "ping", slow_ping)
        checks = [asyncio.create_task(app.health()) for _ in range(20)]
        await asyncio.sleep(0.05)
        gate.set()
        reports = await asyncio.gather(*checks)
        assert pings == 1 and all(r["store"] == "ok" for r in reports)
        answer = OSError("gone")
        failed = await app.health()  # a later check asks the store again
        assert pings == 2 and failed["store"] == "error: OSError" and failed["ok"] is False


async def test_serving_shortens_the_interpreter_switch_interval_and_restores_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import runner

    seen: list[float] = []

    async def fake_serve(*args: object, **kwargs: object) -> int:
        seen.append(sys.getswitchinterval())
        raise RuntimeError("front end failed")

    before = sys.getswitchinterval()
    monkeypatch.setattr(runner, "_serve", fake_serve)
    with pytest.raises(RuntimeError):
        await runner.serve(None, [], port=0, stdin=None, stdout=None)  # type: ignore[arg-type]
    assert seen == [min(before, runner.LOOP_SWITCH_SECONDS)] and seen[0] <= 0.001
    assert sys.getswitchinterval() == before
