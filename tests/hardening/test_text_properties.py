"""Property-based tests of the text functions that see every chat message: they never raise, they keep
their promises on any text, and their work grows linearly with the text (the size-quadrupling check of
growth.py) on the hostile repetitions that used to take minutes and on whatever hypothesis invents."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core.masking import MASK, mask_secrets, mask_url
from bot.core.matching import Matcher
from bot.core.normalize import clean, normalize, tokens

from .growth import MAX_RATIO, growth_ratio

# Characters the regexes care about, so random text hits their edges instead of plain letters only.
SPECIAL = "-_.:=@/\\<>|#!&;,'\"`*+?()[]{}~%$^ \t\n\r\x1b\x00" + "aA1zZ9xX" + "ｓｋ\u200b\ufeff…—“”’│╭█"
text_strategy = st.text(alphabet=st.sampled_from(SPECIAL) | st.characters(), max_size=400)
unit_strategy = st.text(alphabet=st.sampled_from(SPECIAL), min_size=1, max_size=8)

# The repetitions that took seconds to minutes before the rules were rewritten.
HOSTILE_UNITS = ["pwd-", "token-", "a-", "1.1.", "\n", "sk-ant-", "a@b.", "eyJ-", "<http://a|", "<#C1|",
                 "openai.", "password=", '"pwd":"', "--token ", "a://a:", "x" * 24 + ".", "\n> ", "1:11:11.1"]
FAST = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
GROWTH = settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(text_strategy)
@example("pwd-" * 50)
@example("\ud800 lone surrogate")
def test_normalisation_never_raises_and_is_stable(text: str) -> None:
    cleaned = clean(text)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    normalized = normalize(text)
    assert normalized == normalized.casefold() or not normalized.isascii()
    assert all(token.isalnum() for token in tokens(normalized))


@FAST
@given(text_strategy, st.sampled_from([
    "sk-ant-api03-" + "Ab1_" * 6, "ghp_" + "a1B2" * 6, "xoxb-" + "1234-" * 4, "AIza" + "x1Y_" * 9,
]))
def test_masking_hides_a_key_anywhere_and_is_idempotent(noise: str, secret: str) -> None:
    text = f"{noise} {secret} {noise}"
    masked = mask_secrets(text)
    assert secret not in masked
    assert MASK in masked
    assert mask_secrets(masked) == masked


@FAST
@given(text_strategy)
def test_mask_url_never_raises(text: str) -> None:
    assert isinstance(mask_url(text), str)
    assert isinstance(mask_url("postgresql://u:" + text + "@h/db"), str)


@FAST
@given(text_strategy)
def test_matcher_never_raises(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    json.dumps([c.entry_id for c in result.candidates])
    assert all(0 <= c.score <= 100 for c in result.candidates)


@pytest.mark.parametrize("unit", HOSTILE_UNITS)
@pytest.mark.parametrize("name", ["mask_secrets", "clean", "normalize"])
def test_hostile_repetitions_grow_linearly(name: str, unit: str) -> None:
    fn = {"mask_secrets": mask_secrets, "clean": clean, "normalize": normalize}[name]
    assert growth_ratio(fn, unit, 8_000) < MAX_RATIO


@pytest.mark.parametrize("unit", HOSTILE_UNITS[:8])
def test_matcher_grows_linearly_on_hostile_repetitions(matcher: Matcher, unit: str) -> None:
    # Below the matcher's 12 KB scan window, so the whole text is really read.
    assert growth_ratio(matcher.match, unit, 2_500) < MAX_RATIO


@GROWTH
@given(unit_strategy)
def test_any_repetition_grows_linearly(unit: str) -> None:
    assert growth_ratio(mask_secrets, unit, 8_000) < MAX_RATIO
    assert growth_ratio(normalize, unit, 8_000) < MAX_RATIO
