"""Negation and experiencer on the public NegEx/ConText annotation set (eval/negex/).

For each of the 2,376 annotated sentences the target concept is found in its sentence and read
with ``bot.context_of_span`` (the bot's own pipeline and ConText rules). Negation is scored as
precision, recall and F1 of "Negated" against "Affirmed"; the experiencer as accuracy, where
"Patient" is the person the note is about (clinical notes describe the patient in the third
person, so "she" and "he" are read as the patient: ``pronouns_name_others=False``).

    python -m scripts.negex_eval           # print the figures
    python -m scripts.negex_eval --write   # and update the figures in docs/negex.md
    python -m scripts.negex_eval --errors  # and list every wrong negation
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "eval" / "negex" / "rsAnnotations-1-120-random.txt"
REPORT = ROOT / "docs" / "negex.md"
START, END = "<!-- figures: start -->", "<!-- figures: end -->"


@dataclass(frozen=True)
class Case:
    number: int
    concept: str
    sentence: str
    negated: bool
    temporality: str  # Recent, Historical, Not particular (hypothetical)
    patient: bool  # the experiencer is the patient (not "Other" or "Family member")


def load_cases(path: Path = DATA) -> list[Case]:
    """The annotated rows: number, concept, sentence, negation, temporality, experiencer."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    cases: list[Case] = []
    for row in rows[1:]:
        if len(row) < 6 or not row[0].strip().isdigit():
            continue
        number, concept, sentence, negation, temporality, experiencer = row[:6]
        cases.append(
            Case(
                int(number),
                concept.strip(),
                sentence.strip().strip('"'),
                negation.strip().lower() == "negated",
                temporality.strip(),
                experiencer.strip().lower() == "patient",
            )
        )
    return cases


def locate(concept: str, sentence: str) -> tuple[int, int] | None:
    """Character offsets of the target in its sentence.

    The annotators wrote the target in capitals inside the sentence, so a capitalised
    occurrence is preferred; spacing inside the concept may differ from the sentence's.
    """
    words = [re.escape(word) for word in concept.split()]
    if not words:
        return None
    pattern = re.compile(r"\s*".join(words), re.IGNORECASE)
    matches = list(pattern.finditer(sentence))
    if not matches:
        return None
    capitalised = [m for m in matches if m.group(0) == m.group(0).upper()]
    # a capitalised section heading ("ALLERGIES:  He has no known ALLERGIES.") is not the target
    in_text = [m for m in capitalised if not sentence[m.end() :].lstrip().startswith(":")]
    match = (in_text or capitalised or matches)[0]
    return match.start(), match.end()


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, gold: bool, predicted: bool) -> None:
        if gold and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif gold:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0


def evaluate(cases: list[Case]) -> dict[str, Any]:
    from bot import context_of_span

    negation = Scores()
    experiencer = Scores()  # "positive" = someone other than the patient
    historical = Scores()
    errors: list[dict[str, Any]] = []
    missing: list[Case] = []
    for case in cases:
        span = locate(case.concept, case.sentence)
        if span is None:
            missing.append(case)
            continue
        reading = context_of_span(case.sentence, *span, pronouns_name_others=False)
        negation.add(case.negated, reading.negated)
        experiencer.add(not case.patient, reading.experiencer != "patient")
        historical.add(case.temporality == "Historical", reading.historical)
        if case.negated != reading.negated:
            errors.append(
                {
                    "number": case.number,
                    "kind": "missed negation" if case.negated else "false negation",
                    "concept": case.concept,
                    "sentence": case.sentence,
                }
            )
    return {
        "n": len(cases),
        "scored": len(cases) - len(missing),
        "missing": missing,
        "negation": negation,
        "experiencer": experiencer,
        "historical": historical,
        "errors": errors,
    }


def figures(result: dict[str, Any]) -> str:
    neg: Scores = result["negation"]
    exp: Scores = result["experiencer"]
    hist: Scores = result["historical"]
    kinds = Counter(error["kind"] for error in result["errors"])
    return "\n".join(
        [
            f"Sentences: {result['n']}, target found in {result['scored']}.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| negation precision | {neg.precision:.3f} |",
            f"| negation recall | {neg.recall:.3f} |",
            f"| negation F1 | {neg.f1:.3f} |",
            f"| negation accuracy | {neg.accuracy:.3f} |",
            f"| negated: gold / found / right | {neg.tp + neg.fn} / {neg.tp + neg.fp} / {neg.tp} |",
            f"| false negations / missed negations | {kinds['false negation']} / "
            f"{kinds['missed negation']} |",
            f"| experiencer accuracy (Patient vs other) | {exp.accuracy:.3f} |",
            f"| experiencer: gold other / found other / right | {exp.tp + exp.fn} / "
            f"{exp.tp + exp.fp} / {exp.tp} |",
            f"| historical (informative) precision / recall | {hist.precision:.3f} / "
            f"{hist.recall:.3f} |",
        ]
    )


def write_report(text: str, path: Path = REPORT) -> None:
    """Replace the figures between the markers of the report, keeping the rest as written."""
    block = f"{START}\n{text}\n{END}"
    if path.exists():
        current = path.read_text(encoding="utf-8")
        if START in current and END in current:
            head, rest = current.split(START, 1)
            _, tail = rest.split(END, 1)
            path.write_text(head + block + tail, encoding="utf-8")
            return
    path.write_text(f"# Negation on the NegEx/ConText test set\n\n{block}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {REPORT.name}")
    parser.add_argument("--errors", action="store_true", help="list every wrong negation")
    args = parser.parse_args(argv)
    result = evaluate(load_cases())
    text = figures(result)
    print(text)
    if args.errors:
        for error in result["errors"]:
            print(
                f"\n{error['number']} {error['kind']}: {error['concept']!r}\n  {error['sentence']}"
            )
        for case in result["missing"]:
            print(f"\n{case.number} target not found: {case.concept!r}\n  {case.sentence}")
    if args.write:
        write_report(text)
        print(f"\nwritten to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
