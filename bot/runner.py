"""Run the chosen front ends in one asyncio process that shares one catalog, store and service.

Each front end runs under a supervisor that restarts it with backoff after a lost connection, so a
Discord outage never stops Slack. A rejected credential (ConfigError) is final and stops the process.
The runner registers one alert sink per front end (an `AlertRelay` the front end points at its live
connection), so a restarted front end never doubles an alert.
On SIGTERM or SIGINT: stop taking work, let replies in flight finish, then close (the store is closed
by the caller's `open_app`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.app import App
from bot.core.catalog_cache import stamp
from bot.core.ports import AlertRelay
from bot.errors import ConfigError, StartupError

log = logging.getLogger(__name__)

DRAIN_SECONDS = 8.0
# How long a thread may keep the interpreter lock while another waits for it. CPU work (matching,
# parsing) runs on a worker thread; at Python's default of 5 ms, every wake-up of the event loop
# waits up to that long behind it, and a burst of acknowledgements pays it request after request.
LOOP_SWITCH_SECONDS = 0.0005
CATALOG_POLL_SECONDS = 5.0
BACKOFF_START, BACKOFF_MAX = 1.0, 60.0


async def serve(app: App, front_ends: list[str], *, port: int, stdin: TextIO, stdout: TextIO) -> int:
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, LOOP_SWITCH_SECONDS))
    try:
        return await _serve(app, front_ends, port=port, stdin=stdin, stdout=stdout)
    finally:
        sys.setswitchinterval(switch_interval)


async def _serve(app: App, front_ends: list[str], *, port: int, stdin: TextIO, stdout: TextIO) -> int:
    stop = asyncio.Event()
    _install_signal_handlers(stop)
    runners: dict[str, Callable[[], Awaitable[None]]] = {}
    for name in front_ends:
        runners[name] = _runner_for(name, app, port, stdin, stdout)
    fatal: list[BaseException] = []
    status = app.front_end_status
    tasks = [asyncio.create_task(supervise(name, run, stop, fatal, final=name == "console", status=status),
                                 name=name)
             for name, run in runners.items()]
    watcher = asyncio.create_task(watch_catalog(app, stop), name="catalog-watcher")
    detector = asyncio.create_task(detect_periodically(app, stop, app.settings.detect_seconds), name="detector")
    log.info("running: %s", ", ".join(front_ends))
    await stop.wait()
    log.info("stopping: finishing replies in flight")
    drained = await app.service.drain(DRAIN_SECONDS)
    if not drained:
        log.warning("some replies were still in flight after %.0f s", DRAIN_SECONDS)
    for task in [*tasks, watcher, detector]:
        task.cancel()
    await asyncio.gather(*tasks, watcher, detector, return_exceptions=True)
    if fatal:
        raise fatal[0]
    return 0


def _runner_for(name: str, app: App, port: int, stdin: TextIO, stdout: TextIO) -> Callable[[], Awaitable[None]]:
    if name == "console":
        from bot.adapters.console import run_console

        return lambda: run_console(app.service, stdin, stdout)
    relay = AlertRelay(name)
    app.service.add_alert_sink(relay)
    if name in ("slack", "slack-http"):
        from bot.serve_slack import run_slack

        return lambda: run_slack(app.service, app.settings, http=name == "slack-http", port=port,
                                 alerts=relay, routes=app.http_routes())
    if name == "discord":
        from bot.serve_discord import run_discord

        return lambda: run_discord(app.service, app.settings, alerts=relay)
    raise ValueError(f"unknown front end {name}")


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    fatal: list[BaseException],
    *,
    final: bool,
    backoff_start: float = BACKOFF_START,
    backoff_max: float = BACKOFF_MAX,
    status: dict[str, str] | None = None,
) -> None:
    """Run a front end; restart it with exponential backoff unless it ended for good."""
    status = {} if status is None else status
    delay = backoff_start
    while not stop.is_set():
        try:
            status[name] = "running"
            await run()
            if final:
                break
            log.warning("%s stopped by itself; restarting in %.0f s", name, delay)
        except asyncio.CancelledError:
            raise
        except (ConfigError, StartupError) as exc:
            log.error("%s cannot start: %s", name, exc)
            fatal.append(exc if isinstance(exc, StartupError) else StartupError(str(exc)))
            break
        except Exception as exc:  # a lost connection: log it, back off, reconnect
            log.warning("%s failed (%s: %s); reconnecting in %.0f s", name, type(exc).__name__, exc, delay)
        status[name] = "reconnecting"
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            delay = min(delay * 2, backoff_max)
    status[name] = "stopped"
    stop.set()


async def watch_catalog(app: App, stop: asyncio.Event, interval: float = CATALOG_POLL_SECONDS) -> None:
    """Reload the catalog when its files change; a broken catalog is reported and the last good one kept."""
    knowledge = app.service.knowledge
    # The files as they were before start-up loaded them, so an edit made while starting is not
    # missed and an unchanged catalog is not parsed a second time (None: the first look reloads).
    last = app.catalog_files
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        current = await asyncio.to_thread(stamp, knowledge.folders)
        if current == last:
            continue
        last = current
        result = await knowledge.reload(current)  # the files as just looked at: not stat-ed twice
        if not result.ok:
            await app.service.alert_staff(app.service.reload_reply(result))


async def detect_periodically(app: App, stop: asyncio.Event, interval: float) -> None:
    """Spike detection every `interval` seconds (SUPPORTBOT_DETECT_SECONDS), first run at once.

    Every process sharing the database may run this; the store lets only one of them open each
    incident. A failed run (database unreachable) is logged and the next one tried as usual.
    """
    while not stop.is_set():
        try:
            await app.service.run_detection()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("spike detection failed; trying again in %.0f s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
