"""Retention: delete conversations nobody has written to for N days.

A conversation is deleted whole once its newest event is older than the retention period, so a
conversation that is still going is never cut short. Works on the SQL tracker store named in an
endpoints file (SQLite by default, PostgreSQL in the scaled setup).

    python -m stores.retention                      # once, BOT_RETENTION_DAYS (default 30)
    python -m stores.retention --days 7 --every 24  # a scheduled job: now, then every 24 hours

``make run`` starts the scheduled form next to the bot; deploy/retention/ has cron, systemd and
Kubernetes versions for other setups. The scheduled form runs each purge as a short-lived child
process, so between purges it holds no database connection and none of Rasa's memory.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from rasa.core.tracker_store import SQLTrackerStore

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
DAYS_ENV = "BOT_RETENTION_DAYS"
DAY = 24 * 60 * 60


def retention_days(value: str | int | None = None) -> int:
    """The retention period in whole days (at least 1), from the argument or the environment."""
    raw = value if value is not None else os.environ.get(DAYS_ENV, DEFAULT_DAYS)
    try:
        days = int(raw)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{DAYS_ENV} must be a whole number of days, not {raw!r}") from error
    if days < 1:
        raise ValueError(f"{DAYS_ENV} must be at least 1 day, not {days}")
    return days


def _expand(value: Any) -> Any:
    if isinstance(value, str):
        return os.path.expandvars(value)
    if isinstance(value, dict):
        return {key: _expand(item) for key, item in value.items()}
    return value


def store_from_endpoints(path: Path) -> SQLTrackerStore:
    """The tracker store configured in an endpoints file; it must be an SQL store."""
    from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
    from rasa.utils.endpoints import EndpointConfig

    with path.open(encoding="utf-8") as handle:
        config = (yaml.safe_load(handle) or {}).get("tracker_store")
    if not config:
        raise ValueError(f"{path} configures no tracker store: nothing is kept, nothing to delete")
    store = TrackerStore.create(EndpointConfig.from_dict(_expand(config)))
    if not isinstance(store, SQLTrackerStore):
        raise ValueError(f"Retention needs an SQL tracker store, not {type(store).__name__}")
    return store


def expired_senders(store: SQLTrackerStore, cutoff: float) -> list[str]:
    """Conversations whose newest event is older than ``cutoff`` (a Unix timestamp)."""
    from sqlalchemy import func

    event = store.SQLEvent
    with store.session_scope() as session:
        rows = (
            session.query(event.sender_id)
            .group_by(event.sender_id)
            .having(func.max(event.timestamp) < cutoff)
            .all()
        )
    return [row[0] for row in rows]


def purge(store: SQLTrackerStore, days: int, now: float | None = None) -> int:
    """Delete every conversation idle for more than ``days``; returns how many were deleted."""
    cutoff = (time.time() if now is None else now) - days * DAY
    senders = expired_senders(store, cutoff)
    event = store.SQLEvent
    with store.session_scope() as session:
        for start in range(0, len(senders), 500):
            batch = senders[start : start + 500]
            session.query(event).filter(event.sender_id.in_(batch)).delete(
                synchronize_session=False
            )
        session.commit()
    return len(senders)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Delete conversations idle for N days.")
    parser.add_argument("--endpoints", type=Path, default=Path("endpoints.yml"))
    parser.add_argument("--days", help=f"default: ${DAYS_ENV} or {DEFAULT_DAYS}")
    parser.add_argument("--every", type=float, metavar="HOURS", help="repeat every HOURS hours")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        days = retention_days(args.days)
    except ValueError as error:
        raise SystemExit(str(error)) from error
    if args.every:
        schedule(args.endpoints, days, args.every)
        return
    try:
        store = store_from_endpoints(args.endpoints)
    except ValueError as error:
        raise SystemExit(str(error)) from error
    deleted = purge(store, days)
    logger.info("Retention (%d days): deleted %d conversation(s).", days, deleted)


def schedule(endpoints: Path, days: int, every_hours: float) -> None:
    """Purge now and then every ``every_hours``, each time in a child process; a failed purge
    is logged and tried again at the next time."""
    command = [sys.executable, "-m", "stores.retention", "--endpoints", str(endpoints)]
    while True:
        done = subprocess.run([*command, "--days", str(days)], check=False)
        if done.returncode != 0:
            logger.error(
                "Retention run failed (exit %d); next try in %g h.", done.returncode, every_hours
            )
        time.sleep(every_hours * 3600)


if __name__ == "__main__":
    main()
