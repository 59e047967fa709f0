"""Check-ins: "check on me in 3 days" comes back as a Rasa reminder and asks how things are.

Plain Python: how long to wait (read from the message), the pain trend, and what the documents
say it means (``data/plan/checkin.yml``, with sources). ``bot.turn`` asks the questions and
keeps the trend in the conversation's state; the action turns the turn's ``reminder`` into
Rasa's ``ReminderScheduled`` / ``ReminderCancelled``.

``BOT_CHECKIN_DAY_SECONDS`` sets how many seconds a check-in "day" lasts (default 86400). Only
the tests shorten it, so that a check-in "in 2 days" fires within seconds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any

from bot import paths
from bot.knowledge.text import NUMBER_WORDS

DATA_FILE = "plan/checkin.yml"
DAY_SECONDS_ENV = "BOT_CHECKIN_DAY_SECONDS"
DAY = 86400.0
REMINDER_NAME = "checkin"
REMINDER_INTENT = "EXTERNAL_checkin"

# What the trend means.
FIRST, IMPROVING, SETTLING, WORSE, ASSESS = "first", "improving", "settling", "worse", "assess"


@cache
def _data() -> dict[str, Any]:
    return paths.load_yaml(DATA_FILE)


def max_days() -> int:
    return int(_data()["max_days"])


def no_improvement_weeks() -> int:
    return int(_data()["no_improvement_weeks"])


def source(key: str) -> str:
    return " ".join(str(_data()[key]).split())


def day_seconds(env: dict[str, str] | None = None) -> float:
    """Seconds in a check-in day: 86400, or ``BOT_CHECKIN_DAY_SECONDS`` when set (tests)."""
    raw = (env if env is not None else os.environ).get(DAY_SECONDS_ENV, "").strip()
    if not raw:
        return DAY
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{DAY_SECONDS_ENV} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{DAY_SECONDS_ENV} must be more than 0, not {raw!r}")
    return value


# --- reading a message -------------------------------------------------------------------------

_COUNT = {**NUMBER_WORDS, "a": 1, "an": 1, "one": 1, "couple": 2, "few": 3}
_AMOUNT = r"(\d{1,3}|[a-z]+)(?: of)?\s+(day|days|week|weeks|wk|wks|fortnight|fortnights)\b"
# "in 3 days" / "after a week" first: "I've had it for 3 weeks, check on me in 2 days" is 2.
_DELAYS = (
    re.compile(r"\b(?:in|after|within)\s+(?:another\s+|the\s+next\s+)?" + _AMOUNT),
    re.compile(r"\b" + _AMOUNT),
)
_UNIT_DAYS = {"day": 1, "week": 7, "wk": 7, "fortnight": 14}


def delay_days(text: str) -> int | None:
    """How many days "check on me in 3 days" asks for ("tomorrow" 1, "next week" 7), or None."""
    plain = text.lower().replace("\u2019", "'")
    for pattern in _DELAYS:
        match = pattern.search(plain)
        if match is None:
            continue
        word, unit = match.group(1), match.group(2).rstrip("s")
        count = int(word) if word.isdigit() else _COUNT.get(word)
        if count is None:
            count = 1 if word in ("next", "the", "this") else None
        if count is not None:
            return count * _UNIT_DAYS[unit]
    if re.search(r"\btomorrow\b", plain):
        return 1
    if re.search(r"\b(next week|a week)\b", plain):
        return 7
    return None


_SCORE = re.compile(r"\b(10|[0-9])(?:\.\d)?\s*(?:/|out of)\s*10\b")
_BARE = re.compile(r"^\D*?\b(10|[0-9])\b\D*$")


def pain_score(text: str) -> int | None:
    """A pain score 0-10 the message gives ("4", "about 5/10", "six"), or None."""
    plain = text.lower()
    match = _SCORE.search(plain) or _BARE.match(plain)
    if match:
        return int(match.group(1))
    words = re.findall(r"[a-z]+", plain)
    numbers = [NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS and NUMBER_WORDS[w] <= 10]
    if len(numbers) == 1 and len(words) <= 6 and not {"once", "twice"} & set(words):
        return numbers[0]
    return None


# --- the trend ----------------------------------------------------------------------------------


def trend_status(trend: Sequence[dict[str, Any]], today: date) -> str:
    """What the latest check-in means, as the documents read it.

    ``trend``: oldest first, each ``{"date": "2024-05-01", "pain": 0-10 or None, "life":
    "better" / "same" / "worse" or None}``. Worse daily life, or pain 2 points up on the last
    score: see someone (seed 002). Better: pain below the first score, or daily life better.
    Otherwise not improving: after ``no_improvement_weeks`` since the first entry, be assessed
    (seed 004); before that, most cases settle within 4-6 weeks.
    """
    if not trend:
        return FIRST
    latest = trend[-1]
    pains = [e["pain"] for e in trend if isinstance(e.get("pain"), int)]
    if latest.get("life") == "worse":
        return WORSE
    if len(pains) >= 2 and isinstance(latest.get("pain"), int) and pains[-1] >= pains[-2] + 2:
        return WORSE
    if latest.get("life") == "better" or (len(pains) >= 2 and pains[-1] < pains[0]):
        return IMPROVING
    weeks = (today - date.fromisoformat(trend[0]["date"])).days / 7
    if weeks >= no_improvement_weeks():
        return ASSESS
    return SETTLING


def trend_line(trend: Sequence[dict[str, Any]]) -> str:
    """ "6 → 5 → 5" for the pain scores in order (empty when there are none)."""
    return " \u2192 ".join(str(e["pain"]) for e in trend if isinstance(e.get("pain"), int))
