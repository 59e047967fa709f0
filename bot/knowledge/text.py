"""Small text functions shared by the knowledge base: normalising text and finding numbers.

``normalise`` makes two texts comparable (case, curly quotes, dashes, punctuation), so that a
key term such as "doctor's script" or "4-6 weeks" matches the passage it comes from.
``numbers_in`` finds every number in a text, written in digits or in words ("twenty",
"two to three", "Eighty to 90 percent", "half"), so answers can be checked against passages.
"""

from __future__ import annotations

import re

from bot.findings import CARDINALS

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)

NUMBER_WORDS: dict[str, int] = {
    **CARDINALS,
    "half": 50,  # "about half of people" = "Fifty percent of those ..."
    "once": 1,
    "twice": 2,
    "dozen": 12,
}


def normalise(text: str) -> str:
    """Lower case, plain quotes, and every run of non-word characters as a single space.

    Apostrophes inside words ("doctor's") and the percent sign are kept.
    """
    text = text.translate(_TRANSLATE).lower()
    text = text.replace("%", " percent ")
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)
    text = re.sub(r"[^a-z0-9']+", " ", text)
    return text.strip()


def contains_term(text: str, term: str) -> bool:
    """True when ``term`` occurs in ``text`` as whole words, after normalising both."""
    needle = normalise(term)
    return bool(needle) and f" {needle} " in f" {normalise(text)} "


def numbers_in(text: str) -> set[int]:
    """Every number in ``text``: digit runs (also inside "L4", "4-6") and number words."""
    found: set[int] = set()
    for token in normalise(text).split():
        if token in NUMBER_WORDS:
            found.add(NUMBER_WORDS[token])
        for digits in re.findall(r"\d+", token):
            found.add(int(digits))
    return found


def word_count(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?", text))


_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"\u201d)]))\s+(?=[A-Z\u201c\"(])")


def sentences(text: str) -> list[str]:
    """Split a passage into sentences; list items and lines count as sentences of their own."""
    result: list[str] = []
    for line in text.split("\n"):
        line = re.sub(r"^\s*(?:[\u2022\-*]|\d+\.)\s+", "", line).strip()
        if not line:
            continue
        result.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return result
