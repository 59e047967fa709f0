"""Rasa NLU component: the one reading of each message (``bot.understanding``).

Runs last in the NLU pipeline. For every message it calls ``understand`` once, with the intent
the classifier predicted, and puts the result in the parse data as ``understanding``; the
actions read it from there and never analyse the text again. The findings are also added as
entities, each with its ``context`` (current, negated, hypothetical, historical, other_person),
next to DIET's entities, so ``/model/parse`` shows them.

The intent is left as the classifier predicted it: what a message means for the conversation is
decided in one place, ``bot.turn.decide``, with the conversation's state in hand. Red flags are
found by the rules in ``data/triage/`` whatever the intent.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.understanding import UNDERSTANDING_KEY, understand, warm_up

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class SymptomExtractor(GraphComponent, EntityExtractorMixin):
    """Adds the message's understanding to the parse data, and its findings as entities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        warm_up()

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
        if not isinstance(text, str) or text.startswith(INTENT_MESSAGE_PREFIX):
            # A button payload ("/affirm"): Rasa sets its intent after this component, and the
            # action reads it with the same function.
            return
        predicted = message.get(INTENT) or {}
        understanding = understand(
            text,
            intent=predicted.get(INTENT_NAME_KEY),
            confidence=predicted.get(PREDICTED_CONFIDENCE_KEY) or 0.0,
        )
        entities = self._merge_entities(message.get(ENTITIES, []) or [], understanding.findings)
        message.set(ENTITIES, entities, add_to_output=True)
        message.set(UNDERSTANDING_KEY, understanding.as_dict(), add_to_output=True)

    def _merge_entities(
        self, existing: list[dict[str, Any]], findings: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Our findings (each with its context) next to DIET's entities, in text order."""
        ours = [
            {
                "entity": f["label"],
                "value": f["concept"],
                "start": f["start"],
                "end": f["end"],
                "confidence_entity": 1.0,
                "context": f["context"],
                "text": f["text"],
                "extractor": self.__class__.__name__,
            }
            for f in findings
        ]
        return sorted(existing + ours, key=lambda e: (e.get("start", 0), e.get("end", 0)))
