"""Red-flag screening: the questions asked before anything is called "self care".

The questions, their order, what a yes or an unsure answer leads to, and the end-of-screening
criteria are data (``data/triage/screening.yml``). Answers in free text go through the same
detector as every other message, so "well, I did wet myself yesterday" is a yes to the bladder
question and an emergency, and "no, my bladder is fine" is a no.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.findings import (
    AGE,
    COURSE,
    CURRENT,
    DURATION,
    HISTORICAL,
    HYPOTHETICAL,
    NEGATED,
    OTHER_PERSON,
    SEVERITY,
    SYMPTOM,
    Analysis,
    Finding,
)
from bot.triage.engine import (
    DATA_DIR,
    Assessment,
    Cue,
    RedFlag,
    assess,
    flag_for,
    level_rank,
    load_rules,
    max_level,
    person_age,
)

SCREENING_FILE: Path = DATA_DIR / "triage" / "screening.yml"

YES, NO, UNSURE = "yes", "no", "unsure"
AFFIRM_INTENTS = ("affirm",)
DENY_INTENTS = ("deny",)
UNSURE_INTENTS = ("unsure",)
# Answers ranked for combining the words with the predicted intent: when they disagree the safer
# answer is kept (a "yes" is never turned into a "no").
_ANSWER_RANK = {NO: 0, UNSURE: 1, YES: 2}
_WEAK_NO = re.compile(r"\b(?:not|never|nothing|none|nope)\b|n't\b|\bnt\b", re.IGNORECASE)
_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?\s*(minute|hour|day|week|fortnight|month|year)"
)
_WEEKS_PER_UNIT = {
    "minute": 1 / 10080,
    "hour": 1 / 168,
    "day": 1 / 7,
    "week": 1.0,
    "fortnight": 2.0,
    "month": 4.35,
    "year": 52.0,
}
_VAGUE_COUNT = {"few": 3.0, "several": 4.0, "many": 6.0}


class ScreeningError(ValueError):
    """The screening file is malformed or names a rule that does not exist."""


@dataclass(frozen=True)
class Question:
    id: str
    slot: str
    text: str
    on_yes: str
    if_unsure: str | None
    rules: tuple[str, ...]
    concepts: frozenset[tuple[str, str]]
    yes_words: Cue
    # the question about someone else: {who} ("your husband", "she"), {their} ("his", "her")
    text_other: str | None = None

    def about(self, who: str | None) -> str:
        """The question as asked of the writer, or about the person they write for."""
        if not who or not self.text_other:
            return self.text
        return self.text_other.format(who=who, their=possessive(who))


_HIS = {
    "he",
    "husband",
    "son",
    "dad",
    "father",
    "brother",
    "boyfriend",
    "grandad",
    "grandpa",
    "grandfather",
    "uncle",
}
_HER = {
    "she",
    "wife",
    "daughter",
    "mum",
    "mom",
    "mother",
    "sister",
    "girlfriend",
    "gran",
    "granny",
    "grandma",
    "grandmother",
    "aunt",
    "auntie",
}


def possessive(who: str) -> str:
    """ "his", "her" or "their" for the person the writer names ("your husband" -> "his")."""
    last = who.lower().split()[-1] if who.strip() else ""
    if last in _HIS:
        return "his"
    if last in _HER:
        return "her"
    return "their"


@dataclass
class Answer:
    value: str  # "yes" | "no" | "unsure"
    assessment: Assessment


@dataclass
class Outcome:
    level: str
    reasons: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Criteria:
    severity_at_least: float
    severity_words: frozenset[str]
    duration_weeks_at_least: float
    course: frozenset[str]
    symptoms: frozenset[str]
    age_over: int
    daily_life: Cue
    reasons: Mapping[str, str]
    sources: Mapping[str, str]


@dataclass(frozen=True)
class Screening:
    questions: tuple[Question, ...]
    answer_words: Mapping[str, Cue]
    criteria: Criteria


def _cue(name: str, patterns: Any) -> Cue:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ScreeningError(f"{SCREENING_FILE.name}: {name} must be a list of expressions")
    try:
        return Cue(name, tuple(re.compile(p, re.IGNORECASE) for p in patterns))
    except re.error as error:
        raise ScreeningError(f"{SCREENING_FILE.name}: {name}: {error}") from None


def parse_screening(data: Any) -> Screening:
    """Check and read the content of the screening file."""
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ScreeningError(f"{SCREENING_FILE.name}: needs a list of 'questions'")
    rule_set = load_rules()
    known_rules = {rule.id for rule in rule_set.rules}
    questions: list[Question] = []
    for entry in data["questions"]:
        qid = entry.get("id")
        for key in ("id", "slot", "text", "on_yes"):
            if not isinstance(entry.get(key), str):
                raise ScreeningError(f"{SCREENING_FILE.name}: question {qid!r} needs '{key}'")
        named = [entry["on_yes"], *(entry.get("rules") or [])]
        if entry.get("if_unsure"):
            named.append(entry["if_unsure"])
        for rule_id in named:
            if rule_id not in known_rules:
                raise ScreeningError(f"{SCREENING_FILE.name}: {qid}: unknown rule {rule_id!r}")
        concepts = frozenset(
            (label, concept)
            for label, names in (entry.get("concepts") or {}).items()
            for concept in names
        )
        questions.append(
            Question(
                id=qid,
                slot=entry["slot"],
                text=" ".join(entry["text"].split()),
                on_yes=entry["on_yes"],
                if_unsure=entry.get("if_unsure"),
                rules=tuple(entry.get("rules") or [entry["on_yes"]]),
                concepts=concepts,
                yes_words=_cue(f"{qid} yes_words", entry.get("yes_words") or []),
                text_other=" ".join(entry["text_other"].split())
                if entry.get("text_other")
                else None,
            )
        )
    words = data.get("answer_words") or {}
    answer_words = {
        value: _cue(f"answer_words {value}", words.get(value)) for value in _ANSWER_RANK
    }
    settings = (data.get("outcome") or {}).get("routine_when") or {}
    outcome_data = data.get("outcome") or {}
    criteria = Criteria(
        severity_at_least=float(settings.get("severity_at_least", 7)),
        severity_words=frozenset(settings.get("severity_words") or []),
        duration_weeks_at_least=float(settings.get("duration_weeks_at_least", 6)),
        course=frozenset(settings.get("course") or []),
        symptoms=frozenset(settings.get("symptoms") or []),
        age_over=int(settings.get("age_over", 50)),
        daily_life=_cue("daily_life", settings.get("daily_life") or []),
        reasons={k: " ".join(v.split()) for k, v in (outcome_data.get("reasons") or {}).items()},
        sources={k: " ".join(v.split()) for k, v in (outcome_data.get("sources") or {}).items()},
    )
    return Screening(tuple(questions), answer_words, criteria)


@lru_cache(maxsize=1)
def load_screening(path: Path = SCREENING_FILE) -> Screening:
    with path.open(encoding="utf-8") as handle:
        return parse_screening(yaml.safe_load(handle))


def questions() -> list[Question]:
    """The screening questions, in the order they are asked."""
    return list(load_screening().questions)


def question(question_id: str) -> Question:
    for candidate in load_screening().questions:
        if candidate.id == question_id:
            return candidate
    raise KeyError(f"no screening question {question_id!r}")


def question_for_slot(slot: str) -> Question:
    for candidate in load_screening().questions:
        if candidate.slot == slot:
            return candidate
    raise KeyError(f"no screening question for slot {slot!r}")


# --- answers ------------------------------------------------------------------------------------


def affects_daily_life(text: str) -> bool:
    """Whether a message says the pain gets in the way of daily life ("I can't work")."""
    return load_screening().criteria.daily_life.find(text) is not None


def _words_value(text: str) -> str | None:
    """What the wording of an answer says, or None when it says nothing clear."""
    words = load_screening().answer_words
    if words[UNSURE].find(text):
        return UNSURE
    if words[NO].find(text):
        return NO
    if words[YES].find(text):
        return YES
    if _WEAK_NO.search(text):
        return NO
    return None


def clear_answer(text: str) -> bool:
    """Whether the words of a message answer yes, no or not sure by themselves."""
    return _words_value(text) is not None


def _intent_value(intent: str | None) -> str | None:
    if intent in AFFIRM_INTENTS:
        return YES
    if intent in DENY_INTENTS:
        return NO
    if intent in UNSURE_INTENTS:
        return UNSURE
    return None


def _own_words(analysis: Analysis, blank: tuple[str, ...] = (OTHER_PERSON, HYPOTHETICAL)) -> str:
    """The answer with what it says about other people or as a question blanked out."""
    text = analysis.text
    for f in analysis.findings:
        if f.context in blank:
            text = text[: f.start] + " " * (f.end - f.start) + text[f.end :]
    return text


def _answers_by_findings(q: Question, analysis: Analysis, assessment: Assessment) -> str | None:
    """Yes when the question's red flag fired or its own yes-wording is used; no when negated."""
    if set(q.rules) & set(assessment.ids):
        return YES
    # The question's own yes-words count only where the detector did not find them denied:
    # "never had cancer" names cancer but is a no.
    affirmed = _own_words(analysis, (OTHER_PERSON, HYPOTHETICAL, NEGATED))
    if q.yes_words.patterns and q.yes_words.find(affirmed):
        return YES
    negated = {(f.label, f.concept) for f in analysis.findings if f.context == NEGATED}
    if q.concepts & negated:
        return NO
    return None


def _about_someone_else(q: Question, analysis: Analysis) -> bool:
    """The answer names the question's signs only for other people ("my mum had cancer")."""
    mentioned = [f for f in analysis.findings if (f.label, f.concept) in q.concepts]
    return bool(mentioned) and all(f.context == OTHER_PERSON for f in mentioned)


def interpret_answer(question_id: str, analysis: Analysis, intent: str | None = None) -> Answer:
    """Read an answer to a screening question.

    In order: what the detector finds (a red flag of this question is a yes whatever else is
    said; a negated sign of it is a no), then the words of the answer ("no", "just the left
    one", "not sure"), then the predicted intent (a button, or wording the patterns do not
    know). An answer that says nothing clear is
    "unsure". A yes triggers the question's rule even when no sign was named; an unsure answer
    triggers its "unsure" rule, when it has one.
    """
    q = question(question_id)
    assessment = assess(analysis)
    value = _answers_by_findings(q, analysis, assessment)
    if value is None:
        # The answer's own words come before the classifier's intent: "no just the right leg"
        # is a no even if the classifier took it for a yes.
        value = _words_value(_own_words(analysis)) or _intent_value(intent)
        if value is None:
            value = NO if _about_someone_else(q, analysis) else UNSURE
    extra: list[RedFlag] = []
    if value == YES and not set(q.rules) & set(assessment.ids):
        extra.append(flag_for(q.on_yes, [f"yes to: {q.text}"]))
    if value == UNSURE and q.if_unsure:
        extra.append(flag_for(q.if_unsure, [f"not sure about: {q.text}"]))
    if extra:
        level = max(extra, key=lambda f: level_rank(f.level)).level
        assessment = assessment.merged(Assessment(level, extra))
    return Answer(value, assessment)


def plain_answer(analysis: Analysis) -> str | None:
    """Yes, no or not sure in so many words ("yeah", "nope", "not sure"), else None."""
    own = _own_words(analysis)
    words = _words_value(own)
    answer_words = load_screening().answer_words
    if words == UNSURE and answer_words[YES].find(own) and not answer_words[NO].find(own):
        words = YES  # a hedged yes ("yeah, I think so", "yes kind of") is a yes
    return words


def answers_for(analysis: Analysis, assessment: Assessment) -> dict[str, str | None]:
    """How a message answers each screening question by what it says about that question.

    Yes when the question's red flag fired or its own yes-words are used ("I can't go" to the
    bladder question), no when its signs are denied or named only for someone else, else None.
    Plain "yes" / "no" / "not sure" wording is :func:`plain_answer`.
    """
    answers: dict[str, str | None] = {}
    for q in load_screening().questions:
        value = _answers_by_findings(q, analysis, assessment)
        if value is None and _about_someone_else(q, analysis):
            value = NO
        answers[q.id] = value
    return answers


_LEADS = re.compile(
    r"^\W*(y|ya|yah|yes+|yeah+|yep|yup|yea|aye|sure|definitely|absolutely|correct|no+|nope|nah|"
    r"na|never|none|nothing|not really|not at all|not sure|unsure|maybe|dunno|idk|i dont know|"
    r"i don't know|i think so|i don't think so|i dont think so)\b",
    re.IGNORECASE,
)


def leads_with_answer(text: str) -> bool:
    """Whether a message opens with yes, no or not sure ("no, but will I need surgery?")."""
    return bool(_LEADS.match(text))


# --- pre-filling from what was already said ---------------------------------------------------


def prefill(items: Iterable[Analysis | Finding], flags: Sequence[str] = ()) -> dict[str, bool]:
    """Screening answers already given in free text: slot -> True (yes) or False (no).

    ``items`` are the analysed messages of the conversation, or the findings kept from them
    (then each finding is judged on its own). A yes is never turned back into a no. ``flags``
    are red-flag ids already raised in the conversation.
    """
    analyses: list[Analysis] = []
    for item in items:
        if isinstance(item, Analysis):
            analyses.append(item)
        elif item.context in (CURRENT, NEGATED):
            # Without its message a past mention cannot be told apart from one that resolved
            # ("...but it went away"); it was judged when the message came in.
            analyses.append(Analysis(text="", findings=[item]))
    answered: dict[str, bool] = {}
    raised = set(flags)
    for analysis in analyses:
        assessment = assess(analysis)
        fired = raised | set(assessment.ids)
        negated = {(f.label, f.concept) for f in analysis.findings if f.context == NEGATED}
        for q in load_screening().questions:
            if set(q.rules) & fired:
                answered[q.slot] = True
            elif q.concepts & negated and q.slot not in answered:
                answered[q.slot] = False
    for q in load_screening().questions:
        if set(q.rules) & raised:
            answered[q.slot] = True
    return answered


def next_question(answers: Mapping[str, Any]) -> Question | None:
    """The first question whose slot has no answer yet."""
    for q in load_screening().questions:
        if _normalise(answers.get(q.slot, answers.get(q.id))) is None:
            return q
    return None


def questions_to_ask(assessment: Assessment) -> list[Question]:
    """Questions worth asking because a sign was mentioned as a question or resolved."""
    wanted = assessment.screen
    return [q for q in load_screening().questions if q.id in wanted]


# --- the end of screening -------------------------------------------------------------------


def _normalise(value: Any) -> str | None:
    if value is True or value == YES:
        return YES
    if value is False or value == NO:
        return NO
    if value == UNSURE:
        return UNSURE
    return None  # None, "not_asked" or anything unknown: the question was not answered


def duration_weeks(concept: str) -> float | None:
    """'3 weeks' -> 3, '2-3 months' -> 13, 'years' -> 52; None when it cannot be read."""
    text = concept.lower()
    match = _DURATION.search(text)
    if match:
        number = float(match.group(2) or match.group(1))
        return number * _WEEKS_PER_UNIT[match.group(3)]
    for word, count in _VAGUE_COUNT.items():
        unit = re.search(rf"\b{word} (minute|hour|day|week|fortnight|month|year)s?\b", text)
        if unit:
            return count * _WEEKS_PER_UNIT[unit.group(1)]
    unit = re.search(r"\b(day|week|month|year|decade)s\b", text)
    if unit:
        return {"day": 0.3, "week": 2.0, "month": 8.7, "year": 104.0, "decade": 520.0}[
            unit.group(1)
        ]
    return None


def _severity_score(concept: str) -> float | None:
    match = re.match(r"^(\d+(?:\.\d+)?)\s*/\s*10$", concept.strip())
    return float(match.group(1)) if match else None


def _routine_reasons(
    findings: Sequence[Finding],
    texts: Sequence[str],
    *,
    daily_life: bool = False,
    age: int | None = None,
) -> list[str]:
    criteria = load_screening().criteria
    present = [f for f in findings if f.context in (CURRENT, HISTORICAL)]
    current = [f for f in findings if f.context == CURRENT]
    found: list[str] = []
    for f in present:
        if f.label != SEVERITY:
            continue
        score = _severity_score(f.concept)
        if f.concept in criteria.severity_words or (
            score is not None and score >= criteria.severity_at_least
        ):
            found.append("severe")
    for f in present:
        weeks = duration_weeks(f.concept) if f.label == DURATION else None
        if weeks is not None and weeks >= criteria.duration_weeks_at_least:
            found.append("long_lasting")
    if any(f.label == COURSE and f.concept in criteria.course for f in current):
        found.append("worsening")
    if daily_life or any(criteria.daily_life.find(text) for text in texts):
        found.append("daily_life")
    if any(f.label == SYMPTOM and f.concept in criteria.symptoms for f in current):
        found.append("weakness")
    ages = [f for f in findings if f.label == AGE]
    if age is None:
        age = person_age(" ".join(texts), ages)
    if age is not None and age > criteria.age_over:
        found.append("age")
    return list(dict.fromkeys(found))


def outcome(
    answers: Mapping[str, Any],
    findings: Sequence[Finding] = (),
    texts: Sequence[str] = (),
    *,
    daily_life: bool = False,
    age: int | None = None,
) -> Outcome:
    """The level at the end of screening, with the reasons and their sources.

    ``answers`` maps slots (or question ids) to "yes" / "no" / "unsure" (or True / False);
    ``findings`` are those kept from the conversation and ``texts`` the person's messages, when
    available (they let "I can't work" count as affecting daily life).

    A yes leads to the question's red flag, an unsure answer to its "unsure" rule; a red flag in
    the findings counts too. Without any red flag the result is "routine" when the picture is
    severe, long-lasting, getting worse, affecting daily life, with weakness, over 50, or when a
    question was left unanswered or unsure; otherwise "self_care".
    """
    screening = load_screening()
    criteria = screening.criteria
    flags: list[RedFlag] = []
    unanswered: list[str] = []
    unsure: list[str] = []
    for q in screening.questions:
        value = _normalise(answers.get(q.slot, answers.get(q.id)))
        if value == YES:
            flags.append(flag_for(q.on_yes, [f"yes to: {q.text}"]))
        elif value == UNSURE:
            if q.if_unsure:
                flags.append(flag_for(q.if_unsure, [f"not sure about: {q.text}"]))
            else:
                unsure.append(q.id)
        elif value is None:
            unanswered.append(q.id)
    for finding in findings:
        if finding.context == CURRENT:
            flags.extend(assess(Analysis(text="", findings=[finding])).red_flags)
    level: str | None = None
    unique: dict[str, RedFlag] = {}
    for flag in flags:
        unique.setdefault(flag.id, flag)
        level = max_level(level, flag.level)
    if unique:
        ordered = sorted(unique.values(), key=lambda f: -level_rank(f.level))
        return Outcome(
            level=level or "urgent",
            reasons=list(dict.fromkeys(f.reason for f in ordered)),
            sources=list(dict.fromkeys(f.source for f in ordered)),
        )
    keys = _routine_reasons(findings, texts, daily_life=daily_life, age=age)
    if unsure:
        keys.append("unsure")
    if unanswered:
        keys.append("not_asked")
    if keys:
        return Outcome(
            level="routine",
            reasons=[criteria.reasons.get(k, k) for k in keys],
            sources=[criteria.sources.get("routine", "")],
        )
    return Outcome(
        level="self_care",
        reasons=[criteria.reasons.get("self_care", "")],
        sources=[criteria.sources.get("self_care", "")],
    )
