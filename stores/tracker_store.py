"""An SQL tracker store that can forget a conversation when the person asks it to.

Rasa 3.6's tracker stores have no way to delete a conversation. This store is Rasa's own
``SQLTrackerStore`` (SQLite by default, PostgreSQL in the scaled setup) plus one behaviour: when
the events being saved contain ``SlotSet("forget_confirmed", True)`` - set by
``action_forget_conversation`` after the person confirmed "forget me" - every stored event of that
conversation is deleted instead of saving the new ones. The next message starts a new, empty
conversation.

For a server database (PostgreSQL) the connection pool tests each connection before use
(SQLAlchemy's ``pool_pre_ping``): after a database restart the bot reconnects by itself instead of
failing on every pooled connection the restart closed.

Loading this store also installs the action-server fallback (``stores.resilience``), the cached
check of action-server replies (``stores.action_validation``) and the event-class memo
(``stores.event_lookup``): it is the project class every Rasa process of this bot loads from its
endpoints file.

Configured in ``endpoints.yml``::

    tracker_store:
      type: stores.tracker_store.PrivateSQLTrackerStore
      dialect: sqlite
      db: var/tracker.db
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from stores import action_validation, event_lookup, resilience

logger = logging.getLogger(__name__)

FORGET_SLOT = "forget_confirmed"


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
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite":
            # Rasa builds its engine without pre-ping (and, with ``login_db``, without its own
            # pool settings); rebuild it once the database exists.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        resilience.install()
        action_validation.install()
        event_lookup.install()

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
        if forget_requested(tracker):
            deleted = self.delete(tracker.sender_id)
            logger.info("Deleted a conversation on request (%d events).", deleted)
            return
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
