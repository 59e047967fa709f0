"""The clinical lexicon as data: it loads, it is checked, and it reads values the way people
say them."""

from pathlib import Path

import pytest

from bot.findings import LABELS
from bot.lexicon import (
    LexiconError,
    load_lexicon,
    normalise_age,
    normalise_duration,
    normalise_severity,
    spelling_variants,
)

# The concept vocabulary shared by the whole bot (see bot/findings.py and the triage rules).
SHARED_CONCEPTS = {
    "symptom": {
        "pain", "ache", "burning", "shooting", "electric", "stabbing", "throbbing", "numbness",
        "tingling", "pins_and_needles", "weakness", "cramp", "stiffness", "spasm",
    },
    "body_location": {
        "lower_back", "back", "buttock", "hip", "groin", "thigh", "knee", "leg", "calf", "shin",
        "ankle", "foot", "heel", "toes", "genitals", "back_passage", "saddle_area",
    },
    "side": {"left", "right", "both"},
    "onset": {"sudden", "gradual"},
    "course": {"worsening", "improving"},
    "aggravating_factor": {
        "sitting", "standing", "bending", "lifting", "coughing", "sneezing", "walking",
        "lying_down", "driving", "twisting", "straining", "stairs", "rest", "movement", "heat",
        "stretching",
    },
    "exercise": {"nerve_glide", "cat_camel", "straight_leg_raise", "hip_cars"},
    "clinical_sign": {
        "urinary_retention", "urinary_hesitancy", "urinary_incontinence", "urinary_numbness",
        "bladder_problem", "bowel_incontinence", "bowel_numbness", "bowel_problem",
        "saddle_numbness", "sexual_dysfunction", "foot_drop", "leg_giving_way", "marked_weakness",
        "fever", "night_sweats", "systemically_unwell", "iv_drug_use", "immunosuppression",
        "recent_spinal_procedure", "cancer_history", "weight_loss", "night_pain", "constant_pain",
        "major_trauma", "minor_trauma", "osteoporosis", "steroid_use", "chest_pain",
        "breathlessness", "stroke_face", "stroke_arm", "stroke_speech", "suicidal_thoughts",
        "self_harm",
        # general emergencies and illness the bot cannot assess (general_emergencies.yml)
        "sudden_confusion", "jaundice", "severe_abdominal_pain", "rigid_abdomen", "flank_pain",
        "abdominal_pain", "vomiting", "vomiting_blood", "coughing_blood", "bloody_diarrhoea",
        "floppy", "stiff_neck", "nonblanching_rash", "seizure", "anaphylaxis",
        "allergic_reaction", "heavy_bleeding", "lockjaw", "sepsis", "sepsis_sign", "cold_hands",
        "dying_feeling", "infection",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


def test_every_lexicon_file_loads_with_a_known_label_and_a_source(lexicon) -> None:
    assert lexicon.files
    for lexicon_file in lexicon.files:
        assert lexicon_file.label in LABELS
        assert lexicon_file.source
    assert {"symptom", "body_location", "side", "severity", "duration", "age"} <= lexicon.labels


@pytest.mark.parametrize("label", sorted(SHARED_CONCEPTS))
def test_concept_ids_are_the_shared_vocabulary(lexicon, label: str) -> None:
    assert lexicon.concepts(label) <= SHARED_CONCEPTS[label]
    if label != "clinical_sign":  # the red-flag file belongs to the triage rules
        assert lexicon.concepts(label) == SHARED_CONCEPTS[label]


def test_every_phrase_becomes_an_entity_ruler_pattern_with_its_concept(lexicon) -> None:
    patterns = lexicon.entity_ruler_patterns()
    pins = [p for p in patterns if p["pattern"] == "pins n needles"]
    assert pins == [{"label": "symptom", "pattern": "pins n needles", "id": "pins_and_needles"}]
    assert any(isinstance(p["pattern"], list) and p["label"] == "duration" for p in patterns)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


GOOD = "label: symptom\nsource: test\nconcepts:\n  numbness: [numb]\n"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("label: smell\nsource: test\nconcepts:\n  x: [y]\n", "unknown label"),
        ("label: symptom\nconcepts:\n  numbness: [numb]\n", "source"),
        ("label: symptom\nsource: test\nconcepts: [numb]\n", "concepts"),
        ("label: symptom\nsource: test\nconcepts:\n  numbness: []\n", "non-empty"),
        ("label: symptom\nsource: test\nconcepts:\n  Numb Ness: [numb]\n", "snake_case"),
        ("label: symptom\nsource: test\nconcepts:\n  numbness: [no]\n", "quote"),
        ("label: symptom\nsource: test\nconcepts: {}\n", "no phrases"),
        ("label: symptom\nsource: test\nwords: {}\n", "unknown keys"),
        ("label: symptom\nsource: [unclosed\n", "not valid YAML"),
        (
            'label: symptom\nsource: t\npatterns:\n  - concept: pain\n    pattern: [{"LOW": 1}]\n',
            "not a valid spaCy pattern",
        ),
    ],
)
def test_a_malformed_file_is_refused_naming_the_file(
    tmp_path: Path, content: str, complaint: str
) -> None:
    folder = _write(tmp_path / "lexicon", "broken.yml", content)
    with pytest.raises(LexiconError) as error:
        load_lexicon(folder)
    assert "broken.yml" in str(error.value)
    assert complaint in str(error.value)


def test_one_phrase_for_two_concepts_is_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path / "lexicon", "a.yml", GOOD)
    _write(folder, "b.yml", "label: clinical_sign\nsource: test\nconcepts:\n  foot_drop: [Numb]\n")
    with pytest.raises(LexiconError, match="a.yml.*b.yml|b.yml.*a.yml"):
        load_lexicon(folder)


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="no lexicon files"):
        load_lexicon(tmp_path)


def test_a_new_lexicon_file_is_picked_up_without_code_changes(tmp_path: Path) -> None:
    folder = _write(tmp_path / "lexicon", "symptoms.yml", GOOD)
    _write(
        folder, "extra.yml", "label: exercise\nsource: test\nconcepts:\n  hip_cars: [hip cars]\n"
    )
    assert load_lexicon(folder).labels == {"symptom", "exercise"}


@pytest.mark.parametrize(
    ("typo", "word"),
    [
        ("tignling", "tingling"),
        ("burnig", "burning"),
        ("thihg", "thigh"),
        ("coughng", "coughing"),
        ("sneezng", "sneezing"),
        ("numbnesss", "numbness"),
        ("bladdr", "bladder"),
    ],
)
def test_near_misses_of_lexicon_words_are_read_as_the_word(lexicon, typo: str, word: str) -> None:
    assert spelling_variants(lexicon)[typo] == word


@pytest.mark.parametrize(
    "word", ["waking", "setting", "sanding", "stuff", "diving", "numb", "legs"]
)
def test_real_words_and_short_words_are_never_corrected(lexicon, word: str) -> None:
    assert word not in spelling_variants(lexicon)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("3 weeks", "3 weeks"),
        ("two wks", "2 weeks"),
        ("a couple of days", "2 days"),
        ("a week", "1 week"),
        ("a week and a half", "1.5 weeks"),
        ("a fortnight", "2 weeks"),
        ("for the past 6 months", "6 months"),
        ("2 - 3 days", "2-3 days"),
        ("a few weeks", "few weeks"),
        ("3wks", "3 weeks"),
        ("10 yrs ago", "10 years"),
    ],
)
def test_durations_are_normalised(words: str, expected: str) -> None:
    assert normalise_duration(words.split(), "number_unit") == expected


def test_since_and_vague_durations_are_normalised() -> None:
    assert normalise_duration(["since", "Monday"], "since") == "since monday"
    assert normalise_duration(["started", "last", "week"], "since") == "since last week"
    assert normalise_duration(["for", "years"], "long_time") == "years"
    assert normalise_duration(["for", "months"], "long_time") == "months"
    assert normalise_duration(["for", "a", "while"], "a_while") == "a while"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("7/10", "7/10"),
        ("8 out of 10", "8/10"),
        ("ten out of ten", "10/10"),
        ("'s a 9", "9/10"),
        ("8 or 9 out of 10", "9/10"),
        ("11/10", "10/10"),
    ],
)
def test_pain_scores_are_normalised_to_out_of_ten(words: str, expected: str) -> None:
    assert normalise_severity(words.split(), "score") == expected


def test_severity_words_keep_their_concept() -> None:
    assert normalise_severity(["excruciating"], "severe") == "severe"


@pytest.mark.parametrize(
    ("words", "expected"),
    [("I 'm 67", "67"), ("aged 54", "54"), ("in my sixties", "60"), ("in my late 70s", "70")],
)
def test_ages_keep_only_the_number(words: str, expected: str) -> None:
    assert normalise_age(words.split(), "years") == expected
