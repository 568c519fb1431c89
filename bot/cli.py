"""The `supportbot` command line; also the composition root for running the bot.

Exit status: 0 success, 2 bad usage or bad input, 1 failure at run time. A user mistake never prints
a traceback; unexpected failures are logged with one and reported in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import Settings
from bot.errors import BotError, CatalogError, ConfigError, StartupError, StoreError, UsageError

log = logging.getLogger("bot.cli")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
MAX_STDIN_BYTES = 64 * 1024 * 1024


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage is one line on stderr and status 2 (never a traceback)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="supportbot",
        description="Support bot for AI coding tools: recognises pasted errors and tracks usage-quota incidents.",
        epilog="With no command: starts every chat front end whose credentials are set, "
        "or the terminal chat when none are.",
    )
    parser.add_argument("--version", action="version", version=f"supportbot {__version__}")
    parser.add_argument("--env-file", type=Path, default=Path(".env"),
                        help="read settings from this .env file too (default: ./.env when present)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("run", help="start every front end whose credentials are set (the default)")
    sub.add_parser("console", help="the terminal chat")
    slack = sub.add_parser("slack", help="the Slack app (Socket Mode, or HTTP with --http)")
    slack.add_argument("--http", action="store_true", help="serve POST /slack/events over HTTP")
    slack.add_argument("--port", type=int, help="HTTP port (default: $PORT, else 3000)")
    sub.add_parser("discord", help="the Discord bot")

    match = sub.add_parser("match", help="match TEXT (or stdin) against the catalog")
    match.add_argument("text", nargs="?", help="the paste; read from stdin when omitted")
    match.add_argument("--json", action="store_true", help="one JSON object")
    match.add_argument("--jsonl", action="store_true", help='stdin has one {"id", "text"} object a line')
    match.add_argument("--top", type=int, default=3, metavar="K", help="how many candidates (default 3)")

    reading = sub.add_parser("reading", help="parse quota readings from TEXT (or stdin); stores nothing")
    reading.add_argument("text", nargs="?", help="the text; read from stdin when omitted")
    reading.add_argument("--json", action="store_true", help="one JSON object")
    reading.add_argument("--jsonl", action="store_true", help='stdin has one {"id", "text"} object a line')

    catalog = sub.add_parser("catalog", help="catalog tools")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", metavar="ACTION", parser_class=_Parser)
    check = catalog_sub.add_parser("check", help="validate a catalog folder (default: the shipped one)")
    check.add_argument("dir", nargs="?", type=Path, help="catalog folder")
    check.add_argument("--json", action="store_true")
    stats = catalog_sub.add_parser("stats", help="entries by tool and category")
    stats.add_argument("dir", nargs="?", type=Path, help="catalog folder")
    stats.add_argument("--json", action="store_true")
    stats.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")

    tallies = sub.add_parser("tallies", help="quota-report tallies over a window")
    tallies.add_argument("--since", default="24h", help="1h, 24h, 7d, or an ISO date (default 24h)")
    tallies.add_argument("--until", default=None, help="ISO date or datetime (default now)")
    tallies.add_argument("--json", action="store_true")
    incidents = sub.add_parser("incidents", help="open and acknowledged incidents")
    incidents.add_argument("--all", action="store_true", help="include resolved incidents")
    incidents.add_argument("--json", action="store_true")
    incident = sub.add_parser("incident", help="move an incident: ack or resolve")
    incident.add_argument("action", choices=["ack", "resolve"])
    incident.add_argument("id", type=int)
    incident.add_argument("--by", default="cli", help="who (recorded with the step)")
    incident.add_argument("--note", default="")
    export = sub.add_parser("export", help="export quota reports")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--since", default="30d")
    export.add_argument("--out", type=Path, help="file to write (default stdout)")
    chart = sub.add_parser("chart", help="PNG chart of reports over time by kind, incidents shaded")
    chart.add_argument("--since", default="7d")
    chart.add_argument("--out", type=Path, required=True)
    sub.add_parser("config", help="print the effective settings, secrets masked")
    purge = sub.add_parser("purge", help="delete reports, answers and feedback older than a cut-off")
    purge.add_argument("--older-than", required=True, help="e.g. 90d")
    forget = sub.add_parser("forget", help="erase one person's reports, answers and feedback")
    forget.add_argument("user", help="user id (as in reports), optionally PLATFORM:ID")
    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_sub.add_parser("init", help="create or upgrade the schema")
    return parser


# ------------------------------------------------------------------------------------------------
# entry point


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "run"
    try:
        if command == "catalog":
            return _catalog(args, parser)
        if command == "match":
            return _match(args)
        if command == "reading":
            return _reading(args)
        settings = Settings.from_env(dotenv=args.env_file)
        from bot.logsetup import configure_logging

        # Operators read INFO lines from a running bot; a one-shot command or the terminal chat
        # (where stderr shares the screen) only shows warnings unless debugging.
        serving = command in ("run", "slack", "discord") and (command != "run" or settings.slack_configured
                                                              or settings.discord_configured)
        level = settings.log_level if serving or settings.log_level == "DEBUG" else "WARNING"
        configure_logging(level, settings.log_format)
        if command == "config":
            return _config(settings)
        return asyncio.run(_async_main(command, args, settings))
    except ConfigError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except UsageError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except CatalogError as exc:
        _fail(f"{exc}; run `supportbot catalog check` to list them all")
        return EXIT_FAILURE
    except (StartupError, StoreError, BotError) as exc:
        _fail(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        return EXIT_OK


def _fail(message: str) -> None:
    sys.stderr.write(f"supportbot: error: {message}\n")


# ------------------------------------------------------------------------------------------------
# commands that need no settings or store


def _read_input(text: str | None) -> str:
    if text is not None:
        return text
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES)
    return data.decode("utf-8", errors="replace")


def _load_matcher() -> Any:
    from bot.core.catalog import default_catalog_dir, load_catalog
    from bot.core.matching import Matcher

    settings = Settings.from_env()
    return Matcher(load_catalog(settings.knowledge_dir or default_catalog_dir()))


_LineHandler = Callable[[Any, str], dict[str, Any]]
_line_handler: _LineHandler | None = None  # set before worker processes fork, so they inherit it
JSONL_BATCH = 1024


def _answer_line(raw: bytes) -> str | None:
    """One input line -> one output line (None for a blank line). Runs in worker processes too."""
    line = raw.decode("utf-8", errors="replace").strip()
    if not line:
        return None
    try:
        item = json.loads(line)
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValueError('expected an object with a string "text"')
    except (json.JSONDecodeError, ValueError) as exc:
        return json.dumps({"id": None, "error": f"bad input line: {exc}"})
    assert _line_handler is not None
    return json.dumps(_line_handler(item.get("id"), item["text"]), ensure_ascii=False)


def _jsonl_lines(handle: _LineHandler) -> int:
    """Answer stdin line by line, in order; a large input is spread over the machine's cores."""
    global _line_handler
    _line_handler = handle
    pool = None
    try:
        while batch := list(itertools.islice(sys.stdin.buffer, JSONL_BATCH)):
            if pool is None and len(batch) == JSONL_BATCH:
                pool = _worker_pool()
            answers = pool.map(_answer_line, batch, chunksize=64) if pool else map(_answer_line, batch)
            sys.stdout.write("".join(answer + "\n" for answer in answers if answer is not None))
            sys.stdout.flush()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return EXIT_OK


def _worker_pool() -> Any:
    """Forked workers share the prepared catalog; without fork (or with one core) stay serial."""
    import multiprocessing

    cores = os.cpu_count() or 1
    if cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork").Pool(cores)


def _match(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise UsageError("--top must be at least 1")
    matcher = _load_matcher()

    def decide(line_id: Any, text: str) -> dict[str, Any]:
        result = matcher.match(text, top=max(args.top, 1) + 1)
        top = result.top
        best = result.best
        alternates = [c for c in result.candidates if best is None or c.entry_id != best.entry_id][: args.top]
        return {
            "id": line_id,
            "match": best.entry_id if best else None,
            "score": round(best.score if best else (top.score if top else 0.0), 1),
            "alternates": [{"match": c.entry_id, "score": round(c.score, 1)} for c in alternates],
        }

    if args.jsonl:
        return _jsonl_lines(decide)
    text = _read_input(args.text)
    if not text.strip():
        raise UsageError("nothing to match: give TEXT or pipe a paste on stdin")
    result = matcher.match(text, top=args.top)
    if args.json:
        payload = decide(None, text)
        payload.pop("id")
        if result.best:
            payload["fragment"] = result.best.fragment
            payload["reason"] = result.best.reason
        print(json.dumps(payload, ensure_ascii=False))
        return EXIT_OK
    from bot.core import replies

    if result.best is None:
        print(replies.render_text(replies.not_recognised(result.candidates, matcher.catalog)))
        return EXIT_OK
    entry = matcher.catalog.get(result.best.entry_id)
    reply = replies.reply_for_match(entry, result.best, matcher.catalog, alternates=result.candidates[1:])
    print(replies.render_text(reply))
    return EXIT_OK


def _reading(args: argparse.Namespace) -> int:
    from bot.core.readings import parse_readings

    def parse(line_id: Any, text: str) -> dict[str, Any]:
        return parse_readings(text).as_contract(line_id)

    if args.jsonl:
        return _jsonl_lines(parse)
    text = _read_input(args.text)
    if not text.strip():
        raise UsageError("nothing to parse: give TEXT or pipe it on stdin")
    parsed = parse_readings(text)
    if args.json:
        payload = parsed.as_contract()
        payload.pop("id")
        print(json.dumps(payload, ensure_ascii=False))
        return EXIT_OK
    from bot.core.support_bundle import reading_sections

    if not parsed.readings:
        print("No quota reading found in that text.")
        return EXIT_OK
    for section in reading_sections(parsed):
        print(section.heading)
        for item in section.items:
            print(f"- {item}")
    return EXIT_OK


def _catalog(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bot.core.catalog import check_catalog, default_catalog_dir

    if args.catalog_command is None:
        parser.parse_args(["catalog", "--help"])
        return EXIT_USAGE
    folder = args.dir
    if folder is None:
        folder = Settings.from_env().knowledge_dir or default_catalog_dir()
    result = check_catalog(folder)
    if args.catalog_command == "check":
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False))
        elif result.ok:
            print(f"catalog ok: {len(result.entries)} entries in {folder}")
        else:
            for problem in result.problems:
                print(f"{problem.file}: {problem.field}: {problem.problem}", file=sys.stderr)
            print(f"{len(result.problems)} problem(s) in {folder}", file=sys.stderr)
        return EXIT_OK if result.ok else EXIT_USAGE
    from bot.core.catalog_stats import stats_json, stats_markdown, stats_text

    if args.json:
        print(json.dumps(stats_json(result.entries)))
    elif args.markdown:
        print(stats_markdown(result.entries))
    else:
        print(stats_text(result.entries))
    if not result.ok:
        _fail(f"{len(result.problems)} problem(s) in the catalog; run `supportbot catalog check`")
        return EXIT_USAGE
    return EXIT_OK


def _config(settings: Settings) -> int:
    width = max(len(name) for name, _ in settings.describe())
    for name, value in settings.describe():
        print(f"{name.ljust(width)}  {value}")
    print(f"{'read from'.ljust(width)}  {', '.join(settings.sources)}")
    return EXIT_OK


# ------------------------------------------------------------------------------------------------
# commands that use the store


async def _async_main(command: str, args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_app

    if command == "db":
        if args.db_command != "init":
            raise UsageError("usage: supportbot db init")
        from bot.storage import open_store

        store = await open_store(settings.database_url)
        await store.close()
        print("database schema is up to date")
        return EXIT_OK
    since_commands = {"tallies", "export", "chart", "purge"}
    if command in since_commands:
        _validate_window(args)
    async with open_app(settings) as app:
        if command in ("run", "console", "slack", "discord"):
            return await _serve(command, args, app)
        if command == "tallies":
            return await _tallies(args, app)
        if command == "incidents":
            return await _incidents(args, app)
        if command == "incident":
            return await _incident(args, app)
        if command == "export":
            return await _export(args, app)
        if command == "chart":
            return await _chart(args, app)
        if command == "purge":
            return await _purge(args, app)
        if command == "forget":
            return await _forget(args, app)
    raise UsageError(f"unknown command {command!r}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _since(spec: str) -> dt.datetime:
    from bot.core.tallies import parse_window

    try:
        return parse_window(spec, _now())
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _validate_window(args: argparse.Namespace) -> None:
    for name in ("since", "older_than", "until"):
        value = getattr(args, name, None)
        if value:
            _since(value)


async def _tallies(args: argparse.Namespace, app: Any) -> int:
    from bot.core.tallies import tally

    since = _since(args.since)
    until = _since(args.until) if args.until else _now()
    summary = tally(await app.store.reports_between(since, until), since, until)
    if args.json:
        print(json.dumps(summary.as_json(), ensure_ascii=False))
    else:
        print("\n".join(summary.lines()))
    return EXIT_OK


def _incident_json(incident: Any) -> dict[str, Any]:
    return {
        "id": incident.id,
        "tool": incident.tool,
        "symptom": incident.symptom,
        "status": incident.status.value,
        "summary": incident.summary,
        "reporters": incident.reporters,
        "baseline": incident.baseline,
        "entry": incident.entry_id,
        "opened_at": incident.opened_at.isoformat(),
        "updated_at": incident.updated_at.isoformat() if incident.updated_at else None,
    }


async def _incidents(args: argparse.Namespace, app: Any) -> int:
    from bot.core.models import IncidentStatus

    statuses = None if args.all else [IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED]
    found = await app.store.list_incidents(statuses)
    if args.json:
        print(json.dumps([_incident_json(i) for i in found], ensure_ascii=False))
        return EXIT_OK
    if not found:
        print("No incidents." if args.all else "No open incidents.")
    for incident in found:
        print(f"#{incident.id} [{incident.status.value}] {incident.summary} "
              f"({incident.reporters} reporters, opened {incident.opened_at:%Y-%m-%d %H:%M} UTC)")
    return EXIT_OK


async def _incident(args: argparse.Namespace, app: Any) -> int:
    from bot.core.models import IncidentStatus

    status = IncidentStatus.ACKNOWLEDGED if args.action == "ack" else IncidentStatus.RESOLVED
    if await app.store.get_incident(args.id) is None:
        raise UsageError(f"there is no incident #{args.id}; `supportbot incidents --all` lists them")
    incident = await app.store.transition_incident(args.id, status, f"cli:{args.by}", _now(), args.note)
    print(f"incident #{incident.id} is now {incident.status.value}")
    return EXIT_OK


def _report_rows(reports: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    for report in reports:
        for reading in report.parsed.readings or [None]:
            rows.append({
                "report_id": report.id,
                "received_at": report.received_at.isoformat(),
                "platform": report.origin.platform,
                "workspace": report.origin.workspace_id,
                "channel": report.origin.channel_id,
                "reporter": report.origin.user_id,
                "tool": report.parsed.tool,
                "plan": report.parsed.plan,
                "model_mode": report.parsed.model_mode,
                "version": report.parsed.version,
                "window": reading.window if reading else None,
                "percent": reading.percent if reading else None,
                "from_percent": reading.from_percent if reading else None,
                "limit_hit": reading.limit_hit if reading else None,
                "idle": reading.idle if reading else None,
                "resets": reading.resets if reading else None,
                "resets_at": reading.resets_at.isoformat() if reading and reading.resets_at else None,
                "text": report.raw_text,
            })
    return rows


async def _export(args: argparse.Namespace, app: Any) -> int:
    rows = _report_rows(await app.store.reports_between(_since(args.since), _now()))
    buffer = io.StringIO()
    if args.format == "json":
        json.dump(rows, buffer, ensure_ascii=False, indent=1)
        buffer.write("\n")
    else:
        fields = [
            "report_id", "received_at", "platform", "workspace", "channel", "reporter", "tool", "plan",
            "model_mode", "version", "window", "percent", "from_percent", "limit_hit", "idle", "resets",
            "resets_at", "text"]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    _write_out(args.out, buffer.getvalue())
    if args.out:
        print(f"wrote {len(rows)} row(s) to {args.out}", file=sys.stderr)
    return EXIT_OK


def _write_out(path: Path | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


async def _chart(args: argparse.Namespace, app: Any) -> int:
    from bot.chart import render_chart
    from bot.core.offload import cpu

    since = _since(args.since)
    reports = await app.store.reports_between(since, _now())
    incidents = await app.store.list_incidents(None)
    try:
        await cpu(render_chart, reports, incidents, since, _now(), args.out)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"wrote {args.out} ({len(reports)} reports, {len(incidents)} incidents)")
    return EXIT_OK


async def _purge(args: argparse.Namespace, app: Any) -> int:
    cutoff = _since(args.older_than)
    counts = await app.store.purge_older_than(cutoff)
    print(f"purged before {cutoff:%Y-%m-%d %H:%M} UTC: {counts.reports} reports, {counts.answers} answers, "
          f"{counts.unmatched} unmatched pastes, {counts.feedback} feedback")
    return EXIT_OK


async def _forget(args: argparse.Namespace, app: Any) -> int:
    platform, sep, user = args.user.partition(":")
    counts = await app.store.forget_user(user, platform) if sep else await app.store.forget_user(args.user)
    print(f"forgot {args.user}: {counts.reports} reports, {counts.answers} answers, "
          f"{counts.unmatched} unmatched pastes, {counts.feedback} feedback")
    return EXIT_OK


# ------------------------------------------------------------------------------------------------
# serving


async def _serve(command: str, args: argparse.Namespace, app: Any) -> int:
    from bot.runner import serve

    settings: Settings = app.settings
    wanted: list[str]
    if command == "console":
        wanted = ["console"]
    elif command == "slack":
        if not settings.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is not set")
        if args.http and not settings.slack_signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is required for HTTP mode (--http)")
        if not args.http and not settings.slack_app_token:
            raise ConfigError("SLACK_APP_TOKEN is required for Socket Mode (or use --http)")
        wanted = ["slack-http" if args.http else "slack"]
    elif command == "discord":
        if not settings.discord_token:
            raise ConfigError("DISCORD_TOKEN is not set")
        wanted = ["discord"]
    else:
        wanted = []
        if settings.slack_bot_token and settings.slack_app_token:
            wanted.append("slack")
        elif settings.slack_bot_token and settings.slack_signing_secret:
            wanted.append("slack-http")
        if settings.discord_token:
            wanted.append("discord")
        if not wanted:
            print("No chat credentials set: starting the terminal chat on the embedded store "
                  f"({_describe_db(settings)}).", file=sys.stderr)
            wanted = ["console"]
    port = args.port if getattr(args, "port", None) else settings.port
    return await serve(app, wanted, port=port, stdin=sys.stdin, stdout=sys.stdout)


def _describe_db(settings: Settings) -> str:
    from bot.config import mask_url

    return mask_url(settings.database_url)
