"""The guided exercise session: the four exercises, their doses, and the rule for worse."""

from __future__ import annotations

import re

import pytest

from bot import exercises
from bot.paths import DATA_DIR
from bot.turn import EXERCISING, State, Turn
from tests.test_turn import DESCRIPTION, send, talk, texts


def screened() -> State:
    state, _ = talk(DESCRIPTION, *["no"] * 8, "no thanks")
    assert state.level == "self_care" and state.phase == "idle"
    return state


def start(state: State) -> Turn:
    turn = send(state, "let's do the exercises")
    assert turn.state.phase == EXERCISING
    return turn


def buttons(turn: Turn) -> list[str]:
    return [b["title"] for m in turn.messages for b in m.get("buttons", [])]


def test_the_four_exercises_one_at_a_time_with_the_documents_doses() -> None:
    turn = start(screened())
    said = texts(turn)
    assert "(1/4) sciatic nerve glide" in said
    assert "lie on your back with your hip bent to 90 degrees" in said
    assert "3 sets of 10 reps per side" in said and "20 slow reps, two to three times a day" in said
    assert buttons(turn) == ["Better", "The same", "Worse", "Skip this one"]
    seen = [said]
    for reply in ["better", "the same", "Better!"]:
        turn = send(turn.state, reply)
        seen.append(texts(turn))
    assert "(2/4) cat/camel series" in seen[1] and "3 sets of 5 reps per segment" in seen[1]
    assert "(3/4) active straight leg raise" in seen[2] and "3 sets of 8 reps per side" in seen[2]
    assert "(4/4) hip cars" in seen[3]
    assert "2 sets of 3 reps forward and backward, daily" in seen[3]
    # The documents describe only the nerve glide; the others say so instead of inventing it.
    assert all("only the sets and reps" in s for s in seen[1:])
    end = send(turn.state, "same")
    assert "all four" in texts(end) and end.state.phase == "idle"
    assert end.state.exercise_log == {
        "nerve_glide": "better",
        "cat_camel": "same",
        "straight_leg_raise": "better",
        "hip_cars": "same",
    }


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


def test_every_number_in_the_session_is_in_the_documents() -> None:
    corpus = " ".join(p.read_text() for p in (DATA_DIR / "documents").glob("*.txt"))
    for found in exercises.exercises():
        for number in _numbers(found.dose) | _numbers(" ".join(found.steps)):
            assert re.search(rf"\b{number}\b", corpus), (found.id, number)


@pytest.mark.parametrize("typed", ["worse", "Worse", "it hurts more", "my pain increased"])
def test_worse_gets_the_documents_rule_and_someone_to_see(typed: str) -> None:
    turn = send(start(screened()).state, typed)
    said = texts(turn)
    assert "too advanced" in said and "stop that one" in said and "physical therapist" in said
    assert "(2/4)" in said
    assert turn.state.exercise_log["nerve_glide"] == "worse"


def test_after_a_worse_the_end_says_to_see_a_physical_therapist() -> None:
    state = start(screened()).state
    for reply in ["better", "worse", "skip", "the same"]:
        turn = send(state, reply)
        state = turn.state
    assert "see a physical therapist" in texts(turn)
    assert "skipped" in texts(turn)


def test_a_question_is_answered_and_the_same_exercise_asked_again() -> None:
    turn = send(start(screened()).state, "what causes sciatica?", "ask_causes")
    assert "back to the exercise: sciatic nerve glide" in texts(turn)
    assert turn.state.question == "nerve_glide"


def test_stop_ends_the_session() -> None:
    turn = send(start(screened()).state, "stop")
    assert turn.state.phase == "idle" and "stop the exercises" in texts(turn)


def test_a_red_flag_during_the_session_escalates_and_ends_it() -> None:
    turn = send(start(screened()).state, "worse, and now both my legs are numb")
    assert turn.state.level in ("urgent", "emergency")
    assert turn.state.phase != EXERCISING
    assert "(2/4)" not in texts(turn)


def test_not_offered_once_escalated() -> None:
    state, _ = talk("i cant feel the toilet paper when i wipe")
    turn = send(state, "let's do the exercises")
    assert turn.state.phase != EXERCISING and "don't wait" in texts(turn)
    helped = send(state, "ok im calling 999 now").state
    turn = send(helped, "let's do the exercises")
    assert turn.state.phase != EXERCISING and "not now" in texts(turn)


def test_asked_for_before_screening_the_safety_questions_come_first() -> None:
    turn = send(State(), "can we do the exercises together?")
    assert turn.state.phase == "screening" and "(1/8)" in texts(turn)
