"""Custom actions: thin adapters between the Rasa tracker and the ``bot`` package.

Every decision (red flags, screening, answers) is made in ``bot``; these classes only read the
tracker, call ``bot`` and turn the result into events and messages.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import conversation
from bot.conversation import TriageState


def _state(tracker: Tracker) -> TriageState:
    return TriageState.from_slots(tracker.current_slot_values())


def _latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _send(dispatcher: CollectingDispatcher, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        dispatcher.utter_message(**message)


def _answers_so_far(tracker: Tracker) -> dict[str, Any]:
    return {slot: tracker.get_slot(slot) for slot in conversation.SCREENING_SLOTS}


def _user_texts(tracker: Tracker) -> list[str]:
    """What the person wrote since the session started (used, not stored anywhere else)."""
    texts: list[str] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            texts = []
        elif event.get("event") == "user" and isinstance(event.get("text"), str):
            texts.append(event["text"])
    return texts


class ActionAssessMessage(Action):
    """Runs after every user message (a custom slot mapping), whatever the intent.

    Sets triage_level, red_flags, triage_reasons and findings. Sends nothing itself.
    """

    def name(self) -> str:
        return "action_assess_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        latest = tracker.latest_message or {}
        text = latest.get("text")
        if not isinstance(text, str):
            return []
        before = _state(tracker)
        after = conversation.after_message(
            before,
            text=text,
            intent=_latest_intent(tracker),
            requested_slot=tracker.get_slot("requested_slot") if tracker.active_loop else None,
        )
        return [SlotSet(name, value) for name, value in after.changed_slots(before).items()]


class ActionRespondRedFlag(Action):
    """The escalation: emergency first, plainly, with the sign that triggered it."""

    def name(self) -> str:
        return "action_respond_red_flag"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        state = _state(tracker)
        reply = conversation.red_flag_reply(
            state,
            announced=tracker.get_slot("announced_level"),
            answers=_answers_so_far(tracker),
            in_screening=bool(tracker.active_loop),
        )
        _send(dispatcher, reply.messages)
        return [SlotSet(name, value) for name, value in reply.slots.items()]


class ActionSummariseSymptoms(Action):
    def name(self) -> str:
        return "action_summarise_symptoms"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reply = conversation.symptom_summary(_state(tracker), answers=_answers_so_far(tracker))
        _send(dispatcher, reply.messages)
        return [SlotSet(name, value) for name, value in reply.slots.items()]


class ValidateScreeningForm(Action):
    """Interprets each screening answer (buttons or free text) with the same detector.

    A plain action rather than rasa_sdk's FormValidationAction: every answer goes through one
    function (``conversation.screening_step``) instead of one method per slot.
    """

    def name(self) -> str:
        return "validate_screening_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        if requested not in conversation.SCREENING_SLOTS:
            return []
        reply = conversation.screening_step(
            _state(tracker),
            slot=requested,
            value=tracker.get_slot(requested),
            text=(tracker.latest_message or {}).get("text") or "",
            intent=_latest_intent(tracker),
            announced=tracker.get_slot("announced_level"),
            answers=_answers_so_far(tracker),
        )
        _send(dispatcher, reply.messages)
        return [SlotSet(name, value) for name, value in reply.slots.items()]


def _make_ask_action(slot: str) -> type:
    class AskScreeningQuestion(Action):
        def name(self) -> str:
            return f"action_ask_{slot}"

        async def run(
            self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
        ) -> list[EventType]:
            _send(dispatcher, conversation.screening_question(slot, _answers_so_far(tracker)))
            return []

    AskScreeningQuestion.__name__ = f"ActionAsk_{slot}"
    return AskScreeningQuestion


ASK_ACTIONS = [_make_ask_action(slot) for slot in conversation.SCREENING_SLOTS]


class ActionScreeningResult(Action):
    def name(self) -> str:
        return "action_screening_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reply = conversation.screening_result(
            _state(tracker),
            answers=_answers_so_far(tracker),
            announced=tracker.get_slot("announced_level"),
            texts=_user_texts(tracker),
        )
        _send(dispatcher, reply.messages)
        return [SlotSet(name, value) for name, value in reply.slots.items()]


class ActionStopScreening(Action):
    def name(self) -> str:
        return "action_stop_screening"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _send(
            dispatcher,
            conversation.stop_screening_reply(bool(tracker.active_loop), _latest_intent(tracker)),
        )
        if tracker.active_loop:
            return [ActiveLoop(None), SlotSet("requested_slot", None)]
        return []


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        text = (tracker.latest_message or {}).get("text") or ""
        if (
            tracker.active_loop.get("name") == "screening_form"
            and requested in conversation.SCREENING_SLOTS
            and conversation.answers_the_question(_latest_intent(tracker), text)
        ):
            # Taken for a question, but it answers the open one ("never had cancer").
            reply = conversation.screening_step(
                _state(tracker),
                slot=requested,
                value=text,
                text=text,
                intent=_latest_intent(tracker),
                announced=tracker.get_slot("announced_level"),
                answers=_answers_so_far(tracker),
            )
            _send(dispatcher, reply.messages)
            return [SlotSet(name, value) for name, value in reply.slots.items()]
        reply = conversation.answer(
            intent=_latest_intent(tracker),
            text=(tracker.latest_message or {}).get("text") or "",
            last_topic=tracker.get_slot("last_topic"),
            state=_state(tracker),
        )
        _send(dispatcher, reply.messages)
        return [SlotSet(name, value) for name, value in reply.slots.items()]


class ActionCorrectMisunderstanding(Action):
    def name(self) -> str:
        return "action_correct_misunderstanding"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _send(dispatcher, conversation.correction_reply(_state(tracker)))
        return []


class ActionFallback(Action):
    """Low confidence or off-topic: a retrieved passage if one fits, else what the bot can do."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reply = conversation.fallback(
            text=(tracker.latest_message or {}).get("text") or "",
            intent=_latest_intent(tracker),
            in_screening=bool(tracker.active_loop),
            state=_state(tracker),
        )
        _send(dispatcher, reply.messages)
        return [SlotSet(name, value) for name, value in reply.slots.items()]


class ActionForgetMe(Action):
    """Asks the person to confirm before their conversation is deleted."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _send(dispatcher, conversation.forget_confirmation())
        # Leave any screening in progress, so the "yes" that follows is not taken as an answer.
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionForgetConversation(Action):
    """Confirmed: the tracker store deletes the whole conversation when it sees this slot."""

    def name(self) -> str:
        return "action_forget_conversation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _send(dispatcher, conversation.forgotten())
        return [SlotSet("forget_confirmed", True)]
