"""Logging for operators: one line per event, plain text or JSON lines; configured only by the CLI."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

from bot.core.masking import mask_secrets

_QUIET_LIBRARIES = ("discord", "discord.http", "discord.gateway", "slack_bolt", "slack_sdk", "aiohttp.access",
                    "asyncio", "aiosqlite", "asyncpg")


class _MaskingFilter(logging.Filter):
    """Last line of defence: a token that slips into a log message is masked before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text", stream: object = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_MaskingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    library_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
