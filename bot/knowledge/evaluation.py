"""Evaluate how well questions reach the right curated answer.

``evaluate(cases, classify)`` runs each labelled question through ``classify`` - a callback
that returns the topic id the bot would answer with, or None when it would not give a curated
answer (the trained NLU model, for example) - and reports:

* ``accuracy`` - the share of cases handled correctly: for a question labelled with a topic,
  the callback returned that topic and the curated answer for it names a source; for a
  question labelled ``none`` (outside the documents), the callback returned no topic that has
  a curated answer;
* ``n`` - the number of cases;
* ``errors`` - the cases handled wrongly, each with text, expected and predicted topic.

The questions live in ``eval/questions.yml`` (``load_questions``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.answers import get_answer, topics

QUESTIONS_FILE = Path(__file__).resolve().parents[2] / "eval" / "questions.yml"
NO_TOPIC = "none"


def load_questions(path: Path = QUESTIONS_FILE) -> list[dict[str, str]]:
    """The labelled questions: a list of {"text": ..., "topic": <topic id or "none">}."""
    raw = yaml.safe_load(path.read_text("utf-8"))
    return [{"text": str(q["text"]), "topic": str(q["topic"])} for q in raw["questions"]]


def _has_source(topic: str) -> bool:
    try:
        return bool(get_answer(topic).sources)
    except KeyError:
        return False


def evaluate(
    cases: Iterable[Mapping[str, Any]], classify: Callable[[str], str | None]
) -> dict[str, Any]:
    """Accuracy of ``classify`` on ``cases`` (see the module docstring)."""
    known = set(topics())
    errors: list[dict[str, str | None]] = []
    n = 0
    for case in cases:
        n += 1
        text, expected = str(case["text"]), str(case["topic"])
        predicted = classify(text)
        if expected == NO_TOPIC:
            correct = predicted not in known
        else:
            correct = predicted == expected and _has_source(expected)
        if not correct:
            errors.append({"text": text, "expected": expected, "predicted": predicted})
    accuracy = (n - len(errors)) / n if n else 0.0
    return {"accuracy": accuracy, "n": n, "errors": errors}
