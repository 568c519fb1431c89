"""Serving the Discord front end: log in, connect to the gateway, run until cancelled, close.

The adapter (`bot.adapters.discord_adapter.SupportBot`) translates between Discord and the core; this
module owns its lifetime and turns discord.py's refusals at log-in into clear configuration errors.

    await run_discord(service, settings)   # what the runner starts; returns only when cancelled
"""

from __future__ import annotations

import discord

from bot.adapters.discord_adapter import SupportBot
from bot.config import Settings
from bot.core.errors import ConfigError, DeliveryError
from bot.core.ports import AlertRelay
from bot.core.service import SupportService

TOKEN_REJECTED = "DISCORD_TOKEN was rejected by Discord"
INTENT_MISSING = (
    "Discord refused the Message Content intent: enable it under Bot -> Privileged Gateway Intents "
    "in the Developer Portal"
)


async def run_discord(service: SupportService, settings: Settings, *, alerts: AlertRelay | None = None) -> None:
    """Log in, connect and serve until cancelled; close everything on the way out.

    Raises ConfigError (never showing the token) when Discord rejects the token or the intent.
    """
    token = settings.discord_token
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set")
    bot = SupportBot(service, settings, alerts=alerts)
    try:
        async with bot:
            try:
                await bot.login(str(token))
            except discord.LoginFailure:
                raise ConfigError(TOKEN_REJECTED) from None
            await bot.connect(reconnect=True)
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(INTENT_MISSING) from None
    except discord.ConnectionClosed as exc:
        if exc.code == 4004:  # authentication failed on the gateway
            raise ConfigError(TOKEN_REJECTED) from None
        if exc.code == 4014:
            raise ConfigError(INTENT_MISSING) from None
        raise DeliveryError(f"discord: the gateway closed the connection ({exc.code})") from None
