"""The error tree, for code outside the core; the classes themselves live in `bot.core.errors`."""

from __future__ import annotations

from bot.core.errors import (
    BotError,
    CatalogError,
    ConfigError,
    DeliveryError,
    StartupError,
    StoreError,
    UsageError,
)

__all__ = ["BotError", "CatalogError", "ConfigError", "DeliveryError", "StartupError", "StoreError", "UsageError"]
