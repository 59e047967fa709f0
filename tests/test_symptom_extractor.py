"""The Rasa NLU component in isolation: one reading of each message, in the parse data."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.understanding import UNDERSTANDING_KEY, Understanding
from components.symptom_extractor import SymptomExtractor


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> SymptomExtractor:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    return SymptomExtractor.create(
        SymptomExtractor.get_default_config(),
        storage,
        Resource("symptom_extractor"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def parse(extractor: SymptomExtractor, text: str, intent: str = "describe_symptoms") -> Message:
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.55},
            "intent_ranking": [{"name": intent, "confidence": 0.55}],
            "entities": [],
        }
    )
    extractor.process([message])
    return message


def ours(message: Message) -> list[dict[str, Any]]:
    return [e for e in message.get("entities") if e.get("extractor") == "SymptomExtractor"]


def test_symptoms_become_entities_with_context(extractor: SymptomExtractor) -> None:
    message = parse(extractor, "shooting pain down my left leg for 3 weeks, worse when I sit")
    found = {(e["entity"], e["value"], e["context"]) for e in ours(message)}
    assert ("symptom", "shooting", "current") in found
    assert ("side", "left", "current") in found
    assert ("body_location", "leg", "current") in found
    assert any(e == "duration" and c == "current" for e, _, c in found)
    assert ("aggravating_factor", "sitting", "current") in found
    # Typical sciatica is not a red flag: the classifier's intent is kept.
    assert message.get("intent")["name"] == "describe_symptoms"


def test_negated_finding_carries_its_context(extractor: SymptomExtractor) -> None:
    message = parse(extractor, "no numbness at all, just an ache in my buttock")
    contexts = {e["value"]: e["context"] for e in ours(message)}
    assert contexts.get("numbness") == "negated"
    assert contexts.get("ache") == "current"


def test_diet_entities_are_kept_next_to_ours(extractor: SymptomExtractor) -> None:
    message = Message(
        data={
            "text": "burning in my calf",
            "intent": {"name": "describe_symptoms", "confidence": 0.9},
            "entities": [
                {
                    "entity": "body_location",
                    "value": "calf",
                    "start": 14,
                    "end": 18,
                    "extractor": "DIETClassifier",
                },
                {
                    "entity": "symptom",
                    "value": "weird",
                    "start": 0,
                    "end": 7,
                    "extractor": "DIETClassifier",
                },
            ],
        }
    )
    extractor.process([message])
    extractors = {(e["value"], e["extractor"]) for e in message.get("entities")}
    assert ("weird", "DIETClassifier") in extractors
    assert ("burning", "SymptomExtractor") in extractors


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😀😀", "\x00\x07\x1b[31m", "a" * 20_000, "Ich habe Rückenschmerzen"],
)
def test_bad_input_never_crashes(extractor: SymptomExtractor, text: str) -> None:
    message = parse(extractor, text, intent="nlu_fallback")
    assert message.get("intent")["name"] == "nlu_fallback"
    assert isinstance(message.get("entities"), list)


def understanding(message: Message) -> Understanding:
    return Understanding.from_dict(message.get(UNDERSTANDING_KEY))


def test_a_red_flag_is_in_the_understanding_whatever_the_classifier_said(
    extractor: SymptomExtractor,
) -> None:
    message = parse(extractor, "i cant feel the toilet paper when i wipe", intent="greet")
    read = understanding(message)
    assert read.level == "emergency"
    assert "cauda_equina_saddle" in read.red_flag_ids
    # The intent stays as classified: what the message means is decided by the turn model.
    assert message.get("intent")["name"] == "greet"


def test_questions_and_negations_are_not_red_flags(extractor: SymptomExtractor) -> None:
    for text in ("can sciatica affect my bladder?", "no bladder or bowel problems at all"):
        assert understanding(parse(extractor, text)).red_flags == []


def test_the_understanding_survives_the_trip_through_the_tracker(
    extractor: SymptomExtractor,
) -> None:
    message = parse(extractor, "sharp pain in my lower back for about 10 days, 7/10")
    data = message.as_dict(only_output_properties=True)[UNDERSTANDING_KEY]
    read = Understanding.from_dict(data)
    weeks = [f["weeks"] for f in read.findings if f["label"] == "duration"]
    scores = [f["score"] for f in read.findings if f["label"] == "severity"]
    assert weeks and abs(weeks[0] - 10 / 7) < 0.01
    assert scores == [7.0]
    assert "report" in read.acts


def test_a_button_payload_is_left_to_the_action(extractor: SymptomExtractor) -> None:
    message = parse(extractor, "/affirm", intent="affirm")
    assert message.get(UNDERSTANDING_KEY) is None
