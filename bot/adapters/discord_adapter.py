"""The Discord front end: a thin translator between discord.py and the core.

A channel message becomes an `Incoming` plus a `_DiscordPort` (👀, thread history, reply, edit) and
goes to the core's triage (`bot.core.triage`); a slash command, menu pick or button becomes an
`Incoming` (saying whether the person's role or permissions make them staff) plus an `_InteractionPort`
and goes to `SupportService.respond`, which posts the replies through it, as Slack's commands do.
Replies are rendered as embeds with persistent buttons (`discord_render`). Nothing here decides *what*
to answer: watch lists, channel modes, thread skipping, merging and staff rules live in the core.
discord.py's HTTP errors become `DeliveryError` here, at the edge.

Logging in, connecting and serving it is the composition root's part (`bot.serve_discord`). The
application's declared surface (intents, invite, endpoints, app commands) is in `discord_app`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord_app import bot_intents, install_commands, use_endpoints
from bot.adapters.discord_render import (
    NO_PINGS,
    ActionButton,
    build_view,
    clip,
    fallback_parts,
    render_embed,
    render_message,
    thread_name,
)
from bot.config import Settings
from bot.core.commands import parse_command
from bot.core.errors import DeliveryError
from bot.core.models import Command, Incoming, Reply
from bot.core.ports import AlertRelay, PlainPort, Posted, ThreadAuthors
from bot.core.service import SupportService

log = logging.getLogger(__name__)

PLATFORM = "discord"
RECEIPT_EMOJI = "\N{EYES}"
HISTORY_LOOKBACK = 50  # earlier messages read from a thread to see who already helped
SORRY = "Sorry, something went wrong on my side. Please try again in a minute."

# -- translation -----------------------------------------------------------------------------------


def strip_mention(text: str, user_id: int | None, role_ids: tuple[int, ...] = ()) -> str:
    """Remove `<@BOT>` / `<@!BOT>` / `<@&BOT_ROLE>` (the bot being addressed) before matching."""
    if user_id is not None:
        text = re.sub(rf"<@!?{user_id}>:?", " ", text)
    for role_id in role_ids:
        text = re.sub(rf"<@&{role_id}>:?", " ", text)
    return text.strip()


def channel_ids(channel: Any) -> tuple[str, str | None]:
    """(channel id, thread id): a thread counts as its parent channel, so modes and watch lists apply."""
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id), str(channel.id)
    return str(getattr(channel, "id", "")), None


def is_platform_staff(user: discord.abc.User, settings: Settings,
                      permissions: discord.Permissions | None = None) -> bool:
    """Staff on Discord: the configured role, or Manage Server (administrators have it too)."""
    if not isinstance(user, discord.Member):
        return False
    wanted = settings.discord_staff_role
    if wanted and any(str(role.id) == wanted or role.name == wanted for role in user.roles):
        return True
    granted = permissions if permissions is not None else user.guild_permissions
    return granted.manage_guild or granted.administrator


def bot_role_ids(message: discord.Message) -> tuple[int, ...]:
    """The bot's own managed role in this server: picking "@supportbot" sometimes mentions the role."""
    me = message.guild.me if message.guild is not None else None
    return tuple(role.id for role in getattr(me, "roles", ()) if role.is_bot_managed())


def mentions_bot(message: discord.Message, bot_id: int | None) -> bool:
    if bot_id is not None and bot_id in message.raw_mentions:
        return True
    return any(role_id in message.raw_role_mentions for role_id in bot_role_ids(message))


def _incoming(channel: Any, user: discord.abc.User, guild_id: int | None, text: str, **fields: Any) -> Incoming:
    """What every Discord event says alike: where (a thread counts as its parent), who, in which server."""
    channel_id, thread_id = channel_ids(channel)
    return Incoming(platform=PLATFORM, channel_id=channel_id, thread_id=thread_id, user_id=str(user.id),
                    user_name=user.display_name, workspace_id=str(guild_id or ""), is_direct=guild_id is None,
                    text=text, **fields)


def message_incoming(message: discord.Message, *, bot_id: int | None) -> Incoming:
    parent = getattr(message.channel, "parent", None) or message.channel
    return _incoming(message.channel, message.author, message.guild.id if message.guild else None,
                     strip_mention(message.content, bot_id, bot_role_ids(message)),
                     channel_name=str(getattr(parent, "name", None) or ""), message_id=str(message.id),
                     mentioned=mentions_bot(message, bot_id))


def interaction_incoming(interaction: discord.Interaction[Any], command: Command, text: str,
                         settings: Settings) -> Incoming:
    """A command, menu pick or click: addressed to the bot by its nature; the person's roles and
    permissions come with it, so whether the platform makes them staff costs no question."""
    message = interaction.message
    incoming = _incoming(interaction.channel, interaction.user, interaction.guild_id, text, command=command,
                         message_id=str(message.id) if message is not None else None, mentioned=True,
                         platform_staff=is_platform_staff(interaction.user, settings, interaction.permissions))
    return incoming if incoming.channel_id else replace(incoming, channel_id=str(interaction.channel_id or ""))


# -- the client ------------------------------------------------------------------------------------


class SupportBot(discord.Client):
    """discord.py client with the service and settings injected; commands live on `self.tree`."""

    def __init__(self, service: SupportService, settings: Settings, *, alerts: AlertRelay | None = None,
                 **options: Any) -> None:
        options.setdefault("allowed_mentions", NO_PINGS)
        # No message cache: we never act on edits, and a cached Message is updated in place by
        # MESSAGE_UPDATE, so a paste edited in quickly could be answered as if it had been sent.
        options.setdefault("max_messages", None)
        # We never join voice; discord.py's "PyNaCl/davey is not installed" warnings would only mislead.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(intents=bot_intents(), **options)
        self.service = service
        self.settings = settings
        self.tree: app_commands.CommandTree[SupportBot] = app_commands.CommandTree(self)
        self.tree.error(self._on_command_error)
        self.synced_commands: list[app_commands.AppCommand] = []
        self._alerts = alerts
        install_commands(self)

    # -- lifetime ---------------------------------------------------------------------------------

    async def login(self, token: str) -> None:
        use_endpoints(self.settings)
        await super().login(token)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        if self._alerts is not None:
            self._alerts.attach(self.post_alert)
        await self.sync_commands()

    async def close(self) -> None:
        if self._alerts is not None:
            self._alerts.detach(self.post_alert)
        await super().close()

    async def sync_commands(self) -> None:
        """Register the app commands: in one guild when DISCORD_GUILD_ID is set (instant), else globally."""
        guild_id = self.settings.discord_guild_id
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        try:
            self.synced_commands = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            hint = ": invite the bot with the applications.commands scope" if exc.status == 403 else ""
            log.error("Discord refused to register the slash commands%s (%s %s)%s",
                      f" in guild {guild_id}" if guild_id else "", exc.status, exc.code, hint)
            return
        log.info("%d app commands synced %s", len(self.synced_commands),
                 f"to guild {guild_id}" if guild_id else "globally (may take up to an hour to appear)")

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %d server(s)", self.user, len(self.guilds))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("error while handling Discord event %s", event_method)

    async def _on_command_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        log.error("app command /%s failed", interaction.command.name if interaction.command else "?", exc_info=error)
        await _InteractionPort(self, interaction).note(SORRY)

    # -- channel messages -------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """A person's new message -> `Incoming` + port -> the core's triage, which decides everything else."""
        if not self._wanted(message):
            return
        incoming = message_incoming(message, bot_id=self.user.id if self.user else None)
        await self.service.triage.handle(incoming, _DiscordPort(self, message))

    def _wanted(self, message: discord.Message) -> bool:
        """Human messages only: never bots (this one included), webhooks or system events."""
        if message.author.bot or message.webhook_id is not None:
            return False
        if self.user is not None and message.author.id == self.user.id:
            return False
        return message.type in (discord.MessageType.default, discord.MessageType.reply)

    async def _thread_for(self, message: discord.Message, reply: Reply) -> discord.abc.Messageable | None:
        try:
            return await message.create_thread(name=thread_name(reply))
        except discord.HTTPException as exc:
            if exc.code == 160004:  # a thread already exists on this message; it has the message's id
                return self.get_partial_messageable(message.id, guild_id=message.guild.id if message.guild else None)
            log.warning("could not open a thread on message %s (%s %s); replying in the channel",
                        message.id, exc.status, exc.code)
            return None

    # -- sending ----------------------------------------------------------------------------------

    async def _send(self, target: discord.abc.Messageable | discord.Webhook, reply: Reply, *,
                    reference: discord.Message | None = None, guild: discord.Guild | None = None,
                    **extra: Any) -> discord.Message | None:
        """Send an embed (with buttons); if Discord rejects it, the plain text in as many messages as needed.

        `target` is a channel, or an interaction's follow-up webhook (`extra` then says `ephemeral`).
        """
        guild = guild or getattr(target, "guild", None) or (reference.guild if reference else None)
        kwargs = {**await render_message(reply, guild, self.settings.discord_staff_role), **extra}
        if reference is not None:
            kwargs.update(reference=reference.to_reference(fail_if_not_exists=False), mention_author=False)
        try:
            return await target.send(**kwargs)
        except discord.HTTPException as exc:
            if exc.status != 400:
                log.warning("Discord refused a reply: %s %s", exc.status, exc.code)
                return None
            log.warning("Discord rejected an embed (%s); sending plain text instead", exc.code)
        try:  # the plain-text form, cut at line boundaries into as many messages as it needs
            first: discord.Message | None = None
            content = kwargs.pop("content", None)
            kwargs.pop("embed")
            kwargs.pop("files", None)
            for part in fallback_parts(reply, content):
                sent = await target.send(content=part, **kwargs)
                first = first or sent
                kwargs.pop("view", None)
                kwargs.pop("reference", None)
            return first
        except discord.HTTPException as exc:
            log.warning("Discord refused a plain-text reply too: %s %s", exc.status, exc.code)
            return None

    async def post_alert(self, reply: Reply) -> None:
        """Alert sink: incident alerts (with Acknowledge / Resolve) go to DISCORD_STAFF_CHANNEL."""
        channel_id = self.settings.discord_staff_channel
        if not channel_id:
            log.warning("incident alert %r not posted on Discord: DISCORD_STAFF_CHANNEL is not set", reply.title)
            return
        channel = self.get_channel(channel_id) or self.get_partial_messageable(channel_id)
        await self._send(channel, reply)  # type: ignore[arg-type]

    # -- interactions -----------------------------------------------------------------------------

    async def run_command(self, interaction: discord.Interaction[Any], command: Command, text: str) -> None:
        """A slash command or menu pick: acknowledge at once (privately), then answer through its port.

        Only `/errfix` text is read by the shared grammar ("mode off", "help"); a message picked for
        "Look up this error" (`Command.LOOK_UP`) is taken as it is.
        """
        port = _InteractionPort(self, interaction, thinking=True)
        if await port.acknowledge():
            parsed = parse_command(command.value, text) if command is Command.ERRFIX else None
            incoming = interaction_incoming(interaction, *(parsed or (command, text)), self.settings)
            await self.service.respond(incoming, port)

    async def handle_action(self, interaction: discord.Interaction[Any], command: Command, value: str) -> None:
        """A button click (routed by custom_id by `ActionButton`, so it works after a restart)."""
        port = _InteractionPort(self, interaction)
        if await port.acknowledge():  # the core says sorry if the click's work fails
            await self.service.respond(interaction_incoming(interaction, command, value, self.settings), port)


class _InteractionPort(PlainPort):
    """Where a slash command, menu pick or button click is answered (`bot.core.ports.ChatPort`).

    A command is acknowledged with a private "thinking" answer, a click silently. A private reply is a
    follow-up only the person sees. A public one goes to the channel after a command (the person is
    told it was posted) and is a public follow-up after a click.
    """

    def __init__(self, bot: SupportBot, interaction: discord.Interaction[Any], *, thinking: bool = False) -> None:
        self.bot, self.interaction, self.thinking = bot, interaction, thinking

    async def acknowledge(self) -> bool:
        """Defer at once (Discord wants an answer within 3 s); False when the interaction is gone."""
        try:
            await self.interaction.response.defer(ephemeral=self.thinking, thinking=self.thinking)
            return True
        except discord.HTTPException as exc:  # expired (10062) or already acknowledged (40060)
            log.warning("could not acknowledge interaction %s: %s %s", self.interaction.id, exc.status, exc.code)
            return False

    async def post(self, reply: Reply) -> Posted | None:
        interaction = self.interaction
        if reply.private or not self.thinking or interaction.channel is None:
            sent = await self.bot._send(interaction.followup, reply, guild=interaction.guild,
                                        ephemeral=reply.private)
        else:
            sent = await self.bot._send(interaction.channel, reply)  # type: ignore[arg-type]
            await self.note("Posted in the channel." if sent else "I could not post in this channel.")
        if sent is None:
            raise DeliveryError(f"discord: answering interaction {interaction.id} failed")
        return None

    async def edit(self, posted: Posted, reply: Reply) -> None:
        raise DeliveryError("discord: an interaction's answer is never edited in place")

    async def note(self, text: str) -> None:
        """A short private note: the interaction's answer, or a follow-up once it has been acknowledged."""
        response, text = self.interaction.response, clip(text, 2000)
        try:
            if response.is_done():
                await self.interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
            else:
                await response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("Discord refused a private note on an interaction: %s %s", exc.status, exc.code)


@contextlib.contextmanager
def _refused(what: str) -> Iterator[None]:
    """discord.py's HTTP errors become the core's DeliveryError, naming what failed."""
    try:
        yield
    except discord.HTTPException as exc:
        raise DeliveryError(f"discord: {what} failed: {exc.status} {exc.code}") from None


class _DiscordPort(PlainPort):
    """One Discord message's conversation, as the core's triage sees it (`bot.core.ports.ChatPort`);
    its channel's name comes with the message, so `channel_name` is never asked."""

    def __init__(self, bot: SupportBot, message: discord.Message) -> None:
        self.bot, self.message = bot, message

    async def react(self) -> None:
        with _refused(f"reacting to {self.message.id}"):
            await self.message.add_reaction(RECEIPT_EMOJI)

    async def unreact(self) -> None:
        if self.bot.user is not None:
            with _refused("removing a reaction"):
                await self.message.remove_reaction(RECEIPT_EMOJI, self.bot.user)

    async def thread_authors(self) -> ThreadAuthors:
        """The people who wrote in the thread before this message (read from its history, bots left out)."""
        thread = self.message.channel
        if not isinstance(thread, discord.Thread):
            return ThreadAuthors()
        people: set[str] = set()
        with _refused(f"reading thread {thread.id}"):
            async for earlier in thread.history(limit=HISTORY_LOOKBACK, before=self.message):
                if not earlier.author.bot and earlier.webhook_id is None:
                    people.add(str(earlier.author.id))
        opener = str(thread.owner_id) if thread.owner_id else None
        return ThreadAuthors(opener=opener, people=frozenset(people))

    async def post(self, reply: Reply) -> Posted | None:
        """In a new thread on the message when DISCORD_USE_THREADS is set, else as a reply to it."""
        message, bot = self.message, self.bot
        thread = None
        if bot.settings.discord_use_threads and message.guild and not isinstance(message.channel, discord.Thread):
            thread = await bot._thread_for(message, reply)
        sent = await (bot._send(thread, reply) if thread else bot._send(message.channel, reply, reference=message))
        if sent is None:
            raise DeliveryError(f"discord: answering message {self.message.id} failed")
        return Posted(str(sent.channel.id), str(sent.id))

    async def edit(self, posted: Posted, reply: Reply) -> None:
        channel = self.bot.get_partial_messageable(int(posted.channel_id))
        with _refused(f"editing {posted.message_id}"):
            await channel.get_partial_message(int(posted.message_id)).edit(
                embed=render_embed(reply), view=build_view(reply), allowed_mentions=NO_PINGS)
