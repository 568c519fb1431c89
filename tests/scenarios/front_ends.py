"""The three front ends behind one small interface, so a scenario is written once and run on each.

Each front end is the real thing: the terminal chat, the Bolt app against the fake Slack Web API, the
discord.py client against the fake Discord. A scenario says who pastes what where, or which command
someone types, and gets back a `Seen`: what the person would see, and the 👀 where there is one.

People: "alice" and "bob" are not staff, "lead" is (a Slack user group member, a Discord staff role).
The terminal has one person, its operator, who is staff; it is a direct conversation, so channel
modes, watch lists and mentions do not apply there.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.console import TerminalChat
from bot.adapters.slack_adapter import SlackBot
from bot.config import Settings
from bot.core.ports import IncidentStore
from bot.core.service import KnowledgeBase, SupportService
from tests.adapters.discord.conftest import BotRunner, discord_settings, settle
from tests.adapters.slack_support import (
    ALICE,
    BOB,
    CHANNEL,
    LEAD,
    STAFF_GROUP,
    command_body,
    dispatch,
    message_event,
)
from tests.fakes import discord_api as discord_fake
from tests.fakes.slack_api import BOT_USER_ID, Call, FakeSlackApi

EDITED_NOTE = "(your pastes so far, answered together)"


@dataclass
class Seen:
    posts: list[str] = field(default_factory=list)  # public answers
    private: list[str] = field(default_factory=list)  # shown only to the person who asked
    edits: list[str] = field(default_factory=list)  # an earlier answer replaced in place
    reacted: bool | None = None  # 👀 put on the message (None: this front end has no reactions)
    unreacted: bool | None = None  # and taken back

    @property
    def shown(self) -> str:
        return "\n".join([*self.posts, *self.private, *self.edits])

    @property
    def nothing(self) -> bool:
        return not (self.posts or self.private or self.edits)


class FrontEnd:
    name = ""
    direct = False  # every message is addressed to the bot (the terminal)
    operator_is_staff = False

    async def paste(self, text: str, *, user: str = "alice", channel: str = "help", mention: bool = False,
                    thread: str | None = None) -> Seen:
        raise NotImplementedError

    async def command(self, name: str, text: str = "", *, user: str = "alice", channel: str = "help") -> Seen:
        raise NotImplementedError

    def thread(self, *, asker: str = "alice", helper: str | None = None) -> str:
        """A thread opened by `asker`, where `helper` (if any) already replied; returns its handle."""
        raise NotImplementedError


# -- the terminal ---------------------------------------------------------------------------------------------


class Terminal(FrontEnd):
    name = "terminal"
    direct = True
    operator_is_staff = True

    def __init__(self, service: SupportService) -> None:
        self.out = io.StringIO()
        self.chat = TerminalChat(service, self.out, color=False, user="operator")

    async def _turn(self, line: str) -> tuple[str, int]:
        mark, posted = len(self.out.getvalue()), self.chat.port.posted
        assert await self.chat.turn(line)
        return self.out.getvalue()[mark:].strip(), self.chat.port.posted - posted

    async def paste(self, text: str, **where: Any) -> Seen:
        output, answers = await self._turn(text)
        if not answers:
            return Seen()
        return Seen(edits=[output]) if EDITED_NOTE in output else Seen(posts=[output])

    async def command(self, name: str, text: str = "", **where: Any) -> Seen:
        output, _ = await self._turn(f"/{name} {text}".strip())
        return Seen(private=[output])  # one person at the terminal: everything is theirs alone


# -- Slack --------------------------------------------------------------------------------------------------------


def _slack_text(call: Call) -> str:
    from bot.adapters.slack_blocks import all_text

    return f"{call.get('text', '')}\n{all_text(call.blocks)}"


class Slack(FrontEnd):
    name = "slack"
    PEOPLE: ClassVar[dict[str, Any]] = {"alice": ALICE, "bob": BOB, "lead": LEAD}
    CHANNELS: ClassVar[dict[str, Any]] = {"help": CHANNEL, "random": "C0RANDOM"}
    NAMES: ClassVar[dict[str, Any]] = {"help": "help-ai", "random": "random"}

    def __init__(self, fake: FakeSlackApi, bot: SlackBot) -> None:
        self.fake, self.bot = fake, bot

    def _seen(self, mark: int) -> Seen:
        calls = self.fake.calls[mark:]
        methods = [c.method for c in calls]
        private = [_slack_text(c) for c in calls if c.method == "chat.postEphemeral"
                   or (c.method == "response_url" and c.get("response_type") != "in_channel")]
        posts = [_slack_text(c) for c in calls if c.method == "chat.postMessage"
                 or (c.method == "response_url" and c.get("response_type") == "in_channel")]
        return Seen(posts=posts, private=private, edits=[_slack_text(c) for c in calls if c.method == "chat.update"],
                    reacted="reactions.add" in methods, unreacted="reactions.remove" in methods)

    async def paste(self, text: str, *, user: str = "alice", channel: str = "help", mention: bool = False,
                    thread: str | None = None) -> Seen:
        mark = len(self.fake.calls)
        body = message_event(f"<@{BOT_USER_ID}> {text}" if mention else text, user=self.PEOPLE[user],
                             channel=self.CHANNELS[channel], thread_ts=thread)
        await dispatch(self.bot, body)
        await self.bot.wait_idle()
        return self._seen(mark)

    async def command(self, name: str, text: str = "", *, user: str = "alice", channel: str = "help") -> Seen:
        mark = len(self.fake.calls)
        await dispatch(self.bot, command_body(f"/{name}", text, user=self.PEOPLE[user], channel=self.CHANNELS[channel],
                                              response_url=self.fake.response_url()))
        await self.bot.wait_idle()
        return self._seen(mark)

    def thread(self, *, asker: str = "alice", helper: str | None = None) -> str:
        parent = self.fake.next_ts()
        messages = [{"type": "message", "user": self.PEOPLE[asker], "text": "my build broke", "ts": parent,
                     "thread_ts": parent}]
        if helper is not None:
            messages.append({"type": "message", "user": self.PEOPLE[helper], "text": "try restarting it",
                             "ts": self.fake.next_ts(), "thread_ts": parent})
        self.fake.replies[(CHANNEL, parent)] = messages
        return parent


# -- Discord ------------------------------------------------------------------------------------------------------

_CHANNEL_POSTS = re.compile(r"^/channels/\d+/messages$")
_EDITS = re.compile(r"^/channels/\d+/messages/\d+$")


class Discord(FrontEnd):
    name = "discord"
    PEOPLE: ClassVar[dict[str, Any]] = {"alice": discord_fake.ALICE, "bob": discord_fake.BOB, "lead": discord_fake.CAROL}
    CHANNELS: ClassVar[dict[str, Any]] = {"help": discord_fake.GENERAL, "random": discord_fake.RANDOM}
    NAMES: ClassVar[dict[str, Any]] = {"help": "#general", "random": "random"}
    OPTION: ClassVar[dict[str, Any]] = {"errfix": "text", "quota": "text", "channel-mode": "mode"}

    def __init__(self, fake: discord_fake.FakeDiscord) -> None:
        self.fake = fake

    def _seen(self, mark: int) -> Seen:
        calls = self.fake.calls[mark:]
        seen = Seen(reacted=False, unreacted=False)
        for call in calls:
            if call.method == "POST" and (_CHANNEL_POSTS.match(call.path) or call.path.startswith("/webhooks/")):
                (seen.private if call.ephemeral else seen.posts).append(call.text())
            elif call.method == "PATCH" and _EDITS.match(call.path):
                seen.edits.append(call.text())
            elif "/reactions/" in call.path:
                seen.reacted = seen.reacted or call.method == "PUT"
                seen.unreacted = seen.unreacted or call.method == "DELETE"
        return seen

    async def paste(self, text: str, *, user: str = "alice", channel: str = "help", mention: bool = False,
                    thread: str | None = None) -> Seen:
        mark = len(self.fake.calls)
        where = int(thread) if thread else self.CHANNELS[channel]
        await self.fake.send_message(f"<@{discord_fake.BOT_ID}> {text}" if mention else text,
                                     author=self.PEOPLE[user], channel_id=where)
        await settle(self.fake)
        return self._seen(mark)

    async def command(self, name: str, text: str = "", *, user: str = "alice", channel: str = "help") -> Seen:
        mark = len(self.fake.calls)
        options = {self.OPTION[name]: text} if text else {}
        await self.fake.slash(name, user_id=self.PEOPLE[user], channel_id=self.CHANNELS[channel], **options)
        await settle(self.fake)
        return self._seen(mark)

    def thread(self, *, asker: str = "alice", helper: str | None = None) -> str:
        # The fake has two threads under #general: one for a helped thread, one for a quiet one.
        if helper is None:
            return str(discord_fake.QUIET_THREAD)
        self.fake.add_history(discord_fake.HELP_THREAD, "my build broke", self.PEOPLE[asker])
        self.fake.add_history(discord_fake.HELP_THREAD, "try restarting it", self.PEOPLE[helper])
        return str(discord_fake.HELP_THREAD)


# -- opening one ----------------------------------------------------------------------------------------------------


def _env(name: str, front_end: type[FrontEnd] | None, *, watch: str | None = None, watch_name: str | None = None,
         mode: str | None = None) -> dict[str, str]:
    """The settings a scenario asks for, in this front end's terms (its channel ids and names)."""
    env: dict[str, str] = {}
    if mode:
        env["SUPPORTBOT_CHANNEL_MODE"] = mode
    if front_end is not None and (watch or watch_name):
        channels: dict[str, Any] = getattr(front_end, "CHANNELS" if watch else "NAMES")
        env[f"{name.upper()}_WATCH_CHANNELS"] = str(channels[watch or watch_name or ""])
    return env


@contextlib.asynccontextmanager
async def open_front_end(name: str, store: IncidentStore, knowledge: KnowledgeBase,
                         **wanted: str) -> AsyncIterator[FrontEnd]:
    """Start the named front end on `store` with the settings a scenario wants: `watch` (a channel, given to
    the platform by id), `watch_name` (the same, by name), `mode` (the default channel mode)."""
    if name == "terminal":
        settings = Settings.from_env(_env(name, None, **wanted))
        yield Terminal(SupportService(knowledge, store, settings.policy()))
        return
    if name == "slack":
        async with FakeSlackApi() as fake:
            fake.usergroups[STAFF_GROUP] = [LEAD]
            fake.channel_names = {Slack.CHANNELS[c]: Slack.NAMES[c] for c in Slack.CHANNELS}
            settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_APP_TOKEN": "xapp-test",
                                          "SLACK_API_URL": fake.base_url, "SLACK_STAFF_USERGROUP": STAFF_GROUP,
                                          **_env(name, Slack, **wanted)})
            service = SupportService(knowledge, store, settings.policy())
            bot = SlackBot(service, settings, AsyncWebClient(token="xoxb-test-token", base_url=fake.base_url))
            try:
                yield Slack(fake, bot)
            finally:
                await bot.close()
        return
    async with discord_fake.FakeDiscord() as fake:
        settings = discord_settings(fake, **_env(name, Discord, **wanted))
        runner = BotRunner(fake, SupportService(knowledge, store, settings.policy()), settings)
        await runner.start()
        try:
            yield Discord(fake)
        finally:
            await runner.stop()
