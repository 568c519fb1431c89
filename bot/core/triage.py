"""What happens to a message someone posts, the same on Slack, Discord and the terminal.

An adapter turns a platform event into an `Incoming` (already stripped of mention markup) and a
`ChatPort` for the conversation it came from, and calls `Triage.handle(incoming, port)`. Everything
after that is decided here, in this order:

1. **Watch list.** In a channel the policy does not watch (by id or name), nothing happens. Direct
   messages are always looked at. A channel's name is asked of the platform (`port.channel_name()`)
   only when its id is not on the list, once per channel.
2. **Bare mention.** "@supportbot" and nothing else gets the help, privately where the platform can.
3. **Channel mode.** `off`: pastes are ignored; `mention`: only messages that address the bot.
4. **Threads.** Inside a thread, only a message that looks like an error (or addresses the bot) is
   looked at, and not where the bot already answered (the store keeps the thread of every answer) or
   a person other than the asker already helped (asked of the platform, `port.thread_authors()`).
   Both hold across restarts.
5. **Receipt.** A message that looks like an error gets 👀 at once (`port.react()`).
6. **The answer.** The paste is matched against the catalog. A confident match is stored and answered
   in the thread; an error-looking paste that matches nothing is stored as a catalog gap and, only
   when the bot was addressed, answered "not recognised". Ordinary chat gets nothing.
7. **Merging.** One person's pastes in one place (channel or thread) within `policy.merge_seconds` share one answer:
   the later ones edit the first answer in place (`port.edit()`), listing the earlier errors too.
8. **Nothing to say.** The 👀 is taken back so nobody waits for an answer (`port.unreact()`).

A platform call that fails raises `DeliveryError` from the port; it is logged here and the rest goes
on (an edit that fails becomes a new post). A store that fails stops the paste quietly. Commands take
the same road back: `deliver()` posts the service's replies through the port they came from.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.core import replies
from bot.core.bounded import TextWorkRefused, run_bounded
from bot.core.catalog import Entry
from bot.core.errors import DeliveryError, StoreError
from bot.core.inflight import InFlight
from bot.core.knowledge import KnowledgeBase
from bot.core.masking import mask_secrets
from bot.core.matching import Matcher
from bot.core.models import (
    AnswerRecord,
    ChannelMode,
    Incoming,
    MatchResult,
    Origin,
    Reply,
    Section,
    UnmatchedPaste,
)
from bot.core.policy import Policy
from bot.core.ports import ChatPort, Clock, IncidentStore, Posted, ThreadAuthors
from bot.core.recent import Recent
from bot.core.stats import Stats
from bot.core.tallies import REPORT, UNKNOWN_TOOL, tool_label

log = logging.getLogger(__name__)

TEXT_DEADLINE = 10.0  # seconds of text work for one message (linear anyway; this is a backstop)
MAX_INPUT_CHARS = 1_000_000  # a paste beyond this is cut; the rest cannot change the answer
STORED_PASTE_CHARS = 20_000
REMEMBERED = 5_000  # channel names, helped threads and per-person locks kept in memory


def mode_key(platform: str, channel_id: str) -> str:
    """Where a channel's mode is kept in the store's settings."""
    return f"channel_mode:{platform}:{channel_id}"


def origin_of(incoming: Incoming) -> Origin:
    return Origin(incoming.platform, incoming.workspace_id, incoming.channel_id, incoming.user_id)


@dataclass
class _MergeGroup:
    """One person's recent pastes in one place (a channel or a thread): they share one answer."""

    key: str
    last_seen: dt.datetime
    entry_ids: list[str]
    posted: Posted | None = None


class Triage:
    def __init__(self, knowledge: KnowledgeBase, store: IncidentStore, policy: Policy, clock: Clock,
                 work: InFlight | None = None, stats: Stats | None = None) -> None:
        self.knowledge = knowledge
        self.store = store
        self.policy = policy
        self.clock = clock
        self.work = work or InFlight()
        self.stats = stats or Stats()
        self._names: Recent[tuple[str, str], str] = Recent(REMEMBERED)
        self._helped: Recent[tuple[str, str, str], None] = Recent(REMEMBERED)  # threads a person took on
        self._groups: dict[tuple[str, str, str, str], _MergeGroup] = {}
        self._locks: OrderedDict[tuple[str, str, str], asyncio.Lock] = OrderedDict()

    # -- the whole path of a message ------------------------------------------------------------------

    async def handle(self, incoming: Incoming, port: ChatPort) -> None:
        if not self.work.accepting:
            return
        with self.work.track():
            try:
                await self._triage(incoming, port)
            except StoreError as exc:
                log.error("store error on a message on %s channel=%s: %s", incoming.platform,
                          incoming.channel_id, exc)

    async def _triage(self, incoming: Incoming, port: ChatPort) -> None:
        where = (incoming.platform, incoming.channel_id)
        if not incoming.is_direct and not await self._watched(incoming, port):  # 1. watch list
            return
        text = incoming.text[:MAX_INPUT_CHARS].strip()
        if not text:  # 2. bare mention
            if incoming.mentioned:  # "@supportbot" alone: say what it can do, to that person
                await self._send(port, replies.help_reply(len(self.knowledge.catalog)), None)
            return
        if not incoming.is_direct and not await self.channel_allows(*where, mentioned=incoming.mentioned):  # 3.
            return
        addressed = incoming.mentioned or incoming.is_direct
        looks = self.knowledge.matcher.looks_like_error(text)
        if incoming.thread_id:  # 4. threads
            if not (looks or addressed):
                return  # conversation inside a thread: not a paste, and not worth a platform call
            if not incoming.mentioned and await self._thread_taken(incoming, port):
                return
        reacted = looks and await self._try(port.react, "react")  # 5. receipt
        async with self._lock(incoming):
            group = self._merge_group(incoming)
            reply = await self._answer(incoming, text, group)  # 6. the answer
            if reply is None:  # 8. nothing to say
                if reacted:
                    await self._try(port.unreact, "take the reaction back")
                return
            await self._send(port, reply, group if reply.merge_key else None)  # 7. posted, or merged in place

    async def channel_mode(self, platform: str, channel_id: str) -> ChannelMode:
        stored = await self.store.get_setting(mode_key(platform, channel_id))
        try:
            return ChannelMode(stored) if stored else self.policy.default_channel_mode
        except ValueError:
            return ChannelMode.AUTO

    async def channel_allows(self, platform: str, channel_id: str, *, mentioned: bool) -> bool:
        mode = await self.channel_mode(platform, channel_id)
        return mode is ChannelMode.AUTO or (mode is ChannelMode.MENTION and mentioned)

    async def _watched(self, incoming: Incoming, port: ChatPort) -> bool:
        """On the watch list by id, else by name: the platform is asked a channel's name once."""
        platform, channel_id = incoming.platform, incoming.channel_id
        if self.policy.watches(platform, channel_id, incoming.channel_name):
            return True
        if incoming.channel_name or not self.policy.watch_channels.get(platform):
            return False  # the name was given, or nothing is listed
        key = (platform, channel_id)
        if key not in self._names:
            try:
                self._names[key] = await port.channel_name()
            except DeliveryError as exc:
                log.warning("could not read the channel's name: %s", exc)
                return False  # not cached: asked again next time
        return self.policy.watches(platform, channel_id, self._names[key])

    # -- threads ---------------------------------------------------------------------------------------

    async def _thread_taken(self, incoming: Incoming, port: ChatPort) -> bool:
        """The bot already answered in this thread, or a person other than the asker already helped."""
        thread = (incoming.platform, incoming.channel_id, incoming.thread_id or "")
        if await self.store.answered_in_thread(*thread):
            log.info("not answering in thread %s/%s (already answered)", incoming.channel_id, incoming.thread_id)
            return True
        if thread in self._helped:  # once helped, it stays helped: its history is not read again
            return True
        try:
            authors = await port.thread_authors()
        except DeliveryError as exc:
            log.warning("could not read the thread: %s", exc)
            authors = ThreadAuthors()
        if authors.people - {incoming.user_id, authors.opener}:
            log.info("not answering in thread %s/%s (a person already helped)", incoming.channel_id,
                     incoming.thread_id)
            self._helped[thread] = None
            return True
        return False

    # -- the answer -------------------------------------------------------------------------------------

    async def _answer(self, incoming: Incoming, text: str, group: _MergeGroup) -> Reply | None:
        knowledge = self.knowledge
        try:  # the CPU-bound part, off the event loop; one sender's pastes take turns
            result, masked = await run_bounded(_match_and_mask, knowledge.matcher, text, deadline=TEXT_DEADLINE,
                                               key=(incoming.platform, incoming.user_id))
        except TextWorkRefused as exc:
            log.warning("paste on %s channel=%s not examined: %s", incoming.platform, incoming.channel_id, exc)
            return replies.too_slow() if incoming.mentioned or incoming.is_direct else None
        masked = masked[:STORED_PASTE_CHARS]
        now = incoming.received_at or self.clock.now()
        if result.best is None:
            if not result.looks_like_error:
                return None  # ordinary chat, even when addressed to the bot
            top = result.top
            await self.store.add_unmatched(UnmatchedPaste(
                origin_of(incoming), now, masked, top.entry_id if top else None, top.score if top else 0.0))
            self.stats.unmatched_pastes += 1
            log.info("unmatched paste on %s channel=%s best=%s score=%.1f", incoming.platform,
                     incoming.channel_id, top.entry_id if top else None, top.score if top else 0.0)
            addressed = incoming.mentioned or incoming.is_direct
            return replies.not_recognised(result.candidates, knowledge.catalog) if addressed else None
        best = result.best
        catalog = knowledge.catalog
        entry = catalog.get(best.entry_id)
        if entry is None:  # the catalog was swapped between match and lookup
            return None
        answer_id = await self.store.add_answer(AnswerRecord(  # its thread: the message's, or the one it starts
            origin_of(incoming), now, entry.id, best.score, catalog.version, masked,
            thread_id=incoming.thread_id or incoming.message_id))
        self.stats.answers_given += 1
        log.info("answered on %s channel=%s answer=%d entry=%s score=%.1f via %s", incoming.platform,
                 incoming.channel_id, answer_id, entry.id, best.score, best.reason)
        earlier = [e for e in group.entry_ids if e != entry.id]
        group.entry_ids.append(entry.id)
        extra: list[Section] = []
        if earlier:
            extra.append(Section("Also in your earlier paste", replies.related_lines_for(earlier, catalog)))
        if entry.category in replies.QUOTA_CATEGORIES:
            extra.append(await self._quota_hint(entry, now))
        alternates = [c for c in result.candidates[1:] if c.score >= knowledge.matcher.threshold - 15][:2]
        return replies.reply_for_match(entry, best, catalog, answer_id=answer_id, alternates=alternates,
                                       extra=extra, merge_key=group.key)

    async def _quota_hint(self, entry: Entry, now: dt.datetime) -> Section:
        tools = list(dict.fromkeys((tool_label(entry.tool), UNKNOWN_TOOL)))
        people = await self.store.count_reporters(tools, REPORT, now - dt.timedelta(hours=24),
                                                  now + dt.timedelta(microseconds=1))
        return Section("Usage reports", (
            f"{people} people reported a {entry.tool} quota reading in the last 24 h.",
            "Report yours with `/quota` and paste the `/usage` (or `/status`) screen: it helps staff spot an incident.",
        ))

    # -- merging and sending ----------------------------------------------------------------------------

    def _merge_group(self, incoming: Incoming) -> _MergeGroup:
        now = incoming.received_at or self.clock.now()
        key = (incoming.platform, incoming.channel_id, incoming.thread_id or "", incoming.user_id)
        window = dt.timedelta(seconds=self.policy.merge_seconds)
        group = self._groups.get(key)
        if group is None or now - group.last_seen > window:
            for other_key, other in list(self._groups.items()):  # keep the map small on a busy workspace
                if now - other.last_seen > window:
                    del self._groups[other_key]
            group = _MergeGroup(f"{':'.join(key)}:{int(now.timestamp())}", now, [])
            self._groups[key] = group
        group.last_seen = now
        return group

    async def _send(self, port: ChatPort, reply: Reply, group: _MergeGroup | None) -> None:
        """Post the reply, or edit the group's earlier answer in place; a failed edit becomes a new post."""
        if group is not None and group.posted is not None:
            try:
                await port.edit(group.posted, reply)
                return
            except DeliveryError as exc:
                log.warning("could not edit the earlier answer, posting a new one: %s", exc)
        try:
            posted = await port.post(reply)
        except DeliveryError as exc:
            log.warning("could not post an answer: %s", exc)
            return
        if group is not None and posted is not None:
            group.posted = posted

    @staticmethod
    async def _try(call: Callable[[], Awaitable[None]], what: str) -> bool:
        try:
            await call()
            return True
        except DeliveryError as exc:
            log.warning("could not %s: %s", what, exc)
            return False

    def _lock(self, incoming: Incoming) -> asyncio.Lock:
        """One person's pastes in one channel are answered in order, so the second edits the first answer."""
        key = (incoming.platform, incoming.channel_id, incoming.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
            while len(self._locks) > REMEMBERED:
                oldest_key, oldest = next(iter(self._locks.items()))
                if oldest.locked():
                    break
                del self._locks[oldest_key]
        return lock


async def deliver(port: ChatPort, answers: Sequence[Reply]) -> None:
    """Post a command's replies where it came from; one the platform refuses is logged, the rest still go."""
    for reply in answers:
        try:
            await port.post(reply)
        except DeliveryError as exc:
            log.warning("could not deliver a reply: %s", exc)


def _match_and_mask(matcher: Matcher, text: str) -> tuple[MatchResult, str]:
    """What reading a paste costs in CPU: run off the event loop by `run_bounded`."""
    return matcher.match(text), mask_secrets(text)
