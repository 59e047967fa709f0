"""The red-flag engine, through the real language layer: what a person types -> triage level.

Every rule of data/triage/red_flags.yml is exercised with colloquial, misspelt and lower-case
wording; the same signs negated, asked about, in the past, or said of someone else must not raise
a level. Typical sciatica must not raise one either.
"""

from __future__ import annotations

import pytest

from bot.findings import CLINICAL_SIGN, CURRENT, Analysis, Finding
from bot.nlp import analyse
from bot.triage.engine import (
    LEVELS,
    RED_FLAG_LEVELS,
    RULES_FILE,
    SIGNS_FILE,
    RulesError,
    _known_signs,
    advice_for,
    assess,
    level_rank,
    load_rules,
    max_level,
    parse_rules,
    person_age,
)

# (what the person says, the rule that must fire, the lowest acceptable level)
RED_FLAGS = [
    # places listed with "and" are one clause; the saddle area as people name it
    ("numbness around my buttocks and groin", "cauda_equina_saddle", "emergency"),
    ("very slight numbing around the buttox and grion", "cauda_equina_saddle", "emergency"),
    ("an area of numbness just above where the buttocks met", "cauda_equina_saddle", "emergency"),
    # marked weakness as people find it
    ("an inability to stand on my left toes", "neuro_marked_weakness", "urgent"),
    ("I couldn't do a one-footed calf raise", "neuro_marked_weakness", "urgent"),
    # cauda equina: bladder
    ("I wet myself last night and my back is in agony", "cauda_equina_bladder", "emergency"),
    ("cant pee properly since my back went", "cauda_equina_bladder", "emergency"),
    ("ive been peeing myself without realising", "cauda_equina_bladder", "emergency"),
    ("my bladder feels full but hardly anything comes out", "cauda_equina_bladder", "emergency"),
    ("having trouble starting to pee since sunday", "cauda_equina_bladder", "emergency"),
    ("i dont know when my bladder is full anymore", "cauda_equina_bladder", "emergency"),
    ("bladdar problems since monday", "cauda_equina_bladder", "emergency"),
    ("I've had a couple of accidents with my waterworks", "cauda_equina_bladder", "emergency"),
    ("I have to wear pads now because I keep leaking", "cauda_equina_bladder", "emergency"),
    ("incontinance started yesterday", "cauda_equina_bladder", "emergency"),
    ("i try to go to the toilet but i cant go", "cauda_equina_bladder", "emergency"),
    ("LOST CONTROL OF MY BLADDER THIS MORNING", "cauda_equina_bladder", "emergency"),
    # cauda equina: bowel
    ("I pooed myself this morning", "cauda_equina_bowel", "emergency"),
    ("can't control my bowels since yesterday", "cauda_equina_bowel", "emergency"),
    ("I can't feel when I need a poo", "cauda_equina_bowel", "emergency"),
    ("my bowels have been weird this week", "cauda_equina_bowel", "emergency"),
    ("had a bowel accident at the shops", "cauda_equina_bowel", "emergency"),
    # cauda equina: saddle
    ("numb down there", "cauda_equina_saddle", "emergency"),
    ("my privates feel numb", "cauda_equina_saddle", "emergency"),
    ("cant feel the toilet paper when i wipe", "cauda_equina_saddle", "emergency"),
    ("tingling in my groin and inner thighs", "cauda_equina_saddle", "emergency"),
    ("pins and needles around my back passage", "cauda_equina_saddle", "emergency"),
    ("both my bum cheeks have gone numb", "cauda_equina_saddle", "emergency"),
    ("numbess between my legs since this morning", "cauda_equina_saddle", "emergency"),
    ("it feels weird down there when I wipe", "cauda_equina_saddle", "emergency"),
    # cauda equina: sexual function
    ("I can't get an erection since my back went", "cauda_equina_sexual", "emergency"),
    ("sex feels numb now", "cauda_equina_sexual", "emergency"),
    # motor
    ("my foot slaps on the floor when I walk", "neuro_foot_drop", "emergency"),
    ("I keep tripping because my toes catch", "neuro_foot_drop", "emergency"),
    ("can't walk on my heels anymore", "neuro_foot_drop", "emergency"),
    ("my foot is dragging", "neuro_foot_drop", "emergency"),
    ("I think I have drop foot", "neuro_foot_drop", "emergency"),
    ("my leg keeps giving way", "neuro_leg_giving_way", "emergency"),
    ("my knee buckled and I nearly fell", "neuro_leg_giving_way", "emergency"),
    ("my legs went from under me twice today", "neuro_leg_giving_way", "emergency"),
    ("my leg is getting weaker every day", "neuro_progressive_weakness", "emergency"),
    ("the weakness in my foot is getting worse", "neuro_progressive_weakness", "emergency"),
    (
        "my left leg feels weak and it's worse than yesterday",
        "neuro_progressive_weakness",
        "emergency",
    ),
    ("im getting weaker", "neuro_progressive_weakness", "emergency"),
    ("I can't stand on my tiptoes on the right", "neuro_marked_weakness", "urgent"),
    ("I can't lift my leg at all", "neuro_marked_weakness", "urgent"),
    ("my leg is very weak", "neuro_marked_weakness", "urgent"),
    ("the numbness is spreading up my leg", "neuro_worsening_numbness", "urgent"),
    ("my foot is getting more numb", "neuro_worsening_numbness", "urgent"),
    # both legs
    ("pain down both legs", "bilateral_symptoms", "urgent"),
    ("sciatica in both legs", "bilateral_symptoms", "urgent"),
    ("my feet are both tingling", "bilateral_symptoms", "urgent"),
    ("numbness in both feet", "bilateral_symptoms", "urgent"),
    ("it goes down the left and right leg", "bilateral_symptoms", "urgent"),
    ("my legs are numb", "bilateral_symptoms", "urgent"),
    # infection
    ("I've got a fever and my back is killing me", "infection_fever", "urgent"),
    ("i feel hot and shivery with a temperature of 38.5", "infection_fever", "urgent"),
    ("night sweats every night", "infection_fever", "urgent"),
    ("i feel really unwell with this back pain", "infection_fever", "urgent"),
    ("ive had chills and a feaver", "infection_fever", "urgent"),
    ("I inject heroin", "infection_risk", "urgent"),
    ("I'm on chemo", "infection_risk", "urgent"),
    ("I'm HIV positive", "infection_risk", "urgent"),
    ("on steroids for my asthma for years", "infection_risk", "urgent"),
    ("had a kidney transplant", "infection_risk", "urgent"),
    ("I had an epidural 2 weeks ago", "infection_recent_procedure", "urgent"),
    ("had back surgery last month", "infection_recent_procedure", "urgent"),
    ("i needed spinal surgery 2 weeks ago and now i ache", "infection_recent_procedure", "urgent"),
    # cancer
    ("I had breast cancer 5 years ago", "cancer_history", "urgent"),
    ("history of prostate cancer", "cancer_history", "urgent"),
    ("i've lost a stone without trying", "cancer_weight_loss", "urgent"),
    ("the pain wakes me up at night", "cancer_night_or_constant_pain", "urgent"),
    ("it hurts even when I'm lying still", "cancer_night_or_constant_pain", "urgent"),
    ("I'm 62 and I've never had back pain before", "cancer_age_first_episode", "urgent"),
    # fracture
    ("I fell off a ladder yesterday", "fracture_major_trauma", "urgent"),
    ("car crash last week", "fracture_major_trauma", "urgent"),
    ("I slipped on ice and I have osteoporosis", "fracture_fragility", "urgent"),
    ("I'm 75 and had a fall", "fracture_fragility", "urgent"),
    ("on long term steroids and fell over", "fracture_fragility", "urgent"),
    # outside sciatica
    ("crushing chest pain", "outside_chest_pain", "emergency"),
    ("I can't breathe", "outside_breathlessness", "emergency"),
    ("my face is drooping", "outside_stroke", "emergency"),
    ("my arm went weak", "outside_stroke", "emergency"),
    ("slurring my words", "outside_stroke", "emergency"),
    # crisis
    ("I want to kill myself", "crisis_suicidal", "crisis"),
    ("sometimes I think everyone would be better off without me", "crisis_suicidal", "crisis"),
    ("I don't want to be here anymore", "crisis_suicidal", "crisis"),
    ("what if I just ended it all", "crisis_suicidal", "crisis"),
    ("I've been self harming", "crisis_self_harm", "crisis"),
    ("my back is agony and i cant go", "cauda_equina_bladder", "emergency"),
    ("my wife's face is drooping and her speech is slurred", "outside_stroke", "emergency"),
    ("pain in my left leg and numbness in my right", "bilateral_symptoms", "urgent"),
    ("it hurts even lying in bed", "cancer_night_or_constant_pain", "urgent"),
    ("my leg is numb and weak and i can't stand", "neuro_marked_weakness", "urgent"),
    # several complaints in one message
    ("no fever but I wet myself", "cauda_equina_bladder", "emergency"),
    ("no bladder issues but I've got night sweats", "infection_fever", "urgent"),
    ("pain in both legs and I peed myself", "cauda_equina_bladder", "emergency"),
    ("my back hurts, i have a fever and my foot keeps slapping", "neuro_foot_drop", "emergency"),
]

# Typical sciatica, and red-flag words that are negated, asked about, in the past and over, or
# about someone else: no red flag.
CLEAR = [
    "my left buttock is numb and my leg hurts",
    "I can do calf raises fine",
    "am i going to end up needing surgery on my spine",
    "will I be needing an operation on my back eventually",
    "shooting pain down my left leg when I sit",
    "pins and needles in my foot for 3 weeks",
    "sharp burning pain in my right buttock",
    "my lower back aches when I bend",
    "it hurts more when I cough or sneeze",
    "sciatica for 2 months, pain is 6/10",
    "tingling in my calf on the right side",
    "the pain gets worse when I sit",
    "can't sleep because of my sciatica",
    "pain from my bum down to my left foot",
    "numbness in my left toes",
    "I've had sciatica on and off for years",
    "it's getting better slowly",
    "the pain is worse in the morning",
    "my sciatica is killing me today",
    "my left buttock is numb",
    "my leg feels a bit weak",
    "I hurt my back lifting a box",
    "pain in my back on both sides",
    "no problems with my bladder",
    "my bladder is fine",
    "I can pee normally",
    "bowels are normal",
    "it hurts when I have a bowel movement",
    "no numbness down there",
    "no fever",
    "no chest pain",
    "no foot drop",
    "I can breathe fine",
    "I had a fever last month but it went away",
    "I was in a car accident 15 years ago",
    "I had a spinal injection 20 years ago",
    "I've lost weight on a diet",
    "I'm 65 and have had sciatica on and off for years",
    "I'm 30 and slipped on some stairs",
    "my doctor suggested back surgery",
    "my dad had lung cancer",
    "my friend is suicidal",
    "what is cauda equina syndrome?",
    "is foot drop serious?",
    "could this be cancer?",
    "what if I lose control of my bladder?",
    "I keep falling asleep at my desk because of the painkillers",
    "is losing bladder control a sign of something serious",
    "they took my gall bladder out in march",
    "I was knocked off my bike when I was 12",
    "my leg doesn't give way",
    "I have hay fever",
    "my left bum cheek is numb",
    "I hurt myself playing football",
    "my uncle had chest pain last year",
    "my right leg, not my left",
]


def level_of(text: str) -> str | None:
    return assess(analyse(text)).level


@pytest.mark.parametrize("text, rule_id, minimum", RED_FLAGS)
def test_red_flag_is_detected(text: str, rule_id: str, minimum: str) -> None:
    assessment = assess(analyse(text))
    assert rule_id in assessment.ids, (text, assessment.ids)
    assert level_rank(assessment.level) >= level_rank(minimum)


@pytest.mark.parametrize("text", CLEAR)
def test_no_red_flag(text: str) -> None:
    assessment = assess(analyse(text))
    assert assessment.level is None, (text, assessment.ids)


def test_every_rule_is_exercised() -> None:
    # the rules of general_emergencies.yml are exercised in tests/test_general_emergencies.py
    fired = {rule_id for _, rule_id, _ in RED_FLAGS}
    sciatica_rules = load_rules(RULES_FILE).rules
    matched = [rule.id for rule in sciatica_rules if not (rule.screening_only or rule.ask_only)]
    assert set(matched) <= fired


def test_every_red_flag_sign_is_used_by_a_rule() -> None:
    used: set[str] = set()
    for rule in load_rules().rules:
        if rule.match is not None:
            used |= {concept for label, concept in rule.match.concepts() if label == CLINICAL_SIGN}
    assert _known_signs(SIGNS_FILE) <= used


def test_every_rule_names_its_source_and_a_plain_reason() -> None:
    for rule in load_rules().rules:
        names = ("seed", "NICE", "GIRFT", "NHS", "ACP", "Samaritans", "988")
        assert any(name in rule.source for name in names), rule.id
        assert "CLINICAL.md" not in rule.source, rule.id
        assert 20 < len(rule.reason) < 400
        assert rule.level in RED_FLAG_LEVELS


@pytest.mark.parametrize(
    "text, question",
    [
        ("can sciatica cause problems with bladder control if it gets bad?", "bladder"),
        ("what is cauda equina?", "saddle"),
        ("is foot drop serious?", "weakness"),
        ("I had a fever last month but it went away", "fever"),
        ("could this be cancer?", "cancer"),
    ],
)
def test_questions_and_resolved_mentions_lead_to_asking(text: str, question: str) -> None:
    assessment = assess(analyse(text))
    assert level_rank(assessment.level) < level_rank("urgent")
    assert question in assessment.screen


def test_outside_sciatica_reasons_say_so() -> None:
    assessment = assess(analyse("I have crushing chest pain and my sciatica is bad"))
    assert assessment.level == "emergency"
    assert "not a sciatica problem" in assessment.red_flags[0].reason


def test_levels_only_order_upwards() -> None:
    assert LEVELS == ("self_care", "routine", "urgent", "crisis", "emergency")
    assert max_level("urgent", "routine") == "urgent"
    assert max_level(None, "self_care") == "self_care"
    assert max_level("crisis", "emergency") == "emergency"
    assert max_level(None, None) is None


def test_highest_level_wins_in_one_message() -> None:
    assessment = assess(analyse("I had breast cancer and now I can't control my bladder"))
    assert {"cancer_history", "cauda_equina_bladder"} <= set(assessment.ids)
    assert assessment.level == "emergency"


def _finding(concept: str, context: str = CURRENT, text: str = "x") -> Finding:
    return Finding(CLINICAL_SIGN, concept, text, 0, len(text), context)


@pytest.mark.parametrize(
    "context, expected",
    [
        ("current", "emergency"),
        ("historical", "emergency"),
        ("negated", None),
        ("hypothetical", None),
        ("other_person", None),
    ],
)
def test_context_decides_whether_a_sign_counts(context: str, expected: str | None) -> None:
    analysis = Analysis("wet myself", [_finding("urinary_incontinence", context, "wet myself")])
    assert assess(analysis).level == expected


def test_suicidal_thoughts_count_even_as_a_question() -> None:
    analysis = Analysis(
        "kill myself", [_finding("suicidal_thoughts", "hypothetical", "kill myself")]
    )
    assert assess(analysis).level == "crisis"


def test_cancer_history_counts_however_long_ago() -> None:
    text = "I had cancer 20 years ago"
    analysis = Analysis(
        text, [Finding(CLINICAL_SIGN, "cancer_history", "had cancer", 2, 12, "historical")]
    )
    assert assess(analysis).level == "urgent"


def test_age_is_read_from_the_persons_own_words() -> None:
    assert person_age("I'm 67 and it hurts", []) == 67
    assert person_age("67 year old man here", []) == 67
    assert person_age("my 80 year old mum has it too", []) is None


def test_advice_for_every_level() -> None:
    for level in LEVELS:
        assert advice_for(level).advice
    assert "emergency" in advice_for("emergency").advice
    crisis = advice_for("crisis").advice
    assert "116 123" in crisis and "988" in crisis
    assert "today" in advice_for("urgent").advice


def test_malformed_rules_are_refused() -> None:
    rule = {
        "id": "x",
        "level": "urgent",
        "category": "cancer",
        "reason": "r",
        "source": "s",
        "match": {"sign": ["no_such_sign"]},
    }
    with pytest.raises(RulesError):
        parse_rules({"red_flag_rules": [rule]}, known_signs={"fever"})
    with pytest.raises(RulesError):
        parse_rules(
            {"red_flag_rules": [{**rule, "level": "soonish", "match": {"sign": ["fever"]}}]}
        )
    with pytest.raises(RulesError):
        parse_rules(
            {"red_flag_rules": [{**rule, "match": {"sign": ["fever"], "contexts": ["negated"]}}]}
        )


@pytest.mark.parametrize(
    "text",
    [
        "since tuesday i cant really tell when i need to pee",
        "i can't properly feel the toilet paper when i wipe",
        "my leg just keeps giving way",
        "i cant actually control my bladder",
    ],
)
def test_a_filler_word_inside_a_red_flag_phrase_still_escalates(text: str) -> None:
    assert assess(analyse(text)).level == "emergency"


@pytest.mark.parametrize(
    "text",
    ["no, i can really control my bladder fine", "i can't really sleep because of the leg pain"],
)
def test_filler_words_do_not_make_a_red_flag_of_ordinary_words(text: str) -> None:
    assert assess(analyse(text)).level is None


@pytest.mark.parametrize(
    "text",
    [
        "the arches of my feet hurt when I wear heels",
        "muscle pain in both legs after football",
        "my feet ache",
        "sore legs after a run",
        "my calves are killing me after leg day",
        "I can't work good I have a pain in my knee",
        "I can't do anything, the pain in my leg is too much",
    ],
)
def test_plurals_and_aching_muscles_are_not_both_legs(text: str) -> None:
    assessment = assess(analyse(text))
    assert assessment.level is None, (text, assessment.ids)


@pytest.mark.parametrize(
    "text",
    [
        "numbness in both legs after football",
        "my legs are tingling",
        "pins and needles in both feet",
        "weakness in both legs",
        "shooting pain down both legs",
        "burning pain down the back of my legs",
        "electric shocks in both my thighs",
        "pain radiating down my legs",
        "pain in both legs",
    ],
)
def test_nerve_symptoms_in_both_legs_are_still_urgent(text: str) -> None:
    assessment = assess(analyse(text))
    assert "bilateral_symptoms" in assessment.ids, (text, assessment.ids)
    assert level_rank(assessment.level) >= level_rank("urgent")
