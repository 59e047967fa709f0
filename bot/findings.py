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
OTHER_PERSON = "other_person"  # someone else's: "my father had ...", "my husband can't pee"

CONTEXTS = (CURRENT, NEGATED, HYPOTHETICAL, HISTORICAL, OTHER_PERSON)
# What is said of a finding, whoever has it (the first four contexts).
ASSERTIONS = (CURRENT, NEGATED, HYPOTHETICAL, HISTORICAL)

# Whose finding it is (ConText's "experiencer").
PATIENT = "patient"  # the person the text is about: the writer of a message, a note's patient
OTHER = "other"  # someone else the text names: "my husband", "she", "my dad", "my friend's mum"
EXPERIENCERS = (PATIENT, OTHER)


@dataclass(frozen=True)
class Finding:
    """One thing the language layer recognised in a message.

    Whose it is and what is said of it are kept apart: ``experiencer`` (``patient``, the
    writer, or ``other``, someone they describe) and ``assertion`` (current, negated,
    hypothetical or historical, whoever has it). ``context`` is the one-word summary older code
    reads: the assertion for the writer's own findings, ``other_person`` for anyone else's.

    A finding made with ``context="other_person"`` and no assertion (stored before the two were
    kept apart) reads as someone else's history, which is what it used to mean: it never counts
    as a current red flag.
    """

    label: str  # one of LABELS
    concept: str  # normalised id from the lexicon, e.g. "pins_and_needles", "left", "3 weeks"
    text: str  # surface text as the person wrote it
    start: int  # character offsets into the analysed text
    end: int
    context: str = CURRENT  # one of CONTEXTS
    experiencer: str = PATIENT  # one of EXPERIENCERS
    assertion: str | None = None  # one of ASSERTIONS; None: taken from ``context``
    who: str = ""  # for someone else's finding, the words naming them ("my husband", "she")

    def __post_init__(self) -> None:
        experiencer = OTHER if self.context == OTHER_PERSON else self.experiencer
        assertion = self.assertion
        if assertion is None:
            assertion = HISTORICAL if self.context == OTHER_PERSON else self.context
        if experiencer not in EXPERIENCERS:
            raise ValueError(f"unknown experiencer {experiencer!r}")
        if assertion not in ASSERTIONS:
            raise ValueError(f"unknown assertion {assertion!r}")
        object.__setattr__(self, "experiencer", experiencer)
        object.__setattr__(self, "assertion", assertion)
        object.__setattr__(self, "context", OTHER_PERSON if experiencer == OTHER else assertion)

    @property
    def is_current(self) -> bool:
        """The writer has it now (someone else's current finding is not the writer's)."""
        return self.context == CURRENT

    @property
    def is_others(self) -> bool:
        return self.experiencer == OTHER

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
            experiencer=data.get("experiencer", PATIENT),
            assertion=data.get("assertion"),
            who=data.get("who") or "",
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


# Number words as people write them ("three weeks", "twenty years"); each module adds its own
# extras ("a couple", "twice").
CARDINALS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
