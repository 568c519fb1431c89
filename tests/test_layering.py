"""The layering rules, read from the source with `ast` so a change that breaks one fails here.

1. The core (`bot/core`) imports no chat SDK, database driver or outer layer (`bot.config`, `bot.errors`,
   adapters, storage, the app) and never reads the environment: it is handed a `Policy`.
2. Every error the core raises is a builtin or is defined in the core.
3. Alert sinks are registered by the runner, nowhere else.
4. The health check lives with the app: only `bot/app.py` pings the store.
5. Catalog loading (file reads, YAML parsing, building the matcher) never runs on the event loop:
   inside an `async def` those calls only appear handed to `asyncio.to_thread`.
6. The Slack and Discord adapters stay within a line budget (their rendering modules aside): they
   translate, and a decision that creeps into one of them shows up here as growth.
7. Adapters import nothing of the composition root (`bot.app`, `bot.runner`, `bot.cli`, `bot.serve_*`):
   connecting, serving and closing a front end is the root's part, so an adapter stays a translator.

Each rule is a function over source text; the tests show it on the real tree and on a small violation,
so a rule that silently stopped matching anything would fail too.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pytest

import bot
from bot.core.knowledge import KnowledgeBase

BOT = Path(bot.__file__).parent
CORE = BOT / "core"
FORBIDDEN_IN_CORE = ("slack_bolt", "slack_sdk", "discord", "aiosqlite", "asyncpg", "aiohttp", "bot.adapters",
                     "bot.storage", "bot.config", "bot.errors", "bot.app", "bot.runner", "bot.cli")
#: Slack and Discord front-end modules that are pure rendering (Reply -> Block Kit / embeds), left out
#: of the budget; every other `slack*`/`discord*` module under bot/adapters counts, a new one included.
RENDERING_MODULES = frozenset({"slack_blocks.py", "discord_render.py"})
ADAPTER_LINE_BUDGET = 960  # lower it as decisions move to the core
COMPOSITION_ROOT = ("bot.app", "bot.runner", "bot.cli", "bot.serve_")
BLOCKING_LOADS = frozenset({"load_catalog", "check_catalog", "safe_load", "Matcher", "read_text", "read_bytes"})


def _tree(source: str) -> ast.Module:
    return ast.parse(source)


def _sources(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(BOT.parent)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.py"))}


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


# -- the rules ------------------------------------------------------------------------------------------


def outer_imports(source: str) -> set[str]:
    """Rule 1: what a core module imports from outside the core, and whether it reads the environment."""
    bad: set[str] = set()
    for node in ast.walk(_tree(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                isinstance(node.value, ast.Name) and node.value.id == "os":
            bad.add(f"os.{node.attr}")
        bad.update(n for n in names if n == "os.environ" or n.startswith(FORBIDDEN_IN_CORE))
    return bad


def foreign_raises(source: str) -> set[str]:
    """Rule 2: exceptions raised here that are neither builtins nor defined in (or imported from) the core."""
    tree = _tree(source)
    origin: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                origin[alias.asname or alias.name] = node.module
        elif isinstance(node, ast.ClassDef):
            origin[node.name] = "bot.core"
    bad: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if not isinstance(raised, ast.Name):
            continue  # re-raising a caught exception object, `raise exc`
        name = raised.id
        if hasattr(builtins, name):
            continue
        module = origin.get(name)
        if module is None:  # a local variable holding an exception: `raise error`
            continue
        if not module.startswith("bot.core"):
            bad.add(f"{name} from {module}")
    return bad


def alert_sink_registrations(source: str) -> int:
    """Rule 3: how often this module registers an alert sink."""
    return sum(1 for node in ast.walk(_tree(source))
               if isinstance(node, ast.Call) and _called_name(node) == "add_alert_sink")


def store_pings(source: str) -> int:
    """Rule 4: how often this module pings a store (the health check)."""
    return sum(1 for node in ast.walk(_tree(source)) if isinstance(node, ast.Call) and _called_name(node) == "ping")


def blocking_loads_on_the_loop(source: str) -> set[str]:
    """Rule 5: catalog file reads, YAML parsing or matcher building called directly inside an `async def`."""
    bad: set[str] = set()

    def visit(node: ast.AST, in_async: bool, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.AsyncFunctionDef):
                visit(child, True, child.name)
            elif isinstance(child, (ast.FunctionDef, ast.Lambda)):
                visit(child, False, where)  # a nested sync function may be what runs in the thread
            else:
                if in_async and isinstance(child, ast.Call) and _called_name(child) in BLOCKING_LOADS:
                    bad.add(f"{where}: {_called_name(child)}()")
                visit(child, in_async, where)

    visit(_tree(source), False, "")
    return bad


def root_imports(source: str) -> set[str]:
    """Rule 7: what this module imports from the composition root."""
    found: set[str] = set()
    for node in ast.walk(_tree(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(COMPOSITION_ROOT))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(COMPOSITION_ROOT):
            found.add(node.module)
    return found


# -- on the real tree --------------------------------------------------------------------------------------


def test_the_core_imports_no_platform_driver_or_outer_layer() -> None:
    offenders = {name: sorted(bad) for name, source in _sources(CORE).items() if (bad := outer_imports(source))}
    assert offenders == {}


def test_the_core_raises_only_its_own_errors() -> None:
    offenders = {name: sorted(bad) for name, source in _sources(CORE).items() if (bad := foreign_raises(source))}
    assert offenders == {}
    assert "DeliveryError" in (CORE / "errors.py").read_text(encoding="utf-8")


def test_only_the_runner_registers_alert_sinks() -> None:
    counts = {name: n for name, source in _sources(BOT).items() if (n := alert_sink_registrations(source))}
    assert counts == {"bot/runner.py": 1}


def test_only_the_app_checks_health() -> None:
    outside_storage = {name: source for name, source in _sources(BOT).items() if not name.startswith("bot/storage")}
    counts = {name: n for name, source in outside_storage.items() if (n := store_pings(source))}
    assert counts == {"bot/app.py": 1}


def test_catalog_loading_never_runs_on_the_event_loop() -> None:
    offenders = {name: sorted(bad) for name, source in _sources(BOT).items()
                 if (bad := blocking_loads_on_the_loop(source))}
    assert offenders == {}
    # A synchronous reload called from the watcher or a command would hide the load from the rule.
    assert inspect.iscoroutinefunction(KnowledgeBase.reload)


def adapter_lines(folder: Path) -> dict[str, int]:
    """Rule 6: lines per Slack or Discord module under `folder`, rendering modules aside."""
    return {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in sorted(folder.glob("*.py"))
            if p.name.startswith(("slack", "discord")) and p.name not in RENDERING_MODULES}


def test_the_slack_and_discord_adapters_stay_within_their_line_budget() -> None:
    counted = adapter_lines(BOT / "adapters")
    assert {"slack_adapter.py", "discord_adapter.py", "discord_app.py"} <= set(counted)
    assert sum(counted.values()) <= ADAPTER_LINE_BUDGET, counted


def test_adapters_import_nothing_of_the_composition_root() -> None:
    offenders = {name: sorted(bad) for name, source in _sources(BOT / "adapters").items()
                 if (bad := root_imports(source))}
    assert offenders == {}
    # What moved out of them is where the runner starts it.
    assert (BOT / "serve_slack.py").is_file() and (BOT / "serve_discord.py").is_file()


def test_the_folders_are_where_the_rules_look() -> None:
    # Guards the tests above against passing vacuously because a folder moved.
    assert {"service.py", "triage.py", "ports.py", "errors.py"} <= {p.name for p in CORE.glob("*.py")}
    assert (BOT / "runner.py").is_file() and (BOT / "app.py").is_file()


# -- each rule catches a violation ----------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "found"), [
    ("from bot.config import Settings", {"bot.config"}),
    ("import discord.ext", {"discord.ext"}),
    ("from bot.errors import StoreError", {"bot.errors"}),
    ("import os\nmode = os.environ.get('X')", {"os.environ"}),
    ("import os\nmode = os.getenv('X')", {"os.getenv"}),
    ("from bot.core.models import Reply", set()),
])
def test_rule_outer_imports(source: str, found: set[str]) -> None:
    assert outer_imports(source) == found


@pytest.mark.parametrize(("source", "found"), [
    ("from bot.errors import StoreError\ndef f():\n    raise StoreError('x')", {"StoreError from bot.errors"}),
    ("from slack_sdk.errors import SlackApiError\ndef f():\n    raise SlackApiError", {"SlackApiError from slack_sdk.errors"}),
    ("from bot.core.errors import StoreError\ndef f():\n    raise StoreError('x')", set()),
    ("def f():\n    raise ValueError('x')", set()),
])
def test_rule_foreign_raises(source: str, found: set[str]) -> None:
    assert foreign_raises(source) == found


def test_rule_alert_sinks_and_health() -> None:
    assert alert_sink_registrations("def start(bot):\n    bot.service.add_alert_sink(bot.post_alert)") == 1
    assert store_pings("async def health(service):\n    await service.store.ping()") == 1


def test_rule_adapter_lines_counts_every_front_end_module_but_rendering(tmp_path: Path) -> None:
    for name, lines in {"slack_adapter.py": 3, "slack_helpers.py": 2, "slack_blocks.py": 50, "console.py": 9,
                        "discord_render.py": 40}.items():
        (tmp_path / name).write_text("x = 1\n" * lines, encoding="utf-8")
    assert adapter_lines(tmp_path) == {"slack_adapter.py": 3, "slack_helpers.py": 2}


@pytest.mark.parametrize(("source", "found"), [
    ("from bot.app import serve_http", {"bot.app"}),
    ("import bot.runner", {"bot.runner"}),
    ("from bot.serve_slack import run_slack", {"bot.serve_slack"}),
    ("from bot.core.triage import deliver\nfrom bot.config import Settings", set()),
])
def test_rule_root_imports(source: str, found: set[str]) -> None:
    assert root_imports(source) == found


@pytest.mark.parametrize(("source", "found"), [
    ("async def reload(self):\n    result = check_catalog(self.folder)", {"reload: check_catalog()"}),
    ("async def start():\n    data = yaml.safe_load(text)", {"start: safe_load()"}),
    ("async def swap(c):\n    return Matcher(c)", {"swap: Matcher()"}),
    ("async def reload(self):\n    result = await asyncio.to_thread(check_catalog, self.folder)", set()),
    ("def load(folder):\n    return load_catalog(folder)", set()),
    ("async def reload():\n    def work():\n        return load_catalog(f)\n    await asyncio.to_thread(work)", set()),
])
def test_rule_blocking_loads(source: str, found: set[str]) -> None:
    assert blocking_loads_on_the_loop(source) == found
