"""action_turn runs as rasa_sdk calls it, on realistic trackers, without Rasa.

The action is thin, but a wrong argument or a slot that does not survive the trip through the
tracker only shows when rasa_sdk calls it; these tests call it that way, with the slots of
domain.yml, one message after another, carrying the slots over as Rasa would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from bot.understanding import UNDERSTANDING_KEY, understand
from scripts.processes import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def tracker(text: str, intent: str, slots: dict[str, Any], *, parsed: bool = True) -> Tracker:
    values = {name: None for name in DOMAIN["slots"]}
    values.update(slots)
    message: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [],
    }
    if parsed:  # what the NLU component adds; a button payload skips it
        message[UNDERSTANDING_KEY] = understand(text, intent=intent).as_dict()
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": message},
    ]
    return Tracker("someone", values, message, events, False, None, {}, "action_listen")


class Chat:
    """Messages through action_turn, slots carried over the way Rasa applies SlotSet events."""

    def __init__(self) -> None:
        self.slots: dict[str, Any] = {}
        self.action = actions.ActionTurn()

    def send(self, text: str, intent: str = "nlu_fallback", *, parsed: bool = True) -> list[str]:
        dispatcher = CollectingDispatcher()
        state = tracker(text, intent, self.slots, parsed=parsed)
        events = asyncio.run(self.action.run(dispatcher, state, DOMAIN))
        for event in events:
            assert event["event"] == "slot"
            assert event["name"] in DOMAIN["slots"]
            self.slots[event["name"]] = event["value"]
        # Every slot value must survive JSON, as it does in the tracker store.
        yaml.safe_load(yaml.safe_dump(self.slots))
        return [m["text"] for m in dispatcher.messages if m.get("text")]


def test_a_red_flag_sets_the_slots_and_is_answered_with_the_emergency_first() -> None:
    chat = Chat()
    said = chat.send("i cant feel when i need to pee", "greet")
    assert said[0].startswith("EMERGENCY")
    assert chat.slots["triage_level"] == "emergency"
    assert chat.slots["red_flags"] == ["cauda_equina_bladder"]


def test_a_button_payload_answers_the_open_question_like_typed_text() -> None:
    chat = Chat()
    said = chat.send("my left leg hurts for 3 weeks", "describe_symptoms")
    assert "(1/8)" in said[-1]
    said = chat.send("/affirm", "affirm", parsed=False)
    assert said[0].startswith("EMERGENCY")
    assert chat.slots["red_flags"] == ["cauda_equina_bladder"]


def test_after_an_emergency_a_wish_to_wait_gets_the_advice_again() -> None:
    chat = Chat()
    chat.send("i cant feel the toilet paper when i wipe", "report_red_flag")
    said = " ".join(chat.send("can I just see my GP next week?", "ask_diagnosis"))
    assert "emergency" in said.lower() and "now" in said.lower()


def test_forgetting_sets_the_slot_the_tracker_store_deletes_on() -> None:
    chat = Chat()
    chat.send("forget me", "forget_me")
    said = chat.send("/affirm", "affirm", parsed=False)
    assert said[0].startswith("Done: I've deleted")
    assert chat.slots["forget_confirmed"] is True
