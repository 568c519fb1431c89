"""German puts the participle at the end of its clause, however far from the limit word it
belongs to. Sentences written for these tests."""

from __future__ import annotations

import pytest

from bot.core.readings import parse_readings


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("Ich habe mein Wochenlimit nach nur zwei Tagen mit ganz normaler Arbeit an einem kleinen Projekt erreicht.",
         "weekly"),
        ("Das Wochenlimit habe ich gestern Abend nach drei Stunden Arbeit komplett aufgebraucht.", "weekly"),
        ("Mein Sitzungslimit ist nach zwanzig Minuten ruhiger Arbeit schon wieder voll.", "session"),
        ("Das Limit für die Woche wurde gestern nach nur wenigen Anfragen erreicht.", "weekly"),
        ("Mein 5-Stunden-Limit hatte ich heute nach einer halben Stunde schon ausgeschöpft, obwohl kaum etwas lief.",
         "session"),
        ("Das Tageslimit ist bei mir heute um die Mittagszeit überschritten worden.", "daily"),
        ("Warum habe ich mein Wochenlimit schon nach zwei Tagen mit kleinen Aufgaben erreicht?", "weekly"),
    ],
)
def test_a_participle_at_the_end_of_the_clause_reaches_its_limit(text: str, window: str) -> None:
    readings = parse_readings(text).readings
    assert [(r.window, r.limit_hit) for r in readings] == [(window, True)]


@pytest.mark.parametrize(
    "text",
    [
        "Ich habe das Wochenlimit in dieser Woche noch nicht erreicht.",
        "Das Wochenlimit wird bei normaler Arbeit kaum je erreicht werden, glaube ich.",
        "Falls das Wochenlimit bei der Arbeit an großen Projekten erreicht ist, hilft nur Warten.",
    ],
)
def test_a_participle_denied_or_supposed_reaches_nothing(text: str) -> None:
    assert not any(r.limit_hit for r in parse_readings(text).readings)
