"""The tracker store forgets a conversation when the person confirmed "forget me", and fails
closed: a conversation it cannot read or write is refused, never started afresh or half saved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from stores.tracker_store import PrivateSQLTrackerStore, TrackerStoreUnavailable

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
        ActionExecuted("action_turn"),
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


ESCALATED = (
    ActionExecuted("action_listen"),
    UserUttered("i cant feel the toilet paper when i wipe", {"name": "report_red_flag"}),
    SlotSet("triage_level", "emergency"),
    BotUttered("EMERGENCY: call 999 now."),
    ActionExecuted("action_listen"),
)


def cut_off(db: PrivateSQLTrackerStore, tmp_path: Path) -> sa.engine.Engine:
    """Points the store at a database it cannot open; returns the working engine."""
    working = db.engine
    db.engine = sa.create_engine(f"sqlite:///{tmp_path}/no/such/dir/tracker.db")
    db.sessionmaker = sa.orm.sessionmaker(bind=db.engine)
    return working


def reconnect(db: PrivateSQLTrackerStore, engine: sa.engine.Engine) -> None:
    db.engine = engine
    db.sessionmaker = sa.orm.sessionmaker(bind=engine)


def test_an_unreadable_conversation_is_refused_not_started_afresh(tmp_path: Path) -> None:
    """Rasa's wrapper (as the agent builds it) would answer from an empty tracker."""
    db = store(tmp_path)
    asyncio.run(db.save(tracker("alice", *ESCALATED)))
    wrapped = FailSafeTrackerStore(db)
    working = cut_off(db, tmp_path)

    with pytest.raises(TrackerStoreUnavailable, match="could not read a conversation"):
        asyncio.run(wrapped.get_or_create_tracker("alice", append_action_listen=False))
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(wrapped.retrieve_full_tracker("alice"))

    reconnect(db, working)
    kept = asyncio.run(wrapped.retrieve("alice"))
    assert kept is not None and kept.get_slot("triage_level") == "emergency"
    assert kept.events == tracker("alice", *ESCALATED).events


def test_an_unwritable_turn_is_refused_and_kept_nowhere(tmp_path: Path) -> None:
    db = store(tmp_path)
    asyncio.run(db.save(tracker("alice", *ESCALATED)))
    wrapped = FailSafeTrackerStore(db)
    turn = tracker("alice", *ESCALATED, UserUttered("what now?", {"name": "ask_what_now"}))
    working = cut_off(db, tmp_path)

    with pytest.raises(TrackerStoreUnavailable, match="could not save a conversation"):
        asyncio.run(wrapped.save(turn))
    assert wrapped._fallback_tracker_store is None  # not kept in this process's memory

    reconnect(db, working)
    assert len(asyncio.run(db.retrieve("alice")).events) == len(ESCALATED)


def test_a_turn_that_fails_half_way_is_not_stored_at_all(tmp_path: Path) -> None:
    db = store(tmp_path)
    asyncio.run(db.save(tracker("alice", *ESCALATED)))
    inserts = []

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def fail_on_the_second_insert(conn, cursor, statement, *args) -> None:
        if statement.startswith("INSERT"):
            inserts.append(statement)
            if len(inserts) == 2:
                raise sa.exc.OperationalError(statement, {}, Exception("connection lost"))

    turn = tracker(
        "alice",
        *ESCALATED,
        UserUttered("what now?", {"name": "ask_what_now"}),
        BotUttered("Call 999 now."),
        ActionExecuted("action_listen"),
    )
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(db.save(turn))
    sa.event.remove(db.engine, "before_cursor_execute", fail_on_the_second_insert)
    assert len(asyncio.run(db.retrieve("alice")).events) == len(ESCALATED)
    asyncio.run(db.save(turn))  # sent again: stored whole, once
    assert asyncio.run(db.retrieve("alice")).events == turn.events


def test_other_stores_errors_still_get_rasas_fallback() -> None:
    """Only the project's outage error passes Rasa's wrapper; the rest is Rasa's behaviour."""

    class Broken(InMemoryTrackerStore):
        async def retrieve(self, sender_id: str) -> None:
            raise ValueError("broken")

    wrapped = FailSafeTrackerStore(Broken(DOMAIN))
    assert asyncio.run(wrapped.retrieve("alice")) is None
