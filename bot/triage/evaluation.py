"""Measure the red-flag engine on an evaluation set (``eval/triage_cases.yml``).

recall       share of red-flag cases that reach at least their expected level
specificity  share of "none" cases that raise no red flag

Run it with ``python -m bot.triage.evaluation [cases.yml]``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.nlp import analyse
from bot.triage.engine import RED_FLAG_LEVELS, assess, level_rank

CASES_FILE = Path(__file__).resolve().parents[2] / "eval" / "triage_cases.yml"
NONE = "none"


def load_cases(path: Path | str = CASES_FILE) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    cases = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(cases, list):
        raise ValueError(f"{path}: expected a list of cases")
    for case in cases:
        expected = str(case.get("expected", "")).lower()
        if not isinstance(case.get("text"), str) or expected not in (NONE, *RED_FLAG_LEVELS):
            raise ValueError(f"{path}: bad case {case!r}")
    return cases


def evaluate(cases: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Recall on red-flag cases, specificity on the others, and the cases that went wrong."""
    n_red = n_clear = caught = cleared = 0
    misses: list[dict[str, Any]] = []
    false_alarms: list[dict[str, Any]] = []
    for case in cases:
        text = str(case["text"])
        expected = str(case["expected"]).lower()
        assessment = assess(analyse(text))
        got = assessment.level
        if expected == NONE:
            n_clear += 1
            if got is None:
                cleared += 1
            else:
                false_alarms.append({"text": text, "got": got, "flags": assessment.ids})
        else:
            n_red += 1
            if level_rank(got) >= level_rank(expected):
                caught += 1
            else:
                misses.append(
                    {"text": text, "expected": expected, "got": got, "flags": assessment.ids}
                )
    return {
        "recall": caught / n_red if n_red else 1.0,
        "specificity": cleared / n_clear if n_clear else 1.0,
        "n_red": n_red,
        "n_clear": n_clear,
        "misses": misses,
        "false_alarms": false_alarms,
    }


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else CASES_FILE
    result = evaluate(load_cases(path))
    print(
        f"recall {result['recall']:.3f} ({result['n_red']} red-flag cases), "
        f"specificity {result['specificity']:.3f} ({result['n_clear']} other cases)"
    )
    for miss in result["misses"]:
        print(f"  MISSED ({miss['expected']}, got {miss['got']}): {miss['text']}")
    for alarm in result["false_alarms"]:
        print(f"  FALSE ALARM ({alarm['got']} {alarm['flags']}): {alarm['text']}")
    return 0 if not result["misses"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
