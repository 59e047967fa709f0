"""The clinical lexicon: how people name what they feel, loaded from ``data/lexicon/*.yml``.

Each lexicon file holds the vocabulary of one entity label::

    label: symptom
    source: "seed 001 (symptoms list)"
    concepts:
      pins_and_needles:
        - pins and needles
        - pins n needles
    patterns:                       # optional spaCy token patterns
      - concept: numbness
        pattern: [{"LOWER": {"REGEX": "^numb+(ness)?$"}}]

Phrases are matched on whole tokens, ignoring case (the spaCy ``NORM`` attribute, which is the
lower-case form with contractions spelled out, so "can't", "cant" and "cannot" match alike).
One more file, ``spelling.yml``, says how near-misses of lexicon words are accepted (see
:func:`spelling_variants`).

Every file is checked when it is loaded. A malformed file, an unknown label, or a phrase given
to two different concepts raises :class:`LexiconError` naming the file, so a mistake in the data
stops the bot at start-up instead of silently missing a symptom.

For ``duration``, ``severity`` and ``age`` the concept reported in a finding is a normalised
value computed from the matched words (:func:`normalise_value`), e.g. "two wks" -> "2 weeks",
"8 out of 10" -> "8/10", "I'm 67" -> "67".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from spacy.matcher import Matcher
from spacy.vocab import Vocab

from bot.findings import AGE, CARDINALS, DURATION, LABELS, SEVERITY

LEXICON_DIR = Path(__file__).resolve().parent.parent / "data" / "lexicon"
SPELLING_FILE = "spelling.yml"

_CONCEPT_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LEXICON_KEYS = {"label", "source", "concepts", "patterns"}
_SPELLING_KEYS = {"source", "min_length", "protected_words"}
_VOWELS = "aeiou"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LexiconError(ValueError):
    """A lexicon file is missing, malformed or contradicts another one."""


@dataclass(frozen=True)
class TokenRule:
    """A spaCy token pattern that finds one concept."""

    concept: str
    pattern: list[dict[str, Any]]


@dataclass(frozen=True)
class LexiconFile:
    """The vocabulary of one label, as read from one YAML file."""

    path: Path
    label: str
    source: str
    concepts: dict[str, list[str]]
    patterns: list[TokenRule] = field(default_factory=list)

    def phrases(self) -> Iterator[tuple[str, str]]:
        """Yield (concept, phrase) pairs."""
        for concept, phrases in self.concepts.items():
            for phrase in phrases:
                yield concept, phrase


@dataclass(frozen=True)
class SpellingSettings:
    """How near-misses of lexicon words are accepted (``data/lexicon/spelling.yml``)."""

    source: str = ""
    min_length: int = 5
    protected_words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lexicon:
    """All lexicon files of the bot."""

    files: tuple[LexiconFile, ...]
    spelling: SpellingSettings = SpellingSettings()

    @property
    def labels(self) -> set[str]:
        return {f.label for f in self.files}

    def concepts(self, label: str) -> set[str]:
        """Concept ids defined for a label, in phrases or token patterns."""
        found: set[str] = set()
        for lexicon_file in self.files:
            if lexicon_file.label == label:
                found.update(lexicon_file.concepts)
                found.update(rule.concept for rule in lexicon_file.patterns)
        return found

    def entity_ruler_patterns(self) -> list[dict[str, Any]]:
        """Patterns for spaCy's EntityRuler: the concept id becomes the entity id."""
        patterns: list[dict[str, Any]] = []
        for lexicon_file in self.files:
            for concept, phrase in lexicon_file.phrases():
                patterns.append({"label": lexicon_file.label, "pattern": phrase, "id": concept})
            for rule in lexicon_file.patterns:
                patterns.append(
                    {"label": lexicon_file.label, "pattern": rule.pattern, "id": rule.concept}
                )
        return patterns

    def words(self) -> set[str]:
        """Every lower-case alphabetic word used in a phrase (contractions left out)."""
        return set(self.word_counts())

    def word_counts(self) -> Counter[str]:
        """How many phrases use each lower-case alphabetic word."""
        counts: Counter[str] = Counter()
        for lexicon_file in self.files:
            for _, phrase in lexicon_file.phrases():
                words = re.findall(r"[a-z]+(?:'[a-z]+)?", phrase.lower())
                counts.update({word for word in words if "'" not in word})
        return counts


def _fail(path: Path, message: str) -> LexiconError:
    return LexiconError(f"{path}: {message}")


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_YAML_LOADER)
    except OSError as error:
        raise _fail(path, f"cannot be read ({error})") from error
    except yaml.YAMLError as error:
        raise _fail(path, f"is not valid YAML ({error})") from error


@lru_cache(maxsize=1)
def _shared_vocab() -> Vocab:
    return Vocab()


def _check_token_pattern(path: Path, concept: str, pattern: Any) -> list[dict[str, Any]]:
    if not isinstance(pattern, list) or not pattern:
        raise _fail(path, f"pattern for '{concept}' must be a non-empty list of token dicts")
    if not all(isinstance(token, dict) and token for token in pattern):
        raise _fail(path, f"pattern for '{concept}' must contain only non-empty token dicts")
    matcher = Matcher(_shared_vocab(), validate=True)
    try:
        matcher.add(concept, [pattern])
    except Exception as error:  # spaCy raises several error types for bad patterns
        raise _fail(
            path, f"pattern for '{concept}' is not a valid spaCy pattern: {error}"
        ) from None
    return pattern


def parse_lexicon_file(path: Path, data: Any) -> LexiconFile:
    """Validate the content of one lexicon file."""
    if not isinstance(data, dict):
        raise _fail(path, "must be a mapping with 'label', 'source' and 'concepts'")
    unknown = set(data) - _LEXICON_KEYS
    if unknown:
        raise _fail(path, f"unknown keys {sorted(unknown)}; allowed: {sorted(_LEXICON_KEYS)}")
    label = data.get("label")
    if label not in LABELS:
        raise _fail(path, f"unknown label {label!r}; expected one of {', '.join(LABELS)}")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(path, "must name its 'source'")
    raw_concepts = data.get("concepts") or {}
    if not isinstance(raw_concepts, dict):
        raise _fail(path, "'concepts' must map concept ids to lists of phrases")
    concepts: dict[str, list[str]] = {}
    for concept, phrases in raw_concepts.items():
        if not isinstance(concept, str) or not _CONCEPT_ID.match(concept):
            raise _fail(path, f"concept id {concept!r} must be snake_case")
        if not isinstance(phrases, list) or not phrases:
            raise _fail(path, f"concept '{concept}' must have a non-empty list of phrases")
        cleaned: list[str] = []
        for phrase in phrases:
            if isinstance(phrase, bool) or not isinstance(phrase, str | int | float):
                raise _fail(path, f"concept '{concept}' has a non-text phrase; quote {phrase!r}")
            if not str(phrase).strip():
                raise _fail(path, f"concept '{concept}' has an empty phrase")
            cleaned.append(" ".join(str(phrase).split()))
        concepts[concept] = cleaned
    raw_patterns = data.get("patterns") or []
    if not isinstance(raw_patterns, list):
        raise _fail(path, "'patterns' must be a list")
    patterns: list[TokenRule] = []
    for entry in raw_patterns:
        if not isinstance(entry, dict) or set(entry) != {"concept", "pattern"}:
            raise _fail(path, "each entry of 'patterns' needs exactly 'concept' and 'pattern'")
        concept = entry["concept"]
        if not isinstance(concept, str) or not _CONCEPT_ID.match(concept):
            raise _fail(path, f"pattern concept id {concept!r} must be snake_case")
        patterns.append(TokenRule(concept, _check_token_pattern(path, concept, entry["pattern"])))
    if not concepts and not patterns:
        raise _fail(path, "defines no phrases and no patterns")
    return LexiconFile(path, label, source.strip(), concepts, patterns)


def parse_spelling_file(path: Path, data: Any) -> SpellingSettings:
    """Validate ``spelling.yml``."""
    if not isinstance(data, dict) or not isinstance(data.get("spelling"), dict) or len(data) != 1:
        raise _fail(path, "must hold a single 'spelling' mapping")
    settings = data["spelling"]
    unknown = set(settings) - _SPELLING_KEYS
    if unknown:
        raise _fail(path, f"unknown keys {sorted(unknown)}; allowed: {sorted(_SPELLING_KEYS)}")
    min_length = settings.get("min_length", 5)
    if not isinstance(min_length, int) or min_length < 3:
        raise _fail(path, "'min_length' must be a whole number of at least 3")
    words = settings.get("protected_words") or []
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise _fail(path, "'protected_words' must be a list of words")
    return SpellingSettings(
        source=str(settings.get("source", "")),
        min_length=min_length,
        protected_words=frozenset(w.strip().lower() for w in words),
    )


def _check_duplicates(files: Iterable[LexiconFile]) -> None:
    seen: dict[str, tuple[LexiconFile, str]] = {}
    for lexicon_file in files:
        for concept, phrase in lexicon_file.phrases():
            key = phrase.lower()
            if key in seen:
                other_file, other_concept = seen[key]
                if (other_file.label, other_concept) != (lexicon_file.label, concept):
                    raise LexiconError(
                        f"phrase {phrase!r} is given to {lexicon_file.label}:{concept} in "
                        f"{lexicon_file.path.name} and to {other_file.label}:{other_concept} in "
                        f"{other_file.path.name}; a phrase may name only one concept"
                    )
            seen[key] = (lexicon_file, concept)


def load_lexicon(directory: Path | str = LEXICON_DIR) -> Lexicon:
    """Load and check every ``*.yml`` file of the lexicon folder."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.yml"))
    if not paths:
        raise LexiconError(f"{directory}: no lexicon files (*.yml) found")
    files: list[LexiconFile] = []
    spelling = SpellingSettings()
    for path in paths:
        data = _read_yaml(path)
        if path.name == SPELLING_FILE:
            spelling = parse_spelling_file(path, data)
        else:
            files.append(parse_lexicon_file(path, data))
    _check_duplicates(files)
    return Lexicon(tuple(files), spelling)


# --- near-misses ----------------------------------------------------------------------------


def _edits(word: str) -> set[str]:
    """Common typing slips: a letter left out, doubled, swapped with the next, or a vowel swapped.

    The first letter is kept: people rarely get it wrong, and keeping it avoids most clashes
    with real words.
    """
    variants: set[str] = set()
    for i in range(1, len(word)):
        variants.add(word[:i] + word[i + 1 :])  # deletion: "numbess", "buttok", "sciatia"
        variants.add(word[:i] + word[i] + word[i:])  # doubling: "tinglling"
        if i + 1 < len(word):
            variants.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # swap: "tignling"
        if word[i] in _VOWELS:
            for vowel in _VOWELS:
                variants.add(word[:i] + vowel + word[i + 1 :])  # vowel: "sneazing"
    if word.endswith("ing"):
        variants.add(word[:-1] + "'")  # "sittin'"
    variants.discard(word)
    return variants


def spelling_variants(lexicon: Lexicon) -> dict[str, str]:
    """Map misspellings of lexicon words to the word they most likely mean.

    A variant is kept only when it is not itself a lexicon word, is not a protected real word
    ("waking" is not "walking"), and points to one word: when it is one slip away from several,
    the word used in most phrases wins ("burnig" -> "burning" rather than "buring"), and a tie
    drops it. Words shorter than ``min_length`` are never varied.
    """
    settings = lexicon.spelling
    uses = lexicon.word_counts()
    candidates: dict[str, set[str]] = {}
    for word in uses:
        if len(word) < settings.min_length:
            continue
        for variant in _edits(word):
            if len(variant) >= settings.min_length - 1:
                candidates.setdefault(variant, set()).add(word)
    variants: dict[str, str] = {}
    for variant, targets in candidates.items():
        if variant in uses or variant in settings.protected_words:
            continue
        ranked = sorted(targets, key=lambda word: -uses[word])
        if len(ranked) == 1 or uses[ranked[0]] > uses[ranked[1]]:
            variants[variant] = ranked[0]
    return variants


# --- normalised values ------------------------------------------------------------------------

_NUMBER_WORDS = {**CARDINALS, "a": 1, "an": 1, "couple": 2}
_VAGUE_NUMBERS = ("few", "several", "many")
_COUNT_WORDS = {"couple", "few", "several", "many"}
_UNITS = (
    (re.compile(r"^(min|mins|minute|minutes)$"), "minute"),
    (re.compile(r"^(hours?|hrs?)$"), "hour"),
    (re.compile(r"^(days?|dys?|nights?)$"), "day"),
    (re.compile(r"^(weeks?|wks?|weks?|weeeks?)$"), "week"),
    (re.compile(r"^fortnights?$"), "fortnight"),
    (re.compile(r"^(months?|mnths?|mths?|monthes|mounths?)$"), "month"),
    (re.compile(r"^(years?|yrs?|yeras?|yaers?)$"), "year"),
    (re.compile(r"^decades?$"), "decade"),
)
_GLUED = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")
_DECADE_WORDS = {
    "twenties": 20,
    "thirties": 30,
    "forties": 40,
    "fifties": 50,
    "sixties": 60,
    "seventies": 70,
    "eighties": 80,
    "nineties": 90,
}


def _unit_of(word: str) -> str | None:
    for pattern, unit in _UNITS:
        if pattern.match(word):
            return unit
    return None


def _number_of(word: str) -> float | None:
    if re.fullmatch(r"\d+(\.\d+)?", word):
        return float(word)
    value = _NUMBER_WORDS.get(word)
    return float(value) if value is not None else None


def _format_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _plural(count: str, unit: str) -> str:
    return f"{count} {unit}" if count == "1" else f"{count} {unit}s"


def normalise_duration(words: list[str], concept: str) -> str:
    """'two wks' -> '2 weeks', 'a couple of days' -> '2 days', 'since Monday' -> 'since monday'."""
    words = [w.lower() for w in words]
    if concept == "since":
        start = next(i for i, w in enumerate(words) if w not in {"since", "from"})
        rest = [w for w in words[start:] if w not in {"started", "start", "starting", "began"}]
        rest = [w for w in rest if w not in {"begun", "begin", "came", "on"}] or rest
        return "since " + " ".join(rest)
    if concept == "long_time":
        for word in words:
            unit = _unit_of(word)
            if unit:
                return unit + "s"
        return "years"
    if concept == "a_while":
        return "a while"
    numbers: list[float] = []
    vague: str | None = None
    unit: str | None = None
    half = "half" in words
    # "a couple of days", "a few weeks": the article is not a number
    words = [
        w
        for i, w in enumerate(words)
        if not (w in {"a", "an"} and i + 1 < len(words) and words[i + 1] in _COUNT_WORDS)
    ]
    for word in words:
        glued = _GLUED.match(word)
        if glued and _unit_of(glued.group(2)):
            numbers.append(float(glued.group(1)))
            unit = _unit_of(glued.group(2))
            continue
        if unit is None and _unit_of(word):
            unit = _unit_of(word)
            continue
        if unit is None:
            number = _number_of(word)
            if number is not None:
                numbers.append(number)
            elif word in _VAGUE_NUMBERS:
                vague = word
    if unit is None:
        return " ".join(words)
    if unit == "fortnight":
        unit, numbers = "week", [n * 2 for n in numbers] or [2.0]
    if unit == "decade":
        unit, numbers = "year", [n * 10 for n in numbers] or [10.0]
    if vague and not numbers:
        return f"{vague} {unit}s"
    if vague == "few" or (numbers and vague in _VAGUE_NUMBERS):
        return f"few {unit}s"
    if not numbers:
        return unit + "s"
    if half and len(numbers) == 1:
        numbers = [numbers[0] + 0.5]
    if len(numbers) >= 2 and numbers[0] < numbers[1]:
        count = f"{_format_number(numbers[0])}-{_format_number(numbers[1])}"
    else:
        count = _format_number(numbers[0])
    return _plural(count, unit)


def normalise_severity(words: list[str], concept: str) -> str:
    """'8 out of 10' -> '8/10', 'ten out of ten' -> '10/10', 'excruciating' -> 'severe'."""
    if concept != "score":
        return concept
    text = " ".join(w.lower() for w in words)
    text = re.sub(r"(out of|outta|on|from)\s*(10|ten)\b", "/10", text)
    values: list[float] = []
    for token in re.findall(r"\d+(?:\.\d+)?|[a-z]+", text.split("/10")[0]):
        number = _number_of(token)
        if number is not None and token not in {"a", "an"}:
            values.append(number)
    if not values:
        return "severe"
    score = min(max(values), 10.0)
    return f"{_format_number(score)}/10"


def normalise_age(words: list[str], concept: str) -> str | None:
    """'I'm 67' -> '67', 'in my sixties' -> '60'; None when no age can be read."""
    for word in (w.lower() for w in words):
        decade = _DECADE_WORDS.get(word)
        if decade:
            return str(decade)
        digits = re.match(r"^(\d{2,3})", word)
        if digits:
            return digits.group(1)
    return None


def normalise_value(label: str, concept: str, words: list[str]) -> str | None:
    """The concept reported for a match: normalised for duration, severity and age."""
    if label == DURATION:
        return normalise_duration(words, concept)
    if label == SEVERITY:
        return normalise_severity(words, concept)
    if label == AGE:
        return normalise_age(words, concept)
    return concept
