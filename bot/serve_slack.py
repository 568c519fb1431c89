"""Serving the Slack front end: connect (Socket Mode) or listen (HTTP), run until cancelled, close.

The adapter (`bot.adapters.slack_adapter.SlackBot`) translates between Slack and the core; this module
owns its lifetime: the Web API client, the token check, the websocket or the HTTP server (Slack's
events path beside the app's own routes), and closing all of it on the way out.

    await run_slack(service, settings, http=False, port=3000)   # what the runner starts
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_adapter import SlackBot
from bot.app import serve_http
from bot.config import Settings
from bot.core.errors import ConfigError
from bot.core.ports import AlertRelay
from bot.core.service import SupportService

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: base URL from settings (the test seam), 429s and dropped connections retried."""
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set")
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return AsyncWebClient(token=str(settings.slack_bot_token), base_url=base_url)  # retries: added by SlackBot


def http_app(bot: SlackBot, routes: Iterable[web.RouteDef] = ()) -> web.Application:
    """aiohttp application: POST /slack/events (signature-checked by Bolt) beside the app's own `routes`."""

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

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, events)
    web_app.router.add_routes(list(routes))
    return web_app


async def run_slack(service: SupportService, settings: Settings, *, http: bool, port: int,
                    host: str = "0.0.0.0", ready: Callable[[], Awaitable[None]] | None = None,
                    alerts: AlertRelay | None = None, routes: Iterable[web.RouteDef] = ()) -> None:
    """Run the Slack app until cancelled: Socket Mode by default, HTTP (`POST /slack/events`, beside the
    app's own `routes`: `GET /healthz` and `GET /metrics`) with `http=True`.

    Raises ConfigError when a credential is missing or Slack rejects the bot token (retrying would not help).
    Closes every connection, server and pending task on the way out.
    """
    if http and not settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is required for HTTP mode (--http)")
    if not http and not settings.slack_app_token:
        raise ConfigError("SLACK_APP_TOKEN is required for Socket Mode (or use --http)")
    client = make_client(settings)
    bot = SlackBot(service, settings, client, alerts=alerts)
    try:
        await bot.start()
        async with serve_http(http_app(bot, routes), host, port) if http else _socket_mode(bot, settings):
            log.info("slack: %s", f"HTTP mode, listening on {host}:{port}{EVENTS_PATH}" if http
                     else "Socket Mode connected")
            if ready is not None:
                await ready()
            await asyncio.Event().wait()
    finally:
        await bot.close()


@asynccontextmanager
async def _socket_mode(bot: SlackBot, settings: Settings) -> AsyncIterator[None]:
    """Connected to Slack's Socket Mode websocket for the block's lifetime."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bot.app, app_token=str(settings.slack_app_token), web_client=bot.client)
    try:
        await handler.connect_async()
        yield
    finally:
        await handler.close_async()
