"""Mechanical checks of the shipped catalog: coverage, completeness, links and evidence."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.core.catalog import Catalog, Entry

REQUIRED_IDS = [
    line.strip()
    for line in (Path(__file__).parent / "data" / "signature_ids.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def test_every_listed_signature_has_an_entry(catalog: Catalog) -> None:
    assert len(REQUIRED_IDS) == 109
    missing = [i for i in REQUIRED_IDS if catalog.get(i) is None]
    assert missing == []


def _entries(catalog: Catalog) -> list[Entry]:
    return list(catalog.entries)


@pytest.mark.parametrize("entry_id", REQUIRED_IDS)
def test_entry_is_a_complete_page(catalog: Catalog, entry_id: str) -> None:
    entry = catalog.get(entry_id)
    assert entry is not None
    assert len(entry.causes) >= 2
    assert len(entry.fixes) >= 2
    assert len(entry.faq) >= 2
    assert entry.checks and entry.steps and entry.prevention
    assert len(entry.meaning) >= 80 and len(entry.why) >= 80
    assert entry.evidence.note and entry.evidence.urls
    assert entry.related, "every entry links to at least one related entry"
    assert entry.variants or entry.patterns, "an entry needs more than its signature to be recognised"


def test_evidence_urls_are_well_formed(catalog: Catalog) -> None:
    bad = []
    for entry in catalog.entries:
        for url in entry.evidence.urls:
            parsed = urlparse(url)
            if parsed.scheme != "https" or "." not in parsed.netloc or " " in url:
                bad.append(f"{entry.id}: {url}")
    assert bad == []


def test_related_links_resolve_and_are_reciprocal(catalog: Catalog) -> None:
    one_way = []
    for entry in catalog.entries:
        for other_id in entry.related:
            other = catalog.get(other_id)
            assert other is not None, f"{entry.id} -> {other_id}"
            if entry.id not in other.related:
                one_way.append(f"{entry.id} -> {other_id}")
    assert one_way == []


def test_seed_page_links_match_the_original(catalog: Catalog) -> None:
    seed = catalog.get("claude-code-quota-increases-without-tasks")
    assert seed is not None
    assert {"claude-code-thinking-invisible-opus", "claude-code-unhandled-case-object-object"} <= set(seed.related)


def test_ids_titles_and_signatures_are_unique(catalog: Catalog) -> None:
    for attribute in ("id", "title", "signature"):
        values = [getattr(e, attribute).casefold() for e in catalog.entries]
        assert len(values) == len(set(values)), attribute
