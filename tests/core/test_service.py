"""SupportService end to end on the real catalog and a real SQLite store (no mocks of our own code)."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.catalog import Catalog, default_catalog_dir, load_catalog
from bot.core.models import Command, IncidentStatus, Incoming, Reply, ReplyKind
from bot.core.service import KnowledgeBase, SupportService

OVERLOADED = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
TIMEOUT = "API Error (Request timed out.) · Retrying in 1 seconds… (attempt 2/10)"
T0 = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


class FixedClock:
    def __init__(self, now: dt.datetime) -> None:
        self.current = now

    def now(self) -> dt.datetime:
        return self.current


def make_service(store, catalog: Catalog, env: dict[str, str] | None = None, folder: Path | None = None,
                 clock: FixedClock | None = None) -> SupportService:
    settings = Settings.from_env(env or {})
    return SupportService(KnowledgeBase(catalog, folder or default_catalog_dir()), store, settings.policy(),
                          clock=clock or FixedClock(T0))


def msg(text: str, *, user: str = "U1", command: Command = Command.MESSAGE, at: dt.datetime = T0,
        **extra: object) -> Incoming:
    return Incoming(platform="slack", channel_id="C1", user_id=user, text=text, command=command,
                    received_at=at, **extra)  # type: ignore[arg-type]


async def test_pasted_error_gets_one_answer_and_is_recorded(store, catalog) -> None:
    service = make_service(store, catalog)
    answers = await service.handle(msg(OVERLOADED))
    assert len(answers) == 1
    reply = answers[0]
    assert reply.kind is ReplyKind.ANSWER
    assert reply.entry_id == "claude-code-529-overloaded"
    assert reply.answer_id is not None and reply.merge_key
    assert reply.summary.startswith("Quick fix:")
    assert "Why this answer" in reply.footer
    assert {a.command for a in reply.actions} >= {Command.MORE, Command.FEEDBACK, Command.ESCALATE}
    stored = await store.get_answer(reply.answer_id)
    assert stored.entry_id == "claude-code-529-overloaded" and stored.catalog_version == catalog.version


@pytest.mark.parametrize("chat", [
    "anyone up for lunch at noon?",
    "the PR is at 100% coverage now",
    "codex wrote the migration script, I just reviewed it",
    "",
])
async def test_ordinary_chat_gets_nothing(store, catalog, chat: str) -> None:
    service = make_service(store, catalog)
    assert await service.handle(msg(chat)) == []


async def test_unrecognised_error_is_quiet_in_channel_but_answered_when_addressed(store, catalog) -> None:
    service = make_service(store, catalog)
    paste = "FATAL: frobnicator exploded with error code ZZ-9 while reticulating splines"
    assert await service.handle(msg(paste)) == []
    direct = await service.handle(msg(paste, mentioned=True))
    assert direct[0].kind is ReplyKind.NOT_RECOGNISED
    gaps = await store.unmatched_between(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))
    assert len(gaps) == 2 and "frobnicator" in gaps[0].paste


async def test_secrets_are_masked_before_storing(store, catalog) -> None:
    service = make_service(store, catalog)
    paste = OVERLOADED + "\nmy key: sk-ant-api03-SECRETSECRETSECRET0123456789"
    reply = (await service.handle(msg(paste)))[0]
    stored = await store.get_answer(reply.answer_id)
    assert "SECRETSECRET" not in stored.paste and "sk-ant-[masked]" in stored.paste


async def test_channel_mode_is_set_by_staff_only(store, catalog) -> None:
    service = make_service(store, catalog, {"SUPPORTBOT_STAFF": "boss"})
    refused = await service.handle(msg("off", command=Command.CHANNEL_MODE))
    assert refused[0].kind is ReplyKind.REFUSAL
    set_off = (await service.handle(msg("off", user="boss", command=Command.CHANNEL_MODE)))[0]
    assert set_off.title == "Channel mode set to off"
    assert await service.handle(msg(OVERLOADED, user="U2")) == []
    current = (await service.handle(msg("", user="boss", command=Command.CHANNEL_MODE)))[0]
    assert current.title == "This channel's mode is off"


async def test_huge_or_odd_incident_numbers_get_a_plain_question(store, catalog) -> None:
    service = make_service(store, catalog, {"SUPPORTBOT_STAFF": "boss"})
    for number in ("99999999999999999999999", "١٢", "-3", "#"):
        reply = (await service.handle(msg(number, user="boss", command=Command.ACK_INCIDENT)))[0]
        assert reply.title == "Which incident?"


async def test_errfix_by_text_by_id_and_empty(store, catalog) -> None:
    service = make_service(store, catalog)
    by_text = (await service.handle(msg(OVERLOADED, command=Command.ERRFIX)))[0]
    assert by_text.private and by_text.entry_id == "claude-code-529-overloaded"
    assert any(a.command is Command.SHARE for a in by_text.actions)
    by_id = (await service.handle(msg("claude-code-529-overloaded", command=Command.ERRFIX)))[0]
    assert by_id.kind is ReplyKind.ENTRY and by_id.entry_id == "claude-code-529-overloaded"
    help_reply = (await service.handle(msg("", command=Command.ERRFIX)))[0]
    assert help_reply.kind is ReplyKind.HELP
    more = (await service.handle(msg("claude-code-529-overloaded", command=Command.MORE)))[0]
    assert any(s.heading == "Step by step" for s in more.sections)
    shared = (await service.handle(msg("claude-code-529-overloaded", command=Command.SHARE)))[0]
    assert not shared.private


async def test_feedback_last_word_wins_and_wrong_goes_to_staff_queue(store, catalog) -> None:
    service = make_service(store, catalog)
    answer = (await service.handle(msg(OVERLOADED)))[0]
    for verdict in ("fixed", "not_helped", "wrong"):
        reply = (await service.handle(msg(f"{answer.answer_id}:{verdict}", user="U5", command=Command.FEEDBACK)))[0]
        assert reply.kind is ReplyKind.NOTICE
    summary = {f.entry_id: f for f in await store.feedback_summary()}["claude-code-529-overloaded"]
    assert (summary.fixed, summary.not_helped, summary.wrong) == (0, 0, 1)
    queue = await store.unmatched_between(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))
    assert [q.reason for q in queue] == ["wrong_error"]
    junk = (await service.handle(msg("garbage", command=Command.FEEDBACK)))[0]
    assert "could not read" in junk.title


async def test_escalate_pings_staff_in_public(store, catalog) -> None:
    service = make_service(store, catalog)
    answer = (await service.handle(msg(OVERLOADED)))[0]
    reply = (await service.handle(msg(str(answer.answer_id), command=Command.ESCALATE)))[0]
    assert reply.ping_staff and not reply.private


async def test_staff_commands_are_refused_to_others(store, catalog) -> None:
    service = make_service(store, catalog, {"SUPPORTBOT_STAFF": "slack:boss"})
    for command in (Command.INCIDENTS, Command.ACK_INCIDENT, Command.RESOLVE_INCIDENT, Command.RELOAD):
        reply = (await service.handle(msg("1", command=command)))[0]
        assert reply.kind is ReplyKind.REFUSAL, command
    allowed = (await service.handle(msg("", user="boss", command=Command.INCIDENTS)))[0]
    assert allowed.kind is ReplyKind.STAFF
    by_platform = (await service.handle(msg("", user="U7", command=Command.INCIDENTS, platform_staff=True)))[0]
    assert by_platform.kind is ReplyKind.STAFF


async def test_quota_report_is_stored_before_thanks_and_duplicates_count_once(store, catalog) -> None:
    service = make_service(store, catalog)
    text = "Claude Code session went 64% -> 100% overnight with nothing running"
    reply = (await service.handle(msg(text, command=Command.QUOTA)))[0]
    assert reply.kind is ReplyKind.READING
    reports = await store.reports_between(T0 - dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=1))
    assert len(reports) == 1 and reports[0].parsed.readings[0].percent == 100
    again = (await service.handle(msg(text, command=Command.QUOTA, at=T0 + dt.timedelta(minutes=2))))[0]
    assert again.title == "Already counted"
    assert len(await store.reports_between(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))) == 1
    other = (await service.handle(msg(text, user="U2", command=Command.QUOTA, at=T0 + dt.timedelta(minutes=3))))[0]
    assert "1 other person" in other.summary
    assert any(s.heading == "Support bundle" for s in other.sections)


async def test_quota_without_reading_explains_what_works(store, catalog) -> None:
    service = make_service(store, catalog)
    reply = (await service.handle(msg("the build is 100% green", command=Command.QUOTA)))[0]
    assert reply.kind is ReplyKind.NOTICE and "could not find" in reply.title
    assert any("/quota" in item for s in reply.sections for item in s.items)


async def test_per_person_rate_limit(store, catalog) -> None:
    service = make_service(store, catalog, {"SUPPORTBOT_REPORTS_PER_HOUR": "3"})
    kinds = []
    for n in range(5):
        text = f"weekly at {10 + n}%, session {n}%"
        reply = (await service.handle(msg(text, command=Command.QUOTA, at=T0 + dt.timedelta(minutes=n))))[0]
        kinds.append(reply.kind)
    assert kinds == [ReplyKind.READING] * 3 + [ReplyKind.REFUSAL] * 2
    assert len(await store.reports_between(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))) == 3


async def test_many_people_reporting_idle_jumps_opens_an_incident_and_alerts(store, catalog) -> None:
    clock = FixedClock(T0)
    service = make_service(store, catalog, {"SUPPORTBOT_STAFF": "boss"}, clock=clock)
    alerts: list[Reply] = []

    async def sink(reply: Reply) -> None:
        alerts.append(reply)

    service.add_alert_sink(sink)
    for n in range(12):
        at = T0 + dt.timedelta(minutes=2 * n)
        clock.current = at
        await service.handle(msg(f"claude code session jumped from {40 + n}% to 100% while idle, nothing running",
                                 user=f"P{n}", command=Command.QUOTA, at=at))
    assert alerts == []  # storing a report never runs detection: the periodic job does
    for minute in range(0, 31, 2):  # the job, every two minutes, keeps one incident open
        await service.run_detection(T0 + dt.timedelta(minutes=minute))
    incidents = await store.list_incidents([IncidentStatus.OPEN])
    assert len(incidents) == 1
    assert len(alerts) == 1 and alerts[0].kind is ReplyKind.ALERT
    incident_id = incidents[0].id
    later = T0 + dt.timedelta(minutes=40)
    step = (await service.handle(msg(str(incident_id), user="boss", command=Command.ACK_INCIDENT, at=later)))[0]
    assert "acknowledged" in step.title
    events = await store.incident_events(incident_id)
    assert [e.status for e in events][-1] is IncidentStatus.ACKNOWLEDGED


async def test_reload_keeps_last_good_catalog(store, tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(default_catalog_dir(), folder)
    catalog = load_catalog(folder)
    service = make_service(store, catalog, {"SUPPORTBOT_STAFF": "boss"}, folder=folder)
    (folder / "broken.yaml").write_text("id: [broken\n", encoding="utf-8")
    reply = (await service.handle(msg("", user="boss", command=Command.RELOAD)))[0]
    assert "NOT reloaded" in reply.title
    assert service.catalog.version == catalog.version
    assert len(await service.handle(msg(OVERLOADED))) == 1  # still answering
    (folder / "broken.yaml").unlink()
    (folder / "claude-code-529-overloaded.yaml").unlink()
    for path in folder.glob("*.yaml"):  # drop links to the removed entry
        text = path.read_text(encoding="utf-8").replace("  - claude-code-529-overloaded\n", "")
        path.write_text(text, encoding="utf-8")
    ok = (await service.handle(msg("", user="boss", command=Command.RELOAD)))[0]
    assert ok.title == "Catalog reloaded"
    assert service.catalog.get("claude-code-529-overloaded") is None


async def test_bad_input_never_raises(store, catalog) -> None:
    service = make_service(store, catalog)
    huge = ("INFO all good\n" * 60_000) + OVERLOADED + "\n" + ("DEBUG tick\n" * 20_000)
    assert (await service.handle(msg(huge)))[0].entry_id == "claude-code-529-overloaded"
    junk = bytes(range(256)).decode("latin-1") * 400
    for command in (Command.MESSAGE, Command.ERRFIX, Command.QUOTA, Command.FEEDBACK, Command.MORE):
        result = await service.handle(msg(junk, command=command, mentioned=True))
        assert isinstance(result, list)


async def test_draining_stops_new_work(store, catalog) -> None:
    service = make_service(store, catalog)
    assert await service.drain(1.0) is True
    assert await service.handle(msg(OVERLOADED)) == []
    refused = await service.handle(replace(msg("x"), command=Command.ERRFIX))
    assert "Shutting down" in refused[0].title


@pytest.mark.parametrize(("words", "entry_id"), [
    ("529 overloaded", "claude-code-529-overloaded"),
    ("stream disconnected", "codex-cli-stream-disconnected"),
    ("heap out of memory", "claude-code-javascript-heap-oom"),
])
async def test_errfix_with_a_few_words_shows_the_clearly_closest_entry(store, catalog, words: str,
                                                                        entry_id: str) -> None:
    service = make_service(store, catalog)
    reply = (await service.handle(msg(words, command=Command.ERRFIX)))[0]
    assert reply.kind is ReplyKind.ENTRY and reply.entry_id == entry_id and reply.private
    assert reply.footer.startswith("Closest entry for")


async def test_fuzzy_passes_over_every_title_run_off_the_event_loop(store, catalog, monkeypatch) -> None:
    """/errfix with a few words, autocomplete and the staff view's gap background each walk the whole
    catalog: on the loop's own thread they would hold every acknowledgement back behind them."""
    from bot.core import service as service_module
    from bot.core.matching import Matcher

    loop_thread = threading.current_thread()
    seen: list[str] = []
    search, background_of = Matcher.search, service_module.background_of

    def watched_search(self: Matcher, query: str, limit: int = 5) -> list[tuple[object, float]]:
        seen.append("search off the loop" if threading.current_thread() is not loop_thread else "search ON the loop")
        return search(self, query, limit)  # type: ignore[return-value]

    def watched_background(entries):  # type: ignore[no-untyped-def]
        seen.append("background off the loop" if threading.current_thread() is not loop_thread
                    else "background ON the loop")
        return background_of(entries)

    monkeypatch.setattr(Matcher, "search", watched_search)
    monkeypatch.setattr(service_module, "background_of", watched_background)
    service = make_service(store, catalog)

    assert (await service.handle(msg("529 overloaded", command=Command.ERRFIX)))[0].kind is ReplyKind.ENTRY
    assert [e.id for e in await service.suggest("overload", 5)]
    await service.staff_overview(T0)

    assert seen == ["search off the loop", "search off the loop", "background off the loop"]


async def test_errfix_with_vague_words_lists_candidates_instead_of_guessing(store, catalog) -> None:
    service = make_service(store, catalog)
    vague = (await service.handle(msg("rate limit", command=Command.ERRFIX)))[0]
    assert vague.kind is ReplyKind.NOT_RECOGNISED
    assert any(a.command is Command.SHOW_ENTRY for a in vague.actions)
    nothing = (await service.handle(msg("xyzzy", command=Command.ERRFIX)))[0]
    assert nothing.kind is ReplyKind.NOT_RECOGNISED


async def test_work_in_flight_is_bounded_and_the_rest_hear_busy(store, catalog) -> None:
    service = make_service(store, catalog, {"SUPPORTBOT_MAX_IN_FLIGHT": "2"})
    service.busy_wait = 0  # no waiting for a place: the rest are refused at once
    answers = await asyncio.gather(*(
        service.handle(msg(f"Codex CLI weekly usage {10 + n}%", user=f"P{n}", command=Command.QUOTA))
        for n in range(10)))
    titles = [reply.title for replies_ in answers for reply in replies_]
    assert len(titles) == 10  # everyone heard something
    assert sum("recorded" in t for t in titles) == 2
    assert sum(t.startswith("Busy") for t in titles) == 8
    assert service.stats.refused_busy == 8 and service.stats.reports_stored == 2
    assert service.in_flight == 0
    stored = await store.reports_between(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))
    assert len(stored) == 2  # a busy answer stored nothing
    later = await service.handle(msg("Codex CLI weekly usage 50%", user="P9", command=Command.QUOTA))
    assert "recorded" in later[0].title  # once the work is done, the next one goes through


async def test_a_short_wait_for_a_place_lets_a_small_burst_through(store, catalog) -> None:
    service = make_service(store, catalog, {"SUPPORTBOT_MAX_IN_FLIGHT": "2"})
    service.busy_wait = 60  # long enough for each of them to get a place
    answers = await asyncio.gather(*(
        service.handle(msg(f"Codex CLI weekly usage {10 + n}%", user=f"P{n}", command=Command.QUOTA))
        for n in range(6)))
    assert all("recorded" in replies_[0].title for replies_ in answers)
    assert service.stats.refused_busy == 0 and service.in_flight == 0
