"""Context (assertion) of each finding: does the person have it now, and whose is it?

This uses medspaCy's implementation of the ConText algorithm with the lay-language rules in
``data/context/rules.yml`` (medspaCy's default rules, written for clinical notes, are not
loaded). Two things are decided for every finding, apart from each other:

* the **experiencer**: ``patient`` (the writer) or ``other`` - someone they describe: "my
  father had bowel cancer", "my husband can't pee", "she can't feel anything when she wipes".
  "My doctor said" does not make a finding someone else's.
* the **assertion**, one of these, in this order of priority:

  1. ``negated``       - "no numbness", "never had", "haven't noticed", "neither ... nor ...",
     "nothing wrong with my bladder", "I can control my bladder fine", "bowels are normal"
     (but "is leg weakness normal?" and "I wonder whether spasms are normal" ask).
  2. ``hypothetical``  - a question or a possibility: "what is cauda equina?", "should I worry
     about ...", "what if I lose bladder control", "in case I get ...", "can sciatica cause ...".
     A sentence that asks ("?" or a question word first) makes its findings hypothetical unless
     the person also reports them ("is it bad that my foot drags?" reports a dragging foot).
  3. ``historical``    - in the past and over: "years ago", "used to have", "it went away", and
     family history: "died of", "runs in the family". "I had cancer five years ago" is
     historical: whether an old illness still matters is for the triage rules to decide.
  4. ``current``       - everything else, including uncertain reports ("I think I might have
     wet myself"): the bot prefers asking again to missing something.

A finding's one-word ``context`` (read by older code) is its assertion for the writer's own
findings and ``other_person`` for anyone else's.

Scopes end at "but", "however", "although", "though", "except", "apart from", "now", ";" and at
a new clause about the person ("... and I ..."), so "no fever but I wet myself" keeps "wet myself"
current.

``context_of_span(text, start, end)`` gives the same reading for any span of any text (see its
docstring); it runs the same pipeline with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from medspacy.context import ConText, ConTextRule  # importing registers "medspacy_context"
from spacy.language import Language
from spacy.tokens import Doc, Span

from bot.findings import (
    AGE,
    AGGRAVATING,
    CURRENT,
    HISTORICAL,
    HYPOTHETICAL,
    NEGATED,
    OTHER,
    OTHER_PERSON,
    PATIENT,
    RELIEVING,
)

CONTEXT_DIR = Path(__file__).resolve().parent.parent / "data" / "context"
RULES_FILE = CONTEXT_DIR / "rules.yml"
PIPE_NAME = "medspacy_context"

# Categories that may appear in rules.yml.
FAMILY = "FAMILY"  # a person named: "my dad", "my friend's mum", "family history"
PRONOUN = "PRONOUN"  # "she", "he", "his", "her": someone else in a message, the patient in a note
NEGATED_EXISTENCE = "NEGATED_EXISTENCE"
NORMAL = "NORMAL"
ABILITY = "ABLE"
HYPOTHETICAL_CUE = "HYPOTHETICAL"
CONDITION = "COND"
QUESTION = "QUESTION"
QUESTION_MARK = "QUESTION_MARK"
HISTORICAL_CUE = "HISTORICAL"
RESOLVED = "RESOLVED"
FAMILY_HISTORY = "FAMILY_HISTORY"  # "runs in the family", "died of": someone else's past
REPORT_CUES = frozenset({"SELF", "SELF_POSSESSIVE", "NEW_CLAUSE"})
SCOPE_ENDS = frozenset({"CONTRAST", "CLAUSE", "COMMA", "COND_END", "QUESTION_TAG"})
CATEGORIES = frozenset(
    {
        FAMILY,
        PRONOUN,
        NEGATED_EXISTENCE,
        NORMAL,
        ABILITY,
        HYPOTHETICAL_CUE,
        CONDITION,
        QUESTION,
        QUESTION_MARK,
        HISTORICAL_CUE,
        RESOLVED,
        FAMILY_HISTORY,
        "PSEUDO",
    }
    | REPORT_CUES
    | SCOPE_ENDS
)
DIRECTIONS = frozenset({"FORWARD", "BACKWARD", "BIDIRECTIONAL", "PSEUDO", "TERMINATE"})
_RULE_KEYS = {
    "literal",
    "literals",
    "category",
    "direction",
    "pattern",
    "max_scope",
    "max_targets",
    "terminated_by",
    "allowed_types",
    "excluded_types",
}

# The span attributes medspaCy sets (kept so that other components can read them too).
SPAN_ATTRIBUTES: dict[str, dict[str, bool]] = {
    NEGATED_EXISTENCE: {"is_negated": True},
    NORMAL: {"is_negated": True},
    ABILITY: {"is_negated": True},
    HYPOTHETICAL_CUE: {"is_hypothetical": True},
    CONDITION: {"is_hypothetical": True},
    HISTORICAL_CUE: {"is_historical": True},
    RESOLVED: {"is_historical": True},
    FAMILY_HISTORY: {"is_historical": True, "is_family": True},
    FAMILY: {"is_family": True},
    PRONOUN: {"is_family": True},
}


class ContextRulesError(ValueError):
    """The context rules file is malformed."""


def _fail(path: Path, message: str) -> ContextRulesError:
    return ContextRulesError(f"{path}: {message}")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as error:
        raise _fail(path, f"cannot be read ({error})") from error
    except yaml.YAMLError as error:
        raise _fail(path, f"is not valid YAML ({error})") from error
    # Not called "rules": Rasa reads any YAML file under data/ with a top-level "rules" key as
    # dialogue rules.
    if not isinstance(data, dict) or not isinstance(data.get("context_rules"), list):
        raise _fail(path, "must be a mapping with a 'context_rules' list")
    if not isinstance(data.get("source"), str) or not data["source"].strip():
        raise _fail(path, "must name its 'source'")
    return data


def _category_list(path: Path, where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"{where} must be a list of categories")
    unknown = {v.upper() for v in value} - CATEGORIES
    if unknown:
        raise _fail(path, f"{where} names unknown categories {sorted(unknown)}")
    return [v.upper() for v in value]


def _rules_from_entry(path: Path, index: int, entry: Any) -> list[ConTextRule]:
    where = f"rule #{index + 1}"
    if not isinstance(entry, dict):
        raise _fail(path, f"{where} must be a mapping")
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        raise _fail(path, f"{where} has unknown keys {sorted(unknown)}")
    category = str(entry.get("category", "")).upper()
    if category not in CATEGORIES:
        raise _fail(path, f"{where} has unknown category {entry.get('category')!r}")
    direction = str(entry.get("direction", "")).upper()
    if direction not in DIRECTIONS:
        raise _fail(path, f"{where} has unknown direction {entry.get('direction')!r}")
    if "literal" in entry and "literals" in entry:
        raise _fail(path, f"{where} must have 'literal' or 'literals', not both")
    literals = entry.get("literals", [entry.get("literal")])
    if not isinstance(literals, list) or not literals:
        raise _fail(path, f"{where} needs a 'literal' or a non-empty 'literals' list")
    pattern = entry.get("pattern")
    if pattern is not None and (len(literals) != 1 or not isinstance(pattern, list)):
        raise _fail(path, f"{where}: a pattern must be a list and go with a single 'literal'")
    options: dict[str, Any] = {}
    for key in ("max_scope", "max_targets"):
        if key in entry:
            if not isinstance(entry[key], int) or entry[key] <= 0:
                raise _fail(path, f"{where}: {key} must be a positive whole number")
            options[key] = entry[key]
    if "terminated_by" in entry:
        terminated = _category_list(path, f"{where} terminated_by", entry["terminated_by"])
        options["terminated_by"] = set(terminated)
    for key in ("allowed_types", "excluded_types"):
        if key in entry:
            options[key] = set(_label_list(path, f"{where} {key}", entry[key]))
    rules: list[ConTextRule] = []
    for literal in literals:
        if isinstance(literal, bool) or not isinstance(literal, str) or not literal.strip():
            raise _fail(path, f"{where} has an empty or non-text literal {literal!r}; quote it")
        try:
            rules.append(
                ConTextRule(
                    literal=literal.strip(),
                    category=category,
                    direction=direction,
                    pattern=pattern,
                    **options,
                )
            )
        except (ValueError, TypeError) as error:
            raise _fail(path, f"{where} ({literal!r}) is invalid: {error}") from None
    return rules


def _label_list(path: Path, where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"{where} must be a list of labels")
    return value


def load_context_rules(
    path: Path | str = RULES_FILE,
) -> tuple[list[ConTextRule], dict[str, list[str]]]:
    """Read the ConText rules and the scope terminations from ``rules.yml``."""
    path = Path(path)
    data = _read(path)
    terminations_raw = data.get("terminations") or {}
    if not isinstance(terminations_raw, dict):
        raise _fail(path, "'terminations' must map a category to the categories that end it")
    terminations: dict[str, list[str]] = {}
    for category, enders in terminations_raw.items():
        if str(category).upper() not in CATEGORIES:
            raise _fail(path, f"terminations name unknown category {category!r}")
        terminations[str(category).upper()] = _category_list(
            path, f"terminations of {category}", enders
        )
    rules: list[ConTextRule] = []
    for index, entry in enumerate(data["context_rules"]):
        rules.extend(_rules_from_entry(path, index, entry))
    return rules, terminations


def add_context(nlp: Language, rules_file: Path | str = RULES_FILE) -> None:
    """Add medspaCy's ConText with our rules to a pipeline that already finds entities."""
    rules, terminations = load_context_rules(rules_file)
    for rule in rules:
        # Set here rather than through medspaCy's `terminating_types` option, which the spaCy
        # config system turns into a one-pass iterator that only the first rule would see.
        rule.terminated_by.update(terminations.get(rule.category, ()))
        if rule.direction == "PSEUDO" and rule.max_scope is None:
            # A scope end ("but", ";", "2)") only ends the scopes it lies in. medspaCy 1.0 tests
            # that with an overlap check that misses a scope lying wholly inside the other, so
            # a cue reaching backwards ("..., bowels are fine") ran through every "but" before
            # it; a scope of one word either side makes the check see it.
            rule.max_scope = 1
    ConText.register_default_attributes()
    context = nlp.add_pipe(
        PIPE_NAME,
        config={"rules": None, "phrase_matcher_attr": "NORM", "span_attrs": SPAN_ATTRIBUTES},
    )
    context.add(rules)


def _reaches(modifier: Any, span: Span) -> bool:
    """Whether a cue reaches a finding.

    medspaCy links a cue to the findings inside its scope but skips a finding that the cue
    overlaps. Here a cue that lies wholly inside the finding's own words is ignored ("no feeling"
    is a finding; its "no" is not a denial of it), while a cue that runs into the finding from
    outside still counts ("never had" reaches "had a temperature").
    """
    start, end = modifier.modifier_span
    if modifier.direction in ("PSEUDO", "TERMINATE") or not modifier.allows(span.label_.upper()):
        return False
    if span.start <= start and end <= span.end:
        return False  # the cue is part of the finding's own words
    if start <= span.start and span.end <= end:
        # "don't hurt" denies the hurt, but "can walk" says nothing against walking
        return modifier.category != ABILITY
    if start < span.start < end:  # runs into the finding from the left
        return modifier.direction in ("FORWARD", "BIDIRECTIONAL")
    if start < span.end < end:  # runs into it from the right
        return modifier.direction in ("BACKWARD", "BIDIRECTIONAL")
    scope_start, scope_end = modifier.scope_span
    return scope_start < span.end and span.start < scope_end


def cues_by_sentence(doc: Doc) -> dict[int, list[Any]]:
    """The ConText cues of a document that can reach a finding, grouped by sentence start."""
    graph = getattr(doc._, "context_graph", None)
    grouped: dict[int, list[Any]] = {}
    if graph is None:
        return grouped
    for modifier in graph.modifiers:
        if modifier.direction not in ("PSEUDO", "TERMINATE"):
            start, _ = modifier.modifier_span
            grouped.setdefault(doc[start].sent.start, []).append(modifier)
    return grouped


def categories_of(span: Span, cues: dict[int, list[Any]] | None = None) -> set[str]:
    """The ConText categories of the cues that reach this finding."""
    return {modifier.category for modifier in _reaching(span, cues)}


def _reaching(span: Span, cues: dict[int, list[Any]] | None = None) -> list[Any]:
    if cues is None:
        cues = cues_by_sentence(span.doc)
    return [m for m in cues.get(span.sent.start, []) if _reaches(m, span)]


@dataclass(frozen=True)
class SpanContext:
    """What the words around a span say of it (see ``context_of_span``).

    ``negated``, ``hypothetical`` and ``historical`` are independent: "no history of cancer"
    is negated and historical, "the numbness went away" historical and (no longer there)
    negated. ``assertion`` is the one reading the bot acts on (a denial first, then a question,
    then the past; "went away" is historical there). ``experiencer`` is ``"patient"`` (the
    person the text is about: the writer of a message, the patient of a clinical note) or
    ``"other"`` (someone else the text names: "my husband", "his mother", "family history of");
    ``who`` holds the words that name that other person ("my husband", "she"), empty for the
    patient.
    """

    negated: bool
    hypothetical: bool
    historical: bool
    experiencer: str = PATIENT
    who: str = ""
    # The one reading the bot acts on, by the priority above: negated (denied), hypothetical,
    # historical (over, or resolved), current.
    assertion: str = CURRENT


def read_span(
    span: Span, cues: dict[int, list[Any]] | None = None, *, pronouns_name_others: bool = True
) -> SpanContext:
    """The context of a finding, by the priority documented above.

    A person's age is not in the past ("I'm 67 and had cancer years ago"): for ``age`` only
    negated and hypothetical apply. An activity after "if" or "when" describes a habit, not a
    possibility ("if I cough it shoots down my leg"). With ``pronouns_name_others`` false, "she"
    and "he" are the person the text is about (as in a clinical note), not someone else.
    """
    reaching = _reaching(span, cues)
    categories = {modifier.category for modifier in reaching}
    if span.label_ == AGE:
        categories -= {HISTORICAL_CUE, RESOLVED}
    if span.label_ in (AGGRAVATING, RELIEVING):
        # "if I cough it shoots down my leg" describes a habit; "walking is fine" is about the
        # activity's effect, which the activity's role already says.
        categories -= {CONDITION, NORMAL}
    naming_others = {FAMILY, FAMILY_HISTORY} | ({PRONOUN} if pronouns_name_others else set())
    naming = [m for m in reaching if m.category in naming_others]
    asks = categories & {QUESTION, HYPOTHETICAL_CUE, CONDITION}
    negated = bool(categories & {NEGATED_EXISTENCE, ABILITY}) or (NORMAL in categories and not asks)
    reported = categories & (REPORT_CUES | naming_others)
    hypothetical = bool(categories & {HYPOTHETICAL_CUE, CONDITION}) or bool(
        categories & {QUESTION, QUESTION_MARK} and not reported
    )
    # "It went away" is over (historical) and no longer there: ConText counts "resolved" as a
    # negation. The bot acts on the historical reading (``assertion``).
    resolved = RESOLVED in categories
    historical = bool(categories & {HISTORICAL_CUE, RESOLVED, FAMILY_HISTORY})
    who = ""
    if naming:
        # the nearest person named before the finding; a name ("my dad") over a pronoun ("he")
        named = [m for m in naming if m.category != PRONOUN] or naming
        before = [m for m in named if m.modifier_span[0] < span.start]
        start, end = max(before or named, key=lambda m: m.modifier_span[0]).modifier_span
        who = span.doc[start:end].text
    if negated:
        assertion = NEGATED
    elif hypothetical:
        assertion = HYPOTHETICAL
    elif historical:
        assertion = HISTORICAL
    else:
        assertion = CURRENT
    experiencer = OTHER if naming else PATIENT
    return SpanContext(negated or resolved, hypothetical, historical, experiencer, who, assertion)


def context_of(span: Span, cues: dict[int, list[Any]] | None = None) -> str:
    """The one-word context of a finding: its assertion, or ``other_person``."""
    reading = read_span(span, cues)
    return OTHER_PERSON if reading.experiencer == OTHER else reading.assertion


def is_question(doc: Doc) -> bool:
    """True when a sentence of the message asks something.

    That is a sentence ending in "?", opening with a question word ("what is", "can sciatica"),
    or opening with a hypothetical ("what if I lose bladder control").
    """
    graph = getattr(doc._, "context_graph", None)
    if graph is None:
        return False
    for modifier in graph.modifiers:
        if modifier.category in (QUESTION, QUESTION_MARK):
            return True
        start, _ = modifier.modifier_span
        if modifier.category == HYPOTHETICAL_CUE and doc[start].is_sent_start:
            return True
    return False


# One-for-one replacements only, so that offsets into the text stay valid.
_SAME_LENGTH_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _single_spaced(text: str) -> tuple[str, list[int]]:
    """The text with each run of spaces made one space, and where each old offset went.

    Runs of spaces ("did   not have") would otherwise split a cue phrase into pieces.
    """
    out: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        offsets.append(len(out))
        if char in " \t" and (not out or out[-1] in " \n" or index + 1 == len(text)):
            continue
        out.append(" " if char == "\t" else char)
    offsets.append(len(out))
    return "".join(out), offsets


def context_of_span(
    text: str, start: int, end: int, *, pronouns_name_others: bool = True
) -> SpanContext:
    """What the words around ``text[start:end]`` say of it: negated, hypothetical, historical,
    and whose it is.

    The span can be anything (a word the lexicon does not know, a concept from another
    system); it is read with the bot's own pipeline and ConText rules (``data/context/rules.yml``),
    exactly as a finding would be. Returns a :class:`SpanContext`:

    * ``negated``      - denied: "no numbness", "denies chest pain", "I can control my bladder"
    * ``hypothetical`` - asked about or possible: "what is cauda equina?", "if I get a fever"
    * ``historical``   - in the past and over, or family history: "used to", "years ago"
    * ``experiencer``  - ``"patient"`` (whoever the text is about) or ``"other"`` (someone it
      names: "my husband", "his mother"); ``who`` holds the naming words.

    By default "she" and "he" name someone else, as in a message from the person themselves;
    pass ``pronouns_name_others=False`` for text written about the patient in the third person
    (a clinical note: "She denies any cough"). ``start`` and ``end`` are character offsets; a
    span that cuts a word is widened to whole words. Raises ``ValueError`` for an empty or
    out-of-range span.
    """
    from bot.nlp import build_pipeline  # the one shared pipeline (bot.nlp imports this module)

    if not isinstance(text, str) or not 0 <= start < end <= len(text):
        raise ValueError(f"no span {start}:{end} in a text of {len(text)} characters")
    if not text[start:end].strip():
        raise ValueError(f"span {start}:{end} holds no word")
    tidy, offsets = _single_spaced(text.translate(_SAME_LENGTH_QUOTES))
    doc = build_pipeline()(tidy)
    end_at = max(offsets[end], offsets[start] + 1)
    span = doc.char_span(offsets[start], end_at, alignment_mode="expand")
    if span is None or not span.text.strip():
        raise ValueError(f"span {start}:{end} holds no word")
    return read_span(span, pronouns_name_others=pronouns_name_others)
