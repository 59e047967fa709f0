"""What the bot says when it cannot handle a message normally.

A message may be too long to process, or part of the system may be down (the action server, the
tracker store, the lock store). The person must never get silence, and a red flag in that message
must still get the emergency advice: the detector runs here, in whichever process noticed the
problem, without the dialogue, the tracker or the action server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot import advice
from bot.messages import say
from bot.nlp import analyse
from bot.triage.engine import Assessment, assess

# Longer messages are not processed (the reply says so); Rasa's NLU is not meant for essays and
# a 1 MB message would tie up a worker. The red-flag detector still reads the whole of such a
# message, up to ANALYSE_CHARS (the REST channel's 64 KB body limit; the chat socket takes no
# larger packets), in windows of whole sentences (see ``windows``).
MAX_MESSAGE_CHARS = 2000
ANALYSE_CHARS = 64 * 1024
# Each window is analysed on its own: small enough for the language layer (which reads at most
# 5,000 characters), large enough that a sentence and the one before it fit together.
WINDOW_CHARS = 2000
# Consecutive windows share this much text: the sentences at the end of one window start the
# next, and a sentence longer than a window is cut into pieces that share this many characters,
# so a red-flag phrase (the longest is well under 100 characters) is always whole in one window.
OVERLAP_CHARS = 300

_SENTENCE_END = re.compile(r"[.!?;\n]+\s*")

SAFETY_LINE = (
    "If you have new trouble passing urine or controlling your bladder or bowels, numbness "
    "between your legs, or weakness in your legs that is getting worse, call your local "
    "emergency number (999 in the UK, 911 in the US, 112 in the EU) or go to the nearest "
    "emergency department now."
)


def _cut_back(text: str, low: int, high: int) -> int:
    """Where a window ending at most at ``high`` should end: after the last sentence that ends
    past ``low``, else at the last space, else at ``high``."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text, low, high)]
    if ends:
        return ends[-1]
    space = text.rfind(" ", low, high)
    return space if space != -1 else high


def _resume(text: str, low: int, high: int) -> int:
    """Where the next window starts: the first sentence that starts in [low, high], else the
    word at ``high`` (so at least ``end - high`` characters are read twice)."""
    for mark in _SENTENCE_END.finditer(text, low, high):
        if mark.end() <= high:
            return mark.end()
    space = text.rfind(" ", low, high)
    return space + 1 if space != -1 else high


def windows(
    text: str, size: int = WINDOW_CHARS, overlap: int = OVERLAP_CHARS
) -> Iterator[tuple[int, str]]:
    """The text in windows of at most ``size`` characters, each with its offset.

    Windows end after a sentence where one ends in their last quarter, else at a space, and the
    next window starts at least ``overlap`` characters before that end (at a sentence start
    where one is near), so any stretch of up to ``overlap`` characters is whole in some window:
    a red flag is found wherever the windows are cut. Windows advance by at least
    ``size * 3/4 - 2 * overlap`` characters, so the work is linear in the length of the text.
    """
    start = 0
    while True:
        end = min(start + size, len(text))
        if end < len(text):
            end = _cut_back(text, start + size * 3 // 4, end)
        yield start, text[start:end]
        if end >= len(text):
            return
        start = _resume(text, end - 2 * overlap, end - overlap)


def assess_long(text: str) -> Assessment:
    """The red flags anywhere in ``text`` (up to ANALYSE_CHARS), window by window."""
    merged = Assessment(None)
    seen: set[str] = set()
    for _offset, window in windows(text[:ANALYSE_CHARS]):
        if window in seen:  # repeated padding is read once
            continue
        seen.add(window)
        merged = merged.merged(assess(analyse(window)))
    return merged


def red_flag_messages(text: Any) -> list[dict[str, Any]]:
    """The escalation for a red flag anywhere in ``text`` (urgent or higher), or nothing."""
    if not isinstance(text, str) or not text.strip():
        return []
    assessment = assess_long(text)
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
    apology = {"text": (say("unavailable"))}
    if escalation:
        return escalation + [apology]
    return [apology, {"text": SAFETY_LINE}]
