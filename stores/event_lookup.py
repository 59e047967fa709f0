"""Rasa's lookup of an event class by its name, without walking every class each time.

Rebuilding a conversation from the tracker store turns each stored event into an object through
``Event.resolve_by_type`` (Rasa 3.6), which walks every subclass of ``Event`` and checks each for
abstract methods - for every event, on every message. Profiling the bot under load put about a
tenth of the Rasa server's busy time there (docs/benchmarks.md).

``memoised`` puts a memo in front of it (installed by ``stores.patches``): a name Rasa has
resolved once maps to the same class for the life of the process (event classes are never
removed). Names it cannot resolve are not remembered and go to Rasa's own lookup every time, so
its fallbacks and errors are unchanged.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import Event

_found: dict[str, type[Event]] = {}


def memoised(stock: Any) -> Any:
    """Rasa's ``Event.resolve_by_type`` (the plain function) with a memo in front of it."""

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = _found.get(type_name)
        if cls is not None:
            return cls
        cls = stock(type_name, default)
        if cls is not None and cls is not default and cls.type_name == type_name:
            _found[type_name] = cls
        return cls

    return resolve_by_type
