"""Rasa NLU component: the project's spaCy symptom understanding plus red-flag routing.

Runs last in the NLU pipeline. For every message it

1. analyses the text with the project's own spaCy pipeline (``bot.nlp``: clinical lexicon
   as an entity ruler + ConText) and adds each finding as an entity with its ``context``
   (current, negated, hypothetical, historical, other_person) next to DIET's entities;
2. runs the red-flag engine (``bot.triage.engine``) on those findings and, when the
   message reports a *current* red flag, sets the intent to ``report_red_flag`` with
   confidence 1.0 (the intent DIET predicted stays in ``intent_ranking``). This is what
   makes red-flag routing independent of the intent classifier: a rule maps
   ``report_red_flag`` to the escalation, whatever DIET, its confidence or the fallback
   classifier said.
3. otherwise, when the classifier predicted ``report_red_flag`` on its own, routes the message
   to ``describe_symptoms``: the red-flag route is taken only on the detector's word, and a
   guessed red flag leads to the screening questions instead (ask, don't guess);
4. when the classifier took a message for a symptom description but the message asks a
   question, routes it to the best ``ask_*`` intent (``bot.routing.question_intent``).

The full analysis is also attached to the parse data as ``symptom_analysis``.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot import routing

logger = logging.getLogger(__name__)

ANALYSIS_KEY = "symptom_analysis"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class SymptomExtractor(GraphComponent, EntityExtractorMixin):
    """Adds lexicon findings with context and routes current red flags deterministically."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Intent given to messages that report a current red flag.
            "red_flag_intent": routing.RED_FLAG_INTENT,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        routing.warm_up()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SymptomExtractor:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process_message(message)
        return messages

    def _process_message(self, message: Message) -> None:
        text: str | None = message.get(TEXT)
        if not isinstance(text, str):
            return
        result = routing.route(text)

        entities = self._merge_entities(message.get(ENTITIES, []) or [], result.entities)
        message.set(ENTITIES, entities, add_to_output=True)
        message.set(ANALYSIS_KEY, result.as_dict(), add_to_output=True)

        if result.red_flag_level is not None:
            self._route_to(message, self._config["red_flag_intent"])
            return
        predicted = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        guessed_red_flag = predicted == self._config["red_flag_intent"]
        if guessed_red_flag:
            # The classifier guessed a red flag the detector does not see: ask rather than
            # guess. As a symptom description it leads to the screening questions (or, during
            # screening, is read as the answer to the open question).
            predicted = routing.DESCRIBE_INTENT
        asked = routing.question_intent(
            predicted, message.get(INTENT_RANKING_KEY) or [], result.analysis.is_question
        ) or routing.what_now_intent(predicted, text)
        if asked is not None:
            self._route_to(message, asked)
        elif guessed_red_flag:
            self._route_to(message, predicted)

    def _merge_entities(
        self, existing: list[dict[str, Any]], found: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Our findings (each with its context) next to DIET's entities, in text order."""
        ours = [{**entity, "extractor": self.__class__.__name__} for entity in found]
        return sorted(existing + ours, key=lambda e: (e.get("start", 0), e.get("end", 0)))

    def _route_to(self, message: Message, name: str) -> None:
        predicted = message.get(INTENT) or {}
        ranking = [
            r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get(INTENT_NAME_KEY) != name
        ]
        routed = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, routed, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [routed, *ranking], add_to_output=True)
        logger.debug(
            "Intent %s routed to %s.",
            predicted.get(INTENT_NAME_KEY),
            name,
        )
