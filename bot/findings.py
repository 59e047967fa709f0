"""The shared vocabulary of the bot: what the language layer finds in a message.

Everything downstream (the red-flag engine, the symptom summary, the screening form,
the Rasa NLU component) consumes these objects; nothing downstream re-parses text
for symptoms on its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Entity labels produced by the clinical lexicon (data/lexicon/*.yml).
SYMPTOM = "symptom"  # quality: pain, ache, burning, shooting, numbness, tingling, ...
BODY_LOCATION = "body_location"  # lower_back, buttock, thigh, knee, calf, foot, toes, ...
SIDE = "side"  # left, right, both
DURATION = "duration"  # "3 weeks", "since monday", "for years"
SEVERITY = "severity"  # "7/10", "8 out of 10", "mild", "excruciating"
ONSET = "onset"  # sudden, gradual
AGGRAVATING = "aggravating_factor"  # sitting, bending, coughing, sneezing, walking, ...
RELIEVING = "relieving_factor"  # lying_down, walking, rest, ...
CLINICAL_SIGN = "clinical_sign"  # red-flag vocabulary: urinary_retention, saddle_numbness, ...
COURSE = "course"  # worsening, improving
AGE = "age"  # the person's age in years, as a number string
EXERCISE = "exercise"  # nerve_glide, cat_camel, straight_leg_raise, hip_cars

LABELS = (
    SYMPTOM,
    BODY_LOCATION,
    SIDE,
    DURATION,
    SEVERITY,
    ONSET,
    AGGRAVATING,
    RELIEVING,
    CLINICAL_SIGN,
    COURSE,
    AGE,
    EXERCISE,
)

# Context (assertion) of a finding, after the ConText algorithm.
CURRENT = "current"  # the person has it now
NEGATED = "negated"  # "no numbness", "I can control my bladder fine", "neither ... nor"
HYPOTHETICAL = "hypothetical"  # questions, "should I worry about", "what if", "in case"
HISTORICAL = "historical"  # in the past and over: "last year", "it went away"
OTHER_PERSON = "other_person"  # "my father had ..."

CONTEXTS = (CURRENT, NEGATED, HYPOTHETICAL, HISTORICAL, OTHER_PERSON)


@dataclass(frozen=True)
class Finding:
    """One thing the language layer recognised in a message."""

    label: str  # one of LABELS
    concept: str  # normalised id from the lexicon, e.g. "pins_and_needles", "left", "3 weeks"
    text: str  # surface text as the person wrote it
    start: int  # character offsets into the analysed text
    end: int
    context: str = CURRENT  # one of CONTEXTS

    @property
    def is_current(self) -> bool:
        return self.context == CURRENT

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            label=data["label"],
            concept=data["concept"],
            text=data.get("text", data["concept"]),
            start=int(data.get("start", 0)),
            end=int(data.get("end", 0)),
            context=data.get("context", CURRENT),
        )


@dataclass
class Analysis:
    """The result of analysing one message."""

    text: str
    findings: list[Finding] = field(default_factory=list)
    is_question: bool = False  # the message as a whole asks something

    def of(self, label: str, *, current_only: bool = False) -> list[Finding]:
        return [f for f in self.findings if f.label == label and (f.is_current or not current_only)]

    def concepts(self, label: str, *, current_only: bool = True) -> list[str]:
        return [f.concept for f in self.of(label, current_only=current_only)]
