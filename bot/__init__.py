"""The sciatica bot's domain logic: plain Python, testable without a running Rasa.

``from bot import context_of_span`` gives the context reading of any span of text (see
``bot.context.context_of_span``); it is loaded on first use, so importing another part of the
package does not load the language pipeline.
"""

from typing import Any

__all__ = ["context_of_span"]


def __getattr__(name: str) -> Any:
    if name == "context_of_span":
        from bot.context import context_of_span

        return context_of_span
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
