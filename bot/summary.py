"""Says back, in one short message, what the bot understood of a symptom description."""

from __future__ import annotations

from collections.abc import Iterable

from bot.findings import (
    AGGRAVATING,
    BODY_LOCATION,
    CURRENT,
    DURATION,
    ONSET,
    RELIEVING,
    SEVERITY,
    SIDE,
    SYMPTOM,
    Finding,
)
from bot.triage.engine import address

_POSSESSIVE = {"she": "her", "he": "his", "they": "their", "you": "your"}

_WORDS = {
    "pins_and_needles": "pins and needles",
    "lower_back": "lower back",
    "back_passage": "back passage",
    "saddle_area": "saddle area",
    "lying_down": "lying down",
    "both": "both sides",
}


def _say(concept: str) -> str:
    return _WORDS.get(concept, concept.replace("_", " "))


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


_PLAIN = ("pain", "ache")


def _feelings(concepts: list[str]) -> list[str]:
    """ "shooting" and "pain" read as "shooting pain"; other feelings stay as they are."""
    qualities = [_say(c) for c in concepts if c not in _PLAIN]
    plain = [c for c in concepts if c in _PLAIN]
    if (
        plain
        and qualities
        and all(
            q in ("shooting", "burning", "stabbing", "throbbing", "electric", "sharp")
            for q in qualities[:1]
        )
    ):
        return [f"{qualities[0]} {plain[0]}", *qualities[1:]]
    return [*qualities, *plain] if not plain else [*plain, *qualities]


def _theirs_now(finding: Finding) -> bool:
    return finding.is_others and finding.assertion == CURRENT


def whose(findings: Iterable[Finding]) -> str:
    """Whose symptoms these are, as a possessive: "your", or "your son's", "her" when they are
    all someone else's ("asking for my son: pain down his leg")."""
    named = _named_other(findings)
    return "your" if named is None else _POSSESSIVE.get(named, f"{named}'s")


def someone_else(findings: Iterable[Finding]) -> str | None:
    """The person the symptoms belong to when they are all someone else's ("your husband",
    "she"), for asking about them; None when they are the writer's own."""
    named = _named_other(findings)
    return "the person you're writing about" if named == "they" else named


def _named_other(findings: Iterable[Finding]) -> str | None:
    """The other person as the bot names them ("your son", "she", "they") when every current
    finding is someone else's; None when any is the writer's own (or there are none)."""
    findings = [f for f in findings if f.is_current or _theirs_now(f)]
    if not findings or any(f.is_current for f in findings):
        return None
    return address(next((f.who for f in findings if f.who), "") or "they")


def collect(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """Current findings grouped by label, each concept once, in the order they were said: the
    writer's own, or someone else's when the writer speaks only of them."""
    findings = list(findings)
    own = any(f.is_current for f in findings)
    grouped: dict[str, list[str]] = {}
    for finding in findings:
        if finding.is_current or (not own and _theirs_now(finding)):
            grouped.setdefault(finding.label, [])
            if finding.concept not in grouped[finding.label]:
                grouped[finding.label].append(finding.concept)
    return grouped


def summarise(findings: Iterable[Finding]) -> str:
    """One short sentence: where, which side, what it feels like, how long, how bad, triggers.

    Returns an empty string when nothing about the symptoms was understood.
    """
    heard = described(findings)
    return f"Here's what I understood: {heard}." if heard else ""


def described(findings: Iterable[Finding]) -> str:
    """What :func:`summarise` says back, without its lead-in and full stop ("tingling, in your
    foot"), for other sentences to carry; empty when nothing was understood."""
    findings = list(findings)
    got = collect(findings)
    owner = whose(findings)
    parts: list[str] = []
    feelings = _feelings(got.get(SYMPTOM, []))
    places = [_say(c) for c in got.get(BODY_LOCATION, [])]
    sides = _unique(_say(c) for c in got.get(SIDE, []))
    if "left" in sides and "right" in sides:
        sides = ["both sides"]
    if feelings:
        parts.append(_join(feelings))
    if places:
        where = f"in {owner} {_join(places)}"
        if sides:
            where += f" ({_join(sides)})"
        parts.append(where)
    elif sides:
        parts.append(f"on the {_join(sides)}")
    if got.get(DURATION):
        duration = got[DURATION][0]
        # "since last week" stands on its own; "3 weeks" needs its "for".
        parts.append(duration if duration.startswith("since ") else f"for {duration}")
    if got.get(ONSET):
        parts.append(f"that came on {'suddenly' if got[ONSET][0] == 'sudden' else 'gradually'}")
    if not feelings and not places:
        # Nothing about the symptoms themselves: saying back only "worse with movement" would
        # sound as if the bot had not listened.
        return ""
    sentence = ", ".join(parts) if parts else "your symptoms"
    if got.get(SEVERITY):
        sentence += f", severity {got[SEVERITY][0]}"
    if got.get(AGGRAVATING):
        sentence += f", worse with {_join([_say(c) for c in got[AGGRAVATING]])}"
    if got.get(RELIEVING):
        sentence += f", easier with {_join([_say(c) for c in got[RELIEVING]])}"
    return sentence
