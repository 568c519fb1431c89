"""Charts where Slack staff look: `/incidents` uploads the reports chart (files upload v2), alerts the spike chart."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from bot.adapters.slack_adapter import SlackBot
from bot.chart import HEIGHT_PX, WIDTH_PX
from bot.core.detection import DetectionConfig
from bot.core.service import SupportService
from tests.adapters.slack_support import ADMIN, ALICE, BOB, LEAD, STAFF_CHANNEL, command_body, dispatch
from tests.fakes.slack_api import FakeSlackApi


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def run(bot: SlackBot, body: dict[str, object]) -> None:
    await dispatch(bot, body)
    await bot.wait_idle()


async def test_incidents_uploads_the_reports_chart_to_the_staff_members_dm(slack_bot: SlackBot,
                                                                           fake_slack: FakeSlackApi) -> None:
    await run(slack_bot, command_body("/quota", "Claude Code: hit my session limit, resets 5pm", user=BOB,
                                      response_url=fake_slack.response_url("q")))
    await run(slack_bot, command_body("/incidents", "", user=ADMIN, response_url=fake_slack.response_url("i")))
    [asked] = fake_slack.called("files.getUploadURLExternal")
    [(completed, png)] = fake_slack.uploaded()
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX)
    assert int(asked["length"]) == len(png) and asked["filename"] == "quota-reports.png"
    [opened] = fake_slack.called("conversations.open")
    assert opened["users"] == ADMIN
    assert completed["channel_id"] == f"D{ADMIN}"  # private, like the overview itself
    # The methods ran in the order Slack requires.
    order = [m for m in fake_slack.methods() if m in ("files.getUploadURLExternal", "upload",
                                                      "files.completeUploadExternal")]
    assert order == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


async def test_people_who_are_not_staff_get_no_chart(slack_bot: SlackBot, fake_slack: FakeSlackApi) -> None:
    await run(slack_bot, command_body("/incidents", "", user=ALICE, response_url=fake_slack.response_url("i")))
    assert fake_slack.called("files.getUploadURLExternal") == []


class TestAlertChart:
    @pytest.fixture
    def slack_detection(self) -> DetectionConfig:
        return DetectionConfig(min_reporters=2, factor=1.0, sustain=1)

    async def test_an_incident_alert_gets_its_spike_chart_in_its_thread(self, slack_bot: SlackBot,
                                                                       slack_service: SupportService,
                                                                       fake_slack: FakeSlackApi) -> None:
        for user in (ALICE, BOB, LEAD):
            await run(slack_bot, command_body("/quota", "Claude Code: hit my session limit, resets 5pm",
                                              user=user, response_url=fake_slack.response_url(user)))
        await slack_service.run_detection(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
        [alert] = [c for c in fake_slack.called("chat.postMessage") if c["channel"] == STAFF_CHANNEL]
        [(completed, png)] = fake_slack.uploaded()
        assert png_size(png) == (WIDTH_PX, HEIGHT_PX)
        assert completed["channel_id"] == STAFF_CHANNEL
        assert completed["thread_ts"] == alert.response["ts"]
