"""The lexicon's vocabulary per language, on sentences written for these tests.

Each case says one thing a reporter would write in that language (a limit reached in other words, a
misspelled verb, an idle or retry phrase, what is left, a warning said after the limit) and the
readings it must give; the negatives talk about limits and report nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from bot.core.readings import parse_readings

NOW = dt.datetime(2025, 9, 10, 12, 0, tzinfo=dt.UTC)

# (window, percent, from_percent, limit_hit, idle); resets are checked apart, where a case is about them
Row = tuple[str, float | None, float | None, bool, bool | None]

CASES: list[tuple[str, str, list[Row]]] = [
    # Spanish
    ("es-ran-out", "Se me acabó la cuota de la sesión de 5 horas y ni siquiera lo estaba usando.",
     [("session", None, None, True, True)]),
    ("es-misspelled", "Alcanzé el limite semanal otra vez.", [("weekly", None, None, True, None)]),
    ("es-bumped", "Me topé con el límite de uso semanal sin haber abierto Claude en todo el día.",
     [("weekly", None, None, True, True)]),
    ("es-left", "Me sobra un 30% del límite semanal.", [("weekly", 70, None, False, None)]),
    ("es-credits", "Me quedé sin créditos a mitad de la tarea con Codex.", [("unknown", None, None, True, False)]),
    ("es-window-as-allowance", "Agoté el semanal en dos días.", [("weekly", None, None, True, None)]),
    # Portuguese
    ("pt-window-as-allowance", "Estourei o semanal em dois dias.", [("weekly", None, None, True, None)]),
    ("pt-ran-out", "Acabou minha cota semanal e eu nem usei hoje.", [("weekly", None, None, True, True)]),
    ("pt-misspelled", "Atingí o limite semanal de novo.", [("weekly", None, None, True, None)]),
    ("pt-left", "Ainda sobram 30% do limite semanal.", [("weekly", 70, None, False, None)]),
    ("pt-credits", "Fiquei sem créditos no meio da tarefa.", [("unknown", None, None, True, False)]),
    # French
    ("fr-misspelled", "J'ai atteins la limite hebdomadaire encore une fois.", [("weekly", None, None, True, None)]),
    ("fr-fell-on", "Je suis tombé sur la limite quotidienne, réessayez dans 3 heures.",
     [("daily", None, None, True, None)]),
    ("fr-idle", "Limite hebdomadaire atteinte alors que je n'ai rien fait depuis hier.",
     [("weekly", None, None, True, True)]),
    ("fr-almost", "Limite d'utilisation hebdomadaire presque atteinte.", [("weekly", None, None, False, None)]),
    # German
    ("de-bumped", "Ich bin ans Wochenlimit gestoßen.", [("weekly", None, None, True, None)]),
    ("de-ran-into", "Ich bin ins Tageslimit gelaufen, versuche es in 3 Stunden erneut.",
     [("daily", None, None, True, None)]),
    ("de-idle", "Wochenlimit erreicht, obwohl ich seit gestern nichts gemacht habe.",
     [("weekly", None, None, True, True)]),
    ("de-no-more", "Keine Credits mehr mitten in der Aufgabe.", [("unknown", None, None, True, False)]),
    ("de-almost", "Wöchentliches Nutzungslimit fast erreicht.", [("weekly", None, None, False, None)]),
    # "verbraucht" alone is a share used; the limit is reached when it "is" used up
    ("de-share-used", "Ich habe schon 80 Prozent des Wochenlimits verbraucht.", [("weekly", 80, None, False, None)]),
    ("de-is-used-up", "Mein Wochenlimit ist komplett verbraucht.", [("weekly", None, None, True, None)]),
    # a share of the limit said used up is a figure, not the limit reached
    ("it-share-consumed", "Il 40% del limite settimanale è già consumato.", [("weekly", 40, None, False, None)]),
    ("es-share-spent", "Tengo el 80% del límite semanal agotado.", [("weekly", 80, None, False, None)]),
    ("en-share-used-up", "80% of my 5-hour limit used up already", [("session", 80, None, False, None)]),
    ("en-whole-share-used-up", "100% of the weekly limit used up", [("weekly", 100, None, True, None)]),
    # Italian
    ("it-overran", "Ho sforato il limite settimanale.", [("weekly", None, None, True, None)]),
    ("it-bumped", "Ho sbattuto contro il limite giornaliero, riprova tra 3 ore.", [("daily", None, None, True, None)]),
    ("it-idle", "Limite settimanale raggiunto anche se non ho fatto niente da ieri.",
     [("weekly", None, None, True, True)]),
    ("it-left", "Mi avanza il 30% del limite settimanale.", [("weekly", 70, None, False, None)]),
    ("it-almost", "Limite di utilizzo settimanale quasi raggiunto.", [("weekly", None, None, False, None)]),
    ("it-window-as-allowance", "Ho esaurito il settimanale in due giorni.", [("weekly", None, None, True, None)]),
    # Japanese
    ("ja-quota-used-up", "今月のクォータを使い切りました。", [("monthly", None, None, True, None)]),
    ("ja-slang-came", "Claude Codeで週間制限きた。", [("weekly", None, None, True, None)]),
    ("ja-left", "週間制限はあと30%残っています。", [("weekly", 70, None, False, None)]),
    ("ja-few-prompts", "プロンプト2回だけで5時間枠が40%になった。", [("session", 40, None, False, False)]),
    # Chinese, simplified and traditional
    ("zh-bumped", "撞到周限额了。", [("weekly", None, None, True, None)]),
    ("zh-exhausted", "这个月的配额已经耗尽。", [("monthly", None, None, True, None)]),
    ("zh-traditional", "週額度用完了，我什麼都沒做。", [("weekly", None, None, True, True)]),
    ("zh-left", "周额度只剩10%了。", [("weekly", 90, None, False, None)]),
    ("zh-few-messages", "只发了两条消息，5小时额度就用了40%。", [("session", 40, None, False, False)]),
    ("zh-no-quota-left", "codex又没额度了，才用了一个小时。", [("unknown", None, None, True, False)]),
    ("zh-numerals", "周限额已经用了百分之八十五。", [("weekly", 85, None, False, None)]),
    ("zh-numerals-change", "周限额从百分之二十涨到百分之六十", [("weekly", 60, 20, False, None)]),
    # Korean
    ("ko-all-done", "주간 한도 다 됐어요.", [("weekly", None, None, True, None)]),
    ("ko-used-up", "이번 달 한도를 다 써버렸어요.", [("monthly", None, None, True, None)]),
    ("ko-left", "주간 한도가 30% 남아 있습니다.", [("weekly", 70, None, False, None)]),
    # idle while the figure rose, and in use when the limit came
    ("it-idle-while", "Il settimanale è passato dal 30% al 50% mentre non lo usavo.", [("weekly", 50, 30, False, True)]),
    ("zh-idle-while", "我没在用的时候周用量从30%涨到50%。", [("weekly", 50, 30, False, True)]),
    ("ko-idle-while", "사용하지 않는 동안 주간 사용량이 30%에서 50%로 올랐어요.", [("weekly", 50, 30, False, True)]),
    ("fr-mid-task", "J'ai atteint la limite hebdomadaire en plein milieu d'une tâche.", [("weekly", None, None, True, False)]),
    ("de-mid-task", "Wochenlimit erreicht, mitten in einer Aufgabe.", [("weekly", None, None, True, False)]),
    ("ja-mid-task", "作業の途中で週間制限に達しました。", [("weekly", None, None, True, False)]),
    ("en-mid-task", "Hit the weekly limit mid-task.", [("weekly", None, None, True, False)]),
    # earlier and now, said in each language's words
    ("de-earlier-now", "Vorhin lag das Wochenlimit bei 20%, inzwischen bei 60%.", [("weekly", 60, 20, False, None)]),
    ("fr-earlier-now", "Il y a une heure l'hebdo était à 20%, maintenant il est à 60%.", [("weekly", 60, 20, False, None)]),
    ("ko-earlier-now", "아까는 주간 20%였는데 지금은 60%예요.", [("weekly", 60, 20, False, None)]),
    # English terms inside other languages, as people mix them
    ("es-mixed", "Me llegó el rate limit semanal y no entiendo por qué.", [("weekly", None, None, True, None)]),
    ("fr-mixed", "J'ai pris le rate limit de la semaine après deux jours.", [("weekly", None, None, True, None)]),
    ("de-mixed", "Hab das Session-Limit nach 20 Minuten gerissen.", [("session", None, None, True, False)]),
    ("ja-mixed", "ウィークリーリミットに到達しました。", [("weekly", None, None, True, None)]),
    ("zh-mixed", "周limit已经到80%了。", [("weekly", 80, None, False, None)]),
    ("zh-this-week-is-time", "这周5小时额度用完了三次。", [("session", None, None, True, None)]),
    ("ko-filled", "세션 한도 다 차버렸네요.", [("session", None, None, True, None)]),
    # English
    ("en-slammed", "Slammed into the weekly cap again on Max, nothing else was open.",
     [("weekly", None, None, True, None)]),
    ("en-misspelled", "weekly limit exeeded after two days", [("weekly", None, None, True, None)]),
    ("en-idle", "Hit the weekly cap overnight while I slept, resets in 3 days.", [("weekly", None, None, True, True)]),
    # a window said as the allowance itself
    ("en-maxed-window", "Maxed my weekly in 2 days.", [("weekly", None, None, True, None)]),
    ("en-capped-window", "I'm capped on the 5 hour window again.", [("session", None, None, True, None)]),
    ("en-blew-whole", "Blew my whole weekly allowance on one refactor.", [("weekly", None, None, True, None)]),
    ("en-nuked", "My weekly quota got nuked overnight.", [("weekly", None, None, True, None)]),
    ("en-kicked-in", "the weekly limit kicked in after two days", [("weekly", None, None, True, None)]),
    # The earlier value said second, after the word that marks it as where the change started
    # "up to" after a change word is the level reached, not a ceiling
    ("en-went-up-to", "The session meter went up to 90% with nothing running.", [("session", 90, None, False, True)]),
    ("en-now-up-to", "My weekly usage is now up to 85% after two prompts.", [("weekly", 85, None, False, False)]),
    ("en-origin-second", "My weekly usage jumped to 60% from 20% overnight.", [("weekly", 60, 20, False, None)]),
    ("en-origin-aside", "Weekly meter is at 60% (before: 20%).", [("weekly", 60, 20, False, None)]),
    ("en-origin-first", "Weekly went from 20% to 60% in an hour.", [("weekly", 60, 20, False, None)]),
    ("es-origin-second", "El uso semanal subió a 90% desde 40% en una hora.", [("weekly", 90, 40, False, None)]),
    ("de-origin-second", "Das Wochenlimit ist auf 80% gestiegen, vorher 30%.", [("weekly", 80, 30, False, None)]),
    ("it-origin-second", "Il limite settimanale è salito al 70%, prima era al 10%.", [("weekly", 70, 10, False, None)]),
]

NEGATIVES: list[tuple[str, str]] = [
    ("en-ceiling", "The new plan gives up to 50% more weekly usage than before."),
    ("es-conditional", "Si te quedas sin créditos, puedes comprar más en la configuración."),
    ("es-question", "¿Alguien sabe cuál es el cupo semanal del plan Pro? Quiero saber antes de comprar."),
    ("pt-conditional", "Se você ficar sem créditos, dá pra comprar mais."),
    ("fr-never", "Je ne suis jamais tombé sur la limite avec Codex."),
    ("de-never", "Ich bin noch nie ans Wochenlimit gestoßen."),
    ("it-never", "Non ho mai sforato il limite settimanale."),
    ("ja-never", "まだ一度も上限に到達したことはありません。"),
    ("zh-never", "我从来没有撞到过周限额。"),
    ("ko-never", "아직 한 번도 주간 한도에 도달한 적이 없어요."),
    ("en-conditional", "Does anyone know what happens when you hit the weekly limit? Asking before I buy."),
    ("en-if", "If you run out of credits, Codex asks you to top up."),
    ("en-window-goal", "I hit my weekly goal of shipping three features."),
    ("en-window-never", "I never maxed my weekly on Pro."),
    ("es-window-not-a-window", "La sesión de trabajo fue larga y agoté el café."),
    # everyday verbs of the new vocabulary, with a limit word nearby that they are not about
    ("es-ran-out-of-something-else", "Me quedé sin internet, ¿alguien sabe el límite semanal?"),
    ("pt-ran-out-of-something-else", "Fiquei sem internet ontem, alguém sabe o limite semanal?"),
    ("pt-chat", "Bati um papo com o suporte sobre o limite semanal, sem resposta."),
    ("fr-fell-on-a-bug", "Je suis tombé sur un bug en lisant la doc sur la limite."),
    ("it-finished-work", "Ho finito il lavoro, il limite di velocità della strada era 50."),
    ("it-arrived-at-work", "Sono arrivato al lavoro tardi, il limite settimanale di Pro qual è?"),
    ("ja-took-time", "制限について調べるのに時間がかかった。"),
    ("zh-met-a-problem", "碰到一个问题，想问一下周限额是多少？"),
    ("zh-unrelated-error", "今天撞到了一个奇怪的错误，跟限额无关。"),
    ("zh-asking", "这周额度够用吗？想先问问。"),
]

# (text, the one figure it gives): the verb before the comma is about something else
OTHER_CLAUSE: list[tuple[str, str, float]] = [
    ("pt-burned-rice", "Queimei o arroz ontem, o limite semanal está em 30%.", 30),
    ("es-ran-into-a-bug", "Me topé con un bug raro, el límite semanal está en 30%.", 30),
    ("it-out-of-coffee", "Sono rimasto senza caffè, il limite settimanale è al 30%.", 30),
    ("fr-stuck-on-a-bug", "J'ai buté sur un bug, la limite hebdomadaire est à 30%.", 30),
    ("en-bumped-into", "I bumped into an old colleague, my weekly limit is at 30%.", 30),
    ("en-hit-the-gym", "I hit the gym, my weekly limit is at 30%.", 30),
]

# (text, the reset text it must carry): localized notices print abbreviated weekdays and months
RESETS: list[tuple[str, str]] = [
    ("Próximo al límite de uso semanal · Se restablece el vie., 7 de jun., 6:00", "vie., 7 de jun., 6:00"),
    ("Proche de la limite d'utilisation hebdomadaire · Réinitialisation ven. 7 juin, 6:00", "ven. 7 juin, 6:00"),
    ("Superé el límite diario y dice que vuelva a intentarlo en 3 horas.", "en 3 horas"),
    ("Cheguei no limite diário e pede para tentar novamente em 3 horas.", "em 3 horas"),
]


def _rows(readings: Any) -> Counter[tuple[Any, ...]]:
    def num(v: Any) -> float | None:
        return None if v is None else round(float(v), 2)

    return Counter(
        (r.window, num(r.percent), num(r.from_percent), bool(r.limit_hit), r.idle) for r in readings
    )


def _expected(rows: list[Row]) -> Counter[tuple[Any, ...]]:
    return Counter(
        (w, None if p is None else round(float(p), 2), None if f is None else round(float(f), 2), h, i)
        for w, p, f, h, i in rows
    )


@pytest.mark.parametrize(("case", "text", "rows"), CASES, ids=[c[0] for c in CASES])
def test_vocabulary(case: str, text: str, rows: list[Row]) -> None:
    parsed = parse_readings(text, NOW)
    assert _rows(parsed.readings) == _expected(rows), parsed.as_contract()


@pytest.mark.parametrize(("case", "text"), NEGATIVES, ids=[c[0] for c in NEGATIVES])
def test_talk_about_limits_reports_nothing(case: str, text: str) -> None:
    parsed = parse_readings(text, NOW)
    assert not parsed.readings, parsed.as_contract()


@pytest.mark.parametrize(("case", "text", "percent"), OTHER_CLAUSE, ids=[c[0] for c in OTHER_CLAUSE])
def test_a_verb_in_another_clause_reaches_no_limit(case: str, text: str, percent: float) -> None:
    parsed = parse_readings(text, NOW)
    assert [(r.window, r.percent, r.limit_hit) for r in parsed.readings] == [("weekly", percent, False)], (
        parsed.as_contract()
    )


@pytest.mark.parametrize(("text", "resets"), RESETS)
def test_localized_reset_times(text: str, resets: str) -> None:
    parsed = parse_readings(text, NOW)
    assert [r.resets for r in parsed.readings] == [resets], parsed.as_contract()


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("코덱스 주간 한도가 80%예요.", "Codex CLI"),
        ("コーデックスの週間制限が80%です。", "Codex CLI"),
        ("제미나이 일일 한도에 도달했어요.", "Gemini CLI"),
        ("ジェミニの1日の上限に達しました。", "Gemini CLI"),
        ("코파일럿 월간 한도 초과.", "GitHub Copilot"),
    ],
)
def test_product_names_in_other_scripts(text: str, tool: str) -> None:
    assert parse_readings(text, NOW).tool == tool
