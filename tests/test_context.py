"""Context: does the person have it now, deny it, ask about it, had it before, or is it
someone else's?"""

from pathlib import Path

import pytest

from bot.context import ContextRulesError, load_context_rules
from bot.findings import CURRENT, HISTORICAL, HYPOTHETICAL, NEGATED, OTHER_PERSON
from bot.nlp import analyse


def context(text: str, concept: str) -> str:
    """The context of the first finding of a concept; fails the test if it is not found."""
    found = [f for f in analyse(text).findings if f.concept == concept]
    assert found, f"{concept!r} not found in {text!r}: {analyse(text).findings}"
    return found[0].context


def current_concepts(text: str) -> set[str]:
    return {f.concept for f in analyse(text).findings if f.context == CURRENT}


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("no numbness in my legs", "numbness"),
        ("my foot is not numb", "numbness"),
        ("I've never had any tingling", "tingling"),
        ("I don't have any weakness", "weakness"),
        ("haven't noticed any pins and needles", "pins_and_needles"),
        ("back pain without any fever", "fever"),
        ("neither numbness nor weakness", "numbness"),
        ("neither numbness nor weakness", "weakness"),
        ("there's nothing wrong with my bladder", "bladder_problem"),
        ("my bladder and bowels are fine", "bowel_problem"),
        ("bladder normal, bowels ok", "bladder_problem"),
        ("no problems peeing", "urinary_hesitancy"),
        ("I don't think I have a fever", "fever"),
        ("my legs don't hurt", "pain"),
        ("Not tingly at all.", "tingling"),
    ],
)
def test_negations_people_use(text: str, concept: str) -> None:
    assert context(text, concept) == NEGATED


@pytest.mark.parametrize(
    "text",
    [
        "I can control my bladder fine",
        "I can still hold my bladder",
        "my bladder is fine",
        "I have full control of my bladder",
    ],
)
def test_saying_the_bladder_works_never_reports_a_bladder_problem(text: str) -> None:
    bladder = {"bladder_problem", "urinary_incontinence", "urinary_retention", "urinary_numbness"}
    assert not current_concepts(text) & bladder


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("I can't control my bladder", "urinary_incontinence"),
        ("i cannot control my bladder", "urinary_incontinence"),
        ("cant control my bladder", "urinary_incontinence"),
        ("I haven't been able to pee since yesterday", "urinary_retention"),
        ("I can't walk without my leg giving way", "leg_giving_way"),
        ("I have no feeling in my foot", "numbness"),
        ("I can't feel my foot anymore", "numbness"),
        ("my leg has gone numb", "numbness"),
        ("I don't know why my leg keeps giving way", "leg_giving_way"),
        ("I'm not sure but I think I wet myself", "urinary_incontinence"),
    ],
)
def test_losses_and_inabilities_stay_current(text: str, concept: str) -> None:
    assert context(text, concept) == CURRENT


@pytest.mark.parametrize(
    "text",
    [
        "no, I can't feel my bum when I wipe",
        "No. I can't feel anything down there",
        "nope i cant hold my wee",
    ],
)
def test_no_as_an_answer_does_not_deny_what_follows(text: str) -> None:
    findings = analyse(text).findings
    assert findings
    assert all(f.context == CURRENT for f in findings), findings


@pytest.mark.parametrize(
    ("text", "denied", "reported"),
    [
        ("no fever but I wet myself", "fever", "urinary_incontinence"),
        ("no numbness, however my leg keeps giving way", "numbness", "leg_giving_way"),
        ("I don't have a fever although I have lost weight", "fever", "weight_loss"),
        ("no tingling though I have a burning pain", "tingling", "burning"),
        ("no numbness except in my bum", "numbness", "buttock"),
        ("no weakness apart from cramp in my calf", "weakness", "cramp"),
        ("no fever; wet myself this morning", "fever", "urinary_incontinence"),
        ("never had numbness but now my foot is numb", "numbness", "foot"),
    ],
)
def test_a_negation_stops_at_but_however_although_now(
    text: str, denied: str, reported: str
) -> None:
    assert context(text, denied) == NEGATED
    assert context(text, reported) == CURRENT


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("should I worry about foot drop?", "foot_drop"),
        ("is foot drop serious?", "foot_drop"),
        ("what if I lose control of my bladder", "urinary_incontinence"),
        ("I'm asking in case I get numbness down there", "saddle_numbness"),
        ("could tingling in my toes mean nerve damage", "tingling"),
        ("can sciatica cause weakness", "weakness"),
        ("how do I know if I have foot drop", "foot_drop"),
        ("does a fever with back pain matter", "fever"),
        ("what are night sweats", "night_sweats"),
        ("if my legs go weak what should I do", "leg_giving_way"),
    ],
)
def test_questions_and_possibilities_are_hypothetical(text: str, concept: str) -> None:
    assert context(text, concept) == HYPOTHETICAL


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("is it normal that my foot slaps when I walk?", "foot_drop"),
        ("I wet myself last night, what should I do?", "urinary_incontinence"),
        ("why does my leg keep giving way?", "leg_giving_way"),
        ("what should i do i cant control my bladder", "urinary_incontinence"),
        ("if I cough it shoots down my leg", "coughing"),
    ],
)
def test_a_question_about_something_the_person_has_is_still_a_report(
    text: str, concept: str
) -> None:
    assert context(text, concept) == CURRENT


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("I had a fever last month but it went away", "fever"),
        ("I used to have pins and needles in my feet", "pins_and_needles"),
        ("years ago I had numbness in my thigh, it resolved", "numbness"),
        ("I had cancer five years ago", "cancer_history"),
        ("the tingling has gone", "tingling"),
        ("as a child I had a weak leg", "weakness"),
    ],
)
def test_what_is_over_is_historical(text: str, concept: str) -> None:
    assert context(text, concept) == HISTORICAL


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("my father had bowel cancer", "cancer_history"),
        ("my wife has numbness in her feet", "numbness"),
        ("my friend's mum has foot drop", "foot_drop"),
        ("my dad never had a fever", "fever"),
        ("cancer runs in my family", "cancer_history"),
        ("she has pins and needles in her toes", "pins_and_needles"),
    ],
)
def test_someone_elses_complaint_is_other_person(text: str, concept: str) -> None:
    assert context(text, concept) == OTHER_PERSON


def test_what_my_doctor_said_about_me_is_mine() -> None:
    assert context("my doctor said I have foot drop", "foot_drop") == CURRENT
    assert context("my physio thinks my leg is weak", "weakness") == CURRENT


def test_someone_elses_history_does_not_spill_into_my_report() -> None:
    text = "my mum had bowel cancer and I have numbness in my bum"
    assert context(text, "cancer_history") == OTHER_PERSON
    assert context(text, "numbness") == CURRENT
    assert context(text, "buttock") == CURRENT


def test_a_sentence_boundary_ends_every_context() -> None:
    text = "My dad has foot drop. I have numbness down there."
    assert context(text, "foot_drop") == OTHER_PERSON
    assert context(text, "saddle_numbness") == CURRENT


def test_old_illness_and_my_age_are_kept_apart() -> None:
    text = "I'm 67 and had cancer five years ago"
    assert context(text, "cancer_history") == HISTORICAL
    assert context(text, "67") == CURRENT


def test_words_inside_a_finding_do_not_negate_it() -> None:
    # "no feeling" is a report of numbness, "lost control" a report of incontinence
    assert context("no feeling down there at all", "saddle_numbness") == CURRENT
    assert context("no feeling in my left foot", "numbness") == CURRENT
    assert context("I've lost control of my bowels", "bowel_incontinence") == CURRENT


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("what is cauda equina?", True),
        ("can sciatica cause bladder problems", True),
        ("What if my leg gives way", True),
        ("how long does sciatica last", True),
        ("My leg is numb?", True),
        ("I have numbness in my foot", False),
        ("when I sit my leg goes numb", False),
        ("Can't feel my foot", False),
        ("", False),
    ],
)
def test_the_message_is_flagged_as_a_question(text: str, asks: bool) -> None:
    assert analyse(text).is_question is asks


def test_broken_context_rules_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(
        "source: test\ncontext_rules:\n"
        "  - literal: nope\n    category: MAYBE\n    direction: FORWARD\n",
        encoding="utf-8",
    )
    with pytest.raises(ContextRulesError, match="rules.yml.*unknown category"):
        load_context_rules(path)
    path.write_text(
        "source: test\ncontext_rules:\n  - literal: no\n    category: NEGATED_EXISTENCE\n"
    )
    with pytest.raises(ContextRulesError, match="direction"):
        load_context_rules(path)
    path.write_text("context_rules: []\n")
    with pytest.raises(ContextRulesError, match="source"):
        load_context_rules(path)


def test_the_shipped_context_rules_load() -> None:
    rules, terminations = load_context_rules()
    assert len(rules) > 100
    assert "CONTRAST" in terminations["NEGATED_EXISTENCE"]


@pytest.mark.parametrize(
    "text, concept",
    [
        ("can sciatica affect my bladder?", "bladder_problem"),
        ("could a slipped disc mess with my bowels?", "bowel_problem"),
        ("can it make my leg give way", "leg_giving_way"),
    ],
)
def test_asking_whether_sciatica_can_affect_something_is_hypothetical(
    text: str, concept: str
) -> None:
    contexts = {f.concept: f.context for f in analyse(text).findings}
    assert contexts[concept] == "hypothetical"


@pytest.mark.parametrize(
    "text, concept",
    [
        ("i cant control my bladder. can sciatica cause that?", "urinary_incontinence"),
        ("my leg keeps giving way, can sciatica do that?", "leg_giving_way"),
    ],
)
def test_a_report_followed_by_a_question_stays_current(text: str, concept: str) -> None:
    contexts = {f.concept: f.context for f in analyse(text).findings}
    assert contexts[concept] == "current"


@pytest.mark.parametrize(
    "text",
    ["no its not getting weaker", "no, not getting weaker", "its not getting weaker"],
)
def test_a_denied_worsening_weakness_is_negated(text: str) -> None:
    weakness = [f for f in analyse(text).findings if f.concept == "marked_weakness"]
    assert weakness and all(f.context == "negated" for f in weakness)


def test_not_getting_better_does_not_negate_what_follows() -> None:
    contexts = {
        f.concept: f.context
        for f in analyse("no, not getting better, my leg keeps giving way").findings
    }
    assert contexts["leg_giving_way"] == "current"


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("I keep wetting myself; bowels are fine", "urinary_incontinence"),
        ("I keep wetting myself, but my bowels are normal", "urinary_incontinence"),
        ("no change in the numbness down there", "saddle_numbness"),
        ("my foot drags but otherwise everything is normal", "foot_drop"),
    ],
)
def test_fine_or_no_change_said_of_something_else_does_not_deny_a_red_flag(
    text: str, concept: str
) -> None:
    assert context(text, concept) == CURRENT


def _span(text: str, words: str, **options: bool):  # noqa: ANN202 - the public result type
    from bot import context_of_span

    start = text.index(words)
    return context_of_span(text, start, start + len(words), **options)


def test_context_of_span_reads_any_words_with_the_bots_rules() -> None:
    denied = _span("no hiccups at all", "hiccups")  # not a lexicon word
    assert (denied.negated, denied.hypothetical, denied.historical) == (True, False, False)
    assert denied.experiencer == "patient" and denied.assertion == NEGATED
    asked = _span("what is cauda equina?", "cauda equina")
    assert asked.hypothetical and not asked.negated and asked.assertion == HYPOTHETICAL
    past = _span("I used to have pins and needles in my feet", "pins and needles")
    assert past.historical and past.assertion == HISTORICAL
    now = _span("my left leg is numb", "numb")
    assert not (now.negated or now.hypothetical or now.historical)
    assert now.assertion == CURRENT


def test_context_of_span_says_whose_it_is() -> None:
    his = _span("my husband can't pee", "pee")
    assert (his.experiencer, his.who) == ("other", "my husband")
    family = _span("bowel cancer runs in my family", "bowel cancer")
    assert family.experiencer == "other" and family.historical


def test_a_clinical_note_speaks_of_its_patient_in_the_third_person() -> None:
    note = "She denies any cough or sputum production."
    as_message = _span(note, "cough")
    as_note = _span(note, "cough", pronouns_name_others=False)
    assert as_message.experiencer == "other"
    assert as_note.experiencer == "patient" and as_note.negated
    relative = _span("His mother had breast cancer.", "breast cancer", pronouns_name_others=False)
    assert relative.experiencer == "other"


def test_resolved_is_over_and_no_longer_there() -> None:
    gone = _span("the tingling went away", "tingling")
    assert gone.historical and gone.negated
    assert gone.assertion == HISTORICAL  # what the bot acts on, as for analyse()


def test_context_of_span_keeps_offsets_through_runs_of_spaces() -> None:
    text = "He did   not have any   complaints of CHEST PAIN."
    assert _span(text, "CHEST PAIN", pronouns_name_others=False).negated


@pytest.mark.parametrize(("start", "end"), [(5, 5), (-1, 3), (0, 99), (3, 4)])
def test_context_of_span_refuses_a_span_that_is_not_there(start: int, end: int) -> None:
    from bot import context_of_span

    with pytest.raises(ValueError):
        context_of_span("no   fever", start, end)


@pytest.mark.parametrize(
    ("text", "words", "negated"),
    [
        ("There is no increase in the EFFUSION.", "EFFUSION", False),
        ("She walked without difficulty and had NAUSEA.", "NAUSEA", False),
        ("The findings are not consistent with LYMPHOMA.", "LYMPHOMA", True),
        ("He had no overt signs or symptoms of INFECTION.", "INFECTION", True),
        ("1) HEMORRHOIDS 2) Normal terminal ileum", "HEMORRHOIDS", False),
        ("no history of heart disease who presents with CHEST PRESSURE", "CHEST PRESSURE", False),
    ],
)
def test_clinical_negation_follows_context_triggers_and_pseudo_triggers(
    text: str, words: str, negated: bool
) -> None:
    assert _span(text, words, pronouns_name_others=False).negated is negated
