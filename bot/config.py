"""Settings, read once from the environment (and an optional .env file) into a frozen object.

`Settings.from_env` is the only code that reads environment variables; everything else receives the
settings it needs. Every problem is collected before raising, so an operator fixes them in one go.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from bot.core.errors import ConfigError
from bot.core.masking import mask_url
from bot.core.models import ChannelMode
from bot.core.policy import Policy

__all__ = ["Settings", "mask_url"]

DEFAULT_DB = "sqlite:///./data/supportbot.db"
DEFAULT_SLACK_API = "https://slack.com/api/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
CHANNEL_MODES = ("auto", "mention", "off")


class Secret(str):
    """A string that never shows its value in repr, logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def masked(self) -> str:
        return "***" + self[-4:] if len(self) > 12 else "***"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DB
    knowledge_dirs: tuple[Path, ...] = ()  # empty: the shipped catalog alone
    cache_dir: Path | None = None  # where the prepared catalog is kept between runs; None: nowhere
    slack_bot_token: Secret | None = None
    slack_app_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_api_url: str = DEFAULT_SLACK_API
    slack_staff_usergroup: str | None = None
    slack_staff_channel: str | None = None
    slack_watch_channels: frozenset[str] = frozenset()
    discord_token: Secret | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = None
    discord_staff_role: str | None = None
    discord_staff_channel: int | None = None
    discord_watch_channels: frozenset[str] = frozenset()
    discord_use_threads: bool = False
    staff_ids: frozenset[str] = frozenset()
    default_channel_mode: str = "auto"
    port: int = 3000
    log_level: str = "INFO"
    log_format: str = "text"
    reports_per_hour: int = 20
    duplicate_minutes: int = 10
    merge_seconds: int = 120
    detect_seconds: int = 60
    max_in_flight: int = 64
    sources: tuple[str, ...] = field(default=(), compare=False)

    # -- derived --------------------------------------------------------------------------------

    @property
    def knowledge_folders(self) -> tuple[Path, ...]:
        """The catalog folders in use, in order (a later one replaces entries of an earlier one by id)."""
        if self.knowledge_dirs:
            return self.knowledge_dirs
        from bot.core.catalog import default_catalog_dir

        return (default_catalog_dir(),)

    @property
    def knowledge_dir(self) -> Path | None:
        """The one catalog folder configured, when there is exactly one (None: several, or the default)."""
        return self.knowledge_dirs[0] if len(self.knowledge_dirs) == 1 else None

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    @property
    def discord_configured(self) -> bool:
        return bool(self.discord_token)

    def is_staff_id(self, platform: str, user_id: str) -> bool:
        return self.policy().is_staff_id(platform, user_id)

    def policy(self) -> Policy:
        """The rules the core acts on (channel modes, staff, watch lists, limits), and nothing else."""
        return Policy(
            default_channel_mode=ChannelMode(self.default_channel_mode),
            staff_ids=self.staff_ids,
            watch_channels={"slack": _names(self.slack_watch_channels), "discord": _names(self.discord_watch_channels)},
            reports_per_hour=self.reports_per_hour,
            duplicate_minutes=self.duplicate_minutes,
            merge_seconds=self.merge_seconds,
            max_in_flight=self.max_in_flight,
        )

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Build settings from `env` (default: os.environ plus ./.env); raise ConfigError listing all problems."""
        merged: dict[str, str] = {}
        sources: list[str] = []
        if dotenv is not None and dotenv.is_file():
            from dotenv import dotenv_values

            try:
                values = dotenv_values(dotenv)
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{dotenv}: not UTF-8 text (byte {exc.start})") from None
            except OSError as exc:
                raise ConfigError(f"{dotenv}: cannot read it ({exc.strerror})") from None
            merged.update({k: v for k, v in values.items() if v is not None})
            sources.append(str(dotenv))
        merged.update(os.environ if env is None else env)
        sources.append("environment")
        return _parse(merged, tuple(sources))

    def describe(self) -> list[tuple[str, str]]:
        """(name, value) pairs for `supportbot config`, secrets masked."""
        rows: list[tuple[str, str]] = []
        for item in fields(self):
            if item.name == "sources":
                continue
            value = getattr(self, item.name)
            if isinstance(value, Secret):
                shown = value.masked()
            elif value is None:
                shown = "(unset)"
            elif isinstance(value, frozenset):
                shown = ", ".join(sorted(value)) or "(all)" if "watch" in item.name else ", ".join(sorted(value))
            elif item.name == "knowledge_dirs":
                shown = ":".join(str(f) for f in value) or "builtin"
            elif item.name.endswith("_url"):
                shown = mask_url(value)
            else:
                shown = str(value)
            rows.append((item.name, shown or "(empty)"))
        return rows


def _names(channels: frozenset[str]) -> frozenset[str]:
    """Watch-list entries as the core compares them: ids as they are, names without a leading '#'."""
    return frozenset(c.lstrip("#") for c in channels)


def _parse(env: Mapping[str, str], sources: tuple[str, ...]) -> Settings:
    problems: list[str] = []

    def text(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    def secret(name: str, prefix: tuple[str, ...] = ()) -> Secret | None:
        value = text(name)
        if value is None:
            return None
        if prefix and not value.startswith(prefix):
            problems.append(f"{name} does not look right: it should start with {' or '.join(prefix)}")
        return Secret(value)

    def integer(name: str, default: int | None, low: int = 0, high: int = 2**63) -> int | None:
        value = text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            problems.append(f"{name} must be a whole number, got {value[:20]!r}")
            return default
        if not low <= number <= high:
            problems.append(f"{name} must be between {low} and {high}, got {number}")
            return default
        return number

    def id_set(name: str) -> frozenset[str]:
        value = text(name)
        return frozenset(part.strip() for part in value.split(",") if part.strip()) if value else frozenset()

    def url(name: str, default: str | None) -> str | None:
        value = text(name)
        if value is None:
            return default
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            problems.append(f"{name} must be an http(s) or ws(s) URL")
            return default
        return value

    def flag(name: str) -> bool:
        value = (text(name) or "").lower()
        if value and value not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            problems.append(f"{name} must be true or false")
        return value in ("1", "true", "yes", "on")

    database_url = text("SUPPORTBOT_DB") or text("DATABASE_URL") or DEFAULT_DB
    if not database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
        problems.append(
            "SUPPORTBOT_DB (or DATABASE_URL) must start with sqlite:///, postgres:// or postgresql://"
        )
    knowledge = text("SUPPORTBOT_KNOWLEDGE")
    knowledge_dirs: tuple[Path, ...] = ()
    if knowledge:
        from bot.core.catalog_folders import parse_folders

        knowledge_dirs, folder_problems = parse_folders(knowledge)
        problems.extend(folder_problems)
    cache = text("SUPPORTBOT_CACHE_DIR")
    if cache is None:
        home = text("XDG_CACHE_HOME")
        cache_dir: Path | None = (Path(home) if home else Path.home() / ".cache") / "supportbot"
    else:
        cache_dir = None if cache.lower() in ("off", "none", "0", "false") else Path(cache)
    log_level = (text("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        log_level = "INFO"
    log_format = (text("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        problems.append("LOG_FORMAT must be text or json")
        log_format = "text"
    mode = (text("SUPPORTBOT_CHANNEL_MODE") or "auto").lower()
    if mode not in CHANNEL_MODES:
        problems.append(f"SUPPORTBOT_CHANNEL_MODE must be one of {', '.join(CHANNEL_MODES)}")
        mode = "auto"
    slack_bot_token = secret("SLACK_BOT_TOKEN", ("xoxb-",))
    slack_app_token = secret("SLACK_APP_TOKEN", ("xapp-",))
    slack_signing_secret = secret("SLACK_SIGNING_SECRET")
    if (slack_app_token or slack_signing_secret) and not slack_bot_token:
        problems.append("SLACK_BOT_TOKEN is required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set")
    staff_channel = integer("DISCORD_STAFF_CHANNEL", None, 1)
    settings = Settings(
        database_url=database_url,
        knowledge_dirs=knowledge_dirs,
        cache_dir=cache_dir,
        slack_bot_token=slack_bot_token,
        slack_app_token=slack_app_token,
        slack_signing_secret=slack_signing_secret,
        slack_api_url=url("SLACK_API_URL", DEFAULT_SLACK_API) or DEFAULT_SLACK_API,
        slack_staff_usergroup=text("SLACK_STAFF_USERGROUP"),
        slack_staff_channel=text("SLACK_STAFF_CHANNEL"),
        slack_watch_channels=id_set("SLACK_WATCH_CHANNELS"),
        discord_token=secret("DISCORD_TOKEN"),
        discord_api_url=url("DISCORD_API_URL", None),
        discord_gateway_url=url("DISCORD_GATEWAY_URL", None),
        discord_guild_id=integer("DISCORD_GUILD_ID", None, 1),
        discord_staff_role=text("DISCORD_STAFF_ROLE"),
        discord_staff_channel=staff_channel,
        discord_watch_channels=id_set("DISCORD_WATCH_CHANNELS"),
        discord_use_threads=flag("DISCORD_USE_THREADS"),
        staff_ids=id_set("SUPPORTBOT_STAFF"),
        default_channel_mode=mode,
        port=integer("PORT", 3000, 1, 65535) or 3000,
        log_level=log_level,
        log_format=log_format,
        reports_per_hour=integer("SUPPORTBOT_REPORTS_PER_HOUR", 20, 1, 10_000) or 20,
        duplicate_minutes=integer("SUPPORTBOT_DUPLICATE_MINUTES", 10, 0, 24 * 60) or 0,
        merge_seconds=integer("SUPPORTBOT_MERGE_SECONDS", 120, 0, 3600) or 0,
        detect_seconds=integer("SUPPORTBOT_DETECT_SECONDS", 60, 1, 24 * 3600) or 60,
        max_in_flight=integer("SUPPORTBOT_MAX_IN_FLIGHT", 64, 1, 100_000) or 64,
        sources=sources,
    )
    if problems:
        raise ConfigError("invalid settings:\n  - " + "\n  - ".join(problems))
    return settings
