# ruff: noqa: E501 - the table of real phrasings keeps each one on a line with its address
"""Emergencies whatever their cause (data/triage/general_emergencies.yml), through the real
language layer: what a person types -> triage level.

None of these is a sciatica matter; the bot must still not miss them, and must say so. The same
signs negated, asked about, long past, or ordinary back and leg pain must not raise a level.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.nlp import analyse
from bot.triage.engine import (
    GENERAL_RULES_FILE,
    RULE_FILES,
    RULES_FILE,
    RulesError,
    assess,
    flag_for,
    level_rank,
    load_rules,
)

# Real phrasings, written by people about themselves or someone with them, as found on public
# pages (address given). They were collected separately from the phrases and patterns of
# data/lexicon/clinical_signs.yml, which were written from the NHS and NICE pages. Each must
# reach at least its level. Phrasings found the same way that still fall short, and why:
#   "I noticed that my jaw was slow to respond and felt very stiff" (intimatetruth.com):
#       seven words between "jaw" and "stiff"
#   "... out comes a toddler temperature again. Last night at 3am we woke to a right clanger of
#       40 degrees" (quiltingforengland.blogspot.com): the 40 is a sentence away from the word
#       temperature, and "40 degrees" alone is as often the weather
#   "Cut won't stop bleeding, what to do?" (ask.naija.ng): read as a question about a cut, which
#       the bot answers without escalating
#   "I woke up with a sharp, stabbing pain in my left lower back. It came in waves and soon
#       radiated down toward my groin." (a kidney stone story): left to the sciatica rules
#   "On the day when Ben at 10 weeks had a temp of 38.4 ..." (2starsandaswirl.co.uk): "at 10
#       weeks" is not read as the baby's age (it is as often a pregnancy); urgent, not emergency
#   "a pain started in my upper abdomen ... a sharp, relentless, gripping pain that took my
#       breath away" (winenfood.com): urgent (tummy pain), not read as severe
REAL = [
    (
        "I got blood in my cough this morning, should i be worried?",
        "emergency",
        "askthedoctor.com/blood-in-my-cough-105974",
    ),
    (
        "no, I'm ok except for this blood I have been coughing up",
        "emergency",
        "thelungspecialists.com/blog/ok-except-for",
    ),
    ("my friend is 13 and has being puking blood for nearly", "emergency", "fluther.com/65936"),
    (
        "stepped on a rusty nail 9 days ago and now have tetanus symptoms",
        "emergency",
        "intimatetruth.com/how-it-all-began",
    ),
    (
        "Last night her temperature peaked at 40.3oc.",
        "urgent",
        "muslimmummies.com/2010/12/sick-child/",
    ),
    (
        "Then she was hot and dry with a body temperature of over 40 degrees Celsius.",
        "urgent",
        "swirl-vc.blogspot.com/2007/02/hot-and-cold.html",
    ),
    (
        "Soon all three of my children were suffering from fire and brimstone temperatures of 40˚C (104˚F).",
        "emergency",
        "healthiermummy.com/child-has-really-high-temperature-cough-cold-letter/",
    ),
    (
        "I feel as if a three-hundred-pound weight is pressing against my chest, slowly suffocating me.",
        "emergency",
        "copd.net/living/experiencing-copd",
    ),
    (
        "From the time I get up in the morning till the time I go to bed at night, I struggle to breathe.",
        "emergency",
        "copd.net/living/living-in-agony",
    ),
    (
        "Extreme shortness of breath is my daily passenger.",
        "emergency",
        "copd.net/living/living-in-agony",
    ),
    (
        "this second hand smoke immediately tightens my chest in-turn making it hard for me to breath",
        "emergency",
        "sandyellen.blogspot.com/2006/12/what-is-good-and-bad-breathing-day-for.html",
    ),
    (
        "I have only been in Africa for 10 days and already I have a fever. It is 39 degrees C by mouth.",
        "emergency",
        "blogs.msf.org/bloggers/lauralee/fever",
    ),
    (
        "My lips and tongue become swollen in the late evening.",
        "emergency",
        "articles.sun-sentinel.com/2006-06-04/health/0606020618_1_angioedema-hives-medicines",
    ),
    (
        "Every few days my top lip swells up like a balloon",
        "emergency",
        "programmefunny.club/?p=3267 (Dr James Le Fanu column, reader's letter)",
    ),
    (
        "Sometimes my upper lip swells after eating. Should I be worried?",
        "emergency",
        "towerspropertymgmt.com/towers/content_feed.asp?article_id=4467",
    ),
    (
        "I need help, please help me, my son is having a seizure.",
        "emergency",
        "sheknows.com/parenting/articles/1066207/what-every-parent-needs-to-know-about-seizures/",
    ),
    (
        "I realized that he was convulsing and I panicked.",
        "emergency",
        "toughcookiemommy.com/2014/12/know-child-seizure-epilepsyawareness-dareto.html",
    ),
    (
        "He was convulsing steadily with an ashen color, glazed-over eyes and a contorted body.",
        "emergency",
        "lifehacked.pages.dev/posts/heres-what-parents-need-to-know-about-febrile-seizures",
    ),
    ("finger won't stop bleeding", "emergency", "ask.com/question/finger-won-t-stop-bleeding"),
    (
        "The whites of my eyes have turned yellow.",
        "urgent",
        "ashleykalagianblunt.com/2018/02/02/why-i-do-not-trust-doctors-part-ii/",
    ),
    (
        "Then we notice that he's rather unresponsive.",
        "emergency",
        "darthdaddy.blogspot.com/2008/01",
    ),
    (
        "she was unconscious and not breathing at all",
        "emergency",
        "littlehouseonthelees.blogspot.com/2010/03/999-emergency.html",
    ),
    (
        "He was basically completely unresponsive, his color was gone",
        "emergency",
        "lifegoeson21.com/2023/10/28/sick-babies-cozy-cuddles-and-worst-case-scenarios/",
    ),
    (
        "it progressed to him being completely unable to keep his eyes open",
        "emergency",
        "lifegoeson21.com/2023/10/28/sick-babies-cozy-cuddles-and-worst-case-scenarios/",
    ),
    (
        "I wake up in the middle of the night with a really nasty pain in my lower left abdomen.",
        "urgent",
        "zortnacpah.blogspot.com/2006/08/kidney-stone.html",
    ),
    (
        "I picked up a glass and pressed it to the rash – it didn't disappear.",
        "emergency",
        "storystorks.wordpress.com/2016/12/26/meningitis-scare/",
    ),
    (
        "Then I noticed a purple rash on her hand.",
        "emergency",
        "storystorks.wordpress.com/2016/12/26/meningitis-scare/",
    ),
    (
        "My friend did the glass test and it was positive - it did not fade to white when pressed.",
        "emergency",
        "cotswoldmumsblog.blogspot.com/2015/01/in-sickness-and-in-health.html",
    ),
    (
        "my son Leo was burning up, and when I went to check on him, I saw them: tiny, reddish-purple dots on his chest.",
        "emergency",
        "eatsip365.com/a-visual-guide-to-identifying-a-meningitis-rash",
    ),
    (
        "By the Friday morning she was no longer able to sit up and had a very high pitched cry. Her eyes were starting to roll.",
        "emergency",
        "meningitisnow.org/meningitis-now-stories/news-centre/news/beccas-story",
    ),
    (
        "Every time I held him he screamed, he was very hot but his hands were freezing.",
        "emergency",
        "meningitisnow.org/meningitis-now-stories/news-centre/news/charlie-cs-story",
    ),
    (
        "She had flu symptoms for two days and I thought she was just being a 'teenager' and whinging about nothing. When she said that she felt like she was dying, alarm bells rang in my head.",
        "emergency",
        "meningitis.org/meningitis-in-your-words/kashka-johnson",
    ),
]

# The lay wording the guidelines' signs are written in (own examples, one or more per sign).
LAY = [
    ("my skin and eyes have gone yellow and I feel really unwell", "outside_jaundice_unwell"),
    ("my mum has suddenly gone very confused and doesn't know where she is", "outside_confusion"),
    ("my husband is really drowsy and hard to wake", "outside_confusion"),
    ("worst tummy pain ever", "outside_abdominal_emergency"),
    ("pain in my side that came on an hour ago and is agonising", "outside_abdominal_emergency"),
    ("my belly is rock hard and so sore", "outside_abdominal_emergency"),
    ("my COPD is getting worse, I can't catch my breath", "outside_breathlessness"),
    ("I threw up blood this morning", "outside_bleeding_from_inside"),
    ("coughing up blood since last night", "outside_bleeding_from_inside"),
    ("my toddler has bloody diarrhoea", "outside_unwell_child"),
    ("she's really floppy and won't feed", "outside_unwell_child"),
    ("my son has a temperature of 40", "outside_unwell_child"),
    ("my daughter's temperature is 104 F", "outside_unwell_child"),
    ("my 6 week old baby has a fever", "outside_unwell_child"),
    ("stiff neck and a high temperature", "outside_meningitis_signs"),
    ("she has a rash that doesn't fade when I press a glass on it", "outside_meningitis_signs"),
    ("he's having a fit", "outside_seizure"),
    ("my lips and tongue are swelling up after eating peanuts", "outside_anaphylaxis"),
    ("the cut on my arm won't stop bleeding", "outside_heavy_bleeding"),
    ("my jaw is locked", "outside_tetanus"),
    ("painful muscle spasms since I stood on a rusty nail", "outside_tetanus"),
    ("just back from Nigeria with a fever and shaking chills", "outside_fever_after_travel"),
    ("crushing chest pain", "outside_chest_pain"),
    ("a squeezing feeling I've got in the middle of my chest", "outside_chest_pain"),
    ("the pain goes from my chest into my jaw", "outside_chest_pain"),
    ("sharp pain on the right side of my chest when I breathe in", "outside_chest_pain"),
    ("my chest and left arm really hurt", "outside_chest_pain"),
    ("I suddenly can't lift a cup", "outside_stroke"),
    ("my hand stopped working this morning", "outside_stroke"),
    ("I've lost the strength in my right arm", "outside_stroke"),
    ("my face is drooping on one side", "outside_stroke"),
    # someone else's, told in the past tense inside an illness that is still going on
    (
        "my sister has been suffering from arm pain for 5 days and she was unable to lift a cup",
        "outside_stroke",
    ),
    ("my dad is still in bed, since this morning he couldn't lift his arm", "outside_stroke"),
    ("I think I might have sepsis", "outside_sepsis"),
    ("his lips have gone blue and his skin is mottled", "outside_sepsis"),
    ("I've had the flu all week and now I feel like I'm going to die", "outside_sepsis"),
    ("she's got a temperature and her hands and feet are freezing", "outside_sepsis"),
]

# Illness the bot cannot assess: "see a doctor or urgent care today", never the sciatica questions.
DEFLECTED = [
    "I've got a temperature and I keep being sick",
    "I've had a stomach ache since yesterday",
    "I think my wound is infected, it's red and there's pus",
    "my son has a fever",
    "I can't keep anything down and feel awful",
    "I'm having an allergic reaction to the tablets, I've come out in hives",
    "the whites of my eyes look yellow",
]

# Must not raise a level: negated, asked about, long past, someone's history, ordinary back and
# leg pain, everyday aches.
CLEAR = [
    "no chest pain, no trouble breathing",
    "I'm not confused, just tired of the pain",
    "I'm confused about my MRI results",
    "pregabalin makes me really drowsy",
    "I haven't been sick and I have no fever",
    "I had a seizure as a child",
    "my dad had jaundice years ago",
    "I had a tetanus jab after I cut my hand",
    "I stepped on a rusty nail yesterday, do I need a tetanus jab? I don't have lockjaw",
    "shooting pain down my leg for 3 weeks",
    "my back pain is agonising and came on suddenly this morning",
    "agonising pain in my left side going down my leg",
    "pain in my right side of my back, worse when I sit",
    "my feet ache after running",
    "the pain makes me feel sick",
    "I'm sick of this sciatica",
    "I'm suffocating under all this work",
    "it was 40 degrees on holiday and my back was fine",
    "my jaw aches from clenching my teeth",
    "sharp pain in my leg, my chest is fine",
    "my chest x-ray was clear but my back hurts",
    "I do chest press at the gym and now my back hurts",
    "I can lift a cup fine",
    "my mum had a weak arm after her stroke years ago",
    "my grandad's arm was weak after his stroke, he died in 2010",
    "this sciatica pain makes me feel like I'm dying",
    "my back is killing me and I feel like I'm dying",
    "I always have cold hands and feet",
    "my leg feels cold to the touch and numb",
]

# Questions are answered, never escalated.
QUESTIONS = [
    "what is chest pain?",
    "is coughing up blood serious?",
    "what does a rash that doesn't fade mean?",
    "can a seizure cause back pain?",
]


@pytest.mark.parametrize("text, minimum, source", REAL)
def test_real_phrasings_reach_their_level(text: str, minimum: str, source: str) -> None:
    assessment = assess(analyse(text))
    assert level_rank(assessment.level) >= level_rank(minimum), (text, source, assessment.ids)


@pytest.mark.parametrize("text, rule_id", LAY)
def test_lay_wording_is_an_emergency(text: str, rule_id: str) -> None:
    assessment = assess(analyse(text))
    assert rule_id in assessment.ids, (text, assessment.ids)
    assert assessment.level == "emergency"


@pytest.mark.parametrize("text", DEFLECTED)
def test_illness_the_bot_cannot_assess_is_deflected_today(text: str) -> None:
    assessment = assess(analyse(text))
    assert "outside_acute_illness" in assessment.ids, (text, assessment.ids)
    assert level_rank(assessment.level) >= level_rank("urgent")


@pytest.mark.parametrize("text", CLEAR)
def test_no_emergency(text: str) -> None:
    assessment = assess(analyse(text))
    assert assessment.level is None, (text, assessment.ids)


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions_are_not_reports(text: str) -> None:
    assessment = assess(analyse(text))
    assert assessment.level is None, (text, assessment.ids)
    assert assessment.unconfirmed, text


def test_every_general_rule_is_exercised() -> None:
    fired = {rule_id for _, rule_id in LAY} | {"outside_acute_illness", "outside_labour"}
    general = {rule.id for rule in load_rules(RULE_FILES).rules} - {
        rule.id for rule in load_rules(RULES_FILE).rules
    }
    assert general and general <= fired


def test_reasons_say_it_is_not_sciatica_and_what_to_do() -> None:
    rules = [r for r in load_rules().rules if r.category == "outside_sciatica"]
    for rule in rules:
        if rule.id.startswith("crisis_"):
            continue
        if rule.level == "emergency":
            assert "sciatica" in rule.reason and "emergency" in rule.reason, rule.id
        else:
            assert "isn't something I can assess" in rule.reason, rule.id
            assert "doctor or urgent care today" in rule.reason, rule.id
            assert "111" in rule.reason, rule.id
        assert "https://" in rule.source, rule.id


def test_outside_rules_kept_their_ids_and_moved_to_the_general_file() -> None:
    general = yaml.safe_load(GENERAL_RULES_FILE.read_text(encoding="utf-8"))
    ids = {rule["id"] for rule in general["red_flag_rules"]}
    assert {"outside_chest_pain", "outside_breathlessness", "outside_stroke"} <= ids
    sciatica = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    assert not ids & {rule["id"] for rule in sciatica["red_flag_rules"]}


# --- one loader, two files ------------------------------------------------------------------


def _rule(rule_id: str, **match: object) -> dict[str, object]:
    return {
        "id": rule_id,
        "level": "emergency",
        "category": "outside_sciatica",
        "reason": "Not a sciatica problem: call your local emergency number now.",
        "source": "NHS",
        "match": match or {"sign": ["fever"]},
    }


def _write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_later_file_uses_the_cues_of_an_earlier_one(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.yml", {"cues": {"abroad": ["abroad"]}, "red_flag_rules": []})
    second = _write(tmp_path / "b.yml", {"red_flag_rules": [_rule("x", cue="abroad")]})
    rule_set = load_rules((first, second))
    assert [rule.id for rule in rule_set.rules] == ["x"]


def test_a_rule_id_used_in_both_files_is_refused_naming_the_file(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.yml", {"red_flag_rules": [_rule("same")]})
    second = _write(tmp_path / "b.yml", {"red_flag_rules": [_rule("same")]})
    with pytest.raises(RulesError, match=r"^b\.yml: .*used twice"):
        load_rules((first, second))


def test_a_cue_defined_twice_is_refused_naming_the_file(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.yml", {"cues": {"c": ["x"]}, "red_flag_rules": []})
    second = _write(tmp_path / "b.yml", {"cues": {"c": ["y"]}, "red_flag_rules": []})
    with pytest.raises(RulesError, match=r"^b\.yml: cue 'c'"):
        load_rules((first, second))


@pytest.mark.parametrize(
    "content, message",
    [
        ("red_flag_rules: [\n", "not valid YAML"),
        ("cues: {}\n", "red_flag_rules"),
        (yaml.safe_dump({"red_flag_rules": [_rule("x", sign=["no_such_sign"])]}), "unknown"),
        (yaml.safe_dump({"red_flag_rules": [{**_rule("x"), "level": "soon"}]}), "level"),
    ],
)
def test_a_malformed_general_file_fails_at_load_naming_it(
    tmp_path: Path, content: str, message: str
) -> None:
    general = tmp_path / "general_emergencies.yml"
    general.write_text(content, encoding="utf-8")
    with pytest.raises(RulesError, match=rf"^general_emergencies\.yml: .*{message}"):
        load_rules((RULES_FILE, general))


@pytest.mark.parametrize(
    "text",
    [
        "my 4 year old has had diarrhoea all day and there's blood in it now",
        "its 3am and i just noticed i cant really feel my bum cheeks or between my legs",
    ],
)
def test_signs_said_with_a_few_words_between_still_count(text: str) -> None:
    assert assess(analyse(text)).level == "emergency"


def test_sudden_or_severe_tummy_pain_is_an_emergency_and_a_mild_ache_is_not() -> None:
    sudden = "sudden really bad pain in my stomach going through to my back, worst pain ever"
    assert assess(analyse(sudden)).level == "emergency"
    assert assess(analyse("i have a bit of a tummy ache")).level != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I'm 38 weeks pregnant and my lower back is killing me. Could this be labour?",
        "I am 36 weeks pregnant, back pain that comes and goes every 10 minutes",
        "34 weeks pregnant with back ache and my waters have broken",
        "low pelvic pain coming and going, wraps round to my back. Is this preterm labor?",
    ],
)
def test_possible_labour_goes_to_the_midwife_today(text: str) -> None:
    assessment = assess(analyse(text))
    assert "outside_labour" in assessment.ids, (text, assessment.ids)
    assert level_rank(assessment.level) >= level_rank("urgent")
    assert "midwife" in flag_for("outside_labour").reason


@pytest.mark.parametrize(
    "text",
    [
        "I'm 20 weeks pregnant and have sciatica down my left leg, is paracetamol safe?",
        "I had sciatica in my last pregnancy and it came and went",
        "can pregnancy cause sciatica?",
        "my back pain comes and goes",
    ],
)
def test_pregnancy_without_signs_of_labour_is_not_sent_to_the_midwife(text: str) -> None:
    assert "outside_labour" not in assess(analyse(text)).ids
