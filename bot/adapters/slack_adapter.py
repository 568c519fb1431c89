"""The Slack front end: slack-bolt's AsyncApp translating Slack events to `Incoming` and `Reply` to Block Kit.

Every listener acknowledges first and works after (Slack wants an answer within 3 s): it calls
`ack()`, then hands the work to the bot's `Background`, so shutdown and tests can wait for it.
Nothing here decides *what* to answer. A channel message becomes an `Incoming` plus a `_SlackPort`
(👀, thread history, channel name, post, edit, staff group) and goes to the core's triage
(`bot.core.triage`); a command, button or the shortcut becomes an `Incoming` plus the port of where
it came from and goes to `SupportService.respond()`, which posts its replies through that port
(`/quota TEXT` and its form go to `respond_within()`: the answer rides on the acknowledgement when it
is ready in time). The port knows only *where* a reply goes: an ephemeral message, a response_url
answer, the thread, a direct message, or the App Home tab. Web API failures become `DeliveryError`
here, at the edge.

Public entry point: `SlackBot` (`build_slack_app()` gives its Bolt app, for embedding). Connecting and
serving it (Socket Mode or HTTP) is the composition root's part: `bot.serve_slack.run_slack`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters import slack_blocks as sb
from bot.chart import chart_text, render_png_async
from bot.config import Settings
from bot.core.background import Background
from bot.core.charts import ChartData
from bot.core.commands import parse_command
from bot.core.errors import ConfigError, DeliveryError
from bot.core.models import Command, Incoming, Reply
from bot.core.ports import AlertRelay, Posted, ThreadAuthors
from bot.core.recent import Recent
from bot.core.service import SupportService
from bot.core.triage import deliver

log = logging.getLogger(__name__)

PLATFORM = "slack"
EYES = "eyes"
LOOKUP_SHORTCUT = "sb_lookup_error"  # callback_id of the message shortcut in slack/manifest.yml
REMEMBERED_EVENTS = 10_000
ACK_SECONDS = 2.5  # /quota and its form are answered within Slack's 3 s when they can be
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                         "token_expired", "not_allowed_token_type"})


_bolt_log = logging.getLogger("slack_bolt.supportbot")
# Bolt warns that `token` is unused whenever SLACK_BOT_TOKEN is in the environment and a client is
# passed; we pass the client on purpose (it carries our base URL), so the warning is noise.
_bolt_log.addFilter(lambda record: "`token` will be unused" not in record.getMessage())


class SlackBot:
    """The Bolt app plus the little state Slack needs: the event ids already handled."""

    def __init__(self, service: SupportService, settings: Settings, client: AsyncWebClient, *,
                 alerts: AlertRelay | None = None) -> None:
        self.service = service
        self.settings = settings
        self.client = client
        for retry in (AsyncRateLimitErrorRetryHandler(max_retry_count=2), AsyncConnectionErrorRetryHandler(max_retry_count=1)):
            if not any(type(h) is type(retry) for h in client.retry_handlers):  # 429s and dropped connections
                client.retry_handlers.append(retry)
        self.bot_user_id = ""
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
        self._events: Recent[str, None] = Recent(REMEMBERED_EVENTS)
        self.background = Background("slack")
        # One connection pool for every Web API call and response_url answer: the SDK's default opens
        # a session, a TLS context and a connection per call, on the event loop that acknowledges.
        self._http: aiohttp.ClientSession | None = None
        self._register()
        self._alerts = alerts
        if alerts is not None:
            alerts.attach(self.post_alert)

    # -- lifetime ----------------------------------------------------------------------------------------

    def http_session(self) -> aiohttp.ClientSession:
        """The shared connection pool (made on first use, inside the running loop; closed by `close()`)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def start(self) -> None:
        """Check the token once (auth.test); a rejected token is a configuration error, not a retry."""
        if self.client.session is None:
            self.client.session = self.http_session()
        try:
            response = await self.client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown")
            if error in AUTH_ERRORS:
                raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN ({error})") from None
            raise DeliveryError(f"slack: auth.test failed: {error}") from None
        self.bot_user_id = str(response.get("user_id") or "")
        log.info("slack: connected as %s in team %s", self.bot_user_id, response.get("team_id"))

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every piece of work started by a listener has finished (tests and shutdown)."""
        await self.background.wait_idle(timeout)

    async def close(self, timeout: float = 5.0) -> None:
        if self._alerts is not None:
            self._alerts.detach(self.post_alert)
        await self.background.close(timeout)
        if self._http is not None:
            if self.client.session is self._http:
                self.client.session = None
            await self._http.close()

    # -- wiring ----------------------------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message_event)
        app.event("app_home_opened")(self._on_home_opened)
        app.command(re.compile(r"^/(errfix|incidents|quota)$"))(self._on_command)
        app.action(re.compile("^" + re.escape(sb.ACTION_PREFIX)))(self._acked(self.run_action, "button"))
        app.shortcut(LOOKUP_SHORTCUT)(self._acked(self.run_lookup, "lookup shortcut"))
        app.view(sb.QUOTA_CALLBACK)(self._on_quota_view)
        app.error(self._on_error)

    def _acked(self, work: Callable[[Mapping[str, Any]], Coroutine[Any, Any, None]],
               what: str) -> Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]:
        """A listener that acknowledges at once and does `work(body)` in a tracked task."""

        async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
            await ack()
            self.background.spawn(work(body), what)

        return listener

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        event = body.get("event") if isinstance(body, dict) else None
        kind = (body.get("type") if isinstance(body, dict) else None) or (
            event.get("type") if isinstance(event, dict) else None)
        if isinstance(error, (AttributeError, TypeError, KeyError, ValueError)):
            # Our listeners acknowledge at once and work in tasks, so an error here is Bolt reading a
            # signed payload of the wrong shape: refused plainly, not a server error.
            log.warning("slack: refused a malformed %s payload (%s)", kind, type(error).__name__)
            return BoltResponse(status=400, body="malformed request")
        log.error("slack: listener error on %s: %s: %s", kind, type(error).__name__, error)
        return None

    # -- Web API calls: SDK errors become DeliveryError here ---------------------------------------------------------

    async def api(self, method: str, **kwargs: Any) -> Mapping[str, Any]:
        """Call a Web API method (e.g. "chat_postMessage"); raise DeliveryError naming Slack's error code."""
        try:
            response = await getattr(self.client, method)(**kwargs)
            return response.data if isinstance(response.data, dict) else {}
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown") if exc.response is not None else "unknown"
            if error in ("already_reacted", "no_reaction"):
                return {}
            status = getattr(exc.response, "status_code", "?")
            raise DeliveryError(f"slack: {method} failed: {error} (status {status})") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"slack: {method} failed: {type(exc).__name__}: {exc}") from None

    async def call(self, method: str, **kwargs: Any) -> Mapping[str, Any] | None:
        """`api()` for replies to commands: a failure is logged and gives None."""
        try:
            return await self.api(method, **kwargs)
        except DeliveryError as exc:
            log.warning("%s", exc)
            return None

    async def respond(self, response_url: str, rendered: sb.Rendered, *, in_channel: bool = False) -> bool:
        """Answer through an interaction's response_url (works in channels the bot has not joined)."""
        webhook = AsyncWebhookClient(response_url, session=self.http_session(),
                                     retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
        try:
            response = await webhook.send(text=rendered.text, blocks=rendered.blocks,
                                          response_type="in_channel" if in_channel else "ephemeral",
                                          replace_original=False, unfurl_links=False, unfurl_media=False)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack: response_url failed: %s: %s", type(exc).__name__, exc)
            return False
        if response.status_code != 200:
            log.warning("slack: response_url failed: status %s %s", response.status_code, response.body[:200])
            return False
        return True

    def port(self, payload: Mapping[str, Any], *, channel: str | None = None, **where: Any) -> _SlackPort:
        """Where an interaction came from: its channel and person, answered through its response_url if any."""
        return _SlackPort(self, sb.channel_of(payload) if channel is None else channel, sb.sender(payload)[0],
                          response_url=payload.get("response_url"), **where)

    def incoming(self, where: _SlackPort, command: Command, text: str, payload: Mapping[str, Any] | None = None,
                 **extra: Any) -> Incoming:
        """A command, button or shortcut from the person at `where`, named as the payload names them."""
        _, user_name, workspace_id = sb.sender(payload or {})
        return Incoming(platform=PLATFORM, channel_id=where.channel, user_id=where.user, text=text,
                        command=command, workspace_id=workspace_id, user_name=user_name, **extra)

    # -- channel messages ------------------------------------------------------------------------------------------

    async def _on_message_event(self, body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest,
                                context: Mapping[str, Any]) -> None:
        # Bolt's authorization ran auth.test for us; learn who we are from it.
        self.bot_user_id = self.bot_user_id or str(context.get("bot_user_id") or "")
        event_id = str(body.get("event_id") or "")
        if event_id in self._events:  # Slack's retry of an event we already took
            retry = request.headers.get("x-slack-retry-num")
            log.info("slack: ignoring repeat of event %s (retry %s)", event_id, retry[0] if retry else "-")
            return
        if event_id:
            self._events[event_id] = None
        self.background.spawn(self.handle_message(event, str(body.get("team_id") or "")), "message")

    async def handle_message(self, event: Mapping[str, Any], team_id: str) -> None:
        """A person's new message -> `Incoming` + port -> the core's triage, which decides everything else."""
        if event.get("subtype") not in sb.ANSWERABLE_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
            return
        user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
        if not user or not channel or not ts or user == self.bot_user_id:
            return
        raw = str(event.get("text") or "")
        thread_ts = str(event.get("thread_ts") or "")
        thread = thread_ts if thread_ts and thread_ts != ts else None
        incoming = Incoming(platform=PLATFORM, channel_id=channel, user_id=user,
                            text=sb.from_slack(sb.strip_mention(raw, self.bot_user_id)), workspace_id=team_id,
                            message_id=ts, thread_id=thread, is_direct=event.get("channel_type") == "im",
                            mentioned=sb.mentions_user(raw, self.bot_user_id))
        await self.service.triage.handle(incoming, _SlackPort(self, channel, user, ts=ts, thread_ts=thread,
                                                              ephemeral=False))

    async def post_alert(self, reply: Reply) -> None:
        """Incident alerts from the service go to the staff channel, as a public post there."""
        channel = self.settings.slack_staff_channel
        if not channel:
            log.info("slack: incident alert not posted: SLACK_STAFF_CHANNEL is not set")
            return
        await deliver(_SlackPort(self, channel, "", ephemeral=False), [reply])

    # -- charts --------------------------------------------------------------------------------------------------

    async def upload_chart(self, chart: ChartData, channel: str, *, thread_ts: str | None = None,
                           comment: str = "") -> None:
        """Draw the chart off the event loop and upload it (files upload v2); a text sparkline without matplotlib."""
        if not channel:
            return
        png = await render_png_async(chart)
        where: dict[str, Any] = {"channel": channel, **({"thread_ts": thread_ts} if thread_ts else {})}
        if png is None:
            await self.call("chat_postMessage", text="```" + chart_text(chart) + "```", **where)
        else:
            await self.call("files_upload_v2", file=png, filename=chart.filename, title=chart.title[:250], **where,
                            **({"initial_comment": comment} if comment else {}))

    # -- slash commands ------------------------------------------------------------------------------------------------

    async def run_command(self, command: Mapping[str, Any]) -> None:
        """/errfix, /quota, /incidents: the shared grammar decides what they mean; /quota alone opens a form."""
        name, text = str(command.get("command") or ""), sb.from_slack(str(command.get("text") or "")).strip()
        if name == "/quota" and text.lower() in ("", "form"):
            opened = await self.call("views_open", trigger_id=command.get("trigger_id"),
                                     view=sb.quota_modal(str(command.get("channel_id") or "")))
            if opened is not None:
                return
            text = ""  # no modal: fall back to the examples
        parsed = parse_command(name, text)
        if parsed is not None:
            where = self.port(command)
            await self.service.respond(self.incoming(where, *parsed, command), where)

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """Acknowledged at once and answered after, except /quota TEXT: its acknowledgement carries the
        answer when it is ready within Slack's window, so a thank-you seen means a report stored
        (`SupportService.respond_within`)."""
        quota = command.get("command") == "/quota"
        text = sb.from_slack(str(command.get("text") or "")).strip() if quota else ""
        if text.lower() in ("", "form"):  # not /quota TEXT: acknowledged before any work is done
            await ack()
            self.background.spawn(self.run_command(command), "command")
            return
        where = self.port(command)
        timely = await self.service.respond_within(self.incoming(where, Command.QUOTA, text, command), where,
                                                   ACK_SECONDS)
        if timely.now is None:
            await ack()
        else:
            rendered = sb.render(timely.now)
            await ack(text=rendered.text, blocks=rendered.blocks,
                      response_type="ephemeral" if timely.now.private else "in_channel")
        if timely.later is not None:
            self.background.spawn(timely.later, "/quota")

    # -- the quota form ----------------------------------------------------------------------------------------------------

    async def _on_quota_view(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The form's answer replaces the form; one not ready within Slack's window follows by direct message."""
        text, errors = sb.quota_text_from_view(view.get("state", {}).get("values", {}))
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        where = self.port(body, channel=str(view.get("private_metadata") or ""))
        by_dm = _SlackPort(self, where.user, where.user, ephemeral=False, direct=True)
        timely = await self.service.respond_within(self.incoming(where, Command.QUOTA, text, body), by_dm,
                                                   ACK_SECONDS)
        if timely.now is None:
            await ack()
        else:
            await ack(response_action="update", view=sb.result_modal(timely.now))
        if timely.later is not None:
            self.background.spawn(timely.later, "quota form")

    # -- buttons, the shortcut, App Home ------------------------------------------------------------------------------------------

    async def run_action(self, body: Mapping[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        command = sb.parse_action_id(str(action.get("action_id") or ""))
        if command is None:
            return
        container = body.get("container") or {}
        message = body.get("message") or {}
        home = container.get("type") == "view" and (body.get("view") or {}).get("type") == "home"
        ephemeral = bool(container.get("is_ephemeral")) or not message
        thread_ts = None if ephemeral else (message.get("thread_ts") or message.get("ts"))
        where = self.port(body, thread_ts=thread_ts, ephemeral=ephemeral, home=home)
        # A click in a private message with no response_url has no public way back (the core keeps it private).
        await self.service.respond(self.incoming(where, command, str(action.get("value") or ""), body,
                                                 message_id=container.get("message_ts"), thread_id=thread_ts,
                                                 private_only=ephemeral and not where.response_url), where)

    async def run_lookup(self, shortcut: Mapping[str, Any]) -> None:
        message = shortcut.get("message") or {}
        text = sb.from_slack(str(message.get("text") or "")).strip()
        where = self.port(shortcut)
        await self.service.respond(self.incoming(where, Command.LOOK_UP, text, shortcut), where)

    async def _on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        self.background.spawn(self.publish_home(str(event["user"])), "app home")

    async def publish_home(self, user_id: str, *, notice: Reply | None = None) -> None:
        """The App Home tab shows the person's page (`SupportService.home_page`), in Block Kit."""
        where = _SlackPort(self, "", user_id)
        page = await self.service.home_page(self.incoming(where, Command.INCIDENTS, ""), where, notice)
        await self.call("views_publish", user_id=user_id, view=sb.home_view(page))


class _SlackPort:
    """Where a Slack message, command, button or shortcut came from (`bot.core.ports.ChatPort`).

    Replies go back to the same place: in the message's thread, through the interaction's
    response_url (it works in channels the bot has not joined), as an ephemeral, or to the App Home tab.
    """

    def __init__(self, bot: SlackBot, channel: str, user: str, *, ts: str | None = None,
                 thread_ts: str | None = None, response_url: str | None = None, ephemeral: bool = True,
                 home: bool = False, direct: bool = False) -> None:
        self.bot, self.channel, self.user, self.ts, self.thread_ts = bot, channel, user, ts, thread_ts
        self.response_url, self.ephemeral, self.home = response_url, ephemeral, home
        self.direct = direct  # the person's own conversation with the bot: private replies are plain posts

    async def react(self) -> None:
        await self.bot.api("reactions_add", channel=self.channel, timestamp=self.ts, name=EYES)

    async def unreact(self) -> None:
        await self.bot.api("reactions_remove", channel=self.channel, timestamp=self.ts, name=EYES)

    async def thread_authors(self) -> ThreadAuthors:
        """Read the thread (conversations.replies): the people who wrote before this message."""
        response = await self.bot.api("conversations_replies", channel=self.channel, ts=self.thread_ts, limit=200)
        return sb.thread_authors(response.get("messages") or (), thread_ts=self.thread_ts, ts=self.ts)

    async def channel_name(self) -> str:
        info = await self.bot.api("conversations_info", channel=self.channel)
        return str((info.get("channel") or {}).get("name") or "")

    async def post(self, reply: Reply) -> Posted | None:
        bot = self.bot
        if self.home:
            await bot.publish_home(self.user, notice=reply)
            return None
        ping = sb.staff_mention(bot.settings.slack_staff_usergroup, bot.settings.staff_ids) if reply.ping_staff else ""
        if reply.ping_staff and not ping:
            log.warning("slack: escalation without SLACK_STAFF_USERGROUP or Slack ids in SUPPORTBOT_STAFF")
        rendered = sb.render(reply, ping=ping)
        if reply.private and not self.direct:  # in the thread the person is in, if any
            if not (self.response_url and await bot.respond(self.response_url, rendered)) and self.channel:
                await bot.api("chat_postEphemeral", channel=self.channel, user=self.user, text=rendered.text,
                              blocks=rendered.blocks, **({"thread_ts": self.thread_ts} if self.thread_ts else {}))
            if reply.chart is not None and self.user:  # a file cannot go in an ephemeral: to the person's DM
                await bot.upload_chart(reply.chart, await self._direct_channel(),
                                       comment="Chart for your `/incidents` overview")
            return None
        if self.ephemeral and self.response_url:
            await bot.respond(self.response_url, rendered, in_channel=True)
            return None
        if not self.channel:
            return None
        thread = self.thread_ts or self.ts  # a public answer to a message goes in its thread
        posted = await bot.api("chat_postMessage", channel=self.channel, text=rendered.text, blocks=rendered.blocks,
                               unfurl_links=False, unfurl_media=False, **({"thread_ts": thread} if thread else {}))
        sent = Posted(str(posted.get("channel") or self.channel), str(posted.get("ts") or ""))
        if reply.chart is not None:  # an incident alert's chart goes in its thread
            await bot.upload_chart(reply.chart, sent.channel_id, thread_ts=sent.message_id or None)
        return sent

    async def _direct_channel(self) -> str:
        if self.channel.startswith("D"):
            return self.channel
        opened = await self.bot.api("conversations_open", users=self.user)
        return str((opened.get("channel") or {}).get("id") or "")

    async def edit(self, posted: Posted, reply: Reply) -> None:
        rendered = sb.render(reply)
        await self.bot.api("chat_update", channel=posted.channel_id, ts=posted.message_id, text=rendered.text,
                           blocks=rendered.blocks)

    async def is_staff(self) -> bool:
        """A member of SLACK_STAFF_USERGROUP (the core keeps the answer for a minute)."""
        group = self.bot.settings.slack_staff_usergroup
        if not group:
            return False
        members = await self.bot.api("usergroups_users_list", usergroup=group)
        return self.user in (members.get("users") or ())


def build_slack_app(service: SupportService, settings: Settings, client: AsyncWebClient) -> AsyncApp:
    """The Bolt app with every listener registered, talking to Slack through `client`."""
    return SlackBot(service, settings, client).app
