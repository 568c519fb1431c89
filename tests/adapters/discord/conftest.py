"""Fixtures for the Discord adapter: a fake Discord, a real store and service, and a running bot.

The bot is the real `SupportBot` (discord.py client) talking to `FakeDiscord` over real sockets;
`BotRunner` starts one, waits until the fake has seen it identify on the gateway, and stops it
cleanly, so a test can also "restart" the bot (a new client on the same fake and store).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord_adapter import SupportBot
from bot.config import Settings
from bot.core.catalog import Catalog, default_catalog_dir
from bot.core.ports import AlertRelay
from bot.core.service import KnowledgeBase, SupportService
from tests.fakes.discord_api import GUILD_ID, STAFF_CHANNEL, STAFF_ROLE, FakeDiscord


@pytest.fixture(autouse=True)
def restore_discord_endpoints() -> Iterator[None]:
    """`use_endpoints` sets discord.py class attributes; put them back so tests stay independent."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as running:
        yield running


def discord_settings(fake: FakeDiscord, **extra: str) -> Settings:
    env = {
        **fake.env(),
        "DISCORD_GUILD_ID": str(GUILD_ID),
        "DISCORD_STAFF_ROLE": str(STAFF_ROLE),
        "DISCORD_STAFF_CHANNEL": str(STAFF_CHANNEL),
        **extra,
    }
    return Settings.from_env(env)


@pytest.fixture
def settings(fake: FakeDiscord) -> Settings:
    return discord_settings(fake)


def make_service(store: Any, catalog: Catalog, settings: Settings) -> SupportService:
    return SupportService(KnowledgeBase(catalog, default_catalog_dir()), store, settings.policy())


@pytest.fixture
def service(store: Any, catalog: Catalog, settings: Settings) -> SupportService:
    return make_service(store, catalog, settings)


class BotRunner:
    """Runs `SupportBot` against the fake: `await runner.start()`, `await runner.stop()`."""

    def __init__(self, fake: FakeDiscord, service: SupportService, settings: Settings) -> None:
        self.fake = fake
        self.service = service
        self.settings = settings
        self.alerts = AlertRelay("discord")  # what the runner registers for a front end
        service.add_alert_sink(self.alerts)
        self.bot: SupportBot | None = None
        self._task: asyncio.Task[None] | None = None
        self.starts = 0

    async def start(self) -> SupportBot:
        bot = SupportBot(self.service, self.settings, alerts=self.alerts)
        self.bot = bot
        await bot.__aenter__()
        await bot.login(str(self.settings.discord_token))
        self._task = asyncio.create_task(bot.connect(reconnect=False))
        self.starts += 1
        await self.fake.wait_identified(self.starts)
        return bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.bot, self._task = None, None


@pytest.fixture
async def runner(fake: FakeDiscord, service: SupportService, settings: Settings) -> AsyncIterator[BotRunner]:
    harness = BotRunner(fake, service, settings)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def bot(runner: BotRunner) -> SupportBot:
    return await runner.start()


StartBot = Callable[..., Awaitable[BotRunner]]


@pytest.fixture
async def start_bot(fake: FakeDiscord, store: Any, catalog: Catalog) -> AsyncIterator[StartBot]:
    """Start a bot with extra settings (env names and values), e.g. `await start_bot(DISCORD_USE_THREADS="1")`."""
    runners: list[BotRunner] = []

    async def start(**env: str) -> BotRunner:
        custom = discord_settings(fake, **env)
        harness = BotRunner(fake, make_service(store, catalog, custom), custom)
        runners.append(harness)
        await harness.start()
        return harness

    try:
        yield start
    finally:
        for harness in runners:
            await harness.stop()


# Names discord.py gives the tasks that run our handlers: events, app commands, button callbacks.
_HANDLER_TASKS = ("discord.py: ", "CommandTree-invoker", "discord-ui-")


async def settle(fake: FakeDiscord, timeout: float = 10.0) -> None:
    """Return once the bot has read every event sent so far and finished handling all of them.

    This is how a test shows that something did NOT happen (no reply to ordinary chat) without sleeping.
    """
    await fake.sync(timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        pending = [t for t in asyncio.all_tasks() if t.get_name().startswith(_HANDLER_TASKS) and not t.done()]
        if not pending:
            return
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"handlers still running: {[t.get_name() for t in pending]}")
        await asyncio.wait(pending, timeout=remaining)
