"""Every source the triage data gives names something a person can look up: a seed document of
data/documents/ (by its seed number or title) or a guideline with its https address. The team's
internal summary is never a source."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.triage.engine import load_rules

DATA = Path(__file__).resolve().parents[1] / "data"
TRIAGE_FILES = sorted((DATA / "triage").glob("*.yml"))
SEED = re.compile(r"\bseeds? (\d{3})\b")
URL = re.compile(r"https://[^\s;,)]+[^\s;,).]")


def _documents() -> tuple[set[str], set[str]]:
    data = yaml.safe_load((DATA / "documents" / "documents.yml").read_text(encoding="utf-8"))
    documents = data["documents"]
    return {d["id"] for d in documents}, {d["title"] for d in documents}


def _sources(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every value under a 'source' key, and every value of a 'sources' mapping or list."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}/{key}"
            if key == "source" and isinstance(value, str):
                yield here, value
            elif key == "sources" and isinstance(value, dict):
                for name, text in value.items():
                    if isinstance(text, str):
                        yield f"{here}/{name}", text
            elif key == "sources" and isinstance(value, list):
                for index, text in enumerate(value):
                    if isinstance(text, str):
                        yield f"{here}/{index}", text
            else:
                yield from _sources(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            name = item.get("id", index) if isinstance(item, dict) else index
            yield from _sources(item, f"{where}/{name}")


SOURCES = [
    pytest.param(text, id=where)
    for path in TRIAGE_FILES
    for where, text in _sources(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
]


def problem(source: str) -> str | None:
    """Why a source does not name something a person can look up, or None when it does."""
    text = " ".join(source.split())
    if "CLINICAL.md" in text:
        return "names the internal summary CLINICAL.md"
    ids, titles = _documents()
    seeds = SEED.findall(text)
    unknown = [seed for seed in seeds if f"d{seed}" not in ids]
    if unknown:
        return f"names seed documents that do not exist: {unknown}"
    if seeds or URL.search(text) or any(title in text for title in titles):
        return None
    return "names neither a seed document nor an https address"


def test_the_triage_files_have_sources() -> None:
    names = {path.name for path in TRIAGE_FILES}
    assert {"red_flags.yml", "general_emergencies.yml", "screening.yml", "advice.yml"} <= names
    assert len(SOURCES) > 40


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_can_be_looked_up(source: str) -> None:
    assert problem(source) is None, (problem(source), source)


def test_every_rule_as_loaded_can_be_looked_up() -> None:
    for rule in load_rules().rules:
        assert problem(rule.source) is None, (rule.id, problem(rule.source))


@pytest.mark.parametrize(
    "source, reason",
    [
        ('CLINICAL.md ("chest pain")', "CLINICAL.md"),
        ('NICE CKS Sciatica; CLINICAL.md ("red flags")', "CLINICAL.md"),
        ("seed 009: a document that is not there", "do not exist"),
        ("NICE CKS Sciatica (red flags)", "neither"),
        ("NHS page http://www.nhs.uk/ (not https)", "neither"),
    ],
)
def test_sources_that_cannot_be_looked_up_are_caught(source: str, reason: str) -> None:
    found = problem(source)
    assert found is not None and reason in found


@pytest.mark.parametrize(
    "source",
    [
        'seed 000: "Call the ER now"',
        "NICE NG59 https://www.nice.org.uk/guidance/ng59",
        '"What Is Sciatica?" (the document\'s own title)',
    ],
)
def test_documents_and_addresses_are_accepted(source: str) -> None:
    assert problem(source) is None
