"""The lexicon's optional and alternative phrase syntax: one line for every way of saying a phrase."""

from __future__ import annotations

import re

import pytest

from bot.core.readings import parse_readings
from bot.core.readings.lexicon import MAX_VARIANTS, alternation, expand_phrase, load_lexicon


def test_alternatives_give_one_phrase_per_choice() -> None:
    assert sorted(expand_phrase("(ran|run) out of credits")) == ["ran out of credits", "run out of credits"]


def test_an_optional_group_may_be_left_out_without_leaving_a_double_space() -> None:
    assert sorted(expand_phrase("sin (el|mi)? límite")) == ["sin el límite", "sin límite", "sin mi límite"]


def test_groups_combine_inside_a_word_and_keep_the_stem_mark() -> None:
    assert sorted(expand_phrase("agot(ó|o) (la)? cuota")) == ["agoto cuota", "agoto la cuota", "agotó cuota", "agotó la cuota"]
    assert sorted(expand_phrase("Woche(n)?*")) == ["Woche*", "Wochen*"]


@pytest.mark.parametrize("bad", ["a (b", "a b)", "a | b", "a ((b) c)", "(a)) b"])
def test_malformed_groups_are_refused_when_the_lexicon_loads(bad: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        expand_phrase(bad)
    with pytest.raises(ValueError):
        load_lexicon([("xx", f"hit:\n  phrases: [{bad!r}]\n")])


def test_a_line_standing_for_too_many_phrases_is_refused() -> None:
    groups = " ".join(["(a|b|c|d)"] * 5)  # 4**5 = 1024 phrases
    assert MAX_VARIANTS < 4**5
    with pytest.raises(ValueError, match="variants"):
        expand_phrase(groups)


def test_the_compiled_alternation_matches_every_variant_and_nothing_else() -> None:
    lexicon = load_lexicon([("xx", "hit:\n  phrases: [(fiquei|ficamos) sem (a|minha)? cota]\n")])
    pattern = re.compile(alternation(lexicon.words("hit.phrases")), re.IGNORECASE)
    for said in ("fiquei sem cota", "Ficamos sem a cota", "fiquei  sem minha cota"):
        assert pattern.search(said), said
    assert not pattern.search("fiquei sem sua cota")


# Sentences in the languages whose lexicon now says its optional words once.
@pytest.mark.parametrize(
    ("text", "window", "idle"),
    [
        ("Me quedé sin mi límite semanal a las dos horas de empezar.", "weekly", None),
        ("Nos quedamos sin cuota semanal otra vez.", "weekly", None),
        ("Se me agoto el limite semanal sin yo tocar nada.", "weekly", True),
        ("Estou sem minha cota semanal de novo.", "weekly", None),
        ("Fiquei sem o limite semanal sem eu usar nada.", "weekly", True),
        ("Je suis tombée sur ma limite hebdomadaire.", "weekly", None),
        ("Sono rimasta senza quota settimanale senza nemmeno aprirlo.", "weekly", True),
        ("Wochenlimit erreicht, ohne ihn auch nur zu öffnen.", "weekly", True),
    ],
)
def test_optional_words_read_in_every_language(text: str, window: str, idle: bool | None) -> None:
    readings = parse_readings(text).readings
    assert [(r.window, r.limit_hit, r.idle) for r in readings] == [(window, True, idle)]
