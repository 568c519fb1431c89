"""The command line per CONTRACT.md: JSON formats, exit statuses, no tracebacks for user mistakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OVERLOADED = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
    base.pop("DATABASE_URL", None)
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          env=base, cwd=cwd, timeout=120)


def test_match_text_and_json() -> None:
    plain = run("match", OVERLOADED)
    assert plain.returncode == 0 and "Quick fix:" in plain.stdout, plain.stderr
    as_json = json.loads(run("match", OVERLOADED, "--json").stdout)
    assert as_json["match"] == "claude-code-529-overloaded" and 0 <= as_json["score"] <= 100
    assert isinstance(as_json["alternates"], list)
    from_stdin = json.loads(run("match", "--json", stdin=OVERLOADED).stdout)
    assert from_stdin["match"] == "claude-code-529-overloaded"


def test_match_jsonl_contract_keeps_order_and_survives_bad_lines() -> None:
    lines = [
        json.dumps({"id": "a", "text": OVERLOADED}),
        "this is not json",
        json.dumps({"id": "b", "text": "lunch at noon?"}),
        json.dumps({"id": "c"}),
        json.dumps({"id": "d", "text": OVERLOADED}),
    ]
    done = run("match", "--jsonl", "--top", "2", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["id"] == "a" and out[0]["match"] == "claude-code-529-overloaded"
    assert set(out[0]) == {"id", "match", "score", "alternates"}
    assert len(out[0]["alternates"]) <= 2 and all(set(a) == {"match", "score"} for a in out[0]["alternates"])
    assert out[1]["id"] is None and "error" in out[1]
    assert out[2] == {**out[2], "id": "b", "match": None}
    assert "error" in out[3]
    assert out[4]["id"] == "d"


def test_reading_json_and_jsonl_contract() -> None:
    one = json.loads(run("reading", "--json", "You've hit your session limit · resets 5pm (Europe/Paris)").stdout)
    assert set(one) == {"tool", "plan", "model_mode", "readings"}
    assert one["readings"][0]["window"] == "session" and one["readings"][0]["limit_hit"] is True
    assert set(one["readings"][0]) == {"window", "percent", "from_percent", "limit_hit", "resets", "idle"}
    done = run("reading", "--jsonl", stdin=json.dumps({"id": "x", "text": "CI is 100% green"}) + "\n{bad\n")
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert out[0] == {"id": "x", "tool": None, "plan": None, "model_mode": None, "readings": []}
    assert out[1]["id"] is None and "error" in out[1]


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (("match",), 2),  # nothing to match
        (("match", "x", "--top", "0"), 2),
        (("nonsense",), 2),
        (("tallies", "--since", "yesterday-ish"), 2),
        (("incident", "ack", "notanumber"), 2),
    ],
)
def test_bad_usage_exits_2_without_traceback(args: tuple[str, ...], status: int, tmp_path: Path) -> None:
    done = run(*args, stdin="", env={"SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'x.db'}"})
    assert done.returncode == status
    assert "Traceback" not in done.stderr and done.stderr.strip()


def test_every_subcommand_has_help() -> None:
    for command in ("run", "console", "slack", "discord", "match", "reading", "catalog", "tallies", "incidents",
                    "incident", "export", "chart", "config", "purge", "forget", "db"):
        done = run(command, "--help")
        assert done.returncode == 0 and "usage:" in done.stdout, command


def test_config_masks_secrets() -> None:
    token = "xoxb-1111-2222-SECRETVALUE1234"
    done = run("config", env={"SLACK_BOT_TOKEN": token, "SUPPORTBOT_DB": "postgresql://u:pw-secret@h/db"})
    assert done.returncode == 0, done.stderr
    assert "SECRETVALUE" not in done.stdout and "pw-secret" not in done.stdout
    assert "slack_bot_token" in done.stdout


def test_invalid_settings_are_listed_together() -> None:
    done = run("config", env={"PORT": "abc", "LOG_LEVEL": "LOUD", "SUPPORTBOT_DB": "mysql://x"})
    assert done.returncode == 2
    for name in ("PORT", "LOG_LEVEL", "SUPPORTBOT_DB"):
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_database_is_one_line_exit_1(tmp_path: Path) -> None:
    done = run("tallies", env={"SUPPORTBOT_DB": "postgresql://nobody:pw-secret@127.0.0.1:1/none"})
    assert done.returncode == 1
    assert "pw-secret" not in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_staff_commands_on_sqlite(tmp_path: Path) -> None:
    env = {"SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert run("db", "init", env=env).returncode == 0
    tallies = json.loads(run("tallies", "--since", "7d", "--json", env=env).stdout)
    assert tallies["reports"] == 0
    assert json.loads(run("incidents", "--json", env=env).stdout) == []
    missing = run("incident", "ack", "99", env=env)
    assert missing.returncode == 2 and "no incident #99" in missing.stderr
    exported = run("export", "--format", "json", env=env)
    assert exported.returncode == 0 and json.loads(exported.stdout) == []
    out = tmp_path / "chart.png"
    chart = run("chart", "--since", "7d", "--out", str(out), env=env)
    assert chart.returncode == 0, chart.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    purge = run("purge", "--older-than", "90d", env=env)
    assert purge.returncode == 0 and "purged" in purge.stdout
    forget = run("forget", "slack:U1", env=env)
    assert forget.returncode == 0 and "forgot" in forget.stdout


def test_settings_are_read_from_a_dotenv_file_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv-SECRETPART1234\nPORT=4567\n", encoding="utf-8")
    done = run("config", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "4567" in done.stdout and "SECRETPART" not in done.stdout
    assert ".env" in done.stdout  # the sources line says where settings came from
    overridden = run("config", cwd=tmp_path, env={"PORT": "5678"})  # the environment wins over .env
    assert "5678" in overridden.stdout


def test_a_large_jsonl_input_keeps_order_across_worker_processes() -> None:
    from bot.cli import JSONL_BATCH

    lines = []
    for n in range(JSONL_BATCH + 300):  # more than one batch, so the parallel path runs
        if n % 97 == 0:
            lines.append("{broken json")
        elif n % 2:
            lines.append(json.dumps({"id": n, "text": OVERLOADED}))
        else:
            lines.append(json.dumps({"id": n, "text": "lunch at noon?"}))
    done = run("match", "--jsonl", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    for n, answer in enumerate(out):
        if n % 97 == 0:
            assert answer["id"] is None and "error" in answer
        else:
            assert answer["id"] == n
            assert answer["match"] == ("claude-code-529-overloaded" if n % 2 else None)
