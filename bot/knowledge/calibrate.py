"""Calibrate the retrieval threshold on labelled questions.

Procedure:

1. Every question in ``data/answers/retrieval_calibration.yml`` is searched; we keep the
   coverage (``retrieval.Hit.coverage``) and the document of the best-ranked passage.
2. For a candidate threshold t, a question is handled correctly when
   - it is in scope, its coverage is >= t and the best passage comes from one of the
     documents it is labelled with (a quote from the right place), or
   - it is out of scope and its coverage is < t (the bot says the documents do not cover it).
3. Candidates are the midpoints between consecutive distinct scores. The threshold is the one
   with the highest accuracy; among equally good ones, the middle of the widest run of them,
   so it sits as far as possible from the scores that would flip a decision.
4. A 5-fold cross-validation (folds by position in the file) estimates the accuracy on
   questions not used to pick the threshold.

Run ``python -m bot.knowledge.calibrate`` to recompute and write
``data/answers/retrieval_threshold.yml``; add ``--dry-run`` to print without writing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path

import yaml

from bot.knowledge.retrieval import THRESHOLD_FILE, PassageIndex, default_index

CALIBRATION_FILE = THRESHOLD_FILE.parent / "retrieval_calibration.yml"
FOLDS = 5


@dataclass(frozen=True)
class Case:
    question: str
    in_scope: bool
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scored:
    case: Case
    score: float  # coverage of the best-ranked passage, 0 when nothing matched
    doc_id: str  # document of the best passage, "" when nothing matched

    def correct(self, threshold: float) -> bool:
        answered = self.score >= threshold and self.score > 0
        if self.case.in_scope:
            return answered and self.doc_id in self.case.docs
        return not answered


def load_cases(path: Path = CALIBRATION_FILE) -> list[Case]:
    raw = yaml.safe_load(path.read_text("utf-8"))
    cases = [
        Case(question=str(item["question"]), in_scope=True, docs=tuple(item["docs"]))
        for item in raw["in_scope"]
    ]
    cases += [Case(question=str(q), in_scope=False) for q in raw["out_of_scope"]]
    return cases


def score_cases(cases: list[Case], index: PassageIndex) -> list[Scored]:
    scored: list[Scored] = []
    for case in cases:
        hits = index.search(case.question, k=1)
        if hits:
            scored.append(Scored(case, hits[0].coverage, hits[0].passage.doc_id))
        else:
            scored.append(Scored(case, 0.0, ""))
    return scored


def accuracy(scored: list[Scored], threshold: float) -> float:
    if not scored:
        return 0.0
    return sum(s.correct(threshold) for s in scored) / len(scored)


def candidates(scored: list[Scored]) -> list[float]:
    values = sorted({s.score for s in scored if s.score > 0})
    if not values:
        return [1.0]
    mids = [(a + b) / 2 for a, b in pairwise(values)]
    return [values[0] / 2, *mids, (values[-1] + 1.0) / 2 if values[-1] < 1 else 1.0]


def choose_threshold(scored: list[Scored]) -> tuple[float, float]:
    """(threshold, accuracy) following steps 2-3 of the module docstring."""
    options = candidates(scored)
    results = [accuracy(scored, t) for t in options]
    best = max(results)
    runs: list[tuple[int, int]] = []  # (first, last) index of each run of best results
    start: int | None = None
    for i, result in enumerate(results):
        if result == best and start is None:
            start = i
        elif result != best and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(results) - 1))
    first, last = max(runs, key=lambda run: options[run[1]] - options[run[0]])
    return (options[first] + options[last]) / 2, best


def cross_validate(scored: list[Scored], folds: int = FOLDS) -> float:
    correct = 0
    for fold in range(folds):
        train = [s for i, s in enumerate(scored) if i % folds != fold]
        test = [s for i, s in enumerate(scored) if i % folds == fold]
        threshold, _ = choose_threshold(train)
        correct += sum(s.correct(threshold) for s in test)
    return correct / len(scored)


def calibrate(cases: list[Case], index: PassageIndex) -> dict[str, object]:
    scored = score_cases(cases, index)
    threshold, best = choose_threshold(scored)
    in_scope = [s for s in scored if s.case.in_scope]
    out_scope = [s for s in scored if not s.case.in_scope]
    return {
        "threshold": round(threshold, 3),
        "score": "coverage of the question by the best BM25-ranked passage (0 to 1)",
        "calibrated_on": date.today().isoformat(),
        "figures": {
            "questions": len(scored),
            "in_scope": len(in_scope),
            "out_of_scope": len(out_scope),
            "accuracy": round(best, 3),
            "in_scope_quoted_from_right_document": round(accuracy(in_scope, threshold), 3),
            "out_of_scope_declined": round(accuracy(out_scope, threshold), 3),
            "cross_validated_accuracy": round(cross_validate(scored), 3),
        },
        "errors": [
            {
                "question": s.case.question,
                "in_scope": s.case.in_scope,
                "score": round(s.score, 3),
                "best_document": s.doc_id,
            }
            for s in scored
            if not s.correct(threshold)
        ],
    }


HEADER = """\
# Retrieval threshold, written by `python -m bot.knowledge.calibrate` - do not edit by hand.
# A question without a curated answer is answered with a quoted passage only when the best
# passage's coverage of the question is at least `threshold`. The procedure is described in
# bot/knowledge/calibrate.py; the labelled questions are in retrieval_calibration.yml.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    result = calibrate(load_cases(), default_index())
    text = HEADER + yaml.safe_dump(result, sort_keys=False, allow_unicode=True, width=100)
    print(text)
    if not args.dry_run:
        THRESHOLD_FILE.write_text(text, "utf-8")
        print(f"written to {THRESHOLD_FILE}")


if __name__ == "__main__":
    main()
