"""What happens to a message someone posts, the same on Slack, Discord and the terminal.

An adapter turns a platform event into an `Incoming` (already stripped of mention markup) and a
`ChatPort` for the conversation it came from, and calls `Triage.handle(incoming, port)`. Everything
after that is decided here, in this order:

1. **Watch list.** In a channel the policy does not watch (by id or name), nothing happens. Direct
   messages are always looked at.
2. **Bare mention.** "@supportbot" and nothing else gets the help, privately where the platform can.
3. **Channel mode.** `off`: pastes are ignored; `mention`: only messages that address the bot.
4. **Threads.** Inside a thread, only a message that looks like an error (or addresses the bot) is
   looked at, and not where the bot already answered or a person other than the asker already
   helped. Both are asked of the platform (`port.thread_authors()`), so they hold across restarts.
5. **Receipt.** A message that looks like an error gets 👀 at once (`port.react()`).
6. **The answer.** The paste is matched against the catalog. A confident match is stored and answered
   in the thread; an error-looking paste that matches nothing is stored as a catalog gap and, only
   when the bot was addressed, answered "not recognised". Ordinary chat gets nothing.
7. **Merging.** One person's pastes in one place (channel or thread) within `policy.merge_seconds` share one answer:
   the later ones edit the first answer in place (`port.edit()`), listing the earlier errors too.
8. **Nothing to say.** The 👀 is taken back so nobody waits for an answer (`port.unreact()`).

A platform call that fails raises `DeliveryError` from the port; it is logged here and the rest goes
on (an edit that fails becomes a new post). A store that fails stops the paste quietly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core import replies
from bot.core.catalog import Entry
from bot.core.errors import DeliveryError, StoreError
from bot.core.inflight import InFlight
from bot.core.knowledge import KnowledgeBase
from bot.core.masking import mask_secrets
from bot.core.models import AnswerRecord, ChannelMode, Incoming, Origin, Reply, Section, UnmatchedPaste
from bot.core.offload import cpu
from bot.core.policy import Policy
from bot.core.ports import ChatPort, Clock, IncidentStore, Posted, ThreadAuthors

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 1_000_000  # a paste beyond this is cut; the rest cannot change the answer
STORED_PASTE_CHARS = 20_000
REMEMBERED = 5_000  # answered threads and per-person locks kept in memory


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
                 work: InFlight | None = None) -> None:
        self.knowledge = knowledge
        self.store = store
        self.policy = policy
        self.clock = clock
        self.work = work or InFlight()
        self._answered: OrderedDict[tuple[str, str, str], None] = OrderedDict()
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
        if not incoming.is_direct and not self.policy.watches(*where, incoming.channel_name):  # 1. watch list
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
            self._remember(incoming.platform, incoming.channel_id, incoming.thread_id, incoming.message_id)
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

    # -- threads ---------------------------------------------------------------------------------------

    async def _thread_taken(self, incoming: Incoming, port: ChatPort) -> bool:
        """The bot already answered in this thread, or a person other than the asker already helped."""
        if self._answered_here(incoming):
            return True
        try:
            authors = await port.thread_authors()
        except DeliveryError as exc:
            log.warning("could not read the thread: %s", exc)
            authors = ThreadAuthors()
        helpers = authors.people - {incoming.user_id, authors.opener}
        if authors.bot_replied or helpers:
            self._remember(incoming.platform, incoming.channel_id, incoming.thread_id)  # it stays taken
            log.info("not answering in thread %s/%s (%s)", incoming.channel_id, incoming.thread_id,
                     "already answered" if authors.bot_replied else "a person already helped")
            return True
        return False

    def _answered_here(self, incoming: Incoming) -> bool:
        return (incoming.platform, incoming.channel_id, incoming.thread_id or "") in self._answered

    def _remember(self, platform: str, channel_id: str, *threads: str | None) -> None:
        """A thread (or a message, which may become one) that is taken care of: later pastes there are not."""
        for thread in threads:
            if thread:
                key = (platform, channel_id, thread)
                self._answered[key] = None
                self._answered.move_to_end(key)
        while len(self._answered) > REMEMBERED:
            self._answered.popitem(last=False)

    # -- the answer -------------------------------------------------------------------------------------

    async def _answer(self, incoming: Incoming, text: str, group: _MergeGroup) -> Reply | None:
        knowledge = self.knowledge
        # Matching is CPU work: a worker thread does it, so acknowledgements never queue behind a paste.
        result = await cpu(knowledge.matcher.match, text)
        now = incoming.received_at or self.clock.now()
        masked = mask_secrets(text)[:STORED_PASTE_CHARS]
        if result.best is None:
            if not result.looks_like_error:
                return None  # ordinary chat, even when addressed to the bot
            top = result.top
            await self.store.add_unmatched(UnmatchedPaste(
                origin_of(incoming), now, masked, top.entry_id if top else None, top.score if top else 0.0))
            log.info("unmatched paste on %s channel=%s best=%s score=%.1f", incoming.platform,
                     incoming.channel_id, top.entry_id if top else None, top.score if top else 0.0)
            addressed = incoming.mentioned or incoming.is_direct
            return replies.not_recognised(result.candidates, knowledge.catalog) if addressed else None
        best = result.best
        catalog = knowledge.catalog
        entry = catalog.get(best.entry_id)
        if entry is None:  # the catalog was swapped between match and lookup
            return None
        answer_id = await self.store.add_answer(
            AnswerRecord(origin_of(incoming), now, entry.id, best.score, catalog.version, masked))
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
        reports = await self.store.reports_between(now - dt.timedelta(hours=24), now)
        people = {(r.origin.platform, r.origin.user_id) for r in reports
                  if r.parsed.tool in (entry.tool, None) and r.parsed.readings}
        return Section("Usage reports", (
            f"{len(people)} people reported a {entry.tool} quota reading in the last 24 h.",
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
