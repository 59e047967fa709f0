"""Curated, grounded answers for every question topic the bot knows.

The answers live in ``data/answers/*.yml`` (any file with a top-level ``answers:`` list). Each
names the passages of the source documents it was written from; the sources shown to the
person are the documents those passages belong to.

Public functions:

* ``get_answer(topic)`` - the curated answer for a topic id (``KeyError`` if unknown);
* ``follow_up(last_topic, kind)`` - a follow-up to the previous answer: ``"dose"`` ("how many
  reps?") after an exercise answer, ``"pregnancy"`` ("what about during pregnancy?") after any
  answer;
* ``render_text(answer)`` - the message text, ending with a "Source:" / "Sources:" line;
* ``topics()`` and ``menu_text()`` - what the bot can answer.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.corpus import DATA_DIR, DOCUMENTS_DIR, Corpus, load_corpus

ANSWERS_DIR = DATA_DIR / "answers"
ASKED_WITH_FILE = "asked_with.yml"
PASSAGES_ABOUT_FILE = "passages_about.yml"
MENU_FILE = "menu.yml"

# The fixed topic ids; each has an intent ask_<topic>.
TOPICS: tuple[str, ...] = (
    "what_is_sciatica",
    "sciatic_nerve",
    "causes",
    "symptoms",
    "diagnosis",
    "mri",
    "treatment",
    "medication",
    "injections",
    "surgery",
    "exercises",
    "nerve_glide",
    "cat_camel",
    "straight_leg_raise",
    "hip_cars",
    "recovery",
    "prevention",
    "piriformis",
    "pregnancy",
    "red_flags",
    "physical_therapy_access",
    "alternative_therapies",
    "rest_and_activity",
)
EXERCISE_TOPICS: tuple[str, ...] = ("nerve_glide", "cat_camel", "straight_leg_raise", "hip_cars")

DOSE = "dose"
PREGNANCY = "pregnancy"
FOLLOW_UP_KINDS: tuple[str, ...] = (DOSE, PREGNANCY)

# Answer.kind values
MAIN = "answer"
RETRIEVED = "retrieved"  # an excerpt found by search, see bot.knowledge.retrieval


@dataclass(frozen=True)
class Source:
    """A document an answer comes from."""

    title: str
    file_name: str
    doc_id: str


@dataclass(frozen=True)
class Answer:
    """What the bot says in reply to a question, with where it comes from."""

    topic: str
    title: str
    text: str
    sources: list[Source]
    passages: list[str]
    kind: str = MAIN  # MAIN, DOSE, PREGNANCY or RETRIEVED


@dataclass(frozen=True)
class CuratedAnswer:
    """One entry of an answer file, as written (used by the grounding tests)."""

    topic: str
    title: str
    text: str
    passages: list[str]
    key_terms: list[str]
    file_name: str
    follow_ups: dict[str, CuratedAnswer] = field(default_factory=dict)


@dataclass(frozen=True)
class MenuItem:
    label: str
    topics: list[str]


def _curated(raw: dict[str, Any], file_name: str, topic: str) -> CuratedAnswer:
    return CuratedAnswer(
        topic=topic,
        title=str(raw.get("title", "")).strip(),
        text=str(raw["text"]).strip(),
        passages=[str(p) for p in raw.get("passages", [])],
        key_terms=[str(t) for t in raw.get("key_terms", [])],
        file_name=file_name,
        follow_ups={
            str(kind): _curated(value, file_name, topic)
            for kind, value in (raw.get("follow_ups") or {}).items()
        },
    )


class KnowledgeBase:
    """The curated answers plus the corpus they are grounded in."""

    def __init__(self, answers_dir: Path = ANSWERS_DIR, corpus: Corpus | None = None) -> None:
        self.corpus = corpus if corpus is not None else load_corpus(DOCUMENTS_DIR)
        self.entries: dict[str, CuratedAnswer] = {}
        self._words: dict[str, tuple[str, frozenset[str]]] = {}
        for path in sorted(answers_dir.glob("*.yml")):
            raw = yaml.safe_load(path.read_text("utf-8")) or {}
            for item in raw.get("answers", []):
                entry = _curated(item, path.name, str(item["topic"]))
                if entry.topic in self.entries:
                    raise ValueError(f"{path.name}: topic {entry.topic!r} defined twice")
                self._check(entry)
                self.entries[entry.topic] = entry
        asked = answers_dir / ASKED_WITH_FILE
        raw_asked = yaml.safe_load(asked.read_text("utf-8")) if asked.exists() else {}
        self.asked_with: dict[str, list[str]] = {
            str(topic): [str(w).lower() for w in words]
            for topic, words in (raw_asked or {}).get("asked_with", {}).items()
        }
        unknown = set(self.asked_with) - set(self.entries)
        if unknown:
            raise ValueError(f"{ASKED_WITH_FILE}: no answer for topics {sorted(unknown)}")
        about = answers_dir / PASSAGES_ABOUT_FILE
        raw_about = yaml.safe_load(about.read_text("utf-8")) if about.exists() else {}
        self.passages_about: dict[str, str] = {
            str(p): str(t) for p, t in ((raw_about or {}).get("about") or {}).items()
        }
        for passage, topic in self.passages_about.items():
            if topic not in self.entries or passage not in self.corpus:
                raise ValueError(f"{PASSAGES_ABOUT_FILE}: {passage}: {topic} is not known")
        menu_raw = yaml.safe_load((answers_dir / MENU_FILE).read_text("utf-8"))["menu"]
        self.menu_intro = str(menu_raw["intro"])
        self.menu = [
            MenuItem(label=str(i["label"]), topics=[str(t) for t in i["topics"]])
            for i in menu_raw["items"]
        ]

    def _check(self, entry: CuratedAnswer) -> None:
        for item in [entry, *entry.follow_ups.values()]:
            if not item.passages:
                raise ValueError(f"{entry.file_name}: {entry.topic} names no passages")
            missing = [p for p in item.passages if p not in self.corpus]
            if missing:
                raise ValueError(f"{entry.file_name}: {entry.topic} unknown passages {missing}")
        unknown = set(entry.follow_ups) - set(FOLLOW_UP_KINDS)
        if unknown:
            raise ValueError(f"{entry.file_name}: {entry.topic} unknown follow-ups {unknown}")

    def sources_of(self, passage_ids: list[str]) -> list[Source]:
        """The documents of these passages, in order of first mention, without repeats."""
        sources: list[Source] = []
        for passage_id in passage_ids:
            document = self.corpus.document_of(passage_id)
            source = Source(title=document.title, file_name=document.file_name, doc_id=document.id)
            if source not in sources:
                sources.append(source)
        return sources

    def _answer(self, entry: CuratedAnswer, kind: str, title: str) -> Answer:
        return Answer(
            topic=entry.topic,
            title=title,
            text=entry.text,
            sources=self.sources_of(entry.passages),
            passages=list(entry.passages),
            kind=kind,
        )

    def get_answer(self, topic: str) -> Answer:
        if topic not in self.entries:
            raise KeyError(f"no answer for topic {topic!r}")
        entry = self.entries[topic]
        return self._answer(entry, MAIN, entry.title)

    def follow_up(self, last_topic: str | None, kind: str) -> Answer | None:
        if kind not in FOLLOW_UP_KINDS:
            raise ValueError(f"unknown follow-up kind {kind!r}; expected one of {FOLLOW_UP_KINDS}")
        entry = self.entries.get(last_topic) if last_topic else None
        if kind == DOSE:
            # Sets and reps only make sense after an exercise answer.
            if entry is None or DOSE not in entry.follow_ups:
                return None
            return self._answer(entry.follow_ups[DOSE], DOSE, f"{entry.title}: sets and reps")
        if entry is not None and PREGNANCY in entry.follow_ups:
            return self._answer(
                entry.follow_ups[PREGNANCY], PREGNANCY, f"{entry.title}: in pregnancy"
            )
        # Nothing specific for this topic: what the documents say about pregnancy in general.
        return self._answer(self.entries[PREGNANCY], PREGNANCY, self.entries[PREGNANCY].title)

    def fits(self, topic: str, focus: list[str]) -> bool:
        """Whether the answer for ``topic`` speaks to what a question turns on.

        ``focus`` are the question's own content words ("heat", "ice"). The answer fits when it
        names no focus word at all only if there is no focus; otherwise at least one focus word
        (or its stem) must appear in the answer or in the passages it is written from. "Should I
        use heat or ice?" is not answered with the general treatment answer.
        """
        if not focus or topic not in self.entries:
            return topic in self.entries
        haystack, words = self._words_of(topic)
        if any(_stem(word) in haystack for word in focus):
            return True
        # A slip of the keyboard ("sympotms", "exersizes") still names the topic's words; short
        # words are left as they are ("ice" is not "nice").
        return any(
            len(word) >= 5 and difflib.get_close_matches(word, words, n=1, cutoff=0.75)
            for word in focus
        )

    def asked_in_phrases(self, text: str) -> list[str]:
        """The topics one of whose everyday phrases of several words ("back to work") the
        question uses: more telling than a single word."""
        lowered, _ = _said_words(text)
        return [
            topic
            for topic in self.topics()
            if any(" " in w and f" {w} " in lowered for w in self.asked_with.get(topic, []))
        ]

    def asked_about(self, text: str, names_only: bool = False) -> dict[str, int]:
        """How many of each topic's everyday words (asked_with.yml) a question uses.

        "What is the outlook for sciatica?" uses "outlook" (recovery); "how long does it last
        after a herniated disc?" uses "long" and "last" (recovery), not the words of the causes.
        Words match as written or by their stem ("exercising" -> exercise). ``names_only``
        counts only the topic's own name ("piriformis", "mri").
        """
        lowered, said = _said_words(text)
        stems = {_stem(w) for w in said}
        counts: dict[str, int] = {}
        for topic in self.topics():
            words = [topic.replace("_", " ")]
            if not names_only:
                words += self.asked_with.get(topic, [])
            n = sum(
                1
                for w in words
                if (f" {w} " in lowered if " " in w else (w in said or _stem(w) in stems))
            )
            if n:
                counts[topic] = n
        return counts

    def _words_of(self, topic: str) -> tuple[str, frozenset[str]]:
        """A topic's answer, title, key terms, passages and everyday words, lower-cased, and the
        words in them (built once per topic)."""
        if topic not in self._words:
            entry = self.entries[topic]
            texts = [entry.text, entry.title, topic.replace("_", " "), *entry.key_terms]
            texts += [self.corpus.get(p).text for p in entry.passages if p in self.corpus]
            texts += self.asked_with.get(topic, [])
            haystack = " ".join(texts).lower()
            self._words[topic] = (haystack, frozenset(re.findall(r"[a-z][a-z\-]+", haystack)))
        return self._words[topic]

    def topics_of_passage(self, passage_id: str) -> list[str]:
        """What a quote from this passage is about: the curated topics written from it, else
        the topic passages_about.yml gives it."""
        written = [t for t in self.topics() if passage_id in self.entries[t].passages]
        if written:
            return written
        return [self.passages_about[passage_id]] if passage_id in self.passages_about else []

    def topics(self) -> list[str]:
        return [t for t in TOPICS if t in self.entries] + [
            t for t in self.entries if t not in TOPICS
        ]

    def menu_text(self) -> str:
        lines = [self.menu_intro, *(f"- {item.label}" for item in self.menu)]
        return "\n".join(lines)


def _said_words(text: str) -> tuple[str, frozenset[str]]:
    """A question's words, lower-cased and padded with spaces (to find phrases between word
    boundaries), and the set of them."""
    words = re.findall(r"[a-z][a-z\-']*", text.lower())
    return " " + " ".join(words) + " ", frozenset(words)


def _stem(word: str) -> str:
    word = word.lower()
    for ending in ("ing", "ies", "es", "ed", "s", "y"):
        if len(word) - len(ending) >= 4 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def render_text(answer: Answer) -> str:
    """The answer as one message, ending with the line naming its source document(s)."""
    titles = [s.title for s in answer.sources]
    if not titles:
        return answer.text
    label = "Source" if len(titles) == 1 else "Sources"
    return f"{answer.text}\n\n{label}: {'; '.join(titles)}"


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The knowledge base built from the project's data (loaded once)."""
    return KnowledgeBase()


def get_answer(topic: str) -> Answer:
    return knowledge_base().get_answer(topic)


def follow_up(last_topic: str | None, kind: str) -> Answer | None:
    return knowledge_base().follow_up(last_topic, kind)


def topics() -> list[str]:
    return knowledge_base().topics()


def fits(topic: str, focus: list[str]) -> bool:
    return knowledge_base().fits(topic, focus)


def asked_about(text: str, names_only: bool = False) -> dict[str, int]:
    return knowledge_base().asked_about(text, names_only)


def asked_in_phrases(text: str) -> list[str]:
    return knowledge_base().asked_in_phrases(text)


def topics_of_passage(passage_id: str) -> list[str]:
    return knowledge_base().topics_of_passage(passage_id)


def menu_text() -> str:
    return knowledge_base().menu_text()
