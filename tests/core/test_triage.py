"""The triage of a message, through a recording `ChatPort`: every decision the core makes about a paste.

The same rules are run through the real Slack, Discord and terminal front ends in `tests/scenarios/`;
here each rule is pinned down once, including the failure paths a real platform rarely shows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

import pytest

from bot.core.catalog import Catalog, default_catalog_dir
from bot.core.errors import DeliveryError
from bot.core.models import ChannelMode, Command, Incoming, Reply, ReplyKind
from bot.core.policy import Policy
from bot.core.ports import Posted, ThreadAuthors
from bot.core.service import KnowledgeBase, SupportService

OVERLOADED = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
TIMEOUT = "API Error (Request timed out.) · Retrying in 1 seconds… (attempt 2/10)"
UNKNOWN = "FATAL: frobnicator exploded with error code ZZ-9 while reticulating splines"
T0 = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


@dataclass
class RecordingPort:
    """Records what the triage asked of the platform; `fail` names calls that raise DeliveryError."""

    authors: ThreadAuthors = field(default_factory=ThreadAuthors)
    name: str = ""
    fail: set[str] = field(default_factory=set)
    staff: bool = False
    calls: list[str] = field(default_factory=list)
    posts: list[Reply] = field(default_factory=list)
    edits: list[tuple[Posted, Reply]] = field(default_factory=list)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise DeliveryError(f"test: {name} refused")

    async def react(self) -> None:
        self._call("react")

    async def unreact(self) -> None:
        self._call("unreact")

    async def thread_authors(self) -> ThreadAuthors:
        self._call("thread_authors")
        return self.authors

    async def channel_name(self) -> str:
        self._call("channel_name")
        return self.name

    async def post(self, reply: Reply) -> Posted | None:
        self._call("post")
        self.posts.append(reply)
        return Posted("C1", f"answer-{len(self.posts)}")

    async def edit(self, posted: Posted, reply: Reply) -> None:
        self._call("edit")
        self.edits.append((posted, reply))

    async def is_staff(self) -> bool:
        return self.staff


_knowledge: dict[str, KnowledgeBase] = {}


def make(store: object, catalog: Catalog, **policy: object) -> SupportService:
    # One matcher for the module: building it is the slow part, and nothing here changes the catalog.
    knowledge = _knowledge.setdefault(catalog.version, KnowledgeBase(catalog, default_catalog_dir()))
    return SupportService(knowledge, store, Policy(**policy))  # type: ignore[arg-type]


def msg(text: str, *, user: str = "U1", channel_id: str = "C1", at: dt.datetime = T0, **extra: object) -> Incoming:
    return Incoming(platform="slack", channel_id=channel_id, user_id=user, text=text, received_at=at,
                    **extra)  # type: ignore[arg-type]


async def test_a_paste_is_acknowledged_then_answered(store, catalog) -> None:
    service, port = make(store, catalog), RecordingPort()
    await service.triage.handle(msg(OVERLOADED, message_id="1.1"), port)
    assert port.calls == ["react", "post"]
    assert port.posts[0].entry_id == "claude-code-529-overloaded" and not port.posts[0].private


@pytest.mark.parametrize("chat", ["anyone up for lunch?", "the PR is at 100% coverage now", "   "])
async def test_ordinary_chat_makes_no_platform_call(store, catalog, chat: str) -> None:
    service, port = make(store, catalog), RecordingPort()
    await service.triage.handle(msg(chat), port)
    assert port.calls == []


async def test_an_unrecognised_error_gets_its_receipt_back_and_becomes_a_gap(store, catalog) -> None:
    service, port = make(store, catalog), RecordingPort()
    await service.triage.handle(msg(UNKNOWN), port)
    assert port.calls == ["react", "unreact"]
    addressed = RecordingPort()
    await service.triage.handle(msg(UNKNOWN, mentioned=True), addressed)
    assert addressed.posts[0].kind is ReplyKind.NOT_RECOGNISED
    gaps = await store.unmatched_between(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1))
    assert len(gaps) == 2


async def test_a_bare_mention_gets_help_privately(store, catalog) -> None:
    service, port = make(store, catalog), RecordingPort()
    await service.triage.handle(msg("", mentioned=True), port)
    [help_reply] = port.posts
    assert help_reply.kind is ReplyKind.HELP and help_reply.private


async def test_watch_list_by_id_or_name(store, catalog) -> None:
    service = make(store, catalog, watch_channels={"slack": frozenset({"C9", "help"})})
    ignored, by_id, by_name, direct = RecordingPort(), RecordingPort(), RecordingPort(), RecordingPort()
    await service.triage.handle(msg(OVERLOADED), ignored)
    await service.triage.handle(msg(OVERLOADED, user="U2", channel_id="C9"), by_id)
    await service.triage.handle(msg(OVERLOADED, user="U3", channel_name="#help"), by_name)
    await service.triage.handle(msg(OVERLOADED, user="U4", channel_id="D1", is_direct=True), direct)
    assert ignored.calls == ["channel_name"] and by_id.posts and by_name.posts and direct.posts
    assert by_id.calls == ["react", "post"] and by_name.calls == ["react", "post"]  # no name asked
    # A channel the platform names on asking: asked once, then remembered (a failure is not).
    asked, again = RecordingPort(name="help"), RecordingPort(name="help")
    await service.triage.handle(msg(OVERLOADED, user="U6", channel_id="C7"), asked)
    await service.triage.handle(msg(TIMEOUT, user="U7", channel_id="C7"), again)
    assert asked.posts and again.posts and "channel_name" not in again.calls
    refused, retried = RecordingPort(fail={"channel_name"}), RecordingPort(name="help")
    await service.triage.handle(msg(OVERLOADED, user="U8", channel_id="C8"), refused)
    await service.triage.handle(msg(OVERLOADED, user="U9", channel_id="C8"), retried)
    assert refused.posts == [] and retried.calls[0] == "channel_name" and retried.posts
    # Another platform's list does not apply.
    other = RecordingPort()
    await service.triage.handle(Incoming("discord", "C1", "U5", OVERLOADED, received_at=T0), other)
    assert other.posts


@pytest.mark.parametrize(("mode", "plain", "mentioned"), [
    (ChannelMode.AUTO, True, True), (ChannelMode.MENTION, False, True), (ChannelMode.OFF, False, False)])
async def test_channel_modes(store, catalog, mode: ChannelMode, plain: bool, mentioned: bool) -> None:
    service = make(store, catalog, default_channel_mode=mode)
    quiet, addressed = RecordingPort(), RecordingPort()
    await service.triage.handle(msg(OVERLOADED), quiet)
    await service.triage.handle(msg(TIMEOUT, user="U2", mentioned=True), addressed)
    assert bool(quiet.posts) is plain and bool(addressed.posts) is mentioned
    assert ("react" in quiet.calls) is plain  # no 👀 where nothing will be answered
    direct = RecordingPort()
    await service.triage.handle(msg(OVERLOADED, user="U3", channel_id="D1", is_direct=True), direct)
    assert direct.posts  # a direct message has no channel mode


async def test_a_thread_where_a_person_helped_or_the_bot_answered_is_left_alone(store, catalog) -> None:
    service = make(store, catalog)
    helped = RecordingPort(ThreadAuthors(opener="U1", people=frozenset({"U1", "U2"})))
    await service.triage.handle(msg(OVERLOADED, thread_id="9.1"), helped)
    assert helped.calls == ["thread_authors"]
    # The asker and the person who opened the thread are not helpers.
    own = RecordingPort(ThreadAuthors(opener="U7", people=frozenset({"U7", "U1"})))
    await service.triage.handle(msg(OVERLOADED, thread_id="9.3"), own)
    assert own.posts
    answered = RecordingPort(ThreadAuthors(opener="U7"))
    await service.triage.handle(msg(TIMEOUT, user="U2", thread_id="9.3"), answered)
    assert answered.calls == []  # the store says the bot answered there: nothing asked of the platform
    # Addressing the bot asks anyway.
    asked = RecordingPort(ThreadAuthors(opener="U1", people=frozenset({"U2"})))
    await service.triage.handle(msg(OVERLOADED, thread_id="9.1", mentioned=True), asked)
    assert asked.posts and "thread_authors" not in asked.calls


async def test_chat_inside_a_thread_costs_no_platform_call(store, catalog) -> None:
    service, port = make(store, catalog), RecordingPort()
    await service.triage.handle(msg("thanks, that worked", thread_id="9.1"), port)
    assert port.calls == []


async def test_a_thread_answered_here_is_not_read_again_even_after_a_restart(store, catalog) -> None:
    await make(store, catalog).triage.handle(msg(OVERLOADED, message_id="5.1"), RecordingPort())
    restarted = make(store, catalog)  # nothing in memory: only the store knows the answer went to 5.1
    follow_up = RecordingPort()
    await restarted.triage.handle(msg(TIMEOUT, user="U2", thread_id="5.1", message_id="5.2"), follow_up)
    assert follow_up.calls == []
    elsewhere = RecordingPort()  # the same thread id in another channel is another thread
    await restarted.triage.handle(msg(TIMEOUT, user="U2", channel_id="C2", thread_id="5.1"), elsewhere)
    assert elsewhere.posts


async def test_an_unreadable_thread_is_answered(store, catalog) -> None:
    service, port = make(store, catalog), RecordingPort(fail={"thread_authors"})
    await service.triage.handle(msg(OVERLOADED, thread_id="9.1"), port)
    assert port.posts


async def test_pastes_within_the_window_edit_one_answer(store, catalog) -> None:
    service, port = make(store, catalog), RecordingPort()
    await service.triage.handle(msg(OVERLOADED), port)
    await service.triage.handle(msg(TIMEOUT, at=T0 + dt.timedelta(seconds=60)), port)
    [first] = port.posts
    [(posted, merged)] = port.edits
    assert posted == Posted("C1", "answer-1") and merged.merge_key == first.merge_key
    assert any(s.heading == "Also in your earlier paste" for s in merged.sections)
    later, other = RecordingPort(), RecordingPort()
    await service.triage.handle(msg(TIMEOUT, at=T0 + dt.timedelta(minutes=10)), later)
    await service.triage.handle(msg(TIMEOUT, user="U9", at=T0 + dt.timedelta(seconds=30)), other)
    assert later.posts and not later.edits and other.posts and not other.edits


async def test_a_failed_edit_becomes_a_new_answer_and_failures_never_stop_it(store, catalog) -> None:
    service = make(store, catalog)
    await service.triage.handle(msg(OVERLOADED), RecordingPort())
    port = RecordingPort(fail={"edit", "react"})
    await service.triage.handle(msg(TIMEOUT, at=T0 + dt.timedelta(seconds=5)), port)
    assert port.calls == ["react", "edit", "post"] and port.posts
    refused = RecordingPort(fail={"post"})
    await service.triage.handle(msg(OVERLOADED, user="U8"), refused)
    assert refused.calls == ["react", "post"]  # logged, and nothing else breaks


async def test_draining_takes_no_new_pastes(store, catalog) -> None:
    service, port = make(store, catalog), RecordingPort()
    assert await service.drain(1.0)
    await service.triage.handle(msg(OVERLOADED), port)
    assert port.calls == []


async def test_platform_staff_is_asked_only_for_staff_commands(store, catalog) -> None:
    service = make(store, catalog)
    staff, other = RecordingPort(staff=True), RecordingPort()
    allowed = await service.handle(Incoming("slack", "C1", "U1", "", command=Command.INCIDENTS), staff)
    refused = await service.handle(Incoming("slack", "C1", "U2", "", command=Command.INCIDENTS), other)
    assert allowed[0].kind is ReplyKind.STAFF and refused[0].kind is ReplyKind.REFUSAL


async def test_matching_a_paste_runs_off_the_event_loop(store, catalog, monkeypatch) -> None:
    """CPU work on a paste must not hold up the loop that acknowledges other requests."""
    import threading

    service, port = make(store, catalog), RecordingPort()
    matcher = service.knowledge.matcher
    loop_thread = threading.get_ident()
    ran_on: list[int] = []
    release = threading.Event()
    real_match = type(matcher).match

    def slow_match(self, text: str, top: int = 3):  # type: ignore[no-untyped-def]
        ran_on.append(threading.get_ident())
        release.wait(timeout=10)  # held until the loop, still free, lets it go
        return real_match(self, text, top)

    monkeypatch.setattr(type(matcher), "match", slow_match)
    handling = asyncio.create_task(service.triage.handle(msg(OVERLOADED, message_id="9.1"), port))
    while not ran_on:
        await asyncio.sleep(0.01)  # the loop keeps turning while the match is in progress
    release.set()
    await handling
    assert ran_on[0] != loop_thread
    assert port.posts and port.posts[0].entry_id == "claude-code-529-overloaded"


# -- commands take the same road back: SupportService.respond -------------------------------------------


async def test_respond_posts_every_reply_through_the_port_and_never_stays_silent(store, catalog) -> None:
    service = make(store, catalog)
    port = RecordingPort()
    answers = await service.respond(msg("529 overloaded", command=Command.ERRFIX), port)
    assert port.posts == answers and answers[0].private
    refused = RecordingPort(fail={"post"})
    await service.respond(msg("", command=Command.HELP), refused)  # logged; nothing raised
    assert refused.calls == ["post"]
    quiet = RecordingPort()
    await service.respond(msg("anything", command=Command.MESSAGE, channel_id="D1", is_direct=True), quiet)
    [nothing] = quiet.posts
    assert nothing.title == "Nothing to show for that"


async def test_a_looked_up_message_is_an_error_never_a_command(store, catalog) -> None:
    service = make(store, catalog, staff_ids=frozenset({"U1"}))
    port = RecordingPort()
    await service.respond(msg("mode off", command=Command.LOOK_UP), port)
    assert await service.channel_mode("slack", "C1") is ChannelMode.AUTO
    assert port.posts and all(r.private for r in port.posts)
    found = RecordingPort()
    await service.respond(msg(OVERLOADED, command=Command.LOOK_UP), found)
    assert found.posts[0].entry_id == "claude-code-529-overloaded" and found.posts[0].private
    empty = RecordingPort()
    await service.respond(msg("  ", command=Command.LOOK_UP), empty)
    assert empty.posts[0].kind is ReplyKind.HELP


async def test_the_platforms_word_on_staff_is_kept_for_a_minute_and_a_failure_means_no(store, catalog) -> None:
    service = make(store, catalog)
    asked = 0

    class GroupPort(RecordingPort):
        async def is_staff(self) -> bool:
            nonlocal asked
            asked += 1
            return True

    for _ in range(3):
        port = GroupPort()
        await service.respond(msg("", command=Command.INCIDENTS, user="U5"), port)
        assert port.posts[0].title == "Support overview"
    assert asked == 1
    failing = RecordingPort()

    async def refuse() -> bool:
        raise DeliveryError("test: usergroups refused")

    failing.is_staff = refuse  # type: ignore[method-assign]
    await service.respond(msg("", command=Command.INCIDENTS, user="U6"), failing)
    assert failing.posts[0].kind is ReplyKind.REFUSAL


async def test_the_home_page_shows_staff_the_overview_and_everyone_the_help(store, catalog) -> None:
    service = make(store, catalog, staff_ids=frozenset({"U1"}))
    staff = await service.home_page(msg("", command=Command.INCIDENTS), RecordingPort(),
                                    notice=Reply(kind=ReplyKind.NOTICE, title="Incident #1 acknowledged"))
    assert staff.overview.title == "Support overview" and staff.help.kind is ReplyKind.HELP
    assert staff.notice is not None and staff.notice.title == "Incident #1 acknowledged"
    other = await service.home_page(msg("", command=Command.INCIDENTS, user="U2"), RecordingPort(),
                                    notice=staff.overview)  # the overview is never repeated as a notice
    assert other.overview.kind is ReplyKind.REFUSAL and other.notice is None


async def test_a_command_against_a_deadline_is_answered_now_or_posted_when_done(store, catalog) -> None:
    service = make(store, catalog)
    port = RecordingPort()
    timely = await service.respond_within(msg("session 64% -> 100% overnight", command=Command.QUOTA), port, 30)
    assert timely.now is not None and "recorded" in timely.now.title and timely.later is None
    assert port.posts == []  # the acknowledgement carries it

    release = asyncio.Event()

    class SlowGroupPort(RecordingPort):
        async def is_staff(self) -> bool:
            await release.wait()
            return True

    slow = SlowGroupPort()
    timely = await service.respond_within(msg("", command=Command.INCIDENTS, user="U7"), slow, 0.01)
    assert timely.now is not None and "follows" in timely.now.summary and timely.later is not None
    release.set()
    await timely.later
    assert [r.title for r in slow.posts] == ["Support overview"]

    class LateBrokenPort(RecordingPort):
        async def is_staff(self) -> bool:
            await release.wait()
            raise RuntimeError("boom")

    release.clear()
    late = LateBrokenPort()
    timely = await service.respond_within(msg("", command=Command.INCIDENTS, user="U10"), late, 0.01)
    release.set()
    assert timely.later is not None
    await timely.later  # the person was told an answer follows: it is an apology
    assert [r.title for r in late.posts] == ["Sorry, that did not work"]

    class BrokenPort(RecordingPort):
        async def is_staff(self) -> bool:
            raise RuntimeError("boom")

    timely = await service.respond_within(msg("", command=Command.INCIDENTS, user="U8"), BrokenPort(), 30)
    assert timely.now is not None and "did not work" in timely.now.title and timely.later is None


async def test_with_no_public_way_back_even_a_share_stays_private(store, catalog) -> None:
    service = make(store, catalog)
    shared, kept = RecordingPort(), RecordingPort()
    await service.respond(msg("claude-code-529-overloaded", command=Command.SHARE), shared)
    await service.respond(msg("claude-code-529-overloaded", command=Command.SHARE, private_only=True), kept)
    assert not shared.posts[0].private and kept.posts[0].private


async def test_a_command_that_fails_still_answers_the_person(store, catalog) -> None:
    service = make(store, catalog)

    class BrokenPort(RecordingPort):
        async def is_staff(self) -> bool:
            raise RuntimeError("boom")

    port = BrokenPort()
    [sorry] = await service.respond(msg("", command=Command.INCIDENTS, user="U9"), port)
    assert port.posts == [sorry] and sorry.private and "did not work" in sorry.title
