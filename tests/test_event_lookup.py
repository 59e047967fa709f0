"""Event classes are looked up by name as Rasa does, walking Rasa's class tree only once."""

from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from stores import patches


@pytest.fixture(autouse=True)
def installed() -> None:
    patches.install()


def test_names_resolve_to_rasas_classes() -> None:
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("action") is ActionExecuted


def test_unknown_names_behave_as_in_rasa() -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    # A default given for an unknown name is not remembered as that name's class.
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


def test_a_stored_conversation_is_rebuilt_without_walking_the_classes_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "slot", "name": "triage_level", "value": "urgent"},
    ]
    Event.from_parameters(events[0])  # looked up once
    for event in events:
        Event.from_parameters(event)
    walks = []
    stock = rasa.shared.utils.common.all_subclasses
    monkeypatch.setattr(
        rasa.shared.utils.common, "all_subclasses", lambda cls: walks.append(cls) or stock(cls)
    )
    rebuilt = [Event.from_parameters(e) for e in events * 50]
    assert [type(e) for e in rebuilt[:3]] == [ActionExecuted, UserUttered, SlotSet]
    assert walks == []
