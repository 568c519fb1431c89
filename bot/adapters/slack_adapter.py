"""The Slack front end: slack-bolt's AsyncApp translating Slack events to `Incoming` and `Reply` to Block Kit.

Every listener acknowledges first and works after (Slack wants an answer within 3 s): it calls
`ack()`, then hands the work to a task this module tracks, so shutdown and tests can wait for it.
Nothing here decides *what* to answer; that is `SupportService.handle()`. This module decides *where*:
a thread reply (edited in place when the service says two pastes belong together), an ephemeral
message, a response_url answer, the App Home tab, or the staff channel.

Channel modes are set by staff with `/errfix mode auto|mention|off` in the channel concerned.

Public entry points: `build_slack_app()` (the Bolt app, for tests and embedding) and `run_slack()` (what
the CLI runs: Socket Mode by default, HTTP with `http=True`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters import slack_blocks as sb
from bot.config import Settings
from bot.core.models import Command, Incoming, Reply, ReplyKind
from bot.core.service import SupportService
from bot.errors import ConfigError
from bot.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.metrics import make_registry
from bot.metrics import render as render_metrics

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
EYES = "eyes"
LOOKUP_SHORTCUT = "sb_lookup_error"  # callback_id of the message shortcut in slack/manifest.yml
# Ordinary messages carry no subtype; these two are still a person's own new words (a paste with a
# screenshot, a thread reply also sent to the channel). Every other subtype (edits, deletions, joins,
# bot messages, topic changes…) is never answered.
ANSWERABLE_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
STAFF_COMMANDS = frozenset({Command.INCIDENTS, Command.ACK_INCIDENT, Command.RESOLVE_INCIDENT,
                            Command.CHANNEL_MODE, Command.RELOAD})
# Public replies that leave an ephemeral context go to the channel on purpose: sharing and asking a person.
BROADCAST_COMMANDS = frozenset({Command.SHARE, Command.ESCALATE})
STAFF_CACHE_SECONDS = 60.0
REMEMBERED_EVENTS = 10_000
REMEMBERED_POSTS = 2_000
VIEW_ACK_SECONDS = 2.5  # a modal submission must be answered within 3 s; past this we answer by DM
COMMAND_ACK_SECONDS = 2.5  # the same for a slash command's own response; past this, via response_url
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                         "token_expired", "not_allowed_token_type"})


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: base URL from settings (the test seam), 429s and dropped connections retried."""
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set")
    client = AsyncWebClient(token=str(settings.slack_bot_token), base_url=_with_slash(settings.slack_api_url))
    _add_retry_handlers(client)
    return client


def _add_retry_handlers(client: AsyncWebClient) -> None:
    if not any(isinstance(h, AsyncRateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    if not any(isinstance(h, AsyncConnectionErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=1))


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


class _DropClientTokenWarning(logging.Filter):
    """Bolt warns that `token` is unused whenever SLACK_BOT_TOKEN is in the environment and a client is
    passed; we pass the client on purpose (it carries our base URL), so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_bolt_log = logging.getLogger("slack_bolt.supportbot")
_bolt_log.addFilter(_DropClientTokenWarning())


@dataclass(frozen=True, slots=True)
class _Where:
    """Where an interaction came from, so replies go back to the same place."""

    channel_id: str = ""
    user_id: str = ""
    thread_ts: str | None = None  # public message context: replies go in this thread
    response_url: str | None = None
    ephemeral: bool = True  # the button sat on an ephemeral message (or there is no message)
    home: bool = False  # the App Home tab


class _AlertRelay:
    """One alert sink per service, pointing at the live bot: a restarted adapter must not double alerts."""

    def __init__(self) -> None:
        self.bot: SlackBot | None = None

    async def __call__(self, reply: Reply) -> None:
        if self.bot is not None:
            await self.bot.post_alert(reply)


_relays: weakref.WeakKeyDictionary[SupportService, _AlertRelay] = weakref.WeakKeyDictionary()


class SlackBot:
    """The Bolt app plus the little state Slack needs: handled event ids, posted answers, staff cache."""

    def __init__(self, service: SupportService, settings: Settings, client: AsyncWebClient) -> None:
        self.service = service
        self.settings = settings
        self.client = client
        _add_retry_handlers(client)
        self.bot_user_id = ""
        self.bot_id = ""
        self.app = AsyncApp(
            client=client,
            # Passed explicitly (even when empty) so Bolt never reads SLACK_SIGNING_SECRET itself.
            signing_secret=str(settings.slack_signing_secret or ""),
            logger=_bolt_log,
            name="supportbot",
            # Our listeners only acknowledge and hand the work to a task we track, so running them
            # before the response costs nothing, and it means: when dispatch returns, the work has
            # been handed over (Bolt's own fire-and-forget listener futures are never left behind).
            process_before_response=True,
        )
        self._events: OrderedDict[str, None] = OrderedDict()
        self._posted: OrderedDict[str, tuple[str, str]] = OrderedDict()  # merge_key -> (channel, ts)
        self._merge_locks: dict[str, asyncio.Lock] = {}
        self._staff: tuple[float, frozenset[str]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._register()
        relay = _relays.get(service)
        if relay is None:
            relay = _relays[service] = _AlertRelay()
            service.add_alert_sink(relay)
        relay.bot = self
        self._relay = relay

    # -- lifetime ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token once (auth.test); a rejected token is a configuration error, not a retry."""
        try:
            response = await self.client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown")
            if error in AUTH_ERRORS:
                raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN ({error})") from None
            raise
        self.bot_user_id = str(response.get("user_id") or "")
        self.bot_id = str(response.get("bot_id") or "")
        log.info("slack: connected as %s in team %s", self.bot_user_id, response.get("team_id"))

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every piece of work started by a listener has finished (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._tasks)} slack task(s) still running")
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def close(self, timeout: float = 5.0) -> None:
        if self._relay.bot is self:
            self._relay.bot = None
        try:
            await self.wait_idle(timeout)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad event must never stop the app
                log.exception("slack: %s failed", what)

        task = asyncio.get_running_loop().create_task(guarded(), name=f"slack:{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- wiring ----------------------------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message_event)
        app.event("app_home_opened")(self._on_home_opened)
        app.command("/errfix")(self._on_errfix)
        app.command("/quota")(self._on_quota)
        app.command("/incidents")(self._on_incidents)
        app.action(re.compile("^" + re.escape(sb.ACTION_PREFIX)))(self._on_action)
        app.shortcut(LOOKUP_SHORTCUT)(self._on_lookup_shortcut)
        app.view(sb.QUOTA_CALLBACK)(self._on_quota_view)
        app.error(self._on_error)

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        kind = body.get("type") or body.get("event", {}).get("type")
        log.error("slack: listener error on %s: %s: %s", kind, type(error).__name__, error)

    # -- Web API calls: logged, never raised ----------------------------------------------------------------------

    async def call(self, method: str, **kwargs: Any) -> Mapping[str, Any] | None:
        """Call a Web API method (e.g. "chat_postMessage"); on failure log the error and return None."""
        try:
            response = await getattr(self.client, method)(**kwargs)
            return response.data if isinstance(response.data, dict) else {}
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown") if exc.response is not None else "unknown"
            if error == "already_reacted" or error == "no_reaction":
                return None
            log.warning("slack: %s failed: %s (status %s)", method, error,
                        getattr(exc.response, "status_code", "?"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack: %s failed: %s: %s", method, type(exc).__name__, exc)
        except Exception:
            log.exception("slack: %s failed", method)
        return None

    async def respond(self, response_url: str, rendered: sb.Rendered, *, in_channel: bool = False,
                      replace_original: bool = False) -> bool:
        """Answer through an interaction's response_url (works in channels the bot has not joined)."""
        webhook = AsyncWebhookClient(response_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
        try:
            response = await webhook.send(text=rendered.text, blocks=rendered.blocks,
                                          response_type="in_channel" if in_channel else "ephemeral",
                                          replace_original=replace_original, unfurl_links=False, unfurl_media=False)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack: response_url failed: %s: %s", type(exc).__name__, exc)
            return False
        if response.status_code != 200:
            log.warning("slack: response_url failed: status %s %s", response.status_code, response.body[:200])
            return False
        return True

    # -- who is staff ---------------------------------------------------------------------------------------------

    async def staff_group_members(self) -> frozenset[str]:
        group = self.settings.slack_staff_usergroup
        if not group:
            return frozenset()
        now = time.monotonic()
        if self._staff is not None and now - self._staff[0] < STAFF_CACHE_SECONDS:
            return self._staff[1]
        response = await self.call("usergroups_users_list", usergroup=group)
        if response is None:
            return frozenset()  # not cached: the next request asks again
        members = frozenset(str(u) for u in response.get("users") or ())
        self._staff = (now, members)
        return members

    async def is_platform_staff(self, user_id: str) -> bool:
        return user_id in await self.staff_group_members()

    def staff_ping(self) -> str:
        """The live mention for escalations: the staff user group, else the configured staff ids."""
        if self.settings.slack_staff_usergroup:
            return f"<!subteam^{self.settings.slack_staff_usergroup}>"
        ids = sorted(i.removeprefix("slack:") for i in self.settings.staff_ids
                     if re.fullmatch(r"(slack:)?[UW][A-Z0-9]+", i))
        return " ".join(f"<@{i}>" for i in ids)

    async def _incoming(self, command: Command, text: str, where: _Where, *, workspace_id: str = "",
                        user_name: str = "", **extra: Any) -> Incoming:
        staff = command in STAFF_COMMANDS and await self.is_platform_staff(where.user_id)
        return Incoming(platform=PLATFORM, channel_id=where.channel_id, user_id=where.user_id, text=text,
                        command=command, workspace_id=workspace_id, user_name=user_name,
                        platform_staff=staff, **extra)

    # -- channel messages ------------------------------------------------------------------------------------------

    async def _on_message_event(self, body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest,
                                context: Mapping[str, Any]) -> None:
        # Bolt's authorization ran auth.test for us; learn who we are from it.
        self.bot_user_id = self.bot_user_id or str(context.get("bot_user_id") or "")
        self.bot_id = self.bot_id or str(context.get("bot_id") or "")
        if not self._first_delivery(body, request):
            return
        self._spawn(self.handle_message(event, str(body.get("team_id") or "")), "message")

    def _first_delivery(self, body: Mapping[str, Any], request: AsyncBoltRequest) -> bool:
        """False for Slack's retry of an event we already took (same event_id)."""
        event_id = str(body.get("event_id") or "")
        retry = request.headers.get("x-slack-retry-num")
        if not event_id:
            return True
        if event_id in self._events:
            log.info("slack: ignoring repeat of event %s (retry %s)", event_id, retry[0] if retry else "-")
            return False
        self._events[event_id] = None
        while len(self._events) > REMEMBERED_EVENTS:
            self._events.popitem(last=False)
        return True

    async def handle_message(self, event: Mapping[str, Any], team_id: str) -> None:
        if event.get("subtype") not in ANSWERABLE_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
            return
        user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
        if not user or not channel or not ts or user == self.bot_user_id:
            return
        is_direct = event.get("channel_type") == "im"
        watch = self.settings.slack_watch_channels
        if watch and not is_direct and channel not in watch:
            return
        raw = str(event.get("text") or "")
        mentioned = sb.mentions_user(raw, self.bot_user_id)
        text = sb.from_slack(sb.strip_mention(raw, self.bot_user_id)).strip()
        if not text:
            if mentioned:  # "@supportbot" alone: say what it can do, to that person only
                where = _Where(channel_id=channel, user_id=user, thread_ts=event.get("thread_ts"))
                for reply in await self.service.handle(await self._incoming(Command.HELP, "", where)):
                    await self.deliver(replace(reply, private=True), where)
            return
        if not is_direct and not await self.service.channel_allows(PLATFORM, channel, mentioned=mentioned):
            return
        looks = self.service.looks_like_error(text)
        thread_ts = str(event.get("thread_ts") or "")
        in_thread = bool(thread_ts) and thread_ts != ts
        if in_thread and not (looks or mentioned or is_direct):
            return  # conversation inside a thread: not a paste, and not worth a Slack API call
        if in_thread and not mentioned:
            # Checked here rather than left to the service, so a thread people are handling gets no 👀 either.
            if self.service.thread_answered(PLATFORM, channel, thread_ts):
                return
            helped, answered = await self._thread_state(channel, thread_ts, ts, user)
            if answered or helped:
                log.info("slack: not answering in thread %s/%s (%s)", channel, thread_ts,
                         "already answered" if answered else "a person already helped")
                return
        reacted = False
        if looks:
            reacted = await self.call("reactions_add", channel=channel, timestamp=ts, name=EYES) is not None
        incoming = Incoming(platform=PLATFORM, channel_id=channel, user_id=user, text=text,
                            workspace_id=team_id, message_id=ts, thread_id=thread_ts if in_thread else None,
                            is_direct=is_direct, mentioned=mentioned)
        replies = await self.service.handle(incoming)
        if not replies and reacted:
            # The 👀 said "looking"; with nothing to say, take it back rather than leave people waiting.
            await self.call("reactions_remove", channel=channel, timestamp=ts, name=EYES)
        where = _Where(channel_id=channel, user_id=user, thread_ts=thread_ts or ts, ephemeral=False)
        for reply in replies:
            await self.deliver(reply, where)

    async def _thread_state(self, channel: str, thread_ts: str, ts: str, user: str) -> tuple[bool, bool]:
        """(a person other than the paster already replied, this bot already replied), before `ts`.

        Asked of Slack rather than remembered, so it holds across restarts and for threads where
        people helped before the bot was invited.
        """
        response = await self.call("conversations_replies", channel=channel, ts=thread_ts, limit=200)
        if response is None:
            return False, False
        messages = list(response.get("messages") or ())
        # The person who opened the thread and the paster are the ones being helped, not helpers.
        askers = {user, *(m.get("user") for m in messages if m.get("ts") == thread_ts)}
        helped = answered = False
        for message in messages:
            if message.get("ts") == thread_ts or _ts_key(message.get("ts")) >= _ts_key(ts):
                continue  # the thread's first message, or one posted after this paste
            author = message.get("user")
            if message.get("bot_id") or author == self.bot_user_id:
                if author == self.bot_user_id or (self.bot_id and message.get("bot_id") == self.bot_id):
                    answered = True
                continue  # other bots' chatter is not help
            if author and author not in askers and message.get("subtype") in ANSWERABLE_SUBTYPES:
                helped = True
        return helped, answered

    # -- delivery ---------------------------------------------------------------------------------------------------

    async def deliver(self, reply: Reply, where: _Where) -> None:
        """Send one reply to where the request came from."""
        ping = self.staff_ping() if reply.ping_staff else ""
        if reply.ping_staff and not ping:
            log.warning("slack: escalation without SLACK_STAFF_USERGROUP or Slack ids in SUPPORTBOT_STAFF")
        rendered = sb.render(reply, ping=ping)
        if where.home:
            await self.publish_home(where.user_id, notice=reply)
            return
        if reply.private:
            if where.response_url and await self.respond(where.response_url, rendered):
                return
            if where.channel_id:
                await self.call("chat_postEphemeral", channel=where.channel_id, user=where.user_id,
                                text=rendered.text, blocks=rendered.blocks,
                                **({"thread_ts": where.thread_ts} if where.thread_ts else {}))
            return
        if where.ephemeral and where.response_url:
            await self.respond(where.response_url, rendered, in_channel=True)
            return
        if not where.channel_id:
            return
        await self._post_public(reply, rendered, where.channel_id, where.thread_ts)

    async def _post_public(self, reply: Reply, rendered: sb.Rendered, channel: str, thread_ts: str | None) -> None:
        key = reply.merge_key
        lock = self._merge_locks.setdefault(key, asyncio.Lock()) if key else contextlib.nullcontext()
        async with lock:
            if key and key in self._posted:
                posted_channel, posted_ts = self._posted[key]
                updated = await self.call("chat_update", channel=posted_channel, ts=posted_ts,
                                          text=rendered.text, blocks=rendered.blocks)
                if updated is not None:
                    return
            posted = await self.call("chat_postMessage", channel=channel, text=rendered.text,
                                     blocks=rendered.blocks, unfurl_links=False, unfurl_media=False,
                                     **({"thread_ts": thread_ts} if thread_ts else {}))
            if key and posted is not None and posted.get("ts"):
                self._posted[key] = (str(posted.get("channel") or channel), str(posted["ts"]))
                while len(self._posted) > REMEMBERED_POSTS:
                    old, _ = self._posted.popitem(last=False)
                    self._merge_locks.pop(old, None)

    async def post_alert(self, reply: Reply) -> None:
        """Incident alerts from the service go to the staff channel."""
        channel = self.settings.slack_staff_channel
        if not channel:
            log.info("slack: incident alert not posted: SLACK_STAFF_CHANNEL is not set")
            return
        rendered = sb.render(reply)
        await self.call("chat_postMessage", channel=channel, text=rendered.text, blocks=rendered.blocks,
                        unfurl_links=False)

    # -- slash commands ------------------------------------------------------------------------------------------------

    @staticmethod
    def _command_where(command: Mapping[str, Any]) -> _Where:
        return _Where(channel_id=str(command.get("channel_id") or ""), user_id=str(command.get("user_id") or ""),
                      response_url=command.get("response_url"), ephemeral=True)

    async def _on_errfix(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        self._spawn(self.run_errfix(command), "/errfix")

    async def run_errfix(self, command: Mapping[str, Any]) -> None:
        text = sb.from_slack(str(command.get("text") or "")).strip()
        word, _, rest = text.partition(" ")
        kind, argument = Command.ERRFIX, text
        if word.lower() in ("help", "?"):
            kind, argument = Command.HELP, ""
        elif word.lower() == "mode":
            kind, argument = Command.CHANNEL_MODE, rest.strip()
        elif word.lower() == "reload" and not rest:
            kind, argument = Command.RELOAD, ""
        await self._command(kind, argument, command)

    async def _command(self, kind: Command, text: str, command: Mapping[str, Any]) -> None:
        where = self._command_where(command)
        incoming = await self._incoming(kind, text, where, workspace_id=str(command.get("team_id") or ""),
                                        user_name=str(command.get("user_name") or ""))
        for reply in await self.service.handle(incoming):
            await self.deliver(reply, where)

    async def _on_quota(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        text = sb.from_slack(str(command.get("text") or "")).strip()
        if text.lower() in ("", "form"):
            await ack()
            self._spawn(self.run_quota(command), "/quota")
            return
        # The thank-you goes in the command's own response when the report is stored in time, so an
        # acknowledgement is a stored report; otherwise a short "working on it", and the answer follows.
        where = self._command_where(command)
        work = asyncio.ensure_future(self._answers(Command.QUOTA, text, command))
        done, _ = await asyncio.wait({work}, timeout=COMMAND_ACK_SECONDS)
        if not done:
            await ack(text="Working on your report: the answer follows in a moment.", response_type="ephemeral")
            self._spawn(self._deliver_when_done(work, where), "/quota")
            return
        try:
            replies = work.result()
        except Exception:
            log.exception("slack: /quota failed")
            await ack(text="Sorry, that did not work; nothing was recorded. Please try again in a minute.",
                      response_type="ephemeral")
            return
        if not replies:
            await ack()
            return
        first, *rest = replies
        rendered = sb.render(first)
        await ack(text=rendered.text, blocks=rendered.blocks,
                  response_type="ephemeral" if first.private else "in_channel")
        for reply in rest:
            self._spawn(self.deliver(reply, where), "/quota")

    async def _answers(self, kind: Command, text: str, command: Mapping[str, Any]) -> list[Reply]:
        incoming = await self._incoming(kind, text, self._command_where(command),
                                        workspace_id=str(command.get("team_id") or ""),
                                        user_name=str(command.get("user_name") or ""))
        return await self.service.handle(incoming)

    async def _deliver_when_done(self, work: asyncio.Future[list[Reply]], where: _Where) -> None:
        for reply in await work:
            await self.deliver(reply, where)

    async def run_quota(self, command: Mapping[str, Any]) -> None:
        text = sb.from_slack(str(command.get("text") or "")).strip()
        if text.lower() in ("", "form"):
            opened = await self.call("views_open", trigger_id=command.get("trigger_id"),
                                     view=sb.quota_modal(str(command.get("channel_id") or "")))
            if opened is not None:
                return
            text = ""  # no modal: fall back to the examples
        await self._command(Command.QUOTA, text, command)

    async def _on_incidents(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._command(Command.INCIDENTS, "", command), "/incidents")

    # -- the quota modal ----------------------------------------------------------------------------------------------------

    async def _on_quota_view(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view.get("state", {}).get("values", {})
        text, errors = sb.quota_text_from_view(values)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        user = body.get("user", {})
        where = _Where(channel_id=str(view.get("private_metadata") or ""), user_id=str(user.get("id") or ""))
        incoming = await self._incoming(Command.QUOTA, text, where, workspace_id=str(user.get("team_id") or ""),
                                        user_name=str(user.get("username") or ""))
        work = asyncio.ensure_future(self.service.handle(incoming))
        done, _ = await asyncio.wait({work}, timeout=VIEW_ACK_SECONDS)
        if done:
            replies = work.result()
            if replies:
                await ack(response_action="update", view=sb.result_modal(replies[0]))
            else:
                await ack()
            return
        await ack()  # too slow for the modal: close it and send the answer as a direct message

        async def later() -> None:
            for reply in await work:
                rendered = sb.render(reply)
                await self.call("chat_postMessage", channel=where.user_id, text=rendered.text, blocks=rendered.blocks)

        self._spawn(later(), "quota modal")

    # -- buttons, the shortcut, App Home ------------------------------------------------------------------------------------------

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self._spawn(self.run_action(body, action), "button")

    async def run_action(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        command = sb.parse_action_id(str(action.get("action_id") or ""))
        if command is None:
            return
        user = body.get("user") or {}
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        home = container.get("type") == "view" and (body.get("view") or {}).get("type") == "home"
        ephemeral = bool(container.get("is_ephemeral")) or not message
        thread_ts = None if ephemeral else (message.get("thread_ts") or message.get("ts"))
        where = _Where(channel_id=channel, user_id=str(user.get("id") or ""), thread_ts=thread_ts,
                       response_url=body.get("response_url"), ephemeral=ephemeral, home=home)
        incoming = await self._incoming(command, str(action.get("value") or ""), where,
                                        workspace_id=str((body.get("team") or {}).get("id") or ""),
                                        user_name=str(user.get("username") or user.get("name") or ""),
                                        message_id=container.get("message_ts"), thread_id=thread_ts)
        for reply in await self.service.handle(incoming):
            if command in BROADCAST_COMMANDS and not reply.private and ephemeral and not where.response_url:
                reply = replace(reply, private=True)  # nowhere public to put it
            await self.deliver(reply, where)

    async def _on_lookup_shortcut(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        self._spawn(self.run_lookup(shortcut), "lookup shortcut")

    async def run_lookup(self, shortcut: Mapping[str, Any]) -> None:
        message = shortcut.get("message") or {}
        user = shortcut.get("user") or {}
        text = sb.from_slack(str(message.get("text") or "")).strip()
        where = _Where(channel_id=str((shortcut.get("channel") or {}).get("id") or ""),
                       user_id=str(user.get("id") or ""), response_url=shortcut.get("response_url"))
        incoming = await self._incoming(Command.ERRFIX if text else Command.HELP, text, where,
                                        workspace_id=str((shortcut.get("team") or {}).get("id") or ""),
                                        user_name=str(user.get("username") or ""))
        for reply in await self.service.handle(incoming):
            await self.deliver(replace(reply, private=True), where)

    async def _on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        self._spawn(self.publish_home(str(event["user"])), "app home")

    async def publish_home(self, user_id: str, *, notice: Reply | None = None) -> None:
        """The App Home tab: the staff overview for staff, a polite refusal plus help for everyone else."""
        where = _Where(user_id=user_id)
        overview = await self.service.handle(await self._incoming(Command.INCIDENTS, "", where))
        help_reply = await self.service.handle(await self._incoming(Command.HELP, "", where))
        if not overview or not help_reply:
            return
        if notice is not None and notice.kind is ReplyKind.STAFF:
            notice = None
        await self.call("views_publish", user_id=user_id, view=sb.home_view(overview[0], help_reply[0], notice=notice))


def _ts_key(ts: Any) -> tuple[int, int]:
    seconds, _, fraction = str(ts or "0").partition(".")
    try:
        return int(seconds), int(fraction or 0)
    except ValueError:
        return 0, 0


def build_slack_app(service: SupportService, settings: Settings, client: AsyncWebClient) -> AsyncApp:
    """The Bolt app with every listener registered, talking to Slack through `client`."""
    return SlackBot(service, settings, client).app


# ------------------------------------------------------------------------------------------------------------
# Serving


def http_app(bot: SlackBot) -> web.Application:
    """aiohttp application: POST /slack/events (signature-checked by Bolt) and GET /healthz."""

    async def events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
            bolt_response = await bot.app.async_dispatch(bolt_request)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # Bolt parses the body before anything else: a body that is not Slack's JSON or form shape
            # is refused plainly instead of surfacing as a server error. The body is never logged.
            log.warning("slack: refused a malformed request to %s (%s)", EVENTS_PATH, type(exc).__name__)
            return web.json_response({"error": "malformed request"}, status=400)
        return await to_aiohttp_response(bolt_response)

    async def health(request: web.Request) -> web.Response:
        return web.json_response(await health_report(bot.service))

    service = bot.service
    registry = make_registry(service.stats, lambda: service.in_flight,
                             lambda: (service.catalog.version, len(service.catalog)))

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=render_metrics(registry), headers={"Content-Type": METRICS_CONTENT_TYPE})

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    web_app.router.add_get(HEALTH_PATH, health)
    web_app.router.add_get(METRICS_PATH, metrics)
    return web_app


async def health_report(service: SupportService) -> dict[str, Any]:
    store = "ok"
    try:
        await service.store.ping()
    except Exception as exc:  # the reason class is enough; the message could carry a URL
        store = f"error: {type(exc).__name__}"
    catalog = {"entries": len(service.catalog), "version": service.catalog.version}
    front_ends = dict(service.front_end_status)
    healthy = store == "ok" and all(state == "running" for state in front_ends.values())
    return {"ok": healthy, "store": store, "catalog": catalog, "front_ends": front_ends}


async def run_slack(service: SupportService, settings: Settings, *, http: bool, port: int,
                    host: str = "0.0.0.0", ready: Callable[[], Awaitable[None]] | None = None) -> None:
    """Run the Slack app until cancelled: Socket Mode by default, HTTP (`POST /slack/events`) with `http=True`.

    Raises ConfigError when a credential is missing or Slack rejects the bot token (retrying would not help).
    Closes every connection, server and pending task on the way out.
    """
    if http and not settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is required for HTTP mode (--http)")
    if not http and not settings.slack_app_token:
        raise ConfigError("SLACK_APP_TOKEN is required for Socket Mode (or use --http)")
    client = make_client(settings)
    bot = SlackBot(service, settings, client)
    try:
        await bot.start()
        if http:
            runner = web.AppRunner(http_app(bot), handle_signals=False, access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, host, port).start()
                log.info("slack: HTTP mode, listening on %s:%d%s", host, port, EVENTS_PATH)
                if ready is not None:
                    await ready()
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()
        else:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(bot.app, app_token=str(settings.slack_app_token), web_client=client)
            try:
                await handler.connect_async()
                log.info("slack: Socket Mode connected")
                if ready is not None:
                    await ready()
                await asyncio.Event().wait()
            finally:
                await handler.close_async()
    finally:
        await bot.close()
