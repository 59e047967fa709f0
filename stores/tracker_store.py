"""An SQL tracker store that can forget a conversation when the person asks it to.

Rasa 3.6's tracker stores have no way to delete a conversation. This store is Rasa's own
``SQLTrackerStore`` (SQLite by default, PostgreSQL in the scaled setup) plus one behaviour: when
the events being saved contain ``SlotSet("forget_confirmed", True)`` - set by
``action_forget_conversation`` after the person confirmed "forget me" - every stored event of that
conversation is deleted instead of saving the new ones. The next message starts a new, empty
conversation.

**It fails closed.** When the database cannot be read or written, the store raises
``TrackerStoreUnavailable`` instead of returning "no such conversation": the message is refused
(the channels answer with an apology and, for a red flag, the emergency advice, decided from the
message alone) and nothing of that turn is kept anywhere. Rasa's own ``FailSafeTrackerStore``,
which Rasa wraps around every tracker store, would otherwise answer from an empty tracker and keep
the turn in the replica's memory; ``stores.patches`` makes it let this error through. A turn is
saved in one transaction: all of its events or none.

For a server database (PostgreSQL) the connection pool tests each connection before use
(SQLAlchemy's ``pool_pre_ping``): after a database restart the bot reconnects by itself instead of
failing on every pooled connection the restart closed.

Building this store installs ``stores.patches`` (after checking the Rasa version): it is the
project class every Rasa process of this bot loads from its endpoints file, however it is started.

Configured in ``endpoints.yml``::

    tracker_store:
      type: stores.tracker_store.PrivateSQLTrackerStore
      dialect: sqlite
      db: var/tracker.db
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from stores import patches

logger = logging.getLogger(__name__)

FORGET_SLOT = "forget_confirmed"
# Seconds to wait for a new PostgreSQL connection before the message is refused.
CONNECT_TIMEOUT = 5


class TrackerStoreUnavailable(RasaException):
    """The conversation cannot be read or written: the message must be refused, not answered."""


def forget_requested(tracker: DialogueStateTracker) -> bool:
    """True when the latest turn confirmed that the conversation should be forgotten."""
    for event in reversed(tracker.events):
        if isinstance(event, SlotSet) and event.key == FORGET_SLOT:
            return event.value is True
        if event.type_name == "user":
            return False
    return False


class PrivateSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that deletes a conversation on the person's confirmed request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        patches.install()
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite":
            # Rasa builds its engine without pre-ping (and, with ``login_db``, without its own
            # pool settings); rebuild it once the database exists.
            url = self.engine.url
            self.engine.dispose()
            options = create_engine_kwargs(url)
            if self.engine.dialect.name == "postgresql":
                options["connect_args"] = {
                    "connect_timeout": CONNECT_TIMEOUT,
                    **options.get("connect_args", {}),
                }
            self.engine = sa.create_engine(url, pool_pre_ping=True, **options)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.where = describe(self.engine.url)

    @contextmanager
    def _database(self, doing: str) -> Iterator[None]:
        """Turns any database error into ``TrackerStoreUnavailable``, with one clear log line."""
        try:
            yield
        except sa.exc.SQLAlchemyError as error:
            reason = " ".join(str(error).split("[SQL:")[0].split())[:200]
            logger.error(
                "Tracker store: the database at %s failed while trying to %s (%s: %s); the "
                "message is refused, not answered from an empty conversation, and not kept.",
                self.where,
                doing,
                type(error).__name__,
                reason,
            )
            raise TrackerStoreUnavailable(
                f"The tracker store (database at {self.where}) could not {doing}: {reason}"
            ) from error

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        with self._database("read a conversation"):
            return await super().retrieve(sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        with self._database("read a conversation"):
            return await super().retrieve_full_tracker(conversation_id)

    async def keys(self) -> Any:
        with self._database("list the conversations"):
            return await super().keys()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's query, reading only the stored JSON of each event.

        Rasa 3.6 loads every row as an ORM object (all columns, identity map) only to read its
        ``data``; on every message that was the largest single cost of the tracker store
        (docs/benchmarks.md). Same rows, same order, same tracker.
        """
        with self.session_scope() as session:
            rows = (
                self._event_query(session, sender_id, fetch_events_from_all_sessions)
                .with_entities(self.SQLEvent.data)
                .all()
            )
            events = [json.loads(row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the turn's new events in one transaction (Rasa's), or raises and stores none."""
        if forget_requested(tracker):
            with self._database("delete a conversation"):
                deleted = self.delete(tracker.sender_id)
            logger.info("Deleted a conversation on request (%d events).", deleted)
            return
        with self._database("save a conversation"):
            await super().save(tracker)

    def delete(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns how many were deleted."""
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return int(deleted)


def describe(url: sa.engine.URL) -> str:
    """Where the database is, without the password (for logs and errors)."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite:{url.database}"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
