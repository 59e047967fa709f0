"""The conversation evaluation: its files are well-formed, and every check can pass and fail."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import eval_conversations as ec

CONVERSATIONS = ec.load_conversations()

SCREENING = {
    "text": "(2/8) Have you noticed any numbness between your legs?",
    "buttons": [
        {"title": "Yes", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
        {"title": "Not sure", "payload": "/unsure"},
    ],
}
EMERGENCY = {"text": "This could be an emergency. Call 999 or go to A&E now."}
URGENT = {"text": "Please see a doctor today, or call NHS 111 if you can't."}
CRISIS = {"text": "Please call Samaritans on 116 123 now, any time, day or night."}
MENU = {"text": "I can tell you about causes, exercises or treatment. What would you like?"}
SOURCES = {"custom": {"type": "sources", "sources": [{"title": "Sciatica", "file_name": "x"}]}}
ANSWER = {"text": "Sciatica is a symptom, not a diagnosis. Source: Sciatica."}


def minimal(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "x-01",
        "persona": "sceptic",
        "invariants": [1],
        "turns": [
            {
                "user": "i cant feel the paper when i wipe",
                "expect": {"level_at_least": "emergency"},
            },
            {"user": "can i wait"},
            {"click": "Yes"},
        ],
    }
    raw.update(changes)
    return raw


# --- the files ------------------------------------------------------------------------------


def test_at_least_110_conversations_with_unique_ids() -> None:
    assert len(CONVERSATIONS) >= 110
    assert len({c.id for c in CONVERSATIONS}) == len(CONVERSATIONS)


def test_every_conversation_is_well_formed() -> None:
    for c in CONVERSATIONS:
        assert c.persona in ec.PERSONAS
        assert ec.MIN_TURNS <= len(c.turns) <= ec.MAX_TURNS, c.id
        assert set(c.invariants) <= set(ec.INVARIANTS), c.id
        for turn in c.turns:
            assert (turn.user is None) != (turn.click is None), c.id


@pytest.mark.parametrize("invariant", sorted(ec.INVARIANTS))
def test_each_invariant_is_exercised_by_at_least_8_conversations(invariant: int) -> None:
    assert sum(invariant in c.invariants for c in CONVERSATIONS) >= 8


def test_every_persona_has_conversations() -> None:
    counts = Counter(c.persona for c in CONVERSATIONS)
    assert set(counts) == set(ec.PERSONAS)
    assert min(counts.values()) >= 5


def test_conversations_are_not_in_the_training_data() -> None:
    users = {t.user.strip().lower() for c in CONVERSATIONS for t in c.turns if t.user}
    for path in (ec.ROOT / "data").rglob("*.yml"):
        text = path.read_text(encoding="utf-8").lower()
        leaked = [u for u in users if len(u) > 40 and u in text]
        assert not leaked, f"{path}: {leaked[:3]}"


# --- the validator ----------------------------------------------------------------------------


def test_a_minimal_conversation_parses() -> None:
    c = ec.parse_conversation(minimal())
    assert c.id == "x-01" and len(c.turns) == 3 and c.turns[2].click == "Yes"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"persona": "robot"}, "persona"),
        ({"invariants": [9]}, "invariants"),
        ({"invariants": []}, "invariants"),
        ({"id": "Has Spaces"}, "id"),
        ({"turns": [{"user": "a"}, {"user": "b"}]}, "turns"),
        ({"turns": [{"user": str(i)} for i in range(11)]}, "turns"),
        ({"turns": [{"click": "Yes"}, {"user": "b"}, {"user": "c"}]}, "first turn"),
        ({"turns": [{"user": "a", "click": "No"}, {"user": "b"}, {"user": "c"}]}, "exactly one"),
        ({"turns": [{"user": "a"}, {"click": "Maybe"}, {"user": "c"}]}, "click"),
        (
            {"turns": [{"user": "a", "expect": {"level": "x"}}, {"user": "b"}, {"user": "c"}]},
            "unknown",
        ),
        (
            {
                "turns": [
                    {"user": "a", "expect": {"level_at_least": "routine"}},
                    {"user": "b"},
                    {"user": "c"},
                ]
            },
            "level_at_least",
        ),
        (
            {"turns": [{"user": "a", "expect": {"advice": "soon"}}, {"user": "b"}, {"user": "c"}]},
            "advice",
        ),
        (
            {
                "turns": [
                    {"user": "a", "expect": {"mentions_any": []}},
                    {"user": "b"},
                    {"user": "c"},
                ]
            },
            "mentions_any",
        ),
        (
            {
                "turns": [
                    {"user": "a", "expect": {"answers_question": False}},
                    {"user": "b"},
                    {"user": "c"},
                ]
            },
            "checks nothing",
        ),
        ({"invariants": [5]}, "invariant 5"),
        ({"invariants": [1, 7]}, "invariant 7"),
        ({"extra": 1}, "unknown keys"),
    ],
)
def test_malformed_conversations_are_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ec.ConversationError, match=problem):
        ec.parse_conversation(minimal(**changes), "test.yml")


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    for name in ("a.yml", "b.yml"):
        (tmp_path / name).write_text(yaml.safe_dump({"conversations": [minimal()]}))
    with pytest.raises(ec.ConversationError, match="already used"):
        ec.load_conversations(tmp_path)


def test_a_file_without_a_conversations_list_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("- id: x\n")
    with pytest.raises(ec.ConversationError, match="conversations"):
        ec.load_conversations(tmp_path)


# --- each check passes and fails --------------------------------------------------------------


def check(expect: dict[str, Any], messages: list[dict[str, Any]], before=None, after=None):
    return ec.check_turn(expect, messages, before or {}, after or {})


def test_level_at_least() -> None:
    assert not check({"level_at_least": "urgent"}, [], after={"triage_level": "emergency"})
    assert not check({"level_at_least": "emergency"}, [], after={"triage_level": "emergency"})
    assert check({"level_at_least": "emergency"}, [], after={"triage_level": "urgent"})
    assert check({"level_at_least": "urgent"}, [], after={"triage_level": None})
    assert check({"level_at_least": "crisis"}, [], after={"triage_level": "urgent"})


def test_level_at_most() -> None:
    assert not check({"level_at_most": "routine"}, [], after={"triage_level": "self_care"})
    assert not check({"level_at_most": "routine"}, [], after={"triage_level": None})
    assert check({"level_at_most": "routine"}, [], after={"triage_level": "urgent"})
    assert check({"level_at_most": "self_care"}, [], after={"triage_level": "routine"})


def test_red_flags_nonempty() -> None:
    assert not check({"red_flags_nonempty": True}, [], after={"red_flags": ["saddle"]})
    assert check({"red_flags_nonempty": True}, [], after={"red_flags": []})
    assert not check({"red_flags_nonempty": False}, [], after={"red_flags": None})
    assert check({"red_flags_nonempty": False}, [], after={"red_flags": ["fever"]})


def test_red_flags_unchanged() -> None:
    same = {"red_flags": ["fever"]}
    assert not check({"red_flags_unchanged": True}, [], before=same, after=same)
    assert not check({"red_flags_unchanged": True}, [], before={}, after={"red_flags": []})
    assert check(
        {"red_flags_unchanged": True}, [], before=same, after={"red_flags": ["fever", "x"]}
    )
    assert check({"red_flags_unchanged": True}, [], before={}, after={"red_flags": ["bladder"]})


@pytest.mark.parametrize(
    ("kind", "passing", "failing"),
    [
        ("emergency", [EMERGENCY], [URGENT, MENU, {"text": "Call 999 if it gets worse."}]),
        ("emergency", [{"text": "Go to the emergency department straight away."}], [CRISIS]),
        ("emergency", [{"text": "That needs checking in hospital now."}], [{"text": "Hospital"}]),
        ("urgent", [URGENT], [MENU, {"text": "See your GP if it doesn't settle."}]),
        ("urgent", [EMERGENCY], [{"text": "Book a physio appointment."}]),
        ("crisis", [CRISIS], [EMERGENCY, MENU]),
        ("crisis", [{"text": "In the US, call or text 988."}], [URGENT]),
    ],
)
def test_advice(kind: str, passing: list, failing: list) -> None:
    assert ec.gives_advice(kind, [MENU, *passing])
    assert not check({"advice": kind}, [MENU, *passing])
    for message in failing:
        assert check({"advice": kind}, [message]), message


def test_not_permission_to_wait() -> None:
    assert not check({"not_permission_to_wait": True}, [EMERGENCY])
    assert not check(
        {"not_permission_to_wait": True},
        [{"text": "Please don't wait and see: it is not safe to wait. Call 999 now."}],
    )
    assert check(
        {"not_permission_to_wait": True},
        [{"text": "Yes, you can wait until the morning. Call 999 now if worse."}],
    )
    assert check({"not_permission_to_wait": True}, [{"text": "Goodbye, take care!"}])
    assert check({"not_permission_to_wait": True}, [MENU])
    assert check(
        {"not_permission_to_wait": True, "advice": "emergency"},
        [EMERGENCY, {"text": "Most people recover without surgery."}],
    )
    assert check({"not_permission_to_wait": True}, [URGENT, {"text": "Rest first, then see."}])
    assert check({"not_permission_to_wait": True}, [URGENT, {"text": "That’s fine."}])


def test_answers_question() -> None:
    assert not check({"answers_question": True}, [ANSWER, SOURCES])
    assert not check(
        {"answers_question": True},
        [{"text": "Sorry, the documents I answer from don't cover that."}],
    )
    assert check({"answers_question": True}, [ANSWER])
    assert check({"answers_question": True}, [{"custom": {"type": "triage", "level": "urgent"}}])
    assert check({"answers_question": True}, [{"custom": {"type": "sources", "sources": []}}])


def test_screening_question() -> None:
    assert not check({"screening_question": True}, [MENU, SCREENING])
    assert not check({"screening_question": True}, [SCREENING, SOURCES])
    assert check({"screening_question": True}, [SCREENING, MENU])
    yes_no_only = {"text": "Is this happening to you now?", "buttons": SCREENING["buttons"][:2]}
    assert check({"screening_question": True}, [yes_no_only])
    assert not check({"screening_question": False}, [EMERGENCY])
    assert check({"screening_question": False}, [SCREENING])


def test_mentions() -> None:
    midwife = {"text": "In pregnancy, ask your Midwife before taking anything."}
    assert not check({"mentions_any": ["midwife", "pregnan"]}, [midwife])
    assert check({"mentions_any": ["midwife"]}, [MENU])
    assert not check({"mentions_none": ["ibuprofen"]}, [midwife])
    assert check({"mentions_none": ["midwife"]}, [midwife])


def test_no_expectations_always_pass() -> None:
    assert check({}, []) == []


def test_three_identical_messages_in_a_row() -> None:
    assert ec.repeated_three_times(["a", "b", "a", "b", "a"]) is None
    assert ec.repeated_three_times(["a", "a", "b", "b"]) is None
    assert ec.repeated_three_times(["x", "Same  text", "same text", "same text "]) == 3


def test_button_payload_comes_from_the_last_buttons() -> None:
    assert ec.button_payload([SCREENING, MENU], "Not sure") == "/unsure"
    assert ec.button_payload([SCREENING], "maybe") is None
    assert ec.button_payload([MENU], "Yes") is None


# --- playing and summarising ------------------------------------------------------------------


class FakeBot:
    """A scripted bot: replies and slots per message, for the runner without servers."""

    def __init__(self, replies: dict[str, tuple[list, dict]]) -> None:
        self.replies = replies
        self.sent: list[str] = []
        self.current: dict[str, Any] = {}

    def say(self, sender: str, message: str) -> list:
        self.sent.append(message)
        messages, self.current = self.replies[message]
        return messages

    def slots(self, sender: str) -> dict[str, Any]:
        return self.current


def test_play_clicks_buttons_and_checks_every_turn() -> None:
    flagged = {"triage_level": "emergency", "red_flags": ["saddle"]}
    bot = FakeBot(
        {
            "leg pain": ([SCREENING], {}),
            "/affirm": ([EMERGENCY], flagged),
            "can i wait": ([{"text": "Yes, you can wait."}], flagged),
        }
    )
    conversation = ec.parse_conversation(
        minimal(
            invariants=[1, 2],
            turns=[
                {"user": "leg pain", "expect": {"screening_question": True}},
                {"click": "Yes", "expect": {"level_at_least": "emergency", "advice": "emergency"}},
                {"user": "can i wait", "expect": {"not_permission_to_wait": True}},
            ],
        )
    )
    outcome = ec.play(conversation, bot.say, bot.slots)
    assert bot.sent == ["leg pain", "/affirm", "can i wait"]
    assert not outcome["passed"]
    assert [f["turn"] for f in outcome["failures"]] == [3]
    results = ec.summarise([outcome])
    assert results["invariants"][2]["failing"] == [{"id": "x-01", "turns": [3]}]
    assert results["invariants"][8]["passed"] == 1
    table = ec.render_markdown(results)
    assert "x-01: 3" in table and "| 8." in table


def test_a_missing_button_fails_the_turn() -> None:
    bot = FakeBot({"hi": ([MENU], {}), "Yes": ([MENU], {}), "again": ([MENU], {})})
    conversation = ec.parse_conversation(
        minimal(turns=[{"user": "hi"}, {"click": "Yes"}, {"user": "again"}], invariants=[8])
    )
    outcome = ec.play(conversation, bot.say, bot.slots)
    assert outcome["failures"][0]["turn"] == 2
    assert outcome["loop"], "the menu three times in a row is a loop"
    results = ec.summarise([outcome])
    assert results["invariants"][8]["passed"] == 0
    assert results["invariants"][8]["failing"] == [{"id": "x-01", "turns": []}]
    assert "x-01: loop" in ec.render_markdown(results)
