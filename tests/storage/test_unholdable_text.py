"""Text no database can hold (NUL, lone surrogates) is stored the same way on both backends."""

from __future__ import annotations

import dataclasses

from bot.core.models import IncidentStatus
from bot.storage.sql_store import storable

from .conftest import Backend
from .test_store_contract import ALICE, T0, make_answer, make_incident, make_report, make_unmatched, minutes


def test_storable_replaces_nul_and_lone_surrogates_only() -> None:
    assert storable(("a\x00b", "x\ud800y", "ok ✓", 5, None)) == ("a\ufffdb", "x\ufffdy", "ok ✓", 5, None)


async def test_nul_and_surrogates_are_stored_not_refused(backend: Backend) -> None:
    store = await backend.open()
    try:
        nasty = "session 100%\x00 limit hit \ud83d and more"
        report = dataclasses.replace(make_report(), raw_text=nasty)
        report_id = await store.add_report(report)
        [stored] = await store.reports_between(T0, T0 + minutes(1))
        assert stored.id == report_id
        assert stored.raw_text == "session 100%\ufffd limit hit \ufffd and more"

        await store.add_answer(dataclasses.replace(make_answer(), paste="Error\x00 429"))
        [answer] = await store.answers_between(T0, T0 + minutes(1))
        assert answer.paste == "Error\ufffd 429"

        await store.add_unmatched(dataclasses.replace(make_unmatched(), paste="\x00\x00weird"))
        [unmatched] = await store.unmatched_between(T0, T0 + minutes(1))
        assert unmatched.paste == "\ufffd\ufffdweird"

        incident_id = await store.open_incident(make_incident())
        await store.transition_incident(incident_id, IncidentStatus.ACKNOWLEDGED, "cli:\x00me", T0, "note\x00")
        events = await store.incident_events(incident_id)
        assert events[-1].note == "note\ufffd" and events[-1].actor == "cli:\ufffdme"

        counts = await store.forget_user(ALICE.user_id + "\x00")  # a lookup with NUL is no error either
        assert counts.reports == 0
    finally:
        await store.close()
