"""`supportbot` itself: with Slack settings the same command that starts the terminal chat starts Slack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import FakeSlackApi

TOKEN = "xoxb-1111-2222-VERYSECRETTOKEN"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_bare_command_starts_slack_http_mode_with_health_and_json_logs(tmp_path: Path) -> None:
    port = _free_port()
    async with FakeSlackApi() as slack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
        env.update({
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "signing-secret-value",
            "SLACK_API_URL": slack.base_url,
            "SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'bot.db'}",
            "PORT": str(port),
            "LOG_FORMAT": "json",
        })
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=tmp_path,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            health = await _wait_for_health(port)
            assert health["ok"] is True
            assert health["store"] == "ok" and health["catalog"]["entries"] >= 54
            assert health["front_ends"] == {"slack-http": "running"}
            assert slack.called("auth.test")
        finally:
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), 15)
        assert process.returncode == 0
    log_lines = [line for line in stderr.decode().splitlines() if line.strip()]
    assert log_lines, "a running front end logs for operators"
    for line in log_lines:
        record = json.loads(line)  # LOG_FORMAT=json: one JSON object a line
        assert {"time", "level", "logger", "message"} <= set(record)
    assert "VERYSECRETTOKEN" not in stderr.decode() + stdout.decode()


async def _wait_for_health(port: int, timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    return await response.json()  # type: ignore[no-any-return]
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def test_a_rejected_token_is_a_one_line_error_with_exit_status_1(tmp_path: Path) -> None:
    async with FakeSlackApi() as slack:
        slack.fail("auth.test", error="invalid_auth", times=100)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
        env.update({
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "signing-secret-value",
            "SLACK_API_URL": slack.base_url,
            "SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'bot.db'}",
            "PORT": str(_free_port()),
        })
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "slack", "--http", env=env, cwd=tmp_path,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    errors = [line for line in stderr.decode().splitlines() if line.startswith("supportbot: error:")]
    assert len(errors) == 1 and "SLACK_BOT_TOKEN" in errors[0]
    assert "VERYSECRETTOKEN" not in stderr.decode() + stdout.decode()
    assert "Traceback" not in stderr.decode()
