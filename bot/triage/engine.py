"""The red-flag engine: which findings in a message mean the person must be seen urgently.

The rules are data, reviewable by a clinician: ``data/triage/red_flags.yml`` (sciatica's own red
flags) and ``data/triage/general_emergencies.yml`` (emergencies whatever their cause, and illness
the bot cannot assess). This module only knows how to read and apply them. It looks at the
findings of the language layer (concept and context of each) and at the wording of the message,
never at a predicted intent, so a red flag is found whatever the message was classified as.

Two passes are made over every message:

* the real one, where only what the person reports counts (current, and for most signs a past
  mention that has not resolved: "I wet myself last night");
* a lenient one, where questions, hypotheticals and resolved or long-past mentions count too.
  Rules that fire only in the lenient pass are returned as ``unconfirmed``: the bot asks about
  them rather than ignore them ("can sciatica affect the bladder?" leads to the bladder question).

Over-triage is acceptable, under-triage is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.asking import opens_as_question, speaks_of_self
from bot.findings import (
    AGE,
    AGGRAVATING,
    BODY_LOCATION,
    CLINICAL_SIGN,
    COURSE,
    CURRENT,
    HISTORICAL,
    HYPOTHETICAL,
    NEGATED,
    ONSET,
    OTHER,
    OTHER_PERSON,
    RELIEVING,
    SIDE,
    SYMPTOM,
    Analysis,
    Finding,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
RULES_FILE = DATA_DIR / "triage" / "red_flags.yml"
GENERAL_RULES_FILE = DATA_DIR / "triage" / "general_emergencies.yml"
# Read in this order, as one rule set: a later file may use the cues of an earlier one, and a
# rule id is unique across all of them.
RULE_FILES: tuple[Path, ...] = (RULES_FILE, GENERAL_RULES_FILE)
ADVICE_FILE = DATA_DIR / "triage" / "advice.yml"
SIGNS_FILE = DATA_DIR / "lexicon" / "clinical_signs.yml"

# Triage levels from lowest to highest. A conversation's level only ever rises.
LEVELS: tuple[str, ...] = ("self_care", "routine", "urgent", "crisis", "emergency")
RED_FLAG_LEVELS: tuple[str, ...] = ("urgent", "crisis", "emergency")
CATEGORIES: tuple[str, ...] = (
    "cauda_equina",
    "neurological",
    "bilateral",
    "infection",
    "cancer",
    "fracture",
    "outside_sciatica",
)

# Short names used in the rules file for the labels of the language layer.
LABEL_KEYS: dict[str, str] = {
    "sign": CLINICAL_SIGN,
    "symptom": SYMPTOM,
    "location": BODY_LOCATION,
    "side": SIDE,
    "course": COURSE,
    "onset": ONSET,
    "aggravating": AGGRAVATING,
    "relieving": RELIEVING,
}
# Contexts a rule may count. A negated finding never counts. Someone else's findings count like
# the writer's own when the message is about that person (see ``_about_someone_else``); a rule
# that lists other_person says itself how it counts someone else's words instead (first-person
# crisis wording the context layer read as someone else's; a stroke happening to someone there).
COUNTABLE_CONTEXTS = (CURRENT, HISTORICAL, HYPOTHETICAL, OTHER_PERSON)
# What the lenient pass (see the module docstring) counts besides a rule's own contexts.
LENIENT_CONTEXTS = (CURRENT, HISTORICAL, HYPOTHETICAL)

# A cue preceded by one of these words within three words does not count ("not getting worse").
# Contractions typed without the apostrophe ("isnt", "dont") count as well.
_NEGATION_BEFORE = re.compile(
    r"\b(?:not|no|never|without|nt|isnt|wasnt|arent|werent|dont|doesnt|didnt|havent|hasnt|"
    r"hadnt|cant|cannot|wont|wouldnt|couldnt|aint|nothing)\b|n't\b|n’t\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?;\n]+")
# Clauses end at commas and joining words, except where the next clause carries on with the
# same subject ("my foot is numb and it's getting worse" stays one clause).
_CLAUSE_BREAK = re.compile(
    r",|\b(?:and|but|though|although|while|whereas|however|plus|also)\b"
    r"(?!\s+(?:it|it's|its|this|that|is|getting|gets|keeps|has|now|still|seems|feels)\b)",
    re.IGNORECASE,
)
# "and" joining two places is a list of places, not a new clause ("numbness around my buttocks
# and groin"): what may stand between "and" and the next place.
_PLACE_LIST = re.compile(
    r"\s*(?:and|&)\s+(?:(?:my|the|his|her|their|both|inner|around|in|on)\s+){0,2}$",
    re.IGNORECASE,
)
_AGE_SELF = (
    re.compile(r"\b(?:i'?m|i am|im|aged?)\s+(\d{2,3})\b", re.IGNORECASE),
    re.compile(
        r"(?:^|\b(?:i'?m|i am|im|am|a)\s+)(\d{2,3})\s*(?:-|\s)?(?:years?|yrs?|y/?o)\b",
        re.IGNORECASE,
    ),
)


class RulesError(ValueError):
    """The rules file is malformed or refers to something that does not exist."""


def level_rank(level: str | None) -> int:
    """Position of a level in :data:`LEVELS`; -1 for no level."""
    return LEVELS.index(level) if level in LEVELS else -1


def max_level(a: str | None, b: str | None) -> str | None:
    """The higher of two levels (None is below every level)."""
    return a if level_rank(a) >= level_rank(b) else b


@dataclass(frozen=True)
class RedFlag:
    """A rule that fired, with the words that made it fire."""

    id: str
    level: str
    category: str
    reason: str
    source: str
    evidence: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, str]:
        """What a conversation keeps of a red flag (its evidence stays in the message)."""
        return {
            "id": self.id,
            "level": self.level,
            "category": self.category,
            "reason": self.reason,
            "source": self.source,
        }


@dataclass
class Assessment:
    """The red flags of one message (or of one screening answer)."""

    level: str | None
    red_flags: list[RedFlag] = field(default_factory=list)
    # Rules that would fire if a question or a resolved mention were a current report: ask.
    unconfirmed: list[RedFlag] = field(default_factory=list)
    # Whose red flags these are: None for the writer's own, else the other person as the advice
    # should name them ("your husband", "your son", "she", "he", "they").
    subject: str | None = None

    @property
    def ids(self) -> list[str]:
        return [flag.id for flag in self.red_flags]

    @property
    def screen(self) -> list[str]:
        """Screening questions worth asking because of ``unconfirmed`` rules, in rule order."""
        wanted: list[str] = []
        for flag in self.unconfirmed:
            for question in rule_by_id(flag.id).screen:
                if question not in wanted:
                    wanted.append(question)
        return wanted

    def merged(self, other: Assessment) -> Assessment:
        """Both assessments together: every flag once, the higher level."""
        flags = list(self.red_flags)
        for flag in other.red_flags:
            if flag.id not in {f.id for f in flags}:
                flags.append(flag)
        confirmed = {f.id for f in flags}
        unconfirmed: list[RedFlag] = []
        for flag in [*self.unconfirmed, *other.unconfirmed]:
            if flag.id not in confirmed and flag.id not in {f.id for f in unconfirmed}:
                unconfirmed.append(flag)
        level = max_level(self.level, other.level)
        if self.red_flags and other.red_flags and self.subject != other.subject:
            # the higher level decides whom the advice is for; the writer's own when equal
            if level_rank(self.level) == level_rank(other.level):
                subject = None
            else:
                subject = self.subject if level == self.level else other.subject
        else:
            subject = self.subject if self.red_flags else other.subject
        return Assessment(level, flags, unconfirmed, subject)


# --- the message as the rules see it ------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _split(
    text: str,
    pattern: re.Pattern[str],
    start: int,
    end: int,
    keep: Sequence[Span] = (),
    places: Sequence[Span] = (),
) -> list[Span]:
    """Cut text[start:end] at the pattern, but never inside one of the ``keep`` spans, nor at
    an "and" that only adds another of the ``places`` to a list."""
    spans: list[Span] = []
    position = start
    for match in pattern.finditer(text, start, end):
        if any(k.start < match.start() < k.end for k in keep):
            continue  # "left and right" is one finding, not two clauses
        if any(
            p.start >= match.start() and _PLACE_LIST.match(text[match.start() : p.start])
            for p in places
        ):
            continue  # "my buttocks and groin"
        spans.append(Span(position, match.start()))
        position = match.end()
    spans.append(Span(position, end))
    return [s for s in spans if text[s.start : s.end].strip()] or [Span(start, end)]


@dataclass
class Message:
    """One analysed message: its findings, sentences and clauses, and how lenient to be."""

    text: str
    findings: list[Finding]
    lenient: bool = False
    # Someone else's findings count like the writer's own: the message is about them.
    others_count: bool = False
    sentences: list[Span] = field(init=False)
    clauses: list[Span] = field(init=False)

    def __post_init__(self) -> None:
        found = [Span(f.start, f.end) for f in self.findings]
        places = [Span(f.start, f.end) for f in self.findings if f.label == BODY_LOCATION]
        self.sentences = _split(self.text, _SENTENCE_END, 0, len(self.text), found)
        self.clauses = [
            clause
            for sentence in self.sentences
            for clause in _split(
                self.text, _CLAUSE_BREAK, sentence.start, sentence.end, found, places
            )
        ]

    def unit_of(self, finding: Finding, units: list[Span]) -> int:
        for index, unit in enumerate(units):
            if unit.start <= finding.start < max(unit.end, unit.start + 1):
                return index
        return len(units) - 1

    def impersonal_question(self, finding: Finding) -> bool:
        """The finding's sentence asks something and says nothing about the person.

        "is losing bladder control serious?", "does sciatica cause incontinence" are questions
        even when the context layer reads the sign in them as current: they are answered and the
        screening question asked.
        """
        sentence = self.sentences[self.unit_of(finding, self.sentences)]
        text = self.text[sentence.start : sentence.end]
        end = self.text[sentence.end : sentence.end + 1]
        asks = end == "?" or opens_as_question(text)
        return asks and not speaks_of_self(text)

    def clause_text(self, index: int) -> str:
        clause = self.clauses[index]
        return self.text[clause.start : clause.end]

    def clause_names_something(self, index: int) -> bool:
        clause = self.clauses[index]
        return any(
            clause.start <= f.start < clause.end and f.label in (CLINICAL_SIGN, SYMPTOM)
            for f in self.findings
        )


@dataclass(frozen=True)
class Scope:
    """The part of a message a condition is evaluated on."""

    message: Message
    findings: tuple[Finding, ...]
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.message.text[self.start : self.end]


# --- cues ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    name: str
    patterns: tuple[re.Pattern[str], ...]

    def find(self, text: str, *, negation_guard: bool = True) -> str | None:
        """The first match (not preceded by a negation, unless told otherwise), or None."""
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                before = text[max(0, match.start() - 30) : match.start()]
                if negation_guard and _NEGATION_BEFORE.search(" ".join(before.split()[-3:])):
                    continue
                return match.group(0)
        return None


# --- conditions ---------------------------------------------------------------------------------


class Condition:
    """Something a rule needs; ``evidence`` returns the words that satisfy it, or None."""

    def evidence(self, scope: Scope, rules: RuleSet) -> list[str] | None:
        raise NotImplementedError

    def concepts(self) -> set[tuple[str, str]]:
        """(label, concept) pairs the condition looks for."""
        return set()


@dataclass(frozen=True)
class FindingCondition(Condition):
    label: str
    concepts_: frozenset[str]
    contexts: tuple[str, ...] = (CURRENT,)
    historical_unless: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    # (cue, text cue): the cue sets the finding aside only when its words match the text cue
    unless_when: tuple[tuple[str, str], ...] = ()
    not_after: tuple[str, ...] = ()
    text_matches: str | None = None

    def concepts(self) -> set[tuple[str, str]]:
        return {(self.label, concept) for concept in self.concepts_}

    def counts(self, finding: Finding, message: Message, rules: RuleSet) -> bool:
        if finding.label != self.label or finding.concept not in self.concepts_:
            return False
        context = finding.context
        if finding.experiencer == OTHER and message.others_count:
            context = finding.assertion
        if context == NEGATED:
            return False
        if context == CURRENT and message.impersonal_question(finding):
            context = HYPOTHETICAL
        text_cue = rules.cues[self.text_matches] if self.text_matches else None
        if text_cue is not None and text_cue.find(finding.text, negation_guard=False) is None:
            return False
        if self.not_after:
            before = message.text[: finding.start].split()
            if before and before[-1].lower().strip(".,!?'\"") in self.not_after:
                return False
        clause = message.unit_of(finding, message.clauses)
        clause_text = message.clause_text(clause)
        if any(rules.cues[name].find(clause_text) for name in self.unless):
            return False
        for cue, words in self.unless_when:
            if rules.cues[words].find(finding.text, negation_guard=False) and rules.cues[cue].find(
                clause_text
            ):
                return False
        if message.lenient:
            return context in (*LENIENT_CONTEXTS, *self.contexts)
        if context not in self.contexts:
            return False
        if context == HISTORICAL and self.historical_unless:
            return not self._set_aside(finding, clause, message, rules)
        return True

    def _set_aside(self, finding: Finding, clause: int, message: Message, rules: RuleSet) -> bool:
        """A past mention that resolved or is long ago ("...but it went away", "20 years ago")."""
        texts = [message.clause_text(clause)]
        following = clause + 1
        if following < len(message.clauses) and not message.clause_names_something(following):
            texts.append(message.clause_text(following))
        return any(rules.cues[name].find(t) for name in self.historical_unless for t in texts)

    def evidence(self, scope: Scope, rules: RuleSet) -> list[str] | None:
        found = [f.text for f in scope.findings if self.counts(f, scope.message, rules)]
        return found or None


@dataclass(frozen=True)
class CueCondition(Condition):
    name: str

    def evidence(self, scope: Scope, rules: RuleSet) -> list[str] | None:
        match = rules.cues[self.name].find(scope.text)
        return [match] if match else None


@dataclass(frozen=True)
class AgeCondition(Condition):
    minimum: int

    def evidence(self, scope: Scope, rules: RuleSet) -> list[str] | None:
        age = person_age(scope.message.text, list(scope.message.findings))
        return [f"age {age}"] if age is not None and age > self.minimum else None


@dataclass(frozen=True)
class AnyOf(Condition):
    children: tuple[Condition, ...]

    def concepts(self) -> set[tuple[str, str]]:
        return set().union(*(c.concepts() for c in self.children))

    def evidence(self, scope: Scope, rules: RuleSet) -> list[str] | None:
        found: list[str] = []
        matched = False
        for child in self.children:
            evidence = child.evidence(scope, rules)
            if evidence is not None:
                matched = True
                found.extend(e for e in evidence if e not in found)
        return found if matched else None


@dataclass(frozen=True)
class AllOf(Condition):
    children: tuple[Condition, ...]
    within: str | None = None  # None (whole scope), "sentence" or "clause"

    def concepts(self) -> set[tuple[str, str]]:
        return set().union(*(c.concepts() for c in self.children))

    def _all(self, scope: Scope, rules: RuleSet) -> list[str] | None:
        found: list[str] = []
        for child in self.children:
            evidence = child.evidence(scope, rules)
            if evidence is None:
                return None
            found.extend(e for e in evidence if e not in found)
        return found

    def evidence(self, scope: Scope, rules: RuleSet) -> list[str] | None:
        if self.within is None or not scope.message.text.strip():
            return self._all(scope, rules)
        message = scope.message
        units = message.sentences if self.within == "sentence" else message.clauses
        for unit in units:
            if unit.end <= scope.start or unit.start >= scope.end:
                continue
            inner = Scope(
                message,
                tuple(f for f in scope.findings if unit.start <= f.start < unit.end),
                max(unit.start, scope.start),
                min(unit.end, scope.end),
            )
            evidence = self._all(inner, rules)
            if evidence is not None:
                return evidence
        return None


# --- rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    category: str
    reason: str
    source: str
    match: Condition | None
    screen: tuple[str, ...] = ()
    ask_only: bool = False
    screening_only: bool = False

    @cached_property
    def own_handling_of_others(self) -> bool:
        """The rule says itself how someone else's words count (it lists other_person)."""
        return OTHER_PERSON in _contexts_of(self.match)

    def flag(self, evidence: Iterable[str] = ()) -> RedFlag:
        return RedFlag(
            self.id, self.level, self.category, self.reason, self.source, tuple(evidence)
        )


def _contexts_of(condition: Condition | None) -> set[str]:
    if isinstance(condition, FindingCondition):
        return set(condition.contexts)
    if isinstance(condition, AllOf | AnyOf):
        return set().union(*(_contexts_of(c) for c in condition.children))
    return set()


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    cues: dict[str, Cue]
    # Signs that describe a person's medical history rather than a symptom (cancer, steroids):
    # said of someone else they do not make the message about that person.
    history_signs: frozenset[str] = frozenset()

    def by_id(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"no red-flag rule with id {rule_id!r}")


def _fail(message: str) -> RulesError:
    # parse_rules puts the file's name in front
    return RulesError(message)


def _names(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(f"{what} must be a name or a list of names, not {value!r}")


_FINDING_OPTIONS = {
    "contexts",
    "historical_unless",
    "unless",
    "unless_when",
    "not_after",
    "text_matches",
}


def _condition(data: Any, cues: dict[str, Cue], where: str) -> Condition:
    if not isinstance(data, dict):
        raise _fail(f"{where}: a condition must be a mapping, not {data!r}")
    keys = set(data)
    if keys <= {"all", "within"} and "all" in keys:
        within = data.get("within")
        if within not in (None, "sentence", "clause"):
            raise _fail(f"{where}: 'within' must be sentence or clause")
        children = tuple(_condition(c, cues, where) for c in data["all"])
        return AllOf(children, within)
    if keys == {"any"}:
        return AnyOf(tuple(_condition(c, cues, where) for c in data["any"]))
    if keys == {"cue"}:
        if data["cue"] not in cues:
            raise _fail(f"{where}: unknown cue {data['cue']!r}")
        return CueCondition(data["cue"])
    if keys == {"age_over"}:
        if not isinstance(data["age_over"], int):
            raise _fail(f"{where}: age_over must be a whole number")
        return AgeCondition(data["age_over"])
    label_keys = keys & set(LABEL_KEYS)
    if len(label_keys) != 1 or keys - label_keys - _FINDING_OPTIONS:
        raise _fail(f"{where}: cannot read condition {data!r}")
    key = label_keys.pop()
    contexts = _names(data.get("contexts"), "contexts") or (CURRENT,)
    for context in contexts:
        if context not in COUNTABLE_CONTEXTS:
            raise _fail(f"{where}: context {context!r} can never count (negated never counts)")
    referenced = [
        *_names(data.get("historical_unless"), "historical_unless"),
        *_names(data.get("unless"), "unless"),
        *_names(data.get("text_matches"), "text_matches"),
    ]
    unless_when: list[tuple[str, str]] = []
    for entry in data.get("unless_when") or []:
        if not isinstance(entry, dict) or set(entry) != {"cue", "finding_matches"}:
            raise _fail(f"{where}: each unless_when needs 'cue' and 'finding_matches'")
        unless_when.append((entry["cue"], entry["finding_matches"]))
        referenced.extend(unless_when[-1])
    for name in referenced:
        if name not in cues:
            raise _fail(f"{where}: unknown cue {name!r}")
    text_matches = data.get("text_matches")
    return FindingCondition(
        label=LABEL_KEYS[key],
        concepts_=frozenset(_names(data[key], key)),
        contexts=contexts,
        historical_unless=_names(data.get("historical_unless"), "historical_unless"),
        unless=_names(data.get("unless"), "unless"),
        unless_when=tuple(unless_when),
        not_after=tuple(w.lower() for w in _names(data.get("not_after"), "not_after")),
        text_matches=text_matches,
    )


def _known_signs(path: Path) -> set[str]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    signs = set(data.get("concepts") or {})
    signs.update(entry["concept"] for entry in data.get("patterns") or [])
    return signs


def _sign_concepts(condition: Condition | None) -> set[str]:
    if isinstance(condition, FindingCondition):
        return set(condition.concepts_) if condition.label == CLINICAL_SIGN else set()
    if isinstance(condition, AllOf | AnyOf):
        return set().union(*(_sign_concepts(c) for c in condition.children))
    return set()


def parse_rules(
    data: Any,
    known_signs: set[str] | None = None,
    *,
    name: str = RULES_FILE.name,
    shared: RuleSet | None = None,
) -> RuleSet:
    """Check and read the content of one rules file; every error names the file.

    ``shared`` is what the files read before this one hold: their cues may be used here, and
    neither a cue name nor a rule id may be used again.
    """
    try:
        return _parse_rules(data, known_signs, shared or RuleSet((), {}))
    except RulesError as error:
        raise RulesError(f"{name}: {error}") from None


def _parse_rules(data: Any, known_signs: set[str] | None, shared: RuleSet) -> RuleSet:
    # Not called "rules": Rasa reads any YAML file under data/ with a top-level "rules" key as
    # dialogue rules.
    if not isinstance(data, dict) or not isinstance(data.get("red_flag_rules"), list):
        raise _fail("must hold 'cues' and a list of 'red_flag_rules'")
    cues: dict[str, Cue] = dict(shared.cues)
    for name, patterns in (data.get("cues") or {}).items():
        if name in shared.cues:
            raise _fail(f"cue {name!r} is already defined in an earlier rules file")
        if not isinstance(patterns, list) or not patterns:
            raise _fail(f"cue {name!r} must be a list of regular expressions")
        try:
            compiled = tuple(re.compile(p, re.IGNORECASE) for p in patterns)
        except (re.error, TypeError) as error:
            raise _fail(f"cue {name!r} has an invalid expression: {error}") from None
        cues[name] = Cue(name, compiled)
    rules: list[Rule] = list(shared.rules)
    for entry in data["red_flag_rules"]:
        if not isinstance(entry, dict):
            raise _fail(f"a rule must be a mapping, not {entry!r}")
        rule_id = entry.get("id")
        where = f"rule {rule_id!r}"
        for key in ("id", "level", "category", "reason", "source"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise _fail(f"{where}: needs a '{key}'")
        if entry["level"] not in RED_FLAG_LEVELS:
            raise _fail(f"{where}: level must be one of {', '.join(RED_FLAG_LEVELS)}")
        if entry["category"] not in CATEGORIES:
            raise _fail(f"{where}: category must be one of {', '.join(CATEGORIES)}")
        if any(rule.id == rule_id for rule in rules):
            raise _fail(f"{where}: the id is used twice")
        screening_only = bool(entry.get("screening_only", False))
        if screening_only == ("match" in entry):
            raise _fail(f"{where}: needs a 'match', unless it is screening_only")
        match = None if screening_only else _condition(entry["match"], cues, where)
        unknown = _sign_concepts(match) - known_signs if known_signs is not None else set()
        if unknown:
            raise _fail(f"{where}: unknown clinical_sign concepts {sorted(unknown)}")
        rules.append(
            Rule(
                id=rule_id,
                level=entry["level"],
                category=entry["category"],
                reason=" ".join(entry["reason"].split()),
                source=" ".join(entry["source"].split()),
                match=match,
                screen=_names(entry.get("screen"), "screen"),
                ask_only=bool(entry.get("ask_only", False)),
                screening_only=screening_only,
            )
        )
    history_signs = frozenset(_names(data.get("history_signs"), "history_signs"))
    if known_signs is not None and history_signs - known_signs:
        raise _fail(f"history_signs: unknown concepts {sorted(history_signs - known_signs)}")
    # Every file's history signs together: a later file never drops an earlier file's.
    return RuleSet(tuple(rules), cues, shared.history_signs | history_signs)


@lru_cache(maxsize=4)
def load_rules(
    paths: Path | tuple[Path, ...] = RULE_FILES, signs_path: Path = SIGNS_FILE
) -> RuleSet:
    """Read every rules file once, as one rule set; a mistake stops the bot at start-up."""
    known_signs = _known_signs(signs_path)
    rule_set = RuleSet((), {})
    for path in (paths,) if isinstance(paths, Path) else paths:
        with path.open(encoding="utf-8") as handle:
            try:
                data = yaml.safe_load(handle)
            except yaml.YAMLError as error:
                raise RulesError(f"{path.name}: not valid YAML: {error}") from None
        rule_set = parse_rules(data, known_signs, name=path.name, shared=rule_set)
    return rule_set


def rules() -> tuple[Rule, ...]:
    return load_rules().rules


def rule_by_id(rule_id: str) -> Rule:
    return load_rules().by_id(rule_id)


# --- age ----------------------------------------------------------------------------------------


def person_age(text: str, findings: Sequence[Finding]) -> int | None:
    """The person's own age: from an age finding, else from "I'm 67" / "67 year old" wording."""
    ages = [
        int(f.concept)
        for f in findings
        if f.label == AGE and f.concept.isdigit() and f.context not in (OTHER_PERSON, NEGATED)
    ]
    if ages:
        return max(ages)
    for pattern in _AGE_SELF:
        match = pattern.search(text)
        if match:
            value = int(match.group(1))
            if 1 < value < 120:
                return value
    return None


# --- assessing ----------------------------------------------------------------------------------


def _fire(message: Message, rule_set: RuleSet) -> dict[str, list[str]]:
    fired: dict[str, list[str]] = {}
    scope = Scope(message, tuple(message.findings), 0, len(message.text))
    own = scope
    if message.others_count:
        alone = replace(message, others_count=False)
        own = Scope(alone, tuple(alone.findings), 0, len(alone.text))
    for rule in rule_set.rules:
        if rule.match is None:
            continue
        evidence = rule.match.evidence(own if rule.own_handling_of_others else scope, rule_set)
        if evidence is not None:
            fired[rule.id] = evidence
    return fired


def _about_someone_else(findings: Sequence[Finding], rule_set: RuleSet) -> bool:
    """The message reports a current symptom of someone else: "my husband can't pee".

    Then that person's findings count as the writer's own would, their history included ("he
    had prostate cancer and now has pain at night"). Someone named only with their history
    ("my dad had bowel cancer") or in the past ("my mum died of a stroke") is family history:
    their findings never count.
    """
    return any(
        f.experiencer == OTHER
        and f.assertion == CURRENT
        and (
            f.label == SYMPTOM
            or (f.label == CLINICAL_SIGN and f.concept not in rule_set.history_signs)
        )
        for f in findings
    )


_ADDRESS = {
    "my": "your",
    "our": "your",
    "me": "you",
    "he": "he",
    "him": "he",
    "his": "he",
    "himself": "he",
    "hes": "he",
    "she": "she",
    "her": "she",
    "hers": "she",
    "herself": "she",
    "shes": "she",
}
_LEADING = {
    "and",
    "so",
    ",",
    "then",
    "plus",
    "also",
    "now",
    "but",
    "-",
    "because",
    "cos",
    "coz",
    "&",
    "yet",
    "though",
    "although",
    "while",
    "whilst",
    "a",
    "the",
}


def address(who: str) -> str:
    """The other person as advice to the writer names them: "my husband" -> "your husband",
    "my wife's" -> "your wife", "she" -> "she", "his" -> "he"; "they" when unsure."""
    words = [w for w in re.findall(r"[\w'-]+|,|&", who.lower()) if w]
    while words and words[0] in _LEADING:
        words = words[1:]
    if words and words[-1] in ("'s", "s"):
        words = words[:-1]
    if words:
        words[-1] = re.sub(r"'s$", "", words[-1])
    if not words:
        return "they"
    if len(words) == 1 and words[0] in _ADDRESS:
        return _ADDRESS[words[0]]
    if words[0] in ("my", "our"):
        return " ".join(["your", *words[1:]])
    if words[0] in ("his", "her", "their", "your"):
        return " ".join(words)
    return " ".join(["your", *words])


def _subject(
    flags: Sequence[RedFlag], level: str | None, findings: Sequence[Finding]
) -> str | None:
    """Whom the top red flags are about: None for the writer, else how to name the other."""
    top = [flag for flag in flags if flag.level == level]
    theirs = {f.text: f for f in findings if f.experiencer == OTHER}
    mine = {f.text for f in findings if f.experiencer != OTHER}
    evidence = [e for flag in top for e in flag.evidence if e in theirs or e in mine]
    others = [e for e in evidence if e in theirs and e not in mine]
    # Most of the words that raised the flags are said of someone else ("my daughter has a
    # temperature of 40 and is floppy": "floppy" names no one, the temperature is hers).
    if not top or not others or 2 * len(others) < len(evidence):
        return None
    for text in others:
        if theirs[text].who:
            return address(theirs[text].who)
    return "they"


def assess(analysis: Analysis, rule_set: RuleSet | None = None) -> Assessment:
    """The red flags of one analysed message; level is the highest of them, or None.

    ``subject`` says whose they are: None for the writer's own, else the other person the
    message is about, as the advice should name them ("your husband needs to go ... now").
    """
    rule_set = rule_set or load_rules()
    findings = sorted(analysis.findings, key=lambda f: f.start)
    others = _about_someone_else(findings, rule_set)
    strict = _fire(Message(analysis.text, findings, others_count=others), rule_set)
    lenient = _fire(Message(analysis.text, findings, lenient=True, others_count=others), rule_set)
    red_flags: list[RedFlag] = []
    unconfirmed: list[RedFlag] = []
    for rule in rule_set.rules:
        if rule.id in strict and not rule.ask_only:
            red_flags.append(rule.flag(strict[rule.id]))
        elif rule.id in lenient or rule.id in strict:
            unconfirmed.append(rule.flag(lenient.get(rule.id) or strict[rule.id]))
    level: str | None = None
    for flag in red_flags:
        level = max_level(level, flag.level)
    return Assessment(level, red_flags, unconfirmed, _subject(red_flags, level, findings))


def flag_for(rule_id: str, evidence: Iterable[str] = ()) -> RedFlag:
    """The red flag of a rule fired for another reason than words (e.g. a screening answer)."""
    return rule_by_id(rule_id).flag(evidence)


def concepts_of(rule_id: str) -> set[tuple[str, str]]:
    """Every (label, concept) a rule looks for (used when a correction negates some of them)."""
    rule = rule_by_id(rule_id)
    return rule.match.concepts() if rule.match is not None else set()


# --- advice -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advice:
    level: str
    title: str
    advice: str
    source: str


@lru_cache(maxsize=1)
def _advice() -> dict[str, Advice]:
    with ADVICE_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    levels = data.get("levels") or {}
    missing = set(LEVELS) - set(levels)
    if missing:
        raise RulesError(f"{ADVICE_FILE.name}: no advice for {sorted(missing)}")
    return {
        level: Advice(
            level,
            " ".join(str(levels[level]["title"]).split()),
            " ".join(str(levels[level]["advice"]).split()),
            " ".join(str(levels[level]["source"]).split()),
        )
        for level in LEVELS
    }


def advice_for(level: str) -> Advice:
    """What the person should do at a level (``data/triage/advice.yml``)."""
    return _advice()[level]
