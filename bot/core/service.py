"""SupportService: the one entry point every front end calls.

Adapters translate a platform event into an `Incoming`, call `handle()`, and render the `Reply`
objects they get back. Everything a person can do in any front end goes through here, so the
console, Slack and Discord behave the same by construction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.config import Settings
from bot.core import replies
from bot.core.bounded import TextWorkRefused, run_bounded
from bot.core.catalog import Catalog, CheckResult, Entry, check_catalog
from bot.core.detection import DetectionConfig, detect, spike_to_incident
from bot.core.masking import mask_secrets
from bot.core.matching import Matcher
from bot.core.models import (
    Action,
    AnswerRecord,
    Candidate,
    ChannelMode,
    Command,
    Incident,
    IncidentStatus,
    Incoming,
    MatchResult,
    Origin,
    ParsedReadings,
    QuotaReport,
    Reply,
    ReplyKind,
    Section,
    UnmatchedPaste,
    Verdict,
)
from bot.core.ports import Clock, IncidentStore, SystemClock
from bot.core.readings import parse_readings, reading_fingerprint
from bot.core.support_bundle import reading_sections, support_bundle
from bot.core.tallies import symptoms_of, tally
from bot.errors import StoreError

log = logging.getLogger(__name__)

AlertSink = Callable[[Reply], Awaitable[None]]
ERRFIX_MIN_SCORE = 45.0  # a looked-up error shows its closest entry from here (channels need more)
ERRFIX_MIN_TITLE_SCORE = 80.0
TEXT_DEADLINE = 10.0  # seconds for the CPU work on one message (linear anyway; this is a backstop)
MAX_INPUT_CHARS = 1_000_000  # a paste beyond this is cut; the rest cannot change the answer
RECENT_THREADS = 5_000


class KnowledgeBase:
    """The catalog in use and its matcher; reloads keep the last good catalog on failure."""

    def __init__(self, catalog: Catalog, folder: Path) -> None:
        self.folder = folder
        self._set(catalog)
        self.last_problems: tuple[str, ...] = ()

    def _set(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.matcher = Matcher(catalog)

    def reload(self) -> CheckResult:
        """Load the folder again; swap only if it is valid. The result says what happened."""
        result = check_catalog(self.folder)
        if result.ok:
            if result.version != self.catalog.version:
                self._set(Catalog.of(result.entries, result.version, str(self.folder)))
                log.info("catalog reloaded: %d entries, version %s", len(result.entries), result.version)
            self.last_problems = ()
        else:
            self.last_problems = tuple(str(p) for p in result.problems)
            log.warning("catalog reload refused, keeping version %s: %d problem(s)",
                        self.catalog.version, len(result.problems))
        return result


@dataclass
class _MergeGroup:
    key: str
    last_seen: dt.datetime
    entry_ids: list[str] = field(default_factory=list)


class SupportService:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        store: IncidentStore,
        settings: Settings,
        clock: Clock | None = None,
        detection: DetectionConfig | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.store = store
        self.settings = settings
        self.clock = clock or SystemClock()
        self.detection = detection or DetectionConfig()
        self._alert_sinks: list[AlertSink] = []
        self._answered_threads: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._merge_groups: dict[tuple[str, str, str], _MergeGroup] = {}
        self._detect_lock = asyncio.Lock()
        # Front end name -> "running" | "reconnecting" | "stopped", kept by the runner for /healthz.
        self.front_end_status: dict[str, str] = {}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.accepting = True

    # -- wiring -------------------------------------------------------------------------------------

    def add_alert_sink(self, sink: AlertSink) -> None:
        """Front ends register where incident alerts go (a staff channel)."""
        self._alert_sinks.append(sink)

    def remove_alert_sink(self, sink: AlertSink) -> None:
        """A front end that stops takes its sink back (a reconnect builds a new client and sink)."""
        if sink in self._alert_sinks:
            self._alert_sinks.remove(sink)

    @property
    def catalog(self) -> Catalog:
        return self.knowledge.catalog

    @property
    def matcher(self) -> Matcher:
        return self.knowledge.matcher

    def is_staff(self, incoming: Incoming) -> bool:
        return incoming.platform_staff or self.settings.is_staff_id(incoming.platform, incoming.user_id)

    def looks_like_error(self, text: str) -> bool:
        """Cheap first look, so adapters can react (👀) before the full match runs."""
        return self.matcher.looks_like_error(text)

    def complete(self, prefix: str, limit: int = 25) -> list[Entry]:
        return self.matcher.complete(prefix, limit)

    async def drain(self, timeout: float) -> bool:
        """Stop taking new work and wait for replies in flight; True when all finished in time."""
        self.accepting = False
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    # -- the entry point ----------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        if not self.accepting:
            return [] if incoming.command is Command.MESSAGE else [
                replies.notice("Shutting down", "The bot is restarting; please try again in a minute.")]
        if len(incoming.text) > MAX_INPUT_CHARS:
            incoming = replace(incoming, text=incoming.text[:MAX_INPUT_CHARS])
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._dispatch(incoming)
        except StoreError as exc:
            log.error("store error while handling %s from %s:%s: %s",
                      incoming.command.value, incoming.platform, incoming.user_id, exc)
            return [replies.notice(
                "Sorry, I could not save that",
                "The database is not reachable right now, so nothing was recorded. Please try again shortly.",
            )]
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _dispatch(self, incoming: Incoming) -> list[Reply]:
        handlers = {
            Command.MESSAGE: self._on_message,
            Command.ERRFIX: self._on_errfix,
            Command.QUOTA: self._on_quota,
            Command.INCIDENTS: self._on_incidents,
            Command.HELP: self._on_help,
            Command.RELOAD: self._on_reload,
            Command.MORE: self._on_more,
            Command.SHOW_ENTRY: self._on_show_entry,
            Command.SHARE: self._on_share,
            Command.FEEDBACK: self._on_feedback,
            Command.ESCALATE: self._on_escalate,
            Command.ACK_INCIDENT: self._on_incident_step,
            Command.RESOLVE_INCIDENT: self._on_incident_step,
            Command.CHANNEL_MODE: self._on_channel_mode,
        }
        return await handlers[incoming.command](incoming)

    # -- pasted messages ------------------------------------------------------------------------------

    async def channel_mode(self, platform: str, channel_id: str) -> ChannelMode:
        stored = await self.store.get_setting(_mode_key(platform, channel_id))
        try:
            return ChannelMode(stored or self.settings.default_channel_mode)
        except ValueError:
            return ChannelMode.AUTO

    async def channel_allows(self, platform: str, channel_id: str, *, mentioned: bool) -> bool:
        """Whether pastes in this channel may be answered, given its mode; adapters ask before reacting."""
        mode = await self.channel_mode(platform, channel_id)
        return mode is ChannelMode.AUTO or (mode is ChannelMode.MENTION and mentioned)

    async def _on_message(self, incoming: Incoming) -> list[Reply]:
        text = incoming.text.strip()
        if not text:
            return []
        addressed = incoming.mentioned or incoming.is_direct
        if not incoming.is_direct and not await self.channel_allows(
                incoming.platform, incoming.channel_id, mentioned=incoming.mentioned):
            return []
        if incoming.thread_helped and not addressed:
            return []
        thread_key = (incoming.platform, incoming.channel_id, incoming.thread_id or "")
        if incoming.thread_id and thread_key in self._answered_threads and not addressed:
            return []
        try:
            result, masked = await run_bounded(_match_and_mask, self.matcher, text, deadline=TEXT_DEADLINE,
                                               key=(incoming.platform, incoming.user_id))
        except TextWorkRefused as exc:
            log.warning("paste on %s channel=%s not examined: %s", incoming.platform, incoming.channel_id, exc)
            return [_too_slow_reply()] if addressed else []
        now = self._now(incoming)
        origin = _origin(incoming)
        if result.best is None:
            if not result.looks_like_error:
                return []  # ordinary chat, even when addressed to the bot
            top = result.top
            await self.store.add_unmatched(UnmatchedPaste(
                origin, now, masked[:20_000], top.entry_id if top else None, top.score if top else 0.0))
            log.info("unmatched paste on %s channel=%s best=%s score=%.1f", incoming.platform,
                     incoming.channel_id, top.entry_id if top else None, top.score if top else 0.0)
            if addressed:
                return [replies.not_recognised(result.candidates, self.catalog)]
            return []
        best = result.best
        entry = self.catalog.get(best.entry_id)
        if entry is None:  # catalog swapped between match and lookup
            return []
        answer_id = await self.store.add_answer(
            AnswerRecord(origin, now, entry.id, best.score, self.catalog.version, masked[:20_000]))
        log.info("answered on %s channel=%s answer=%d entry=%s score=%.1f via %s", incoming.platform,
                 incoming.channel_id, answer_id, entry.id, best.score, best.reason)
        if incoming.thread_id:
            self._remember_thread(thread_key)
        if incoming.message_id:
            self._remember_thread((incoming.platform, incoming.channel_id, incoming.message_id))
        group = self._merge_group(incoming, now)
        earlier = [e for e in group.entry_ids if e != entry.id]
        group.entry_ids.append(entry.id)
        extra: list[Section] = []
        if earlier:
            extra.append(Section("Also in your earlier paste", replies.related_lines_for(earlier, self.catalog)))
        if entry.category in replies.QUOTA_CATEGORIES:
            extra.append(await self._quota_hint(entry, now))
        alternates = [c for c in result.candidates[1:] if c.score >= self.matcher.threshold - 15][:2]
        return [replies.reply_for_match(entry, best, self.catalog, answer_id=answer_id, alternates=alternates,
                                        extra=extra, merge_key=group.key)]

    async def _quota_hint(self, entry: Entry, now: dt.datetime) -> Section:
        reports = await self.store.reports_between(now - dt.timedelta(hours=24), now)
        people = {(r.origin.platform, r.origin.user_id) for r in reports
                  if r.parsed.tool in (entry.tool, None) and r.parsed.readings}
        return Section("Usage reports", (
            f"{len(people)} people reported a {entry.tool} quota reading in the last 24 h.",
            "Report yours with `/quota` and paste the `/usage` (or `/status`) screen: it helps staff spot an incident.",
        ))

    def _merge_group(self, incoming: Incoming, now: dt.datetime) -> _MergeGroup:
        key = (incoming.platform, incoming.channel_id, incoming.user_id)
        window = dt.timedelta(seconds=self.settings.merge_seconds)
        group = self._merge_groups.get(key)
        if group is None or now - group.last_seen > window:
            stamp = int(now.timestamp())
            group = _MergeGroup(f"{incoming.platform}:{incoming.channel_id}:{incoming.user_id}:{stamp}", now)
            self._merge_groups[key] = group
            # Forget stale groups so the map stays small on a busy workspace.
            for other_key, other in list(self._merge_groups.items()):
                if now - other.last_seen > window:
                    del self._merge_groups[other_key]
            self._merge_groups[key] = group
        group.last_seen = now
        return group

    def _remember_thread(self, key: tuple[str, str, str]) -> None:
        self._answered_threads[key] = None
        self._answered_threads.move_to_end(key)
        while len(self._answered_threads) > RECENT_THREADS:
            self._answered_threads.popitem(last=False)

    def thread_answered(self, platform: str, channel_id: str, thread_id: str) -> bool:
        return (platform, channel_id, thread_id) in self._answered_threads

    # -- /errfix --------------------------------------------------------------------------------------

    async def _on_errfix(self, incoming: Incoming) -> list[Reply]:
        text = incoming.text.strip()
        if not text:
            return [self._help()]
        entry = self.matcher.lookup(text)
        if entry is not None:
            return [replies.reply_for_entry(entry, self.catalog)]
        result = self.matcher.match(text, top=4)
        if result.best is None:
            return [self._closest_entry(text, result.candidates)]
        best = self.catalog.get(result.best.entry_id)
        if best is None:
            return [replies.not_recognised(result.candidates, self.catalog, private=True)]
        now = self._now(incoming)
        answer_id = await self.store.add_answer(AnswerRecord(
            _origin(incoming), now, best.id, result.best.score, self.catalog.version,
            mask_secrets(text)[:20_000]))
        reply = replies.reply_for_match(best, result.best, self.catalog, answer_id=answer_id,
                                        alternates=result.candidates[1:4], private=True)
        share = Action(Command.SHARE, "Share in channel", best.id)
        return [replace(reply, actions=(*reply.actions, share))]

    def _closest_entry(self, text: str, candidates: Sequence[Candidate]) -> Reply:
        """`/errfix` with a few words ("529 overloaded") rather than a paste: someone asked, so show the
        entry when one is clearly closest, by the matcher or by id and title; else the closest few."""
        found = self.matcher.search(text, limit=4)
        top = candidates[0] if candidates else None
        chosen: str | None = None
        if top is not None and top.score >= ERRFIX_MIN_SCORE:
            chosen = top.entry_id
        elif found and found[0][1] >= ERRFIX_MIN_TITLE_SCORE:
            leader, score = found[0]
            runner_up = found[1][1] if len(found) > 1 else 0.0
            if score - runner_up >= 5 or (top is not None and top.entry_id == leader.id):
                chosen = leader.id
        merged = list(candidates)
        merged += [Candidate(e.id, score, "", "title") for e, score in found
                   if all(c.entry_id != e.id for c in merged)]
        entry = self.catalog.get(chosen) if chosen else None
        if entry is None:
            return replies.not_recognised(merged[:4], self.catalog, private=True)
        shown = replies.reply_for_entry(entry, self.catalog)
        others = tuple(Action(Command.SHOW_ENTRY, replies.button_label(self.catalog, c.entry_id), c.entry_id)
                       for c in merged if c.entry_id != entry.id)[:3]
        return replace(shown, footer=f"Closest entry for “{text[:80]}”. {shown.footer}",
                       actions=(*shown.actions, *others))

    async def _on_more(self, incoming: Incoming) -> list[Reply]:
        wanted = incoming.text.strip()
        if not wanted:
            return [replies.notice("Which entry?", "Give an entry id: `/more ENTRY-ID`; "
                                   "`/errfix` finds the entry of an error.")]
        entry = self.catalog.get(wanted)
        if entry is None:
            return [replies.notice(f"There is no entry {wanted[:80]!r}",
                                   "The catalog may have changed, or the id is mistyped; `/errfix` finds an entry.")]
        return [replies.reply_for_more(entry, self.catalog)]

    async def _on_show_entry(self, incoming: Incoming) -> list[Reply]:
        entry = self.catalog.get(incoming.text.strip())
        if entry is None:
            return [replies.notice("That entry no longer exists", "The catalog changed; try `/errfix` again.")]
        return [replies.reply_for_entry(entry, self.catalog)]

    async def _on_share(self, incoming: Incoming) -> list[Reply]:
        entry = self.catalog.get(incoming.text.strip())
        if entry is None:
            return [replies.notice("That entry no longer exists", "The catalog changed; try `/errfix` again.")]
        shared = replies.reply_for_entry(entry, self.catalog, private=False)
        return [replace(shared, footer=f"{shared.footer} · shared by a teammate")]

    # -- feedback and escalation ----------------------------------------------------------------------

    async def _on_feedback(self, incoming: Incoming) -> list[Reply]:
        answer_part, _, verdict_part = incoming.text.partition(":")
        try:
            answer_id, verdict = int(answer_part), Verdict(verdict_part)
        except ValueError:
            return [replies.notice("I could not read that button", "Please use the buttons under an answer.")]
        answer = await self.store.get_answer(answer_id)
        if answer is None:
            return [replies.notice("That answer is gone", "It may have been purged; thanks anyway.")]
        now = self._now(incoming)
        await self.store.set_feedback(answer_id, incoming.platform, incoming.user_id, verdict, now)
        log.info("feedback answer=%d entry=%s verdict=%s", answer_id, answer.entry_id, verdict.value)
        if verdict is Verdict.WRONG:
            await self.store.add_unmatched(UnmatchedPaste(
                _origin(incoming), now, answer.paste, answer.entry_id, answer.score, reason="wrong_error"))
            return [replies.notice("Thanks — sent to the staff queue",
                                   "The paste goes to support staff as material for a new catalog entry.")]
        thanks = {Verdict.FIXED: "Glad it helped!", Verdict.NOT_HELPED: "Thanks — noted that it didn't help."}
        return [replies.notice(thanks[verdict], "You can change your answer by clicking another button.")]

    async def _on_escalate(self, incoming: Incoming) -> list[Reply]:
        answer = None
        if incoming.text.strip().isdigit():
            answer = await self.store.get_answer(int(incoming.text.strip()))
        what = f" about `{answer.entry_id}`" if answer else ""
        log.info("escalation on %s channel=%s by %s%s", incoming.platform, incoming.channel_id,
                 incoming.user_id, what)
        return [Reply(kind=ReplyKind.NOTICE, title="Escalated to support staff",
                      summary=f"A teammate asked for a person to help{what}.", private=False, ping_staff=True)]

    # -- quota readings -------------------------------------------------------------------------------

    async def _on_quota(self, incoming: Incoming) -> list[Reply]:
        text = incoming.text.strip()
        if not text:
            return [replies.notice("Report a usage-quota reading", "Examples of what I understand:",
                                   sections=(Section("Examples", replies.QUOTA_EXAMPLES),))]
        now = self._now(incoming)
        try:
            parsed, masked = await run_bounded(_parse_and_mask, text, now, deadline=TEXT_DEADLINE,
                                               key=(incoming.platform, incoming.user_id))
        except TextWorkRefused as exc:
            log.warning("quota text on %s not parsed: %s", incoming.platform, exc)
            return [_too_slow_reply()]
        if not parsed.readings:
            return [replies.notice(
                "I could not find a quota reading in that",
                "Give the window (session, weekly...) and a percentage or the limit notice.",
                sections=(Section("Examples that work", replies.QUOTA_EXAMPLES),),
            )]
        hour_ago = now - dt.timedelta(hours=1)
        if await self.store.count_reports_by(incoming.platform, incoming.user_id, hour_ago) >= \
                self.settings.reports_per_hour:
            return [replies.notice(
                "That's a lot of reports — please slow down",
                f"You can send up to {self.settings.reports_per_hour} reports an hour; this one was not stored.",
                kind=ReplyKind.REFUSAL)]
        fingerprint = reading_fingerprint(parsed)
        since = now - dt.timedelta(minutes=self.settings.duplicate_minutes)
        duplicate = await self.store.find_duplicate(incoming.platform, incoming.user_id, fingerprint, since)
        if duplicate is not None:
            return [replies.notice("Already counted",
                                   f"You reported the same reading a few minutes ago (report #{duplicate}).",
                                   sections=reading_sections(parsed))]
        report = QuotaReport(_origin(incoming), now, masked[:20_000], parsed, fingerprint)
        report_id = await self.store.add_report(report)  # committed before we thank anyone
        log.info("quota report %d on %s tool=%s windows=%s", report_id, incoming.platform, parsed.tool,
                 ",".join(r.window for r in parsed.readings))
        recent = await self.store.reports_between(now - dt.timedelta(hours=24), now)
        stored = replace(report, id=report_id)
        kinds = symptoms_of(stored, [r for r in recent if r.origin.user_id == incoming.user_id])
        others = _similar_reporters(stored, recent, kinds)
        await self._run_detection(now)
        sections = (*reading_sections(parsed),
                    Section("Support bundle", (support_bundle(stored, others),)))
        summary = (f"{others} other {'person' if others == 1 else 'people'} reported the same in the last 24 h."
                   if others else "You're the first to report this in the last 24 h.")
        return [Reply(kind=ReplyKind.READING, title=f"Thanks — report #{report_id} recorded", summary=summary,
                      sections=sections, private=True)]

    async def _run_detection(self, now: dt.datetime) -> None:
        async with self._detect_lock:
            lookback = now - dt.timedelta(days=29)
            reports = await self.store.reports_between(lookback, now)
            spikes = detect(reports, now, self.detection)
            if not spikes:
                return
            open_now = await self.store.list_incidents([IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED])
            for spike in spikes:
                if any(i.tool == spike.tool and i.symptom == spike.symptom for i in open_now):
                    continue
                incident = spike_to_incident(spike, now)
                incident_id = await self.store.open_incident(incident)
                log.warning("incident %d opened: %s %s, %d reporters (baseline %.1f)", incident_id,
                            spike.tool, spike.symptom, spike.reporters, spike.baseline)
                await self._alert(replace(incident, id=incident_id))

    async def _alert(self, incident: Incident) -> None:
        await self.alert_staff(replies.incident_alert(incident, self.catalog))

    async def alert_staff(self, reply: Reply) -> None:
        """Send a reply to every registered staff channel (incident alerts, broken catalog reloads)."""
        for sink in self._alert_sinks:
            try:
                await sink(reply)
            except Exception:  # one broken front end must not stop alerts to the others
                log.exception("alert sink failed for %r", reply.title)

    # -- staff ------------------------------------------------------------------------------------------

    def _refuse(self, incoming: Incoming) -> list[Reply]:
        log.info("refused staff command %s from %s:%s", incoming.command.value, incoming.platform,
                 incoming.user_id)
        return [replies.notice("Sorry, that's for support staff",
                               "Ask a staff member, or use `/errfix` and `/quota`.", kind=ReplyKind.REFUSAL)]

    async def _on_incidents(self, incoming: Incoming) -> list[Reply]:
        if not self.is_staff(incoming):
            return self._refuse(incoming)
        return [await self.staff_overview(self._now(incoming))]

    async def staff_overview(self, now: dt.datetime) -> Reply:
        since = now - dt.timedelta(hours=24)
        reports = await self.store.reports_between(since, now)
        summary = tally(reports, since, now)
        incidents = await self.store.list_incidents([IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED])
        unmatched = await self.store.unmatched_between(now - dt.timedelta(days=7), now)
        answers = await self.store.answers_between(now - dt.timedelta(days=7), now)
        feedback = await self.store.feedback_summary()
        return replies.staff_reply(summary.lines(), incidents, unmatched, answers, feedback, self.catalog)

    async def _on_incident_step(self, incoming: Incoming) -> list[Reply]:
        if not self.is_staff(incoming):
            return self._refuse(incoming)
        try:
            incident_id = int(incoming.text.strip().lstrip("#"))
        except ValueError:
            return [replies.notice("Which incident?", "Give the incident number, e.g. `12`.")]
        status = (IncidentStatus.ACKNOWLEDGED if incoming.command is Command.ACK_INCIDENT
                  else IncidentStatus.RESOLVED)
        actor = f"{incoming.platform}:{incoming.user_id}"
        try:
            incident = await self.store.transition_incident(incident_id, status, actor, self._now(incoming))
        except StoreError as exc:
            return [replies.notice(f"Incident #{incident_id} not changed", str(exc))]
        log.info("incident %d -> %s by %s", incident_id, status.value, actor)
        return [replies.notice(f"Incident #{incident_id} {status.value}",
                               f"{incident.summary} — {status.value} by {incoming.user_name or actor}.",
                               private=False)]

    async def _on_channel_mode(self, incoming: Incoming) -> list[Reply]:
        if not self.is_staff(incoming):
            return self._refuse(incoming)
        try:
            mode = ChannelMode(incoming.text.strip().lower())
        except ValueError:
            return [replies.notice("Unknown mode", "Use one of: auto, mention, off.")]
        await self.store.set_setting(_mode_key(incoming.platform, incoming.channel_id), mode.value)
        return [replies.notice(f"Channel mode set to {mode.value}", _MODE_HELP[mode])]

    async def _on_reload(self, incoming: Incoming) -> list[Reply]:
        if not self.is_staff(incoming):
            return self._refuse(incoming)
        return [self.reload_reply(self.knowledge.reload())]

    def reload_reply(self, result: CheckResult) -> Reply:
        if result.ok:
            return replies.notice("Catalog reloaded", f"{len(result.entries)} entries, version {result.version}.")
        return replies.notice(
            "Catalog NOT reloaded — still serving the last good version",
            f"Version {self.catalog.version} stays in use. Fix these and reload again:",
            sections=(Section("Problems", tuple(str(p) for p in result.problems[:20])),),
        )

    async def _on_help(self, incoming: Incoming) -> list[Reply]:
        return [self._help()]

    def _help(self) -> Reply:
        return replies.help_reply(len(self.catalog))

    def _now(self, incoming: Incoming) -> dt.datetime:
        return incoming.received_at or self.clock.now()


_MODE_HELP = {
    ChannelMode.AUTO: "I answer every pasted error I recognise in this channel.",
    ChannelMode.MENTION: "I answer pasted errors only when someone mentions me.",
    ChannelMode.OFF: "I stay quiet here; slash commands still work.",
}


def _mode_key(platform: str, channel_id: str) -> str:
    return f"channel_mode:{platform}:{channel_id}"


def _origin(incoming: Incoming) -> Origin:
    return Origin(incoming.platform, incoming.workspace_id, incoming.channel_id, incoming.user_id)


def _similar_reporters(report: QuotaReport, recent: Sequence[QuotaReport], kinds: frozenset[str]) -> int:
    """Distinct other people who reported the same tool and kind of symptom."""
    main_kind = next((k for k in ("idle_jump", "contradiction", "limit_hit", "jump") if k in kinds), "report")
    people = set()
    for other in recent:
        if other.origin.user_id == report.origin.user_id and other.origin.platform == report.origin.platform:
            continue
        if other.parsed.tool != report.parsed.tool:
            continue
        if main_kind in symptoms_of(other):
            people.add((other.origin.platform, other.origin.user_id))
    return len(people)


def _match_and_mask(matcher: Matcher, text: str) -> tuple[MatchResult, str]:
    """The CPU-bound part of a paste, run off the event loop."""
    return matcher.match(text), mask_secrets(text)


def _parse_and_mask(text: str, now: dt.datetime) -> tuple[ParsedReadings, str]:
    return parse_readings(text, now=now), mask_secrets(text)


def _too_slow_reply() -> Reply:
    return replies.notice("That took too long to read",
                          "Nothing was stored. Please send a shorter excerpt: the error lines themselves.")
