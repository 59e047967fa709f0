"""Retention deletes whole conversations idle for longer than the retention period."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from stores.retention import DAY, purge, retention_days, store_from_endpoints
from stores.tracker_store import PrivateSQLTrackerStore

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = Domain.load(ROOT / "domain.yml")
NOW = 1_800_000_000.0


def conversation(store: PrivateSQLTrackerStore, sender: str, *ages_in_days: float) -> None:
    """A conversation whose events happened the given number of days before NOW."""
    events = []
    for age in ages_in_days:
        events.append(UserUttered("my back hurts", {"name": "describe_symptoms"}))
        events.append(SlotSet("triage_level", "routine"))
        for event in events[-2:]:
            event.timestamp = NOW - age * DAY
    tracker = DialogueStateTracker.from_events(sender, events, slots=DOMAIN.slots)
    asyncio.run(store.save(tracker))


def senders(store: PrivateSQLTrackerStore) -> set[str]:
    return set(asyncio.run(store.keys()))


def check_retention(store: PrivateSQLTrackerStore) -> None:
    conversation(store, "old", 45, 40)
    conversation(store, "recent", 3)
    conversation(store, "old-but-still-going", 60, 1)

    assert purge(store, 30, now=NOW) == 1

    assert senders(store) == {"recent", "old-but-still-going"}
    kept = asyncio.run(store.retrieve("old-but-still-going"))
    assert kept is not None and len([e for e in kept.events if isinstance(e, UserUttered)]) == 2
    assert purge(store, 30, now=NOW) == 0


def test_sqlite_conversations_idle_longer_than_the_period_are_deleted(tmp_path: Path) -> None:
    check_retention(PrivateSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db")))


@pytest.fixture
def postgres_db() -> Iterator[str]:
    name = f"retention_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(
        "postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    yield name
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_postgresql_conversations_idle_longer_than_the_period_are_deleted(
    postgres_db: str,
) -> None:
    store = PrivateSQLTrackerStore(
        DOMAIN,
        dialect="postgresql",
        host="127.0.0.1",
        port=5432,
        db=postgres_db,
        username="postgres",
    )
    try:
        check_retention(store)
    finally:
        store.engine.dispose()


def test_the_command_reads_the_store_from_an_endpoints_file(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n  url: http://localhost:1/webhook\n"
        "  headers:\n    X-Action-Token: ${UNSET_TOKEN_FOR_TEST}\n"
        "tracker_store:\n  type: stores.tracker_store.PrivateSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db}\n"
    )
    store = store_from_endpoints(endpoints)
    real_now = time.time()
    tracker = DialogueStateTracker.from_events(
        "stale", [UserUttered("hello", {"name": "greet"})], slots=DOMAIN.slots
    )
    tracker.events[0].timestamp = real_now - 10 * DAY
    asyncio.run(store.save(tracker))
    fresh = DialogueStateTracker.from_events(
        "fresh", [UserUttered("hello", {"name": "greet"})], slots=DOMAIN.slots
    )
    asyncio.run(store.save(fresh))

    result = subprocess.run(
        [sys.executable, "-m", "stores.retention", "--endpoints", str(endpoints), "--days", "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "deleted 1 conversation" in result.stderr
    assert senders(store_from_endpoints(endpoints)) == {"fresh"}


@pytest.mark.parametrize("value", ["0", "-3", "thirty", "1.5"])
def test_a_bad_retention_period_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        retention_days(value)


def test_the_period_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_RETENTION_DAYS", "14")
    assert retention_days() == 14
    monkeypatch.delenv("BOT_RETENTION_DAYS")
    assert retention_days() == 30


def test_the_scheduled_job_purges_in_a_child_and_waits_without_rasa(tmp_path: Path) -> None:
    """Between purges the scheduler holds none of Rasa's memory: it only starts purges."""
    db = tmp_path / "tracker.db"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"tracker_store:\n  type: stores.tracker_store.PrivateSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db}\n"
    )
    store = store_from_endpoints(endpoints)
    tracker = DialogueStateTracker.from_events(
        "stale", [UserUttered("hello", {"name": "greet"})], slots=DOMAIN.slots
    )
    tracker.events[0].timestamp = time.time() - 10 * DAY
    asyncio.run(store.save(tracker))

    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stores.retention",
            "--endpoints",
            str(endpoints),
            "--days",
            "7",
            "--every",
            "24",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 120
        while senders(store_from_endpoints(endpoints)) and time.time() < deadline:
            time.sleep(0.5)
        assert senders(store_from_endpoints(endpoints)) == set()
        assert scheduler.poll() is None  # still waiting for the next run
        modules = Path(f"/proc/{scheduler.pid}/maps").read_text()
        assert "tensorflow" not in modules and "sqlalchemy" not in modules
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=10)
