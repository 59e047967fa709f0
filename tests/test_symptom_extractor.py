"""The Rasa NLU component in isolation: entities with context, and red-flag routing."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from components.symptom_extractor import ANALYSIS_KEY, SymptomExtractor


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


@pytest.mark.parametrize(
    "text, predicted",
    [
        ("i wet myself this morning and my back is killing me", "describe_symptoms"),
        ("can't feel anything down there when i wipe", "nlu_fallback"),
        (
            "what is sciatica? also my leg keeps giving way and it's getting worse",
            "ask_what_is_sciatica",
        ),
    ],
)
def test_current_red_flag_is_routed_whatever_the_classifier_said(
    extractor: SymptomExtractor, text: str, predicted: str
) -> None:
    message = parse(extractor, text, intent=predicted)
    assert message.get("intent") == {"name": "report_red_flag", "confidence": 1.0}
    # What the classifier said is still visible in the ranking.
    assert predicted in [r["name"] for r in message.get("intent_ranking")]
    assert message.get(ANALYSIS_KEY)["red_flags"]


@pytest.mark.parametrize(
    "text",
    [
        "should I worry about bladder problems?",
        "no problems with my bladder or bowels",
        "my father had bowel cancer",
    ],
)
def test_questions_negations_and_other_people_are_not_routed(
    extractor: SymptomExtractor, text: str
) -> None:
    message = parse(extractor, text, intent="ask_red_flags")
    assert message.get("intent")["name"] == "ask_red_flags"


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


def test_a_story_that_ends_in_a_question_gets_the_question_intent(
    extractor: SymptomExtractor,
) -> None:
    message = Message(
        data={
            "text": "leg pain 2 weeks and my friend says i should get an mri, is she right?",
            "intent": {"name": "describe_symptoms", "confidence": 0.74},
            "intent_ranking": [
                {"name": "describe_symptoms", "confidence": 0.74},
                {"name": "ask_mri", "confidence": 0.24},
            ],
            "entities": [],
        }
    )
    extractor.process([message])
    assert message.get("intent")["name"] == "ask_mri"


def test_a_plain_description_stays_a_description(extractor: SymptomExtractor) -> None:
    message = Message(
        data={
            "text": "ive had this leg pain for 2 weeks and it burns when i sit",
            "intent": {"name": "describe_symptoms", "confidence": 0.74},
            "intent_ranking": [
                {"name": "describe_symptoms", "confidence": 0.74},
                {"name": "ask_mri", "confidence": 0.24},
            ],
            "entities": [],
        }
    )
    extractor.process([message])
    assert message.get("intent")["name"] == "describe_symptoms"


def test_a_red_flag_only_the_classifier_saw_leads_to_screening(
    extractor: SymptomExtractor,
) -> None:
    message = parse(extractor, "its not getting weaker, no", intent="report_red_flag")
    assert message.get("intent")["name"] == "describe_symptoms"


@pytest.mark.parametrize("intent", ["chitchat", "thanks", "out_of_scope"])
def test_what_to_do_now_taken_for_small_talk_goes_to_the_fallback(
    extractor: SymptomExtractor, intent: str
) -> None:
    assert parse(extractor, "ok what should i do now?", intent).get("intent")["name"] == (
        "nlu_fallback"
    )


def test_small_talk_and_questions_otherwise_keep_their_intent(extractor: SymptomExtractor) -> None:
    assert parse(extractor, "you are funny", "chitchat").get("intent")["name"] == "chitchat"
    asked = parse(extractor, "what should i do for sciatica", "ask_treatment")
    assert asked.get("intent")["name"] == "ask_treatment"
