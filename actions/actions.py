"""Custom actions: thin adapters between the Rasa tracker and ``bot.turn``.

Every turn goes through one action, ``action_turn``: it reads the message's understanding from
the parse data (the NLU component computed it), the conversation's state from the slots, lets
``bot.turn.decide`` choose the reply, and turns the result into messages and slot events.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, ReminderCancelled, ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import checkin
from bot.turn import CANCEL, SCHEDULE, State, decide
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


def reminder_name(sender_id: str) -> str:
    """The check-in reminder's name: Rasa's scheduler keys jobs by name alone, so each
    conversation needs its own (a hash, so the scheduler's job list holds no conversation ids)."""
    digest = hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:16]
    return f"{checkin.REMINDER_NAME}-{digest}"


def reminder_event(reminder: dict[str, Any], sender_id: str) -> EventType | None:
    """Rasa's event for a check-in to schedule or cancel (``Turn.reminder``)."""
    name = reminder_name(sender_id)
    if reminder.get("action") == SCHEDULE:
        seconds = float(reminder["days"]) * checkin.day_seconds()
        return ReminderScheduled(
            checkin.REMINDER_INTENT,
            trigger_date_time=datetime.now(timezone.utc) + timedelta(seconds=seconds),
            name=name,
            kill_on_user_message=False,
        )
    if reminder.get("action") == CANCEL:
        return ReminderCancelled(name=name)
    return None


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
        if turn.reminder:
            event = reminder_event(turn.reminder, tracker.sender_id)
            if event is not None:
                events.append(event)
        if turn.forget:
            events.append(SlotSet(FORGET_SLOT, True))
        return events
