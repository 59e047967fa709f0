"""Every custom action runs on realistic trackers without an action server or Rasa.

The actions are thin, but a wrong argument in one of them only shows when Rasa calls it; these
tests call each one as rasa_sdk would, with the slots of domain.yml.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from scripts.processes import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
ACTIONS: list[Action] = [
    cls()
    for cls in [*vars(actions).values(), *actions.ASK_ACTIONS]
    if isinstance(cls, type) and issubclass(cls, Action) and cls is not Action
]


def tracker(
    text: str, intent: str, *, slots: dict[str, Any] | None = None, loop: str | None = None
) -> Tracker:
    values = {name: None for name in DOMAIN["slots"]}
    values.update(slots or {})
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": message},
    ]
    return Tracker(
        "someone",
        values,
        message,
        events,
        False,
        None,
        {"name": loop} if loop else {},
        "action_listen",
    )


def run(action: Action, state: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, state, DOMAIN))
    return dispatcher.messages, events


EMERGENCY = {
    "triage_level": "emergency",
    "red_flags": ["cauda_equina_bladder"],
    "triage_reasons": [
        {
            "id": "cauda_equina_bladder",
            "level": "emergency",
            "reason": "A change in how your bladder works.",
            "source": "GIRFT",
        }
    ],
}
SITUATIONS = {
    "a red flag": tracker("i cant feel when i need to pee", "report_red_flag", slots=EMERGENCY),
    "symptoms": tracker("my left leg hurts for 3 weeks", "describe_symptoms"),
    "a question": tracker("what is sciatica", "ask_what_is_sciatica"),
    "a screening answer": tracker(
        "no",
        "deny",
        slots={"requested_slot": "screen_bladder", "screen_bladder": "no"},
        loop="screening_form",
    ),
    "what now after an emergency": tracker("what should i do now", "nlu_fallback", slots=EMERGENCY),
}


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name())
def test_every_action_runs_in_every_situation(action: Action, situation: str) -> None:
    messages, events = run(action, SITUATIONS[situation])
    assert all(isinstance(m, dict) for m in messages)
    assert all(isinstance(e, dict) and "event" in e for e in events)


def test_the_red_flag_action_answers_with_the_emergency_first() -> None:
    messages, _ = run(actions.ActionRespondRedFlag(), SITUATIONS["a red flag"])
    assert messages[0]["text"].startswith("EMERGENCY")


def test_what_now_after_an_emergency_gets_the_advice_from_either_answering_action() -> None:
    for action in (actions.ActionFallback(), actions.ActionAnswerQuestion()):
        messages, _ = run(action, SITUATIONS["what now after an emergency"])
        assert messages[0]["text"].startswith("Please don't wait"), action.name()
