"""Whether words ask something: the one place that knows what a question looks like.

Three readings, each for its own use, all built from the same word lists:

- :func:`phrased_as_question` - the message asks anything at all (a question mark, a question
  word, an auxiliary verb before its subject): a question gets an answer;
- :func:`asks_in_words` - it asks in its wording, whatever its punctuation ("my foot sort of
  catches? maybe" ends in "?" but asks nothing);
- :func:`opens_as_question` - a sentence starts as a question ("is losing bladder control
  serious?"): what it names is asked about, not reported.

ConText reads questions too, inside a sentence, to decide what a question word covers
(``data/context/rules.yml``); these functions read whole messages and sentences.
"""

from __future__ import annotations

import re

QUESTION_WORDS = r"what|whats|what's|how|hows|why|who|which"
PLACE_TIME_WORDS = r"when|where"
AUXILIARIES = r"can|could|should|would|will|is|are|do|does|did|may|might|shall"
SUBJECTS = r"i|it|you|we|this|that|they|he|she|there"

# An auxiliary before its subject anywhere ("no but will I need surgery"), but not "there is
# this pain" or "that is it".
_AUX_SUBJECT = (
    r"(?<!there )(?<!here )(?<!that )(?<!this )(?<!it )(?<!which )"
    rf"\b(?:{AUXILIARIES})\s+(?:{SUBJECTS})\b"
)
# "when will it stop", not "when I bend there is pain"
_WHEN_ASKING = rf"^\W*(?:{PLACE_TIME_WORDS})\s+(?:{AUXILIARIES}|was|were|to|has|have)\b"

_PHRASED = re.compile(
    rf"\?|\b(?:{QUESTION_WORDS})\b|{_WHEN_ASKING}"
    rf"|^\W*(?:{AUXILIARIES}|am|have|has)\b|{_AUX_SUBJECT}",
    re.IGNORECASE,
)
_IN_WORDS = re.compile(
    rf"(?:^|[.!;]\s+)\W*(?:{QUESTION_WORDS}|{PLACE_TIME_WORDS}|{AUXILIARIES})\b"
    rf"|\b(?:what|whats|how|why)\b"
    rf"|\b(?:{AUXILIARIES})\s+(?:i|it|you|this|that|sciatica|they)\b",
    re.IGNORECASE,
)
# A question word or auxiliary opening the sentence, not its negative ("isn't it ...").
_OPENS = re.compile(
    rf"^\W*(?:{QUESTION_WORDS}|{PLACE_TIME_WORDS}|{AUXILIARIES}|whether|any)\b(?!n?['’]?t\b)",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|me|my|myself|mine)\b", re.IGNORECASE)


def phrased_as_question(text: str) -> bool:
    """The message asks something, by punctuation or by wording."""
    return bool(_PHRASED.search(text))


def asks_in_words(text: str) -> bool:
    """The wording asks, whatever the punctuation says."""
    return bool(_IN_WORDS.search(text.replace("?", ".")))


def opens_as_question(sentence: str) -> bool:
    """The sentence starts as a question or ends with a question mark."""
    return sentence.rstrip().endswith("?") or bool(_OPENS.search(sentence))


def speaks_of_self(text: str) -> bool:
    """The writer speaks of themselves ("I", "my", "me")."""
    return bool(_FIRST_PERSON.search(text))
