"""Conversation behaviour without Rasa: what the bot remembers and says."""

from __future__ import annotations

import pytest

from bot import conversation
from bot.conversation import NO, TriageState, after_message

NO_ANSWERS = {slot: NO for slot in conversation.SCREENING_SLOTS}


def texts(reply: conversation.Reply) -> str:
    return "\n".join(m.get("text", "") for m in reply.messages)


def test_a_red_flag_sets_level_and_flags_and_the_level_only_rises() -> None:
    state = after_message(
        TriageState(), text="i peed myself and didn't notice", intent="greet", requested_slot=None
    )
    assert state.level == "emergency"
    assert "cauda_equina_bladder" in state.flags
    assert state.reasons[0]["source"]
    calmer = after_message(state, text="it's fine really", intent="deny", requested_slot=None)
    assert calmer.level == "emergency"
    assert calmer.flags == state.flags


def test_a_yes_to_a_screening_question_is_that_red_flag() -> None:
    state = after_message(
        TriageState(), text="yes", intent="affirm", requested_slot="screen_bladder"
    )
    assert state.level == "emergency"
    assert "cauda_equina_bladder" in state.flags


def test_a_no_to_a_screening_question_raises_nothing() -> None:
    state = after_message(TriageState(), text="no", intent="deny", requested_slot="screen_bladder")
    assert state.level is None
    assert state.flags == []


def test_a_correction_takes_a_misunderstood_flag_away() -> None:
    state = after_message(
        TriageState(),
        text="I've had a fever for days",
        intent="report_red_flag",
        requested_slot=None,
    )
    assert state.level == "urgent"
    corrected = after_message(
        state,
        text="no, you misunderstood, I don't have a fever",
        intent="correct_misunderstanding",
        requested_slot=None,
    )
    assert corrected.level is None
    assert corrected.flags == []


def test_escalation_comes_first_with_reason_and_source() -> None:
    state = after_message(
        TriageState(),
        text="can't feel the toilet paper when i wipe",
        intent="nlu_fallback",
        requested_slot=None,
    )
    reply = conversation.red_flag_reply(state, announced=None, answers={}, in_screening=False)
    first = reply.messages[0]["text"]
    assert first.startswith("EMERGENCY")
    assert "Why:" in first and "Source:" in first
    assert reply.slots["announced_level"] == "emergency"
    triage = [m["json_message"] for m in reply.messages if "json_message" in m][0]
    assert triage["level"] == "emergency" and triage["red_flags"][0]["source"]


def test_an_emergency_during_screening_skips_the_remaining_questions() -> None:
    state = after_message(
        TriageState(),
        text="well i did wet myself yesterday",
        intent="report_red_flag",
        requested_slot="screen_bladder",
    )
    reply = conversation.red_flag_reply(state, announced=None, answers={}, in_screening=True)
    assert all(reply.slots[slot] == "not_asked" for slot in conversation.SCREENING_SLOTS)


def test_typical_sciatica_with_every_answer_no_is_self_care_with_a_source() -> None:
    state = after_message(
        TriageState(),
        text="aching in my right buttock and down my thigh for 2 weeks, 3/10, worse sitting",
        intent="describe_symptoms",
        requested_slot=None,
    )
    reply = conversation.screening_result(state, answers=NO_ANSWERS, announced=None)
    said = texts(reply)
    assert said.startswith("SELF CARE")
    assert "Source:" in said
    assert reply.slots["triage_level"] == "self_care"


def test_severe_pain_with_every_answer_no_is_routine() -> None:
    state = after_message(
        TriageState(),
        text="burning pain down my left leg, 9/10, I can't sleep or work",
        intent="describe_symptoms",
        requested_slot=None,
    )
    reply = conversation.screening_result(
        state, answers=NO_ANSWERS, announced=None, texts=["I can't sleep or work"]
    )
    assert reply.slots["triage_level"] == "routine"
    assert "Why:" in texts(reply)


def test_the_summary_says_back_where_side_feeling_duration_severity_and_trigger() -> None:
    state = after_message(
        TriageState(),
        text="shooting pain down the back of my left leg for 3 weeks, worse when I sit, 6/10",
        intent="describe_symptoms",
        requested_slot=None,
    )
    said = texts(conversation.symptom_summary(state, answers={}))
    for expected in ("shooting", "left", "leg", "3 weeks", "6/10", "sitting"):
        assert expected in said


def test_answers_already_given_prefill_the_screening() -> None:
    state = after_message(
        TriageState(),
        text="pain in my bum, no problems with my bladder or bowels",
        intent="describe_symptoms",
        requested_slot=None,
    )
    reply = conversation.symptom_summary(state, answers={})
    assert reply.slots.get("screen_bladder") == NO
    assert reply.slots.get("screen_bowel") == NO


def test_screening_questions_have_yes_no_unsure_buttons_and_a_counter() -> None:
    [message] = conversation.screening_question("screen_bladder", {})
    assert message["text"].startswith("(1/8)")
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny", "/unsure"]


@pytest.mark.parametrize(
    "intent, text",
    [("ask_mri", "do i need an mri"), ("ask_nerve_glide", "how do i do the nerve glide")],
)
def test_answers_cite_their_source_in_text_and_payload(intent: str, text: str) -> None:
    reply = conversation.answer(intent=intent, text=text, last_topic=None)
    assert "Source" in texts(reply)
    payload = [m["json_message"] for m in reply.messages if "json_message" in m][0]
    assert payload["sources"][0]["title"] and payload["sources"][0]["file_name"]
    assert reply.slots["last_topic"] == intent[4:]


def test_how_many_reps_follows_the_previous_exercise() -> None:
    reply = conversation.answer(
        intent="exercise_dose", text="how many reps?", last_topic="straight_leg_raise"
    )
    assert "8" in texts(reply)


def test_a_question_outside_the_documents_gets_an_honest_reply_and_the_menu() -> None:
    reply = conversation.fallback(
        text="how do I change a car tyre", intent=None, in_screening=False
    )
    said = texts(reply)
    assert "don't cover" in said
    assert "MRI" in said or "exercise" in said.lower()


def test_an_empty_message_gets_a_clear_reply() -> None:
    said = texts(conversation.fallback(text="  \x00 ", intent=None, in_screening=False))
    assert "didn't get any words" in said


def test_a_red_flag_asked_about_is_answered_then_checked() -> None:
    reply = conversation.answer(
        intent="ask_red_flags", text="can sciatica affect my bladder?", last_topic=None
    )
    said = texts(reply)
    assert "Source" in said
    check = reply.messages[-1]
    assert check["text"].startswith("Is this happening to you now?")
    yes = check["buttons"][0]["payload"]
    # The "yes" button is a sentence the detector reads as a current red flag.
    state = after_message(TriageState(), text=yes, intent=None, requested_slot=None)
    assert state.level == "emergency"


@pytest.mark.parametrize("question_id", sorted(conversation.YES_NOW))
def test_every_yes_button_sentence_raises_its_question_s_red_flag(question_id: str) -> None:
    state = after_message(
        TriageState(), text=conversation.YES_NOW[question_id], intent=None, requested_slot=None
    )
    assert state.level in ("urgent", "emergency"), (question_id, state)


@pytest.mark.parametrize(
    "text, intent",
    [
        ("stop, i just want information", "stop_screening"),
        ("what is cauda equina?", "ask_red_flags"),
        ("delete my data", "forget_me"),
    ],
)
def test_an_interruption_is_not_taken_as_an_answer_to_the_open_question(
    text: str, intent: str
) -> None:
    state = after_message(TriageState(), text=text, intent=intent, requested_slot="screen_bladder")
    assert state.level is None
    reply = conversation.screening_step(
        state,
        slot="screen_bladder",
        value=None,
        text=text,
        intent=intent,
        announced=None,
        answers={},
    )
    assert reply.messages == [] and reply.slots == {}


WHAT_NOW = [
    "what should I do now?",
    "ok so what do i do",
    "what now",
    "can it wait until tomorrow?",
    "do I really need to go to hospital",
    "should i call an ambulance",
    "A&E?",
    "is it serious?",
    "where should i go",
    "I'm scared",
]


@pytest.mark.parametrize("text", WHAT_NOW)
def test_after_an_emergency_what_to_do_now_repeats_the_emergency_advice(text: str) -> None:
    state = after_message(
        TriageState(), text="i cant feel when i need to pee", intent=None, requested_slot=None
    )
    assert state.level == "emergency"
    for reply in (
        conversation.answer(intent="ask_treatment", text=text, last_topic=None, state=state),
        conversation.fallback(text=text, intent="nlu_fallback", in_screening=False, state=state),
    ):
        assert texts(reply).startswith("Please don't wait: Call your local emergency number")
        triage = [m["json_message"] for m in reply.messages if "json_message" in m]
        assert triage[0]["level"] == "emergency"
        assert "documents don't cover" not in texts(reply)


def test_after_an_urgent_flag_can_it_wait_gets_the_same_day_advice() -> None:
    state = after_message(
        TriageState(), text="I've had a fever for days", intent=None, requested_slot=None
    )
    assert state.level == "urgent"
    reply = conversation.fallback(
        text="can i wait till monday", intent="nlu_fallback", in_screening=False, state=state
    )
    assert "see a doctor today" in texts(reply)


@pytest.mark.parametrize("text", ["what should I do now?", "is it serious?"])
def test_without_an_escalation_what_to_do_gets_the_usual_answer(text: str) -> None:
    state = after_message(TriageState(), text="my left leg hurts", intent=None, requested_slot=None)
    reply = conversation.answer(intent="ask_treatment", text=text, last_topic=None, state=state)
    assert "Please don't wait" not in texts(reply)
    assert "Source" in texts(reply)


def test_after_an_emergency_other_questions_still_get_their_answer() -> None:
    state = after_message(
        TriageState(), text="i cant feel when i need to pee", intent=None, requested_slot=None
    )
    reply = conversation.answer(
        intent="ask_what_is_sciatica", text="what is sciatica", last_topic=None, state=state
    )
    assert "Please don't wait" not in texts(reply)
    assert "Sciatica" in texts(reply)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("sharp pain down my left leg since last week", "since last week"),
        ("sharp pain down my left leg for 3 weeks", "for 3 weeks"),
    ],
)
def test_the_summary_says_how_long_in_plain_english(text: str, said: str) -> None:
    state = after_message(TriageState(), text=text, intent=None, requested_slot=None)
    summary = texts(conversation.symptom_summary(state, answers={}))
    assert said in summary
    assert "for since" not in summary


@pytest.mark.parametrize(
    ("intent", "text", "answers"),
    [
        ("ask_red_flags", "never had cancer", True),
        ("ask_red_flags", "no, not that I know of", True),
        ("ask_red_flags", "what are the warning signs?", False),
        ("ask_surgery", "no but will I need surgery", False),
        ("ask_red_flags", "cancer", False),
        ("deny", "no", True),
        ("greet", "hello", False),
    ],
)
def test_an_answer_taken_for_a_question_still_answers_when_its_words_do(
    intent: str, text: str, answers: bool
) -> None:
    assert conversation.answers_the_question(intent, text) is answers


def test_never_had_cancer_taken_for_a_question_fills_the_open_question_with_no() -> None:
    text = "never had cancer"
    state = after_message(
        TriageState(), text=text, intent="ask_red_flags", requested_slot="screen_cancer"
    )
    reply = conversation.screening_step(
        state,
        slot="screen_cancer",
        value=text,
        text=text,
        intent="ask_red_flags",
        announced=None,
        answers={},
    )
    assert reply.slots == {"screen_cancer": "no"}
    assert state.level is None


def test_out_of_scope_gets_its_reply_unless_it_asks_what_to_do_after_an_escalation() -> None:
    plain = conversation.fallback(
        text="recommend a pizza place", intent="out_of_scope", in_screening=False
    )
    assert plain.messages == [{"response": "utter_out_of_scope"}]
    state = after_message(
        TriageState(), text="i cant feel when i need to pee", intent=None, requested_slot=None
    )
    for text in ("can it wait till tomorrow morning?", "do i have to go today"):
        reply = conversation.fallback(
            text=text, intent="out_of_scope", in_screening=False, state=state
        )
        assert texts(reply).startswith("Please don't wait"), text
