"""STarT Back: the tool's scoring on every boundary, and the questions in the conversation."""

from __future__ import annotations

import itertools

import pytest

from bot import startback
from bot.startback import HIGH, LOW, MEDIUM, item_ids, score
from bot.turn import STARTBACK_ITEMS, State, clinician_summary
from tests.test_turn import DESCRIPTION, URGENT, send, talk, texts

YES_NO_IDS = item_ids()[:8]
SCALE = ["not_at_all", "slightly", "moderately", "very_much", "extremely"]


def answers(physical: int, psychosocial_yes: int, bother: str = "not_at_all") -> dict[str, str]:
    """Items 1-4 with ``physical`` yeses, items 5-8 with ``psychosocial_yes`` yeses."""
    values = {}
    for index, item_id in enumerate(YES_NO_IDS):
        yes = index < physical if index < 4 else index - 4 < psychosocial_yes
        values[item_id] = "yes" if yes else "no"
    values["bothersome"] = bother
    return values


# --- scoring ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bother", "point"),
    [("not_at_all", 0), ("slightly", 0), ("moderately", 0), ("very_much", 1), ("extremely", 1)],
)
def test_item_9_scores_only_very_much_or_extremely(bother: str, point: int) -> None:
    result = score(answers(0, 0, bother))
    assert (result.total, result.psychosocial) == (point, point)


def test_total_3_is_low_and_total_4_is_medium() -> None:
    assert score(answers(3, 0)).risk == LOW
    assert (score(answers(3, 0)).total, score(answers(4, 0)).total) == (3, 4)
    assert score(answers(4, 0)).risk == MEDIUM
    # The same boundary with psychosocial points below 4.
    assert score(answers(0, 3)).risk == LOW
    assert score(answers(1, 3)).risk == MEDIUM


def test_subscale_3_is_not_high_and_subscale_4_is_high() -> None:
    three = score(answers(4, 3))
    assert (three.total, three.psychosocial, three.risk) == (7, 3, MEDIUM)
    four = score(answers(0, 4))
    assert (four.total, four.psychosocial, four.risk) == (4, 4, HIGH)
    with_bother = score(answers(0, 3, "very_much"))
    assert (with_bother.psychosocial, with_bother.risk) == (4, HIGH)
    assert score(answers(0, 3, "moderately")).risk == LOW


def test_only_items_5_to_9_count_towards_the_subscale() -> None:
    assert score(answers(4, 0, "moderately")).psychosocial == 0
    everything = score(answers(4, 4, "extremely"))
    assert (everything.total, everything.psychosocial, everything.risk) == (9, 5, HIGH)


def test_every_combination_follows_the_rule() -> None:
    for physical, psycho, bother in itertools.product(range(5), range(5), SCALE):
        result = score(answers(physical, psycho, bother))
        extra = 1 if bother in ("very_much", "extremely") else 0
        assert result.total == physical + psycho + extra
        assert result.psychosocial == psycho + extra
        expected = HIGH if result.psychosocial >= 4 else MEDIUM if result.total >= 4 else LOW
        assert result.risk == expected


def test_a_missing_or_impossible_answer_is_refused() -> None:
    partial = answers(1, 1)
    del partial["walking"]
    with pytest.raises(ValueError):
        score(partial)
    with pytest.raises(ValueError):
        score({**answers(1, 1), "bothersome": "yes"})
    with pytest.raises(ValueError):
        score({**answers(1, 1), "leg_pain": "very_much"})


def test_the_items_follow_the_tool_in_order_and_meaning() -> None:
    items = startback.items()
    assert [i.number for i in items] == list(range(1, 10))
    keywords = ["leg", "shoulder or neck", "walked short distances", "dressed", "not really safe"]
    keywords += ["worrying thoughts", "never", "enjoy", "bothersome"]
    for found, word in zip(items, keywords, strict=True):
        assert word in found.original
    plain = ["leg", "shoulder or neck", "short distances", "dressed", "not really safe"]
    plain += ["worrying thoughts", "never get any better", "enjoying", "bothered"]
    for found, word in zip(items, plain, strict=True):
        assert word in found.text, found.text
    assert [v.title for v in startback.scale()] == [
        "Not at all",
        "Slightly",
        "Moderately",
        "Very much",
        "Extremely",
    ]


@pytest.mark.parametrize("risk", [LOW, MEDIUM, HIGH])
def test_each_plan_names_its_sources(risk: str) -> None:
    plan = startback.plan(risk)
    assert "NICE NG59" in plan.source and "https://www.nice.org.uk/guidance/ng59" in plan.source
    assert "seed 00" in plan.source


# --- in the conversation ----------------------------------------------------------------------


def screened() -> State:
    state, turns = talk(DESCRIPTION, *["no"] * 8)
    assert state.level == "self_care"
    assert "STarT Back" in texts(turns[-1]) or "start back" in texts(turns[-1])
    return state


def asked(state: State) -> State:
    turn = send(state, "/affirm", "affirm")
    assert turn.state.phase == STARTBACK_ITEMS and turn.state.question == "leg_pain"
    assert "(1/9)" in texts(turn)
    return turn.state


def answer_all(state: State, replies: list[str]) -> tuple[State, str]:
    said = ""
    for reply in replies:
        turn = send(state, reply)
        state, said = turn.state, texts(turn)
    return state, said


def test_after_a_screening_with_no_red_flag_the_tool_is_offered_and_scored() -> None:
    state = asked(screened())
    replies = ["yes", "no", "yeah", "nope", "no", "no", "no", "no", "very much"]
    state, said = answer_all(state, replies)
    assert state.risk is not None and state.risk["risk"] == LOW
    assert (state.risk["total"], state.risk["psychosocial"]) == (3, 1)
    assert "low risk" in said and "source:" in said and "keele university" in said
    assert "let's do the exercises" in said


def test_typed_answers_count_as_the_buttons() -> None:
    state = asked(screened())
    clicked, _ = answer_all(state, ["/affirm"] * 8 + ["extremely"])
    typed, said = answer_all(state, ["yes"] * 8 + ["Extremely!"])
    assert clicked.startback == typed.startback
    assert typed.risk["risk"] == HIGH and "high risk" in said
    assert "physical therapy" in said and "psychological" in said


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("not at all", "not_at_all"),
        ("slightly", "slightly"),
        ("moderately", "moderately"),
        ("very much", "very_much"),
        ("extremely", "extremely"),
        ("a little", "slightly"),
        ("quite a bit", "moderately"),
        ("a lot", "very_much"),
    ],
)
def test_item_9_is_read_from_typed_words(typed: str, value: str) -> None:
    state, _ = answer_all(asked(screened()), ["no"] * 8)
    assert state.question == "bothersome"
    state = send(state, typed).state
    assert state.startback["bothersome"] == value


def test_medium_risk_is_sent_to_a_physical_therapist_directly() -> None:
    state, said = answer_all(asked(screened()), ["yes"] * 4 + ["no"] * 4 + ["slightly"])
    assert state.risk["risk"] == MEDIUM
    assert "physical therapist" in said and "without a doctor's referral" in said


def test_a_question_is_answered_and_the_same_item_asked_again() -> None:
    state, _ = answer_all(asked(screened()), ["no", "no"])
    turn = send(state, "what is sciatica?", "ask_what_is_sciatica")
    assert "sciatic nerve" in texts(turn)
    assert turn.state.question == "walking" and "(3/9)" in texts(turn)


def test_not_sure_asks_for_the_closer_answer_and_nothing_unclear_counts() -> None:
    state = asked(screened())
    turn = send(state, "not sure")
    assert "closer" in texts(turn) and turn.state.startback == {}
    turn = send(state, "purple")
    assert turn.state.startback == {} and "(1/9)" in texts(turn)


def test_a_red_flag_mid_questionnaire_escalates_and_ends_it() -> None:
    state, _ = answer_all(asked(screened()), ["yes", "no"])
    turn = send(state, "yes and also i wet myself last night without noticing")
    assert texts(turn).startswith("emergency")
    assert turn.state.phase != STARTBACK_ITEMS
    again = send(turn.state, "yes")
    assert "emergency" in texts(again) and "(4/9)" not in texts(again)


@pytest.mark.parametrize("text", ["stop", "skip", "stop asking"])
def test_stop_ends_the_questions(text: str) -> None:
    turn = send(asked(screened()), text)
    assert turn.state.phase != STARTBACK_ITEMS and "stopped" in texts(turn)
    assert turn.state.risk is None


def test_not_offered_after_an_urgent_result_even_when_asked() -> None:
    state, turns = talk(URGENT)
    assert "start back" not in " ".join(texts(t) for t in turns)
    turn = send(state, "can I do the risk questionnaire?")
    assert "(1/9)" not in texts(turn) and "today" in texts(turn)


def test_asked_for_before_screening_the_safety_questions_come_first() -> None:
    turn = send(State(), "can I do the risk questionnaire?")
    assert turn.state.phase == "screening" and "(1/8)" in texts(turn)


def test_the_summary_for_the_doctor_has_the_result_and_the_answers() -> None:
    state, _ = answer_all(asked(screened()), ["yes"] * 2 + ["no"] * 6 + ["moderately"])
    summary = clinician_summary(state).lower()
    assert "start back" in summary and "low risk" in summary and "total 2 of 9" in summary
    assert "shoulder or neck at any time? yes." in summary
    assert "9. overall, how much has your back pain bothered you? moderately." in summary
    assert "not a diagnosis" in summary
