"""The `IncidentStore` contract, run against every backend (see conftest.py for how each is set up).

The tests at the bottom, outside the contract, cover URL handling and opening errors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.models import (
    AnswerRecord,
    FeedbackSummary,
    Incident,
    IncidentStatus,
    Origin,
    ParsedReadings,
    PurgeCounts,
    QuotaReport,
    Reading,
    UnmatchedPaste,
    Verdict,
)
from bot.core.ports import IncidentStore
from bot.errors import StoreError
from bot.storage import mask_url, open_store, schema

from .conftest import Backend

T0 = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
ALICE = Origin(platform="slack", workspace_id="T1", channel_id="C1", user_id="U_ALICE")
BOB = Origin(platform="discord", workspace_id="G1", channel_id="c-9", user_id="U_BOB")
PASSWORD = "hunter2-s3cret"


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def make_report(
    origin: Origin = ALICE,
    at: dt.datetime = T0,
    fingerprint: str = "fp-1",
    readings: tuple[Reading, ...] | None = None,
) -> QuotaReport:
    if readings is None:
        readings = (
            Reading(
                window="session",
                percent=100.0,
                from_percent=64.0,
                limit_hit=True,
                resets="5pm (Europe/Paris)",
                idle=True,
                resets_at=dt.datetime(2025, 6, 1, 15, 0, tzinfo=dt.UTC),
            ),
            Reading(
                window="weekly-opus", percent=42.5, from_percent=None, limit_hit=False, resets=None, idle=None
            ),
            Reading(
                window="weekly", percent=None, from_percent=None, limit_hit=False, resets="Mon", idle=False
            ),
        )
    return QuotaReport(
        origin=origin,
        received_at=at,
        raw_text="Claude Code Max 5x: session 64% -> 100%, nothing running. sk-***",
        parsed=ParsedReadings(
            tool="Claude Code", plan="Max 5x", model_mode="opus", version="2.0.14", readings=readings
        ),
        fingerprint=fingerprint,
    )


def make_answer(origin: Origin = ALICE, at: dt.datetime = T0, entry_id: str = "quota-jump") -> AnswerRecord:
    return AnswerRecord(
        origin=origin,
        answered_at=at,
        entry_id=entry_id,
        score=91.5,
        catalog_version="c-42",
        paste="Error: 429 ***",
    )


def make_unmatched(origin: Origin = ALICE, at: dt.datetime = T0) -> UnmatchedPaste:
    return UnmatchedPaste(
        origin=origin, seen_at=at, paste="weird error ***", best_entry_id="quota-jump", best_score=41.0
    )


def make_incident(at: dt.datetime = T0, tool: str = "Claude Code") -> Incident:
    return Incident(
        tool=tool,
        symptom="limit_hit",
        opened_at=at,
        status=IncidentStatus.OPEN,
        summary="5 people hit the session limit within 30 minutes",
        reporters=5,
        baseline=0.4,
        entry_id="quota-jump",
    )


def assert_utc(moment: dt.datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is not None
    assert moment.utcoffset() == dt.timedelta(0)


# ---------------------------------------------------------------------------------------------
# quota reports


async def test_report_round_trip_keeps_every_field_and_reading_order(store: IncidentStore) -> None:
    report = make_report()
    empty = make_report(origin=BOB, at=T0 + minutes(1), fingerprint="fp-2", readings=())
    report_id = await store.add_report(report)
    empty_id = await store.add_report(empty)
    assert report_id != empty_id

    got = await store.reports_between(T0 - minutes(1), T0 + minutes(2))

    assert [r.id for r in got] == [report_id, empty_id]
    first, second = got
    assert first.origin == report.origin
    assert first.received_at == report.received_at
    assert first.raw_text == report.raw_text
    assert first.fingerprint == report.fingerprint
    assert first.parsed == report.parsed  # tool, plan, model_mode, version and readings, in order
    assert second.parsed.readings == ()
    assert second.origin == BOB
    for r in got:
        assert_utc(r.received_at)
    assert_utc(first.parsed.readings[0].resets_at)


async def test_reports_between_is_half_open_and_ordered_by_time(store: IncidentStore) -> None:
    late = await store.add_report(make_report(at=T0 + minutes(10), fingerprint="late"))
    early = await store.add_report(make_report(at=T0, fingerprint="early"))
    await store.add_report(make_report(at=T0 + minutes(20), fingerprint="outside"))

    got = await store.reports_between(T0, T0 + minutes(20))

    assert [r.id for r in got] == [early, late]


async def test_times_in_other_zones_are_stored_as_the_same_instant(store: IncidentStore) -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    await store.add_report(make_report(at=T0.astimezone(paris)))

    (got,) = await store.reports_between(T0 - minutes(1), T0 + minutes(1))

    assert got.received_at == T0
    assert_utc(got.received_at)


async def test_find_duplicate_by_fingerprint_within_the_window(store: IncidentStore) -> None:
    older = await store.add_report(make_report(at=T0, fingerprint="same"))
    newer = await store.add_report(make_report(at=T0 + minutes(5), fingerprint="same"))
    await store.add_report(make_report(origin=BOB, at=T0 + minutes(6), fingerprint="bob"))

    assert await store.find_duplicate("slack", "U_ALICE", "same", T0 - minutes(1)) == newer
    assert await store.find_duplicate("slack", "U_ALICE", "same", T0 + minutes(5)) == newer
    assert await store.find_duplicate("slack", "U_ALICE", "same", T0 + minutes(6)) is None
    assert await store.find_duplicate("slack", "U_ALICE", "other", T0 - minutes(1)) is None
    # Same fingerprint from someone else, or on another platform, is not a duplicate.
    assert await store.find_duplicate("slack", "U_BOB", "same", T0 - minutes(1)) is None
    assert await store.find_duplicate("discord", "U_ALICE", "same", T0 - minutes(1)) is None
    assert older != newer


async def test_count_reports_by_person_since(store: IncidentStore) -> None:
    for i in range(3):
        await store.add_report(make_report(at=T0 + minutes(i), fingerprint=f"fp-{i}"))
    await store.add_report(make_report(origin=BOB, at=T0))

    assert await store.count_reports_by("slack", "U_ALICE", T0) == 3
    assert await store.count_reports_by("slack", "U_ALICE", T0 + minutes(1)) == 2
    assert await store.count_reports_by("discord", "U_BOB", T0) == 1
    assert await store.count_reports_by("slack", "U_BOB", T0) == 0


async def test_fifty_concurrent_reports_are_all_stored(store: IncidentStore) -> None:
    reports = [make_report(at=T0 + dt.timedelta(seconds=i), fingerprint=f"c-{i}") for i in range(50)]

    ids = await asyncio.gather(*(store.add_report(r) for r in reports))

    assert len(set(ids)) == 50
    got = await store.reports_between(T0, T0 + minutes(1))
    assert len(got) == 50
    assert {r.fingerprint for r in got} == {f"c-{i}" for i in range(50)}
    assert all(len(r.parsed.readings) == 3 for r in got)


# ---------------------------------------------------------------------------------------------
# answers, unmatched pastes, feedback


async def test_answer_round_trip(store: IncidentStore) -> None:
    answer = make_answer()
    answer_id = await store.add_answer(answer)
    later_id = await store.add_answer(make_answer(origin=BOB, at=T0 + minutes(3), entry_id="auth-expired"))

    got = await store.get_answer(answer_id)

    assert got is not None
    assert got.id == answer_id
    assert got.origin == answer.origin
    assert got.answered_at == answer.answered_at
    assert_utc(got.answered_at)
    assert (got.entry_id, got.score, got.catalog_version, got.paste) == (
        answer.entry_id,
        answer.score,
        answer.catalog_version,
        answer.paste,
    )
    assert await store.get_answer(later_id + 1000) is None
    assert [a.id for a in await store.answers_between(T0, T0 + minutes(3))] == [answer_id]
    assert [a.id for a in await store.answers_between(T0, T0 + minutes(4))] == [answer_id, later_id]


async def test_an_answer_marks_its_thread_answered(store: IncidentStore) -> None:
    assert not await store.answered_in_thread("slack", "C1", "1700.1")
    await store.add_answer(replace(make_answer(), thread_id="1700.1"))
    assert await store.answered_in_thread("slack", "C1", "1700.1")
    assert (await store.get_answer(await store.add_answer(make_answer()))).thread_id is None  # type: ignore[union-attr]
    # The same thread id elsewhere (another channel, another platform) is another thread.
    assert not await store.answered_in_thread("slack", "C2", "1700.1")
    assert not await store.answered_in_thread("discord", "C1", "1700.1")


async def test_top_answers_counts_entries_in_the_window_most_first(store: IncidentStore) -> None:
    for minute, entry in ((0, "b-entry"), (1, "a-entry"), (2, "c-entry"), (3, "c-entry"), (4, "a-entry"),
                          (5, "c-entry"), (30, "b-entry")):
        await store.add_answer(make_answer(at=T0 + minutes(minute), entry_id=entry))
    window = (T0, T0 + minutes(10))
    assert await store.top_answers(*window, 5) == [("c-entry", 3), ("a-entry", 2), ("b-entry", 1)]
    assert await store.top_answers(*window, 2) == [("c-entry", 3), ("a-entry", 2)]
    assert await store.top_answers(T0 + minutes(20), T0 + minutes(40), 5) == [("b-entry", 1)]
    assert await store.top_answers(T0 - minutes(9), T0, 5) == []


async def test_unmatched_round_trip(store: IncidentStore) -> None:
    paste = make_unmatched()
    wrong = UnmatchedPaste(
        origin=BOB,
        seen_at=T0 + minutes(1),
        paste="it said auth",
        best_entry_id=None,
        best_score=0.0,
        reason="wrong_error",
    )
    paste_id = await store.add_unmatched(paste)
    wrong_id = await store.add_unmatched(wrong)

    got = await store.unmatched_between(T0, T0 + minutes(2))

    assert [p.id for p in got] == [paste_id, wrong_id]
    assert got[0].origin == paste.origin
    assert (got[0].paste, got[0].best_entry_id, got[0].best_score, got[0].reason) == (
        paste.paste,
        "quota-jump",
        41.0,
        "unmatched",
    )
    assert (got[1].best_entry_id, got[1].reason) == (None, "wrong_error")
    assert got[0].seen_at == T0
    assert_utc(got[1].seen_at)


async def test_unmatched_newest_keeps_the_latest_pastes_oldest_first(store: IncidentStore) -> None:
    ids = [await store.add_unmatched(make_unmatched(at=T0 + minutes(n))) for n in (3, 0, 2, 1)]
    by_time = [ids[1], ids[3], ids[2], ids[0]]
    window = (T0, T0 + minutes(10))
    assert [p.id for p in await store.unmatched_between(*window, newest=2)] == by_time[2:]
    assert [p.id for p in await store.unmatched_between(*window, newest=10)] == by_time
    assert [p.id for p in await store.unmatched_between(*window)] == by_time
    assert await store.unmatched_between(*window, newest=0) == []


async def test_feedback_last_word_wins_and_is_summarised_per_entry(store: IncidentStore) -> None:
    a1 = await store.add_answer(make_answer(entry_id="quota-jump"))
    a2 = await store.add_answer(make_answer(entry_id="auth-expired"))

    await store.set_feedback(a1, "slack", "U_ALICE", Verdict.WRONG, T0)
    await store.set_feedback(a1, "slack", "U_ALICE", Verdict.FIXED, T0 + minutes(1))  # changed her mind
    await store.set_feedback(a1, "discord", "U_ALICE", Verdict.NOT_HELPED, T0)  # another person (platform)
    await store.set_feedback(a1, "slack", "U_BOB", Verdict.FIXED, T0)
    await store.set_feedback(a2, "slack", "U_BOB", Verdict.WRONG, T0)

    summary = await store.feedback_summary()

    assert list(summary) == [
        FeedbackSummary(entry_id="auth-expired", wrong=1),
        FeedbackSummary(entry_id="quota-jump", fixed=2, not_helped=1),
    ]


async def test_feedback_on_a_missing_answer_is_a_store_error(store: IncidentStore) -> None:
    with pytest.raises(StoreError, match="no answer with id 999"):
        await store.set_feedback(999, "slack", "U_ALICE", Verdict.FIXED, T0)


# ---------------------------------------------------------------------------------------------
# incidents


async def test_incident_lifecycle_records_every_transition(store: IncidentStore) -> None:
    incident_id = await store.open_incident(make_incident())

    opened = await store.get_incident(incident_id)
    assert opened is not None
    assert opened.id == incident_id
    assert opened.status is IncidentStatus.OPEN
    assert (opened.tool, opened.symptom, opened.reporters, opened.baseline, opened.entry_id) == (
        "Claude Code",
        "limit_hit",
        5,
        0.4,
        "quota-jump",
    )
    assert opened.opened_at == T0
    assert_utc(opened.updated_at)

    acked = await store.transition_incident(
        incident_id, IncidentStatus.ACKNOWLEDGED, "slack:U_STAFF", T0 + minutes(5), "looking"
    )
    assert acked.status is IncidentStatus.ACKNOWLEDGED
    assert acked.updated_at == T0 + minutes(5)
    resolved = await store.transition_incident(
        incident_id, IncidentStatus.RESOLVED, "discord:42", T0 + minutes(50)
    )
    assert resolved.status is IncidentStatus.RESOLVED
    assert resolved.opened_at == T0
    assert await store.get_incident(incident_id) == resolved

    events = await store.incident_events(incident_id)
    assert [(e.status, e.actor, e.at, e.note) for e in events] == [
        (IncidentStatus.OPEN, "detector", T0, ""),
        (IncidentStatus.ACKNOWLEDGED, "slack:U_STAFF", T0 + minutes(5), "looking"),
        (IncidentStatus.RESOLVED, "discord:42", T0 + minutes(50), ""),
    ]
    assert all(e.incident_id == incident_id for e in events)
    for e in events:
        assert_utc(e.at)


async def test_an_open_incident_can_be_resolved_directly(store: IncidentStore) -> None:
    incident_id = await store.open_incident(make_incident())

    resolved = await store.transition_incident(
        incident_id, IncidentStatus.RESOLVED, "slack:U1", T0 + minutes(1)
    )

    assert resolved.status is IncidentStatus.RESOLVED


@pytest.mark.parametrize(
    ("path", "wanted", "message"),
    [
        ((IncidentStatus.RESOLVED,), IncidentStatus.OPEN, "resolved is final"),
        ((IncidentStatus.RESOLVED,), IncidentStatus.ACKNOWLEDGED, "resolved is final"),
        ((IncidentStatus.RESOLVED,), IncidentStatus.RESOLVED, "resolved is final"),
        ((IncidentStatus.ACKNOWLEDGED,), IncidentStatus.OPEN, "cannot go from acknowledged to open"),
        ((IncidentStatus.ACKNOWLEDGED,), IncidentStatus.ACKNOWLEDGED, "already acknowledged"),
        ((), IncidentStatus.OPEN, "already open"),
    ],
)
async def test_invalid_transition_is_refused_and_changes_nothing(
    store: IncidentStore,
    path: tuple[IncidentStatus, ...],
    wanted: IncidentStatus,
    message: str,
) -> None:
    incident_id = await store.open_incident(make_incident())
    for step in path:
        await store.transition_incident(incident_id, step, "slack:U1", T0 + minutes(1))
    before = await store.get_incident(incident_id)
    events_before = await store.incident_events(incident_id)

    with pytest.raises(StoreError, match=message):
        await store.transition_incident(incident_id, wanted, "slack:U2", T0 + minutes(2))

    assert await store.get_incident(incident_id) == before
    assert await store.incident_events(incident_id) == events_before


async def test_unknown_incident(store: IncidentStore) -> None:
    assert await store.get_incident(12345) is None
    assert list(await store.incident_events(12345)) == []
    with pytest.raises(StoreError, match="no incident with id 12345"):
        await store.transition_incident(12345, IncidentStatus.ACKNOWLEDGED, "slack:U1", T0)


async def test_list_incidents_newest_first_and_by_status(store: IncidentStore) -> None:
    first = await store.open_incident(make_incident(at=T0))
    second = await store.open_incident(make_incident(at=T0 + minutes(10), tool="Codex CLI"))
    assert first is not None and second is not None
    await store.transition_incident(first, IncidentStatus.RESOLVED, "slack:U1", T0 + minutes(15))
    third = await store.open_incident(make_incident(at=T0 + minutes(20)))
    await store.transition_incident(second, IncidentStatus.ACKNOWLEDGED, "slack:U1", T0 + minutes(30))

    assert [i.id for i in await store.list_incidents()] == [third, second, first]
    assert [i.id for i in await store.list_incidents([IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED])] == [
        third,
        second,
    ]
    assert [i.id for i in await store.list_incidents([IncidentStatus.RESOLVED])] == [first]
    assert list(await store.list_incidents([])) == []


async def test_incidents_during_a_window_leave_out_those_closed_before_it_or_opened_after(
    store: IncidentStore,
) -> None:
    closed_long_ago = await store.open_incident(make_incident(at=T0))
    assert closed_long_ago is not None
    await store.transition_incident(closed_long_ago, IncidentStatus.RESOLVED, "slack:U1", T0 + minutes(5))
    still_open = await store.open_incident(make_incident(at=T0 + minutes(10), tool="Codex CLI"))
    closed_inside = await store.open_incident(make_incident(at=T0 + minutes(20), tool="Gemini CLI"))
    assert closed_inside is not None
    await store.transition_incident(closed_inside, IncidentStatus.RESOLVED, "slack:U1", T0 + minutes(70))
    opened_after = await store.open_incident(make_incident(at=T0 + minutes(200), tool="Kiro"))
    assert opened_after is not None

    window = await store.incidents_during(T0 + minutes(60), T0 + minutes(120))

    assert [i.id for i in window] == [closed_inside, still_open]


# ---------------------------------------------------------------------------------------------
# settings


async def test_settings_round_trip_and_overwrite(store: IncidentStore) -> None:
    assert await store.get_setting("channel_mode:slack:C1") is None

    await store.set_setting("channel_mode:slack:C1", "mention")
    await store.set_setting("channel_mode:slack:C2", "off")
    await store.set_setting("channel_mode:slack:C1", "auto")

    assert await store.get_setting("channel_mode:slack:C1") == "auto"
    assert await store.get_setting("channel_mode:slack:C2") == "off"


# ---------------------------------------------------------------------------------------------
# data care


async def test_purge_deletes_old_records_keeps_incidents_and_counts(store: IncidentStore) -> None:
    cutoff = T0 + minutes(60)
    old, new = T0, T0 + minutes(90)
    await store.add_report(make_report(at=old))
    await store.add_report(make_report(at=old + minutes(1), fingerprint="fp-b"))
    kept_report = await store.add_report(make_report(at=new))
    old_answer = await store.add_answer(make_answer(at=old))
    new_answer = await store.add_answer(make_answer(at=new))
    await store.add_unmatched(make_unmatched(at=old))
    await store.add_unmatched(make_unmatched(at=new))
    await store.set_feedback(old_answer, "slack", "U1", Verdict.FIXED, new)  # new feedback, old answer: goes
    await store.set_feedback(new_answer, "slack", "U1", Verdict.WRONG, old)  # old feedback: goes
    await store.set_feedback(new_answer, "slack", "U2", Verdict.FIXED, new)  # stays
    incident_id = await store.open_incident(make_incident(at=old))

    counts = await store.purge_older_than(cutoff)

    assert counts == PurgeCounts(reports=2, answers=1, unmatched=1, feedback=2)
    everything = (T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1))
    assert [r.id for r in await store.reports_between(*everything)] == [kept_report]
    assert [a.id for a in await store.answers_between(*everything)] == [new_answer]
    assert len(await store.unmatched_between(*everything)) == 1
    assert await store.get_answer(old_answer) is None
    assert list(await store.feedback_summary()) == [FeedbackSummary(entry_id="quota-jump", fixed=1)]
    assert await store.get_incident(incident_id) is not None
    assert len(await store.incident_events(incident_id)) == 1
    # Purging again finds nothing.
    assert await store.purge_older_than(cutoff) == PurgeCounts()


async def test_forget_user_erases_one_person_everywhere_and_counts(store: IncidentStore) -> None:
    bob_on_slack = Origin(platform="slack", workspace_id="T1", channel_id="C1", user_id="U_BOB")
    await store.add_report(make_report(origin=ALICE))
    await store.add_report(make_report(origin=ALICE, fingerprint="fp-2"))
    bob_report = await store.add_report(make_report(origin=BOB))
    alice_answer = await store.add_answer(make_answer(origin=ALICE))
    bob_answer = await store.add_answer(make_answer(origin=BOB))
    await store.add_unmatched(make_unmatched(origin=ALICE))
    await store.add_unmatched(make_unmatched(origin=BOB))
    await store.set_feedback(bob_answer, "slack", "U_ALICE", Verdict.FIXED, T0)  # hers: goes
    await store.set_feedback(alice_answer, "discord", "U_BOB", Verdict.WRONG, T0)  # on her answer: goes
    await store.set_feedback(bob_answer, "discord", "U_BOB", Verdict.FIXED, T0)  # stays
    incident_id = await store.open_incident(make_incident())
    await store.transition_incident(
        incident_id, IncidentStatus.ACKNOWLEDGED, "slack:U_ALICE", T0 + minutes(1)
    )

    counts = await store.forget_user("U_ALICE", platform="slack")

    assert (counts.reports, counts.answers, counts.unmatched, counts.feedback) == (2, 1, 1, 2)
    assert counts.extra == {"incident_actors": 1}
    everything = (T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1))
    assert [r.id for r in await store.reports_between(*everything)] == [bob_report]
    assert [a.id for a in await store.answers_between(*everything)] == [bob_answer]
    assert [p.origin.user_id for p in await store.unmatched_between(*everything)] == ["U_BOB"]
    assert list(await store.feedback_summary()) == [FeedbackSummary(entry_id="quota-jump", fixed=1)]
    events = await store.incident_events(incident_id)
    assert [e.actor for e in events] == ["detector", "forgotten"]
    assert events[1].status is IncidentStatus.ACKNOWLEDGED

    # Without a platform, the person goes on every platform; with one, only there.
    await store.add_report(make_report(origin=bob_on_slack))
    only_discord = await store.forget_user("U_BOB", platform="discord")
    assert (only_discord.reports, only_discord.answers, only_discord.unmatched, only_discord.feedback) == (
        1,
        1,
        1,
        1,
    )
    assert [r.origin.platform for r in await store.reports_between(*everything)] == ["slack"]
    everywhere = await store.forget_user("U_BOB")
    assert everywhere.reports == 1
    assert list(await store.reports_between(*everything)) == []
    assert (await store.forget_user("nobody")).reports == 0


# ---------------------------------------------------------------------------------------------
# lifetime, migrations, durability


async def test_ping_and_closed_store(backend: Backend) -> None:
    opened = await backend.open()
    await opened.ping()
    await opened.close()
    await opened.close()  # closing twice is harmless

    with pytest.raises(StoreError, match="closed"):
        await opened.ping()
    with pytest.raises(StoreError, match="closed"):
        await opened.add_report(make_report())


async def test_migrations_are_idempotent(backend: Backend) -> None:
    first = await backend.open()
    await first.set_setting("k", "v")
    await first.close()

    second = await backend.open()
    try:
        assert await second.get_setting("k") == "v"
    finally:
        await second.close()

    assert await backend.fetchval("SELECT COUNT(*) FROM schema_version") == len(schema.MIGRATIONS)
    assert await backend.fetchval("SELECT MAX(version) FROM schema_version") == schema.LATEST


async def test_two_processes_opening_at_once_migrate_once(backend: Backend) -> None:
    stores = await asyncio.gather(backend.open(), backend.open(), backend.open())
    try:
        ids = await asyncio.gather(
            *(s.add_report(make_report(fingerprint=f"p{i}")) for i, s in enumerate(stores))
        )
        assert len(set(ids)) == 3
    finally:
        for s in stores:
            await s.close()
    assert await backend.fetchval("SELECT COUNT(*) FROM schema_version") == len(schema.MIGRATIONS)


async def test_a_newer_schema_is_refused(backend: Backend) -> None:
    opened = await backend.open()
    await opened.close()
    newer = schema.LATEST + 1
    await backend.execute(
        "INSERT INTO schema_version (version, description, applied_at)"
        f" VALUES ({newer}, 'from the future', CURRENT_TIMESTAMP)"
    )

    with pytest.raises(StoreError, match="upgrade supportbot") as caught:
        await backend.open()

    assert f"schema version {newer}" in str(caught.value)


async def test_writes_survive_close_and_reopen(backend: Backend) -> None:
    first = await backend.open()
    report_id = await first.add_report(make_report())
    answer_id = await first.add_answer(make_answer())
    await first.set_feedback(answer_id, "slack", "U1", Verdict.FIXED, T0)
    incident_id = await first.open_incident(make_incident())
    await first.close()
    if backend.sqlite_path is not None:
        assert backend.sqlite_path.is_file()  # the missing parent folder was created

    second = await backend.open()
    try:
        (report,) = await second.reports_between(T0, T0 + minutes(1))
        assert report.id == report_id
        assert report.parsed == make_report().parsed
        assert await second.get_answer(answer_id) is not None
        assert list(await second.feedback_summary()) == [FeedbackSummary(entry_id="quota-jump", fixed=1)]
        assert (await second.get_incident(incident_id)) is not None
    finally:
        await second.close()


# ---------------------------------------------------------------------------------------------
# URLs and opening errors (not per backend)


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        (f"mysql://root:{PASSWORD}@db.example:3306/bot", "unknown scheme 'mysql'"),
        (f"postgresql://bot:{PASSWORD}@db.example:notaport/bot", "port"),
        (f"postgresql://bot:{PASSWORD}@db.example:99999/bot", "port"),
        (f"postgresql://bot:{PASSWORD}@db.example/bot?schema=Bad-Name", "schema"),
        (f"postgresql://bot:pa#{PASSWORD}@db.example:5432/bot", "port"),
        (f"sqlite://bot:{PASSWORD}@host/x.db", "no host"),
        ("sqlite:///", "no file path"),
        ("sqlite:///data/x.db?mode=ro", "no ?parameters"),
        (f"db.example:5432/{PASSWORD}", "scheme"),
        (f"bot:{PASSWORD}@db.example:5432/bot", "scheme"),
        (f"postgresql:bot:{PASSWORD}@db.example/bot", "scheme"),
        ("", "no database URL"),
    ],
)
async def test_a_malformed_url_is_a_store_error_without_the_password(url: str, hint: str) -> None:
    with pytest.raises(StoreError) as caught:
        await open_store(url)

    message = str(caught.value)
    assert hint in message
    assert "Accepted forms" in message
    assert "sqlite:///" in message and "postgresql://" in message
    chain: BaseException | None = caught.value
    while chain is not None:
        assert PASSWORD not in str(chain)
        assert "hunter2" not in str(chain)
        chain = chain.__cause__ or chain.__context__


async def test_unreachable_postgres_names_host_and_port_never_the_password() -> None:
    pytest.importorskip("asyncpg")
    with pytest.raises(StoreError) as caught:
        await open_store(f"postgresql://bot:{PASSWORD}@127.0.0.1:1/bot")

    message = str(caught.value)
    assert "127.0.0.1:1" in message
    assert PASSWORD not in message
    assert caught.value.__cause__ is not None  # the driver's error is chained for the logs
    assert PASSWORD not in str(caught.value.__cause__)


async def test_missing_asyncpg_says_to_install_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # makes `import asyncpg` fail

    with pytest.raises(StoreError, match=r"supportbot\[postgres\]"):
        await open_store("postgres://bot@127.0.0.1:5432/bot")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"postgresql://bot:{PASSWORD}@db:5432/x", "postgresql://bot:***@db:5432/x"),
        (f"postgres://bot:{PASSWORD}@db/x?sslmode=require", "postgres://bot:***@db/x?sslmode=require"),
        (f"postgresql://bot:p@ss{PASSWORD}@db/x", "postgresql://bot:***@db/x"),
        (f"postgresql://db/x?user=bot&password={PASSWORD}", "postgresql://db/x?user=bot&password=***"),
        ("postgresql://bot@db/x", "postgresql://bot@db/x"),
        ("sqlite:///data/supportbot.db", "sqlite:///data/supportbot.db"),
        ("not a url at all", "not a url at all"),
        (f"bot:{PASSWORD}@db:5432/x", "bot:***@db:5432/x"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


async def test_sqlite_relative_path_and_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = await open_store("sqlite:///./data/supportbot.db")
    await relative.close()
    assert (tmp_path / "data" / "supportbot.db").is_file()

    memory = await open_store("sqlite:///:memory:")
    try:
        report_id = await memory.add_report(make_report())
        assert [r.id for r in await memory.reports_between(T0, T0 + minutes(1))] == [report_id]
    finally:
        await memory.close()
    assert not (tmp_path / ":memory:").exists()


async def test_sqlite_path_that_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")

    with pytest.raises(StoreError, match="taken"):
        await open_store(f"sqlite:///{tmp_path}/taken/x.db")
