"""A reset time said before its reset word, as Japanese, Chinese, Korean and German put it (and the
Romance languages when the time leads the sentence). Sentences written for these tests."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.readings import parse_readings
from bot.core.readings.times import scan_time_expression


@pytest.mark.parametrize(
    ("text", "resets"),
    [
        ("週間制限に達しました。5時にリセットされます。", "5時"),
        ("セッション上限に達しました。午後3時半ごろにリセットされるらしい。", "午後3時半"),
        ("週間制限に達しました。明日の朝9時に回復します。", "朝9時"),
        ("周限额用完了，下午5点重置。", "下午5点"),
        ("额度用光了，明天晚上8点半才会重置", "明天晚上8点半"),
        ("주간 한도에 도달했습니다. 오후 5시에 초기화됩니다.", "오후 5시"),
        ("세션 한도 도달, 내일 오전 9시 30분에 초기화", "내일 오전 9시 30분"),
        ("Wochenlimit erreicht, es wird um 17 Uhr zurückgesetzt.", "17 Uhr"),
        ("Tageslimit erreicht, wird morgen um 9 Uhr wieder freigeschaltet.", "morgen um 9 Uhr"),
        ("Límite semanal alcanzado, el lunes se reinicia.", "lunes"),
        ("Limite semanal atingido, às 17h reseta.", "17h"),
    ],
)
def test_a_time_said_before_its_reset_word_is_the_reset(text: str, resets: str) -> None:
    readings = parse_readings(text).readings
    assert len(readings) == 1
    assert readings[0].limit_hit
    assert readings[0].resets == resets


@pytest.mark.parametrize(
    "text",
    [
        "週間制限に達しました。5時にリセットされた。",  # it already reset
        "周限额用完了，下午5点已经重置了",
        "주간 한도 도달. 오후 5시에 초기화됐는데 또 막힘",
        "Wochenlimit erreicht, obwohl es um 17 Uhr zurückgesetzt wurde.",
        "Wochenlimit erreicht, es wurde um 17 Uhr zurückgesetzt.",
    ],
)
def test_a_reset_that_already_happened_is_not_recorded(text: str) -> None:
    readings = parse_readings(text).readings
    assert [r.resets for r in readings] == [None]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("5時間", "duration"), ("5시간", "duration"), ("5時", "clock"), ("5시", "clock"), ("17 Uhr", "clock")],
)
def test_an_hour_of_the_clock_is_told_from_a_span_of_hours(text: str, kind: str) -> None:
    scanned = scan_time_expression(text + " ", 0)
    assert scanned is not None
    assert scanned[1][0][0] == kind


@pytest.mark.parametrize(
    ("text", "resets"),
    [
        ("Yesterday the app said my weekly limit resets on Nov 3. Today it says my weekly limit resets on Nov 9.",
         "Nov 9"),
        ("This morning the weekly limit reset date was Friday; now the weekly limit resets on Sunday.", "Sunday"),
        ("Ayer decía que el límite semanal se reinicia el 3 de noviembre; hoy dice que se reinicia el 9 de noviembre.",
         "9 de noviembre"),
    ],
)
def test_a_reset_time_replaced_by_a_later_one_is_dropped(text: str, resets: str) -> None:
    readings = parse_readings(text).readings
    assert [(r.window, r.resets) for r in readings] == [("weekly", resets)]


def test_two_windows_keep_their_own_resets() -> None:
    text = "Yesterday the app said the weekly limit resets on Nov 3. Today it says the session limit resets at 5pm."
    readings = sorted((r.window, r.resets) for r in parse_readings(text).readings)
    assert readings == [("session", "5pm"), ("weekly", "Nov 3")]


@pytest.mark.parametrize(
    ("text", "resets"),
    [
        ("El límite semanal se reinicia el 3 de noviembre.", "3 de noviembre"),
        ("Das Wochenlimit wird am 3. November zurückgesetzt.", "3. November"),
        ("周限额11月3日重置", "11月3日"),
        ("La limite hebdomadaire se réinitialise le 3 novembre.", "3 novembre"),
    ],
)
def test_a_limit_said_to_reset_is_a_reading_whichever_side_the_reset_word_stands(text: str, resets: str) -> None:
    readings = parse_readings(text).readings
    assert [(r.window, r.resets) for r in readings] == [("weekly", resets)]


@pytest.mark.parametrize(
    ("text", "resets"),
    [
        ("週間制限に達しました。金曜日にリセットされます", "金曜日"),
        ("周限额用完了，周五重置", "周五"),
        ("주간 한도 도달, 금요일에 초기화", "금요일"),
        ("セッション上限に達しました。3時間後にリセットされます", "3時間後"),
        ("会话限额用完了，2小时后重置", "2小时后"),
        ("세션 한도에 도달했습니다. 3시간 후에 초기화됩니다", "3시간 후"),
    ],
)
def test_weekdays_and_spans_said_in_cjk_scripts_are_reset_times(text: str, resets: str) -> None:
    assert [r.resets for r in parse_readings(text).readings] == [resets]


def test_a_span_followed_by_after_resolves_from_now() -> None:
    now = dt.datetime(2025, 9, 10, 12, 0, tzinfo=dt.UTC)
    readings = parse_readings("セッション上限に達しました。3時間後にリセットされます", now=now).readings
    assert readings[0].resets_at == now + dt.timedelta(hours=3)


def test_the_third_day_is_not_a_span() -> None:
    scanned = scan_time_expression("3日目に", 0)
    assert scanned is None or scanned[1][0][0] != "duration"


@pytest.mark.parametrize(
    ("text", "window", "resets"),
    [
        ("La limite de 5 heures sera réinitialisée à 18 h.", "session", "18 h"),
        ("El límite de 5 horas se reinicia a las 18:00.", "session", "18:00"),
        ("Il limite di 5 ore si azzera alle 18:00.", "session", "18:00"),
    ],
)
def test_a_window_named_by_its_span_is_not_read_as_the_reset_time(text: str, window: str, resets: str) -> None:
    assert [(r.window, r.resets) for r in parse_readings(text).readings] == [(window, resets)]


@pytest.mark.parametrize(
    "text",
    [
        "Claude Codeの週間制限が一晩で40%から70%に増えていた。PCは閉じていた。",
        "Codex 周额度一夜之间从40%涨到70%，电脑是关着的",
        "주간 한도가 하룻밤 사이에 40%에서 70%로 늘었어요. 노트북은 닫아 뒀어요.",
    ],
)
def test_a_closed_computer_is_idle_in_cjk_scripts(text: str) -> None:
    assert [(r.from_percent, r.percent, r.idle) for r in parse_readings(text).readings] == [(40, 70, True)]
