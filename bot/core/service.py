"""SupportService: what every command means, the same on every front end.

Adapters translate a slash command, a button or a menu pick into an `Incoming` and a `ChatPort` for
where it came from, and call `respond()`: it answers and posts every reply through that port, so a
command's replies travel the same road on every platform. (`handle()` only answers, for a front end
that must put the first reply somewhere else, such as Slack's acknowledgement.) A plain message (maybe
a pasted error) goes to `triage` instead (`bot.core.triage`), which owns the whole path of a paste.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.core import replies
from bot.core.bounded import TextWorkRefused, run_bounded
from bot.core.catalog import Catalog, CheckResult, Entry
from bot.core.charts import bucket_size, counted_reports_chart, spike_chart
from bot.core.detection import (
    AnsweredHistory,
    DetectionConfig,
    Spike,
    detect_in,
    floor_to_bucket,
    plan_queries,
    spike_to_incident,
)
from bot.core.errors import DeliveryError, StoreError
from bot.core.gaps import MAX_PASTES, GapCluster, background_of, mine_gaps
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
    HomePage,
    Incident,
    IncidentStatus,
    Incoming,
    ParsedReadings,
    QuotaReport,
    Reply,
    ReplyKind,
    Section,
    UnmatchedPaste,
    Verdict,
)
from bot.core.offload import cpu
from bot.core.policy import Policy
from bot.core.ports import AlertSink, ChatPort, Clock, IncidentStore, PlainPort, Posted, SystemClock
from bot.core.readings import parse_readings, reading_fingerprint
from bot.core.stats import Stats
from bot.core.support_bundle import reading_sections, support_bundle
from bot.core.tallies import REPORT, tool_label
from bot.core.triage import MAX_INPUT_CHARS, TEXT_DEADLINE, Triage, deliver, mode_key, origin_of

STAFF_CHART_DAYS = 7  # the staff view's reports-over-time chart
SPIKE_CHART_HOURS = 24  # an incident alert's chart of the spike against its baseline

log = logging.getLogger(__name__)

__all__ = ["KnowledgeBase", "SupportService"]

ERRFIX_MIN_SCORE = 45.0  # a looked-up error shows its closest entry from here (channels need more)
ERRFIX_MIN_TITLE_SCORE = 80.0
#: How long a command may wait for a place among the requests being worked on before "busy".
BUSY_WAIT_SECONDS = 20.0
MAX_WAITERS_PER_SLOT = 32  # at most this many waiting per place; past that, "busy" at once
STAFF_MEMORY_SECONDS = 60.0  # how long the platform's word on who is staff (a group, a role) holds
MAX_REMEMBERED_PEOPLE = 10_000  # staff answers kept; past it the memory starts again


class SupportService:
    def __init__(
        self,
        knowledge: KnowledgeBase,
        store: IncidentStore,
        policy: Policy,
        clock: Clock | None = None,
        detection: DetectionConfig | None = None,
        busy_wait: float = BUSY_WAIT_SECONDS,
    ) -> None:
        self.knowledge = knowledge
        self.store = store
        self.policy = policy
        self.clock = clock or SystemClock()
        self.detection = detection or DetectionConfig()
        self.work = InFlight()
        self.stats = Stats()
        self.triage = Triage(knowledge, store, policy, self.clock, self.work, self.stats)
        self._alert_sinks: list[AlertSink] = []
        self._last_detection: dt.datetime | None = None
        self.busy_wait = busy_wait
        self._slots = asyncio.Semaphore(policy.max_in_flight)
        self._waiting = 0
        self._platform_staff: dict[tuple[str, str], tuple[float, bool]] = {}

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
        """Staff by configured id, or because the platform says so: asked only when it matters, and its
        word kept for a minute (a user group or role changes rarely); a failed question counts as no."""
        if incoming.platform_staff or self.policy.is_staff_id(incoming.platform, incoming.user_id):
            return True
        if port is None:
            return False
        key, now = (incoming.platform, incoming.user_id), time.monotonic()
        known = self._platform_staff.get(key)
        if known is not None and now - known[0] < STAFF_MEMORY_SECONDS:
            return known[1]
        try:
            staff = await port.is_staff()
        except DeliveryError as exc:
            log.warning("could not ask the platform who is staff: %s", exc)
            return False
        if len(self._platform_staff) >= MAX_REMEMBERED_PEOPLE:
            self._platform_staff.clear()
        self._platform_staff[key] = (now, staff)
        return staff

    def complete(self, prefix: str, limit: int = 25) -> list[Entry]:
        return self.matcher.complete(prefix, limit)

    async def suggest(self, prefix: str, limit: int = 25) -> list[Entry]:
        """`complete` for a chat's autocomplete: a fuzzy pass over every title, so off the event loop
        (a keystroke must not hold acknowledgements back on a catalog of thousands)."""
        return await cpu(self.matcher.complete, prefix, limit)

    @property
    def accepting(self) -> bool:
        return self.work.accepting

    async def drain(self, timeout: float) -> bool:
        """Stop taking new work and wait for replies in flight; True when all finished in time."""
        return await self.work.drain(timeout)

    # -- the entry point ----------------------------------------------------------------------------

    async def respond(self, incoming: Incoming, port: ChatPort) -> list[Reply]:
        """Answer a command and post every reply through the port it came from (what `deliver` does).
        A person who asked always hears something: that there is nothing to show, or that it failed."""
        try:
            answers = await self.handle(incoming, port) or [NOTHING_TO_SHOW]
        except Exception:  # a bug in one command must not leave the person waiting
            log.exception("%s from %s:%s failed", incoming.command.value, incoming.platform, incoming.user_id)
            answers = [SORRY]
        await deliver(port, answers)
        return answers

    async def respond_within(self, incoming: Incoming, port: ChatPort, seconds: float) -> Timely:
        """Answer a command against a platform's deadline (Slack wants a command answered within 3 s).

        Ready in time: the first reply is what the acknowledgement carries (so a thank-you seen means
        a report stored) and the rest is posted after it through `port`. Not ready: the
        acknowledgement says the answer follows, and every reply is posted through `port` when done.
        """
        work = asyncio.ensure_future(self.handle(incoming, port))
        done, _ = await asyncio.wait({work}, timeout=seconds)
        if not done:
            return Timely(ANSWER_FOLLOWS, _deliver_when_done(work, port))
        try:
            answers = work.result()
        except Exception:  # the acknowledgement is the only answer left: say so rather than nothing
            log.exception("%s from %s:%s failed", incoming.command.value, incoming.platform, incoming.user_id)
            return Timely(SORRY)
        if not answers:
            return Timely()
        return Timely(answers[0], deliver(port, answers[1:]) if len(answers) > 1 else None)

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
        if not await self._take_slot():
            # Bounded work in flight: past the limit (and a bounded wait) a person hears "busy",
            # never silence, and nothing waits in an unbounded queue to be lost by a crash.
            self.stats.refused_busy += 1
            log.warning("busy: %d requests in flight; refused %s from %s:%s", self.in_flight,
                        incoming.command.value, incoming.platform, incoming.user_id)
            return [BUSY]
        if len(incoming.text) > MAX_INPUT_CHARS:
            incoming = replace(incoming, text=incoming.text[:MAX_INPUT_CHARS])
        try:
            with self.work.track():
                try:
                    answers = await self._dispatch(incoming, port)
                    return [replace(r, private=True) for r in answers] if incoming.private_only else answers
                except StoreError as exc:
                    log.error("store error while handling %s from %s:%s: %s",
                              incoming.command.value, incoming.platform, incoming.user_id, exc)
                    return [replies.notice(
                        "Sorry, I could not save that",
                        "The database is not reachable right now, so nothing was recorded. Please try again shortly.",
                    )]
        finally:
            self._slots.release()

    @property
    def in_flight(self) -> int:
        """Requests being worked on right now."""
        return self.work.count

    async def _take_slot(self) -> bool:
        """A place among the `max_in_flight` requests being worked on: at once, or within
        `busy_wait` seconds for a bounded number of waiters; False when there is none."""
        if not self._slots.locked():
            await self._slots.acquire()  # free: returns without waiting
            return True
        if self.busy_wait <= 0 or self._waiting >= MAX_WAITERS_PER_SLOT * self.policy.max_in_flight:
            return False
        self._waiting += 1
        try:
            async with asyncio.timeout(self.busy_wait):
                await self._slots.acquire()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiting -= 1

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
            Command.LOOK_UP: self._on_look_up,
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
            return [await cpu(self._closest_entry, text, result.candidates)]  # a fuzzy pass over titles
        best = self.catalog.get(result.best.entry_id)
        if best is None:
            return [replies.not_recognised(result.candidates, self.catalog, private=True)]
        now = self._now(incoming)
        answer_id = await self.store.add_answer(AnswerRecord(
            origin_of(incoming), now, best.id, result.best.score, self.catalog.version,
            mask_secrets(text)[:20_000]))
        self.stats.answers_given += 1
        reply = replies.reply_for_match(best, result.best, self.catalog, answer_id=answer_id,
                                        alternates=result.candidates[1:4], private=True)
        share = Action(Command.SHARE, "Share in channel", best.id)
        return [replace(reply, actions=(*reply.actions, share))]

    async def _on_look_up(self, incoming: Incoming) -> list[Reply]:
        """A message picked for "Look up this error": its whole text is the error, whatever its words."""
        found = await self._on_errfix(incoming) if incoming.text.strip() else [self._help()]
        return [replace(reply, private=True) for reply in found]

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
        try:
            parsed, masked = await run_bounded(_parse_and_mask, text, now, deadline=TEXT_DEADLINE,
                                               key=(incoming.platform, incoming.user_id))
        except TextWorkRefused as exc:
            log.warning("quota text on %s not parsed: %s", incoming.platform, exc)
            return [replies.too_slow()]
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
        report = QuotaReport(origin_of(incoming), now, masked[:20_000], parsed, fingerprint)
        report_id = await self.store.add_report(report)  # committed before we thank anyone
        self.stats.reports_stored += 1
        log.info("quota report %d on %s tool=%s windows=%s", report_id, incoming.platform, parsed.tool,
                 ",".join(r.window for r in parsed.readings))
        stored = replace(report, id=report_id)
        kinds = await self.store.report_symptoms(report_id)
        main_kind = next((k for k in _MAIN_KINDS if k in kinds), REPORT)
        others = await self.store.count_reporters(
            [tool_label(parsed.tool)], main_kind, now - dt.timedelta(hours=24), just_after(now),
            exclude=(incoming.platform, incoming.user_id))
        sections = (*reading_sections(parsed),
                    Section("Support bundle", (support_bundle(stored, others),)))
        summary = (f"{others} other {'person' if others == 1 else 'people'} reported the same in the last 24 h."
                   if others else "You're the first to report this in the last 24 h.")
        return [Reply(kind=ReplyKind.READING, title=f"Thanks — report #{report_id} recorded", summary=summary,
                      sections=sections, private=True)]

    async def run_detection(self, at: dt.datetime | None = None) -> list[Incident]:
        """One run of spike detection, as the periodic job does it; the incidents this call opened.

        Evaluates at the last 5-minute boundary, from the store's per-bucket symptom counts, so the
        cost does not grow with stored history. A periodic call (`at` not given) at the same boundary
        as the previous one does nothing: reports in the open bucket are counted once it closes.
        Any number of processes may run it at once: the store opens at most one incident per tool
        and symptom, and only the caller whose incident it was sends the staff alert.
        """
        now = floor_to_bucket(at or self.clock.now())
        if at is None and now == self._last_detection:
            return []
        started = time.perf_counter()
        try:
            spikes = await stored_spikes(self.store, now, self.detection)
            opened = await self._open_incidents(spikes, now)
        except BaseException:
            self.stats.detection_failures += 1
            raise
        took = time.perf_counter() - started
        if at is None:
            self._last_detection = now
        self.stats.detection_runs += 1
        self.stats.detection_seconds += took
        self.stats.detection_last_seconds = took
        return opened

    async def _open_incidents(self, spikes: Sequence[Spike], now: dt.datetime) -> list[Incident]:
        opened: list[Incident] = []
        for spike in spikes:
            incident_id = await self.store.open_incident(spike_to_incident(spike, now))
            if incident_id is None:
                continue  # already open (here or in another process)
            incident = replace(spike_to_incident(spike, now), id=incident_id)
            log.warning("incident %d opened: %s %s, %d reporters (baseline %.1f)", incident_id,
                        spike.tool, spike.symptom, spike.reporters, spike.baseline)
            await self._alert(incident, now)
            opened.append(incident)
        return opened

    async def _alert(self, incident: Incident, now: dt.datetime) -> None:
        alert = replies.incident_alert(incident, self.catalog)
        sightings = await self.store.sightings(now - dt.timedelta(hours=SPIKE_CHART_HOURS), now,
                                               of=(incident.tool, incident.symptom))
        chart = spike_chart(sightings, incident, now, self.detection.recent, SPIKE_CHART_HOURS)
        await self.alert_staff(replace(alert, chart=chart))

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

    async def home_page(self, incoming: Incoming, port: ChatPort, notice: Reply | None = None) -> HomePage:
        """A person's own page (Slack's App Home): the staff overview (or the polite refusal), then the
        help; `notice` is what a button pressed there answered, unless the overview already shows it."""
        [overview] = await self.handle(replace(incoming, command=Command.INCIDENTS, text=""), port)
        shown = notice if notice is not None and notice.kind is not ReplyKind.STAFF else None
        return HomePage(overview, self._help(), shown)

    async def staff_overview(self, now: dt.datetime) -> Reply:
        week = now - dt.timedelta(days=STAFF_CHART_DAYS)
        store = self.store

        async def gaps() -> list[GapCluster]:
            # Only the pastes that get mined are read (the newest MAX_PASTES), and mining templates is
            # CPU work over them: off the event loop.
            unmatched = await store.unmatched_between(now - dt.timedelta(days=7), now, newest=MAX_PASTES)
            # The background reads every entry's page (from disk, for a catalog opened ready): there too.
            catalog = self.catalog
            return await asyncio.to_thread(lambda: mine_gaps(unmatched, background_of(catalog.entries)))

        # Everything is counted in SQL, and the reads do not depend on each other: a store with a
        # connection pool answers them side by side, so the view waits for the slowest, not the sum.
        async def incidents() -> tuple[Sequence[Incident], Sequence[Incident]]:
            # Those overlapping the week are shaded on the chart; the open ones are listed, whenever opened.
            return await asyncio.gather(
                store.incidents_during(week, now),
                store.list_incidents((IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)),
            )

        summary, (week_incidents, open_incidents), clusters, top_answers, feedback, people = await asyncio.gather(
            store.tally(now - dt.timedelta(hours=24), just_after(now)),
            incidents(),
            gaps(),
            store.top_answers(now - dt.timedelta(days=7), now, replies.TOP_ANSWERS_SHOWN),
            store.feedback_summary(),
            store.people_per_period(week, now, bucket_size(now - week)),
        )
        chart = counted_reports_chart(people, week_incidents, week, now)
        return replies.staff_reply(summary.lines(), open_incidents, clusters, top_answers, feedback, self.catalog, chart)

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


@dataclass(frozen=True, slots=True)
class Timely:
    """A command answered against a platform's deadline (`SupportService.respond_within`)."""

    now: Reply | None = None  # what the acknowledgement carries; None: a bare acknowledgement
    later: Coroutine[Any, Any, None] | None = None  # to run once acknowledged: posts what is left


async def _deliver_when_done(work: asyncio.Future[list[Reply]], port: ChatPort) -> None:
    try:
        answers = await work or [NOTHING_TO_SHOW]
    except Exception:  # the person was told an answer follows: it does, if only an apology
        log.exception("a command answered after its deadline failed")
        answers = [SORRY]
    await deliver(port, answers)


class ReplyCollector(PlainPort):
    """A `ChatPort` that keeps what would be posted: a message handled outside any chat platform."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    async def post(self, reply: Reply) -> Posted | None:
        self.replies.append(reply)
        return Posted("", str(len(self.replies)))

    async def edit(self, posted: Posted, reply: Reply) -> None:
        self.replies.append(reply)


async def stored_spikes(store: IncidentStore, now: dt.datetime, config: DetectionConfig) -> list[Spike]:
    """`detect` at `now` (a 5-minute boundary) from the store's counts: the recent sightings, then
    one indexed count per question the detector asks about the past."""
    recent = await store.sightings(now - config.recent, now)
    if not recent:
        return []
    first = await store.first_report_at()
    answers = await store.chunk_counts(plan_queries(first, recent, now, config))
    return detect_in(AnsweredHistory(first, answers), recent, now, config)


BUSY = replies.notice(
    "Busy: please try again in a minute",
    "Too many requests are being worked on right now, so this one was not recorded. "
    "Please send it again in a minute.",
    kind=ReplyKind.REFUSAL,
)

ANSWER_FOLLOWS = replies.notice("Working on it", "The answer follows in a moment.")
SORRY = replies.notice("Sorry, that did not work", "Something went wrong on my side. Please try again in a minute.")

NOTHING_TO_SHOW = replies.notice("Nothing to show for that", "Try `/errfix help` for what I can do.")

#: The symptom "the same" means in "N others reported the same": the most specific one a report shows.
_MAIN_KINDS = ("idle_jump", "contradiction", "limit_hit", "jump")


def just_after(now: dt.datetime) -> dt.datetime:
    """The end of a half-open window that includes `now` itself."""
    return now + dt.timedelta(microseconds=1)


def _parse_and_mask(text: str, now: dt.datetime) -> tuple[ParsedReadings, str]:
    """What reading a quota text costs in CPU: run off the event loop by `run_bounded`."""
    return parse_readings(text, now=now), mask_secrets(text)
