"""An earlier figure said without its window, paired with a later one that names it (or the other
way round), across clauses, sentences and, when both moments are dated, paragraphs. Sentences
written for these tests."""

from __future__ import annotations

import pytest

from bot.core.readings import parse_readings


@pytest.mark.parametrize(
    ("text", "window", "before", "after"),
    [
        ("An hour ago it was at 40%, now my weekly usage is at 75%.", "weekly", 40, 75),
        ("Two hours ago the meter said 20%; the session bar now says 65% used.", "session", 20, 65),
        ("The weekly meter showed 55% when I stopped. I closed the app and the next morning it showed 70%.",
         "weekly", 55, 70),
        ("I had used about 30% of my weekly allowance.\n\nAfter a break I came back and it showed 52%.", "weekly", 30, 52),
        ("1時間前は40%だったのに、今は週間制限が75%になっている", "weekly", 40, 75),
        ("一小时前还是40%，现在周限额已经75%了", "weekly", 40, 75),
        ("한 시간 전에는 40%였는데 지금은 주간 한도가 75%입니다", "weekly", 40, 75),
        ("Hace una hora estaba en 40%, ahora el límite semanal está en 75%.", "weekly", 40, 75),
        ("Vor einer Stunde waren es 40 %, jetzt steht das Wochenlimit bei 75 %.", "weekly", 40, 75),
        ("La limite hebdomadaire affichait 40 %. Le lendemain matin elle affichait 75 %.", "weekly", 40, 75),
    ],
)
def test_an_earlier_figure_pairs_with_the_later_one(text: str, window: str, before: float, after: float) -> None:
    readings = parse_readings(text).readings
    assert [(r.window, r.from_percent, r.percent) for r in readings] == [(window, before, after)]


@pytest.mark.parametrize(
    "text",
    [
        # two windows named, no change between them: two readings, not a jump
        "The session bar shows 40% and the weekly bar shows 75%.",
        # a figure two paragraphs away with no time word on either side stays apart
        "My weekly usage is at 75%.\n\nThe battery was at 40% by then.",
    ],
)
def test_figures_without_a_told_change_stay_apart(text: str) -> None:
    readings = parse_readings(text).readings
    assert all(r.from_percent is None for r in readings)


@pytest.mark.parametrize(
    ("text", "later", "before"),
    [
        ("It says I have 40% of the weekly limit remaining; yesterday I had 70%.", 60, 30),
        ("My weekly usage is 60%. Yesterday it was 35%.", 60, 35),
        ("El uso semanal está en 60%. Ayer estaba en 35%.", 60, 35),
    ],
)
def test_an_undated_figure_set_against_a_past_day_is_the_later(text: str, later: float, before: float) -> None:
    readings = parse_readings(text).readings
    assert [(r.window, r.from_percent, r.percent) for r in readings] == [("weekly", before, later)]


@pytest.mark.parametrize(
    ("text", "percents"),
    [
        ("The widget says I have 62% of my session left, when I actually have 0%.", [38, 100]),
        ("The widget says 62% of my session is left but the app says 10%.", [38, 90]),
        ("El widget dice que me queda 62% de la sesión, pero en realidad 10%.", [38, 90]),
        ("The widget says 62% of my session is used but the app says 10%.", [10, 62]),
    ],
)
def test_a_figure_set_against_another_is_told_in_the_same_terms(text: str, percents: list[float]) -> None:
    readings = parse_readings(text).readings
    assert sorted(r.percent for r in readings if r.percent is not None) == percents
    assert {r.window for r in readings} == {"session"}
