"""The matcher on the development eval sets, on the catalog's own literals, and on hostile input."""

from __future__ import annotations

import pytest

from bot.core.catalog import Catalog
from bot.core.evaluation import evaluate, read_jsonl
from bot.core.matching import Matcher
from tests.conftest import EVAL_DIR

# Floors, not targets: the figures themselves are printed by benchmarks/accuracy.py.
MIN_TOP1 = 0.90
MAX_FALSE_TRIGGERS = 0.01
MAX_OUT_OF_CATALOG_ANSWERED = 0.05


def test_accuracy_floor_on_dev_sets(matcher: Matcher) -> None:
    report = evaluate(matcher, read_jsonl(EVAL_DIR / "pastes-dev.jsonl"), read_jsonl(EVAL_DIR / "negatives-dev.jsonl"))
    assert report.pastes >= 90, "most dev pastes should have their entry in the catalog"
    assert report.top1 >= MIN_TOP1, "\n".join(report.misses)
    assert report.false_trigger_rate <= MAX_FALSE_TRIGGERS, "\n".join(report.triggers)
    assert report.out_of_catalog >= 20, "the dev negatives include real errors no entry covers"
    assert report.out_of_catalog_rate <= MAX_OUT_OF_CATALOG_ANSWERED, "\n".join(report.wrong_answers)


def test_every_signature_and_variant_finds_its_own_entry(catalog: Catalog, matcher: Matcher) -> None:
    wrong = []
    for entry in catalog.entries:
        for literal in (entry.signature, *entry.variants):
            result = matcher.match(literal)
            top = result.top
            if top is None or top.entry_id != entry.id:
                wrong.append(f"{entry.id}: {literal[:80]!r} -> {top.entry_id if top else None}")
    assert wrong == []


def test_examples_are_not_confused_with_other_entries(catalog: Catalog, matcher: Matcher) -> None:
    confused = []
    for entry in catalog.entries:
        for example in entry.examples:
            best = matcher.match(example).best
            if best is not None and best.entry_id != entry.id:
                confused.append(f"{entry.id}: {example[:70]!r} -> {best.entry_id}")
    assert confused == []


def test_match_explains_itself(matcher: Matcher) -> None:
    result = matcher.match("  ⎿  API Error (Request timed out.) · Retrying in 1 seconds… (attempt 2/10)")
    assert result.best is not None
    assert result.best.entry_id == "claude-code-request-timed-out"
    assert result.best.fragment and result.best.reason in {"pattern", "signature", "variant", "phrase", "keywords"}


def test_error_inside_a_huge_log_is_found(matcher: Matcher) -> None:
    noise = "\n".join(f"2026-01-01T00:00:{i % 60:02d}Z INFO worker {i} processed batch ok" for i in range(40_000))
    paste = noise + "\n⏺ API Error: Unable to connect to API (ECONNRESET)\n" + noise
    assert len(paste) > 1_000_000
    result = matcher.match(paste)
    assert result.best is not None and result.best.entry_id == "claude-code-unable-to-connect-econnreset"


@pytest.mark.parametrize("junk", [
    "",
    "   \n\t  ",
    "\x00\x01\x02" * 1000,
    bytes(range(256)).decode("latin-1") * 200,
    "{" * 50_000,
    "a" * 2_000_000,
    "😀" * 10_000,
])
def test_junk_never_crashes_or_triggers(matcher: Matcher, junk: str) -> None:
    assert matcher.match(junk).best is None


def test_autocomplete_is_fuzzy_and_bounded(matcher: Matcher) -> None:
    found = matcher.complete("overload", limit=25)
    assert found and found[0].id == "claude-code-529-overloaded"
    assert len(matcher.complete("", limit=25)) <= 25
    assert matcher.lookup("claude-code-529-overloaded") is not None


@pytest.mark.parametrize("paste", [
    "500 Internal Server Error\nnginx/1.18.0 (Ubuntu)",
    "HTTP 429 Too Many Requests",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\nwebpack build of the admin app",
    "TypeError: fetch failed\n    at node:internal/deps/undici/undici:13502:13",
    "Error: read ECONNRESET\n    at TCP.onStreamRead (node:internal/stream_base_commons:217:20)",
    "github.com/settings/billing says my card payment failed",
    "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o'}}",
    'File "app.py", line 12\nanthropic.InternalServerError: Error code: 500',
])
def test_generic_errors_of_other_software_do_not_trigger(matcher: Matcher, paste: str) -> None:
    result = matcher.match(paste)
    assert result.best is None, result.best


def test_a_pattern_hit_stays_confident_without_error_words(matcher: Matcher) -> None:
    paste = ("There's an issue with the selected model (claude-sonnet-4-6). It may not exist or you may "
             "not have access to it. Run /model to pick a different model.")
    result = matcher.match(paste)
    assert result.best is not None and result.best.entry_id == "claude-code-selected-model-not-available"


@pytest.mark.parametrize("chat", [
    "cline rate limits have been fine for us since we moved to the team plan",
    "roo code handles 429s gracefully now, nice update",
    "cursor usage limit is 500 requests on pro, right?",
    "we use claude code with a corporate proxy, set HTTPS_PROXY and NODE_EXTRA_CA_CERTS and it works",
    "aider is great for refactors, token limit never bothered me",
    "the codex 5h limit is a bit tight but fine",
])
def test_chat_about_a_tool_is_not_an_error_report(matcher: Matcher, chat: str) -> None:
    assert matcher.match(chat).best is None


@pytest.mark.parametrize(("report", "entry_id"), [
    ("cline keeps hitting rate limits on every request since this morning", "cline-roo-api-429"),
    ("cursor says I hit my usage limit but I'm on pro", "cursor-usage-limit-reached"),
])
def test_the_same_topic_with_a_sign_of_trouble_is_answered(matcher: Matcher, report: str, entry_id: str) -> None:
    result = matcher.match(report)
    assert result.best is not None and result.best.entry_id == entry_id
