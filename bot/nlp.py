"""The language layer: what a message says about the person's pain, and in what context.

``analyse(text)`` runs the bot's own spaCy pipeline, built from ``spacy.blank("en")``:

1. ``sentencizer``         - sentences end at . ! ? and at line breaks
2. ``sciatica_spelling``   - near-misses of lexicon words are read as the word ("numbess")
   ``sciatica_person``     - "she wipes", "wet herself" are read with the lexicon's first-person
                             phrases ("when I wipe", "wet myself"); whose it is stays with ConText
3. ``entity_ruler``        - the clinical lexicon (``data/lexicon/*.yml``); longest match wins,
                             so "numb down there" (a red flag) beats "numb" (a symptom)
4. ``sciatica_findings``   - drops words used in another sense ("I left work", "right now") and
                             decides whether an activity makes the pain worse or better
5. ``medspacy_context``    - ConText: negated, hypothetical, historical or current, and whose
                             (the writer or someone else; see ``bot/context.py``)

The pipeline is built once per process (``build_pipeline`` is cached). ``analyse`` accepts any
input without raising: ``None`` or non-text is treated as text or as empty, curly quotes become
straight ones, control characters and runs of spaces are tidied, and only the first
``MAX_CHARS`` (5,000) characters are analysed. Offsets in the findings refer to the tidied text,
which is returned as ``Analysis.text``.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from bot.context import CONTEXT_DIR, add_context, cues_by_sentence, is_question, read_span
from bot.findings import (
    AGE,
    AGGRAVATING,
    BODY_LOCATION,
    CONTEXTS,
    DURATION,
    LABELS,
    OTHER,
    OTHER_PERSON,
    RELIEVING,
    SEVERITY,
    SIDE,
    Analysis,
    Finding,
)
from bot.lexicon import LEXICON_DIR, Lexicon, load_lexicon, normalise_value, spelling_variants

MAX_CHARS = 5000
PIECE_CHARS = 400  # a long message is analysed in pieces of about this many characters
FACTOR_CUES_FILE = "factor_cues.yml"
FALSE_FRIENDS_FILE = "false_friends.yml"

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)
_TIME_UNIT = re.compile(r"^(days?|weeks?|wks?|months?|mnths?|hours?|hrs?|minutes?|mins?)$")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


class LanguageDataError(ValueError):
    """A data file of the language layer (data/context) is malformed."""


# --- text clean-up ----------------------------------------------------------------------------


def normalise_text(text: Any) -> str:
    """Tidy a message before analysis; never raises.

    Curly quotes and dashes become plain ones, control and invisible characters become spaces,
    runs of spaces collapse, line breaks are kept (they end sentences), a space is put after
    "?", "!" and ";" glued to the next word ("bad?no"), and the result is cut to MAX_CHARS.
    """
    if text is None:
        return ""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # an object whose __str__ fails is simply not text
            return ""
    text = text[: MAX_CHARS * 2]
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = _INVISIBLE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch if ch == "\n" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = re.sub(r"[^\S\n]+", " ", text)
    text = re.sub(r" ?\n[\s]*", "\n", text)
    text = re.sub(r"([?!;])(?=[^\s?!;.,)\"'])", r"\1 ", text)
    return text.strip()[:MAX_CHARS].strip()


# --- data of the findings component --------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as error:
        raise LanguageDataError(f"{path}: cannot be read as YAML ({error})") from error
    if not isinstance(data, dict):
        raise LanguageDataError(f"{path}: must be a mapping")
    return data


def _word_list(path: Path, data: dict[str, Any], key: str, required: bool = True) -> list[str]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise LanguageDataError(f"{path}: '{key}' must be a list of words or phrases")
    for word in value:
        if not isinstance(word, str) or not word.strip():
            raise LanguageDataError(f"{path}: '{key}' has {word!r}, not a word; quote it")
    return [v.strip().lower() for v in value]


@dataclass(frozen=True)
class FactorCues:
    """Words that say whether an activity makes the pain worse or better."""

    relieving: list[str]
    aggravating: list[str]
    no_effect: list[str]
    boundaries: frozenset[str]
    soft_boundaries: frozenset[str]


def load_factor_cues(path: Path) -> FactorCues:
    data = _read_yaml(path)
    return FactorCues(
        relieving=_word_list(path, data, "relieving"),
        aggravating=_word_list(path, data, "aggravating"),
        no_effect=_word_list(path, data, "no_effect"),
        boundaries=frozenset(_word_list(path, data, "boundaries")),
        soft_boundaries=frozenset(_word_list(path, data, "soft_boundaries")),
    )


@dataclass(frozen=True)
class FalseFriend:
    """A lexicon word that often means something else, and the neighbours that show it."""

    words: frozenset[str]
    label: str
    drop_before: frozenset[str]
    drop_after: frozenset[str]
    keep_before: frozenset[str]
    always_drop_after: frozenset[str] = frozenset()
    at_sentence_start: bool = False


def load_false_friends(path: Path) -> list[FalseFriend]:
    data = _read_yaml(path)
    # Not called "rules": Rasa reads any YAML file under data/ with a top-level "rules" key as
    # dialogue rules.
    rules = data.get("false_friends")
    if not isinstance(rules, list):
        raise LanguageDataError(f"{path}: must have a 'false_friends' list")
    friends: list[FalseFriend] = []
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("label") not in LABELS:
            raise LanguageDataError(f"{path}: each rule needs 'words' and a known 'label'")
        friends.append(
            FalseFriend(
                words=frozenset(_word_list(path, rule, "words")),
                label=rule["label"],
                drop_before=frozenset(_word_list(path, rule, "drop_before", required=False)),
                drop_after=frozenset(_word_list(path, rule, "drop_after", required=False)),
                keep_before=frozenset(_word_list(path, rule, "keep_before", required=False)),
                always_drop_after=frozenset(
                    _word_list(path, rule, "always_drop_after", required=False)
                ),
                at_sentence_start=bool(rule.get("at_sentence_start", False)),
            )
        )
    return friends


# --- pipeline components ----------------------------------------------------------------------


@lru_cache(maxsize=4)
def _lexicon(lexicon_dir: str) -> Lexicon:
    return load_lexicon(lexicon_dir)


class SpellingNormaliser:
    """Reads a near-miss of a lexicon word as that word, by setting the token's NORM."""

    def __init__(self, variants: dict[str, str]) -> None:
        self.variants = variants

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            if len(token) >= 4:
                corrected = self.variants.get(token.lower_)
                if corrected is not None:
                    token.norm_ = corrected
        return doc


@Language.factory("sciatica_spelling", default_config={"lexicon_dir": str(LEXICON_DIR)})
def make_spelling(nlp: Language, name: str, lexicon_dir: str) -> SpellingNormaliser:
    return SpellingNormaliser(spelling_variants(_lexicon(lexicon_dir)))


# Someone else described in the third person: the lexicon's phrases are in the first person
# ("wet myself", "can't feel when I wipe"), so "wet herself" and "when she wipes" are read with
# the same phrases. Only NORM changes: whose finding it is stays with ConText, which reads the
# words themselves ("she", "my husband").
_PERSON_NORMS = {
    "she": "i",
    "he": "i",
    "herself": "myself",
    "himself": "myself",
    "themselves": "myself",
    "themself": "myself",
    "her": "my",
    "his": "my",
    "him": "me",
}


def third_person_verbs(lexicon: Lexicon) -> dict[str, str]:
    """Third-person forms of the verbs the lexicon's phrases use after "I" or start with:
    "wipes" -> "wipe", "loses" -> "lose"."""
    verbs: dict[str, str] = {}
    for lexicon_file in lexicon.files:
        for _, phrase in lexicon_file.phrases():
            words = phrase.lower().split()
            for before, verb in zip(["i", *words], words, strict=False):
                if before != "i" or not verb.isalpha() or len(verb) < 2:
                    continue
                if verb.endswith(("s", "sh", "ch", "x", "o")):
                    verbs.setdefault(verb + "es", verb)
                elif verb.endswith("y") and verb[-2] not in "aeiou":
                    verbs.setdefault(verb[:-1] + "ies", verb)
                else:
                    verbs.setdefault(verb + "s", verb)
    verbs.update({"has": "have", "does": "do", "is": "am"})
    return verbs


class PersonNormaliser:
    """Reads "she wipes" / "wet herself" with the lexicon's first-person phrases (NORM only)."""

    def __init__(self, verbs: dict[str, str]) -> None:
        self.verbs = verbs

    @staticmethod
    def _after_someone(doc: Doc, index: int) -> bool:
        """The verb follows "she" or "he" ("she wipes"). Not after a noun: "my bottom feels numb"
        is itself a lexicon phrase."""
        return index > 0 and doc[index - 1].lower_ in ("she", "he")

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            lower = token.lower_
            if lower in _PERSON_NORMS:
                token.norm_ = _PERSON_NORMS[lower]
            elif lower in self.verbs and self._after_someone(doc, token.i):
                token.norm_ = self.verbs[lower]
        return doc


@Language.factory("sciatica_person", default_config={"lexicon_dir": str(LEXICON_DIR)})
def make_person(nlp: Language, name: str, lexicon_dir: str) -> PersonNormaliser:
    return PersonNormaliser(third_person_verbs(_lexicon(lexicon_dir)))


def _neighbour(doc: Doc, index: int) -> str | None:
    if 0 <= index < len(doc) and not doc[index].is_space:
        return doc[index].lower_
    return None


class FindingsFilter:
    """Drops false friends and decides the role (worse/better) of each activity."""

    def __init__(self, nlp: Language, cues: FactorCues, friends: list[FalseFriend]) -> None:
        self.cues = cues
        self.friends = friends
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        for role, phrases in (
            (RELIEVING, cues.relieving),
            (AGGRAVATING, cues.aggravating),
            ("no_effect", cues.no_effect),
        ):
            self.matcher.add(role, list(nlp.tokenizer.pipe(phrases)))

    def _is_false_friend(self, doc: Doc, ent: Span, location_starts: set[int]) -> bool:
        if len(ent) != 1:
            return False
        word = ent[0].lower_
        for friend in self.friends:
            if friend.label != ent.label_ or word not in friend.words:
                continue
            before = _neighbour(doc, ent.start - 1)
            after = _neighbour(doc, ent.end)
            if after in friend.always_drop_after:
                return True
            if ent.end in location_starts or before in friend.keep_before:
                return False
            if friend.at_sentence_start and ent[0].is_sent_start:
                return True
            return before in friend.drop_before or after in friend.drop_after
        return False

    def _role(self, doc: Doc, ent: Span, cues: list[tuple[int, int, str]]) -> str:
        """The role of an activity: the nearest cue in its part of the sentence decides."""
        sentence = ent.sent
        boundaries = [
            token.i
            for token in sentence
            if token.lower_ in self.cues.boundaries and not (ent.start <= token.i < ent.end)
        ]
        start = max([b + 1 for b in boundaries if b < ent.start], default=sentence.start)
        end = min([b for b in boundaries if b >= ent.end], default=sentence.end)
        in_sentence = [c for c in cues if sentence.start <= c[0] < sentence.end]
        own = [c for c in in_sentence if start <= c[0] and c[1] <= end]
        if not own:
            hard = [
                b
                for b in boundaries
                if doc[b].lower_ not in self.cues.soft_boundaries and doc[b].lower_ != ","
            ]
            left = max([b + 1 for b in hard if b < ent.start], default=sentence.start)
            right = min([b for b in hard if b >= ent.end], default=sentence.end)
            own = [c for c in in_sentence if left <= c[0] and c[1] <= right]
        if not own:
            return AGGRAVATING

        def distance(cue: tuple[int, int, str]) -> int:
            return ent.start - cue[1] if cue[1] <= ent.start else cue[0] - ent.end + 1

        return min(own, key=lambda cue: (distance(cue), cue[2] != AGGRAVATING))[2]

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        if not ents:
            return doc
        location_starts = {ent.start for ent in ents if ent.label_ == BODY_LOCATION}
        cues = [
            (span.start, span.end, span.label_)
            for span in filter_spans(
                Span(doc, start, end, label=match_id) for match_id, start, end in self.matcher(doc)
            )
        ]
        kept: list[Span] = []
        for ent in ents:
            if self._is_false_friend(doc, ent, location_starts):
                continue
            if ent.label_ == AGE and ent.end < len(doc) and _TIME_UNIT.match(doc[ent.end].lower_):
                continue  # "I'm 20 weeks pregnant" is not an age
            if ent.label_ in (AGGRAVATING, RELIEVING):
                others = [c for c in cues if c[1] <= ent.start or c[0] >= ent.end]
                role = self._role(doc, ent, others)
                if role == "no_effect":
                    continue
                if role != ent.label_:
                    ent = Span(doc, ent.start, ent.end, label=role, span_id=ent.id)
            kept.append(ent)
        doc.ents = kept
        return doc


@Language.factory("sciatica_findings", default_config={"context_dir": str(CONTEXT_DIR)})
def make_findings_filter(nlp: Language, name: str, context_dir: str) -> FindingsFilter:
    directory = Path(context_dir)
    return FindingsFilter(
        nlp,
        load_factor_cues(directory / FACTOR_CUES_FILE),
        load_false_friends(directory / FALSE_FRIENDS_FILE),
    )


# --- the pipeline -----------------------------------------------------------------------------


# Words people slip into a phrase without changing what it reports ("I can't *really* tell when
# I need to pee", "my leg *just* gives way", "my foot *sort of* catches"). Red-flag phrases also
# match with up to two of them between any two of their words; over-triage is acceptable,
# under-triage is not.
FILLER_WORDS = (
    "really",
    "actually",
    "properly",
    "quite",
    "always",
    "totally",
    "completely",
    "fully",
    "even",
    "just",
    "literally",
    "exactly",
    "suddenly",
    "sometimes",
    "kind",
    "kinda",
    "sort",
    "sorta",
    "of",
    "like",
    "now",
    "still",
    "all",
    "the",
    "a",
    "anything",
)
FILLER_LABELS = ("clinical_sign",)


def filler_tolerant_patterns(nlp: Language, lexicon: Lexicon) -> list[dict[str, Any]]:
    """Token patterns for multi-word red-flag phrases allowing filler words between words."""
    fillers = {"NORM": {"IN": list(FILLER_WORDS)}, "OP": "?"}
    patterns: list[dict[str, Any]] = []
    for lexicon_file in lexicon.files:
        if lexicon_file.label not in FILLER_LABELS:
            continue
        for concept, phrase in lexicon_file.phrases():
            norms = [token.norm_ for token in nlp.make_doc(phrase)]
            if len(norms) < 2:
                continue
            pattern: list[dict[str, Any]] = [{"NORM": norms[0]}]
            for norm in norms[1:]:
                pattern.extend([dict(fillers), dict(fillers), {"NORM": norm}])
            patterns.append({"label": lexicon_file.label, "pattern": pattern, "id": concept})
    return patterns


def create_pipeline(
    lexicon_dir: Path | str = LEXICON_DIR, context_dir: Path | str = CONTEXT_DIR
) -> Language:
    """Build a new pipeline from the data folders (use ``build_pipeline`` for the shared one)."""
    lexicon = _lexicon(str(lexicon_dir))
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer", config={"punct_chars": [*Sentencizer.default_punct_chars, "\n"]})
    nlp.add_pipe("sciatica_spelling", config={"lexicon_dir": str(lexicon_dir)})
    nlp.add_pipe("sciatica_person", config={"lexicon_dir": str(lexicon_dir)})
    ruler = nlp.add_pipe(
        "entity_ruler",
        config={"phrase_matcher_attr": "NORM", "validate": True, "overwrite_ents": True},
    )
    ruler.add_patterns(lexicon.entity_ruler_patterns())
    ruler.add_patterns(filler_tolerant_patterns(nlp, lexicon))
    nlp.add_pipe("sciatica_findings", config={"context_dir": str(context_dir)})
    add_context(nlp, Path(context_dir) / "rules.yml")
    return nlp


@lru_cache(maxsize=1)
def build_pipeline() -> Language:
    """The shared pipeline: blank English + sentencizer + lexicon + ConText, built once."""
    return create_pipeline()


@lru_cache(maxsize=1)
def _location_words() -> dict[str, str]:
    """Single words that name a body part ("legs" -> leg), for "both legs" and the like."""
    lexicon = _lexicon(str(LEXICON_DIR))
    words: dict[str, str] = {}
    for lexicon_file in lexicon.files:
        if lexicon_file.label == BODY_LOCATION:
            for concept, phrase in lexicon_file.phrases():
                if " " not in phrase:
                    words.setdefault(phrase.lower(), concept)
    return words


_CLOCK = {"am", "pm", "a.m.", "p.m.", "oclock", "o'clock", "o’clock"}


def _clock_time(ent: Span) -> bool:
    """ "it's 3am" or "was 4 o'clock" is the time of day, not a score out of 10."""
    if ent.label_ != SEVERITY or ent.end >= len(ent.doc):
        return False
    return ent.doc[ent.end].lower_ in _CLOCK


_GESTATION = {"pregnant", "gestation", "along"}


def _gestation(ent: Span) -> bool:
    """ "36 weeks pregnant" is how far a pregnancy has gone, not how long the pain has lasted."""
    if ent.label_ != DURATION:
        return False
    after = [t.lower_ for t in ent.doc[ent.end : ent.end + 2]]
    return bool(_GESTATION & set(after))


def _findings_of(doc: Doc) -> list[Finding]:
    findings: list[Finding] = []
    cues = cues_by_sentence(doc)
    for ent in doc.ents:
        concept = normalise_value(ent.label_, ent.ent_id_, [token.text for token in ent])
        if not concept or _clock_time(ent) or _gestation(ent):
            continue
        reading = read_span(ent, cues)
        whose = {
            "context": OTHER_PERSON if reading.experiencer == OTHER else reading.assertion,
            "experiencer": reading.experiencer,
            "assertion": reading.assertion,
            "who": reading.who,
        }
        findings.append(
            Finding(ent.label_, concept, ent.text, ent.start_char, ent.end_char, **whose)
        )
        if ent.label_ == SIDE and len(ent) > 1:
            # "both legs" names a side and a place: report the place too.
            for token in ent:
                location = _location_words().get(token.norm_) or _location_words().get(token.lower_)
                if location:
                    findings.append(
                        Finding(
                            BODY_LOCATION,
                            location,
                            token.text,
                            token.idx,
                            token.idx + len(token.text),
                            **whose,
                        )
                    )
    return findings


def _pieces(text: str, size: int = PIECE_CHARS) -> list[tuple[int, str]]:
    """Cut a long text into pieces of whole sentences (a very long sentence at a space).

    ConText compares every cue with every other cue, so a long message is analysed piece by
    piece; no cue reaches past its own sentence anyway.
    """
    if len(text) <= size:
        return [(0, text)]
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = max(text.rfind(mark, start, end) for mark in (". ", "? ", "! ", "\n", "; "))
            if cut <= start:
                cut = text.rfind(" ", start, end)
            end = cut + 1 if cut > start else end
        pieces.append((start, text[start:end]))
        start = end
    return pieces


def _shift(finding: Finding, offset: int) -> Finding:
    return replace(finding, start=finding.start + offset, end=finding.end + offset)


def analyse(text: Any) -> Analysis:
    """Find symptoms, places, sides, durations, red-flag signs ... and their context.

    Never raises; see the module docstring for how the input is tidied and truncated.
    """
    clean = normalise_text(text)
    if not clean.strip():
        return Analysis(text=clean)
    nlp = build_pipeline()
    findings: list[Finding] = []
    question = False
    for offset, piece in _pieces(clean):
        if not piece.strip():
            continue
        doc = nlp(piece)
        findings.extend(_shift(finding, offset) for finding in _findings_of(doc))
        question = question or is_question(doc)
    return Analysis(text=clean, findings=findings, is_question=question)


def evaluate_context(cases: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Score the context of findings against labelled cases.

    Each case: ``{"text": ..., "concept": ..., "context": ...}`` and optionally ``"label"``,
    ``"experiencer"`` (patient or other) and ``"assertion"`` (current, negated, hypothetical or
    historical, whoever has it). A case is right when the first finding of that concept has the
    expected context (and experiencer and assertion, when given); a concept that is not found at
    all counts as wrong. Returns ``{"accuracy", "n", "errors"}``.
    """
    errors: list[dict[str, Any]] = []
    total = 0
    for case in cases:
        total += 1
        expected = case.get("context")
        if expected not in CONTEXTS:
            errors.append({**case, "got": None, "problem": f"unknown context {expected!r}"})
            continue
        analysis = analyse(case.get("text", ""))
        matches = [
            f
            for f in analysis.findings
            if f.concept == case.get("concept")
            and ("label" not in case or f.label == case["label"])
        ]
        if not matches:
            errors.append({**case, "got": None, "problem": "concept not found"})
        elif matches[0].context != expected:
            errors.append({**case, "got": matches[0].context, "problem": "wrong context"})
        elif case.get("experiencer", matches[0].experiencer) != matches[0].experiencer:
            errors.append({**case, "got": matches[0].experiencer, "problem": "wrong experiencer"})
        elif case.get("assertion", matches[0].assertion) != matches[0].assertion:
            errors.append({**case, "got": matches[0].assertion, "problem": "wrong assertion"})
    accuracy = (total - len(errors)) / total if total else 0.0
    return {"accuracy": accuracy, "n": total, "errors": errors}
