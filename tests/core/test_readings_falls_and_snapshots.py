"""Changes told as a fall, two snapshots of the same meters, and the wordings added with them.

Sentences written for these tests, each the shape of something reporters write: a quota that
"dropped" with no reset said is what is left (use only grows inside its window), while the same fall
after a reset is a used share starting over; two rows of the same meters before and after a moment
are one change per window; and the words that name a window or a reset in other ways.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.readings import parse_readings
from tests.core.readings_rows import Row, rows


def resets(text: str) -> list[Any]:
    return [r["resets"] for r in parse_readings(text).as_contract("t")["readings"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a fall with no reset and no used/left word: shares left
        ("My 5-hour quota dropped from 90% to 40% in ten minutes.", [("session", 10, 60, False, None)]),
        ("La cuota semanal bajó de 60% a 10% sin hacer nada.", [("weekly", 40, 90, False, True)]),
        ("Das Wochenlimit ist von 80% auf 20% gefallen.", [("weekly", 20, 80, False, None)]),
        # the same fall said with a reset is a used share starting over
        ("After the reset my weekly dropped from 84% to 2%.", [("weekly", 84, 2, False, None)]),
        # a rise is what was used, whatever the verb
        ("Session went from 20% to 80% after two prompts.", [("session", 20, 80, False, False)]),
        # a used word keeps a fall a used share ("usage counter dropped": a reset bug)
        ("Weekly usage dropped from 60% to 2% mid-cycle with no reset.", [("weekly", 60, 2, False, None)]),
        # left-wording before the change covers both figures
        ("Weekly quota remaining suddenly fell from about 70% to about 7%.", [("weekly", 30, 93, False, None)]),
    ],
)
def test_a_fall_is_read_as_what_is_left_unless_a_reset_or_a_used_word_says_otherwise(
    text: str, expected: list[Row]
) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Before: 5h 30% | wk 50%\nAfter: 5h 75% | wk 58%", [("session", 30, 75, False, None), ("weekly", 50, 58, False, None)]),
        # written latest first: the dated earlier row is the origin
        ("Today: session 90%, weekly 35%. Yesterday: session 40%, weekly 20%.",
         [("session", 40, 90, False, None), ("weekly", 20, 35, False, None)]),
        # three meters, twice
        ("was session 10% weekly 20% opus weekly 5%, now session 60% weekly 25% opus weekly 9%",
         [("session", 10, 60, False, None), ("weekly", 20, 25, False, None), ("weekly-opus", 5, 9, False, None)]),
    ],
)
def test_two_snapshots_of_the_same_meters_are_one_change_per_window(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


def test_one_snapshot_or_the_same_figures_twice_is_no_change() -> None:
    assert rows("session 40%, weekly 20%") == [("session", None, 40, False, None), ("weekly", None, 20, False, None)]
    repeated = rows("Yesterday: session 40%, weekly 20%. Today: session 40%, weekly 20%.")
    assert all(r[1] is None for r in repeated)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status line says 5h:41% wk:77%", [("session", None, 41, False, None), ("weekly", None, 77, False, None)]),
        ("Sonnet's own weekly limit is at 18%.", [("weekly-sonnet", None, 18, False, None)]),
        ("Used 97% of this weeks quota already.", [("weekly", None, 97, False, None)]),
        ("The dialog says: Your monthly limit has expired.", [("monthly", None, None, True, None)]),
        ("I blew through my entire premium requests budget in an hour.", [("unknown", None, None, True, None)]),
    ],
)
def test_window_and_limit_wordings(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "idle"),
    [
        # what kind of use, not whether: no idle cue
        ("I'm not using the VS Code one, only the CLI. I hit the weekly limit.", None),
        ("I'm not using any MCP servers and I hit the weekly limit.", None),
        ("I'm not using it at all and I hit the weekly limit.", True),
        # "other" sessions: this one was running
        ("I hit the session limit again; no other sessions were running.", None),
        ("I hit the session limit again; no sessions were running.", True),
        ("Session limit hit without any action on my part.", True),
        ("Weekly limit hit as soon as I opened the session.", True),
        ("Límite semanal alcanzado apenas abro la sesión.", True),
    ],
)
def test_idle_cues_about_what_was_used_are_not_idle(text: str, idle: bool | None) -> None:
    got = rows(text)
    assert got and {r[4] for r in got} == {idle}


@pytest.mark.parametrize(
    ("text", "reset"),
    [
        ("Hit my session limit, now I have to wait until 7pm.", "7pm"),
        ("Ho raggiunto il limite della sessione e ora devo aspettare le 19:20.", "19:20"),
        ("Llegué al límite semanal y tengo que esperar hasta el lunes.", "lunes"),
    ],
)
def test_waiting_until_a_time_is_its_reset(text: str, reset: str) -> None:
    assert [r.lower() for r in resets(text) if r] == [reset.lower()]


def test_japanese_left_word_with_particle_and_limit_arriving() -> None:
    assert rows("5時間制限残りが60%です") == [("session", None, 40, False, None)]
    assert rows("週次の上限がきた") == [("weekly", None, None, True, None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a used share cannot fall to nothing without a reset: reaching 0% is the allowance emptied
        ("I realised my weekly quota had reached 0%.", [("weekly", None, 100, True, None)]),
        ("The 5h meter is down to 0% already.", [("session", None, 100, True, None)]),
        # a 0% merely read, or reached after a reset, is nothing used
        ("Session reset and is at 0% again.", [("session", None, 0, False, None)]),
        ("My weekly is at 40%, it reached 40% yesterday.", [("weekly", None, 40, False, None)]),
    ],
)
def test_reaching_zero_is_the_allowance_emptied(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "idle"),
    [
        ("I hit the session limit within 10-15 mins of starting.", False),
        ("Weekly limit reached while I was doing basic tasks.", False),
        ("I entered a prompt and hit the weekly limit at once.", False),
        ("My usage was exhausted this morning.", None),
    ],
)
def test_activity_wordings(text: str, idle: bool | None) -> None:
    got = rows(text)
    assert got and {r[4] for r in got} == {idle}
    assert all(r[3] for r in got)  # each says the limit was reached


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "my quota" points back to the one window the paragraph named for it
        ("My daily quota never came back this morning. I used up my quota last night.", [("daily", None, None, True, None)]),
        ("Mi límite semanal no se reinició. Otra vez agoté mi límite.", [("weekly", None, None, True, None)]),
        # two windows named before: which one is meant is not said
        ("Codex: my daily quota and my monthly quota both look odd. I used up my quota.", [("unknown", None, None, True, None)]),
    ],
)
def test_a_possessive_limit_points_back_to_the_window_named_for_it(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


def test_a_figure_named_again_is_not_a_second_reading() -> None:
    assert rows("Remaining reqs.: 0%\n\nthat 0% tells me nothing") == [("unknown", None, 100, True, None)]
    # a different figure after "that" is still read
    assert len(rows("session 20% at noon, weekly 40%, and that 35% on the other meter")) == 3


def test_dated_moments_outweigh_was_as_the_origin_marker() -> None:
    text = "I hit 100% of the session limit the night before. This morning the session limit was at 69%."
    assert rows(text) == [("session", 100, 69, False, None)]
    assert rows("weekly jumped to 60%, was 20%") == [("weekly", 20, 60, False, None)]


@pytest.mark.parametrize(
    ("text", "reset"),
    [
        ("Codex: 周限额已用完，下周一重置", "下周一"),
        ("週間制限に達しました。来週月曜にリセット", "来週月曜"),
        ("주간 한도 도달, 다음 주 월요일에 초기화", "다음 주 월요일"),
        ("hit my weekly limit, resets next Monday 9am", "next Monday 9am"),
    ],
)
def test_next_weekday_is_kept_whole_in_every_language(text: str, reset: str) -> None:
    assert resets(text) == [reset]


def test_next_weekday_resolves_to_that_weekday() -> None:
    import datetime as dt

    from bot.core.readings.times import resolve_reset

    wednesday = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    assert resolve_reset("next Monday 9am (UTC)", wednesday) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # bare numbers with an arrow, right after a window word: a change of percentages
        ("weekly went 12 -> 58 overnight with claude closed", [("weekly", 12, 58, False, True)]),
        ("session: 20 → 85 after one prompt", [("session", 20, 85, False, False)]),
        # a version bump is no change of a share, and counts of tokens are no percentages
        ("upgraded to 2.0.50 -> 2.0.51 and my weekly is at 40%", [("weekly", None, 40, False, None)]),
        # the tool closed, in several languages
        ("Das Wochenlimit ist von 30 % auf 60 % gestiegen, der Laptop war zugeklappt", [("weekly", 30, 60, False, True)]),
        ("limite settimanale dal 30% al 60% con il portatile spento", [("weekly", 30, 60, False, True)]),
        ("límite semanal del 30% al 60% con el portátil cerrado", [("weekly", 30, 60, False, True)]),
    ],
)
def test_bare_arrow_changes_and_a_closed_tool(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


def test_token_counts_with_an_arrow_are_not_percentages() -> None:
    assert rows("tokens 500 -> 900 in the session") == []
    assert rows("my limit went 80 -> 120 requests a day") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I hit the weekly limit for Fable after two days", [("weekly-fable", None, None, True, None)]),
        ("weekly cap on opus reached", [("weekly-opus", None, None, True, None)]),
        ("Cursor says 0 fast requests left", [("unknown", None, None, True, None)]),
        ("got throttled by codex again", [("unknown", None, None, True, None)]),
        ("cursor 免费次数用完了", [("unknown", None, None, True, None)]),
        ("claude code 5小时限额用完了，下午3点重置", [("session", None, None, True, None)]),
        # an allowance still there is no limit reached
        ("Cursor says 10 fast requests left", []),
    ],
)
def test_more_ways_to_say_a_limit_was_reached(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Codex won't let me send anything, says my limit resets in 2 days", [("unknown", None, None, True, None)]),
        ("can't use claude code until friday, weekly limit", [("weekly", None, None, True, None)]),
        ("I'm capped until Monday on Claude", [("unknown", None, None, True, None)]),
        ("Anthropic cut me off after an hour of sonnet", [("unknown", None, None, True, False)]),
        # shut out by something else than a limit
        ("I can't use claude code until I fix my proxy", []),
    ],
)
def test_shut_out_until_a_time_is_a_limit_reached(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a later look that skips a meter still pairs the meters it shows
        (
            "First check: Weekly · Fable = 39%, Weekly · All models = 39%, Current session = 43%.\n"
            "After a few more messages: Weekly · Fable = 40%, Current session = 48%.",
            [("weekly-fable", 39, 40, False, False), ("weekly", None, 39, False, None), ("session", 43, 48, False, False)],
        ),
        # two tool cards, each under a heading of its own
        (
            "Before reset:\n\n5h limit: [████] 99% left (resets 22:54)\nWeekly limit: [███] 83% left (resets 09:33)\n\n"
            "After reset:\n\n5h limit: [████] 100% left (resets 23:11)\nWeekly limit: [█] 36% left (resets 10:10)",
            [("session", 1, 0, False, None), ("weekly", 17, 64, False, None)],
        ),
        # a heading that says its rows are what is left
        ("panel (remaining):\n- 5-hour limit: 38%\n- Weekly all models: 31%", [("session", None, 62, False, None), ("weekly", None, 69, False, None)]),
        # a share held in reserve is another figure
        ("Session: 83% left, 47% in reserve", [("session", None, 17, False, None)]),
        # the usage fields quoted on one line, outside JSON
        ("- primary allowance: usedPercent = 12, windowDurationMins = 10080", [("weekly", None, 12, False, None)]),
        # model and weekly word written together, and a model row labelled "(Weekly)"
        ("我的fable週用量是69%", [("weekly-fable", None, 69, False, None)]),
        ("Fable (Weekly): 60% remaining", [("weekly-fable", None, 40, False, None)]),
    ],
)
def test_tool_panels_and_cards(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Unavailable due to usage limits, says Cursor.", [("unknown", None, None, True, None)]),
        ("i can not use opencode, 五小时额度一直是0", [("session", None, None, True, None)]),
        ("After using Kiro for just two hours: daily usage limit reached.", [("daily", None, None, True, False)]),
        ("Less than 2 hours usage and Kiro says daily usage limit reached.", [("daily", None, None, True, False)]),
        # shares of people, asked-for behaviour and what should be: no reading
        ("Anthropic에 따르면 이 제한은 구독자의 5% 미만에 영향을 미칩니다. Claude Code", []),
        ("能不能给codex加个功能？能不能在额度剩5%的时候停止调用", []),
        ("codex的周额度如果已经是0，那5小时额度就应该也是0啊", []),
    ],
)
def test_more_limit_wordings_and_what_is_no_reading(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I used up the prompt quota for the Pro model and it still says my quota is exhausted.", [("unknown", None, None, True, None)]),
        ("It only shows 100% tokens used of my daily limit.", [("daily", None, 100, True, None)]),
        # another service's quota, with nothing of an AI tool around it
        ("our API key quota is exhausted on the maps service", []),
    ],
)
def test_prompt_quotas_and_token_shares(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the last resort: an allowance and a word of it spent, in either order, about an AI tool
        ('Kiro support wrote: "the 65 requests for vibe, they were all used up within half an hour"', [("unknown", None, None, True, None)]),
        ("I can't use opencode go because the monthly usage was not reset.", [("monthly", None, None, True, None)]),
        ("Codex: la sessione è di nuovo full, che bug", [("session", None, None, True, None)]),
        # questions, conditions, negations and texts with no AI tool stay empty
        ("Kiro: are the requests used up when a call fails?", []),
        ("Kiro: if the requests are used up, does it stop?", []),
        ("The printer toner is all used up, I can't use it until Monday.", []),
        ("Cursor works fine, the requests are not used up.", []),
    ],
)
def test_last_resort_reads_an_allowance_spent_in_any_order(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Claude Code: no more messages until 5pm", [("unknown", None, None, True, None)]),
        ("codex says I'm out of messages", [("unknown", None, None, True, None)]),
        ("I'm already at my weekly limit with Claude", [("weekly", None, None, True, None)]),
        ("exceeded my allotment on Cursor", [("unknown", None, None, True, None)]),
        # being at one's limit is also a mood
        ("I'm at my limit with this bug, Claude", []),
        ("I'm at the limit of what I can do with this code, Claude", []),
    ],
)
def test_out_of_messages_and_at_a_named_limit(text: str, expected: list[Row]) -> None:
    assert rows(text) == sorted(expected)


def test_waiting_a_span_is_the_reset_of_the_notice() -> None:
    assert resets("Claude Code: You are out of prompts, please wait 2 hours") == ["2 hours"]
