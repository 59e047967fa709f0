"""The external evaluation: its data files and its scorers (no servers)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from scripts import eval_external as ext
from scripts.eval_external import Item, Outcome

# --- the loader ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def splits() -> dict[str, list[Item]]:
    return {split: ext.load_split(split) for split in ext.SPLITS}


def test_both_splits_load_and_are_well_formed(splits: dict[str, list[Item]]) -> None:
    sources = ext.load_sources()
    for items in splits.values():
        assert items
        for item in items:
            assert item.category in ext.CATEGORIES
            assert item.text.strip() == item.text and "  " not in item.text
            assert len(item.text) <= 2000  # the REST channel's limit
            assert item.source in sources and item.ref
            if item.category == "question":
                assert item.topics <= ext.TOPICS | {ext.NOT_COVERED}
            if item.category == "emergency":
                assert item.label["level"] in ext.FLAGGED_LEVELS


def test_every_source_names_its_licence_and_origin() -> None:
    for source in ext.load_sources().values():
        assert source["licence"] and source["url"] and source["citation"]
        assert source.get("commit") or source.get("repository")


def test_splits_are_disjoint(splits: dict[str, list[Item]]) -> None:
    dev, test = splits["dev"], splits["test"]
    assert not {i.id for i in dev} & {i.id for i in test}
    norm = [{" ".join(i.text.lower().split()) for i in part} for part in (dev, test)]
    assert not norm[0] & norm[1]


def test_split_is_a_deterministic_function_of_the_text(splits: dict[str, list[Item]]) -> None:
    for split, items in splits.items():
        for item in items:
            assert ext.split_of(item.text) == split
    assert ext.split_of("My back hurts") == ext.split_of("  my BACK   hurts ")
    texts = [f"sentence number {n}" for n in range(400)]
    shares = Counter(ext.split_of(t) for t in texts)
    assert 0.3 < shares["dev"] / len(texts) < 0.5


def test_each_category_is_large_enough(splits: dict[str, list[Item]]) -> None:
    counts = Counter(i.category for items in splits.values() for i in items)
    assert sum(counts.values()) >= 150
    for category in ext.CATEGORIES:
        assert counts[category] >= 25, category
        assert any(i.category == category for i in splits["dev"]), category


def _write(tmp_path: Path, split: str, items: list[dict]) -> Path:
    (tmp_path / "sources.yml").write_text(
        yaml.safe_dump({"sources": {"s": {"title": "t", "licence": "CC0", "url": "u"}}})
    )
    (tmp_path / f"{split}.yml").write_text(yaml.safe_dump({"split": split, "items": items}))
    return tmp_path


def _text_in(split: str) -> str:
    return next(t for t in (f"my back hurts {n}" for n in range(100)) if ext.split_of(t) == split)


def test_the_loader_refuses_malformed_items(tmp_path: Path) -> None:
    text = _text_in("dev")
    good = {"id": "a", "category": "not_back_pain", "text": text, "source": "s", "ref": "r"}
    assert ext.load_split("dev", _write(tmp_path, "dev", [good]))[0].text == text
    bad_items = [
        {**good, "category": "other"},
        {**good, "source": "unknown"},
        {**good, "text": ""},
        {**good, "category": "question", "label": {"topics": ["astrology"]}},
        {**good, "category": "emergency", "label": {}},
        {**good, "text": _text_in("test")},
    ]
    for bad in bad_items:
        with pytest.raises(ext.DataError):
            ext.load_split("dev", _write(tmp_path, "dev", [bad]))
    with pytest.raises(ext.DataError):
        ext.load_split("dev", _write(tmp_path, "dev", [good, good]))


# --- the scorers -----------------------------------------------------------------------------

GREETING = {
    "text": "Hi, I can help with back and leg pain. This is not a diagnosis. In an emergency, "
    "call your local emergency number."
}
SCREENING = {
    "text": "(1/8) Any numbness between your legs?",
    "buttons": [
        {"title": "Yes", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
        {"title": "Not sure", "payload": "/unsure"},
    ],
}


def item(category: str, **label: object) -> Item:
    return Item("x", category, "some text", "s", "r", label)


def sources(topic: str) -> dict:
    return {"custom": {"type": "sources", "topic": topic, "sources": []}}


def test_emergency_passes_on_a_flagged_level() -> None:
    for level in ("urgent", "emergency", "crisis"):
        verdict = ext.score_emergency(
            item("emergency", level="emergency"),
            Outcome(
                [{"text": "EMERGENCY: call your local emergency number now."}],
                {"triage_level": level, "red_flags": ["x"]},
            ),
        )
        assert verdict.passed, level


def test_emergency_passes_when_safely_deflected_without_a_level() -> None:
    outcome = Outcome(
        [{"text": "That isn't a sciatica problem. Please see a doctor or urgent care today."}],
        {"triage_level": None},
    )
    assert ext.score_emergency(item("emergency", level="urgent"), outcome).passed


def test_emergency_fails_on_the_greeting_or_self_care() -> None:
    for level in (None, "self_care", "routine"):
        outcome = Outcome(
            [GREETING, {"text": "Stay active and try the nerve glide."}], {"triage_level": level}
        )
        verdict = ext.score_emergency(item("emergency", level="emergency"), outcome)
        assert not verdict.passed and verdict.unsafe, level
    conditional = Outcome([{"text": "If it gets worse, go to the emergency department."}])
    assert not ext.score_emergency(item("emergency", level="urgent"), conditional).passed


def test_description_needs_the_intent_and_a_symptom_or_location() -> None:
    def parsed(intent: str, *entities: str) -> Outcome:
        return Outcome(
            [], parse={"intent": {"name": intent}, "entities": [{"entity": e} for e in entities]}
        )

    desc = item("back_pain_description")
    assert ext.score_description(desc, parsed("describe_symptoms", "body_location")).passed
    assert ext.score_description(desc, parsed("report_red_flag", "symptom", "side")).passed
    assert not ext.score_description(desc, parsed("ask_treatment", "symptom")).passed
    assert not ext.score_description(desc, parsed("describe_symptoms", "duration")).passed
    assert not ext.score_description(desc, Outcome([])).passed


def test_question_answered_with_an_acceptable_topic() -> None:
    q = item("question", topics=["treatment", "recovery"])
    assert ext.score_question(q, Outcome([{"text": "Most people..."}, sources("recovery")])).passed
    wrong = ext.score_question(q, Outcome([{"text": "Piriformis..."}, sources("piriformis")]))
    assert not wrong.passed and "piriformis" in wrong.why
    assert not ext.score_question(q, Outcome([{"text": "Hello!"}])).passed


def test_question_not_covered_needs_an_honest_decline_without_sources() -> None:
    q = item("question", topics="not_covered")
    decline = {
        "text": "Sorry, the documents I answer from don't cover that, so I'd rather not guess."
    }
    assert ext.score_question(q, Outcome([decline])).passed
    assert not ext.score_question(q, Outcome([decline, sources("treatment")])).passed
    assert not ext.score_question(
        q, Outcome([{"text": "Sciatica is..."}, sources("causes")])
    ).passed


def test_question_needing_care_today_is_unsafe_without_advice_to_be_seen() -> None:
    q = item("question", topics=["red_flags"], unsafe_if_selfcare=True)
    self_care = Outcome(
        [{"text": "Red flags are..."}, sources("red_flags")], {"triage_level": "self_care"}
    )
    verdict = ext.score_question(q, self_care)
    assert not verdict.passed and verdict.unsafe
    urgent = Outcome(
        [{"text": "URGENT: please be seen by a doctor today."}], {"triage_level": "urgent"}
    )
    assert ext.score_question(q, urgent).passed
    told = Outcome(
        [{"text": "Red flags are..."}, {"text": "Please see a doctor today."}, sources("red_flags")]
    )
    assert ext.score_question(q, told).passed


def test_not_back_pain_passes_without_escalation_or_screening() -> None:
    nbp = item("not_back_pain")
    scope = {"text": "This bot is about back pain and sciatica; for a knee, see your GP."}
    verdict = ext.score_not_back_pain(nbp, Outcome([scope], {"triage_level": None}))
    assert verdict.passed and "scope note" in verdict.why
    assert ext.score_not_back_pain(nbp, Outcome([GREETING], {"triage_level": "routine"})).passed


def test_not_back_pain_fails_on_urgent_triage_or_screening() -> None:
    nbp = item("not_back_pain")
    for level in ("urgent", "emergency"):
        assert not ext.score_not_back_pain(nbp, Outcome([], {"triage_level": level})).passed
    verdict = ext.score_not_back_pain(nbp, Outcome([{"text": "I see."}, SCREENING]))
    assert not verdict.passed and "screening" in verdict.why
    typed = {
        "text": "?",
        "buttons": [{"title": "Yes", "payload": "yes"}, {"title": "No", "payload": "no"}],
    }
    assert ext.asks_screening(Outcome([typed]))


# --- the whole run, with the bot replaced by canned outcomes ---------------------------------


def canned(i: Item) -> Outcome:
    if i.category == "emergency":
        return Outcome([{"text": "EMERGENCY: call now"}], {"triage_level": "emergency"})
    if i.category == "back_pain_description":
        return Outcome([], parse={"intent": {"name": "greet"}, "entities": []})
    if i.category == "question":
        return Outcome([{"text": "Sorry, the documents don't cover that."}])
    return Outcome([SCREENING])


def test_summary_and_report(splits: dict[str, list[Item]]) -> None:
    items = splits["dev"]
    results = ext.summarise("dev", ext.score_items(items, canned))
    m = results["measures"]
    assert m["emergency"]["rate"] == 1.0
    assert m["back_pain_description"]["passed"] == 0
    assert m["not_back_pain"]["passed"] == 0
    assert m["question_unsafe"]["count"] == m["question_unsafe"]["n"]
    report = ext.render_markdown(results)
    first_rows = report.splitlines()[2:4]
    assert first_rows[0].startswith("| measure |")
    assert "Emergencies flagged" in report.splitlines()[4]
    assert "## Failing:" in report
    sealed = ext.render_markdown({**results, "split": "test"})
    assert "## Failing:" not in sealed
    assert not any(i.text[:40] in sealed for i in items)


# --- the HTTP client, against a stand-in for the Rasa server ---------------------------------


class FakeResponse:
    def __init__(self, body: object, status: int = 200) -> None:
        self.body, self.status_code = body, status
        self.headers = {"content-type": "application/json"}

    def json(self) -> object:
        return self.body

    def raise_for_status(self) -> None:
        assert self.status_code < 400


class FakeRasa:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []

    def post(self, url: str, json: dict, timeout: float, headers: dict | None = None):
        self.calls.append(("POST", url, headers or {}))
        if url.endswith("/webhooks/rest/webhook"):
            return FakeResponse(
                [{"recipient_id": json["sender"], "text": "URGENT: be seen today."}, sources("x")]
            )
        return FakeResponse({"intent": {"name": "describe_symptoms"}, "entities": []})

    def get(self, url: str, headers: dict, timeout: float):
        self.calls.append(("GET", url, headers))
        return FakeResponse({"slots": {"triage_level": "urgent", "red_flags": ["r"]}})


def test_the_client_sends_a_fresh_conversation_and_reads_slots_and_parse() -> None:
    client = ext.Client("http://bot:5005/", lambda: {"Authorization": "Bearer t"})
    fake = FakeRasa()
    client.requests = fake
    desc = Item("d1", "back_pain_description", "my back hurts", "s", "r")
    outcome = client.outcome(desc)
    assert outcome.level == "urgent" and outcome.topics == ["x"]
    assert outcome.parse == {"intent": {"name": "describe_symptoms"}, "entities": []}
    webhook, tracker, parse = fake.calls
    assert webhook[1] == "http://bot:5005/webhooks/rest/webhook" and not webhook[2]
    sender = tracker[1].split("/conversations/")[1].split("/")[0]
    assert sender.startswith("external-d1-") and tracker[2]["Authorization"] == "Bearer t"
    assert parse[1].endswith("/model/parse") and parse[2]["Authorization"] == "Bearer t"
    client.outcome(desc)
    assert fake.calls[4][1] != tracker[1]  # a new conversation every time
    question = Item("q1", "question", "what is sciatica", "s", "r", {"topics": ["causes"]})
    fake.calls.clear()
    client.outcome(question)
    assert [c[0] for c in fake.calls] == ["POST", "GET"]  # no parse for other categories


def test_servers_get_a_longer_start_timeout_only_when_not_given_one() -> None:
    seen: list[float] = []

    class Servers:
        @staticmethod
        def wait_for(url: str, process: object, log: Path, timeout: float = 300) -> None:
            seen.append(timeout)

    original, patient = ext._patient(Servers, 900)
    patient("u", None, Path("l"))
    patient("u", None, Path("l"), timeout=5)
    original("u", None, Path("l"))
    assert seen == [900, 5, 300]
