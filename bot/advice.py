"""What the bot says about triage: escalation, outcomes, and the screening's small talk.

The advice for each level (and its source) lives in ``data/triage/advice.yml``; the reasons and
sources of each red flag come from ``data/triage/red_flags.yml`` through the engine. This module
only puts them into messages. Each triage message carries a custom payload
``{"type": "triage", "level": ..., "red_flags": [...]}`` so channels can show it distinctly.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.corpus import load_corpus

ADVICE_FILE = Path(__file__).resolve().parent.parent / "data" / "triage" / "advice.yml"

HEADLINES = {
    "emergency": "EMERGENCY",
    "crisis": "PLEASE REACH OUT NOW",
    "urgent": "URGENT",
    "routine": "BOOK AN APPOINTMENT",
    "self_care": "SELF CARE",
}


@lru_cache(maxsize=1)
def _levels() -> dict[str, dict[str, str]]:
    with ADVICE_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return data["levels"]


def level_advice(level: str) -> dict[str, str]:
    return _levels()[level]


_SEED = re.compile(r"\bseeds? (\d{3})\b")
# The project's internal safety reference; people are shown the guidelines and documents it
# summarises instead (the full source stays in the message payload).
_INTERNAL = "CLINICAL.md"


def _document_title(match: re.Match[str]) -> str:
    document = load_corpus().documents.get(f"d{match.group(1)}")
    return f'"{document.title}"' if document else match.group(0)


def short_source(source: str, limit: int = 2) -> str:
    """The first parts of a source line, as a person should read them.

    Seed numbers become the document's title and the internal reference is left out when the
    source names anything else.
    """
    parts = [p.strip() for p in " ".join(source.split()).split(";") if p.strip()]
    public = [p for p in parts if not p.startswith(_INTERNAL)] or parts
    return "; ".join(_SEED.sub(_document_title, p) for p in public[:limit])


def _payload(level: str, flags: list[dict[str, str]]) -> dict[str, Any]:
    info = level_advice(level)
    return {
        "json_message": {
            "type": "triage",
            "level": level,
            "title": info["title"],
            "red_flags": [
                {"id": f["id"], "level": f["level"], "reason": f["reason"], "source": f["source"]}
                for f in flags
            ],
            "advice_source": " ".join(info["source"].split()),
        }
    }


def escalation_messages(level: str, flags: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Emergency first and plain: headline and what to do, then why, with the rule's source."""
    info = level_advice(level)
    lines = [f"{HEADLINES[level]}: {info['title']}.", " ".join(info["advice"].split())]
    for flag in flags[:3]:
        lines.append(f"Why: {flag['reason']}")
    if flags:
        lines.append("Source: " + short_source(flags[0]["source"]))
    return [{"text": "\n".join(lines)}, _payload(level, flags)]


def reminder_messages(level: str | None, flags: list[dict[str, str]]) -> list[dict[str, Any]]:
    if level is None:
        return []
    info = level_advice(level)
    text = f"Please don't wait: {' '.join(info['advice'].split())}"
    return [{"text": text}, _payload(level, flags)]


@lru_cache(maxsize=1)
def _what_now() -> re.Pattern[str]:
    with ADVICE_FILE.open(encoding="utf-8") as handle:
        patterns = yaml.safe_load(handle)["what_now_questions"]
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + ")", re.IGNORECASE)


def asks_what_to_do_now(text: str) -> bool:
    """Whether a message asks what to do next ("what should I do now?", "can it wait?")."""
    plain = " ".join(text.replace("\u2019", "'").replace("'", "").split())
    return bool(_what_now().search(plain))


def still_here() -> str:
    return (
        "I've stopped the symptom questions so you can get help. I'm still here if you have "
        "questions about sciatica."
    )


def stopped_screening() -> str:
    return (
        "Because of what you told me, I won't go on with the questions: please get the help "
        "described above now. I'm still here if you have questions."
    )


def screening_intro() -> str:
    return (
        "Before I say anything about what to do, I'd like to ask a few quick safety questions "
        '(say "stop" at any time if you\'d rather just ask me things).'
    )


def outcome_messages(
    level: str, flags: list[dict[str, str]], reasons: list[str], sources: list[str]
) -> list[dict[str, Any]]:
    """The end of screening: level, what to do, and why, citing the rule's source."""
    info = level_advice(level)
    lines = [f"{HEADLINES[level]}: {info['title']}.", " ".join(info["advice"].split())]
    for flag in flags[:3]:
        lines.append(f"Why: {flag['reason']}")
    for reason in reasons[:3]:
        lines.append(f"Why: {reason}")
    cited = [short_source(flags[0]["source"])] if flags else []
    cited += [short_source(s) for s in sources[:1]]
    cited.append(short_source(info["source"], limit=1))
    lines.append("Source: " + "; ".join(dict.fromkeys(cited)))
    lines.append("This is general information, not a diagnosis.")
    return [{"text": "\n".join(lines)}, _payload(level, flags)]


def stop_screening_text(in_screening: bool, *, leaving: bool = False) -> str:
    if in_screening:
        return (
            "No problem, I've stopped the questions. As we didn't finish, I can't say it's safe "
            "to look after this at home. If you notice new trouble with your bladder or bowels, "
            "numbness between your legs, or a leg getting weaker, get help straight away. "
            + ("Take care." if leaving else "What would you like to know?")
        )
    return (
        "Sure. Ask me anything about sciatica: what it is, causes, treatment, exercises, "
        "recovery, or when to get help."
    )


def correction_text(level: str | None, flags: list[dict[str, str]]) -> str:
    text = "Thanks for putting me right; I've taken that off my list."
    if level in ("emergency", "crisis", "urgent") and flags:
        reasons = "; ".join(f["reason"] for f in flags[:2])
        text += f" I still have this noted: {reasons} My advice above still stands."
    return text


def screening_nudge() -> str:
    return (
        "Let's finish these quick safety questions first. You can answer with yes, no or not "
        'sure, or say "stop" to skip them.'
    )


def empty_message_text() -> str:
    return "I didn't get any words there. Tell me about your pain, or ask me a question."


def not_covered_text() -> str:
    return (
        "Sorry, the documents I answer from don't cover that, so I'd rather not guess. "
        "Here's what I can help with:"
    )
