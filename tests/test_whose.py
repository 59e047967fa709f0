"""Whose symptoms: someone writing about another person's symptoms gets that person triaged,
and the advice names them; family history is never a current red flag (CLINICAL.md, "Whose
symptoms")."""

from __future__ import annotations

import pytest

from bot.findings import (
    CLINICAL_SIGN,
    CURRENT,
    HISTORICAL,
    OTHER,
    OTHER_PERSON,
    PATIENT,
    Analysis,
    Finding,
)
from bot.nlp import analyse
from bot.triage.engine import Assessment, address, assess, level_rank


def assessed(text: str) -> Assessment:
    return assess(analyse(text))


@pytest.mark.parametrize(
    ("text", "rule", "level", "subject"),
    [
        (
            "my husband cant pee since this morning and he says he cant feel the toilet paper",
            "cauda_equina_bladder",
            "emergency",
            "your husband",
        ),
        (
            "My husband can't pee and can't feel the toilet paper when he wipes. His back has "
            "been bad for a week",
            "cauda_equina_saddle",
            "emergency",
            "your husband",
        ),
        ("she can't feel anything when she wipes", "cauda_equina_saddle", "emergency", "she"),
        (
            "he keeps wetting himself and his back is agony",
            "cauda_equina_bladder",
            "emergency",
            "he",
        ),
        (
            "my wife's face is drooping and she can't lift her arm",
            "outside_stroke",
            "emergency",
            "your wife",
        ),
        ("my mum has incontinence", "cauda_equina_bladder", "emergency", "your mum"),
        ("my dad's leg keeps giving way", "neuro_leg_giving_way", "emergency", "your dad"),
        (
            "my son is 6 and has had a high fever since last night, now he is really floppy",
            "infection_fever",
            "urgent",
            "your son",
        ),
        (
            "my dad is 80, he fell off a ladder yesterday and now his back is agony",
            "fracture_major_trauma",
            "urgent",
            "your dad",
        ),
        (
            "my husband had prostate cancer and now he has back pain at night",
            "cancer_history",
            "urgent",
            "your husband",
        ),
    ],
)
def test_someone_elses_current_red_flag_counts_for_them(
    text: str, rule: str, level: str, subject: str
) -> None:
    assessment = assessed(text)
    assert rule in assessment.ids, (text, assessment.ids)
    assert level_rank(assessment.level) >= level_rank(level)
    assert assessment.subject == subject


@pytest.mark.parametrize(
    "text",
    [
        "my dad had bowel cancer",
        "cancer runs in my family",
        "my mum died of a stroke",
        "there is a family history of bowel cancer",
        "my sister is on chemo",
        "my friend had a heart attack",
        "my friend is suicidal",
        "my uncle fell off a ladder",
    ],
)
def test_family_history_is_not_a_red_flag_for_anyone(text: str) -> None:
    assessment = assessed(text)
    assert assessment.level is None, (text, assessment.ids)


def test_a_parents_history_does_not_make_the_writers_back_pain_a_cancer_flag() -> None:
    analysis = analyse("my dad had cancer years ago and my back hurts")
    assert assess(analysis).level is None
    mine = {f.concept for f in analysis.findings if f.experiencer == PATIENT}
    theirs = {f.concept for f in analysis.findings if f.experiencer == OTHER}
    assert {"back", "pain"} <= mine
    assert theirs == {"cancer_history"}


def test_the_writers_own_old_cancer_still_counts_and_names_no_one_else() -> None:
    assessment = assessed("I had cancer five years ago and my back has been bad for weeks")
    assert "cancer_history" in assessment.ids
    assert assessment.subject is None


def test_my_own_red_flag_is_mine_even_when_i_mention_someone_else() -> None:
    assessment = assessed("my wife says I've been wetting myself at night")
    assert "cauda_equina_bladder" in assessment.ids
    assert assessment.subject is None


def test_a_parent_writing_about_a_hot_floppy_child_gets_the_child_seen() -> None:
    assessment = assessed("my daughter has a temperature of 40 and is floppy and wont wake up")
    assert level_rank(assessment.level) >= level_rank("urgent")
    assert assessment.subject == "your daughter"


def test_someone_elses_denied_sign_does_not_count() -> None:
    assert assessed("my husband has back pain but no problems peeing").level is None


def test_whose_and_what_are_kept_apart_on_each_finding() -> None:
    findings = analyse("my husband can't pee").findings
    retention = next(f for f in findings if f.concept == "urinary_retention")
    assert (retention.experiencer, retention.assertion) == (OTHER, CURRENT)
    assert retention.context == OTHER_PERSON  # what older code reads
    assert retention.who == "my husband"
    history = next(
        f for f in analyse("my mum died of bowel cancer").findings if f.concept == "cancer_history"
    )
    assert (history.experiencer, history.assertion) == (OTHER, HISTORICAL)


def test_findings_stored_before_the_split_still_read_as_someone_elses_history() -> None:
    stored = {"label": CLINICAL_SIGN, "concept": "urinary_incontinence", "context": "other_person"}
    finding = Finding.from_dict(stored)
    assert (finding.experiencer, finding.assertion) == (OTHER, HISTORICAL)
    assert assess(Analysis("x", [finding])).level is None
    again = Finding.from_dict(finding.as_dict())
    assert again == finding


def test_a_finding_made_for_someone_else_keeps_its_assertion() -> None:
    finding = Finding(CLINICAL_SIGN, "urinary_retention", "cant pee", 0, 8, experiencer=OTHER)
    assert finding.context == OTHER_PERSON and finding.assertion == CURRENT
    assessment = assess(Analysis("cant pee", [finding]))
    assert assessment.level == "emergency"
    assert assessment.subject == "they"


@pytest.mark.parametrize(
    ("who", "named"),
    [
        ("my husband", "your husband"),
        ("and my wife's", "your wife"),
        ("My Son", "your son"),
        ("she", "she"),
        ("his", "he"),
        ("her", "she"),
        ("my friend's mum", "your friend's mum"),
        ("", "they"),
    ],
)
def test_the_other_person_is_named_as_the_advice_addresses_them(who: str, named: str) -> None:
    assert address(who) == named
