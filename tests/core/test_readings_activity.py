"""What the reporter was doing when the limit came: work named as work, a span of a kind of work, a
task handed over, one quoted message (active); nothing run, not a key pressed (idle), and how far
an idle cue reaches. Sentences written for these tests."""

from __future__ import annotations

import pytest

from bot.core.readings import parse_readings


@pytest.mark.parametrize(
    "text",
    [
        "Session limit reached while doing some light work on a side project.",
        "My 5-hour limit ran out after barely an hour of debugging.",
        "I gave it a fairly small task and hit the session limit ten minutes later.",
        'I typed "hello" and the weekly limit was reached.',
        "I have been using Codex a lot today and now the daily limit is reached.",
        "Me quedé sin límite semanal mientras hacía mi trabajo.",
        "Atingi o limite semanal, estive usando o Codex a manhã toda.",
        "Limite hebdomadaire atteinte en faisant mon travail.",
        "週間制限に達しました。実装中に止まりました。",
        "作业写代码时周限额用完了",
        "구현 중에 주간 한도에 도달했습니다",
    ],
)
def test_use_named_in_other_words_is_active(text: str) -> None:
    readings = parse_readings(text).readings
    assert readings and all(r.idle is False for r in readings), readings


@pytest.mark.parametrize(
    "text",
    [
        "The weekly limit says 40% used although nothing ran overnight.",
        "It jumped from 40% to 55% of the weekly limit without performing any further actions.",
        "El límite semanal pasó de 40% a 55% sin pulsar una sola tecla.",
        "O limite semanal foi de 40% para 55% sem apertar nenhuma tecla.",
        "Das Wochenlimit sprang von 40 % auf 55 %, ohne eine Taste zu drücken.",
        "Il limite settimanale è passato dal 40% al 55% senza premere un tasto.",
        "週間制限が40%から55%になった。何も実行していないのに。",
    ],
)
def test_no_use_in_other_words_is_idle(text: str) -> None:
    readings = parse_readings(text).readings
    assert readings and all(r.idle is True for r in readings), readings


def test_no_use_said_beside_one_figure_covers_the_others_of_its_paragraph() -> None:
    text = "The weekly bar shows 30% used with no messages sent since the reset. The session bar shows 0%."
    readings = parse_readings(text).readings
    assert sorted((r.window, r.idle) for r in readings) == [("session", True), ("weekly", True)]


def test_no_use_in_another_paragraph_reaches_no_reading_of_its_own() -> None:
    text = "Session limit hit after 3 prompts.\n\nThe weekly bar shows 30% used with no messages sent since the reset."
    readings = {r.window: r.idle for r in parse_readings(text).readings}
    assert readings["session"] is False
    assert readings["weekly"] is True


def test_no_use_does_not_reach_a_reading_whose_own_sentence_says_what_was_done() -> None:
    text = "The weekly bar shows 30% used with no messages sent. The session bar is at 90% after a few prompts."
    readings = {r.window: r.idle for r in parse_readings(text).readings}
    assert readings == {"weekly": True, "session": False}


def test_use_since_long_ago_is_not_tied_to_the_reading() -> None:
    text = "I've been using Cursor since the start of my billing cycle and the usage bar now shows 100%."
    assert [r.idle for r in parse_readings(text).readings] == [None]
