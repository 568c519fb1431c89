"""The README's figures and commands are the ones the project really produces and runs."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.catalog import Catalog
from bot.core.catalog_stats import stats_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_catalog_table_matches_the_catalog(catalog: Catalog) -> None:
    found = re.search(r"<!-- catalog-stats -->\n(.*?)\n<!-- /catalog-stats -->", README, re.DOTALL)
    assert found, "README lost its catalog table markers"
    assert found.group(1) == stats_markdown(catalog.entries), "regenerate with `supportbot catalog stats --markdown`"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_procfile_commands_exist() -> None:
    from bot.cli import build_parser

    parser = build_parser()
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        _, _, command = line.partition(":")
        words = command.split()
        assert words[0] == "supportbot"
        parser.parse_args(words[1:])  # raises SystemExit on an unknown command or option
