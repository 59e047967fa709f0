"""The turn model's safety invariants (docs/safety.md), over every state and kind of message.

Each invariant is checked on real phrasings and, with hypothesis, on messages generated from a
small grammar of the ways people write (typos, lower case, hedges, several things at once),
sent in every conversation state: idle, each screening question, "is this happening to you
now?", and after an urgent, emergency or crisis result.
"""

from __future__ import annotations

from functools import cache, lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.turn import QUESTION_IDS, SCREENING, State, Turn, decide
from bot.understanding import understand

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=4096)
def _read(text: str, intent: str | None):
    return understand(text, intent=intent)


def send(state: State, text: str, intent: str | None = None) -> Turn:
    return decide(state, _read(text, intent))


def talk(*messages: str) -> tuple[State, list[Turn]]:
    state, turns = State(), []
    for text in messages:
        turn = send(state, text)
        turns.append(turn)
        state = turn.state
    return state, turns


def texts(turn: Turn) -> str:
    return "\n".join(m["text"] for m in turn.messages if "text" in m).lower()


def screening_question_open(turn: Turn) -> bool:
    last = [m for m in turn.messages if "text" in m][-1]
    return [b["title"] for b in last.get("buttons", [])] == ["Yes", "No", "Not sure"]


# --- states -----------------------------------------------------------------------------------

DESCRIPTION = "shooting pain down my left leg for 3 weeks, worse when I sit"
EMERGENCY = "i cant feel the toilet paper when i wipe"
URGENT = "I've had a high fever and chills since my spinal injection last week"
CRISIS = "I want to kill myself, I can't live with this pain anymore"


def screening_state(k: int) -> State:
    state, _ = talk(DESCRIPTION, *(["no"] * k))
    assert state.phase == SCREENING and state.question == QUESTION_IDS[k]
    return state


@cache
def _state(name: str) -> State:
    if name == "idle":
        return State()
    if name.startswith("screening"):
        return screening_state(int(name.split("_")[1]))
    if name == "confirming":
        state, _ = talk("can sciatica affect my bladder?")
        assert state.phase == "confirming"
        return state
    text = {"emergency": EMERGENCY, "urgent": URGENT, "crisis": CRISIS}[name]
    state, _ = talk(text)
    assert state.level == name, (name, state.level)
    return state


ESCALATED_STATES = ["emergency", "urgent", "crisis"]
ALL_STATES = ["idle", "confirming", *ESCALATED_STATES, *(f"screening_{k}" for k in range(8))]

# --- messages people send ---------------------------------------------------------------------

PUSHBACK = [
    "can I just see my GP next week?",
    "I'll go tomorrow if it's still bad",
    "it's 3am, can't I go in the morning?",
    "should I rest first and see if it gets better?",
    "can I take painkillers and wait?",
    "can my husband drive me instead of calling an ambulance?",
    "can I wait till my GP appointment on monday?",
    "is it ok if I wait and see how I feel tomorrow?",
    "i dont want to waste anyones time",
    "its probably nothing, i'll be fine",
    "do i really have to go to hospital",
    "cant i just stay at home and rest",
    "i'd rather not make a fuss",
    "can i do the exercises first and then go",
]
FEAR = ["ok I'm a bit scared now", "im really frightened", "i'm panicking", "this is scary"]
SMALL = ["hi", "thanks", "ok", "hello?", "lol", "are you a bot", "what's the weather like", ""]
QUESTIONS = [
    "what is sciatica?",
    "how long does sciatica last?",
    "should I use heat or ice?",
    "do I need an MRI?",
    "what exercises help?",
]
TYPED = {
    "yes": ["yes", "yeah", "yep", "yes it is", "yes I told you", "yeah I think so", "y"],
    "no": ["no", "nope", "nah", "no not at all", "not really", "no, nothing like that"],
    "unsure": ["not sure", "dunno", "i don't know", "maybe", "no idea", "hard to say"],
}

_filler = st.sampled_from(["", "um ", "well ", "ok ", "so ", "honestly "])
_case = st.sampled_from([str.lower, str.upper, str.capitalize, lambda s: s])


def _typo(text: str, index: int) -> str:
    if len(text) < 6:
        return text
    i = index % (len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


@st.composite
def phrasing(draw: st.DrawFn, pool: list[str]) -> str:
    text = draw(_filler) + draw(st.sampled_from(pool))
    text = draw(_case)(text)
    if draw(st.booleans()):
        text = _typo(text, draw(st.integers(0, 200)))
    return text


def advice_restated(turn: Turn, level: str) -> bool:
    said = texts(turn)
    if level == "emergency":
        return "emergency" in said and ("now" in said or "straight away" in said)
    if level == "crisis":
        return "crisis line" in said or "116 123" in said or "988" in said
    return "today" in said or "24 hours" in said


PERMISSION = [
    "most people recover",
    "it's fine to wait",
    "you can wait",
    "ok to wait",
    "see how you feel",
    "limited rest",
    "i can answer questions about",
    "sure. ask me anything",
]


# --- 1. once escalated, every reply restates what to do ----------------------------------------


@pytest.mark.parametrize("level", ESCALATED_STATES)
@pytest.mark.parametrize("text", PUSHBACK)
def test_a_wish_to_wait_gets_a_clear_no_with_the_advice(level: str, text: str) -> None:
    turn = send(_state(level), text)
    assert advice_restated(turn, level), texts(turn)
    assert "don't" in texts(turn) or "please" in texts(turn)
    assert not any(p in texts(turn) for p in PERMISSION), texts(turn)


@pytest.mark.parametrize("level", ESCALATED_STATES)
@SETTINGS
@given(text=phrasing(PUSHBACK + FEAR + SMALL + QUESTIONS + TYPED["yes"] + TYPED["no"]))
def test_every_reply_after_an_escalation_keeps_the_advice(level: str, text: str) -> None:
    turn = send(_state(level), text)
    # A yes to an open screening question may raise the level: then that level's advice.
    assert advice_restated(turn, turn.state.level), (text, texts(turn))
    assert not any(p in texts(turn) for p in PERMISSION[:6]), (text, texts(turn))


@pytest.mark.parametrize("text", FEAR)
def test_fear_gets_a_short_human_answer_and_the_advice(text: str) -> None:
    turn = send(_state("emergency"), text)
    assert "understandable" in texts(turn)
    assert advice_restated(turn, "emergency")


def test_the_advice_stays_in_view_over_a_whole_conversation_until_help_is_on_the_way() -> None:
    state = _state("emergency")
    for text in [*PUSHBACK[:4], "ok", "what is sciatica?", "thanks", "bye"]:
        turn = send(state, text)
        assert advice_restated(turn, "emergency"), (text, texts(turn))
        state = turn.state
    turn = send(state, "ok I'm calling 999 now")
    assert "right thing" in texts(turn)
    assert turn.state.help_on_way
    # Wanting to wait again brings the advice back.
    turn = send(turn.state, "actually can I wait till tomorrow?")
    assert advice_restated(turn, "emergency")


# --- 2. hedging does not lower a red flag -----------------------------------------------------

RED_FLAGS = [
    "I can't feel the toilet paper when I wipe",
    "I wet myself last night without noticing",
    "I can't feel anything down there",
    "I've lost control of my bowels",
]
HEDGES = ["maybe ", "not sure but ", "I think ", "kind of ", "I'm not sure, but ", "possibly "]


@pytest.mark.parametrize("text", RED_FLAGS)
@pytest.mark.parametrize("hedge", HEDGES)
def test_a_hedged_red_flag_counts_at_its_full_level(text: str, hedge: str) -> None:
    plain = _read(text, None)
    hedged = _read(hedge + text[0].lower() + text[1:], None)
    assert plain.level == "emergency"
    assert hedged.level == plain.level, hedge + text


@pytest.mark.parametrize("hedge", ["not sure, maybe? ", "i think so? ", "um maybe. "])
def test_a_hedge_in_its_own_sentence_does_not_lower_the_red_flag(hedge: str) -> None:
    assert _read(hedge + "I can't feel the toilet paper when I wipe", None).level == "emergency"


# --- 3. a typed answer counts exactly as its button -------------------------------------------

BUTTON = {"yes": ("/affirm", "affirm"), "no": ("/deny", "deny"), "unsure": ("/unsure", "unsure")}


@pytest.mark.parametrize("k", range(8))
@pytest.mark.parametrize("value", ["yes", "no", "unsure"])
def test_a_typed_answer_counts_exactly_as_its_button(k: int, value: str) -> None:
    state = _state(f"screening_{k}")
    payload, intent = BUTTON[value]
    clicked = send(state, payload, intent).state
    for typed in TYPED[value]:
        after = send(state, typed).state
        assert after.answers == clicked.answers, typed
        assert after.flag_ids == clicked.flag_ids, typed
        assert after.level == clicked.level, typed


@pytest.mark.parametrize("typed", TYPED["yes"])
def test_a_typed_yes_to_is_this_happening_now_escalates(typed: str) -> None:
    turn = send(_state("confirming"), typed)
    assert turn.state.level == "emergency"
    assert texts(turn).startswith("emergency")


# --- 4. red flags come only from what the person said -----------------------------------------


@pytest.mark.parametrize("k", range(8))
@SETTINGS
@given(text=phrasing(FEAR + SMALL + QUESTIONS + PUSHBACK))
def test_no_red_flag_is_added_that_the_person_did_not_report(k: int, text: str) -> None:
    turn = send(_state(f"screening_{k}"), text)
    assert turn.state.flag_ids == [], (text, turn.state.flag_ids)


@pytest.mark.parametrize("k", range(8))
def test_a_new_red_flag_never_brings_another_with_it(k: int) -> None:
    turn = send(_state(f"screening_{k}"), "I've got crushing chest pain right now")
    assert turn.state.flag_ids == ["outside_chest_pain"]


# --- 5. a question is answered first, then screening resumes ----------------------------------


@pytest.mark.parametrize("k", [0, 3, 7])
@pytest.mark.parametrize("question", QUESTIONS)
def test_a_question_mid_screening_is_answered_then_the_same_question_resumes(
    k: int, question: str
) -> None:
    state = _state(f"screening_{k}")
    turn = send(state, question)
    answered = any(m.get("json_message", {}).get("type") == "sources" for m in turn.messages)
    assert answered or "don't cover" in texts(turn), texts(turn)
    assert screening_question_open(turn)
    assert turn.state.question == state.question
    assert turn.state.flag_ids == []


@pytest.mark.parametrize("k", [1, 4])
def test_more_about_the_symptoms_mid_screening_is_kept_and_the_question_asked_again(
    k: int,
) -> None:
    state = _state(f"screening_{k}")
    turn = send(state, "my foot has started tingling too")
    said = texts(turn)
    assert "added that" in said and "foot" in said
    assert "didn't catch" not in said
    assert screening_question_open(turn) and turn.state.question == state.question
    assert any(f["concept"] == "foot" for f in turn.state.findings)


@pytest.mark.parametrize(
    "first, asked",
    [
        ("my husband has had sciatica down his right leg for 3 weeks", "has your husband"),
        ("asking for my mum, she has had back pain for a week", "has your mum"),
    ],
)
def test_screening_asks_about_the_person_the_symptoms_belong_to(first: str, asked: str) -> None:
    state, turns = talk(first, "no")
    for turn in turns:
        said = texts(turn)
        assert screening_question_open(turn)
        assert asked in said and "your bladder" not in said and "your bowels" not in said


def test_heat_or_ice_is_not_answered_with_the_general_treatment_answer() -> None:
    turn = send(State(), "should I use heat or ice?", "ask_treatment")
    said = texts(turn)
    assert "heat or ice" in said or "ice" in said
    assert "don't cover" in said or "heat" in said


def answered_topics(turn: Turn) -> list[str]:
    return [
        m["json_message"].get("topic")
        for m in turn.messages
        if m.get("json_message", {}).get("type") == "sources"
    ]


@pytest.mark.parametrize(
    "text, intent, topic",
    [
        # the classifier sure of the wrong topic: the question's own words name the right one
        ("What is the outlook for sciatica?", "ask_what_is_sciatica", "recovery"),
        # a how-word is not what the question is about
        ("how do they normally treat sciatica", "ask_treatment", "treatment"),
        # a request without a question mark, about nobody's symptoms
        ("exercises for sciatic pain", "ask_exercises", "exercises"),
        # a phrase of another topic outweighs a topic none of whose words were used
        ("Back pain - returning to work?", "ask_prevention", "rest_and_activity"),
        # a question inside a report, in the words of a topic
        (
            "its been a month and im still in pain, how long till this gets better?",
            "describe_symptoms",
            "recovery",
        ),
    ],
)
def test_a_question_is_answered_on_the_topic_its_words_ask_about(
    text: str, intent: str, topic: str
) -> None:
    turn = send(State(), text, intent)
    assert answered_topics(turn)[:1] == [topic], texts(turn)


def test_a_question_outside_the_documents_is_not_given_a_topic_by_one_of_its_words() -> None:
    turn = send(
        State(), "can I take Sam-e with my blood pressure medicine and simvastatin?", "out_of_scope"
    )
    assert answered_topics(turn) in ([], ["retrieved"])
    assert "medication" not in answered_topics(turn)


# --- 6. the summary says only what was said ---------------------------------------------------


def summary_of(turn: Turn) -> str:
    return next((t for t in texts(turn).split("\n") if "here's what i understood" in t), "")


def test_the_summary_takes_the_latest_onset_and_no_past_event_as_a_duration() -> None:
    state, turns = talk("my back pain came on suddenly last week")
    turn = send(state, "no, it just came on gradually")
    state = turn.state
    onsets = [f["concept"] for f in state.findings if f["label"] == "onset"]
    assert onsets == ["gradual"]
    _, turns = talk("I had cancer 6 years ago and now my lower back aches")
    assert "for 6 years" not in summary_of(turns[0])


# --- 7. a correction removes what it names, says so, and screening resumes --------------------


def test_you_misunderstood_removes_the_red_flag_says_so_and_resumes_screening() -> None:
    state, turns = talk(
        "I'm 30 weeks pregnant and my lower back aches, I pee a lot because of the baby",
        "I keep leaking a bit when I pee",
    )
    assert state.level == "emergency"
    turn = send(state, "you misunderstood me, I have full control, it's just the baby pressing")
    assert "taken this off my list" in texts(turn)
    assert turn.state.level is None
    assert screening_question_open(turn)
    # What she told earlier still shapes later answers.
    turn = send(turn.state, "can I take ibuprofen?", "ask_medication")
    assert "midwife" in texts(turn)


# --- 8. never the same message three times in a row -------------------------------------------


@pytest.mark.parametrize("name", ALL_STATES)
@SETTINGS
@given(messages=st.lists(phrasing(SMALL + FEAR + PUSHBACK + QUESTIONS), min_size=3, max_size=5))
def test_never_the_same_message_three_times_in_a_row(name: str, messages: list[str]) -> None:
    state = _state(name)
    said: list[str] = []
    for text in messages:
        turn = send(state, text)
        said += [m["text"] for m in turn.messages if "text" in m]
        state = turn.state
    for a, b, c in zip(said, said[1:], said[2:], strict=False):
        assert not (a == b == c), a


@pytest.mark.parametrize("text", ["", "   ", "\x00", "a" * 3000, "😀", "/affirm"])
@pytest.mark.parametrize("name", ["idle", "screening_0", "emergency"])
def test_bad_input_gets_a_reply_in_every_state(name: str, text: str) -> None:
    turn = send(_state(name), text)
    assert any(m.get("text", "").strip() for m in turn.messages)


def test_a_summary_for_the_doctor_says_what_was_said_and_that_it_is_not_a_diagnosis() -> None:
    state, _ = talk("my lower back aches and it goes down my left leg, 6/10 for 2 weeks", "no")
    turn = send(state, "can you give me a summary i can show my doctor?")
    said = texts(turn)
    assert "lower back" in said and "left" in said and "2 weeks" in said and "6/10" in said
    assert "bladder" in said and "no." in said
    assert "not a diagnosis" in said
    assert "fever" not in said.split("not a diagnosis")[0]  # not asked yet, so not in it
    assert screening_question_open(turn)  # and the screening goes on
    # Marked, right after its text, so the chat page can offer it as a download.
    marker = turn.messages.index({"json_message": {"type": "summary"}})
    assert "not a diagnosis" in turn.messages[marker - 1]["text"]


def test_state_from_slots_survives_unknown_and_missing_values() -> None:
    state = State.from_slots(
        {"triage_level": "emergency", "red_flags": ["no_such_rule", 3], "conversation": None}
    )
    assert state.level == "emergency"
    assert state.flag_ids == ["no_such_rule"]
    turn = send(state, "can I wait till tomorrow?")
    assert advice_restated(turn, "emergency")


@pytest.mark.parametrize(
    "text",
    [
        "my foot sort of catches on the floor sometimes? maybe getting a bit worse each day",
        "i kind of can't really feel the toilet paper when i wipe?",
    ],
)
def test_a_hedged_report_ending_in_a_question_mark_still_counts(text: str) -> None:
    assert _read(text, None).level == "emergency", text


def test_a_correction_that_reports_a_red_flag_escalates() -> None:
    state, _ = talk("pain down the back of my left leg, 2 weeks, no problems peeing")
    turn = send(
        state, "no, you misunderstood me, I DO have problems peeing, it's hard to get started"
    )
    assert turn.state.level == "emergency"
    assert texts(turn).startswith("emergency")


def test_a_correction_about_family_history_removes_only_that_flag() -> None:
    state, _ = talk("my back is bad and i can't hold my wee anymore, and i had cancer")
    assert {"cauda_equina_bladder", "cancer_history"} <= set(state.flag_ids)
    turn = send(state, "no, you misunderstood me, I meant my dad had bowel cancer, not me")
    assert "cancer_history" not in turn.state.flag_ids
    assert "cauda_equina_bladder" in turn.state.flag_ids
    turn = send(turn.state, "so can i wait then?")
    assert advice_restated(turn, "emergency")


@pytest.mark.parametrize(
    "text", ["they said I was in remission", "i didn't fall far, just onto my bottom"]
)
def test_only_the_persons_words_take_a_red_flag_away(text: str) -> None:
    state, _ = talk("I had bowel cancer 3 years ago and now my back hurts at night")
    before = set(state.flag_ids)
    assert before
    assert before <= set(send(state, text, "correct_misunderstanding").state.flag_ids)


@pytest.mark.parametrize(
    "text",
    ["should i just rest it for a few days", "i'll sleep it off", "will it get better on its own?"],
)
def test_after_urgent_advice_resting_or_recovery_questions_get_the_advice(text: str) -> None:
    turn = send(_state("urgent"), text, "ask_rest_and_activity")
    assert advice_restated(turn, "urgent")
    assert "most people recover" not in texts(turn)


@pytest.mark.parametrize(
    "text",
    [
        "honestly can my husband drive m einstead of calling an ambulance?",
        "is it ok if i go to the hospital tomorrow",
        "should i call my gp now or wait?",
    ],
)
def test_a_question_about_getting_help_is_not_taken_as_help_on_the_way(text: str) -> None:
    turn = send(_state("emergency"), text)
    assert not turn.state.help_on_way
    assert advice_restated(turn, "emergency")


def test_someone_elses_ordinary_symptoms_are_screened_and_answered_for_them() -> None:
    state, turns = talk(
        "asking for my son, 19, sharp pain from his lower back down his left leg since saturday"
    )
    assert screening_question_open(turns[0])
    turn = send(state, "he says no")
    assert turn.state.answers[QUESTION_IDS[0]] == "no"
    assert screening_question_open(turn)


@pytest.mark.parametrize(
    "text",
    [
        "my knee hurts when I go down stairs",
        "sore calf muscles after my run yesterday",
        "I have a stiffness in my elbows and shoulders",
        "when I straighten my leg there is pain in the knee joint",
        "my joints ache all over",
    ],
)
def test_pain_elsewhere_gets_the_scope_note_not_the_sciatica_screening(text: str) -> None:
    _, turns = talk(text)
    assert not screening_question_open(turns[0])
    assert "back pain and sciatica" in texts(turns[0])
    assert turns[0].state.level is None


@pytest.mark.parametrize(
    "text",
    [
        "my left leg has hurt for 3 weeks",
        "pain shooting into my calf",
        "my foot is numb and tingly",
        "my knee keeps giving way",
    ],
)
def test_a_leg_that_could_be_sciatica_is_screened_or_escalated(text: str) -> None:
    _, turns = talk(text)
    assert screening_question_open(turns[0]) or turns[0].state.level in ("urgent", "emergency")


def test_a_calf_mentioned_after_back_pain_stays_part_of_the_picture() -> None:
    state, _ = talk("my lower back has been bad for a week")
    turn = send(state, "stop")
    turn = send(turn.state, "my calf hurts too now")
    assert "back pain and sciatica" not in texts(turn)
    assert any(f["concept"] == "calf" for f in turn.state.findings)


def test_hearsay_about_sciatica_is_a_question_not_a_red_flag() -> None:
    _, turns = talk("i read online that sciatica can paralyse you, is that true")
    assert turns[0].state.flag_ids == []


@pytest.mark.parametrize(
    "text, intent",
    [
        ("can you explain what sciatica is", "ask_what_is_sciatica"),
        ("tell me what the sciatic nerve actually is", "ask_sciatic_nerve"),
    ],
)
def test_asking_words_are_not_taken_for_what_the_question_is_about(text: str, intent: str) -> None:
    turn = send(State(), text, intent)
    assert "source" in texts(turn)  # texts() is lower-cased
    assert "don't cover" not in texts(turn)


@pytest.mark.parametrize(
    "text, intent, topic",
    [
        ("what painkillers are good for sciatica", "ask_medication", "medication"),
        ("should i get a cortisone shot in my back", "ask_injections", "injections"),
        ("are there any exersizes i can do?", "ask_exercises", "exercises"),
        ("what is a nerve floss", "ask_nerve_glide", "nerve_glide"),
    ],
)
def test_everyday_words_for_a_topic_get_its_answer(text: str, intent: str, topic: str) -> None:
    turn = send(State(), text, intent)
    assert turn.state.last_topic == topic
    assert "source" in texts(turn)


@pytest.mark.parametrize("text", ["ok fine im going", "alright, we're going", "I'm leaving now"])
def test_saying_you_are_going_counts_as_help_on_the_way(text: str) -> None:
    turn = send(_state("emergency"), text)
    assert turn.state.help_on_way
    assert "right thing" in texts(turn)


def test_leg_muscles_wasting_is_marked_weakness() -> None:
    _, turns = talk("I'm losing muscle in my legs and can only walk 30 steps")
    assert "neuro_marked_weakness" in turns[0].state.flag_ids
    assert turns[0].state.level in ("urgent", "emergency")


def test_a_question_asked_with_an_urgent_sign_is_answered_under_the_advice() -> None:
    turn = send(
        State(), "I had cancer years ago and now my back hurts. Will I need surgery?", "ask_surgery"
    )
    assert turn.state.level == "urgent"
    assert texts(turn).startswith("urgent")
    assert answered_topics(turn) == ["surgery"]


def test_asking_about_a_treatment_is_not_reporting_it() -> None:
    turn = send(
        State(),
        "I have terrible pain from sciatica. Will epidural injections help?",
        "ask_injections",
    )
    assert turn.state.level is None
    assert answered_topics(turn) == ["injections"]
