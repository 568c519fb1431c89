"""Charts where Discord staff look: the staff view and incident alerts carry their chart as an embed image."""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import replace
from typing import Any

from bot.chart import HEIGHT_PX, WIDTH_PX
from bot.core import replies
from bot.core.catalog import Catalog
from bot.core.charts import spike_chart
from bot.core.models import Incident, IncidentStatus
from tests.fakes.discord_api import ALICE, APP_ID, CAROL, STAFF_CHANNEL, Call, FakeDiscord


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def attached_chart(call: Call) -> bytes:
    [file] = call.files
    [embed] = call.embeds
    assert file["content_type"] == "image/png" or file["filename"].endswith(".png")
    assert embed["image"]["url"] == f"attachment://{file['filename']}"
    return file["data"]


async def test_incidents_attaches_the_reports_chart_to_the_staff_embed(fake: FakeDiscord, bot: Any) -> None:
    asked = await fake.slash("incidents", user_id=CAROL)
    [overview] = await fake.wait_for("POST", rf"^/webhooks/{APP_ID}/{asked['token']}$")
    assert overview.ephemeral
    assert png_size(attached_chart(overview)) == (WIDTH_PX, HEIGHT_PX)
    message = fake.bot_message(overview)
    assert [a["filename"] for a in message["attachments"]] == ["quota-reports.png"]


async def test_a_refusal_has_no_chart(fake: FakeDiscord, bot: Any) -> None:
    asked = await fake.slash("incidents", user_id=ALICE)
    [refusal] = await fake.wait_for("POST", rf"^/webhooks/{APP_ID}/{asked['token']}$")
    assert refusal.files == [] and "image" not in refusal.embeds[0]


async def test_an_incident_alert_carries_its_spike_chart(fake: FakeDiscord, bot: Any, service: Any, store: Any,
                                                          catalog: Catalog) -> None:
    now = dt.datetime.now(dt.UTC)
    incident = Incident(tool="Claude Code", symptom="idle_jump", opened_at=now, status=IncidentStatus.OPEN,
                        summary="Claude Code session usage jumps while idle", reporters=4, baseline=0.5)
    number = await store.open_incident(incident)
    opened = replace(incident, id=number)
    alert = replace(replies.incident_alert(opened, catalog), chart=spike_chart([], opened, now))
    await service.alert_staff(alert)
    [posted] = fake.called("POST", rf"^/channels/{STAFF_CHANNEL}/messages$")
    assert png_size(attached_chart(posted)) == (WIDTH_PX, HEIGHT_PX)
    assert posted.custom_ids == [f"sb:ack_incident:{number}", f"sb:resolve_incident:{number}"]
