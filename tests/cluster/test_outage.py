"""PostgreSQL cut off for 30 seconds under a load of 50 conversations: nothing is forgotten.

The relay between the cluster and PostgreSQL is stopped while 50 people talk to the bot at once
through nginx (each from their own address). A person whose message was refused sends it again
every two seconds, as the reply asks. Afterwards, PostgreSQL (read directly, not through the
relay) must hold exactly the turns each person was told were accepted - no turn lost, none
stored twice, none half stored - and the conversations escalated before the cut are still
escalated after it. During the cut every message gets the clear reply, and every red flag the
emergency advice, decided from the message alone.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import psycopg2
import pytest

from tests.cluster.client import QUESTIONS, address, say, session_from
from tests.cluster.conftest import ClusterUnderTest

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

PEOPLE = 50
ESCALATED = 10  # of them, escalated to an emergency before the cut
CUT_SECONDS = 30
RETRY_SECONDS = 2
APOLOGY = "Sorry, something went wrong on my side"
RED_FLAG = "i cant feel the toilet paper when i wipe"
RED_FLAG_DURING_CUT = "i have lost control of my bladder"
GROUP = 71  # client addresses 127.0.71.x


@dataclass
class Attempt:
    message: str
    started: float
    ended: float
    status: int
    replies: list[dict[str, Any]]

    @property
    def texts(self) -> list[str]:
        return [r["text"] for r in self.replies if r.get("text")]


@dataclass
class Person:
    sender: str
    source: str
    escalated: bool
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def accepted(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status == 200]


@dataclass
class Cut:
    started: asyncio.Event = field(default_factory=asyncio.Event)
    over: asyncio.Event = field(default_factory=asyncio.Event)
    window: tuple[float, float] = (float("inf"), float("inf"))

    def contains(self, attempt: Attempt) -> bool:
        return self.window[0] <= attempt.started and attempt.ended <= self.window[1]


async def until_accepted(
    session: aiohttp.ClientSession, url: str, person: Person, text: str
) -> Attempt:
    """Sends a message until it is accepted (a refused one is sent again, as the reply asks)."""
    while True:
        started = time.monotonic()
        try:
            status, replies = await say(session, url, person.sender, text, timeout=120)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status, replies = 0, []
        attempt = Attempt(text, started, time.monotonic(), status, replies)
        person.attempts.append(attempt)
        if status == 200:
            return attempt
        await asyncio.sleep(RETRY_SECONDS)


async def talk(url: str, person: Person, cut: Cut) -> None:
    async with session_from(person.source) as session:
        if person.escalated:
            for text in ("hi", RED_FLAG):
                await until_accepted(session, url, person, text)
            await cut.started.wait()
            for text in (RED_FLAG_DURING_CUT, "what should i do now?", "thanks"):
                await until_accepted(session, url, person, text)
            return
        # Everyone else keeps asking questions through the cut and a little after it.
        after = 0
        for text in itertools.chain(["hi"], itertools.cycle(QUESTIONS)):
            await until_accepted(session, url, person, text)
            if cut.over.is_set():
                after += 1
                if after == 2:
                    return
            await asyncio.sleep(1)


async def load_with_a_cut(cluster: ClusterUnderTest, people: list[Person]) -> Cut:
    cut = Cut()

    async def cut_when_escalated() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(
            any(a.message == RED_FLAG for a in p.accepted) for p in people if p.escalated
        ):
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # the others are in the middle of their turns
        await asyncio.to_thread(cluster.postgres.stop)
        started = time.monotonic()
        cut.started.set()
        await asyncio.sleep(CUT_SECONDS)
        ended = time.monotonic()
        await asyncio.to_thread(cluster.postgres.start)
        cut.window = (started, ended)
        cut.over.set()

    await asyncio.gather(cut_when_escalated(), *(talk(cluster.url, p, cut) for p in people))
    return cut


def stored_events(cluster: ClusterUnderTest, sender: str) -> list[dict[str, Any]]:
    """The conversation's events as PostgreSQL holds them (read directly, not via the relay)."""
    with (
        psycopg2.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname=cluster.database
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
        return [json.loads(row[0]) for row in cursor.fetchall()]


def stored_turns(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each stored user message with the bot's texts after it (whitespace removed)."""
    turns: list[tuple[str, list[str]]] = []
    for event in events:
        if event["event"] == "user":
            turns.append((event["text"], []))
        elif event["event"] == "bot" and turns and event.get("text"):
            turns[-1][1].append(event["text"])
    return [(user, squash("".join(bot))) for user, bot in turns]


def squash(text: str) -> str:
    return "".join(text.split())


def test_a_thirty_second_database_outage_under_load_loses_nothing(
    cluster: ClusterUnderTest,
) -> None:
    run = uuid.uuid4().hex[:6]
    people = [
        Person(f"outage-{run}-{i}", address(GROUP, i), escalated=i < ESCALATED)
        for i in range(PEOPLE)
    ]
    marks = cluster.log_marks()
    began = time.monotonic()
    try:
        cut = asyncio.run(load_with_a_cut(cluster, people))
    finally:
        if cluster.postgres.process is None:
            cluster.postgres.start()
    took = time.monotonic() - began

    attempts = [a for p in people for a in p.attempts]
    refused = [a for a in attempts if a.status != 200]
    during = [a for a in attempts if cut.contains(a)]
    red_during = [a for a in during if a.message == RED_FLAG_DURING_CUT]
    advised = [a for a in red_during if a.texts and a.texts[0].startswith("EMERGENCY:")]

    lost = duplicated = user_events = all_events = 0
    mismatched = []
    for person in people:
        events = stored_events(cluster, person.sender)
        told = [(a.message, squash("".join(a.texts))) for a in person.accepted]
        kept = stored_turns(events)  # each user message with the bot's texts after it
        all_events += len(events)
        user_events += sum(1 for e in events if e["event"] == "user")
        lost += max(0, len(told) - len(kept))
        duplicated += max(0, len(kept) - len(told))
        if kept != told:
            mismatched.append((person.sender, told, kept))
        sessions = [e for e in events if e["event"] == "session_started"]
        assert len(sessions) == 1, (person.sender, len(sessions))
        if person.escalated:
            levels = [
                e["value"] for e in events if e["event"] == "slot" and e["name"] == "triage_level"
            ]
            assert levels and levels[-1] == "emergency", (person.sender, levels)
            assert [t[0] for t in kept[:2]] == ["hi", RED_FLAG]  # its earlier turns are still there
    accepted = sum(len(p.accepted) for p in people)
    # Sent before the cut and refused: cut in the middle of the turn (not stored).
    cut_mid_turn = [a for a in refused if a.started < cut.window[0]]

    print(
        f"\nPostgreSQL cut for {CUT_SECONDS}s under {PEOPLE} conversations ({took:.0f}s in all): "
        f"{len(attempts)} messages sent, {accepted} accepted, {len(refused)} refused "
        f"({len(during)} sent during the cut, {len(cut_mid_turn)} cut in the middle of a turn); "
        f"PostgreSQL holds {user_events} user messages ({all_events} events); turns lost {lost}, "
        f"stored twice {duplicated}, differing from what the person was told "
        f"{len(mismatched)}; red-flag messages during the cut {len(red_during)}, given the "
        f"emergency advice {len(advised)}"
    )
    assert mismatched == []
    assert user_events == accepted

    # During the cut: every message refused with the clear reply, every red flag advised.
    assert during and all(a.status == 503 for a in during)
    assert all(any(APOLOGY in t for t in a.texts) for a in during)
    assert len(red_during) >= ESCALATED and len(advised) == len(red_during)
    # After it, an escalated conversation carries on from where it was: "what now?" gets the
    # emergency advice again, not a fresh start.
    for person in people[:ESCALATED]:
        what_now = next(a for a in person.accepted if a.message == "what should i do now?")
        assert what_now.ended > cut.window[1]
        assert any("emergency" in t.lower() for t in what_now.texts), what_now.texts

    logs = cluster.logs_since(marks)
    assert "Tracker store: the database at" in logs
    assert "Falling back to use the 'InMemoryTrackerStore'" not in logs
