"""Check-ins: "check on me in N days", the reminder, the questions, the trend and its rule."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from bot import checkin
from bot.checkin import ASSESS, IMPROVING, SETTLING, WORSE, trend_status
from bot.turn import CHECKING, State, Turn, clinician_summary
from bot.understanding import CHECKIN_DUE, understand
from tests.test_turn import DESCRIPTION, send, talk, texts

DUE = ("EXTERNAL: EXTERNAL_checkin", "EXTERNAL_checkin")


def due(state: State) -> Turn:
    return send(state, *DUE)


# --- reading the message ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("check on me in 3 days", 3),
        ("can you check in with me in three days?", 3),
        ("remind me in a week", 7),
        ("check on me in 2 weeks please", 14),
        ("check on me tomorrow", 1),
        ("I've had it for 3 weeks, check on me in 2 days", 2),
        ("check on me in a couple of days", 2),
        ("check on me", None),
    ],
)
def test_the_delay_is_read_from_the_request(text: str, days: int | None) -> None:
    u = understand(text)
    assert u.has("checkin")
    assert u.days == days


@pytest.mark.parametrize(
    ("text", "score"),
    [("4", 4), ("about 5/10", 5), ("six", 6), ("it's a 7 out of 10 today", 7), ("0", 0)],
)
def test_a_pain_score_is_read(text: str, score: int) -> None:
    assert understand(text).score == score


def test_only_rasas_own_reminder_text_is_a_check_in() -> None:
    assert understand(*DUE[:1], intent=DUE[1]).has(CHECKIN_DUE)
    typed = understand("EXTERNAL_checkin and I wet myself", intent="EXTERNAL_checkin")
    assert not typed.has(CHECKIN_DUE) and typed.level == "emergency"


# --- the trend --------------------------------------------------------------------------------

TODAY = date(2024, 6, 1)


def entry(days_ago: int, pain: int | None, life: str | None = None) -> dict:
    return {"date": (TODAY - timedelta(days=days_ago)).isoformat(), "pain": pain, "life": life}


def test_no_improvement_after_four_weeks_means_be_assessed() -> None:
    assert trend_status([entry(28, 6), entry(0, 6, "same")], TODAY) == ASSESS
    assert trend_status([entry(27, 6), entry(0, 6, "same")], TODAY) == SETTLING
    assert trend_status([entry(35, 6), entry(0, 7, "same")], TODAY) == ASSESS


def test_better_pain_or_daily_life_is_improving() -> None:
    assert trend_status([entry(35, 6), entry(0, 5, "same")], TODAY) == IMPROVING
    assert trend_status([entry(35, 6), entry(0, 6, "better")], TODAY) == IMPROVING


def test_worse_daily_life_or_pain_two_points_up_is_worse() -> None:
    assert trend_status([entry(3, 4), entry(0, 4, "worse")], TODAY) == WORSE
    assert trend_status([entry(3, 4), entry(0, 6, "same")], TODAY) == WORSE
    assert trend_status([entry(3, 4), entry(0, 5, "same")], TODAY) == SETTLING


# --- in the conversation ----------------------------------------------------------------------


def scheduled(days: int = 3) -> State:
    state, _ = talk("shooting pain down my left leg for 3 weeks, about 6/10", *["no"] * 8)
    turn = send(state, f"check on me in {days} days")
    assert turn.reminder == {"action": "schedule", "days": days}
    assert f"in {days} days" in texts(turn)
    return turn.state


def test_a_check_in_asks_pain_daily_life_and_new_signs_then_keeps_the_trend() -> None:
    state = scheduled()
    assert state.trend[0]["pain"] == 6  # the score given while describing the pain
    turn = due(state)
    assert turn.state.phase == CHECKING and "0 (no pain) to 10" in texts(turn)
    turn = send(turn.state, "about 4")
    assert "daily life" in texts(turn)
    assert [b["title"] for b in turn.messages[-1]["buttons"]] == ["Better", "The same", "Worse"]
    turn = send(turn.state, "better")
    assert "bladder" in texts(turn)
    turn = send(turn.state, "/deny", "deny")
    assert "6 \u2192 4" in texts(turn) and "getting better" in texts(turn)
    assert [e["pain"] for e in turn.state.trend] == [6, 4]
    assert "check again in 3 days" in [b["title"].lower() for b in turn.messages[-1]["buttons"]]
    summary = clinician_summary(turn.state).lower()
    assert "check-ins:" in summary and "pain 4/10, daily life better" in summary


def test_no_improvement_after_weeks_sends_the_person_to_be_assessed() -> None:
    state = scheduled()
    weeks_ago = (date.today() - timedelta(weeks=5)).isoformat()
    state.trend = [{"date": weeks_ago, "pain": 6, "life": None}]
    turn = due(state)
    for reply in ["6", "the same", "no"]:
        turn = send(turn.state, reply)
    said = texts(turn)
    assert "5 weeks" in said and "get assessed" in said and "physical therapist" in said
    assert "4-6 weeks" in said and "source:" in said
    assert turn.state.level == "routine"


def test_a_new_sign_at_a_check_in_goes_back_to_the_safety_questions() -> None:
    turn = due(scheduled())
    for reply in ["5", "same", "yes"]:
        turn = send(turn.state, reply)
    assert turn.state.phase == "screening" and "(1/8)" in texts(turn)


def test_a_red_flag_at_a_check_in_escalates_as_usual() -> None:
    turn = send(due(scheduled()).state, "8, and I can't feel the toilet paper when I wipe")
    assert texts(turn).startswith("emergency")
    assert turn.state.phase != CHECKING


def test_cancel_the_check_in() -> None:
    turn = send(scheduled(), "cancel the check-in")
    assert turn.reminder == {"action": "cancel"} and "cancelled" in texts(turn)
    assert due(turn.state).messages == []


def test_an_escalation_cancels_the_check_in_and_none_is_offered_after() -> None:
    turn = send(scheduled(), "my legs are both numb and I can't pee")
    assert turn.reminder == {"action": "cancel"} and turn.state.checkin is None
    again = send(turn.state, "check on me in 3 days")
    assert again.reminder is None and "don't" in texts(again)


def test_forget_me_cancels_the_check_in() -> None:
    state = send(scheduled(), "forget me").state
    turn = send(state, "/affirm", "affirm")
    assert turn.forget and turn.reminder == {"action": "cancel"}


def test_a_check_in_due_in_the_middle_of_questions_comes_back_later() -> None:
    state, _ = talk("check on me in 2 days", DESCRIPTION)
    assert state.phase == "screening"
    turn = due(state)
    assert turn.messages == [] and turn.reminder["action"] == "schedule"
    assert turn.state.question == state.question


def test_the_action_schedules_and_cancels_rasa_reminders() -> None:
    schedule = actions.reminder_event({"action": "schedule", "days": 2}, "someone")
    assert schedule["event"] == "reminder" and schedule["intent"] == checkin.REMINDER_INTENT
    assert schedule["kill_on_user_msg"] is False
    cancel = actions.reminder_event({"action": "cancel"}, "someone")
    assert cancel["event"] == "cancel_reminder" and cancel["name"] == schedule["name"]
    assert actions.reminder_name("someone") != actions.reminder_name("someone else")
    assert "someone" not in schedule["name"]


def test_the_action_returns_the_reminder_with_the_slots() -> None:
    state = scheduled()
    state.checkin = None
    text = "check on me in 2 days"
    message = {"text": text, "intent": {"name": "nlu_fallback"}, "entities": []}
    message["understanding"] = understand(text).as_dict()
    slots = {"triage_level": None, "red_flags": [], "conversation": None, "forget_confirmed": None}
    slots.update(state.to_slots())
    tracker = Tracker("someone", slots, message, [], False, None, {}, "action_listen")
    events = asyncio.run(actions.ActionTurn().run(CollectingDispatcher(), tracker, {}))
    reminders = [e for e in events if e["event"] == "reminder"]
    assert len(reminders) == 1 and reminders[0]["kill_on_user_msg"] is False


def test_the_test_day_length_comes_from_the_environment() -> None:
    assert checkin.day_seconds({}) == 86400
    assert checkin.day_seconds({checkin.DAY_SECONDS_ENV: "2"}) == 2
    with pytest.raises(ValueError):
        checkin.day_seconds({checkin.DAY_SECONDS_ENV: "soon"})
