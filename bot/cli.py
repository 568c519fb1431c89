"""The `supportbot` command line; also the composition root for running the bot.

Exit status: 0 success, 2 bad usage or bad input, 1 failure at run time. A user mistake never prints
a traceback; unexpected failures are logged with one and reported in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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


MAX_ID = 2**63 - 1  # what both databases hold in an integer column


def _incident_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value[:40]!r} is not an incident number") from None
    if not 1 <= number <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{value[:40]} is not an incident number (1 to {MAX_ID})")
    return number


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a port number") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value[:40]} is not a port number (1 to 65535)")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="supportbot",
        description="Support bot for AI coding tools: recognises pasted errors and tracks usage-quota incidents.",
        epilog="With no command: starts every chat front end whose credentials are set, "
        "or the terminal chat when none are.",
    )
    parser.add_argument("--version", action="version", version=f"supportbot {__version__}")
    parser.add_argument("--env-file", type=Path, default=None,
                        help="read settings from this .env file too (default: ./.env when present)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("run", help="start every front end whose credentials are set (the default)")
    sub.add_parser("console", help="the terminal chat")
    slack = sub.add_parser("slack", help="the Slack app (Socket Mode, or HTTP with --http)")
    slack.add_argument("--http", action="store_true", help="serve POST /slack/events over HTTP")
    slack.add_argument("--port", type=_port, help="HTTP port (default: $PORT, else 3000)")
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
    stats.add_argument("--stale-days", type=int, default=180, metavar="N",
                       help="list entries not reviewed for N days (default 180)")
    draft = catalog_sub.add_parser("draft", help="write a YAML entry skeleton from a gap cluster")
    draft.add_argument("cluster", help="cluster id from `supportbot gaps`, or its rank (1 = biggest)")
    draft.add_argument("--out", type=Path, default=Path("drafts"), help="folder to write to (default ./drafts)")
    draft.add_argument("--since", default="30d", help="window the clusters are mined over (default 30d)")

    gaps = sub.add_parser("gaps", help="unmatched error pastes grouped by template")
    gaps.add_argument("--since", default="30d", help="30m, 24h, 7d, 30d or an ISO date (default 30d)")
    gaps.add_argument("--json", action="store_true")
    gaps.add_argument("--top", type=int, default=20, metavar="K", help="how many clusters to show (default 20)")

    tallies = sub.add_parser("tallies", help="quota-report tallies over a window")
    tallies.add_argument("--since", default="24h", help="1h, 24h, 7d, or an ISO date (default 24h)")
    tallies.add_argument("--until", default=None, help="ISO date or datetime (default now)")
    tallies.add_argument("--json", action="store_true")
    incidents = sub.add_parser("incidents", help="open and acknowledged incidents")
    incidents.add_argument("--all", action="store_true", help="include resolved incidents")
    incidents.add_argument("--json", action="store_true")
    incident = sub.add_parser("incident", help="move an incident: ack or resolve")
    incident.add_argument("action", choices=["ack", "resolve"])
    incident.add_argument("id", type=_incident_id)
    incident.add_argument("--by", default="cli", help="who (recorded with the step)")
    incident.add_argument("--note", default="")
    export = sub.add_parser("export", help="export quota reports, one row per reading")
    export.add_argument("--format", choices=["csv", "json", "jsonl"], default="csv")
    export.add_argument("--since", default="30d", help="30d, 12w, or an ISO date (default 30d)")
    export.add_argument("--out", type=Path, help="file to write (default stdout)")
    importer = sub.add_parser("import", help="load what export wrote: restore a backup, move SQLite to PostgreSQL")
    importer.add_argument("file", type=Path, help="a file written by `supportbot export`")
    importer.add_argument("--format", choices=["csv", "json", "jsonl"],
                          help="csv, json or jsonl (default: from the file name)")
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
    from bot.core.workers import allow_processes

    # The program's entry point (its main module is guarded), so a large catalog's first start may
    # validate and prepare it in worker processes.
    allow_processes()
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "run"
    try:
        _check_arguments(args)
        if command == "catalog" and args.catalog_command != "draft":
            return _catalog(args, parser)
        if command == "match":
            return _match(args)
        if command == "reading":
            return _reading(args)
        settings = _settings(args.env_file)
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
    sys.stderr.write(f"supportbot: error: {_printable(message)}\n")


def _printable(text: str) -> str:
    """What can be written to any terminal: undecodable bytes from argv shown as U+FFFD, one line."""
    return " ".join(text.encode("utf-8", "replace").decode("utf-8").splitlines())


def _check_arguments(args: argparse.Namespace) -> None:
    """Refuse argv text that is not UTF-8 (Python keeps such bytes as lone surrogates no store can
    hold), except a paste given as TEXT, whose bad bytes become U+FFFD like on stdin."""
    env_file = getattr(args, "env_file", None)
    if env_file is not None and not env_file.is_file():
        raise UsageError(f"--env-file {_printable(str(env_file))}: no such file")
    for name, value in vars(args).items():
        if not isinstance(value, str):
            continue
        if name == "text":
            setattr(args, name, value.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            option = name.replace("_", "-")
            raise UsageError(f"{option} is not valid UTF-8 text") from None


def _settings(env_file: Path | None) -> Settings:
    """Settings from the environment plus the .env file (./.env when present, else --env-file)."""
    return Settings.from_env(dotenv=env_file if env_file is not None else Path(".env"))


# ------------------------------------------------------------------------------------------------
# commands that need no settings or store


def _read_input(text: str | None) -> str:
    if text is not None:
        return text
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES)
    return data.decode("utf-8", errors="replace")


def _load_matcher() -> Any:
    from bot.core.catalog_folders import load_folders
    from bot.core.matching import Matcher

    return Matcher(load_folders(Settings.from_env().knowledge_folders))


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
    except RecursionError:
        return json.dumps({"id": None, "error": "bad input line: nested too deeply"})
    except (json.JSONDecodeError, ValueError) as exc:
        return json.dumps({"id": None, "error": f"bad input line: {str(exc)[:200]}"})
    line_id = item.get("id")
    assert _line_handler is not None
    try:
        answer = _line_handler(line_id, _valid_text(item["text"]))
    except Exception as exc:  # one bad line never costs the others their answers
        log.exception("line %s could not be answered", _json_safe(line_id))
        answer = {"id": line_id, "error": f"could not answer this line: {type(exc).__name__}"}
    return _json_line(answer)


def _valid_text(text: str) -> str:
    """JSON may carry lone surrogates (\\ud800); they are no text, so they become U+FFFD."""
    from bot.core.normalize import encodable

    return encodable(text)


def _json_safe(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)[:200]


def _json_line(payload: dict[str, Any]) -> str:
    """One output line; an id holding lone surrogates is written with JSON escapes, still readable back."""
    try:
        text = json.dumps(payload, ensure_ascii=False)
    except (ValueError, RecursionError, TypeError):
        return json.dumps({"id": None, "error": "could not write this line's answer"})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(payload, ensure_ascii=True)
    return text


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


def _refuse_text_with_jsonl(args: argparse.Namespace) -> None:
    if args.jsonl and args.text is not None:
        raise UsageError("--jsonl reads its lines from stdin; give no TEXT with it")
    if args.jsonl and args.json:
        raise UsageError("choose one of --json and --jsonl")


def _match(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise UsageError("--top must be at least 1")
    _refuse_text_with_jsonl(args)
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

    _refuse_text_with_jsonl(args)

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
    from bot.core.catalog_folders import check_folders

    if args.catalog_command is None:
        raise UsageError("catalog needs an action: `supportbot catalog check [DIR]`, "
                         "`supportbot catalog stats [DIR]` or `supportbot catalog draft CLUSTER`")
    folders = [args.dir] if args.dir is not None else list(Settings.from_env().knowledge_folders)
    folder = ":".join(str(f) for f in folders)
    result = check_folders(folders)
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
    from bot.core.catalog_stats import freshness_lines, stale_entries, stats_json, stats_markdown, stats_text

    if args.stale_days < 0:
        raise UsageError("--stale-days must be 0 or more")
    today = _now().date()
    if args.json:
        payload = stats_json(result.entries)
        payload["stale_days"] = args.stale_days
        payload["stale"] = [{"id": e.id, "last_reviewed": e.last_reviewed.isoformat(), "retired": e.retired}
                            for e in stale_entries(result.entries, today, args.stale_days)]
        payload["retired"] = [e.id for e in result.entries if e.retired]
        print(json.dumps(payload))
    elif args.markdown:
        print(stats_markdown(result.entries))
    else:
        print(stats_text(result.entries))
        print("\n".join(freshness_lines(result.entries, today, args.stale_days)))
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
    since_commands = {"tallies", "export", "chart", "purge", "gaps", "catalog"}
    if command in since_commands:
        _validate_window(args)
    if command in ("export", "import"):  # the store alone: no catalog to load
        from types import SimpleNamespace

        from bot.storage import open_store

        store = await open_store(settings.database_url)
        try:
            data = SimpleNamespace(store=store)
            return await (_export(args, data) if command == "export" else _import(args, data))
        finally:
            await store.close()
    async with open_app(settings) as app:
        if command in ("run", "console", "slack", "discord"):
            return await _serve(command, args, app)
        if command == "tallies":
            return await _tallies(args, app)
        if command == "gaps":
            return await _gaps(args, app)
        if command == "catalog":
            return await _draft(args, app)
        if command == "incidents":
            return await _incidents(args, app)
        if command == "incident":
            return await _incident(args, app)
        if command == "export":
            return await _export(args, app)
        if command == "import":
            return await _import(args, app)
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
    from bot.core.tallies import WINDOW_FORMS, parse_window

    if len(spec) > 64:
        raise UsageError(f"unknown window {spec[:20]!r}...; use {WINDOW_FORMS}")
    try:
        return parse_window(spec, _now())
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _validate_window(args: argparse.Namespace) -> None:
    for name in ("since", "older_than", "until"):
        value = getattr(args, name, None)
        if value:
            _since(value)


async def _mine(app: Any, since: dt.datetime) -> list[Any]:
    from bot.core.gaps import background_of, mine_gaps

    pastes = await app.store.unmatched_between(since, _now())
    return mine_gaps(pastes, background_of(app.service.catalog.entries))


async def _gaps(args: argparse.Namespace, app: Any) -> int:
    if args.top < 1:
        raise UsageError("--top must be at least 1")
    clusters = await _mine(app, _since(args.since))
    if args.json:
        print(json.dumps([c.as_json() for c in clusters], ensure_ascii=False))
        return EXIT_OK
    if not clusters:
        print(f"No unmatched error pastes since {args.since}.")
        return EXIT_OK
    print(f"{sum(c.count for c in clusters)} unmatched error paste(s) since {args.since} in {len(clusters)} "
          "cluster(s); `supportbot catalog draft ID` drafts an entry from one")
    for rank, cluster in enumerate(clusters[: args.top], 1):
        tool = cluster.tool or "tool unknown"
        print(f"{rank:>3}. {cluster.id}  {cluster.count}x by {cluster.people}  {tool}  "
              f"{cluster.first_seen:%Y-%m-%d} .. {cluster.last_seen:%Y-%m-%d}")
        print(f"     {cluster.template}")
    if len(clusters) > args.top:
        print(f"... and {len(clusters) - args.top} more (--top K, or --json for all)")
    return EXIT_OK


async def _draft(args: argparse.Namespace, app: Any) -> int:
    from bot.core.drafts import draft_entry
    from bot.core.gaps import find_cluster

    clusters = await _mine(app, _since(args.since))
    cluster = find_cluster(clusters, args.cluster)
    if cluster is None:
        raise UsageError(f"no gap cluster {args.cluster!r} since {args.since}; `supportbot gaps` lists them")
    taken = set(app.service.catalog.ids)
    out: Path = args.out
    if out.is_dir():
        taken |= {p.stem for p in out.glob("*.yaml")}
    entry_id, text = draft_entry(cluster, taken, _now().date())
    try:
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{entry_id}.yaml"
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(path)
    return EXIT_OK


async def _tallies(args: argparse.Namespace, app: Any) -> int:
    since = _since(args.since)
    until = _since(args.until) if args.until else _now()
    if until <= since:
        raise UsageError(f"--until {args.until} is not after --since {args.since}")
    summary = await app.store.tally(since, until)  # counted in SQL
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


EXPORT_PAGE = 2_000
IMPORT_CHUNK = 5_000
MAX_PROBLEMS_SHOWN = 50


async def _export(args: argparse.Namespace, app: Any) -> int:
    from bot.report_files import RowWriter, report_rows

    since, until = _since(args.since), _now()
    try:
        out = args.out.open("w", encoding="utf-8", newline="") if args.out else sys.stdout
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    try:
        writer = RowWriter(out, args.format)
        after = None
        while True:  # page by page, so a large tracker never sits in memory at once
            page = await app.store.reports_page(since, until, after, EXPORT_PAGE)
            for report in page:
                writer.write(report_rows(report))
            if len(page) < EXPORT_PAGE:
                break
            after = (page[-1].received_at, page[-1].id)
        writer.close()
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"wrote {writer.count} row(s) to {args.out}", file=sys.stderr)
    return EXIT_OK


async def _import(args: argparse.Namespace, app: Any) -> int:
    found = await asyncio.to_thread(_read_backup, args.file, args.format)  # file reading off the loop
    for problem in found.problems[:MAX_PROBLEMS_SHOWN]:
        print(f"{args.file}: refused: {problem}", file=sys.stderr)
    if len(found.problems) > MAX_PROBLEMS_SHOWN:
        print(f"{args.file}: ... and {len(found.problems) - MAX_PROBLEMS_SHOWN} more refused", file=sys.stderr)
    stored = present = 0
    # By person: the store reads each person's neighbouring reports once per chunk, not once per report.
    reports = sorted(found.reports, key=lambda r: (r.origin.platform, r.origin.user_id, r.received_at))
    with _progress(len(reports), "importing") as bar:
        for at in range(0, len(reports), IMPORT_CHUNK):
            chunk = reports[at : at + IMPORT_CHUNK]
            counts = await app.store.import_reports(chunk)
            stored, present = stored + counts.stored, present + counts.present
            bar.update(len(chunk))
    print(f"read {found.read} report(s): {stored} stored, {present} already present, {found.refused} refused")
    return EXIT_USAGE if found.refused else EXIT_OK


def _read_backup(path: Path, given: str | None) -> Any:
    """The reports in an export file, checked; a file that cannot be read at all is a UsageError."""
    from bot.report_files import format_of, read_reports

    try:
        fmt = format_of(path, given)
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        return read_reports(text, fmt)
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _progress(total: int, what: str) -> Any:
    """A progress bar on stderr when it is a terminal; otherwise one that draws nothing."""
    from tqdm import tqdm

    return tqdm(total=total, desc=what, unit=" reports", file=sys.stderr,
                disable=not sys.stderr.isatty() or total < IMPORT_CHUNK)


async def _chart(args: argparse.Namespace, app: Any) -> int:
    from bot.chart import render_chart
    from bot.core.charts import bucket_size, counted_reports_chart
    from bot.core.offload import cpu

    since, until = _since(args.since), _now()
    # Distinct people per kind and period, counted in the database: any window costs a few numbers.
    people = await app.store.people_per_period(since, until, bucket_size(until - since))
    incidents = await app.store.incidents_during(since, until)
    chart = counted_reports_chart(people, incidents, since, until)
    try:
        await cpu(render_chart, chart, args.out)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"wrote {args.out} ({len(incidents)} incidents)")
    return EXIT_OK


async def _purge(args: argparse.Namespace, app: Any) -> int:
    cutoff = _since(args.older_than)
    counts = await app.store.purge_older_than(cutoff)
    print(f"purged before {cutoff:%Y-%m-%d %H:%M} UTC: {counts.reports} reports, {counts.answers} answers, "
          f"{counts.unmatched} unmatched pastes, {counts.feedback} feedback")
    return EXIT_OK


async def _forget(args: argparse.Namespace, app: Any) -> int:
    platform, sep, user = args.user.partition(":")
    if not args.user.strip() or (sep and (not user.strip() or not platform.strip())):
        raise UsageError("forget needs a user id (USER or PLATFORM:USER), not an empty one")
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
