"""Normalisation of real paste noise, and masking of secrets pasted along with errors."""

from __future__ import annotations

import pytest

from bot.core.masking import mask_secrets
from bot.core.normalize import clean, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mError:\x1b[0m boom", "Error: boom"),
        ("```\nAPI Error: 500\n```", "API Error: 500"),
        ("<@U0123ABC> look: `Invalid API key`", "look: Invalid API key"),
        ("&gt; quoted &amp; escaped &lt;tag&gt;", "quoted & escaped <tag>"),
        ('{\\"type\\":\\"error\\"}', '{"type":"error"}'),
        ("You’ve hit your limit", "You've hit your limit"),
        ("│ Failed to login │\n╰────╯", "Failed to login"),
        ("⎿  API Error ● ✻ done", "API Error done"),
        ("<#C123|general> <https://x.io/a|link>", "#general https://x.io/a link"),
    ],
)
def test_clean_removes_transport_noise(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_normalize_replaces_volatile_tokens() -> None:
    text = (
        "2026-01-19T04:28:42.504Z request_id req_011CYV9GbvFVLGsuomWdfSnQ "
        "id 603dd727-b8fe-4a6b-bf30-5330d36e7a47 at /Users/me/app/cli.js:716 "
        "C:\\Users\\Me\\npm\\cli.js 0x1a0d4000 https://example.com/x?y=1 32000 tokens 429"
    )
    got = normalize(text)
    for placeholder in ("time", "id", "uuid", "path", "hex", "url", "num"):
        assert placeholder in got.split()
    assert "429" in got.split()  # short status codes are meaningful and stay
    assert "req_011" not in got and "users" not in got


def test_normalize_survives_binary_junk() -> None:
    junk = bytes(range(256)).decode("latin-1") * 50
    assert isinstance(normalize(junk), str)


@pytest.mark.parametrize(
    ("secret", "kept_prefix"),
    [
        ("sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefgh", "sk-ant-"),
        ("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "sk-"),
        ("xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "xox-"),
        ("xapp-1-A0123456789-0123456789012-abcdef0123456789", "xapp-"),
        ("ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "gh_"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_"),
        ("AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIza"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt-"),
    ],
)
def test_api_keys_are_masked(secret: str, kept_prefix: str) -> None:
    paste = f"Error: 401 Unauthorized (key {secret}) please check"
    masked = mask_secrets(paste)
    assert secret not in masked
    assert kept_prefix + "[masked]" in masked
    assert masked.startswith("Error: 401 Unauthorized")


def test_headers_urls_passwords_and_emails_are_masked() -> None:
    paste = (
        "curl -H 'Authorization: Bearer abcdef1234567890abcdef' -H 'x-api-key: sk-live-zzzzzzzz' "
        "postgresql://admin:hunter2secret@db.internal:5432/prod\n"
        'ANTHROPIC_API_KEY="not-really-a-key-but-secret" password=swordfish123 '
        "contact jane.doe@example.com"
    )
    masked = mask_secrets(paste)
    for leaked in ("abcdef1234567890abcdef", "sk-live-zzzzzzzz", "hunter2secret", "not-really-a-key-but-secret",
                   "swordfish123", "jane.doe@example.com"):
        assert leaked not in masked, leaked
    assert "postgresql://admin:[masked]@db.internal:5432/prod" in masked


def test_masking_leaves_ordinary_errors_alone() -> None:
    paste = 'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'
    assert mask_secrets(paste) == paste
