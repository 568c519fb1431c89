"""Gap clusters: unmatched error pastes grouped by template, measured on the wave-2 development pastes."""

from __future__ import annotations

import datetime as dt

from bot.core.catalog import Catalog
from bot.core.evaluation import read_jsonl
from bot.core.gap_evaluation import as_unmatched, evaluate_grouping, retellings
from bot.core.gaps import WILDCARD, find_cluster, message_lines, mine_gaps
from bot.core.models import Origin, UnmatchedPaste
from tests.conftest import EVAL_DIR

MIN_GROUPED = 0.8


def _wave2(catalog: Catalog) -> list[tuple[str, str]]:
    """Development pastes of the errors the catalog of their wave did not know."""
    rows = [r for r in read_jsonl(EVAL_DIR / "pastes-dev.jsonl") if r.get("wave") == 2]
    assert len(rows) >= 40
    return [(r["text"], r["expect"]) for r in rows]


def _background(catalog: Catalog, unknown: set[str]) -> list[str]:
    """The catalog as it was before those errors had entries: one text per known error."""
    return ["\n".join((e.signature, *e.variants, *e.examples)) for e in catalog.entries if e.id not in unknown]


def test_wave2_dev_pastes_group_by_error_without_mixing(catalog: Catalog) -> None:
    labelled = _wave2(catalog)
    report = evaluate_grouping(labelled, _background(catalog, {label for _, label in labelled}))
    print("\n".join(report.lines()))
    assert report.mixed == []
    assert report.worst >= MIN_GROUPED, report.under


def test_many_people_pasting_the_same_wave2_errors_form_one_cluster_each(catalog: Catalog) -> None:
    labelled = _wave2(catalog)
    retold = [(copy, label) for index, (text, label) in enumerate(labelled)
              for copy in (text, *retellings(text, 4, seed=index))]
    report = evaluate_grouping(retold, _background(catalog, {label for _, label in labelled}))
    print("\n".join(report.lines()))
    assert report.mixed == []
    assert report.worst >= MIN_GROUPED, report.under
    assert report.clusters <= report.errors * 1.2


def _paste(text: str, user: str, minutes: int, reason: str = "unmatched") -> UnmatchedPaste:
    at = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
    return UnmatchedPaste(Origin("slack", "T1", "C1", user), at, text, "some-entry", 40.0, reason)


def test_a_cluster_has_template_count_people_tool_times_and_samples() -> None:
    pastes = [
        _paste("corpctl 4.2.1 on my laptop:\nERROR gateway rejected token tk_8812aa91f (policy P-17): re-login with "
               "corpctl auth", "U1", 0),
        _paste("ERROR gateway rejected token tk_0000bb12c (policy P-3): re-login with corpctl auth", "U2", 5),
        _paste("help pls\n\nERROR gateway rejected token tk_9a9a9a9a1 (policy P-17): re-login with corpctl auth",
               "U1", 9, reason="wrong_error"),
        _paste("codex says: stream disconnected before completion: error sending request for url", "U3", 3),
    ]
    clusters = mine_gaps(pastes)
    assert [c.count for c in clusters] == [3, 1]
    top = clusters[0]
    assert top.people == 2
    assert top.wrong_error == 1
    assert top.first_seen == pastes[0].seen_at and top.last_seen == pastes[2].seen_at
    assert "gateway rejected token" in top.template and WILDCARD in top.template
    assert "tk_" not in top.template  # the volatile token is a wildcard
    assert top.samples[0] == pastes[2].paste  # newest first
    assert set(top.as_json()) == {"id", "template", "count", "people", "tool", "first_seen", "last_seen", "samples"}
    assert clusters[1].tool == "Codex CLI"
    assert top.id != clusters[1].id


def test_clusters_are_found_by_id_prefix_or_rank() -> None:
    clusters = mine_gaps(as_unmatched(["fatal: widget exploded at step 3", "panic: gizmo melted, code 12",
                                       "fatal: widget exploded at step 9"]))
    assert find_cluster(clusters, "1") is clusters[0]
    assert find_cluster(clusters, clusters[1].id) is clusters[1]
    assert find_cluster(clusters, clusters[1].id[:5]) in (clusters[1], None)
    assert find_cluster(clusters, "99") is None
    assert find_cluster(clusters, "nope") is None


def test_environment_lines_do_not_make_two_errors_one() -> None:
    trailer = "\n\nExtension version: 0.27.3\nVS Code version: Code 1.100.2 (Universal)\nOS version: Darwin arm64 23.6.0"
    clusters = mine_gaps(as_unmatched([
        "Sorry, the widget service said no." + trailer,
        "Quota exhausted for the gadget pool, try later." + trailer,
    ]))
    assert len(clusters) == 2
    assert "Extension version" not in message_lines("Sorry, no." + trailer)[-1]


def test_wrapped_json_message_lines_are_joined() -> None:
    lines = message_lines('API Error: 400 {"type":"error","message":"This \n    widget cannot be used here."}')
    assert len(lines) == 1 and "This widget cannot be used here" in lines[0]


def test_hostile_pastes_give_bounded_clusters() -> None:
    huge = "x" * 2_000_000
    lines = "\n".join(f"error {i} " * 50 for i in range(50_000))
    clusters = mine_gaps(as_unmatched([huge, lines, "", "   ", "\x00\x1b[31m"]))
    assert sum(c.count for c in clusters) == 5
    assert all(len(c.template) <= 2_000 and all(len(s) <= 600 for s in c.samples) for c in clusters)
