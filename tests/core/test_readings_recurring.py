"""Wordings that recur across reports, taught as word classes in every lexicon language.

Sentences written for these tests, each the shape of a kind of statement reporters make again and
again: use denied in the passive or as work not done ("it has not been used", "I have not done any
development"), which says nothing was running; the tool set to work ("it spawned 12 subagents") or
the reporter at work when the reading came ("I was debugging a test when ...", "during normal
development"), which ties the reading to use. How fast a limit came ("hit the limit in 3 minutes")
is not taken as use: the sets label it as saying nothing of activity. A window or its allowance said
to be full ("my session is full again", "la sessione è piena", "五小时额度已满") is its limit reached.
A list whose first item is said as a share left ("5h 75% remaining, weekly 96%") is told in shares
left throughout, unless a later item says otherwise. A share guessed from a graphic by eye after the
meter's own number ("at 64% but the bar only looks 25% full") is not a second reading. One moment
and the next ("上一秒 3%，下一秒 99%", "originally ... the next moment ...") tell a change, and "多了31%"
(31% more) is an amount, not a level.
"""

from __future__ import annotations

import pytest

from tests.core.readings_rows import Row, rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Codex says my weekly limit is reached although it has not been used at all this week.",
         [("weekly", None, None, True, True)]),
        ("The weekly limit was hit even though I have not done any development today.",
         [("weekly", None, None, True, True)]),
        ("Claude Code hit the session limit within a minute without doing any task.",
         [("session", None, None, True, True)]),
        ("The Opus limit was reached though Opus hasn't been used in days.", [("unknown", None, None, True, True)]),
        ("Claude Code: límite semanal alcanzado y no se ha usado en toda la semana.",
         [("weekly", None, None, True, True)]),
        ("Claude Code : limite hebdomadaire atteinte alors qu'il n'a pas été utilisé.",
         [("weekly", None, None, True, True)]),
        ("Claude Code: limite settimanale raggiunto, ma non è stato usato da giorni.",
         [("weekly", None, None, True, True)]),
        ("Claude Code: Wochenlimit erreicht, ohne eine einzige Aufgabe.", [("weekly", None, None, True, True)]),
        ("Claude Code: limite semanal atingido e não foi usado hoje.", [("weekly", None, None, True, True)]),
        ("Claude Codeの週間制限に達した。使われていないのに。", [("weekly", None, None, True, True)]),
        ("Claude Code 周限额用完了，但是没有被使用。", [("weekly", None, None, True, True)]),
        ("Claude Code 주간 한도 도달. 사용되지 않았는데.", [("weekly", None, None, True, True)]),
    ],
)
def test_use_denied_in_the_passive_or_as_work_not_done_is_idle(text: str, expected: list[Row]) -> None:
    assert rows(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # what was not done is something else than use of the tool
        "Claude Code weekly limit reached. The CLI has not been updated.",
        # a limiter: some use, only less of it
        "Claude Code: weekly limit reached. I have not been using it much.",
    ],
)
def test_other_things_not_done_say_nothing_of_activity(text: str) -> None:
    assert [r[4] for r in rows(text)] == [None]


@pytest.mark.parametrize(
    "text",
    [
        "Claude Code hit the weekly limit after it spawned 12 subagents for a small refactor.",
        "Codex launched several agents in parallel and burned through my session limit.",
        "Claude Code hit the weekly limit during normal development.",
        "I was debugging a flaky test when Claude Code hit the session limit.",
        "Claude Code lanzó 20 agentes y agotó el límite de sesión.",
        "Claude Code hat 20 Agenten gestartet und das Sitzungslimit erreicht.",
        "Claude Codeがエージェントを20個起動して、セッション制限に達した。",
        "Claude Code 启动了20个子代理，5小时额度用完了。",
        "Claude Code가 에이전트를 20개 실행해서 세션 한도 도달.",
        "Estou corrigindo erros e o Claude Code atingiu o limite da sessão.",
        "Stavo lavorando quando Claude Code ha raggiunto il limite di sessione.",
        "J'étais en train de coder quand Claude Code a atteint la limite de session.",
        "Estaba programando y Claude Code alcanzó el límite de sesión.",
    ],
)
def test_the_tool_set_to_work_or_the_reporter_at_work_is_active_use(text: str) -> None:
    assert [(r[0], r[3], r[4]) for r in rows(text)] == [(rows(text)[0][0], True, False)]


@pytest.mark.parametrize(
    "text",
    [
        "I didn't launch any agents and Claude Code hit the session limit.",
        "Claude Code hit the session limit. Try again in 20 minutes.",
        # how fast, not what was done
        "Claude Code reached the session limit in ~10 minutes.",
    ],
)
def test_no_agents_a_reset_or_a_speed_say_nothing_of_activity(text: str) -> None:
    assert [r[4] for r in rows(text)] == [None]


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("Claude Code: my session is full again, I have to wait until 7pm.", "session"),
        ("Claude Code: la sessione è piena, devo aspettare.", "session"),
        ("Mi sesión semanal está llena y Claude no responde.", "weekly"),
        ("Meine Sitzung ist voll, Claude Code geht nicht mehr.", "session"),
        ("Claude Code : ma session est pleine, impossible de continuer.", "session"),
        ("Claude Code: a sessão semanal está cheia.", "weekly"),
        ("Claude Code 的五小时额度已满。", "session"),
        ("Claude Codeの利用枠がいっぱいになった。", "unknown"),
        ("Claude Code 세션 한도가 꽉 찼다.", "session"),
    ],
)
def test_a_window_or_allowance_said_to_be_full_is_its_limit_reached(text: str, window: str) -> None:
    assert [(r[0], r[3]) for r in rows(text)] == [(window, True)]


@pytest.mark.parametrize(
    "text",
    ["Claude Code opens the session fullscreen."],
)
def test_full_before_or_inside_a_window_phrase_is_no_limit(text: str) -> None:
    assert not any(r[3] for r in rows(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Codex: 5h limit 75% remaining, weekly limit 96%.", [("session", None, 25, False, None), ("weekly", None, 4, False, None)]),
        ("Codex 5時間制限残りが75%、週間利用制限が96%の状態で止まった。",
         [("session", None, 25, False, None), ("weekly", None, 4, False, None)]),
        ("Codex usage:\n- 5h: 97% left\n- Weekly: 95%", [("session", None, 3, False, None), ("weekly", None, 5, False, None)]),
        ("Codex: 5h 40% restante, semanal 70%.", [("session", None, 60, False, None), ("weekly", None, 30, False, None)]),
    ],
)
def test_a_list_begun_as_shares_left_goes_on_in_shares_left(text: str, expected: list[Row]) -> None:
    assert rows(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Claude Code: session 20% used, weekly 60%.", [("session", None, 20, False, None), ("weekly", None, 60, False, None)]),
        ("Codex: 5h 40% left and weekly 30% used.", [("session", None, 60, False, None), ("weekly", None, 30, False, None)]),
    ],
)
def test_a_list_begun_as_shares_used_or_with_its_own_cue_is_unchanged(text: str, expected: list[Row]) -> None:
    assert rows(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Claude Code: my weekly usage is at 64% but the bar only looks 25% full.", [("weekly", None, 64, False, None)]),
        ("Claude Code 周限制为 52%，但是进度条看起来超过 70%", [("weekly", None, 52, False, None)]),
        ("Claude Code: session 40%, but the circle appears to be 80% filled.", [("session", None, 40, False, None)]),
        ("Claude Code: semanal al 30%, pero la barra parece al 60%.", [("weekly", None, 30, False, None)]),
        # no number of the meter's own before it: the graphic is all there is to read
        ("Claude Code: my usage bar looks stuck at 90%.", [("unknown", None, 90, False, None)]),
    ],
)
def test_a_share_guessed_from_a_graphic_after_the_meters_number_is_not_read(text: str, expected: list[Row]) -> None:
    assert rows(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Claude Code: weekly usage 10%. The next moment, weekly usage 60%.",
        "Claude Code: Wochennutzung 10%, im nächsten Moment Wochennutzung 60%.",
        "Claude Codeの週間使用量は10%だったが、次の瞬間週間使用量が60%になった。",
        "Claude Code 주간 사용량이 원래 10%였는데 다음 순간 주간 사용량 60%가 됐다.",
        "Claude Code 周额度上一秒是10%，下一秒周额度是60%",
        "Claude Code : usage hebdomadaire à 10%, l'instant d'après usage hebdomadaire à 60%.",
        "Claude Code: uso semanal em 10%, no momento seguinte uso semanal em 60%.",
    ],
)
def test_one_moment_and_the_next_tell_a_change(text: str) -> None:
    assert rows(text) == [("weekly", 10, 60, False, None)]


def test_a_share_said_as_more_than_before_is_an_amount_and_a_used_share_falls_as_used() -> None:
    assert rows("Claude Code 周额度一下子多了30%") == []
    assert rows("Claude Code 周额度从使用80%下降到30%") == [("weekly", 80, 30, False, None)]
    # with no used word the fall is what is left
    assert rows("Claude Code 周额度从80%下降到30%") == [("weekly", 20, 70, False, None)]


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("Copilot muestra que se alcanzó el límite.", "unknown"),
        ("Claude Code: se ha agotado la cuota semanal.", "weekly"),
        ("Codex: se esgotaram os créditos.", "unknown"),
    ],
)
def test_spanish_and_portuguese_reflexive_se_is_no_italian_if(text: str, window: str) -> None:
    assert [(r[0], r[3]) for r in rows(text)] == [(window, True)]


@pytest.mark.parametrize(
    "text", ["Claude Code: se raggiungi il limite settimanale devi aspettare.", "Claude Code: si se alcanza el límite, espera."]
)
def test_a_limit_reached_under_a_condition_is_still_no_reading(text: str) -> None:
    assert rows(text) == []


@pytest.mark.parametrize(
    ("text", "idle"),
    [
        ("Claude Code: weekly limit reached. I used it for 2 days and nothing more.", False),
        ("Claude Code: weekly limit reached, I have not used claude for 2 days.", True),
        # how fast a limit came, in days, says nothing of activity
        ("Claude Code weekly limit got used up in just two days.", None),
    ],
)
def test_a_sitting_of_use_measured_in_days_is_use(text: str, idle: bool | None) -> None:
    assert [r[4] for r in rows(text)] == [idle]


@pytest.mark.parametrize(
    "text",
    [
        "I just typed run and got You've hit your session limit",
        "I made maybe 10 requests and Copilot premium requests are at 100%",
        "after very limited usage my weekly quota is at 80%",
        "Barely used it today and it says 90% of session used",
        "Tras un uso muy limitado la sesión está al 90%",
        "Depois de um uso mínimo o limite semanal chegou a 100%",
        "Après une utilisation très légère, la session est à 95%",
        "Nach sehr geringer Nutzung steht die Sitzung bei 100%",
        "Dopo un uso leggero la sessione è al 100%",
        "プロンプトを2回送っただけでセッションが100%",
        "질문 두 개 했는데 세션 한도 100%",
        "只是问了两个问题，会话额度就用了100%",
    ],
)
def test_a_little_use_said_outright_is_active_use(text: str) -> None:
    got = rows(text)
    assert got and all(row[4] is False for row in got), got


@pytest.mark.parametrize(
    "text",
    [
        "Copilot says request limit reached despite low usage",  # a complaint, not what was done
        "I just asked support and they said the session limit is 5 hours",  # no reading at all
        "The plan includes 300 requests; I made none and it shows 100%",
    ],
)
def test_use_only_complained_of_or_denied_is_not_active_use(text: str) -> None:
    assert all(row[4] is not False for row in rows(text))


def test_full_as_an_adjective_of_something_else_is_no_limit() -> None:
    assert rows("Claude Code shows the session full name in the title.") == []
    assert rows("la sessione di claude è full, non posso usarlo") == [("session", None, None, True, None)]
