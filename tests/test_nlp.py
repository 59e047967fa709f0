"""What the bot understands from a message about back and leg pain, in people's own words."""

from pathlib import Path

import pytest
import yaml

from bot.findings import CONTEXTS, CURRENT, NEGATED, Analysis, Finding
from bot.nlp import MAX_CHARS, analyse, build_pipeline, evaluate_context
from bot.summary import collect, summarise

EVAL_CASES = Path(__file__).resolve().parent.parent / "eval" / "context_cases.yml"


def found(text: str) -> set[tuple[str, str]]:
    """(label, concept) of every current finding."""
    return {(f.label, f.concept) for f in analyse(text).findings if f.context == CURRENT}


def test_a_typical_description_is_understood_piece_by_piece() -> None:
    assert found("shooting pain down my left leg for 3 weeks, worse when I sit, 7/10") >= {
        ("symptom", "shooting"),
        ("symptom", "pain"),
        ("side", "left"),
        ("body_location", "leg"),
        ("duration", "3 weeks"),
        ("aggravating_factor", "sitting"),
        ("severity", "7/10"),
    }


def test_misspellings_listed_in_the_lexicon_are_understood() -> None:
    text = "numbess and tinglin in my buttok, siting and sneazing make it worse, sciatia"
    assert found(text) >= {
        ("symptom", "numbness"),
        ("symptom", "tingling"),
        ("body_location", "buttock"),
        ("aggravating_factor", "sitting"),
        ("aggravating_factor", "sneezing"),
    }


def test_misspellings_nobody_listed_are_understood_too() -> None:
    assert found("burnig pain in my thihg and tignling in my anlke") >= {
        ("symptom", "burning"),
        ("body_location", "thigh"),
        ("symptom", "tingling"),
        ("body_location", "ankle"),
    }


def test_lower_case_without_punctuation_and_several_complaints() -> None:
    text = "pain in me leg and pins n needles in my foot for two wks cant sit for long calf is numb"
    assert found(text) >= {
        ("symptom", "pain"),
        ("body_location", "leg"),
        ("symptom", "pins_and_needles"),
        ("body_location", "foot"),
        ("duration", "2 weeks"),
        ("aggravating_factor", "sitting"),
        ("body_location", "calf"),
        ("symptom", "numbness"),
    }


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("my leg goes numb after a while", "numbness"),
        ("it burns like mad", "burning"),
        ("the pain shoots down to my ankle", "shooting"),
        ("it zaps me every time I move", "electric"),
        ("like an electric shock in my heel", "electric"),
        ("a stabbing feeling in my hip", "stabbing"),
        ("my calf keeps cramping", "cramp"),
        ("my lower back is so stiff", "stiffness"),
        ("my foot feels dead", "numbness"),
        ("a throbbing ache", "throbbing"),
    ],
)
def test_symptoms_in_everyday_words(text: str, concept: str) -> None:
    assert ("symptom", concept) in found(text)


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("my bum hurts", "buttock"),
        ("pain in my glutes", "buttock"),
        ("my backside aches", "buttock"),
        ("ache in the small of my back", "lower_back"),
        ("an ache down below", "genitals"),
        ("my private parts ache", "genitals"),
        ("cramp in my calves", "calf"),
        ("pain in the back of my knee", "knee"),
        ("pain in my hamstring", "thigh"),
    ],
)
def test_body_parts_in_everyday_words(text: str, concept: str) -> None:
    assert ("body_location", concept) in found(text)


def test_a_red_flag_phrase_wins_over_the_symptom_inside_it() -> None:
    labels = {(f.label, f.text) for f in analyse("I'm numb down there").findings}
    assert ("clinical_sign", "numb down there") in labels
    assert ("symptom", "numb") not in labels


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("pain in my left leg", "left"),
        ("my right buttock", "right"),
        ("lft leg is sore", "left"),
        ("it's in both legs", "both"),
        ("pain on both sides", "both"),
        ("tingling in either leg", "both"),
        ("it alternates left and right", "both"),
    ],
)
def test_sides(text: str, side: str) -> None:
    assert ("side", side) in found(text)


def test_both_legs_names_the_side_and_the_place() -> None:
    assert found("numbness in both legs") >= {("side", "both"), ("body_location", "leg")}


@pytest.mark.parametrize(
    "text",
    [
        "I left work early because of the pain",
        "right now the pain is bad",
        "that's right, it hurts",
        "it came back again last night",
        "I went back to the doctor",
    ],
)
def test_words_used_in_another_sense_are_not_findings(text: str) -> None:
    concepts = {concept for label, concept in found(text) if label in ("side", "body_location")}
    assert not concepts & {"left", "right", "back"}


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("for 3 weeks", "3 weeks"),
        ("for a couple of days", "2 days"),
        ("since monday", "since monday"),
        ("on and off for years", "years"),
        ("6 months now", "6 months"),
        ("for two wks", "2 weeks"),
        ("about a fortnight", "2 weeks"),
        ("it started 10 days ago", "10 days"),
    ],
)
def test_durations(text: str, duration: str) -> None:
    assert ("duration", duration) in found(f"the pain in my leg {text}")


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("the pain is 7/10", "7/10"),
        ("it's 8 out of 10", "8/10"),
        ("I'd say it's a 9", "9/10"),
        ("ten out of ten pain", "10/10"),
        ("it's excruciating", "severe"),
        ("just a mild ache", "mild"),
        ("my back is killing me", "severe"),
    ],
)
def test_severity(text: str, severity: str) -> None:
    assert ("severity", severity) in found(text)


@pytest.mark.parametrize(
    ("text", "onset"),
    [
        ("it came on suddenly", "sudden"),
        ("out of nowhere my leg started hurting", "sudden"),
        ("it crept up on me gradually", "gradual"),
    ],
)
def test_onset(text: str, onset: str) -> None:
    assert ("onset", onset) in found(text)


@pytest.mark.parametrize(
    ("text", "course"),
    [("the numbness is getting worse", "worsening"), ("it's slowly improving", "improving")],
)
def test_course(text: str, course: str) -> None:
    assert ("course", course) in found(text)


@pytest.mark.parametrize(
    ("text", "label", "activity"),
    [
        ("worse when sitting", "aggravating_factor", "sitting"),
        ("it hurts to bend", "aggravating_factor", "bending"),
        ("coughing makes it shoot down my leg", "aggravating_factor", "coughing"),
        ("better lying down", "relieving_factor", "lying_down"),
        ("walking helps", "relieving_factor", "walking"),
        ("it eases when I stretch", "relieving_factor", "stretching"),
        ("a hot water bottle takes the edge off", "relieving_factor", "heat"),
        ("standing and walking make it worse", "aggravating_factor", "standing"),
    ],
)
def test_activities_are_aggravating_or_relieving_by_the_words_around_them(
    text: str, label: str, activity: str
) -> None:
    assert (label, activity) in found(text)


def test_one_sentence_can_hold_both_roles() -> None:
    assert found("sitting makes it worse but lying on my side helps") >= {
        ("aggravating_factor", "sitting"),
        ("relieving_factor", "lying_down"),
    }


def test_an_activity_that_changes_nothing_is_not_reported_as_either() -> None:
    concepts = {concept for _, concept in found("sitting down doesn't help at all")}
    assert "sitting" not in concepts


@pytest.mark.parametrize(
    ("text", "exercise"),
    [
        ("how do I do the sciatic nerve glide", "nerve_glide"),
        ("is nerve flossing safe", "nerve_glide"),
        ("show me the cat-cow stretch", "cat_camel"),
        ("what is an ASLR", "straight_leg_raise"),
        ("hip controlled articular rotations", "hip_cars"),
    ],
)
def test_exercise_names(text: str, exercise: str) -> None:
    assert exercise in {f.concept for f in analyse(text).findings if f.label == "exercise"}


@pytest.mark.parametrize(
    ("text", "age"),
    [("I'm 67", "67"), ("i am 45 years old", "45"), ("54 yo male", "54"), ("aged 72", "72")],
)
def test_age(text: str, age: str) -> None:
    assert ("age", age) in found(text)


def test_a_pregnancy_week_is_not_an_age() -> None:
    assert not [f for f in analyse("I'm 20 weeks pregnant").findings if f.label == "age"]


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "\n\n",
        "😀🔥😭",
        "\x00\x07\x1b",
        "¿Qué es la ciática?",
        42,
        b"\xff\xfe",
        ["x"],
    ],
)
def test_any_input_gives_an_analysis_without_error(text: object) -> None:
    analysis = analyse(text)
    assert isinstance(analysis, Analysis)
    assert isinstance(analysis.text, str)


def test_control_characters_do_not_hide_a_symptom() -> None:
    assert ("symptom", "numbness") in found("my foot\x00 is\x07 numb")


def test_a_very_long_message_is_cut_and_its_red_flag_still_found() -> None:
    text = "My leg is numb and I can't feel my bum. " * 600  # about 24,000 characters
    analysis = analyse(text)
    assert len(analysis.text) <= MAX_CHARS
    assert ("clinical_sign", "saddle_numbness") in {(f.label, f.concept) for f in analysis.findings}


def test_curly_quotes_are_straightened_and_offsets_point_at_the_words() -> None:
    analysis = analyse("I can’t   feel my foot  and it’s “killing” me")
    assert "can't feel" in analysis.text and "  " not in analysis.text
    assert analysis.findings
    for finding in analysis.findings:
        assert analysis.text[finding.start : finding.end] == finding.text
        assert finding.context in CONTEXTS


def test_offsets_stay_right_in_a_long_message_analysed_in_pieces() -> None:
    text = "My back aches. " * 60 + "Now my left foot drags when I walk."
    analysis = analyse(text)
    assert any(f.concept == "foot_drop" for f in analysis.findings)
    for finding in analysis.findings:
        assert analysis.text[finding.start : finding.end] == finding.text


def test_the_pipeline_is_built_once_and_made_of_the_expected_parts() -> None:
    nlp = build_pipeline()
    assert build_pipeline() is nlp
    assert nlp.pipe_names == [
        "sentencizer",
        "sciatica_spelling",
        "sciatica_person",
        "entity_ruler",
        "sciatica_findings",
        "medspacy_context",
    ]


def test_summary_lists_what_the_person_has_now_once_each() -> None:
    analysis = analyse(
        "no numbness. Pain in my left leg, the pain is sharp, and my left calf aches"
    )
    summary = collect(analysis.findings)
    assert summary["symptom"] == ["pain", "stabbing", "ache"]
    assert summary["side"] == ["left"]
    assert summary["body_location"] == ["leg", "calf"]
    assert "numbness" not in summary["symptom"]


def test_summary_of_hand_made_findings() -> None:
    analysis = Analysis(
        text="",
        findings=[
            Finding("symptom", "numbness", "numb", 0, 4, NEGATED),
            Finding("symptom", "pain", "pain", 5, 9),
            Finding("side", "right", "right", 10, 15),
            Finding("symptom", "pain", "hurts", 16, 21),
        ],
    )
    assert collect(analysis.findings) == {"symptom": ["pain"], "side": ["right"]}


def test_a_time_of_day_is_not_a_pain_score() -> None:
    for text in ("its 3am and the pain is unbearable", "it was 4 pm when my back went"):
        assert not [f for f in analyse(text).findings if f.label == "severity" and "/" in f.concept]
    assert any(f.concept == "7/10" for f in analyse("the pain is 7 out of 10").findings)


def test_how_far_a_pregnancy_has_gone_is_not_how_long_the_pain_has_lasted() -> None:
    findings = analyse("I'm 36 weeks pregnant and have had sciatica for 2 weeks").findings
    assert [f.concept for f in findings if f.label == "duration"] == ["2 weeks"]


def test_someone_elses_symptoms_are_said_back_as_theirs() -> None:
    text = "asking for my son, sharp pain from his lower back down his leg"
    said = summarise(analyse(text).findings)
    assert "in your son's lower back and leg" in said
    mine = summarise(analyse("my son says my lower back pain is from lifting").findings)
    assert "in your lower back" in mine


def test_evaluate_context_scores_cases() -> None:
    result = evaluate_context(
        [
            {"text": "no numbness", "concept": "numbness", "context": "negated"},
            {"text": "my foot is numb", "concept": "numbness", "context": "negated"},
            {"text": "hello there", "concept": "numbness", "context": "current"},
        ]
    )
    assert result["n"] == 3
    assert result["accuracy"] == pytest.approx(1 / 3)
    assert [e["problem"] for e in result["errors"]] == ["wrong context", "concept not found"]
    assert result["errors"][0]["got"] == "current"


def test_the_context_evaluation_set_is_large_varied_and_passes() -> None:
    cases = yaml.safe_load(EVAL_CASES.read_text(encoding="utf-8"))["cases"]
    assert len(cases) >= 100
    for context in CONTEXTS:
        assert sum(case["context"] == context for case in cases) >= 15
    result = evaluate_context(cases)
    assert result["accuracy"] >= 0.95, result["errors"]


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("my wife wet herself on the way to the shops", "urinary_incontinence"),
        ("he cant feel anything when he wipes", "saddle_numbness"),
        ("she has no feeling down there", "saddle_numbness"),
        # a verb after a noun is left alone: these are lexicon phrases as they stand
        ("my bottom feels numb like I've been sat on a bike for hours", "saddle_numbness"),
    ],
)
def test_someone_described_in_the_third_person_is_read_with_the_same_phrases(
    text: str, concept: str
) -> None:
    assert concept in {f.concept for f in analyse(text).findings}
