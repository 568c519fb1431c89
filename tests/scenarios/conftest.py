"""Every scenario runs on each front end: `front_end` is parametrised over the terminal, Slack and Discord.

A scenario that needs a watch list or a default channel mode says so with
`@pytest.mark.front_end(watch="help", mode="mention")`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.catalog import default_catalog_dir, load_catalog
from bot.core.ports import IncidentStore
from bot.core.service import KnowledgeBase
from tests.adapters.discord.conftest import restore_discord_endpoints  # noqa: F401  (autouse)
from tests.scenarios.front_ends import FrontEnd, open_front_end

ALL = ["terminal", "slack", "discord"]
CHATS = ["slack", "discord"]  # front ends with channels, threads, mentions and more than one person


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "front_end(watch, mode): settings the front end starts with")


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    """The shipped catalog and its matcher, built once: building the matcher is the slow part."""
    folder = default_catalog_dir()
    return KnowledgeBase(load_catalog(folder), folder)


@pytest.fixture(params=ALL)
async def front_end(request: pytest.FixtureRequest, store: IncidentStore,
                    knowledge: KnowledgeBase) -> AsyncIterator[FrontEnd]:
    marker = request.node.get_closest_marker("front_end")
    async with open_front_end(request.param, store, knowledge, **(marker.kwargs if marker else {})) as opened:
        yield opened


@pytest.fixture(params=CHATS)
async def chat(request: pytest.FixtureRequest, store: IncidentStore, knowledge: KnowledgeBase) -> AsyncIterator[FrontEnd]:
    marker = request.node.get_closest_marker("front_end")
    async with open_front_end(request.param, store, knowledge, **(marker.kwargs if marker else {})) as opened:
        yield opened
