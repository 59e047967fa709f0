"""The conversation's triage level only rises, unless the person corrects a misunderstanding."""

from __future__ import annotations

from bot.nlp import analyse
from bot.triage import screening
from bot.triage.engine import assess
from bot.triage.state import update


def step(
    level: str | None, flags: list[str], text: str, *, correction: bool = False
) -> tuple[str | None, list[str]]:
    analysis = analyse(text)
    return update(level, flags, assess(analysis), correction=correction, analysis=analysis)


def test_level_rises_and_flags_accumulate() -> None:
    level, flags = step(None, [], "pain down my left leg")
    assert (level, flags) == (None, [])
    level, flags = step(level, flags, "I've had a fever since yesterday")
    assert (level, flags) == ("urgent", ["infection_fever"])
    level, flags = step(level, flags, "and I wet myself this morning")
    assert level == "emergency"
    assert flags == ["infection_fever", "cauda_equina_bladder"]


def test_reassurance_does_not_lower_the_level() -> None:
    level, flags = step(None, [], "I can't feel the toilet paper when I wipe")
    assert level == "emergency"
    for text in ["it's fine really, no fever", "no I don't have bladder problems", "ok thanks"]:
        level, flags = step(level, flags, text)
    assert level == "emergency"
    assert flags == ["cauda_equina_saddle"]


def test_a_later_routine_outcome_cannot_lower_an_urgent_level() -> None:
    level, flags = step("urgent", ["cancer_history"], "it's only a 3 out of 10 now")
    assert level == "urgent"


def test_correction_removes_the_negated_flag_and_recomputes() -> None:
    level, flags = step(None, [], "I have a fever and my back hurts")
    assert level == "urgent"
    level, flags = step(
        level, flags, "no, that's not what I meant, I don't have a fever", correction=True
    )
    assert (level, flags) == (None, [])


def test_correction_keeps_flags_it_does_not_negate() -> None:
    level, flags = "emergency", ["infection_fever", "cauda_equina_bladder"]
    level, flags = step(level, flags, "you misunderstood, I don't have a fever", correction=True)
    assert (level, flags) == ("emergency", ["cauda_equina_bladder"])


def test_correction_without_a_negated_sign_changes_nothing() -> None:
    level, flags = step("urgent", ["infection_fever"], "you misunderstood me", correction=True)
    assert (level, flags) == ("urgent", ["infection_fever"])


def test_correction_can_report_something_new_at_the_same_time() -> None:
    level, flags = step(
        "urgent",
        ["infection_fever"],
        "no I don't have a fever, but I have lost control of my bowels",
        correction=True,
    )
    assert (level, flags) == ("emergency", ["cauda_equina_bowel"])


def test_a_negation_that_is_not_a_correction_lowers_nothing() -> None:
    level, flags = step("urgent", ["infection_fever"], "I don't have a fever")
    assert (level, flags) == ("urgent", ["infection_fever"])


def test_routine_from_screening_is_kept_through_a_correction() -> None:
    level, flags = step("routine", [], "no I don't have a fever", correction=True)
    assert level == "routine"


def test_an_unsure_screening_answer_cannot_be_corrected_away_by_a_vague_no() -> None:
    answer = screening.interpret_answer("saddle", analyse("not sure"), "unsure")
    level, flags = update(None, [], answer.assessment)
    assert (level, flags) == ("urgent", ["unsure_cauda_equina"])
    level, flags = step(level, flags, "no you got it wrong, no fever", correction=True)
    assert level == "urgent"
