"""The Keele STarT Back Screening Tool: its nine items in the project's words, and its scoring.

The items, the answer scale of item 9 and the plan for each result are data
(``data/plan/startback.yml``, with the tool's copyright line and sources); this module reads them
and scores the answers exactly as the tool does:

* items 1-8 score 1 for "yes" (agree), 0 for "no";
* item 9 ("how bothersome") scores 1 only for "very much" or "extremely";
* total = items 1-9 (0-9); psychosocial subscale = items 5-9 (0-5);
* high risk when the subscale is 4 or more; otherwise medium when the total is 4 or more;
  otherwise (total 3 or less) low.

Plain Python: the conversation (``bot.turn``) asks the items and keeps the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from bot import paths

DATA_FILE = "plan/startback.yml"
YES, NO = "yes", "no"
LOW, MEDIUM, HIGH = "low", "medium", "high"
PSYCHOSOCIAL_FROM = 5  # items 5-9 make the psychosocial subscale
HIGH_SUBSCALE = 4
MEDIUM_TOTAL = 4


@dataclass(frozen=True)
class Item:
    id: str
    number: int
    text: str
    original: str
    scale: bool = False


@dataclass(frozen=True)
class ScaleValue:
    value: str
    title: str
    points: int


@dataclass(frozen=True)
class Plan:
    risk: str
    title: str
    advice: str
    source: str


@dataclass(frozen=True)
class Result:
    total: int
    psychosocial: int
    risk: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def _data() -> dict[str, Any]:
    data = paths.load_yaml(DATA_FILE)
    numbers = [item["number"] for item in data["items"]]
    if numbers != list(range(1, 10)):
        raise ValueError(f"data/{DATA_FILE}: items must be numbered 1 to 9 in order: {numbers}")
    if [item.get("scale", False) for item in data["items"]] != [False] * 8 + [True]:
        raise ValueError(f"data/{DATA_FILE}: only item 9 is answered on the scale")
    if set(data["plans"]) != {LOW, MEDIUM, HIGH}:
        raise ValueError(f"data/{DATA_FILE}: one plan for each of low, medium and high")
    return data


def tool() -> dict[str, str]:
    """The tool's name, copyright line, address and source."""
    return {k: " ".join(str(v).split()) for k, v in _data()["tool"].items()}


def items() -> list[Item]:
    return [
        Item(
            id=i["id"],
            number=i["number"],
            text=" ".join(i["text"].split()),
            original=i["original"],
            scale=bool(i.get("scale", False)),
        )
        for i in _data()["items"]
    ]


def item(item_id: str) -> Item:
    for found in items():
        if found.id == item_id:
            return found
    raise KeyError(item_id)


def item_ids() -> list[str]:
    return [i.id for i in items()]


def scale() -> list[ScaleValue]:
    return [ScaleValue(s["value"], s["title"], int(s["points"])) for s in _data()["scale"]]


def scale_values() -> list[str]:
    return [s.value for s in scale()]


def points(item_id: str, answer: str) -> int:
    """What one answer scores: 1 for a yes to items 1-8; item 9 by its scale."""
    found = item(item_id)
    if found.scale:
        by_value = {s.value: s.points for s in scale()}
        if answer not in by_value:
            raise ValueError(f"item {found.number} is answered on its scale, not {answer!r}")
        return by_value[answer]
    if answer not in (YES, NO):
        raise ValueError(f"item {found.number} is answered yes or no, not {answer!r}")
    return 1 if answer == YES else 0


def score(answers: Mapping[str, str]) -> Result:
    """The total, the psychosocial subscale and the risk group of nine answers."""
    missing = [i.number for i in items() if i.id not in answers]
    if missing:
        raise ValueError(f"items not answered: {missing}")
    total = psychosocial = 0
    for found in items():
        value = points(found.id, answers[found.id])
        total += value
        if found.number >= PSYCHOSOCIAL_FROM:
            psychosocial += value
    return Result(total, psychosocial, risk(total, psychosocial))


def risk(total: int, psychosocial: int) -> str:
    """The tool's groups: high when the subscale is >= 4, medium when the total is >= 4."""
    if psychosocial >= HIGH_SUBSCALE:
        return HIGH
    if total >= MEDIUM_TOTAL:
        return MEDIUM
    return LOW


def plan(risk_group: str) -> Plan:
    data = _data()["plans"][risk_group]
    return Plan(
        risk=risk_group,
        title=data["title"],
        advice=" ".join(data["advice"].split()),
        source=" ".join(data["source"].split()),
    )
