"""Message-level routing used by the Rasa NLU component and by the actions.

One call, ``route(text)``, gives everything the rest of the bot needs to know about a single
message: the findings with their context (as Rasa-style entity dicts) and whether the message
reports a current red flag. The red-flag check here does not look at any intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot import advice
from bot.findings import Analysis
from bot.nlp import analyse, build_pipeline
from bot.triage.engine import Assessment, assess

RED_FLAG_INTENT = "report_red_flag"
# Levels that route a message to the red-flag response straight away.
ROUTED_LEVELS = ("emergency", "crisis", "urgent")


@dataclass
class RoutingResult:
    analysis: Analysis
    assessment: Assessment
    entities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def red_flag_level(self) -> str | None:
        level = self.assessment.level
        return level if level in ROUTED_LEVELS else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.as_dict() for f in self.analysis.findings],
            "is_question": self.analysis.is_question,
            "red_flag_level": self.red_flag_level,
            "red_flags": [flag.id for flag in self.assessment.red_flags],
        }


# A message the classifier took for a symptom description but which asks a question is routed to
# the best question intent when that intent has at least this confidence ("I've had this for two
# weeks, do I need an MRI?" wants the MRI answer).
QUESTION_MIN_CONFIDENCE = 0.15
DESCRIBE_INTENT = "describe_symptoms"


def question_intent(
    predicted: str | None, ranking: list[dict[str, Any]], is_question: bool
) -> str | None:
    """The ask_* intent to use instead of a symptom description, or None to keep it."""
    if predicted != DESCRIBE_INTENT or not is_question:
        return None
    for entry in ranking:
        name = entry.get("name") or ""
        if name.startswith("ask_") and entry.get("confidence", 0.0) >= QUESTION_MIN_CONFIDENCE:
            return name
    return None


# Small-talk intents a question about what to do next is sometimes mistaken for ("ok, what should
# I do now?" as chitchat). Such a message goes to the fallback action, which repeats the advice
# after an escalation (bot.conversation.what_now_reply) and otherwise looks for an answer.
SMALL_TALK_INTENTS = frozenset(
    {"chitchat", "greet", "thanks", "goodbye", "bot_challenge", "out_of_scope"}
)
FALLBACK_INTENT = "nlu_fallback"


def what_now_intent(predicted: str | None, text: str) -> str | None:
    """The fallback intent for a what-to-do-now question taken for small talk, else None."""
    if predicted in SMALL_TALK_INTENTS and advice.asks_what_to_do_now(text):
        return FALLBACK_INTENT
    return None


def warm_up() -> None:
    """Build the spaCy pipeline and load the rules now rather than on the first message."""
    build_pipeline()
    assess(analyse("warm up"))


def route(text: str) -> RoutingResult:
    analysis = analyse(text)
    assessment = assess(analysis)
    entities = [
        {
            "entity": f.label,
            "value": f.concept,
            "start": f.start,
            "end": f.end,
            "confidence_entity": 1.0,
            "context": f.context,
            "text": f.text,
        }
        for f in analysis.findings
    ]
    return RoutingResult(analysis=analysis, assessment=assessment, entities=entities)
