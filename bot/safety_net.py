"""What the bot says when it cannot handle a message normally.

A message may be too long to process, or part of the system may be down (the action server, the
tracker store, the lock store). The person must never get silence, and a red flag in that message
must still get the emergency advice: the detector runs here, in whichever process noticed the
problem, without the dialogue, the tracker or the action server.
"""

from __future__ import annotations

from typing import Any

from bot import advice
from bot.nlp import analyse
from bot.triage.engine import assess

# Longer messages are not processed (the reply says so); Rasa's NLU is not meant for essays and
# a 1 MB message would tie up a worker. The detector still reads up to ANALYSE_CHARS of it.
MAX_MESSAGE_CHARS = 2000
ANALYSE_CHARS = 20_000

SAFETY_LINE = (
    "If you have new trouble passing urine or controlling your bladder or bowels, numbness "
    "between your legs, or weakness in your legs that is getting worse, call your local "
    "emergency number (999 in the UK, 911 in the US, 112 in the EU) or go to the nearest "
    "emergency department now."
)


def red_flag_messages(text: Any) -> list[dict[str, Any]]:
    """The escalation for a red flag in ``text`` (urgent or higher), or nothing."""
    if not isinstance(text, str) or not text.strip():
        return []
    assessment = assess(analyse(text[:ANALYSE_CHARS]))
    if assessment.level not in {"urgent", "crisis", "emergency"}:
        return []
    flags = [
        {"id": f.id, "level": f.level, "reason": f.reason, "source": f.source}
        for f in assessment.red_flags
    ]
    chosen = [f for f in flags if f["level"] == assessment.level] or flags
    return advice.escalation_messages(assessment.level, chosen)


def too_long(text: str) -> list[dict[str, Any]]:
    """The reply to a message over MAX_MESSAGE_CHARS (red flags in it still answered first)."""
    return red_flag_messages(text) + [
        {
            "text": (
                f"That message is too long for me: I can read up to {MAX_MESSAGE_CHARS} "
                "characters at a time. Could you send it again in a shorter form?"
            )
        }
    ]


def unavailable(text: Any) -> list[dict[str, Any]]:
    """The reply when part of the bot is down: an apology, and the emergency advice.

    A red flag in the message gets its full escalation; otherwise the person still learns which
    signs mean they should not wait for the bot to come back.
    """
    escalation = red_flag_messages(text)
    apology = {
        "text": (
            "Sorry, something went wrong on my side and I couldn't finish answering that. "
            "Please try again in a minute."
        )
    }
    if escalation:
        return escalation + [apology]
    return [apology, {"text": SAFETY_LINE}]
