"""Every curated answer says only what its source passages say, and names its source."""

from __future__ import annotations

import re

import pytest

from bot.knowledge.answers import (
    TOPICS,
    CuratedAnswer,
    KnowledgeBase,
    get_answer,
    knowledge_base,
    render_text,
)
from bot.knowledge.corpus import DOCUMENTS_DIR, build_corpus, load_corpus, load_provenance
from bot.knowledge.text import contains_term, numbers_in, word_count

KB = knowledge_base()

# (label, curated entry) for every answer and every follow-up
ITEMS: list[tuple[str, CuratedAnswer]] = [
    (f"{topic}/{kind}", item)
    for topic, entry in KB.entries.items()
    for kind, item in [("answer", entry), *entry.follow_ups.items()]
]
IDS = [label for label, _ in ITEMS]

DOSAGE = re.compile(
    r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|µg|ml|g|milligrams?|micrograms?|grams?|units?|iu)\b"
    r"|\b(?:take|taking)\s+(?:\d+|one|two|three|four)\s+(?:tablets?|pills?|capsules?|doses?)\b"
    r"|\bmaximum (?:daily )?dose\b",
    re.IGNORECASE,
)


def passage_text(item: CuratedAnswer) -> str:
    return "\n".join(KB.corpus.get(p).full_text for p in item.passages)


def test_text_helpers_find_numbers_and_terms() -> None:
    # The checks below rely on these functions; make sure they see what a reader sees.
    assert numbers_in("Perform 20 slow reps, two to three times a day") == {20, 2, 3}
    assert numbers_in("Eighty to 90 percent; about half; L4-S1; 4\u20136 weeks") == {
        80,
        90,
        50,
        4,
        1,
        6,
    }
    assert numbers_in("no numbers here") == set()
    assert contains_term(
        "you can see a PT without needing a doctor\u2019s script", "doctor's script"
    )
    assert not contains_term("muscle relaxants", "muscle relaxant medications")


def test_every_topic_has_a_curated_answer() -> None:
    assert set(TOPICS) <= set(KB.entries)


@pytest.mark.parametrize(("label", "item"), ITEMS, ids=IDS)
def test_passages_exist(label: str, item: CuratedAnswer) -> None:
    assert item.passages, f"{label} names no passages"
    corpus = load_corpus()
    for passage_id in item.passages:
        assert passage_id in corpus, f"{label}: unknown passage {passage_id}"


@pytest.mark.parametrize(("label", "item"), ITEMS, ids=IDS)
def test_every_number_appears_in_the_passages(label: str, item: CuratedAnswer) -> None:
    invented = numbers_in(item.text) - numbers_in(passage_text(item))
    assert not invented, f"{label}: numbers {sorted(invented)} are not in {item.passages}"


@pytest.mark.parametrize(("label", "item"), ITEMS, ids=IDS)
def test_key_terms_are_in_the_answer_and_in_the_passages(label: str, item: CuratedAnswer) -> None:
    assert item.key_terms, f"{label} has no key terms"
    source = passage_text(item)
    for term in item.key_terms:
        assert contains_term(item.text, term), f"{label}: key term {term!r} not in the answer"
        assert contains_term(source, term), f"{label}: key term {term!r} not in {item.passages}"


@pytest.mark.parametrize(("label", "item"), ITEMS, ids=IDS)
def test_no_personal_dosage(label: str, item: CuratedAnswer) -> None:
    match = DOSAGE.search(item.text)
    assert match is None, f"{label}: dosage-like text {match.group(0)!r}"


def test_dosage_pattern_catches_doses() -> None:
    assert DOSAGE.search("take 400 mg three times a day")
    assert DOSAGE.search("Take two tablets every four hours")
    assert not DOSAGE.search("Perform 20 slow reps, two to three times a day")


@pytest.mark.parametrize("topic", TOPICS)
def test_main_answers_are_short(topic: str) -> None:
    assert 40 <= word_count(KB.entries[topic].text) <= 120


@pytest.mark.parametrize("topic", TOPICS)
def test_rendered_answer_names_its_source(topic: str) -> None:
    answer = get_answer(topic)
    assert answer.sources
    last_line = render_text(answer).splitlines()[-1]
    assert last_line.startswith(("Source: ", "Sources: "))
    for source in answer.sources:
        assert source.title in last_line
        assert (DOCUMENTS_DIR / source.file_name).is_file()


def test_red_flags_answer_gives_emergency_advice() -> None:
    text = get_answer("red_flags").text.lower()
    assert "emergency department" in text and "emergency number" in text and "now" in text
    for sign in ("urine", "bowel", "numbness between the legs", "foot drop", "weakness"):
        assert sign in text


def test_nerve_glide_steps_match_the_document() -> None:
    text = get_answer("nerve_glide").text.lower()
    steps = [
        "lie on your back",
        "hip flexed to 90 degrees",
        "hands holding your thigh",
        "knee bent",
        "toes pointing up to the ceiling",
        "slowly straighten your knee",
        "without any increase in your leg pain",
        "20 slow reps, two to three times a day",
    ]
    positions = [text.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "steps are out of order"


@pytest.mark.parametrize("topic", ["cat_camel", "straight_leg_raise", "hip_cars"])
def test_exercises_without_instructions_are_not_invented(topic: str) -> None:
    text = get_answer(topic).text.lower()
    assert "only the sets and reps" in text and "physical therapist" in text
    for invented in ("hands and knees", "arch your", "round your", "circle", "lift your leg"):
        assert invented not in text


def test_disagreements_on_rest_are_stated() -> None:
    for topic in ("rest_and_activity", "treatment"):
        text = get_answer(topic).text.lower()
        assert "bed rest" in text and "staying mobile" in text and "differ" in text


def test_medicine_answer_points_to_doctor_or_pharmacist() -> None:
    assert "doctor or pharmacist" in get_answer("medication").text


def test_off_topic_end_of_d001_is_never_a_passage() -> None:
    corpus = load_corpus()
    everything = "\n".join(p.full_text for p in corpus.passages).lower()
    for phrase in ("athlete", "quadriceps", "ultrasound", "buy now", "telehealth", "posted 09"):
        assert phrase not in everything


def test_passage_ids_are_stable_and_in_text_order() -> None:
    first, second = build_corpus(), build_corpus()
    assert [(p.id, p.text) for p in first.passages] == [(p.id, p.text) for p in second.passages]
    for doc_id in first.documents:
        ids = [p.id for p in first.of_document(doc_id)]
        assert ids == [f"{doc_id}-p{n:02d}" for n in range(len(ids))]
    assert first.get("d003-p02").text.startswith("A good treatment technique")


def test_provenance_lists_the_five_documents() -> None:
    provenance = load_provenance()
    assert [d.id for d in provenance.documents] == ["d000", "d001", "d002", "d003", "d004"]
    for document in provenance.documents:
        assert document.title and (DOCUMENTS_DIR / document.file_name).is_file()
        assert document.title_from in ("document", "project")
    assert provenance.exclude_after["d001"] == "In this instance, an athlete"


def test_answer_naming_an_unknown_passage_is_rejected(tmp_path) -> None:
    (tmp_path / "menu.yml").write_text("menu: {intro: x, items: []}\n", "utf-8")
    (tmp_path / "bad.yml").write_text(
        "answers:\n  - {topic: mri, title: t, text: x, passages: [d009-p99], key_terms: []}\n",
        "utf-8",
    )
    with pytest.raises(ValueError, match="d009-p99"):
        KnowledgeBase(tmp_path)
