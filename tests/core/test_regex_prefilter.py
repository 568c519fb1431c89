"""The regex prefilter never changes a pattern's answer, only skips hopeless searches."""

from __future__ import annotations

import random
import re

import pytest

from bot.core.catalog import Catalog
from bot.core.normalize import clean
from bot.core.regex_prefilter import FragmentIndex, PrefilteredPattern, required_fragments
from tests.conftest import EVAL_DIR


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"API Error: 529 .{0,40}overloaded", {frozenset({"api error: 529 "}), frozenset({"overloaded"})}),
        (r"\b(foo|bar)\b baz", {frozenset({"foo", "bar"}), frozenset({" baz"})}),
        (r"(?:exception )?TypeError: fetch failed", {frozenset({"typeerror: fetch failed"})}),
        (r"x{0,3}hello", {frozenset({"hello"})}),
        (r"^(?=.*\bclaude\b).*exit code", {frozenset({"claude"}), frozenset({"exit code"})}),
        (r"^(?!.*codex).*crash", {frozenset({"crash"})}),
        (r"(a|b)+", set()),  # compiled to a character class: nothing certain
        (r"(abc|[xy]z)", {frozenset({"abc", "z"})}),
        (r"(abc|.|q)", set()),  # one alternative needs no letter at all
    ],
)
def test_required_fragments(pattern: str, expected: set[frozenset[str]]) -> None:
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


@pytest.mark.parametrize("seed", range(5))
def test_the_fragment_index_finds_exactly_the_fragments_a_text_holds(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ab c-"
    fragments = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(60)})
    index = FragmentIndex.build({fragment: (number,) for number, fragment in enumerate(fragments)})
    restored = FragmentIndex(*index.state())
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        expected = sorted((number,) for number, fragment in enumerate(fragments) if fragment in text)
        assert sorted(map(tuple, index.found(text))) == expected, text
        assert sorted(map(tuple, restored.found(text))) == expected, text
