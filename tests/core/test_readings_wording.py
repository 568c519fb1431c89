"""Wordings that name a window, a limit or a product in a shape the parser missed: a window word
before a generic "session", "session" as the name of a record, running out of requests, a limit
"applied" in Japanese, Chinese and Korean, a product name glued to its plan. Sentences written for
these tests."""

from __future__ import annotations

import pytest

from bot.core.readings import parse_readings


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("My weekly session already shows 4% used.", "weekly"),
        ("The daily session is at 30% before I started.", "daily"),
        ("Mi sesión semanal ya marca 4%.", "weekly"),
        ("The 5-hour session shows 4% used.", "session"),
    ],
)
def test_a_window_word_before_session_names_the_window(text: str, window: str) -> None:
    assert [r.window for r in parse_readings(text).readings] == [window]


@pytest.mark.parametrize(
    "text",
    [
        "Codex usage shows 0% used; the session logs are empty.",
        "Codex 用量显示 0%，会话数据在别的目录",
        "Codex の使用量は 0%、セッションログは空です",
        "Codex 사용량 0%, 세션 로그는 비어 있음",
        "Codex muestra 0% de uso; el historial de la sesión está vacío.",
    ],
)
def test_session_as_the_name_of_a_record_names_no_window(text: str) -> None:
    assert [r.window for r in parse_readings(text).readings] == ["unknown"]


@pytest.mark.parametrize(
    "text",
    [
        "Copilot tells me I am out of premium requests for the month.",
        "Cursor says I'm out of fast requests.",
        "Copilot said I ran out of included requests",
    ],
)
def test_running_out_of_requests_is_the_limit_reached(text: str) -> None:
    readings = parse_readings(text).readings
    assert [r.limit_hit for r in readings] == [True]


@pytest.mark.parametrize(
    "text",
    [
        "Claude Codeで作業中、突然制限がかかって止まった",
        "Claude Codeで週間の上限がかかりました",
        "Claude Codeを使っていたらついに『週間制限』の壁にぶつかった",
        "用Claude Code写代码时被限制了",
        "Claude Code 쓰다가 주간 한도에 걸렸어요",
    ],
)
def test_a_limit_applied_in_other_words_is_reached(text: str) -> None:
    result = parse_readings(text)
    assert result.tool == "Claude Code"
    assert [r.limit_hit for r in result.readings] == [True]


@pytest.mark.parametrize(
    "text",
    [
        "On ClaudeMax and the weekly bar is at 40%.",
        "ClaudeProプランで週間使用量の30%を使った",
        "claudemax user, weekly limit reached",
    ],
)
def test_a_product_name_glued_to_its_plan_is_the_product(text: str) -> None:
    assert parse_readings(text).tool == "Claude Code"


def test_a_name_merely_starting_with_the_product_is_not_it() -> None:
    assert parse_readings("Claudette hit the weekly limit").tool is None


@pytest.mark.parametrize(
    ("text", "window", "percent"),
    [
        ("The page shows 35% overall weekly usage remaining and the session is fine.", "weekly", 65),
        ("Dashboard: 20% total weekly usage so far.", "weekly", 20),
    ],
)
def test_an_adjective_may_stand_between_a_figure_and_its_window(text: str, window: str, percent: float) -> None:
    readings = parse_readings(text).readings
    assert (window, percent) in [(r.window, r.percent) for r in readings]


def test_a_figure_labelled_by_a_model_id_keeps_its_own_bucket() -> None:
    text = "Codex shows 70% weekly usage remaining and 100% gpt-5-codex-mini usage remaining."
    readings = sorted((r.window, r.percent) for r in parse_readings(text).readings)
    assert readings == [("unknown", 0), ("weekly", 30)]


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("Weekly: 12% used. Sonnet only: 3% · Claude Design: 7%", [("unknown", 7), ("weekly", 12), ("weekly-sonnet", 3)]),
        ("Session: 20% | Extra bucket: 5% | Weekly: 40%", [("session", 20), ("unknown", 5), ("weekly", 40)]),
        ("(semanal: 26%, 5 horas: 44%)", [("session", 44), ("weekly", 26)]),
    ],
)
def test_each_label_in_a_row_of_labelled_figures_names_its_own_bucket(text: str, rows: list[tuple[str, float]]) -> None:
    assert sorted((r.window, r.percent) for r in parse_readings(text).readings) == rows


def test_an_unnamed_figure_said_before_the_named_one_is_the_same_reading() -> None:
    text = "The menu bar app says 17%/52%.\n\nCurrent session: 17% used\nCurrent week (all models): 52% used"
    assert sorted((r.window, r.percent) for r in parse_readings(text).readings) == [("session", 17), ("weekly", 52)]


@pytest.mark.parametrize("text", ["我是codexplus用户，周限额用完了", "CodexPro user here, weekly limit reached"])
def test_codex_glued_to_its_plan_is_codex(text: str) -> None:
    assert parse_readings(text).tool == "Codex CLI"


def test_idle_said_with_a_double_negative_is_idle() -> None:
    readings = parse_readings("The weekly limit went from 10% to 30% without do nothing").readings
    assert [r.idle for r in readings] == [True]


@pytest.mark.parametrize(
    "text",
    ["이번 주 사용량이 하루 만에 50%를 넘었어요", "週間使用量が1日で50%を超えた", "周用量一天之内就到了50%", "My weekly usage hit 50% in a day"],
)
def test_within_a_day_is_how_long_it_took_not_the_daily_window(text: str) -> None:
    assert [(r.window, r.percent) for r in parse_readings(text).readings] == [("weekly", 50)]


@pytest.mark.parametrize(
    "text",
    ["週間使用量が30%から60%に増えた。寝ていただけなのに。", "周用量从30%涨到60%，我在睡觉", "주간 사용량이 30%에서 60%로 늘었어요. 자는 동안에요."],
)
def test_asleep_is_idle(text: str) -> None:
    assert [r.idle for r in parse_readings(text).readings] == [True]


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("Could you increase my daily Kiro limit? I use it all the time and I hit the limit every single day.", "daily"),
        ("Can you raise the weekly limit on Max? I keep reaching that limit by Wednesday.", "weekly"),
        ("¿Pueden subir mi límite semanal? Llego al límite cada semana en dos días.", "weekly"),
        ("Pouvez-vous augmenter ma limite hebdomadaire ? J'atteins la limite chaque semaine.", "weekly"),
        ("Potete alzare il mio limite settimanale? Raggiungo il limite ogni settimana.", "weekly"),
        ("Könnt ihr mein Tageslimit erhöhen? Ich erreiche das Limit jeden Tag.", "daily"),
    ],
)
def test_the_limit_points_back_to_the_one_named_before(text: str, window: str) -> None:
    assert [(r.window, r.limit_hit) for r in parse_readings(text).readings] == [(window, True)]


def test_the_limit_named_by_a_figure_is_not_pointed_back_to() -> None:
    readings = parse_readings("My session limit is at 40%. Somehow I hit the limit anyway.").readings
    assert sorted((r.window, r.limit_hit) for r in readings) == [("session", False), ("unknown", True)]


def test_two_windows_named_before_leave_the_limit_unnamed() -> None:
    text = "Raise my daily limit and my weekly limit please. I hit the limit every day on Codex."
    assert [r.window for r in parse_readings(text).readings] == ["unknown"]


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("hit my weekely limt again", ("weekly", True, None)),
        ("sesion limit reached after 2 promts", ("session", True, False)),
        ("my weekly jumped from 10% to 30% in just one propmt", ("weekly", False, False)),
    ],
)
def test_common_misspellings_read_as_the_word(text: str, row: tuple[str, bool, bool | None]) -> None:
    assert [(r.window, r.limit_hit, r.idle) for r in parse_readings(text).readings] == [row]
