"""Red-flag screening: the questions, reading the answers, pre-filling, and the end result."""

from __future__ import annotations

import pytest

from bot.findings import Finding
from bot.nlp import analyse
from bot.triage import screening
from bot.triage.engine import assess, level_rank, rule_by_id

ORDER = ["bladder", "bowel", "saddle", "both_legs", "weakness", "fever", "cancer", "trauma"]


def all_no(**overrides: str) -> dict[str, str]:
    answers = {q.slot: "no" for q in screening.questions()}
    answers.update(overrides)
    return answers


def test_questions_come_in_the_agreed_order_with_their_slots() -> None:
    questions = screening.questions()
    assert [q.id for q in questions] == ORDER
    assert [q.slot for q in questions] == [f"screen_{q}" for q in ORDER]
    assert screening.question_for_slot("screen_saddle").id == "saddle"


def test_questions_give_concrete_examples() -> None:
    texts = {q.id: q.text.lower() for q in screening.questions()}
    assert "toilet paper" in texts["saddle"]
    assert "wetting yourself" in texts["bladder"]
    assert "toes catching" in texts["weakness"]
    assert all(text.endswith("?") or "?" in text for text in texts.values())


@pytest.mark.parametrize("question_id", ORDER)
def test_a_plain_yes_triggers_the_question_rule(question_id: str) -> None:
    question = screening.question(question_id)
    answer = screening.interpret_answer(question_id, analyse("yes"), "affirm")
    assert answer.value == "yes"
    assert question.on_yes in answer.assessment.ids
    assert answer.assessment.level == rule_by_id(question.on_yes).level


# (question, answer text, predicted intent, expected value, lowest level after the answer)
ANSWERS = [
    ("bladder", "well I did wet myself yesterday", None, "yes", "emergency"),
    ("bladder", "yeah", None, "yes", "emergency"),
    ("bladder", "yep a bit", None, "yes", "emergency"),
    ("bladder", "hmm", "affirm", "yes", "emergency"),
    ("bladder", "I can't go", None, "yes", "emergency"),
    ("bladder", "No, but I've had a few leaks", None, "yes", "emergency"),
    ("bladder", "no, my bladder is fine", None, "no", None),
    ("bladder", "nope all normal", None, "no", None),
    ("bladder", "no leaks", None, "no", None),
    ("bladder", "not sure", None, "unsure", "urgent"),
    ("bowel", "i dont think so", None, "no", None),
    ("bowel", "I pooed myself on tuesday", None, "yes", "emergency"),
    ("bowel", "dunno really", None, "unsure", "urgent"),
    ("saddle", "it does feel a bit numb when I wipe", None, "yes", "emergency"),
    ("saddle", "maybe", None, "unsure", "urgent"),
    ("saddle", "nothing like that", None, "no", None),
    ("both_legs", "just the left one", None, "no", None),
    ("both_legs", "both", None, "yes", "urgent"),
    ("both_legs", "yes it goes down both legs", None, "yes", "urgent"),
    ("weakness", "it's not getting worse", None, "no", None),
    ("weakness", "my foot slaps when I walk", None, "yes", "emergency"),
    ("weakness", "I keep tripping over my toes", None, "yes", "emergency"),
    ("weakness", "not that I've noticed", None, "unsure", "urgent"),
    ("fever", "no fever but I feel a bit rough", None, "yes", "urgent"),
    ("fever", "nah", "deny", "no", None),
    ("cancer", "my mum had breast cancer", None, "no", None),
    ("cancer", "I had bowel cancer ten years ago", None, "yes", "urgent"),
    ("cancer", "I've lost about 6kg without trying", None, "yes", "urgent"),
    ("cancer", "never had cancer", "affirm", "no", None),
    ("cancer", "I've never had cancer and my weight is the same", None, "no", None),
    ("cancer", "no cancer but I have lost weight without trying", None, "yes", "urgent"),
    ("fever", "I haven't had a temperature", None, "no", None),
    ("trauma", "I fell off my bike last week", None, "yes", "urgent"),
    ("trauma", "no, it just came on", None, "no", None),
]


@pytest.mark.parametrize("question_id, text, intent, value, minimum", ANSWERS)
def test_answers_in_free_text(
    question_id: str, text: str, intent: str | None, value: str, minimum: str | None
) -> None:
    answer = screening.interpret_answer(question_id, analyse(text), intent)
    assert answer.value == value, (text, answer.value)
    if minimum is None:
        assert answer.assessment.level is None
    else:
        assert level_rank(answer.assessment.level) >= level_rank(minimum)


def test_explicit_words_decide_and_the_intent_fills_in_when_they_say_nothing() -> None:
    assert screening.interpret_answer("bladder", analyse("no"), "affirm").value == "no"
    # A button sends "/affirm": no words, so the intent decides.
    assert screening.interpret_answer("bladder", analyse("/affirm"), "affirm").value == "yes"
    assert screening.interpret_answer("bladder", analyse("hmm ok"), "affirm").value == "yes"


def test_prefill_from_what_was_already_said() -> None:
    said = [
        analyse("no bladder problems and no fever"),
        analyse("pain down both legs"),
        analyse("I've had a bit of a temperature too"),
    ]
    prefilled = screening.prefill(said)
    assert prefilled["screen_bladder"] is False
    assert prefilled["screen_both_legs"] is True
    assert prefilled["screen_fever"] is True  # a later yes beats an earlier no
    assert "screen_saddle" not in prefilled


def test_prefill_from_kept_findings_and_raised_flags() -> None:
    findings = [
        Finding("clinical_sign", "bowel_problem", "bowels", 0, 6, "negated"),
        Finding("clinical_sign", "fever", "fever", 0, 5, "historical"),
    ]
    prefilled = screening.prefill(findings, flags=["cancer_history"])
    assert prefilled["screen_bowel"] is False
    assert prefilled["screen_cancer"] is True
    assert "screen_fever" not in prefilled  # a past fever may have gone: ask


def test_outcome_without_warning_signs_is_self_care() -> None:
    result = screening.outcome(all_no(), [])
    assert result.level == "self_care"
    assert result.reasons and result.sources


@pytest.mark.parametrize(
    "finding, texts",
    [
        (Finding("severity", "8/10", "8 out of 10", 0, 11), []),
        (Finding("severity", "severe", "unbearable", 0, 10), []),
        (Finding("duration", "2 months", "2 months", 0, 8), []),
        (Finding("course", "worsening", "getting worse", 0, 13), []),
        (Finding("symptom", "weakness", "weak", 0, 4), []),
        (Finding("age", "58", "I'm 58", 0, 6), []),
        (None, ["I can't work because of it"]),
        (None, ["it's ruining my sleep"]),
    ],
)
def test_outcome_routine_when_severe_long_worsening_or_disabling(
    finding: Finding | None, texts: list[str]
) -> None:
    result = screening.outcome(all_no(), [finding] if finding else [], texts)
    assert result.level == "routine"


def test_outcome_stays_self_care_for_mild_recent_symptoms() -> None:
    findings = [
        Finding("severity", "4/10", "4/10", 0, 4),
        Finding("duration", "2 weeks", "2 weeks", 0, 7),
        Finding("course", "improving", "getting better", 0, 14),
    ]
    assert screening.outcome(all_no(), findings, ["it's a nuisance but I'm managing"]).level == (
        "self_care"
    )


def test_outcome_follows_red_flag_answers() -> None:
    assert screening.outcome(all_no(screen_bladder="yes"), []).level == "emergency"
    assert screening.outcome(all_no(screen_fever="yes"), []).level == "urgent"
    assert screening.outcome(all_no(screen_saddle="unsure"), []).level == "urgent"
    assert screening.outcome(all_no(screen_cancer="unsure"), []).level == "routine"
    assert screening.outcome({**all_no(), "screen_trauma": True}, []).level == "urgent"


def test_outcome_never_self_care_with_questions_left_unanswered() -> None:
    answers = all_no()
    answers["screen_trauma"] = "not_asked"
    assert screening.outcome(answers, []).level == "routine"


def test_outcome_counts_a_current_red_flag_in_the_findings() -> None:
    findings = [Finding("clinical_sign", "saddle_numbness", "numb down there", 0, 15)]
    assert screening.outcome(all_no(), findings).level == "emergency"


def test_next_question_and_questions_to_ask() -> None:
    assert screening.next_question({}).id == "bladder"
    assert screening.next_question({"screen_bladder": "no", "screen_bowel": "yes"}).id == "saddle"
    assert screening.next_question(all_no()) is None
    asked = screening.questions_to_ask(assess(analyse("what are the signs of cauda equina?")))
    assert [q.id for q in asked] == ["bladder", "bowel", "saddle"]


@pytest.mark.parametrize(
    "concept, weeks",
    [
        ("3 weeks", 3.0),
        ("2-3 months", 13.05),
        ("years", 104.0),
        ("few weeks", 3.0),
        ("4 days", 4 / 7),
    ],
)
def test_duration_weeks(concept: str, weeks: float) -> None:
    assert screening.duration_weeks(concept) == pytest.approx(weeks)


@pytest.mark.parametrize(
    "question_id, text, intent",
    [
        ("both_legs", "no just the right leg", "affirm"),
        ("weakness", "no it isnt getting weaker", "report_red_flag"),
        ("weakness", "nope, its not getting any weaker", "affirm"),
    ],
)
def test_the_words_of_a_no_beat_a_wrong_intent(question_id: str, text: str, intent: str) -> None:
    answer = screening.interpret_answer(question_id, analyse(text), intent)
    assert answer.value == "no"
    assert answer.assessment.level is None


def test_a_red_flag_named_in_a_no_is_still_a_yes() -> None:
    answer = screening.interpret_answer("bladder", analyse("no but i did wet myself"), "deny")
    assert answer.value == "yes"
    assert answer.assessment.level == "emergency"


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("my leg is weak but it's not getting worse", "deny", "no"),
        ("my leg feels weak but its not getting worse", "describe_symptoms", "no"),
        ("yes its getting weaker", "affirm", "yes"),
        ("it keeps giving way", "describe_symptoms", "yes"),
    ],
)
def test_weakness_that_is_not_getting_worse_is_not_a_yes(
    text: str, intent: str, expected: str
) -> None:
    assert screening.interpret_answer("weakness", analyse(text), intent).value == expected
