"""Two `supportbot slack --http` processes on one database with a spike in the imported history: both
run the periodic detection (every second here), and the spike opens one incident and sends one alert.

Real OS processes against the Slack fake, on SQLite and on PostgreSQL (the postgres case fails rather
than skips under CI, see conftest.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import FakeSlackApi

from .conftest import Backend

STAFF_CHANNEL = "CSTAFF"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spike_backup(path: Path) -> None:
    """A quiet week, then 15 people reporting Claude Code idle jumps over the last 25 minutes."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n in range(40):
        at = now - dt.timedelta(days=7, hours=n)
        rows.append({"report_id": f"q{n}", "received_at": at.isoformat(), "platform": "slack", "reporter": f"Q{n % 9}",
                     "tool": "Codex CLI", "window": "weekly", "percent": 40, "limit_hit": False, "text": "weekly 40%"})
    for n in range(15):
        at = now - dt.timedelta(minutes=26) + dt.timedelta(minutes=20) * n / 14
        rows.append({"report_id": f"b{n}", "received_at": at.isoformat(), "platform": "slack", "reporter": f"B{n}",
                     "tool": "Claude Code", "window": "session", "percent": 100, "from_percent": 40 + n,
                     "limit_hit": True, "idle": True, "text": f"session 4{n}% -> 100% while idle"})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _env(db: str, slack: FakeSlackApi, port: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
    env.pop("DATABASE_URL", None)
    env.update({
        "SUPPORTBOT_DB": db,
        "SLACK_BOT_TOKEN": "xoxb-1111-2222-TESTTOKEN",
        "SLACK_SIGNING_SECRET": "signing-secret-value",
        "SLACK_API_URL": slack.base_url,
        "SLACK_STAFF_CHANNEL": STAFF_CHANNEL,
        "SUPPORTBOT_DETECT_SECONDS": "1",
    })
    if port is not None:
        env["PORT"] = str(port)
    return env


async def _healthy(port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no /healthz on port {port}")
            await asyncio.sleep(0.2)


async def test_two_processes_open_one_incident_and_send_one_alert(backend: Backend, tmp_path: Path) -> None:
    backup = tmp_path / "history.jsonl"
    spike_backup(backup)
    async with FakeSlackApi() as slack:
        imported = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "import", str(backup), env=_env(backend.url, slack),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(imported.communicate(), 90)
        assert imported.returncode == 0, err.decode()
        assert b"55 stored" in out

        ports = [_free_port(), _free_port()]
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "slack", "--http", "--port", str(port),
                env=_env(backend.url, slack, port), cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            for port in ports
        ]
        try:
            await asyncio.gather(*(_healthy(port) for port in ports))
            await slack.wait_for("chat.postMessage", timeout=60,
                                 where=lambda call: call.get("channel") == STAFF_CHANNEL)
            await asyncio.sleep(4)  # both keep running detection every second meanwhile
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                await asyncio.wait_for(process.communicate(), 30)
        alerts = [c for c in slack.called("chat.postMessage") if c.get("channel") == STAFF_CHANNEL]
        assert len(alerts) == 1
        assert "Claude Code" in json.dumps(alerts[0].args)

    store = await backend.open()
    try:
        incidents = await store.list_incidents(None)
    finally:
        await store.close()
    assert [(i.tool, i.symptom) for i in incidents] == [("Claude Code", "idle_jump")]
