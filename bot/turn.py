"""One owner of each turn: given the conversation's state and the message's understanding,
``decide`` returns what the bot says and the next state.

Plain Python, no Rasa: the action only loads the state from slots, calls :func:`decide` and
saves what comes back. Read it top to bottom:

1. a pending "delete everything?" is answered first;
2. red flags: those the message reports, and a yes (or "not sure") to the question the bot just
   asked; a correction takes flags away again, and says which;
3. once the level is urgent, crisis or emergency, every reply keeps what to do in view until the
   person says help is on the way: a wish to wait gets a clear "no, now, and why", fear a short
   human answer, and anything else its own answer plus a reminder;
4. otherwise the open question decides what the message is: a screening answer, a question to
   answer before going back to the screening, a request to stop ...;
5. with nothing open: symptoms start the screening, questions get answers from the documents.

The state is small and explicit (:class:`State`); it lives in Rasa slots, so the tracker store
keeps it and "forget me" deletes it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from bot import advice, summary
from bot.findings import AGE, DURATION, ONSET, SEVERITY, Finding
from bot.knowledge import answers as kb
from bot.knowledge import retrieval
from bot.messages import say, variants
from bot.triage import screening
from bot.triage.engine import concepts_of, flag_for, level_rank, max_level, rule_by_id
from bot.understanding import (
    BOT_CHALLENGE,
    CORRECTION,
    FEAR,
    FORGET,
    GETTING_HELP,
    GOODBYE,
    GREET,
    OFF_TOPIC,
    PUSHBACK,
    QUESTION,
    REPORT,
    RESUME,
    SMALL_TALK,
    STOP,
    SUMMARY,
    THANKS,
    WHAT_NOW,
    Understanding,
    negated_concepts,
)

IDLE, SCREENING, CONFIRMING, FORGETTING = "idle", "screening", "confirming", "forgetting"
ESCALATED = ("urgent", "crisis", "emergency")
IMMEDIATE = ("crisis", "emergency")
YES, NO, UNSURE, NOT_ASKED = "yes", "no", "unsure", "not_asked"
QUESTION_IDS: list[str] = [q.id for q in screening.questions()]
SINGLE_VALUED = (ONSET, DURATION, SEVERITY, AGE)
# Topics whose answers (recovery, rest, treatment at home) could read as leave to wait once the
# person has been told to get help: after an escalation such a question gets the advice.
WAITING_TOPICS = frozenset(
    {
        "recovery",
        "rest_and_activity",
        "treatment",
        "medication",
        "exercises",
        "alternative_therapies",
        "prevention",
        "nerve_glide",
        "cat_camel",
        "straight_leg_raise",
        "hip_cars",
        "dose",
    }
)
# How many findings a conversation keeps (the oldest go first).
MAX_FINDINGS = 200
# Words of a "yes/no" button: the same reading as anything typed.
BUTTONS = [
    {"title": "Yes", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
    {"title": "Not sure", "payload": "/unsure"},
]
ANSWER_INTENTS = {"affirm": YES, "deny": NO, "unsure": UNSURE}


@dataclass
class State:
    """What the conversation knows. ``level`` and ``flags`` are the slots triage_level and
    red_flags; the rest is kept together in one slot."""

    level: str | None = None
    flags: list[dict[str, Any]] = field(default_factory=list)  # id, level, reason, source ...
    phase: str = IDLE
    question: str | None = None  # the open screening question (or the one being confirmed)
    answers: dict[str, str] = field(default_factory=dict)  # question id -> yes/no/unsure/...
    screened: bool = False  # the screening reached its outcome
    announced: str | None = None  # the highest level the person has been told about
    help_on_way: bool = False  # the person said they are getting help
    reminders: int = 0
    unclear: int = 0  # answers in a row that did not answer the open question
    findings: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # pregnant, age, daily_life
    last_topic: str | None = None
    last_raised: list[str] = field(default_factory=list)  # flags the latest report raised
    before_forget: str | None = None
    recent: list[str] = field(default_factory=list)  # the bot's last texts

    KEPT = "conversation"

    @property
    def flag_ids(self) -> list[str]:
        return [f["id"] for f in self.flags]

    @property
    def escalated(self) -> bool:
        return self.announced in ESCALATED and self.level in ESCALATED

    @classmethod
    def from_slots(cls, slots: dict[str, Any]) -> State:
        kept = slots.get(cls.KEPT) if isinstance(slots.get(cls.KEPT), dict) else {}
        known = {f for f in cls.__dataclass_fields__} - {"level"}
        state = cls(**{k: v for k, v in kept.items() if k in known})
        state.level = slots.get("triage_level")
        ids = [i for i in slots.get("red_flags") or [] if isinstance(i, str)]
        by_id = {f["id"]: f for f in state.flags if isinstance(f, dict) and "id" in f}
        state.flags = []
        for flag_id in ids:
            try:
                state.flags.append(by_id.get(flag_id) or _flag(flag_id))
            except KeyError:  # a rule that no longer exists: keep its level, never lower it
                state.flags.append(
                    {
                        "id": flag_id,
                        "level": state.level or "urgent",
                        "category": "",
                        "reason": "",
                        "source": "",
                        "subject": None,
                    }
                )
        return state

    def to_slots(self) -> dict[str, Any]:
        kept = {k: v for k, v in asdict(self).items() if k not in ("level",)}
        return {
            "triage_level": self.level,
            "red_flags": self.flag_ids,
            self.KEPT: kept,
        }


@dataclass
class Turn:
    messages: list[dict[str, Any]]
    state: State
    forget: bool = False  # delete the whole conversation (confirmed)


def _flag(rule_id: str, subject: str | None = None) -> dict[str, Any]:
    return {**flag_for(rule_id).as_dict(), "subject": subject}


class _Out:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def text(self, text: str, **extra: Any) -> None:
        self.messages.append({"text": text, **extra})

    def extend(self, messages: list[dict[str, Any]]) -> None:
        self.messages.extend(messages)

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if "text" in m]


# --- the turn ---------------------------------------------------------------------------------


def decide(state: State, u: Understanding) -> Turn:
    """The bot's reply to one message and the conversation's next state."""
    s = replace(
        state,
        flags=list(state.flags),
        answers=dict(state.answers),
        findings=list(state.findings),
        facts={**state.facts, **u.facts},
        recent=list(state.recent),
    )
    out = _Out()

    if s.phase == FORGETTING:
        reply = _forget_answer(s, u, out)
        if reply is not None:
            return reply
    if u.has(FORGET):
        s.before_forget, s.phase = s.phase, FORGETTING
        if s.escalated and not s.help_on_way:
            _reminder(s, out)
        out.text(
            say("forget_confirm"),
            buttons=[
                {"title": say("forget_yes"), "payload": "/affirm"},
                {"title": say("forget_no"), "payload": "/deny"},
            ],
        )
        return _finish(s, out)

    _remember(s, u)
    answer = _answer_to_open_question(s, u)
    # Only the person's words take a red flag away, never the classifier's guess.
    correcting = u.has(CORRECTION)
    if correcting:
        # What the correction takes away first; a red flag in the same words still counts
        # ("no, you misunderstood, I DO have trouble peeing").
        said = _Out()
        reporting = bool(u.red_flags) or answer in (YES, UNSURE)
        _correct(s, u, said, reporting=reporting)
        if reporting:
            _raise_flags(s, u, answer)
            if _escalate(s, out, u):
                out.extend([m for m in said.messages if "buttons" not in m])
                _after_escalation_in_turn(s, u, answer, out)
                return _finish(s, out)
        out.extend(said.messages)
        return _finish(s, out)

    raised = _raise_flags(s, u, answer)
    was_escalated = s.escalated
    if u.has(PUSHBACK):
        s.help_on_way = False
    if _escalate(s, out, u):
        # The advice is the first thing said; then whatever else the message needs.
        _after_escalation_in_turn(s, u, answer, out)
        return _finish(s, out)
    if u.has(SUMMARY) and answer is None:
        out.text(clinician_summary(s))
        out.messages.append({"json_message": {"type": "summary"}})  # pages offer a download
        if s.escalated and not s.help_on_way:
            _reminder(s, out)
        elif s.phase == SCREENING:
            _ask(s, out, again=True)
        return _finish(s, out)
    if was_escalated and not s.help_on_way:
        _while_escalated(s, u, answer, raised, out)
        return _finish(s, out)
    _ordinary(s, u, answer, out)
    return _finish(s, out)


def _finish(s: State, out: _Out) -> Turn:
    """Never the same words three times in a row: a repeated text is said differently."""
    for message in out.messages:
        text = message.get("text")
        if text is None:
            continue
        if len(s.recent) >= 2 and s.recent[-1] == s.recent[-2] == text:
            message["text"] = text = "To say it once more: " + text
        s.recent = [*s.recent, text][-2:]
    return Turn(out.messages, s)


# --- reading the message against the state -----------------------------------------------------


def _remember(s: State, u: Understanding) -> None:
    """Keep what the person says about themselves; a denial takes an earlier finding away."""
    if not u.in_scope:
        return  # a shoulder or a knee is not part of the back-pain picture
    denied = negated_concepts(u)
    kept = [f for f in s.findings if (f["label"], f["concept"]) not in denied]
    new = [
        f
        for f in u.findings
        if f["context"] in ("current", "historical")
        or (f["context"] == "other_person" and f.get("assertion") == "current")
    ]
    # One onset, duration, severity and age: the latest said wins ("no, it came on gradually").
    single = {f["label"]: f for f in new if f["label"] in SINGLE_VALUED and not f.get("ago")}
    new = [f for f in new if f["label"] not in single or single[f["label"]] is f or f.get("ago")]
    kept = [f for f in kept if f["label"] not in single]
    s.findings = (kept + new)[-MAX_FINDINGS:]


def _answer_to_open_question(s: State, u: Understanding) -> str | None:
    """The answer to the question the bot just asked, typed or clicked, or None.

    What the message says about the question's own signs counts first. Plain yes / no / not sure
    wording counts when the message opens with it or says nothing else ("a bit" is a yes, but
    "ok I'm a bit scared" is fear, and "can't I go in the morning?" a question).
    """
    if s.phase not in (SCREENING, CONFIRMING) or s.question is None:
        return None
    value = u.answers.get(s.question)
    if value is not None:
        return value
    other = set(u.acts) - {REPORT}
    short = len(u.text.split()) <= 4
    if u.reply is not None and (u.reply_leads or (short and not other)):
        return u.reply
    if not other:
        return ANSWER_INTENTS.get(u.intent or "")
    return None


def _raise_flags(s: State, u: Understanding, answer: str | None) -> list[str]:
    """Add the red flags the person reported (and a yes to the open question); the new ids."""
    new: list[dict[str, Any]] = [{**f, "subject": u.subject} for f in u.red_flags]
    if answer is not None and s.question is not None:
        q = screening.question(s.question)
        if answer == YES and not set(q.rules) & set(u.red_flag_ids):
            new.append(_flag(q.on_yes))
        elif answer == UNSURE and q.if_unsure:
            new.append(_flag(q.if_unsure))
    raised: list[str] = []
    for flag in new:
        if flag["id"] not in s.flag_ids:
            s.flags.append(flag)
            raised.append(flag["id"])
        s.level = max_level(s.level, flag["level"])
    if raised:
        s.last_raised = raised
        s.help_on_way = False
    return raised


def _current_flags(s: State) -> list[dict[str, Any]]:
    return [f for f in s.flags if f["level"] == s.level] or s.flags


def _escalate(s: State, out: _Out, u: Understanding) -> bool:
    """The escalation message when the level rose above what the person was told."""
    if s.level not in ESCALATED or level_rank(s.announced) >= level_rank(s.level):
        return False
    flags = _current_flags(s)
    messages = advice.escalation_messages(s.level, flags)
    subject = next((f.get("subject") for f in flags if f.get("subject")), None)
    if subject:
        when = say(f"when.{s.level}")
        headline, _, rest = messages[0]["text"].partition("\n")
        about = say("about_someone", subject=subject, when=when)
        messages[0]["text"] = f"{headline}\n{about}\n{rest}"
    out.extend(messages)
    s.announced = s.level
    s.reminders = 0
    return True


def _advice_text(level: str) -> str:
    return " ".join(advice.level_advice(level)["advice"].split())


def _reminder(s: State, out: _Out) -> None:
    """What to do, in one line (the full advice was given when the level was reached)."""
    level = s.level if s.level in ESCALATED else "urgent"
    text = say("reminder", variant=s.reminders, advice=say(f"short_advice.{level}"))
    s.reminders = (s.reminders + 1) % variants("reminder")
    out.extend(advice.with_payload(text, s.level or "urgent", _current_flags(s)))


def _after_escalation_in_turn(s: State, u: Understanding, answer: str | None, out: _Out) -> None:
    if s.level in IMMEDIATE:
        was_screening = s.phase == SCREENING
        if was_screening:
            for qid in QUESTION_IDS:
                s.answers.setdefault(qid, NOT_ASKED)
            if answer is not None and s.question:
                s.answers[s.question] = answer
        s.phase, s.question = IDLE, None
        if u.has(QUESTION) and u.topic and answer is None and not u.red_flags:
            _answer_question(s, u, out)
        if was_screening:
            out.text(say("stopped_for_help"))
        return
    # Urgent: the screening goes on (or starts), because a sign that makes it an emergency may
    # not have been mentioned yet; not for an illness outside sciatica.
    if s.phase == CONFIRMING:
        s.phase, s.question = IDLE, None
    sciatica = all(f.get("category") != "outside_sciatica" for f in s.flags)
    if s.phase == IDLE and not s.screened and sciatica and u.symptomatic and u.in_scope:
        _start_screening(s, u, out, intro="screening_after_urgent")
        return
    if s.phase == SCREENING and answer is not None and s.question:
        s.answers[s.question] = answer
        _next_question(s, out)
    elif s.phase == SCREENING:
        _ask(s, out, again=True)


def _while_escalated(
    s: State, u: Understanding, answer: str | None, raised: list[str], out: _Out
) -> None:
    """After urgent, crisis or emergency advice: keep what to do in view, whatever is said."""
    level = s.level or "urgent"
    why = _current_flags(s)[0]["reason"] if s.flags else ""
    if u.has(GETTING_HELP):
        s.help_on_way = True
        out.text(say(f"getting_help.{level}"))
        return
    if u.has(PUSHBACK) or (u.topic in WAITING_TOPICS and not u.has(FEAR)):
        # "Should I rest it?", "will it get better by itself?" read as asking leave to wait.
        out.text(say(f"pushback.{level}", why=why, when=say(f"when.{level}")))
        out.extend(advice.with_payload(_advice_text(level), level, _current_flags(s)))
        return
    if u.has(FEAR):
        out.text(say("fear"))
        _reminder(s, out)
        return
    if u.has(WHAT_NOW):
        out.extend(advice.reminder_messages(level, _current_flags(s)))
        return
    if u.has(GOODBYE):
        out.text(say("goodbye_escalated", advice=_advice_text(level)))
        return
    if s.phase == SCREENING and s.question:
        _reminder(s, out)  # before the question, so the question is the last thing said
        _screening_turn(s, u, answer, out)
        return
    if u.has(QUESTION):
        _answer_question(s, u, out)
    elif u.has(REPORT) and s.phase == IDLE and not s.screened and level == "urgent":
        _reminder(s, out)
        _start_screening(s, u, out, intro="screening_after_urgent")
        return
    # Small talk, thanks, anything else: the reminder is the answer.
    _reminder(s, out)


# --- without an escalation --------------------------------------------------------------------


def _ordinary(s: State, u: Understanding, answer: str | None, out: _Out) -> None:
    if s.phase == CONFIRMING and s.question:
        q = s.question
        s.phase, s.question = IDLE, None
        if answer == NO:
            s.answers.setdefault(q, NO)
            out.text(say("confirm_no"))
            return
        # Anything else than an answer is read as a new message.
    if s.phase == SCREENING and s.question:
        _screening_turn(s, u, answer, out)
        return
    if u.has(RESUME):
        s.answers = {}
        s.screened = False
        _start_screening(s, u, out)
        return
    if u.has(STOP):
        out.text(say("ask_anything"))
        return
    if u.has(GREET) and not u.symptomatic and not u.has(QUESTION):
        out.text(say("greet"))
        return
    if u.has(GOODBYE) and not u.symptomatic:
        out.text(say("goodbye"))
        return
    if u.has(THANKS) and not u.symptomatic and not u.has(QUESTION):
        out.text(say("thanks"))
        return
    if u.has(BOT_CHALLENGE):
        out.text(say("bot_challenge"))
        return
    if u.has(REPORT) and not u.in_scope:
        out.text(say("out_of_scope_pain", place=_places(u) or "this pain"))
        return
    if u.has(QUESTION) or (u.topic and not u.has(REPORT)):
        _answer_question(s, u, out)
        if u.ask_about and not u.red_flags:
            _confirm(s, u.ask_about[0], out)
        elif u.symptomatic and not s.screened and s.phase == IDLE and u.in_scope:
            _start_screening(s, u, out)
        return
    if u.has(REPORT):
        if u.ask_about and not u.red_flags and not s.screened:
            _start_screening(s, u, out)
        elif s.screened:
            _summarise(s, u, out)
            out.text(say("resume_nothing_open"))
        else:
            _start_screening(s, u, out)
        return
    if u.has(SMALL_TALK):
        out.text(say("small_talk"))
        return
    if u.has(OFF_TOPIC) and not u.retrieved:
        out.text(say("off_topic"))
        return
    if u.intent in ANSWER_INTENTS or u.reply is not None:
        out.text("OK. " + kb.menu_text())
        return
    _fallback(s, u, out)


def _places(u: Understanding) -> str:
    return f"your {u.elsewhere}" if u.elsewhere else ""


def _fallback(s: State, u: Understanding, out: _Out) -> None:
    if not u.text.strip() or not any(ch.isalnum() for ch in u.text):
        out.text(say("empty") + "\n\n" + kb.menu_text())
        return
    if u.retrieved:
        out.extend(_retrieved_messages(u))
        return
    out.text(say("not_covered") + "\n\n" + kb.menu_text())


# --- screening --------------------------------------------------------------------------------


def _said(s: State) -> list[Finding]:
    """What the person said about their symptoms, corrections applied, for saying it back."""
    return [Finding.from_dict(f) for f in s.findings if not f.get("ago")]


def _summarise(s: State, u: Understanding, out: _Out) -> None:
    text = summary.summarise(_said(s))
    if text:
        out.text(text)


def _start_screening(
    s: State, u: Understanding, out: _Out, *, intro: str = "screening_intro"
) -> None:
    findings = [Finding.from_dict(f) for f in s.findings]
    for slot_or_id, yes in screening.prefill(findings, s.flag_ids).items():
        qid = _question_id(slot_or_id)
        s.answers.setdefault(qid, YES if yes else NO)
    for qid, value in u.answers.items():
        if value == NO:  # "no problems peeing" in the description answers the bladder question
            s.answers.setdefault(qid, NO)
    text = summary.summarise(_said(s))
    said = say(intro)
    out.text(f"{text} {said}" if text and intro == "screening_intro" else said)
    s.phase = SCREENING
    s.unclear = 0
    _next_question(s, out)


def _question_id(slot_or_id: str) -> str:
    for q in screening.questions():
        if slot_or_id in (q.id, q.slot):
            return q.id
    return slot_or_id


def _next_question(s: State, out: _Out) -> None:
    for qid in QUESTION_IDS:
        if qid not in s.answers:
            s.question = qid
            s.unclear = 0
            _ask(s, out)
            return
    s.phase, s.question = IDLE, None
    _outcome(s, out)


def _ask(s: State, out: _Out, *, again: bool = False, unclear: bool = False) -> None:
    q = screening.question(s.question or QUESTION_IDS[0])
    number = sum(1 for qid in QUESTION_IDS if qid in s.answers) + 1
    values = {"number": number, "total": len(QUESTION_IDS), "text": q.text}
    if unclear:
        key = "question_unclear" if s.unclear <= 1 else "question_unclear_again"
    else:
        key = "question_again" if again else "question"
    out.text(say(key, **values), buttons=list(BUTTONS))


def _screening_turn(s: State, u: Understanding, answer: str | None, out: _Out) -> None:
    if answer is not None:
        s.answers[s.question or ""] = answer
        if u.has(QUESTION) and u.topic:
            _answer_question(s, u, out)
        if s.level in IMMEDIATE:
            return
        _next_question(s, out)
        return
    if u.has(STOP) or u.has(GOODBYE):
        s.phase, s.question = IDLE, None
        leaving = say("stopped_leaving") if u.has(GOODBYE) else say("stopped_ask")
        out.text(f"{say('stopped')} {leaving}")
        return
    if u.has(QUESTION) or u.topic:
        _answer_question(s, u, out)
        _ask(s, out, again=True)
        return
    if u.has(BOT_CHALLENGE):
        out.text(say("bot_challenge"))
        _ask(s, out, again=True)
        return
    if u.has(GREET) or u.has(THANKS) or u.has(SMALL_TALK):
        _ask(s, out, again=True)
        return
    if u.has(RESUME):
        _ask(s, out, again=True)
        return
    s.unclear += 1
    _ask(s, out, unclear=True)


def _outcome(s: State, out: _Out) -> None:
    findings = [Finding.from_dict(f) for f in s.findings]
    result = screening.outcome(
        s.answers,
        findings,
        daily_life=bool(s.facts.get("daily_life")),
        age=s.facts.get("age"),
    )
    for flag_id in _flags_of_answers(s.answers):
        if flag_id not in s.flag_ids:
            s.flags.append(_flag(flag_id))
    level = max_level(s.level, result.level) or result.level
    s.level = level
    s.screened = True
    flags = [f for f in s.flags if f["level"] == level]
    reasons = [r for r in result.reasons if r not in {f["reason"] for f in flags}]
    out.extend(advice.outcome_messages(level, flags, reasons, result.sources))
    s.announced = max_level(s.announced, level)


def _flags_of_answers(answers: dict[str, str]) -> list[str]:
    ids: list[str] = []
    for q in screening.questions():
        value = answers.get(q.id)
        if value == YES:
            ids.append(q.on_yes)
        elif value == UNSURE and q.if_unsure:
            ids.append(q.if_unsure)
    return ids


def _confirm(s: State, question_id: str, out: _Out) -> None:
    q = screening.question(question_id)
    s.phase, s.question = CONFIRMING, question_id
    out.text(say("confirm_now", text=q.text), buttons=list(BUTTONS))


def clinician_summary(s: State, today: date | None = None) -> str:
    """What the person told the bot, to show a doctor: no diagnosis, and it says so."""
    lines = [say("summary.title", date=(today or date.today()).isoformat())]
    said = summary.summarise(_said(s))
    lines.append(
        said.replace("Here's what I understood: ", say("summary.reported") + " ")
        if said
        else say("summary.nothing")
    )
    for q in screening.questions():
        value = s.answers.get(q.id)
        if value in (YES, NO, UNSURE):
            lines.append(f"- {q.text.split('?')[0]}? {say('summary.' + value)}")
    if s.level:
        lines.append(say("summary.level", level=s.level.replace("_", " ")))
        for flag in s.flags[:5]:
            lines.append(f"- {flag['reason']}")
    lines.append(say("summary.footer"))
    return "\n".join(lines)


# --- corrections ------------------------------------------------------------------------------


def _correct(s: State, u: Understanding, out: _Out, *, reporting: bool = False) -> None:
    """Take away what the person says was wrong, say what changed, and go on with the questions.

    ``reporting``: the correction itself reports a red flag; then only what it names is taken
    away, never the flags of the last message by default.
    """
    denied = negated_concepts(u) | {
        (f["label"], f["concept"]) for f in u.findings if f["context"] == "other_person"
    }
    named = [f for f in s.flags if concepts_of_flag(f["id"]) & denied]
    removed = named or ([] if reporting else [f for f in s.flags if f["id"] in s.last_raised])
    old_level = s.level
    if not removed:
        if not reporting:
            out.text(say("correction_nothing"))
    else:
        gone = {f["id"] for f in removed}
        s.flags = [f for f in s.flags if f["id"] not in gone]
        s.last_raised = []
        concepts = set().union(*(concepts_of_flag(i) for i in gone))
        s.findings = [f for f in s.findings if (f["label"], f["concept"]) not in concepts]
        recheck = [q.id for q in screening.questions() if set(q.rules) & gone or q.on_yes in gone]
        for qid in recheck:
            s.answers.pop(qid, None)
        s.level = None
        for f in s.flags:
            s.level = max_level(s.level, f["level"])
        s.announced = s.level if level_rank(s.announced) > level_rank(s.level) else s.announced
        s.help_on_way = False
        what = "; ".join(_short_reason(f["reason"]) for f in removed[:3])
        text = say("correction_removed", what=what)
        if old_level != s.level and old_level in ESCALATED:
            text += " " + say("correction_level", old=old_level)
        out.text(text)
        if s.level in ESCALATED and s.flags:
            reasons = " ".join(f["reason"] for f in _current_flags(s)[:2])
            out.text(say("correction_still", reasons=reasons))
        if recheck:
            out.text(say("correction_check"))
            s.phase = SCREENING
            s.question = recheck[0]
            s.screened = False
            _ask(s, out)
            return
    if s.phase == SCREENING and s.question:
        _ask(s, out, again=True)
    elif not s.screened and s.level not in IMMEDIATE:
        s.phase = SCREENING
        _next_question(s, out)


def concepts_of_flag(flag_id: str) -> set[tuple[str, str]]:
    """The findings a red flag looks for, with its screening question's signs."""
    found = set(concepts_of(flag_id)) if rule_by_id(flag_id).match is not None else set()
    for q in screening.questions():
        if flag_id in q.rules or flag_id in (q.on_yes, q.if_unsure):
            found |= set(q.concepts)
    return found


def _short_reason(reason: str) -> str:
    first = re.split(r"(?<=[.!?])\s", reason.strip(), maxsplit=1)[0]
    return first.rstrip(".")


# --- answers ----------------------------------------------------------------------------------


def _answer_messages(answer: kb.Answer) -> list[dict[str, Any]]:
    sources = [
        {"title": x.title, "file_name": x.file_name, "document": x.doc_id} for x in answer.sources
    ]
    return [
        {"text": kb.render_text(answer)},
        {"json_message": {"type": "sources", "topic": answer.topic, "sources": sources}},
    ]


def _retrieved_messages(u: Understanding) -> list[dict[str, Any]]:
    found = retrieval.from_passage((u.retrieved or {})["passage"], (u.retrieved or {})["text"])
    return _answer_messages(found)


_MEDICINE_TOPICS = {"medication", "treatment", "injections"}


def _answer_question(s: State, u: Understanding, out: _Out) -> None:
    """Answer what was asked from the documents, naming the source; or say they don't cover it."""
    topic = u.topic
    found: kb.Answer | None = None
    if topic == "dose":
        found = kb.follow_up(s.last_topic, "dose") or kb.get_answer("exercises")
        topic = s.last_topic or "exercises"
    elif topic == "pregnancy" and s.last_topic and s.last_topic != "pregnancy":
        found = kb.follow_up(s.last_topic, "pregnancy")
    elif topic in kb.topics() and kb.fits(topic, u.focus):
        found = kb.get_answer(topic)
    if found is not None:
        out.extend(_answer_messages(found))
        s.last_topic = topic
    elif u.retrieved:
        out.extend(_retrieved_messages(u))
    elif u.focus and topic:
        out.text(say("not_covered_focus", focus=_join_or(u.focus)) + "\n\n" + kb.menu_text())
    else:
        out.text(say("not_covered") + "\n\n" + kb.menu_text())
    if s.facts.get("pregnant") and (topic in _MEDICINE_TOPICS or u.medicine):
        out.text(say("pregnancy_medicines"))


def _join_or(words: list[str]) -> str:
    words = words[:3]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# --- forgetting -------------------------------------------------------------------------------


def _forget_answer(s: State, u: Understanding, out: _Out) -> Turn | None:
    value = ANSWER_INTENTS.get(u.intent or "") or u.reply
    s.phase, s.before_forget = s.before_forget or IDLE, None
    if value == YES and not u.has(QUESTION):
        out.text(say("forgotten"))
        out.messages.append({"json_message": {"type": "forgotten"}})
        return Turn(out.messages, State(), forget=True)
    if value == NO:
        out.text(say("forget_cancelled"))
        if s.phase == SCREENING and s.question:
            _ask(s, out, again=True)
        elif s.escalated and not s.help_on_way:
            _reminder(s, out)
        return _finish(s, out)
    return None
