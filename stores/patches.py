"""Every change this bot makes to Rasa's own code at run time, in one place.

Rasa 3.6 offers no plug-in point for these, so each one replaces one attribute of one Rasa
class. They are listed in ``PATCHES`` with the reason, installed together by ``install()``,
and only on the Rasa series they were written for (3.6.x; checked on 3.6.21): on any other
version ``install()`` raises ``UnsupportedRasaVersion`` and the bot does not start.

1. ``fail_closed_tracker_store`` (rasa #3243 added the fallback): Rasa wraps every tracker
   store in ``FailSafeTrackerStore`` (``rasa/core/agent.py``, not configurable), which answers
   from an empty tracker when the store cannot be read and keeps the turn in the replica's
   memory when it cannot be written. Its two error callbacks now let ``TrackerStoreUnavailable``
   through, so the message is refused instead (the channels reply with the apology and, for a
   red flag, the emergency advice).
2. ``action_server_fallback`` (rasa #7630): a custom action whose action server is down raises in
   ``RemoteAction.run`` and Rasa drops it, so the person gets no reply at all; the replacement
   returns the apology and the emergency advice instead (``stores.resilience``).
3. ``cached_action_reply_schema``: ``RemoteAction._validate_action_result`` checks the constant
   reply schema against the JSON-schema metaschema on every action call, the largest single cost
   of a turn under load; the replacement checks it once (``stores.action_validation``).
4. ``event_class_memo``: ``Event.resolve_by_type`` walks every ``Event`` subclass for every
   stored event on every message; the replacement remembers what it found
   (``stores.event_lookup``).

When it runs: the project's tracker store and lock store call ``install()`` first thing when Rasa
builds them from the endpoints file, which every way of starting Rasa reads (``make run``,
``make run-cluster``, a plain ``rasa run``, ``rasa shell``, the Helm chart). Patch 1 is what keeps
the tracker store from serving a conversation from an empty tracker, so it cannot depend on a
launcher that a plain ``rasa run`` would skip (docs/deployment.md, "Rasa patches").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.events import Event

from stores import action_validation, event_lookup, resilience

SUPPORTED_SERIES = "3.6"
CHECKED_ON = "3.6.21"
MARK = "__sciatica_patch__"


class UnsupportedRasaVersion(RuntimeError):
    """The installed Rasa is not the series the patches were written for."""


@dataclass(frozen=True)
class Patch:
    name: str
    owner: type
    attribute: str
    why: str
    replacement: Callable[[Any], Any]  # Rasa's original -> the function that replaces it
    static: bool = False
    issue: str = ""  # the Rasa issue behind it, where there is one


def _let_outages_through(original: Callable[..., None]) -> Callable[..., None]:
    from stores.tracker_store import TrackerStoreUnavailable  # that module imports this one

    @functools.wraps(original)
    def on_error(self: FailSafeTrackerStore, error: Exception) -> None:
        if isinstance(error, TrackerStoreUnavailable):
            raise error
        original(self, error)

    return on_error


PATCHES: tuple[Patch, ...] = (
    Patch(
        "fail_closed_tracker_store",
        FailSafeTrackerStore,
        "on_tracker_store_retrieve_error",
        "a conversation the store cannot read is refused, not answered from an empty tracker",
        _let_outages_through,
        issue="rasa #3243",
    ),
    Patch(
        "fail_closed_tracker_store",
        FailSafeTrackerStore,
        "on_tracker_store_error",
        "a turn the store cannot write is refused, not kept in one replica's memory",
        _let_outages_through,
        issue="rasa #3243",
    ),
    Patch(
        "action_server_fallback",
        RemoteAction,
        "run",
        "an unreachable action server gets the apology and the emergency advice, not silence",
        resilience.with_fallback,
        issue="rasa #7630",
    ),
    Patch(
        "cached_action_reply_schema",
        RemoteAction,
        "_validate_action_result",
        "the reply schema is checked against the metaschema once, not on every action call",
        lambda _original: action_validation.validate_action_result,
    ),
    Patch(
        "event_class_memo",
        Event,
        "resolve_by_type",
        "event classes are found by name once, not by walking every Event subclass per event",
        event_lookup.memoised,
        static=True,
    ),
)


def check_version(version: str | None = None) -> None:
    """Raises ``UnsupportedRasaVersion`` unless Rasa is a 3.6.x release."""
    version = rasa.__version__ if version is None else version
    if not re.fullmatch(re.escape(SUPPORTED_SERIES) + r"\.\d+", version):
        raise UnsupportedRasaVersion(
            f"This bot replaces parts of Rasa {SUPPORTED_SERIES}.x at run time (stores/patches.py, "
            f"checked on {CHECKED_ON}) and Rasa {version} is installed. Install the version in "
            "requirements.lock, or check every patch in stores/patches.py against the new "
            "version before changing SUPPORTED_SERIES."
        )


def _current(patch: Patch) -> Any:
    value = patch.owner.__dict__[patch.attribute]
    return value.__func__ if patch.static else value


def is_installed(patch: Patch) -> bool:
    return getattr(_current(patch), MARK, None) == patch.name


def install() -> list[str]:
    """Installs every patch not installed yet (after the version check); returns their names."""
    check_version()
    installed = []
    for patch in PATCHES:
        if is_installed(patch):
            continue
        original = _current(patch)
        replacement = patch.replacement(original)
        setattr(replacement, MARK, patch.name)
        replacement.__wrapped__ = original
        setattr(
            patch.owner, patch.attribute, staticmethod(replacement) if patch.static else replacement
        )
        installed.append(f"{patch.owner.__name__}.{patch.attribute}")
    return installed
