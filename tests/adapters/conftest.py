"""Fixtures for the Slack adapter tests: a fake Slack Web API, a real store and service, the real Bolt app.

The environment is cleared by `tests/conftest.py::clean_env` (Bolt would otherwise read SLACK_* itself).
The Discord tests keep their own fixtures in `tests/adapters/discord/conftest.py`; everything here is
named `slack_*` (or is Slack-only) so the two never collide.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_adapter import SlackBot
from bot.config import Settings
from bot.core.catalog import default_catalog_dir, load_catalog
from bot.core.detection import DetectionConfig
from bot.core.ports import AlertRelay, IncidentStore
from bot.core.service import KnowledgeBase, SupportService
from bot.storage import open_store
from tests.adapters.slack_support import ADMIN, LEAD, SIGNING_SECRET, STAFF_CHANNEL, STAFF_GROUP
from tests.fakes.slack_api import FakeSlackApi


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        fake.usergroups[STAFF_GROUP] = [LEAD]
        yield fake


@pytest.fixture
def slack_env(fake_slack: FakeSlackApi, tmp_path: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": "xapp-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "SLACK_STAFF_USERGROUP": STAFF_GROUP,
        "SLACK_STAFF_CHANNEL": STAFF_CHANNEL,
        "SUPPORTBOT_STAFF": ADMIN,
        "SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'db' / 'supportbot.db'}",
    }


@pytest.fixture
def slack_settings(slack_env: dict[str, str]) -> Settings:
    return Settings.from_env(slack_env)


@pytest.fixture
async def slack_store(slack_settings: Settings) -> AsyncIterator[IncidentStore]:
    store = await open_store(slack_settings.database_url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(scope="session")
def slack_knowledge() -> KnowledgeBase:
    """The shipped catalog, loaded once: it is immutable, and loading it is the slow part of setup."""
    folder = default_catalog_dir()
    return KnowledgeBase(load_catalog(folder), folder)


@pytest.fixture
def slack_detection() -> DetectionConfig | None:
    """Override in a test module to make incident detection easier to trigger."""
    return None


@pytest.fixture
def slack_service(slack_store: IncidentStore, slack_settings: Settings, slack_knowledge: KnowledgeBase,
                  slack_detection: DetectionConfig | None) -> SupportService:
    return SupportService(slack_knowledge, slack_store, slack_settings.policy(), detection=slack_detection)


@pytest.fixture
def slack_alerts(slack_service: SupportService) -> AlertRelay:
    """The alert sink the runner registers for the Slack front end."""
    relay = AlertRelay("slack")
    slack_service.add_alert_sink(relay)
    return relay


@pytest.fixture
async def slack_bot(slack_service: SupportService, slack_settings: Settings, fake_slack: FakeSlackApi,
                    slack_alerts: AlertRelay) -> AsyncIterator[SlackBot]:
    client = AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.base_url)
    bot = SlackBot(slack_service, slack_settings, client, alerts=slack_alerts)
    try:
        yield bot
    finally:
        await bot.close()
