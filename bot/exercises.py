"""The guided exercise session: the four exercises the documents give, one at a time.

What is said about each exercise (steps where the documents give them, sets and reps exactly as
they give them, and the rule when an exercise makes things worse) is data
(``data/plan/exercises.yml``, with sources); ``bot.turn`` leads the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from bot import paths

DATA_FILE = "plan/exercises.yml"
BETTER, SAME, WORSE, SKIP = "better", "same", "worse", "skip"
CHANGES = (BETTER, SAME, WORSE)


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    dose: str
    source: str
    steps: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return " ".join(str(text).split())


@cache
def _data() -> dict[str, Any]:
    data = paths.load_yaml(DATA_FILE)
    if len(data["exercises"]) != 4:
        raise ValueError(f"data/{DATA_FILE}: the documents give four exercises")
    return data


def exercises() -> list[Exercise]:
    return [
        Exercise(
            id=e["id"],
            name=e["name"],
            dose=_clean(e["dose"]),
            source=_clean(e["source"]),
            steps=[_clean(s) for s in e.get("steps", [])],
        )
        for e in _data()["exercises"]
    ]


def exercise_ids() -> list[str]:
    return [e.id for e in exercises()]


def exercise(exercise_id: str) -> Exercise:
    for found in exercises():
        if found.id == exercise_id:
            return found
    raise KeyError(exercise_id)


def text(key: str) -> str:
    """``intro``, ``worse``, ``worse_source`` or ``source`` from the data file."""
    return _clean(_data()[key])
