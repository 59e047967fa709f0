"""The tracker store forgets a conversation when the person confirmed "forget me"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from stores.tracker_store import PrivateSQLTrackerStore

DOMAIN = Domain.load("domain.yml")


def store(tmp_path: Path) -> PrivateSQLTrackerStore:
    return PrivateSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))


def tracker(sender: str, *events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, list(events), slots=DOMAIN.slots)


def test_a_confirmed_forget_deletes_only_that_conversation(tmp_path: Path) -> None:
    db = store(tmp_path)
    said = UserUttered("I have a fever", {"name": "report_red_flag"})
    asyncio.run(db.save(tracker("alice", said, SlotSet("triage_level", "urgent"))))
    asyncio.run(db.save(tracker("bob", UserUttered("hi", {"name": "greet"}))))

    forget = tracker(
        "alice",
        said,
        SlotSet("triage_level", "urgent"),
        UserUttered("/affirm", {"name": "affirm"}),
        ActionExecuted("action_forget_conversation"),
        SlotSet("forget_confirmed", True),
        ActionExecuted("action_listen"),
    )
    asyncio.run(db.save(forget))

    assert asyncio.run(db.retrieve("alice")) is None
    assert asyncio.run(db.retrieve("bob")) is not None


def test_an_earlier_confirmation_does_not_delete_later_turns(tmp_path: Path) -> None:
    db = store(tmp_path)
    events = [
        UserUttered("hi", {"name": "greet"}),
        SlotSet("forget_confirmed", True),
        UserUttered("what is sciatica", {"name": "ask_what_is_sciatica"}),
        ActionExecuted("action_answer_question"),
    ]
    asyncio.run(db.save(tracker("carol", *events)))
    kept = asyncio.run(db.retrieve("carol"))
    assert kept is not None
    assert [e.text for e in kept.events if isinstance(e, UserUttered)][-1] == "what is sciatica"


def test_a_stored_conversation_comes_back_as_rasas_own_store_returns_it(tmp_path: Path) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted

    db = store(tmp_path)
    stock = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    first = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("my left leg hurts", {"name": "describe_symptoms"}),
        SlotSet("triage_level", "routine"),
        ActionExecuted("action_listen"),
    ]
    second = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("triage_level", "routine"),
        ActionExecuted("action_listen"),
        UserUttered("what is sciatica", {"name": "ask_what_is_sciatica"}),
    ]
    asyncio.run(db.save(tracker("carol", *first)))
    asyncio.run(db.save(tracker("carol", *first, *second)))

    ours = asyncio.run(db.retrieve("carol"))
    theirs = asyncio.run(stock.retrieve("carol"))
    assert ours is not None and theirs is not None
    assert ours.events == theirs.events
    # The latest session only, from its session_started event, as Rasa does.
    assert len(ours.events) == len(second) - 1
    assert ours.get_slot("triage_level") == "routine"
    full = asyncio.run(db.retrieve_full_tracker("carol"))
    assert full.events == asyncio.run(stock.retrieve_full_tracker("carol")).events
    assert len(full.events) > len(first)
    assert asyncio.run(db.retrieve("nobody")) is None
