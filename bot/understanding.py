"""One reading of each message: everything the rest of the bot needs to know about it.

``understand(text, intent=...)`` runs the language layer (``bot.nlp``) and the red-flag engine
once and returns a plain, serialisable :class:`Understanding`:

* the findings, each with its context, and the numbers in them (weeks, 0-10, age);
* the red-flag assessment (level, flags with reason and source, what to ask about, and whose
  symptoms they are);
* how the message would answer each screening question (yes / no / unsure / nothing clear),
  so an answer is read the same way whichever question is open;
* what kind of message it is: a report, a question, a wish to wait, news that help is on the
  way, fear, a correction, a request to stop or to go on with the questions, small talk;
* the facts it gives about the person (pregnancy, age), and for a question the passage that
  fits it best.

The Rasa NLU component calls it once per message and puts the result in the parse data; the
actions read it from there. A button payload that skips NLU is read by the same function.
Nothing downstream analyses the text again.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from bot import checkin, paths
from bot.asking import asks_in_words, phrased_as_question, speaks_of_self
from bot.findings import (
    AGE,
    BODY_LOCATION,
    CLINICAL_SIGN,
    CURRENT,
    DURATION,
    HISTORICAL,
    HYPOTHETICAL,
    NEGATED,
    OTHER_PERSON,
    SEVERITY,
    SYMPTOM,
    Analysis,
    Finding,
)
from bot.knowledge import answers as kb
from bot.knowledge import retrieval
from bot.nlp import analyse
from bot.triage import screening
from bot.triage.engine import Assessment, assess, concepts_of, max_level, person_age, rules

# Kinds of message (``Understanding.acts``; a message can be several: a wish to wait that also
# asks a question).
REPORT = "report"  # describes symptoms
QUESTION = "question"
PUSHBACK = "pushback"  # wants to wait, rest, take painkillers, drive, see the GP later ...
GETTING_HELP = "getting_help"  # "I'm calling 999", "we're on our way to A&E"
FEAR = "fear"
WHAT_NOW = "what_now"  # "what should I do now?"
CORRECTION = "correction"  # "you misunderstood me"
RESUME = "resume"  # "ask me the safety questions again"
STOP = "stop"  # "stop", "I just want information"
FORGET = "forget"
GREET = "greet"
GOODBYE = "goodbye"
THANKS = "thanks"
BOT_CHALLENGE = "bot_challenge"
SMALL_TALK = "small_talk"
SUMMARY = "summary"  # "can I have a summary for my GP?"
OFF_TOPIC = "off_topic"
# After triage (bot/startback.py, bot/exercises.py, bot/checkin.py).
STARTBACK = "startback"  # "can I do the risk questions?"
EXERCISE_SESSION = "exercise_session"  # "let's do the exercises"
CHECKIN = "checkin"  # "check on me in 3 days"
CHECKIN_CANCEL = "checkin_cancel"  # "cancel the check-in"
CHECKIN_DUE = "checkin_due"  # the check-in's reminder came back (no words from the person)

# Intents of the classifier that name a kind of message; the words can add more.
_INTENT_ACTS = {
    "greet": GREET,
    "goodbye": GOODBYE,
    "thanks": THANKS,
    "bot_challenge": BOT_CHALLENGE,
    "chitchat": SMALL_TALK,
    "stop_screening": STOP,
    "correct_misunderstanding": CORRECTION,
    "forget_me": FORGET,
    "out_of_scope": OFF_TOPIC,
}
# What Rasa writes as the text of a message it sends itself (a reminder coming back:
# ``UserUttered.create_external``). Only that text counts: a message the person typed is never
# taken for one, whatever the classifier guesses.
EXTERNAL_PREFIX = "EXTERNAL: "
CHECKIN_MARK = EXTERNAL_PREFIX + checkin.REMINDER_INTENT
# What a button payload (which skips NLU) says in words.
PAYLOAD_WORDS = {"affirm": "yes", "deny": "no", "unsure": "not sure"}

YES, NO, UNSURE = screening.YES, screening.NO, screening.UNSURE
# Where the NLU component puts the understanding in the parse data.
UNDERSTANDING_KEY = "understanding"


@lru_cache(maxsize=1)
def _choices_data() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    data = paths.load_yaml("conversation/acts.yml")
    return {
        kind: [
            (value, re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE))
            for value, patterns in values.items()
        ]
        for kind, values in data["choices"].items()
    }


def _choices(text: str) -> dict[str, str]:
    """The first matching value of each kind of choice ("worse", "very_much") in the words."""
    plain = _plain(text)
    found: dict[str, str] = {}
    for kind, values in _choices_data().items():
        for value, pattern in values:
            if pattern.search(plain):
                found[kind] = value
                break
    return found


@lru_cache(maxsize=1)
def _acts_data() -> dict[str, re.Pattern[str]]:
    data = paths.load_yaml("conversation/acts.yml")
    return {
        name: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        for name, patterns in data["acts"].items()
    }


def _plain(text: str) -> str:
    """Lower case, straight quotes, apostrophes dropped, single spaces."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return " ".join(text.replace("'", "").split())


@dataclass
class Understanding:
    """What one message says, as the rest of the bot reads it (see the module docstring)."""

    text: str
    intent: str | None = None
    confidence: float = 0.0
    findings: list[dict[str, Any]] = field(default_factory=list)
    level: str | None = None  # the highest red-flag level the message reports
    red_flags: list[dict[str, str]] = field(default_factory=list)
    ask_about: list[str] = field(default_factory=list)  # screening questions worth asking
    subject: str | None = None  # whose red flags: None for the writer's own
    answers: dict[str, str | None] = field(default_factory=dict)  # question id -> answer
    acts: list[str] = field(default_factory=list)
    is_question: bool = False
    topic: str | None = None  # the topic the classifier asked about (ask_<topic>)
    retrieved: dict[str, Any] | None = None  # the best passage for a question
    facts: dict[str, Any] = field(default_factory=dict)  # pregnant, age
    symptomatic: bool = False  # says something about the person's own pain or symptoms
    in_scope: bool = True  # back pain, or leg symptoms that may come from the back
    limb_only: bool = False  # a leg, hip or foot alone: in scope if the back came up earlier
    elsewhere: str | None = None  # the part of the body named when it is not in scope
    reply: str | None = None  # yes / no / unsure in so many words, whatever was asked
    reply_leads: bool = False  # the message opens with that yes / no / not sure
    focus: list[str] = field(default_factory=list)  # what a question is about, in its words
    medicine: bool = False  # names a medicine or painkillers
    # After triage: "better" / "the same" / "worse" / "skip", item 9's scale ("very_much"), a
    # pain score 0-10, and the days a check-in request asks for.
    choices: dict[str, str] = field(default_factory=dict)
    score: int | None = None
    days: int | None = None

    def has(self, act: str) -> bool:
        return act in self.acts

    @property
    def red_flag_ids(self) -> list[str]:
        return [f["id"] for f in self.red_flags]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Understanding:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def finding_objects(self) -> list[Finding]:
        return [Finding.from_dict(f) for f in self.findings]


_AGO = re.compile(r"^\W*(ago|back|before|earlier)\b", re.IGNORECASE)


def _finding_dict(finding: Finding, text: str) -> dict[str, Any]:
    data = finding.as_dict()
    if finding.label == DURATION:
        data["weeks"] = screening.duration_weeks(finding.concept)
        # "cancer 6 years ago" says when something happened, not how long the pain has lasted
        data["ago"] = bool(_AGO.match(text[finding.end : finding.end + 12]))
    elif finding.label == SEVERITY:
        match = re.match(r"^(\d+(?:\.\d+)?)\s*/\s*10$", finding.concept.strip())
        data["score"] = float(match.group(1)) if match else None
    elif finding.label == AGE and finding.concept.isdigit():
        data["years"] = int(finding.concept)
    return data


# Body places that belong to the back, and places where pain can be referred from it. A leg or
# thigh alone is in scope (sciatica is often felt there first); a hip, groin, calf, knee, ankle
# or foot, or sore leg muscles, only when it could come from the back: with nerve-type feelings
# (shooting, numb, tingling, weak), wording that says it spreads ("down my leg"), a nerve or
# cauda equina sign, or back pain known from earlier in the conversation.
_BACK = {"lower_back", "back", "buttock", "saddle_area", "back_passage", "genitals"}
_REFERRED = {"hip", "groin", "thigh", "leg", "calf", "foot", "ankle", "knee"}
_SCIATIC_AREA = {"leg", "thigh"}
_LOCAL = re.compile(r"\b(muscles?|joints?|knees?|ankles?|shins?|tendons?|hamstrings?)\b", re.I)
_NERVE = {"shooting", "electric", "burning", "numbness", "tingling", "pins_and_needles", "weakness"}
_SPREADING = re.compile(
    r"\b(?:down|radiat\w*|spread\w*|shoot\w*|travel\w*|runs?|running|goes|going|into)\b"
    r"(?:\s+\w+){0,3}?\s+(?:legs?|thighs?|calf|calves|foot|feet|knees?|toes?|ankles?)\b",
    re.IGNORECASE,
)
# Parts of the body the bot does not cover when the back and legs are not mentioned.
_ELSEWHERE = re.compile(
    r"\b(shoulders?|neck|arms?|elbows?|wrists?|hands?|fingers?|thumbs?|head|jaw|teeth|tooth|"
    r"ears?|eyes?|knees?|ankles?|joints|chest|stomach|tummy|belly|abdomen)\b",
    re.IGNORECASE,
)
_SCIATICA_WORDS = re.compile(r"\b(sciatica|sciatic|slipped disc|disc|spine|spinal|nerve)\b", re.I)
IN_SCOPE, OUT_OF_SCOPE, LIMB_ONLY = "in_scope", "out_of_scope", "limb_only"
# Signs that tie a leg, hip or foot to the back: nerve and cauda equina red flags ("my leg keeps
# giving way", "can't feel my bladder"); not a fall or a fever.
_NERVE_CATEGORIES = ("cauda_equina", "neurological", "bilateral")


@lru_cache(maxsize=1)
def _nerve_signs() -> frozenset[str]:
    return frozenset(
        concept
        for rule in rules()
        if rule.category in _NERVE_CATEGORIES and rule.match is not None
        for label, concept in concepts_of(rule.id)
        if label == CLINICAL_SIGN
    )


def _theirs_now(finding: Finding) -> bool:
    return finding.context == OTHER_PERSON and getattr(finding, "assertion", None) == CURRENT


def _scope(findings: list[Finding], text: str) -> tuple[bool, str]:
    """(says something about the person's own symptoms, how it sits with the bot's scope).

    ``LIMB_ONLY``: pain in a leg, hip or foot with nothing that ties it to the back; in scope
    when the conversation is already about back pain (the turn model knows that).
    """
    # The writer's own symptoms, or someone else's current ones ("asking for my son: pain down
    # his leg"); not family history.
    own = [f for f in findings if f.context in (CURRENT, HISTORICAL) or _theirs_now(f)]
    places = {f.concept for f in own if f.label == BODY_LOCATION}
    feelings = {f.concept for f in own if f.label == SYMPTOM}
    signs = [f for f in own if f.label == CLINICAL_SIGN]
    symptomatic = bool(places or feelings or signs)
    nerve_signs = any(f.concept in _nerve_signs() for f in signs)
    if not symptomatic:
        return False, IN_SCOPE
    if places & _BACK or _SCIATICA_WORDS.search(text):
        return True, IN_SCOPE
    nerve = bool(feelings & _NERVE) or bool(_SPREADING.search(text))
    if places & _REFERRED:
        if nerve or nerve_signs:
            return True, IN_SCOPE
        # "my left leg hurts" can be sciatica; a knee, an ankle or sore leg muscles are not
        if places & _SCIATIC_AREA and not places - _SCIATIC_AREA and not _LOCAL.search(text):
            return True, IN_SCOPE
        return True, LIMB_ONLY
    if _ELSEWHERE.search(text):
        return True, OUT_OF_SCOPE  # a shoulder, a neck, a wrist ... on its own
    return True, IN_SCOPE if not places or nerve or signs else OUT_OF_SCOPE


def _elsewhere(text: str, findings: list[Finding]) -> str | None:
    match = _ELSEWHERE.search(text)
    if match:
        return match.group(0).lower()
    places = [f.text for f in findings if f.label == BODY_LOCATION]
    return places[0].lower() if places else None


_PREGNANT = re.compile(
    r"\b(i'?m|i am|im|currently|being)\s+(\d+\s+weeks?\s+)?pregnant\b|\bpregnancy\b.*\b(i|my)\b"
    r"|\b(my|the) (baby|bump)\b|\bweeks pregnant\b|\bexpecting (a baby|twins)\b",
    re.IGNORECASE,
)
_NOT_PREGNANT = re.compile(r"\b(not|never been|n't) pregnant\b", re.IGNORECASE)


def _facts(analysis: Analysis) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if _PREGNANT.search(analysis.text) and not _NOT_PREGNANT.search(analysis.text):
        facts["pregnant"] = True
    age = person_age(analysis.text, analysis.findings)
    if age is not None:
        facts["age"] = age
    if screening.affects_daily_life(analysis.text):
        facts["daily_life"] = True
    return facts


def _acts(text: str, intent: str | None, analysis: Analysis, symptomatic: bool) -> list[str]:
    plain = _plain(text)
    patterns = _acts_data()
    acts: list[str] = []
    for name, pattern in patterns.items():
        if pattern.search(plain):
            acts.append(name)
    # "I'm not going to hospital" or "can he drive me instead of calling an ambulance?" is not
    # news that help is on the way.
    if GETTING_HELP in acts and (PUSHBACK in acts or analysis.is_question or "?" in text):
        acts.remove(GETTING_HELP)
    from_intent = _INTENT_ACTS.get(intent or "")
    if from_intent in (FORGET, CORRECTION):
        from_intent = None  # deleting or taking back what was said needs the person's words
    if from_intent == BOT_CHALLENGE and len(text.split()) > 12:
        from_intent = None  # "are you a bot?" is short; a long message is about something else
    if from_intent and from_intent not in acts:
        # Small talk the classifier saw counts only when the words hold nothing else.
        if from_intent not in (GREET, THANKS, GOODBYE, SMALL_TALK, OFF_TOPIC, BOT_CHALLENGE) or (
            not symptomatic
        ):
            acts.append(from_intent)
    asks = analysis.is_question or phrased_as_question(text)
    if asks and QUESTION not in acts:
        acts.append(QUESTION)
    # A request the classifier placed on a topic, without a question mark or a question word:
    # "exercises for sciatic pain" asks for the exercises; nobody's symptoms are told.
    if (
        (intent or "").startswith("ask_")
        and QUESTION not in acts
        and (not symptomatic or not speaks_of_self(text))
    ):
        acts.append(QUESTION)
        asks = True
    if symptomatic and not asks:
        acts.append(REPORT)
    return acts


_MEDICINE = re.compile(
    r"\b(medicines?|medications?|meds|drugs?|painkillers?|pain killers?|tablets?|pills?|"
    r"ibuprofen|paracetamol|acetaminophen|tylenol|advil|aspirin|naproxen|codeine|tramadol|"
    r"gabapentin|pregabalin|amitriptyline|nsaids?|steroids?|diclofenac|muscle relaxants?)\b",
    re.IGNORECASE,
)
# Words that say nothing about what a question is about.
_NOT_FOCUS = frozenset(
    """a about after again all also am an and any anything are as at be because been being
    best better bad can cause causes could did do does doing done during for from get gets
    getting go going good got had has have having help how i if im in is it its itself just
    know like long make many me might more most much my need needs no normal not of off ok on
    one or other out over people person please really should so some something sometimes still
    such take than that the their them then there these they thing things this those time to
    too true up us use used very want was way we well were what whats when where which while
    who why will with without work would you your yours back leg legs pain painful hurt hurts
    hurting sciatica sciatic nerve nerves lower left right side bad worse cure cured treat
    treated treatment ache aches day days week weeks month months year years doctor doctors
    feel feeling explain tell describe information info learn actually exactly kind sort type
    question questions ask asking mean means meaning till until ever even else try
    say says said ive dont cant doesnt isnt youre thats myself yourself someone anyone""".split()
)


def _focus(text: str) -> list[str]:
    """The words a question turns on ("should I use heat or ice?" -> heat, ice)."""
    words = re.findall(r"[a-z][a-z\-]+", text.lower().replace("\u2019", "'"))
    found: list[str] = []
    for word in words:
        if word.endswith("ly") and len(word) > 4:
            continue  # "normally", "usually", "really": how, not what
        if len(word) > 2 and word not in _NOT_FOCUS and word not in found:
            found.append(word)
    return found[:4]


def _topic_asked(
    intent: str | None, classified: str | None, text: str, focus: list[str]
) -> str | None:
    """The topic a question is about.

    The classifier's, unless its answer does not speak to the question's focus and another
    topic's everyday words (data/answers/asked_with.yml) are in the question and its answer does
    ("what is the outlook for sciatica?" read as what sciatica is is about recovery). A question
    asked inside a report ("it's been a month, how long till this gets better?") gets the topic
    its words name. A question the classifier found outside the documents keeps no topic.
    """
    if intent in _UNPLACED:
        return classified
    if classified is not None and classified not in kb.topics():
        return classified
    counts = kb.asked_about(text)
    if classified is not None and kb.fits(classified, focus):
        # a phrase of another topic ("back to work") outweighs a topic none of whose words
        # were used
        phrased = [t for t in kb.asked_in_phrases(text) if kb.fits(t, focus)]
        if phrased and not counts.get(classified) and classified not in phrased:
            return phrased[0]
        return classified
    if classified is None:
        # inside a report the words must say it plainly: the topic's name, or two of its words
        named = kb.asked_about(text, names_only=True)
        counts = {t: n for t, n in counts.items() if n >= 2 or named.get(t)}
    ranked = sorted(
        (t for t in kb.topics() if counts.get(t) and kb.fits(t, focus)),
        key=lambda t: -counts[t],
    )
    return ranked[0] if ranked else classified


# What the classifier says of a question it could not place on a topic.
_UNPLACED = frozenset({"out_of_scope", "nlu_fallback"})


def _hedged_counts(analysis: Analysis, assessment: Assessment) -> Assessment:
    """A red flag said with hedging counts at its full level.

    "My foot sort of catches on the floor sometimes? maybe getting worse" ends a hedge with a
    question mark, which reads like a question; when the person speaks of themselves and asks
    nothing (no question word anywhere), a sign read as hypothetical is taken as reported.
    """
    if not assessment.unconfirmed or not speaks_of_self(analysis.text):
        return assessment
    if asks_in_words(analysis.text):
        return assessment
    hypothetical = {(f.label, f.concept) for f in analysis.findings if f.context == HYPOTHETICAL}
    promoted = [f for f in assessment.unconfirmed if concepts_of(f.id) & hypothetical]
    if not promoted:
        return assessment
    level = assessment.level
    for flag in promoted:
        level = max_level(level, flag.level)
    return assessment.merged(Assessment(level, promoted))


def understand(text: str, *, intent: str | None = None, confidence: float = 0.0) -> Understanding:
    """The one reading of a message (see the module docstring). Never raises on bad text."""
    if not isinstance(text, str):
        text = ""
    if text.startswith("/"):  # a button payload: "/affirm"
        intent = intent or text[1:].split("{")[0].strip() or None
        if intent in PAYLOAD_WORDS:
            text = PAYLOAD_WORDS[intent]
    due = text.strip() == CHECKIN_MARK and intent == checkin.REMINDER_INTENT
    if due:
        text = ""  # no words from the person
    analysis = analyse(text)
    assessment: Assessment = _hedged_counts(analysis, assess(analysis))
    findings = analysis.findings
    symptomatic, scope = _scope(findings, analysis.text)
    answers = screening.answers_for(analysis, assessment)
    acts = _acts(analysis.text, intent, analysis, symptomatic)
    if due:
        acts = [CHECKIN_DUE]
    topic = intent[4:] if intent and intent.startswith("ask_") else None
    if intent == "exercise_dose":
        topic = "dose"
    focus = _focus(analysis.text) if QUESTION in acts else []
    if QUESTION in acts and topic != "dose":
        topic = _topic_asked(intent, topic, analysis.text, focus)
    retrieved = None
    if QUESTION in acts:
        found = retrieval.answer_unknown(analysis.text)
        if found is not None:
            retrieved = {"passage": found.passages[0], "text": found.text}
    return Understanding(
        text=analysis.text,
        intent=intent,
        confidence=float(confidence or 0.0),
        findings=[_finding_dict(f, analysis.text) for f in findings],
        level=assessment.level,
        red_flags=[f.as_dict() for f in assessment.red_flags],
        ask_about=list(assessment.screen),
        subject=getattr(assessment, "subject", None),
        answers=answers,
        acts=acts,
        is_question=QUESTION in acts,
        topic=topic,
        retrieved=retrieved,
        facts=_facts(analysis),
        symptomatic=symptomatic,
        in_scope=scope == IN_SCOPE,
        limb_only=scope == LIMB_ONLY,
        elsewhere=_elsewhere(analysis.text, findings) if scope != IN_SCOPE else None,
        reply=screening.plain_answer(analysis),
        reply_leads=screening.leads_with_answer(analysis.text),
        focus=focus,
        medicine=bool(_MEDICINE.search(analysis.text)),
        choices=_choices(analysis.text),
        score=checkin.pain_score(analysis.text),
        days=checkin.delay_days(analysis.text),
    )


def negated_concepts(understanding: Understanding) -> set[tuple[str, str]]:
    return {(f["label"], f["concept"]) for f in understanding.findings if f["context"] == NEGATED}


def warm_up() -> None:
    """Build the spaCy pipeline and load every rule and answer now, not on the first message."""
    understand("warm up: what is sciatica?")
    _acts_data()
