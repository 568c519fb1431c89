"""What the Discord application declares, as data: intents, invite permissions, endpoints, app commands.

Endpoints: discord.py builds every REST URL from `discord.http.Route.BASE` and opens the gateway at
`DiscordWebSocket.DEFAULT_GATEWAY` (`Client.connect` -> `DiscordWebSocket.from_client`; the plain
`Client` never asks `/gateway/bot`). Both are class attributes, so `use_endpoints` sets them from
`DISCORD_API_URL` / `DISCORD_GATEWAY_URL`: the least invasive seam, and internal, hence the pinned
`discord.py>=2.4,<2.8`.

The adapter (`discord_adapter`) imports these; nothing here talks to Discord or decides an answer.
The app commands only hand their text to `SupportBot.run_command`, where the shared grammar reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord_render import CHOICE_VALUE_MAX, CHOICES_MAX, choice_name
from bot.config import Settings
from bot.core.models import ChannelMode, Command

if TYPE_CHECKING:
    from bot.adapters.discord_adapter import SupportBot

MAX_OPTION_TEXT = 6_000  # Discord's limit for a string option

_DEFAULT_API_BASE = Route.BASE
_DEFAULT_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY


# -- configuration ---------------------------------------------------------------------------------


def bot_intents() -> discord.Intents:
    """Guilds (channels, roles, threads), guild messages, and message content (privileged)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    return intents


def invite_permissions() -> discord.Permissions:
    """Exactly what the bot uses: read and answer, embeds, 👀, replies (need history), threads."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        embed_links=True,
        add_reactions=True,
        read_message_history=True,
    )


INVITE_SCOPES = ("bot", "applications.commands")


def invite_url(client_id: int | str) -> str:
    return discord.utils.oauth_url(client_id, permissions=invite_permissions(), scopes=INVITE_SCOPES)


def use_endpoints(settings: Settings) -> None:
    """Point discord.py's REST base and gateway at the configured URLs (defaults when unset)."""
    Route.BASE = settings.discord_api_url.rstrip("/") if settings.discord_api_url else _DEFAULT_API_BASE
    DiscordWebSocket.DEFAULT_GATEWAY = (
        yarl.URL(settings.discord_gateway_url) if settings.discord_gateway_url else _DEFAULT_GATEWAY
    )


# -- commands --------------------------------------------------------------------------------------


def install_commands(bot: SupportBot) -> None:
    """`/errfix` (with autocomplete), `/quota`, `/incidents`, `/channel-mode` and "Look up this error"."""

    @app_commands.command(name="errfix", description="Look up an error, an entry id or title (also: help, mode auto|mention|off, reload)")
    @app_commands.describe(text="The error text, or an entry id or title")
    async def errfix(interaction: discord.Interaction[Any],
                     text: app_commands.Range[str, 1, MAX_OPTION_TEXT]) -> None:
        await bot.run_command(interaction, Command.ERRFIX, text)

    @errfix.autocomplete("text")
    async def errfix_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        choices = []
        for entry in await bot.service.suggest(current[:200], CHOICES_MAX):
            if len(entry.id) <= CHOICE_VALUE_MAX:
                choices.append(app_commands.Choice(name=choice_name(entry.title, entry.tool), value=entry.id))
        return choices[:CHOICES_MAX]

    @app_commands.command(name="quota", description="Report a usage-quota reading (paste /usage or describe it)")
    @app_commands.describe(text="e.g. session 64% -> 100% overnight, nothing running")
    async def quota(interaction: discord.Interaction[Any], text: app_commands.Range[str, 1, MAX_OPTION_TEXT]) -> None:
        await bot.run_command(interaction, Command.QUOTA, text)

    @app_commands.command(name="incidents", description="Support staff: quota tallies and open incidents")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def incidents(interaction: discord.Interaction[Any]) -> None:
        await bot.run_command(interaction, Command.INCIDENTS, "")

    @app_commands.command(name="channel-mode", description="Support staff: how I answer pasted errors here")
    @app_commands.describe(mode="auto: every recognised paste; mention: only when mentioned; off: never")
    @app_commands.choices(mode=[app_commands.Choice(name=m.value, value=m.value) for m in ChannelMode])
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def channel_mode(interaction: discord.Interaction[Any], mode: app_commands.Choice[str]) -> None:
        await bot.run_command(interaction, Command.CHANNEL_MODE, mode.value)

    @app_commands.context_menu(name="Look up this error")
    async def look_up(interaction: discord.Interaction[Any], message: discord.Message) -> None:
        await bot.run_command(interaction, Command.LOOK_UP, message.content)

    commands: tuple[app_commands.Command[Any, Any, Any] | app_commands.ContextMenu, ...] = (
        errfix, quota, incidents, channel_mode, look_up)
    for command in commands:
        bot.tree.add_command(command)
