"""The triage level of a conversation: it only ever rises.

Once a person has reported a red flag, later messages ("it's fine really", a "no" to another
screening question) must not lower the level. The one exception is an explicit correction of a
misunderstanding ("no, that's not what I meant, I don't have a fever"): then the flags whose
signs the correction negates are removed and the level is worked out again from what is left.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.findings import NEGATED, SYMPTOM, Analysis
from bot.triage.engine import Assessment, concepts_of, level_rank, max_level, rule_by_id

# Levels that do not come from a red flag (they come from the end of screening) and so are not
# touched by a correction.
NON_RED_FLAG_LEVELS = ("self_care", "routine")
# Saying "I don't have pain there" should not take away a red flag that merely involves pain
# (both legs, for instance): only the specific signs of a rule can be corrected away.
GENERIC_SYMPTOMS = frozenset(
    {
        "pain",
        "ache",
        "burning",
        "shooting",
        "electric",
        "stabbing",
        "throbbing",
        "cramp",
        "stiffness",
        "spasm",
    }
)


def _known(flag_id: str) -> bool:
    try:
        rule_by_id(flag_id)
    except KeyError:
        return False
    return True


def corrected_flags(flags: Sequence[str], analysis: Analysis) -> list[str]:
    """The flags left after a correction: those whose signs the message negates are removed."""
    negated = {
        (f.label, f.concept)
        for f in analysis.findings
        if f.context == NEGATED and not (f.label == SYMPTOM and f.concept in GENERIC_SYMPTOMS)
    }
    if not negated:
        return list(flags)
    return [flag for flag in flags if not (_known(flag) and concepts_of(flag) & negated)]


def level_of_flags(flags: Sequence[str]) -> str | None:
    level: str | None = None
    for flag in flags:
        if _known(flag):
            level = max_level(level, rule_by_id(flag).level)
    return level


def update(
    prev_level: str | None,
    prev_flags: Sequence[str],
    assessment: Assessment,
    *,
    correction: bool = False,
    analysis: Analysis | None = None,
) -> tuple[str | None, list[str]]:
    """The conversation's level and flags after one more message.

    Without a correction the level is the higher of the previous level and the message's level,
    and the flags are the previous ones plus any new ones. With a correction, flags whose signs
    the correction negates are dropped first and the level is recomputed from the remaining
    flags (a level that came from the end of screening, routine or self care, is kept).
    """
    flags = list(prev_flags)
    level = prev_level
    if correction and analysis is not None:
        remaining = corrected_flags(flags, analysis)
        if remaining != flags:
            flags = remaining
            kept = prev_level if prev_level in NON_RED_FLAG_LEVELS else None
            level = max_level(kept, level_of_flags(flags))
    for flag in assessment.red_flags:
        if flag.id not in flags:
            flags.append(flag.id)
        level = max_level(level, flag.level)
    return level, flags


def rises(prev_level: str | None, new_level: str | None) -> bool:
    """True when the new level is higher than the previous one (the person must be told)."""
    return level_rank(new_level) > level_rank(prev_level)
