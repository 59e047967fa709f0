"""Search over the document passages, for questions that have no curated answer.

Ranking is Okapi BM25 from ``rank_bm25``: a small, pure-Python, maintained package. The corpus
is about 55 passages, so a sparse-matrix or vector search engine would bring nothing but weight.

Text is tokenised the same way for passages and questions: lower case, a small stop-word list,
a hand-written synonym table that maps everyday words onto the documents' words ("bum" ->
buttock, "physio" -> physical therapy, "jab" -> injection), spelling correction of unknown words
against the corpus vocabulary, and light suffix stripping ("lifting" -> lift).

``answer_unknown`` quotes at most two sentences of the best passage, with its source, when the
passage covers enough of the question (``Hit.coverage``) - a threshold calibrated on labelled
questions
(``data/answers/retrieval_calibration.yml``; ``python -m bot.knowledge.calibrate`` recomputes
it and writes ``data/answers/retrieval_threshold.yml``). Below the threshold it returns None and
the caller says the documents do not cover the question.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi

from bot.knowledge.answers import RETRIEVED, Answer, Source, topics_of_passage
from bot.knowledge.corpus import DATA_DIR, Corpus, Passage, load_corpus, not_quoted_patterns
from bot.knowledge.text import normalise, sentences

THRESHOLD_FILE = DATA_DIR / "answers" / "retrieval_threshold.yml"
RETRIEVED_INTRO = "The documents do not have a ready answer for this, but one of them says:"
MAX_EXCERPT_SENTENCES = 2
SHORT_SENTENCE_WORDS = 12  # a best sentence shorter than this gets a neighbour for context
SPELLING_CUTOFF = 0.85  # difflib similarity needed to correct an unknown word
MIN_SPELLING_LENGTH = 5  # shorter unknown words are left alone

STOP_WORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being
    but by can could did do does doing don't for from get gets getting got had has have having
    he her here hers him his how i i'm i've if in into is it it's its itself just let me might
    more most my myself no nor not now of off on once only or other our out over own please
    really same she should so some such than that that's the their them then there these they
    this those through to too under until up us very was we were what what's when where which
    while who why will with would you you're your yours yourself ok okay hi hello hey thanks
    thank tell know anything something much many lot lots bit kind sort thing things way
    whether isn't isnt can't cant doesn't doesnt won't wont didn't didnt aren't arent i'd im
    ive id u ur pls plz
    """.split()
)

# Everyday words -> the words the documents use. Applied to passages and questions alike.
# Each row: the documents' word(s), then the words that mean the same to a reader.
_SYNONYM_GROUPS: tuple[tuple[str, str], ...] = (
    ("buttock", "bum butt backside glute glutes gluteal buttocks arse bottom"),
    ("physical therapy", "physio physiotherapy physiotherapist physiotherapists pt pts"),
    ("therapy", "therapist therapists"),
    ("surgery", "op operation operations surgical surgeon surgeons"),
    ("medication", "meds medicine medicines medications drugs drug pills pill tablets"),
    ("medication", "painkiller painkillers"),
    ("anti inflammatory medication", "ibuprofen naproxen nsaid nsaids advil aleve"),
    ("injection", "jab jabs shot shots epidurals injections"),
    ("pregnancy", "pregnant preggers pregnancies"),
    ("bladder", "pee peeing wee urine urinate urinating"),
    ("bowel", "poo poop bowels stool"),
    ("pain", "hurt hurts hurting sore ache aches aching achy"),
    ("weak", "weaker weakened"),
    ("tingling", "tingle tingly pins"),
    ("smoking", "smoke smoker smokers cigarette cigarettes vaping"),
    ("x ray", "xray xrays"),
    ("doctor", "gp doc physician physicians doctors"),
    ("exam", "examination examine"),
    ("fracture", "broken fractured"),
    ("herniated", "hernia herniation"),
    ("slipped", "prolapsed prolapse"),
    ("tumors", "tumour tumours tumor cancer cancers"),
    ("recover", "recovery recovering recovered"),
    ("refer", "referral referred referring"),
    ("co payments", "copay copays copayment copayments"),
    ("exercise", "workout workouts exercising"),
    ("emergency", "er"),
    ("posture", "slouch slouching"),
    ("sitting", "desk chair"),
    ("bed", "mattress"),
)
SYNONYMS: dict[str, tuple[str, ...]] = {
    word: tuple(target.split()) for target, words in _SYNONYM_GROUPS for word in words.split()
}


def stem(word: str) -> str:
    """Light suffix stripping so that "lifting", "lifted" and "lifts" all become "lift"."""
    if len(word) <= 3 or not word.isalpha():
        return word
    suffixes = (("ness", ""), ("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("ly", ""))
    for suffix, replacement in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2]:
                if word[-1] not in "lsz":
                    word = word[:-1]  # "stopping" -> "stopp" -> "stop"
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]  # "muscle" and "muscles" -> "muscl"
    return word


def _words(text: str) -> list[str]:
    return [w.strip("'") for w in normalise(text).split() if w.strip("'")]


def analyse_text(text: str, vocabulary: frozenset[str] = frozenset()) -> list[str]:
    """Tokens for BM25: stop words removed, synonyms mapped, spelling corrected, stemmed.

    ``vocabulary`` holds the corpus' surface words; unknown words close to one are corrected.
    """
    tokens: list[str] = []
    for word in _words(text):
        if word in STOP_WORDS:
            continue
        if word in SYNONYMS:
            tokens.extend(stem(w) for w in SYNONYMS[word])
            continue
        if vocabulary and word not in vocabulary and len(word) >= MIN_SPELLING_LENGTH:
            # Same first letter: typos rarely hit it, and it keeps "train" from becoming "strain".
            same_start = [v for v in vocabulary if v[0] == word[0]]
            close = difflib.get_close_matches(word, same_start, n=1, cutoff=SPELLING_CUTOFF)
            if close:
                word = close[0]
                if word in SYNONYMS:
                    tokens.extend(stem(w) for w in SYNONYMS[word])
                    continue
        tokens.append(stem(word))
    return tokens


@dataclass(frozen=True)
class Hit:
    """A passage found for a question.

    ``score`` is the BM25 score used for ranking. ``coverage`` (0 to 1) is the share of the
    question's information that the passage contains: the idf-weighted fraction of the
    question's tokens found in it, where a word the documents never use weighs the most. The
    answer threshold applies to ``coverage``, which does not grow with question length the way
    BM25 scores do, and which drops when a question is about something the documents never
    mention ("tennis elbow", "cover letter").
    """

    passage: Passage
    score: float
    coverage: float


class PassageIndex:
    """A BM25 index over the corpus passages (heading and text)."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.vocabulary = frozenset(
            w
            for p in corpus.passages
            for w in _words(p.full_text)
            if w not in STOP_WORDS and w.isalpha()
        )
        self.documents = [analyse_text(p.full_text) for p in corpus.passages]
        self.token_sets = [set(d) for d in self.documents]
        self.bm25 = BM25Okapi(self.documents)
        self.document_frequency: dict[str, int] = {}
        for tokens in self.token_sets:
            for token in tokens:
                self.document_frequency[token] = self.document_frequency.get(token, 0) + 1

    def tokens(self, question: str) -> list[str]:
        return analyse_text(question, self.vocabulary)

    def search(self, question: str, k: int = 3) -> list[Hit]:
        query = self.tokens(question)
        if not query:
            return []
        scores = self.bm25.get_scores(query)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [
            Hit(self.corpus.passages[i], float(scores[i]), self.coverage(query, i))
            for i in order[:k]
            if scores[i] > 0
        ]

    def idf(self, token: str) -> float:
        """Inverse document frequency, always positive; highest for unseen tokens."""
        n = len(self.documents)
        df = self.document_frequency.get(token, 0)
        return math.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def coverage(self, query: list[str], passage_index: int) -> float:
        wanted = set(query)
        total = sum(self.idf(t) for t in wanted)
        found = sum(self.idf(t) for t in wanted if t in self.token_sets[passage_index])
        return found / total if total else 0.0


def excerpt(passage: Passage, query_tokens: list[str], index: PassageIndex) -> str:
    """The one or two sentences of ``passage`` that best match the question."""
    candidates = [
        s for s in sentences(passage.text) if not any(p.search(s) for p in not_quoted_patterns())
    ]
    # A lead-in such as "Here are some steps ...:" says nothing without the list after it.
    candidates = [s for s in candidates if not s.endswith(":")] or candidates
    if not candidates:
        return ""
    wanted = set(query_tokens)

    def score(sentence: str) -> float:
        return sum(index.idf(t) for t in set(analyse_text(sentence)) & wanted)

    scores = [score(s) for s in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    chosen = [best]
    if len(candidates[best].split()) < SHORT_SENTENCE_WORDS or scores[best] == 0:
        neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(candidates)]
        if neighbours:
            chosen.append(max(neighbours, key=lambda i: (scores[i], -abs(i - best - 0.5))))
    else:
        after = best + 1
        if after < len(candidates) and scores[after] > 0:
            chosen.append(after)
    return " ".join(candidates[i] for i in sorted(chosen)[:MAX_EXCERPT_SENTENCES])


@lru_cache(maxsize=1)
def default_index() -> PassageIndex:
    return PassageIndex(load_corpus())


@lru_cache(maxsize=4)
def load_threshold(path: Path = THRESHOLD_FILE) -> float:
    """The calibrated minimum coverage (see ``Hit``) for quoting a passage."""
    data = yaml.safe_load(path.read_text("utf-8"))
    value = float(data["threshold"])
    if not math.isfinite(value):
        raise ValueError(f"{path}: threshold must be a finite number")
    return value


def search(question: str, k: int = 3) -> list[Hit]:
    """The ``k`` passages that best match the question, best first (only positive scores)."""
    return default_index().search(question, k)


def answer_unknown(
    question: str, threshold: float | None = None, index: PassageIndex | None = None
) -> Answer | None:
    """A short quoted excerpt with its source, or None when no passage matches well enough."""
    index = index or default_index()
    limit = load_threshold() if threshold is None else threshold
    hits = index.search(question, k=1)
    if not hits or hits[0].coverage < limit:
        return None
    passage = hits[0].passage
    quote = excerpt(passage, index.tokens(question), index)
    if not quote:
        return None
    document = index.corpus.documents[passage.doc_id]
    quote = re.sub(r"\s+", " ", quote).strip()
    return Answer(
        topic=RETRIEVED,
        title=document.title,
        text=f"{RETRIEVED_INTRO} \u201c{quote}\u201d",
        sources=[Source(title=document.title, file_name=document.file_name, doc_id=document.id)],
        passages=[passage.id],
        kind=RETRIEVED,
    )


def from_passage(passage_id: str, text: str) -> Answer:
    """The retrieved answer for a passage found earlier (the quote already made from it)."""
    corpus = load_corpus()
    document = corpus.document_of(passage_id)
    # A quote from a passage that a curated answer was written from is about that answer's topic.
    about = topics_of_passage(passage_id)
    return Answer(
        topic=about[0] if about else RETRIEVED,
        title=document.title,
        text=text,
        sources=[Source(title=document.title, file_name=document.file_name, doc_id=document.id)],
        passages=[passage_id],
        kind=RETRIEVED,
    )
