"""The evaluation of the red-flag engine, and the goal it is held to on eval/triage_cases.yml."""

from __future__ import annotations

from bot.triage.evaluation import evaluate, load_cases


def test_evaluate_counts_misses_and_false_alarms() -> None:
    result = evaluate(
        [
            {"text": "I wet myself this morning", "expected": "emergency"},
            {"text": "my chest feels crushed", "expected": "crisis"},  # emergency >= crisis
            {"text": "pain down my left leg", "expected": "urgent"},  # no red flag: a miss
            {"text": "pain down my left leg", "expected": "none"},
            {"text": "pain down both legs", "expected": "none"},  # urgent: a false alarm
        ]
    )
    assert (result["n_red"], result["n_clear"]) == (3, 2)
    assert result["recall"] == 2 / 3
    assert result["specificity"] == 1 / 2
    assert [m["text"] for m in result["misses"]] == ["pain down my left leg"]
    assert [a["text"] for a in result["false_alarms"]] == ["pain down both legs"]


def test_evaluation_set_is_balanced_and_meets_the_goal() -> None:
    cases = load_cases()
    result = evaluate(cases)
    assert result["n_red"] >= 120 and result["n_clear"] >= 120
    assert result["recall"] == 1.0, result["misses"]
    assert result["specificity"] >= 0.95, result["false_alarms"]
