"""Hostile and clumsy command-line input: one line on stderr, exit 2 (bad input) or 1 (run time), never
a traceback; --jsonl answers every line, a bad one with a per-line error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import cli

OVERLOADED = "API Error: 529 overloaded_error Overloaded"


def run(*args: str | bytes, stdin: bytes = b"", env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "SUPPORTBOT_"))}
    base.pop("DATABASE_URL", None)
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, env=base,
                          cwd=cwd, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[bytes], status: int, words: str) -> None:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == status, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert words in last, err


@pytest.fixture
def db_env(tmp_path: Path) -> dict[str, str]:
    return {"SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'bot.db'}"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("incident", "ack", "99999999999999999999999"), "is not an incident number"),
        (("incident", "ack", "0"), "is not an incident number"),
        (("catalog",), "catalog needs an action"),
        (("forget", ""), "forget needs a user id"),
        (("forget", "slack:"), "forget needs a user id"),
        (("forget", b"\xff\xfeuser"), "user is not valid UTF-8"),
        (("incident", "ack", "1", "--note", b"bad \xff note"), "note is not valid UTF-8"),
        (("tallies", "--since", "1d", "--until", "2d"), "is not after --since"),
        (("--env-file", "/no/such/file.env", "config"), "no such file"),
        (("match", "--jsonl", "some text"), "--jsonl reads its lines from stdin"),
        (("reading", "--jsonl", "some text"), "--jsonl reads its lines from stdin"),
        (("slack", "--http", "--port", "999999"), "not a port number"),
        (("purge", "--older-than", "99999999999999d"), "too long"),
        (("tallies", "--since", "9" * 5000 + "d"), "window"),
    ],
)
def test_bad_input_is_one_line_and_status_2(db_env: dict[str, str], args: tuple[str | bytes, ...],
                                            words: str) -> None:
    assert_one_line_error(run(*args, env=db_env), 2, words)


def test_env_file_that_is_not_utf8(tmp_path: Path, db_env: dict[str, str]) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_bytes(b"SUPPORTBOT_LOG_LEVEL=\xff\xfe\n")
    assert_one_line_error(run("--env-file", str(env_file), "config", env=db_env), 2, "not UTF-8 text")


def test_a_paste_with_bad_bytes_in_argv_is_read_not_refused() -> None:
    result = run("match", "--json", b"API Error: 529 \xff overloaded_error Overloaded")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["match"] is not None


def test_config_masks_every_password_form(db_env: dict[str, str]) -> None:
    for url in ("postgresql://bot:hunter2-s3cret@db/x", "postgresql://db/x?password=hunter2-s3cret",
                "postgresql://db/x?sslmode=require&password=hunter2-s3cret"):
        result = run("config", env={"SUPPORTBOT_DB": url})
        assert result.returncode == 0, result.stderr
        assert b"hunter2" not in result.stdout + result.stderr
        assert b"***" in result.stdout


@pytest.mark.parametrize("command", ["match", "reading"])
def test_jsonl_survives_nesting_surrogates_and_garbage(command: str) -> None:
    lines = [
        b"[" * 100_000,
        json.dumps({"id": "\ud800", "text": OVERLOADED}).encode(),
        json.dumps({"id": "t", "text": "abc \ud83d def"}).encode(),
        b"\xff\xfe not utf-8 {",
        json.dumps({"id": {"nested": [1, 2]}, "text": OVERLOADED}).encode(),
        b'{"id": "x", "text": 5}',
        json.dumps({"id": "ok", "text": OVERLOADED}).encode(),
    ]
    result = run(command, "--jsonl", stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    answers = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(answers) == len(lines)
    assert "error" in answers[0] and answers[0]["id"] is None
    assert answers[1]["id"] == "\ud800" and "error" not in answers[1]
    assert "error" not in answers[2]
    assert "error" in answers[3] and "error" in answers[5]
    assert answers[4]["id"] == {"nested": [1, 2]}
    assert answers[6]["id"] == "ok" and "error" not in answers[6]


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20)))
def test_any_jsonl_line_gets_exactly_one_json_answer(raw: bytes) -> None:
    cli._line_handler = lambda line_id, text: {"id": line_id, "length": len(text)}
    for line in raw.splitlines() or [raw]:
        answer = cli._answer_line(line)
        if answer is None:
            assert not line.decode("utf-8", "replace").strip()
            continue
        assert "\n" not in answer
        decoded = json.loads(answer)
        assert isinstance(decoded, dict) and "id" in decoded
        answer.encode("utf-8")  # always writable
