"""Custom actions: thin adapters between the Rasa tracker and ``bot.turn``.

Every turn goes through one action, ``action_turn``: it reads the message's understanding from
the parse data (the NLU component computed it), the conversation's state from the slots, lets
``bot.turn.decide`` choose the reply, and turns the result into messages and slot events.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.turn import State, decide
from bot.understanding import UNDERSTANDING_KEY, Understanding, understand

FORGET_SLOT = "forget_confirmed"


def understanding_of(latest: dict[str, Any]) -> Understanding:
    """The understanding NLU attached to the message; a button payload is read here instead."""
    data = latest.get(UNDERSTANDING_KEY)
    intent = latest.get("intent") or {}
    if isinstance(data, dict):
        return Understanding.from_dict(data)
    return understand(
        latest.get("text") or "",
        intent=intent.get("name"),
        confidence=intent.get("confidence") or 0.0,
    )


class ActionTurn(Action):
    """Decides every turn of the conversation (``bot.turn.decide``)."""

    def name(self) -> str:
        return "action_turn"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = decide(
            State.from_slots(tracker.current_slot_values()),
            understanding_of(tracker.latest_message or {}),
        )
        for message in turn.messages:
            dispatcher.utter_message(**message)
        events: list[EventType] = [
            SlotSet(name, value)
            for name, value in turn.state.to_slots().items()
            if value != tracker.get_slot(name)
        ]
        if turn.forget:
            events.append(SlotSet(FORGET_SLOT, True))
        return events
