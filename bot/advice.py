"""What the bot says about triage: escalation, outcomes, and the screening's small talk.

The advice for each level (and its source) lives in ``data/triage/advice.yml``; the reasons and
sources of each red flag come from ``data/triage/red_flags.yml`` through the engine. This module
only puts them into messages. Each triage message carries a custom payload
``{"type": "triage", "level": ..., "red_flags": [...]}`` so channels can show it distinctly.
"""

from __future__ import annotations

import re
from typing import Any

from bot.knowledge.corpus import load_corpus
from bot.messages import say
from bot.triage.engine import LEVELS, advice_for


def headlines() -> list[str]:
    """The first words of each level's result ("EMERGENCY", "URGENT", ...)."""
    return [say(f"headline.{level}", title="").split(":")[0] for level in LEVELS]


def level_advice(level: str) -> dict[str, str]:
    """What to do at a level, its title and its source (``data/triage/advice.yml``)."""
    advice = advice_for(level)
    return {"title": advice.title, "advice": advice.advice, "source": advice.source}


_SEED = re.compile(r"\bseeds? (\d{3})\b")


def _document_title(match: re.Match[str]) -> str:
    document = load_corpus().documents.get(f"d{match.group(1)}")
    return f'"{document.title}"' if document else match.group(0)


def short_source(source: str, limit: int = 2) -> str:
    """The first parts of a source line, as a person should read them.

    Seed numbers become the document's title; guidelines are named with their address.
    """
    parts = [p.strip() for p in " ".join(source.split()).split(";") if p.strip()]
    return "; ".join(_SEED.sub(_document_title, p) for p in parts[:limit])


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
    lines = [say(f"headline.{level}", title=info["title"]), " ".join(info["advice"].split())]
    for flag in flags[:3]:
        lines.append(f"Why: {flag['reason']}")
    if flags:
        lines.append("Source: " + short_source(flags[0]["source"]))
    return [{"text": "\n".join(lines)}, _payload(level, flags)]


def with_payload(text: str, level: str, flags: list[dict[str, str]]) -> list[dict[str, Any]]:
    """A message about what to do, with the triage payload channels show distinctly."""
    return [{"text": text}, _payload(level, flags)]


def reminder_messages(level: str | None, flags: list[dict[str, str]]) -> list[dict[str, Any]]:
    if level is None:
        return []
    info = level_advice(level)
    text = say("reminder", variant=0, advice=" ".join(info["advice"].split()))
    return [{"text": text}, _payload(level, flags)]


def outcome_messages(
    level: str, flags: list[dict[str, str]], reasons: list[str], sources: list[str]
) -> list[dict[str, Any]]:
    """The end of screening: level, what to do, and why, citing the rule's source."""
    info = level_advice(level)
    lines = [say(f"headline.{level}", title=info["title"]), " ".join(info["advice"].split())]
    for flag in flags[:3]:
        lines.append(f"Why: {flag['reason']}")
    for reason in reasons[:3]:
        lines.append(f"Why: {reason}")
    cited = [short_source(flags[0]["source"])] if flags else []
    cited += [short_source(s) for s in sources[:1]]
    cited.append(short_source(info["source"], limit=1))
    lines.append("Source: " + "; ".join(dict.fromkeys(cited)))
    lines.append(say("not_a_diagnosis"))
    return [{"text": "\n".join(lines)}, _payload(level, flags)]
