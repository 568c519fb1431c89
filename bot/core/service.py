"""SupportService: what every command means, the same on every front end.

Adapters translate a slash command, a button or a menu pick into an `Incoming`, call `handle()`, and
render the `Reply` objects they get back. A plain message (maybe a pasted error) goes to `triage`
instead (`bot.core.triage`), which owns the whole path of a paste.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import replace

from bot.core import replies
from bot.core.catalog import Catalog, CheckResult, Entry
from bot.core.detection import DetectionConfig, detect, spike_to_incident
from bot.core.errors import StoreError
from bot.core.inflight import InFlight
from bot.core.knowledge import KnowledgeBase
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
    QuotaReport,
    Reply,
    ReplyKind,
    Section,
    UnmatchedPaste,
    Verdict,
)
from bot.core.offload import cpu
from bot.core.policy import Policy
from bot.core.ports import AlertSink, ChatPort, Clock, IncidentStore, Posted, SystemClock, ThreadAuthors
from bot.core.readings import parse_readings, reading_fingerprint
from bot.core.support_bundle import reading_sections, support_bundle
from bot.core.tallies import symptoms_of, tally
from bot.core.triage import MAX_INPUT_CHARS, Triage, mode_key, origin_of

log = logging.getLogger(__name__)

__all__ = ["KnowledgeBase", "SupportService"]

ERRFIX_MIN_SCORE = 45.0  # a looked-up error shows its closest entry from here (channels need more)
ERRFIX_MIN_TITLE_SCORE = 80.0
class SupportService:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        store: IncidentStore,
        policy: Policy,
        clock: Clock | None = None,
        detection: DetectionConfig | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.store = store
        self.policy = policy
        self.clock = clock or SystemClock()
        self.detection = detection or DetectionConfig()
        self.work = InFlight()
        self.triage = Triage(knowledge, store, policy, self.clock, self.work)
        self._alert_sinks: list[AlertSink] = []
        self._detect_lock = asyncio.Lock()

    # -- wiring -------------------------------------------------------------------------------------

    def add_alert_sink(self, sink: AlertSink) -> None:
        """The runner registers where incident alerts go: one sink (an `AlertRelay`) per front end."""
        self._alert_sinks.append(sink)

    @property
    def catalog(self) -> Catalog:
        return self.knowledge.catalog

    @property
    def matcher(self) -> Matcher:
        return self.knowledge.matcher

    async def is_staff(self, incoming: Incoming, port: ChatPort | None = None) -> bool:
        """Staff by configured id, or because the platform says so (asked only when it matters)."""
        if incoming.platform_staff or self.policy.is_staff_id(incoming.platform, incoming.user_id):
            return True
        return port is not None and await port.is_staff()

    def complete(self, prefix: str, limit: int = 25) -> list[Entry]:
        return self.matcher.complete(prefix, limit)

    @property
    def accepting(self) -> bool:
        return self.work.accepting

    async def drain(self, timeout: float) -> bool:
        """Stop taking new work and wait for replies in flight; True when all finished in time."""
        return await self.work.drain(timeout)

    # -- the entry point ----------------------------------------------------------------------------

    async def handle(self, incoming: Incoming, port: ChatPort | None = None) -> list[Reply]:
        """Answer a command (or button, or menu pick). `port` lets the platform vouch for staff.

        A plain message is triaged as it would be in a channel, and the replies it would post are
        returned (handy for the command line and tests; chat adapters call `triage.handle`).
        """
        if incoming.command is Command.MESSAGE:
            collector = ReplyCollector()
            await self.triage.handle(incoming, collector)
            return collector.replies
        if not self.accepting:
            return [replies.notice("Shutting down", "The bot is restarting; please try again in a minute.")]
        if len(incoming.text) > MAX_INPUT_CHARS:
            incoming = replace(incoming, text=incoming.text[:MAX_INPUT_CHARS])
        with self.work.track():
            try:
                return await self._dispatch(incoming, port)
            except StoreError as exc:
                log.error("store error while handling %s from %s:%s: %s",
                          incoming.command.value, incoming.platform, incoming.user_id, exc)
                return [replies.notice(
                    "Sorry, I could not save that",
                    "The database is not reachable right now, so nothing was recorded. Please try again shortly.",
                )]

    async def _dispatch(self, incoming: Incoming, port: ChatPort | None) -> list[Reply]:
        if incoming.command in STAFF_COMMANDS and not await self.is_staff(incoming, port):
            return self._refuse(incoming)
        handlers = {
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
        handler = handlers.get(incoming.command)
        return [] if handler is None else await handler(incoming)

    # -- channel modes ---------------------------------------------------------------------------------

    async def channel_mode(self, platform: str, channel_id: str) -> ChannelMode:
        return await self.triage.channel_mode(platform, channel_id)

    # -- /errfix --------------------------------------------------------------------------------------

    async def _on_errfix(self, incoming: Incoming) -> list[Reply]:
        text = incoming.text.strip()
        if not text:
            return [self._help()]
        entry = self.matcher.lookup(text)
        if entry is not None:
            return [replies.reply_for_entry(entry, self.catalog)]
        result = await cpu(self.matcher.match, text, 4)  # CPU work, off the event loop
        if result.best is None:
            return [self._closest_entry(text, result.candidates)]
        best = self.catalog.get(result.best.entry_id)
        if best is None:
            return [replies.not_recognised(result.candidates, self.catalog, private=True)]
        now = self._now(incoming)
        answer_id = await self.store.add_answer(AnswerRecord(
            origin_of(incoming), now, best.id, result.best.score, self.catalog.version,
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
        entry = self.catalog.get(incoming.text.strip())
        if entry is None:
            return [replies.notice("That entry no longer exists", "The catalog changed; try `/errfix` again.")]
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
                origin_of(incoming), now, answer.paste, answer.entry_id, answer.score, reason="wrong_error"))
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
        parsed = await cpu(parse_readings, text, now=now)  # CPU work, off the event loop
        if not parsed.readings:
            return [replies.notice(
                "I could not find a quota reading in that",
                "Give the window (session, weekly...) and a percentage or the limit notice.",
                sections=(Section("Examples that work", replies.QUOTA_EXAMPLES),),
            )]
        hour_ago = now - dt.timedelta(hours=1)
        if await self.store.count_reports_by(incoming.platform, incoming.user_id, hour_ago) >= \
                self.policy.reports_per_hour:
            return [replies.notice(
                "That's a lot of reports — please slow down",
                f"You can send up to {self.policy.reports_per_hour} reports an hour; this one was not stored.",
                kind=ReplyKind.REFUSAL)]
        fingerprint = reading_fingerprint(parsed)
        since = now - dt.timedelta(minutes=self.policy.duplicate_minutes)
        duplicate = await self.store.find_duplicate(incoming.platform, incoming.user_id, fingerprint, since)
        if duplicate is not None:
            return [replies.notice("Already counted",
                                   f"You reported the same reading a few minutes ago (report #{duplicate}).",
                                   sections=reading_sections(parsed))]
        report = QuotaReport(origin_of(incoming), now, mask_secrets(text)[:20_000], parsed, fingerprint)
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
            spikes = await cpu(detect, reports, now, self.detection)  # CPU work, off the loop
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
        number = incoming.text.strip().lstrip("#")
        if not (number.isascii() and number.isdigit()) or len(number) > 18:  # fits every store's integer
            return [replies.notice("Which incident?", "Give the incident number, e.g. `12`.")]
        incident_id = int(number)
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
        try:
            mode = ChannelMode(incoming.text.strip().lower())
        except ValueError:
            current = await self.channel_mode(incoming.platform, incoming.channel_id)
            return [replies.notice(f"This channel's mode is {current.value}",
                                   f"{_MODE_HELP[current]} Staff change it with `/errfix mode auto|mention|off`.")]
        await self.store.set_setting(mode_key(incoming.platform, incoming.channel_id), mode.value)
        return [replies.notice(f"Channel mode set to {mode.value}", _MODE_HELP[mode])]

    async def _on_reload(self, incoming: Incoming) -> list[Reply]:
        return [self.reload_reply(await self.knowledge.reload())]

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


STAFF_COMMANDS = frozenset({Command.INCIDENTS, Command.ACK_INCIDENT, Command.RESOLVE_INCIDENT,
                            Command.CHANNEL_MODE, Command.RELOAD})


class ReplyCollector:
    """A `ChatPort` that keeps what would be posted: a message handled outside any chat platform."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    async def react(self) -> None:
        return None

    async def unreact(self) -> None:
        return None

    async def thread_authors(self) -> ThreadAuthors:
        return ThreadAuthors()

    async def post(self, reply: Reply) -> Posted | None:
        self.replies.append(reply)
        return Posted("", str(len(self.replies)))

    async def edit(self, posted: Posted, reply: Reply) -> None:
        self.replies.append(reply)

    async def is_staff(self) -> bool:
        return False


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
