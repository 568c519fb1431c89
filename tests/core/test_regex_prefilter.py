"""The regex prefilter never changes a pattern's answer, only skips hopeless searches."""

from __future__ import annotations

import re

import pytest

from bot.core.catalog import Catalog
from bot.core.normalize import clean
from bot.core.regex_prefilter import PrefilteredPattern, required_fragments
from tests.conftest import EVAL_DIR


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"API Error: 529 .{0,40}overloaded", {"api error: 529 ", "overloaded"}),
        (r"\b(foo|bar)\b baz", {" baz"}),
        (r"(?:exception )?TypeError: fetch failed", {"typeerror: fetch failed"}),
        (r"x{0,3}hello", {"hello"}),
        (r"(a|b)+", set()),
    ],
)
def test_required_fragments(pattern: str, expected: set[str]) -> None:
    assert set(required_fragments(pattern)) == expected


def test_prefilter_agrees_with_plain_regex_on_every_catalog_pattern(catalog: Catalog) -> None:
    texts = [clean(line) for line in (EVAL_DIR / "pastes-dev.jsonl").read_text(encoding="utf-8").splitlines()]
    texts += [clean(e.signature) for e in catalog.entries]
    flags = re.IGNORECASE | re.DOTALL
    for entry in catalog.entries:
        for pattern in entry.patterns:
            fast = PrefilteredPattern(pattern, flags)
            for text in texts:
                assert bool(fast.search(text, text.lower())) == bool(fast.regex.search(text)), pattern
