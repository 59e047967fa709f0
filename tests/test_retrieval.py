"""Questions without a curated answer: quote the right document, or say it is not covered."""

from __future__ import annotations

import pytest

from bot.knowledge.answers import render_text
from bot.knowledge.calibrate import Case, Scored, calibrate, choose_threshold, load_cases
from bot.knowledge.corpus import load_corpus
from bot.knowledge.retrieval import (
    analyse_text,
    answer_unknown,
    default_index,
    excerpt,
    load_threshold,
    search,
)
from bot.knowledge.text import sentences

# Phrased differently from the calibration questions on purpose.
IN_SCOPE = [
    ("what can a myelogram show", "d001"),
    ("does quitting cigarettes help my back", "d001"),
    ("what does the middle gluteus muscle do", "d002"),
    ("what are the L4 to S1 nerve roots", "d003"),
    ("why is it worse when i cough", "d001"),
    ("is yoga any good for leg pain", "d001"),
    ("should i keep my back straight when lifting", "d001"),
    ("what is radiculopathy", "d004"),
    ("can a tumour mimic sciatica", "d000"),
    ("wat does a nerve conduction velocty test look at", "d001"),
]

OUT_OF_SCOPE = [
    "how do i make lasagne",
    "what is the best phone to buy",
    "how do I treat hay fever",
    "is paracetamol safe with alcohol",
    "how much does a gym membership cost",
    "whats good for heartburn",
    "what is the best car insurance",
    "how do i fix a squeaky door",
]


@pytest.mark.parametrize(("question", "doc_id"), IN_SCOPE)
def test_in_scope_question_is_answered_from_the_right_document(question: str, doc_id: str) -> None:
    answer = answer_unknown(question)
    assert answer is not None, question
    assert answer.sources[0].doc_id == doc_id
    assert answer.kind == "retrieved"
    assert render_text(answer).splitlines()[-1] == f"Source: {answer.sources[0].title}"


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_off_topic_question_gets_no_answer(question: str) -> None:
    assert answer_unknown(question) is None


@pytest.mark.parametrize(("question", "doc_id"), IN_SCOPE)
def test_quote_is_short_and_verbatim(question: str, doc_id: str) -> None:
    answer = answer_unknown(question)
    assert answer is not None
    quote = answer.text.split("\u201c", 1)[1].rsplit("\u201d", 1)[0]
    passage = load_corpus().get(answer.passages[0])
    passage_sentences = sentences(passage.text)
    quoted = [s for s in passage_sentences if s in quote]
    assert 1 <= len(quoted) <= 2
    assert " ".join(quoted) == quote


def test_contact_offers_are_never_quoted() -> None:
    index = default_index()
    offer = load_corpus().get("d004-p21")  # safety note followed by "You can always email me"
    quote = excerpt(offer, index.tokens("email me or set up a free discovery call"), index)
    assert "email" not in quote.lower() and "discovery call" not in quote.lower()
    note = answer_unknown("what if these exercises make my pain levels increase")
    assert note is not None
    assert "too advanced" in note.text and "email" not in note.text.lower()


def test_search_returns_best_first_and_at_most_k() -> None:
    hits = search("spinal injections for nerve root swelling", k=3)
    assert 1 <= len(hits) <= 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].passage.id == "d001-p12"
    assert search("the and of", k=3) == []


def test_everyday_words_and_typos_reach_the_documents_words() -> None:
    assert analyse_text("bum") == analyse_text("buttock")
    assert analyse_text("physio") == analyse_text("physical therapy")
    assert analyse_text("lifting") == analyse_text("lifts") == analyse_text("lift")
    assert analyse_text("muscles") == analyse_text("muscle")
    vocabulary = default_index().vocabulary
    assert analyse_text("sciatca piriformus", vocabulary) == analyse_text("sciatica piriformis")
    assert analyse_text("train", vocabulary) != analyse_text("strain")


def test_stored_threshold_is_what_calibration_gives() -> None:
    stored = load_threshold()
    assert 0 < stored < 1
    result = calibrate(load_cases(), default_index())
    assert result["threshold"] == pytest.approx(stored, abs=1e-3)
    assert result["figures"]["accuracy"] >= 0.8


def test_threshold_choice_separates_labelled_scores() -> None:
    def scored(score: float, in_scope: bool) -> Scored:
        case = Case("q", in_scope, ("d001",) if in_scope else ())
        return Scored(case, score, "d001")

    data = [scored(s, False) for s in (0.1, 0.2, 0.3)] + [scored(s, True) for s in (0.6, 0.9)]
    threshold, accuracy = choose_threshold(data)
    assert accuracy == 1.0
    assert 0.3 < threshold <= 0.6
    assert threshold == pytest.approx(0.45)
