"""Curated answers, follow-ups, the menu and the question evaluation, as a user meets them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.knowledge.answers import (
    EXERCISE_TOPICS,
    TOPICS,
    Answer,
    KnowledgeBase,
    Source,
    asked_about,
    follow_up,
    get_answer,
    menu_text,
    render_text,
    topics,
    topics_of_passage,
)
from bot.knowledge.evaluation import evaluate, load_questions

QUESTIONS = load_questions()
NLU_DIR = Path(__file__).resolve().parents[1] / "data" / "nlu"


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_has_an_answer_with_a_source(topic: str) -> None:
    answer = get_answer(topic)
    assert answer.topic == topic
    assert answer.title and answer.text
    assert answer.sources and answer.passages


def test_topics_are_the_fixed_ids() -> None:
    assert topics() == list(TOPICS)


def test_unknown_topic_raises() -> None:
    with pytest.raises(KeyError):
        get_answer("knee_replacement")


# What d004 gives for each exercise (and d003 for the nerve glide).
DOSES = {
    "cat_camel": ["3 sets of 5 reps per segment"],
    "nerve_glide": ["3 sets of 10 reps per side", "20 slow reps, two to three times a day"],
    "straight_leg_raise": ["3 sets of 8 reps per side"],
    "hip_cars": ["2 sets of 3 reps forward and backward, daily"],
}


@pytest.mark.parametrize("topic", EXERCISE_TOPICS)
def test_how_many_reps_after_an_exercise(topic: str) -> None:
    answer = follow_up(topic, "dose")
    assert answer is not None and answer.kind == "dose" and answer.topic == topic
    for dose in DOSES[topic]:
        assert dose in answer.text
    assert "Source" in render_text(answer)


def test_how_many_reps_after_the_exercise_overview_lists_every_dose() -> None:
    answer = follow_up("exercises", "dose")
    assert answer is not None
    for doses in DOSES.values():
        for dose in doses:
            assert dose.split(",")[0].lower() in answer.text.lower()


@pytest.mark.parametrize("last_topic", [None, "medication", "recovery", "red_flags"])
def test_how_many_reps_without_an_exercise_gives_nothing(last_topic: str | None) -> None:
    # "how often should I take it?" after a medicine answer must not get exercise reps.
    assert follow_up(last_topic, "dose") is None


def test_pregnancy_follow_up_uses_what_the_topic_says() -> None:
    answer = follow_up("prevention", "pregnancy")
    assert answer is not None and answer.kind == "pregnancy"
    assert "cannot be prevented" in answer.text
    assert answer.text != get_answer("pregnancy").text


@pytest.mark.parametrize("last_topic", [None, "mri", "surgery", "nerve_glide"])
def test_pregnancy_follow_up_falls_back_to_the_pregnancy_answer(last_topic: str | None) -> None:
    answer = follow_up(last_topic, "pregnancy")
    assert answer is not None
    assert answer.text == get_answer("pregnancy").text


def test_pregnancy_follow_up_after_medicines_sends_to_a_professional() -> None:
    answer = follow_up("medication", "pregnancy")
    assert answer is not None
    assert "pharmacist" in answer.text and "midwife" in answer.text


def test_unknown_follow_up_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        follow_up("exercises", "price")


def test_render_text_names_one_or_several_sources() -> None:
    one = Answer("x", "X", "Body.", [Source("Doc A", "a.txt", "d0")], ["d0-p00"])
    two = Answer(
        "x", "X", "Body.", [Source("Doc A", "a.txt", "d0"), Source("Doc B", "b.txt", "d1")], []
    )
    assert render_text(one) == "Body.\n\nSource: Doc A"
    assert render_text(two) == "Body.\n\nSources: Doc A; Doc B"


def test_menu_is_short_and_mentions_the_main_subjects() -> None:
    text = menu_text()
    assert len(text.splitlines()) <= 12
    for word in ("sciatica", "symptoms", "MRI", "exercises", "surgery", "warning signs"):
        assert word in text


def test_menu_covers_every_topic() -> None:
    from bot.knowledge.answers import knowledge_base

    listed = {topic for item in knowledge_base().menu for topic in item.topics}
    assert listed == set(TOPICS)


def test_question_set_covers_every_topic() -> None:
    assert len(QUESTIONS) >= 100
    labels = [q["topic"] for q in QUESTIONS]
    assert set(labels) <= set(TOPICS) | {"none"}
    for topic in TOPICS:
        assert labels.count(topic) >= 3, topic
    assert labels.count("none") >= 10
    texts = [q["text"].lower() for q in QUESTIONS]
    assert len(set(texts)) == len(texts), "duplicate questions"


def test_evaluate_counts_right_topic_with_source() -> None:
    truth = {q["text"]: q["topic"] for q in QUESTIONS}

    def oracle(text: str) -> str | None:
        return None if truth[text] == "none" else truth[text]

    perfect = evaluate(QUESTIONS, oracle)
    assert perfect == {"accuracy": 1.0, "n": len(QUESTIONS), "errors": []}

    silent = evaluate(QUESTIONS, lambda text: None)
    share_none = sum(q["topic"] == "none" for q in QUESTIONS) / len(QUESTIONS)
    assert silent["accuracy"] == pytest.approx(share_none)
    assert len(silent["errors"]) == len(QUESTIONS) - sum(q["topic"] == "none" for q in QUESTIONS)


def test_evaluate_reports_wrong_topics_and_answers_outside_the_documents() -> None:
    cases = [
        {"text": "how long does it last", "topic": "recovery"},
        {"text": "what helps a migraine", "topic": "none"},
        {"text": "do i need a scan", "topic": "mri"},
    ]
    answers = {"how long does it last": "recovery", "what helps a migraine": "treatment"}
    result = evaluate(cases, lambda text: answers.get(text, "surgery"))
    assert result["n"] == 3
    assert result["accuracy"] == pytest.approx(1 / 3)
    assert [e["text"] for e in result["errors"]] == ["what helps a migraine", "do i need a scan"]
    assert result["errors"][1] == {
        "text": "do i need a scan",
        "expected": "mri",
        "predicted": "surgery",
    }


def _training_examples() -> set[str]:
    """Every NLU training example, entity annotations removed, lower case."""
    annotation = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
    examples: set[str] = set()
    for path in sorted(NLU_DIR.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text("utf-8")) or {}).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.add(annotation.sub(r"\1", line[2:]).strip().lower())
    return examples


def test_question_set_is_held_out_from_training_data() -> None:
    training = _training_examples()
    assert training, "no NLU training examples found"
    overlap = sorted(q["text"] for q in QUESTIONS if q["text"].lower() in training)
    assert not overlap, overlap


def test_a_quote_from_a_passage_no_answer_is_written_from_is_labelled_with_its_topic() -> None:
    # d004-p19 is the rehab progression (sport and work come last); no curated answer uses it
    assert topics_of_passage("d004-p19") == ["exercises"]
    # a passage behind a curated answer keeps that answer's topic
    assert "recovery" in topics_of_passage("d001-p15")


def test_a_passage_label_naming_an_unknown_topic_or_passage_is_refused(tmp_path: Path) -> None:
    answers = Path(__file__).resolve().parents[1] / "data" / "answers"
    for name in answers.glob("*.yml"):
        (tmp_path / name.name).write_text(name.read_text("utf-8"), "utf-8")
    (tmp_path / "passages_about.yml").write_text("about:\n  d004-p19: sport\n", "utf-8")
    with pytest.raises(ValueError, match="passages_about.yml"):
        KnowledgeBase(tmp_path)
    (tmp_path / "passages_about.yml").write_text("about:\n  d009-p99: exercises\n", "utf-8")
    with pytest.raises(ValueError, match="passages_about.yml"):
        KnowledgeBase(tmp_path)


def test_the_everyday_words_of_a_topic_are_counted_in_a_question() -> None:
    counts = asked_about("how long does sciatica last after a herniated disc?")
    assert counts.get("recovery") == 2  # "long", "last"
    assert "prevention" not in asked_about("my back pain and my leg")  # "back" is not "come back"
    assert asked_about("is it piriformis?", names_only=True) == {"piriformis": 1}
