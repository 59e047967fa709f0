"""The corpus: the five source documents split into passages with stable ids.

Each document in ``data/documents/`` is cut into paragraphs (blank-line separated blocks).
Then, in text order:

* boilerplate paragraphs (shop links, sign-offs, contact offers) are dropped, and everything
  after a document's ``exclude_after`` phrase is ignored (off-topic text);
* short title-case lines and lines ending in "?" are headings: they are kept with the passage
  that follows them, as its ``heading``;
* a lead-in ending in ":" is joined to the block after it;
* fragments (fewer than ``MIN_WORDS`` words, a single line that is not a sentence, or a list
  of short items) are merged into the passage before them; two or more fragments in a row
  form a passage of their own.

Passage ids are ``<doc id>-p<NN>``, numbered in text order, so they are stable for as long as
the document text and these rules stay the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DOCUMENTS_DIR = DATA_DIR / "documents"
PROVENANCE_FILE = "documents.yml"

MIN_WORDS = 12  # a body block shorter than this is a fragment
MAX_HEADING_WORDS = 14
SHORT_LIST_ITEM_WORDS = 8  # a list whose items average fewer words is a fragment

_LIST_ITEM = re.compile(r"^\s*(?:[\u2022\-*]|\d+\.)\s+")
_SMALL_WORDS = {"a", "an", "and", "or", "the", "of", "to", "in", "on", "for", "with", "by", "is"}


@dataclass(frozen=True)
class Document:
    """One source document and its provenance."""

    id: str
    title: str
    file_name: str
    title_from: str = "document"  # "document" (its own heading) or "project" (given title)
    note: str = ""


@dataclass(frozen=True)
class Passage:
    """A paragraph-sized piece of one document."""

    id: str
    doc_id: str
    text: str
    heading: str = ""  # the section heading above the passage, if the document has one

    @property
    def full_text(self) -> str:
        """Heading and text together, as used for searching and grounding checks."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass
class Corpus:
    """All passages of all documents, in document and text order."""

    passages: list[Passage]
    documents: dict[str, Document]
    _by_id: dict[str, Passage] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {p.id: p for p in self.passages}

    def get(self, passage_id: str) -> Passage:
        """The passage with this id; KeyError if there is none."""
        try:
            return self._by_id[passage_id]
        except KeyError:
            raise KeyError(f"no passage with id {passage_id!r}") from None

    def __contains__(self, passage_id: object) -> bool:
        return passage_id in self._by_id

    def of_document(self, doc_id: str) -> list[Passage]:
        return [p for p in self.passages if p.doc_id == doc_id]

    def document_of(self, passage_id: str) -> Document:
        return self.documents[self.get(passage_id).doc_id]


@dataclass(frozen=True)
class Provenance:
    """The contents of ``documents.yml``."""

    documents: list[Document]
    exclude_after: dict[str, str]
    boilerplate: list[re.Pattern[str]]
    not_quoted: list[re.Pattern[str]]


def load_provenance(documents_dir: Path = DOCUMENTS_DIR) -> Provenance:
    raw: dict[str, Any] = yaml.safe_load((documents_dir / PROVENANCE_FILE).read_text("utf-8"))
    documents = [
        Document(
            id=str(d["id"]),
            title=str(d["title"]),
            file_name=str(d["file_name"]),
            title_from=str(d.get("title_from", "document")),
            note=str(d.get("note", "")).strip(),
        )
        for d in raw["documents"]
    ]
    return Provenance(
        documents=documents,
        exclude_after={
            str(d["id"]): str(d["exclude_after"])
            for d in raw["documents"]
            if d.get("exclude_after")
        },
        boilerplate=[re.compile(p, re.IGNORECASE) for p in raw.get("boilerplate", [])],
        not_quoted=[re.compile(p, re.IGNORECASE) for p in raw.get("not_quoted", [])],
    )


def clean_text(text: str) -> str:
    """Normalise invisible differences: no-break spaces, trailing spaces, line endings."""
    text = text.replace("\r\n", "\n").replace("\u00a0", " ")
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9]+", text))


def _is_list(block: str) -> bool:
    lines = [line for line in block.split("\n") if line.strip()]
    return bool(lines) and all(_LIST_ITEM.match(line) for line in lines)


def _is_heading(block: str) -> bool:
    if "\n" in block or _is_list(block) or _words(block) > MAX_HEADING_WORDS:
        return False
    if block.endswith("?"):
        return True
    if block.endswith((".", "!", ";", ",")):
        return False
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'/]*", block) if w.lower() not in _SMALL_WORDS]
    capitalised = sum(1 for w in words if w[0].isupper())
    return bool(words) and capitalised / len(words) >= 0.8


def _is_fragment(block: str) -> bool:
    if _words(block) < MIN_WORDS:
        return True
    if "\n" not in block and not block.endswith((".", "!", "?", ")", "\u201d", '"')):
        return True  # a single line that is not a sentence, e.g. "Hip CARs – 2 sets x 3 reps"
    if _is_list(block):
        items = [line for line in block.split("\n") if line.strip()]
        return _words(block) / len(items) < SHORT_LIST_ITEM_WORDS
    return False


def _same_heading(a: str, b: str) -> bool:
    def key(s: str) -> str:
        return re.sub(r"[^a-z0-9]", "", s.lower())

    return key(a) == key(b)


def split_document(text: str, provenance: Provenance, doc_id: str) -> list[Passage]:
    """Split one document's text into passages following the rules in the module docstring."""
    text = clean_text(text)
    cut = provenance.exclude_after.get(doc_id)
    if cut:
        position = text.find(cut)
        if position < 0:
            raise ValueError(f"{doc_id}: exclude_after phrase {cut!r} not found")
        text = text[:position]

    blocks = ["\n".join(line.strip() for line in b.strip().split("\n")) for b in text.split("\n\n")]
    blocks = [b for b in blocks if b]
    blocks = [b for b in blocks if not any(p.search(b) for p in provenance.boilerplate)]

    # Join lead-ins ("... the following:") to the block after them.
    joined: list[str] = []
    for block in blocks:
        if joined and joined[-1].endswith(":") and not _is_heading(joined[-1]):
            joined[-1] = f"{joined[-1]}\n{block}"
        else:
            joined.append(block)

    # Group into (heading, [body blocks]) units.
    units: list[tuple[str, list[str]]] = []
    heading = ""
    fragments: list[str] = []

    def flush_fragments() -> None:
        nonlocal heading
        if not fragments:
            return
        run = list(fragments)
        fragments.clear()
        if len(run) >= 2 and _words("\n".join(run)) >= MIN_WORDS:
            units.append((heading, run))
            heading = ""
        elif units and not heading:
            units[-1][1].extend(run)
        else:
            units.append((heading, run))
            heading = ""

    for block in joined:
        if _is_heading(block):
            flush_fragments()
            title = block
            if heading and not _same_heading(heading, title):
                heading = f"{heading} {title}"
            elif not heading:
                heading = title
            continue
        if _is_fragment(block) and not heading:
            fragments.append(block)
            continue
        flush_fragments()
        units.append((heading, [block]))
        heading = ""
    flush_fragments()

    return [
        Passage(id=f"{doc_id}-p{n:02d}", doc_id=doc_id, text="\n".join(body), heading=head)
        for n, (head, body) in enumerate(units)
    ]


def build_corpus(documents_dir: Path = DOCUMENTS_DIR) -> Corpus:
    provenance = load_provenance(documents_dir)
    passages: list[Passage] = []
    for document in provenance.documents:
        text = (documents_dir / document.file_name).read_text("utf-8")
        passages.extend(split_document(text, provenance, document.id))
    return Corpus(passages=passages, documents={d.id: d for d in provenance.documents})


@lru_cache(maxsize=4)
def load_corpus(documents_dir: Path = DOCUMENTS_DIR) -> Corpus:
    """The corpus of the documents in ``documents_dir`` (cached; treat it as read-only)."""
    return build_corpus(documents_dir)


@lru_cache(maxsize=4)
def not_quoted_patterns(documents_dir: Path = DOCUMENTS_DIR) -> tuple[re.Pattern[str], ...]:
    """Sentences matching these are never chosen as a quoted excerpt."""
    return tuple(load_provenance(documents_dir).not_quoted)
