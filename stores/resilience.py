"""When the action server is down, the person gets an apology and, for a red flag, the emergency
advice from Rasa itself, instead of silence.

Every answer of this bot comes from a custom action. In Rasa 3.6 a custom action that cannot
reach the action server raises inside ``RemoteAction.run``; ``MessageProcessor._run_action``
(and ``ActionExtractSlots`` for a custom slot mapping's action) log that exception and
drop the action's events, so the person gets no reply at all - even to "I can't feel the toilet
paper when I wipe".

Rasa 3.6 has no plug-in point for a failed action (no hook in the processor, the action endpoint
takes no custom class, and the pluggy hooks only see the request before it is sent). So
``stores.patches`` wraps ``RemoteAction.run`` - the one place every custom action call goes
through - with ``with_fallback``:

- when the call fails because the action server is unreachable, answers with an error or times
  out, the wrapped action returns bot messages instead of raising: a short apology and the
  emergency advice. Whether the message carries a red flag is decided inside Rasa: the NLU
  component ``components.symptom_extractor`` has already put its red-flag analysis in the parse
  data (``understanding``), and ``bot.safety_net`` builds the escalation from the same
  detector and ``bot.advice``;
- this happens once per message: later failures in the same turn raise as before, so Rasa logs
  them as usual and the person does not get the apology twice;
- a call for a custom slot mapping (an action the domain names under a slot, run by
  ``ActionExtractSlots``) is left alone: Rasa keeps only the slots such a call returns, so the
  apology comes with the next action of the turn instead. The call is recognised from its own
  arguments: its action is one the domain names as a custom slot mapping;
- a rejection (``ActionExecutionRejection``, the action server saying "not me") is not a failure
  and passes through untouched;
- nothing is remembered: the next message calls the action server again, so the bot recovers as
  soon as an action server is back.

The wrapper is installed with every other patch by ``stores.patches.install()``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

# Marks the fallback's messages in the tracker (and so the turn as already apologised for).
MARKER = "action_server_unavailable"
ANALYSIS_KEY = "understanding"  # bot.understanding.UNDERSTANDING_KEY

FAILURES = (RasaException, aiohttp.ClientError, asyncio.TimeoutError)


def fallback_messages(text: Any, parse_data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What to say when the action server is down: an apology and the emergency advice.

    The NLU component's analysis decides whether the message holds a red flag; only then is the
    detector asked for the full escalation (its reasons and sources). A message the component
    did not analyse (a button payload, say) goes to the detector directly.
    """
    from bot import safety_net  # here: the language pipeline loads only when needed

    analysis = (parse_data or {}).get(ANALYSIS_KEY)
    if isinstance(analysis, dict) and analysis.get("level") not in (
        "urgent",
        "crisis",
        "emergency",
    ):
        return safety_net.unavailable(None)
    messages = safety_net.unavailable(text)
    if isinstance(analysis, dict) and not any("json_message" in m for m in messages):
        # The component saw a red flag the detector did not confirm on the raw text: say the
        # emergency line anyway (over-triage is acceptable, under-triage is not).
        messages = safety_net.unavailable(None)
    return messages


def as_events(messages: list[dict[str, Any]]) -> list[Event]:
    """Bot messages as tracker events, marked as the fallback's."""
    events: list[Event] = []
    for message in messages:
        data = {"custom": message["json_message"]} if "json_message" in message else {}
        events.append(BotUttered(text=message.get("text"), data=data, metadata={MARKER: True}))
    return events


def already_apologised(tracker: DialogueStateTracker) -> bool:
    """True when the fallback has already answered the latest user message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.metadata.get(MARKER):
            return True
    return False


def fallback_events(tracker: DialogueStateTracker) -> list[Event]:
    latest = tracker.latest_message
    text = latest.text if latest else None
    parse_data = latest.parse_data if latest else None
    return as_events(fallback_messages(text, parse_data))


def called_for_slot_mapping(action_name: str, domain: Domain) -> bool:
    """True when ``action_name`` is run by ``ActionExtractSlots``: a custom slot mapping's action
    (named under ``slots: ... mappings:`` in the domain) or the slot-mapping validation."""
    if action_name == ACTION_VALIDATE_SLOT_MAPPINGS:
        return True
    return any(
        mapping.get("action") == action_name
        for slot in domain.slots
        for mapping in slot.mappings
        if mapping.get("type") == "custom"
    )


def with_fallback(original: Callable[..., Awaitable[list[Event]]]) -> Callable[..., Any]:
    """``RemoteAction.run`` answering with the fallback when the action server is down.

    Installed by ``stores.patches``; bound to Rasa 3.6's ``run(output_channel, nlg, tracker,
    domain)``.
    """

    @functools.wraps(original)
    async def run(
        self: RemoteAction,
        output_channel: Any,
        nlg: Any,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> list[Event]:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except FAILURES as error:
            if called_for_slot_mapping(self.name(), domain) or already_apologised(tracker):
                raise
            logger.error(
                "Action server unavailable for %s (%s: %s); replied with the apology and the "
                "emergency advice.",
                self.name(),
                type(error).__name__,
                " ".join(str(error).split())[:200],
            )
            return fallback_events(tracker)

    return run
