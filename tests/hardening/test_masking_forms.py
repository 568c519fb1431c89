"""Secrets in every form people paste them, and passwords in every URL form libpq accepts."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.core.masking import mask_secrets, mask_url
from bot.storage import mask_url as store_mask_url

PASSWORD = "hunter2-s3cret"


@pytest.mark.parametrize(
    ("paste", "secret"),
    [
        ("db: postgresql://admin:p@ss@word@db.internal/prod failed", "p@ss@word"),
        ("curl --api-key abcd1234efgh5678 https://x.io", "abcd1234efgh5678"),
        ("aider --openai-api-key sk-nonstandard-keyvalue --model x", "sk-nonstandard-keyvalue"),
        ("ｓｋ-ａｎｔ-ａｐｉ０３-ＡｂＣｄＥｆＧｈＩｊＫｌ", "ＡｂＣｄＥｆＧｈＩｊＫｌ"),
        ("sk-ant-\u200bapi03-AbCdEfGhIjKlMnOp", "AbCdEfGhIjKlMnOp"),
        ("Error: password=abc123xyz in config", "abc123xyz"),
        ('{"client_secret": "s3"}', '"s3"'),
        ("host=db password='with spaces in it' user=x", "with spaces in it"),
        ("pwd-" * 20 + "=" + "topsecretvalue", "topsecretvalue"),
    ],
)
def test_secret_forms_are_masked(paste: str, secret: str) -> None:
    assert secret not in mask_secrets(paste)


@pytest.mark.parametrize(
    "paste",
    [
        "--max-tokens 4096 exceeded",
        '"max_tokens": 8192',
        "Error: connect ECONNREFUSED 127.0.0.1:5432",
        "token usage: input 1200 output 300",
    ],
)
def test_counts_and_ordinary_errors_stay_readable(paste: str) -> None:
    assert mask_secrets(paste) == paste


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"postgresql://bot:{PASSWORD}@db:5432/x", "postgresql://bot:***@db:5432/x"),
        (f"postgresql://bot:p%40ss{PASSWORD}@db/x", "postgresql://bot:***@db/x"),  # percent-encoded
        (f"postgresql://bot:p@ss{PASSWORD}@db/x", "postgresql://bot:***@db/x"),  # a raw "@" in it
        (f"postgresql://db/x?password={PASSWORD}", "postgresql://db/x?password=***"),
        (f"postgresql://db/x?user=bot&password={PASSWORD}&sslmode=require",
         "postgresql://db/x?user=bot&password=***&sslmode=require"),
        (f"postgresql://db/x?pass%77ord={PASSWORD}", "postgresql://db/x?pass%77ord=***"),  # name encoded
        (f"postgresql://db/x?PASSWORD={PASSWORD}", "postgresql://db/x?PASSWORD=***"),
        (f"postgresql://db/x?sslpassword={PASSWORD}", "postgresql://db/x?sslpassword=***"),
        (f"postgresql://bot:{PASSWORD}@h1:5432,h2:5433/x?password={PASSWORD}#top",
         "postgresql://bot:***@h1:5432,h2:5433/x?password=***#top"),
        (f"host=db user=bot password={PASSWORD} dbname=x", "host=db user=bot password=*** dbname=x"),
        (f"host=db password='{PASSWORD} x' dbname=x", "host=db password=*** dbname=x"),
        ("postgresql://bot@db/x", "postgresql://bot@db/x"),
        ("sqlite:///data/supportbot.db", "sqlite:///data/supportbot.db"),
    ],
)
def test_mask_url_covers_libpq_forms(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert store_mask_url(url) == masked  # one function, whoever calls it


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://bot:{PASSWORD}@db/x",
        f"postgresql://db/x?password={PASSWORD}",
        f"postgresql://db/x?sslmode=require&password={PASSWORD}",
        f"postgresql://bot:p%40{PASSWORD}@db/x",
    ],
)
def test_config_never_shows_a_database_password(url: str) -> None:
    settings = Settings.from_env({"SUPPORTBOT_DB": url, "SLACK_API_URL": f"https://u:{PASSWORD}@proxy/api/"})
    shown = "\n".join(f"{name} {value}" for name, value in settings.describe())
    assert PASSWORD not in shown
