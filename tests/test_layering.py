"""The core stays platform-neutral: no chat SDK or database driver is imported under bot/core."""

from __future__ import annotations

import ast
from pathlib import Path

import bot

FORBIDDEN = ("slack_bolt", "slack_sdk", "discord", "aiosqlite", "asyncpg", "aiohttp", "bot.adapters", "bot.storage")
CORE = Path(bot.__file__).parent / "core"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_no_platform_or_driver() -> None:
    offenders = {}
    for path in CORE.glob("*.py"):
        bad = {name for name in _imports(path) if name.startswith(FORBIDDEN)}
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_core_modules_exist() -> None:
    # Guards the test above against passing vacuously because the folder moved.
    assert {"service.py", "matching.py", "catalog.py"} <= {p.name for p in CORE.glob("*.py")}
