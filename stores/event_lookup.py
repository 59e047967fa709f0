"""Rasa's lookup of an event class by its name, without walking every class each time.

Rebuilding a conversation from the tracker store turns each stored event into an object through
``Event.resolve_by_type`` (Rasa 3.6), which walks every subclass of ``Event`` and checks each for
abstract methods - for every event, on every message. Profiling the bot under load put about a
tenth of the Rasa server's busy time there (docs/benchmarks.md).

``install()`` puts a memo in front of it: a name Rasa has resolved once maps to the same class
for the life of the process (event classes are never removed). Names it cannot resolve are not
remembered and go to Rasa's own lookup every time, so its fallbacks and errors are unchanged.
It is installed by the project's tracker and lock stores, which every Rasa process of this bot
loads.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import Event

_INSTALLED = "_sciatica_memo"
_found: dict[str, type[Event]] = {}


def _lookup(stock: Any) -> Any:
    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = _found.get(type_name)
        if cls is not None:
            return cls
        cls = stock(type_name, default)
        if cls is not None and cls is not default and cls.type_name == type_name:
            _found[type_name] = cls
        return cls

    setattr(resolve_by_type, _INSTALLED, True)
    return resolve_by_type


def install() -> None:
    """Memoise ``Event.resolve_by_type`` in this process (idempotent)."""
    stock = Event.__dict__["resolve_by_type"].__func__
    if getattr(stock, _INSTALLED, False):
        return
    Event.resolve_by_type = staticmethod(_lookup(stock))  # type: ignore[method-assign]
