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
5. with nothing open: symptoms start the screening, questions get answers from the documents;
6. after a screening with no red flag: the STarT Back questions and their plan, the guided
   exercise session and check-ins (never once the person has been told to get help).

The state is small and explicit (:class:`State`); it lives in Rasa slots, so the tracker store
keeps it and "forget me" deletes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from bot import advice, checkin, exercises, startback, summary
from bot.findings import AGE, DURATION, ONSET, SEVERITY, Finding
from bot.knowledge import answers as kb
from bot.knowledge import retrieval
from bot.messages import say, variants
from bot.triage import screening
from bot.triage.engine import concepts_of, flag_for, level_rank, max_level, rule_by_id
from bot.understanding import (
    BOT_CHALLENGE,
    CHECKIN,
    CHECKIN_CANCEL,
    CHECKIN_DUE,
    CORRECTION,
    EXERCISE_SESSION,
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
    STARTBACK,
    STOP,
    SUMMARY,
    THANKS,
    WHAT_NOW,
    Understanding,
    negated_concepts,
)

IDLE, SCREENING, CONFIRMING, FORGETTING = "idle", "screening", "confirming", "forgetting"
# After triage: the STarT Back offer and its questions, the exercise session, a check-in.
OFFERING, STARTBACK_ITEMS, EXERCISING, CHECKING = "offering", "startback", "exercising", "checkin"
PLAN_PHASES = (OFFERING, STARTBACK_ITEMS, EXERCISING, CHECKING)
# Levels after which STarT Back, exercises and check-ins are offered.
PLAN_LEVELS = ("self_care", "routine")
# Requests that would read as leave to wait once the person has been told to get help.
PLAN_REQUESTS = (STARTBACK, EXERCISE_SESSION, CHECKIN)
MAX_TREND = 60
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
    startback: dict[str, str] = field(default_factory=dict)  # STarT Back item id -> answer
    risk: dict[str, Any] | None = None  # STarT Back result: total, psychosocial, risk, date
    exercise_log: dict[str, str] = field(default_factory=dict)  # exercise id -> better/...
    checkin: dict[str, Any] | None = None  # days, asked (date), scheduled (not fired yet)
    trend: list[dict[str, Any]] = field(default_factory=list)  # date, pain 0-10, life

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
    # A check-in to schedule ({"action": "schedule", "days": 3}) or cancel ({"action":
    # "cancel"}); the action turns it into Rasa's ReminderScheduled / ReminderCancelled.
    reminder: dict[str, Any] | None = None


SCHEDULE, CANCEL = "schedule", "cancel"


def _flag(rule_id: str, subject: str | None = None) -> dict[str, Any]:
    return {**flag_for(rule_id).as_dict(), "subject": subject}


class _Out:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.reminder: dict[str, Any] | None = None

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
        startback=dict(state.startback),
        exercise_log=dict(state.exercise_log),
        trend=[dict(e) for e in state.trend],
        checkin=dict(state.checkin) if state.checkin else None,
    )
    out = _Out()

    if u.has(CHECKIN_DUE):
        # The check-in's reminder, not the person's words.
        _checkin_due(s, out)
        return _finish(s, out)
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

    if not _plan_words(s, u):
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
        else:
            _ask_open(s, out)
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
    return Turn(out.messages, s, reminder=out.reminder)


# --- reading the message against the state -----------------------------------------------------


def _remember(s: State, u: Understanding) -> None:
    """Keep what the person says about themselves; a denial takes an earlier finding away."""
    if not _in_scope(s, u):
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


_BACK_CONCEPTS = frozenset({"lower_back", "back", "buttock", "sciatica"})


def _in_scope(s: State, u: Understanding) -> bool:
    """Back pain, or a leg, hip or foot in a conversation that is already about the back."""
    if u.in_scope:
        return True
    return u.limb_only and any(f["concept"] in _BACK_CONCEPTS for f in s.findings)


def _plan_words(s: State, u: Understanding) -> bool:
    """An answer to a STarT Back, exercise or check-in question, or a request for one: its
    numbers and words ("check on me in 3 days", "4", "worse") say nothing about the pain's
    duration, severity or triggers, so they are not kept as findings (red flags still count)."""
    answering = s.phase in (STARTBACK_ITEMS, EXERCISING, CHECKING)
    return answering or any(u.has(act) for act in (*PLAN_REQUESTS, CHECKIN_CANCEL))


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
    _end_plan(s, out)
    return True


def _end_plan(s: State, out: _Out) -> None:
    """Once the person is told to get help: no questionnaire, exercise or check-in goes on."""
    if s.phase in PLAN_PHASES:
        s.phase, s.question = IDLE, None
    if s.checkin:
        s.checkin = None
        out.reminder = {"action": CANCEL}


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
    if u.has(QUESTION) and u.topic and answer is None and u.topic not in WAITING_TOPICS:
        # "... will an epidural help?", "... could this be labour?": answered under the advice
        # (asking leave to wait, rest or treat it at home is answered by the advice itself)
        _answer_question(s, u, out)
    sciatica = all(f.get("category") != "outside_sciatica" for f in s.flags)
    if s.phase == IDLE and not s.screened and sciatica and u.symptomatic and _in_scope(s, u):
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
    if u.has(CHECKIN_CANCEL):
        _cancel_checkin(s, out)
        _reminder(s, out)
        return
    waiting = u.topic in WAITING_TOPICS or any(u.has(act) for act in PLAN_REQUESTS)
    if u.has(PUSHBACK) or (waiting and not u.has(FEAR)):
        # "Should I rest it?", "will it get better by itself?", "let's do the exercises" or
        # "check on me in 3 days" read as asking leave to wait.
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
    if _plan_turn(s, u, out):
        return
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
    if _plan_request(s, u, out):
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
    if u.has(REPORT) and not _in_scope(s, u):
        out.text(say("out_of_scope_pain", place=_places(u) or "this pain"))
        return
    if u.has(QUESTION) or (u.topic and not u.has(REPORT)):
        _answer_question(s, u, out)
        if u.ask_about and not u.red_flags:
            _confirm(s, u.ask_about[0], out)
        elif u.symptomatic and not s.screened and s.phase == IDLE and _in_scope(s, u):
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
    values = {
        "number": number,
        "total": len(QUESTION_IDS),
        "text": q.about(summary.someone_else(_said(s))),
    }
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
    if _aside(s, u, out, lambda: _ask(s, out, again=True)):
        return
    s.unclear += 1
    _ask(s, out, unclear=True)


def _aside(s: State, u: Understanding, out: _Out, ask_again: Callable[[], None]) -> bool:
    """A question, "are you a bot?" or small talk while the bot waits for an answer (screening,
    STarT Back, the exercise session): answered, then the open question asked again. True when
    the message was one of these."""
    if u.has(QUESTION) or u.topic:
        _answer_question(s, u, out)
    elif u.has(BOT_CHALLENGE):
        out.text(say("bot_challenge"))
    elif u.has(REPORT) and not u.red_flags:
        # more about the symptoms ("my foot has started tingling too"): kept, and said back
        heard = summary.described(Finding.from_dict(f) for f in u.findings)
        out.text(say("noted", what=heard) if heard else say("noted_plain"))
    elif not (u.has(GREET) or u.has(THANKS) or u.has(SMALL_TALK) or u.has(RESUME)):
        return False
    ask_again()
    return True


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
    if level in PLAN_LEVELS and not s.risk:
        s.phase = OFFERING
        out.text(
            say("startback.offer", tool=startback.tool()["name"]),
            buttons=[
                {"title": say("startback.offer_yes"), "payload": "/affirm"},
                {"title": say("startback.offer_no"), "payload": "/deny"},
            ],
        )


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
    said = summary.described(_said(s))
    lines.append(f"{say('summary.reported')} {said}." if said else say("summary.nothing"))
    for q in screening.questions():
        value = s.answers.get(q.id)
        if value in (YES, NO, UNSURE):
            lines.append(f"- {q.text.split('?')[0]}? {say('summary.' + value)}")
    if s.level:
        lines.append(say("summary.level", level=s.level.replace("_", " ")))
        for flag in s.flags[:5]:
            lines.append(f"- {flag['reason']}")
    if s.risk:
        lines.append(
            say(
                "summary.startback",
                tool=startback.tool()["name"],
                risk=s.risk["risk"],
                total=s.risk["total"],
                psychosocial=s.risk["psychosocial"],
                date=s.risk.get("date", ""),
            )
        )
        for found in startback.items():
            value = s.startback.get(found.id)
            if value is not None:
                asked = found.text.split(":")[0].rstrip("?") + "?"  # without item 9's choices
                lines.append(f"- {found.number}. {asked} {_answer_words(found, value)}")
    if s.trend:
        lines.append(say("summary.checkins"))
        for entry in s.trend:
            lines.append("- " + _trend_entry(entry))
    lines.append(say("summary.footer"))
    return "\n".join(lines)


# --- after triage: STarT Back, the exercise session, check-ins -------------------------------


def _today() -> str:
    return date.today().isoformat()


def _reply(u: Understanding) -> str | None:
    """Yes / no / not sure to a question of the bot's, typed or clicked (as in the screening)."""
    other = set(u.acts) - {REPORT, FEAR}
    short = len(u.text.split()) <= 4
    if u.reply is not None and (u.reply_leads or (short and not other)):
        return u.reply
    if not other:
        return ANSWER_INTENTS.get(u.intent or "")
    return None


def _choice(u: Understanding, kind: str) -> str | None:
    """A choice ("worse", "very_much") unless the message is really a question about it."""
    value = u.choices.get(kind)
    if value is not None and u.has(QUESTION) and len(u.text.split()) > 3:
        return None
    return value


def _ask_open(s: State, out: _Out) -> None:
    """Ask again whatever question is open."""
    if s.phase == SCREENING and s.question:
        _ask(s, out, again=True)
    elif s.phase == STARTBACK_ITEMS and s.question:
        _ask_item(s, out, again=True)
    elif s.phase == EXERCISING and s.question:
        _ask_exercise(s, out, again=True)
    elif s.phase == CHECKING and s.question:
        _ask_checkin(s, out, again=True)


def _plan_turn(s: State, u: Understanding, out: _Out) -> bool:
    """A message while a STarT Back offer or question, an exercise or a check-in is open."""
    if s.phase == OFFERING:
        s.phase, s.question = IDLE, None
        reply = _reply(u)
        if reply == YES or u.has(STARTBACK):
            _start_startback(s, out)
            return True
        if reply == NO:
            out.text(say("startback.declined"))
            return True
        return False  # anything else is read as a new message
    if s.phase not in PLAN_PHASES or not s.question:
        return False
    if u.has(CHECKIN_CANCEL) and s.phase != CHECKING:
        _cancel_checkin(s, out)
        _ask_open(s, out)
        return True
    if s.phase == STARTBACK_ITEMS:
        _startback_turn(s, u, out)
    elif s.phase == EXERCISING:
        _exercise_turn(s, u, out)
    else:
        _checkin_turn(s, u, out)
    return True


def _plan_request(s: State, u: Understanding, out: _Out) -> bool:
    """ "Cancel the check-in", "check on me in 3 days", "let's do the exercises", STarT Back."""
    if u.has(CHECKIN_CANCEL):
        _cancel_checkin(s, out)
        return True
    if not any(u.has(act) for act in PLAN_REQUESTS):
        return False
    if s.level in ESCALATED:
        # Help is on the way: still nothing that could read as leave to wait.
        level = s.level or "urgent"
        out.text(say("plan_not_now", advice=say(f"short_advice.{level}")))
        return True
    if u.has(CHECKIN):
        _schedule_checkin(s, u, out)
    elif not s.screened:
        # The exercises and the STarT Back questions come after the safety questions.
        s.answers, s.screened = {}, False
        _start_screening(s, u, out, intro="startback.screening_first")
    elif u.has(EXERCISE_SESSION):
        _start_exercises(s, out)
    else:
        _start_startback(s, out)
    return True


# STarT Back


def _start_startback(s: State, out: _Out) -> None:
    s.startback = {}
    s.phase = STARTBACK_ITEMS
    tool = startback.tool()
    out.text(say("startback.intro", tool=tool["name"], period=tool["period"]))
    _next_item(s, out)


def _item_buttons(item: startback.Item) -> list[dict[str, str]]:
    if item.scale:
        return [{"title": v.title, "payload": v.title.lower()} for v in startback.scale()]
    return [dict(b) for b in BUTTONS[:2]]  # yes and no: the tool has no "not sure"


def _ask_item(s: State, out: _Out, *, again: bool = False, note: str | None = None) -> None:
    item = startback.item(s.question or startback.item_ids()[0])
    values = {"number": item.number, "total": len(startback.item_ids()), "text": item.text}
    text = say("startback.question_again" if again else "startback.question", **values)
    out.text(f"{note} {text}" if note else text, buttons=_item_buttons(item))


def _next_item(s: State, out: _Out) -> None:
    for item_id in startback.item_ids():
        if item_id not in s.startback:
            s.question = item_id
            _ask_item(s, out)
            return
    s.phase, s.question = IDLE, None
    result = startback.score(s.startback)
    s.risk = {**result.as_dict(), "date": _today()}
    plan = startback.plan(result.risk)
    tool = startback.tool()
    lines = [
        say(
            "startback.result",
            title=plan.title,
            total=result.total,
            psychosocial=result.psychosocial,
        ),
        plan.advice,
        "Source: " + advice.short_source(plan.source, limit=4),
        say("startback.credit", copyright=tool["copyright"]),
        say("not_a_diagnosis"),
    ]
    out.text("\n".join(lines))
    buttons = [{"title": say("checkin.button_week"), "payload": say("checkin.payload", days=7)}]
    if result.risk == startback.LOW:
        buttons.insert(0, {"title": say("exercises.button"), "payload": say("exercises.payload")})
    out.text(say("startback.next"), buttons=buttons)


def _item_answer(item: startback.Item, u: Understanding) -> str | None:
    if item.scale:
        return _choice(u, "bother")
    reply = _reply(u)
    return reply if reply in (YES, NO, UNSURE) else None


def _startback_turn(s: State, u: Understanding, out: _Out) -> None:
    item = startback.item(s.question or "")
    value = _item_answer(item, u)
    if value == UNSURE:
        _ask_item(s, out, note=say("startback.closer"))
        return
    if value is not None:
        s.startback[item.id] = value
        if u.has(QUESTION) and u.topic:
            _answer_question(s, u, out)
        _next_item(s, out)
        return
    if u.has(STOP) or u.has(GOODBYE):
        s.phase, s.question = IDLE, None
        out.text(say("startback.stopped"))
        return
    if _aside(s, u, out, lambda: _ask_item(s, out, again=True)):
        return
    note = "startback.unclear_scale" if item.scale else "startback.unclear"
    _ask_item(s, out, note=say(note))


def _answer_words(item: startback.Item, value: str) -> str:
    if item.scale:
        titles = {v.value: v.title for v in startback.scale()}
        return titles.get(value, value) + "."
    return say(f"summary.{value}") if value in (YES, NO, UNSURE) else value


# The exercise session


def _start_exercises(s: State, out: _Out) -> None:
    s.exercise_log = {}
    s.phase = EXERCISING
    out.text(exercises.text("intro"))
    s.question = exercises.exercise_ids()[0]
    _ask_exercise(s, out)


def _ask_exercise(s: State, out: _Out, *, again: bool = False, note: str | None = None) -> None:
    ids = exercises.exercise_ids()
    found = exercises.exercise(s.question or ids[0])
    lines = [
        say("exercises.title", number=ids.index(found.id) + 1, total=len(ids), name=found.name)
    ]
    if again:
        lines[0] = say("exercises.again", name=found.name)
    if found.steps:
        lines += [f"{n}. {step}" for n, step in enumerate(found.steps, start=1)]
    else:
        lines.append(say("exercises.no_steps"))
    lines.append(say("exercises.dose", dose=found.dose))
    lines.append("Source: " + advice.short_source(found.source, limit=2))
    lines.append(say("exercises.ask"))
    text = "\n".join(lines)
    buttons = [
        {"title": say(f"exercises.{value}"), "payload": say(f"exercises.{value}").lower()}
        for value in ("better", "same", "worse", "skip")
    ]
    out.text(f"{note}\n{text}" if note else text, buttons=buttons)


def _exercise_turn(s: State, u: Understanding, out: _Out) -> None:
    current = s.question or ""
    change = _choice(u, "change")
    if change is not None:
        s.exercise_log[current] = change
        note = None
        if change == exercises.WORSE:
            source = advice.short_source(exercises.text("worse_source"))
            note = f"{exercises.text('worse')}\nSource: {source}"
        ids = exercises.exercise_ids()
        following = ids[ids.index(current) + 1 :] if current in ids else []
        if following:
            s.question = following[0]
            if note:
                out.text(note)
                out.text(say("exercises.after_worse"))
            _ask_exercise(s, out)
            return
        if note:
            out.text(note)
        _end_exercises(s, out)
        return
    if u.has(STOP) or u.has(GOODBYE):
        _end_exercises(s, out, stopped=True)
        return
    if _aside(s, u, out, lambda: _ask_exercise(s, out, again=True)):
        return
    _ask_exercise(s, out, again=True, note=say("exercises.unclear"))


def _end_exercises(s: State, out: _Out, *, stopped: bool = False) -> None:
    s.phase, s.question = IDLE, None
    names = {e.id: e.name for e in exercises.exercises()}
    done = [
        f"- {names[i]}: {say('exercises.logged.' + v)}"
        for i, v in s.exercise_log.items()
        if i in names
    ]
    lines = [say("exercises.stopped" if stopped else "exercises.done")]
    if done:
        lines.append(say("exercises.log"))
        lines += done
    worse = exercises.WORSE in s.exercise_log.values()
    lines.append(say("exercises.end_worse" if worse else "exercises.end"))
    out.text("\n".join(lines))


# Check-ins


def _days_text(days: float) -> str:
    whole = int(days)
    if whole % 7 == 0 and whole >= 7:
        weeks = whole // 7
        return "a week" if weeks == 1 else f"{weeks} weeks"
    return "a day" if whole == 1 else f"{whole} days"


def _reported_pain(s: State) -> int | None:
    """The latest 0-10 score the person gave while describing their pain."""
    for finding in reversed(s.findings):
        score = finding.get("score") if finding.get("label") == SEVERITY else None
        if isinstance(score, (int, float)) and 0 <= score <= 10:
            return int(round(score))
    return None


def _schedule_checkin(s: State, u: Understanding, out: _Out) -> None:
    days = u.days
    if days is None:
        out.text(
            say("checkin.when"),
            buttons=[
                {
                    "title": say("checkin.button_days", days=3),
                    "payload": say("checkin.payload", days=3),
                },
                {"title": say("checkin.button_week"), "payload": say("checkin.payload", days=7)},
            ],
        )
        return
    if not 1 <= days <= checkin.max_days():
        out.text(say("checkin.too_far", most=_days_text(checkin.max_days())))
        return
    s.checkin = {"days": days, "asked": _today(), "scheduled": True}
    if not s.trend:
        pain = _reported_pain(s)
        if pain is not None:
            s.trend.append({"date": _today(), "pain": pain, "life": None})
    out.reminder = {"action": SCHEDULE, "days": days}
    out.text(say("checkin.scheduled", when=_days_text(days)))


def _cancel_checkin(s: State, out: _Out) -> None:
    if s.checkin and s.checkin.get("scheduled"):
        out.text(say("checkin.cancelled"))
    else:
        out.text(say("checkin.none"))
    s.checkin = None
    out.reminder = {"action": CANCEL}


def _checkin_due(s: State, out: _Out) -> None:
    if not s.checkin or not s.checkin.get("scheduled"):
        return  # cancelled, or the conversation was deleted: say nothing
    if s.level in ESCALATED:
        s.checkin = None
        if not s.help_on_way:
            _reminder(s, out)
        return
    if s.phase not in (IDLE, OFFERING):
        # In the middle of something: come back in an hour.
        out.reminder = {"action": SCHEDULE, "days": 1 / 24}
        return
    s.checkin = {**s.checkin, "scheduled": False}
    s.phase, s.question = CHECKING, "pain"
    out.text(say("checkin.hello", when=_days_text(s.checkin["days"])))
    _ask_checkin(s, out)


def _ask_checkin(s: State, out: _Out, *, again: bool = False, note: str | None = None) -> None:
    step = s.question or "pain"
    text = say(f"checkin.ask_{step}")
    if again:
        text = say("checkin.again", text=text)
    if note:
        text = f"{note} {text}"
    if step == "life":
        buttons = [
            {"title": say(f"exercises.{v}"), "payload": say(f"exercises.{v}").lower()}
            for v in ("better", "same", "worse")
        ]
        out.text(text, buttons=buttons)
    elif step == "signs":
        out.text(text, buttons=list(BUTTONS))
    else:
        out.text(text)


def _checkin_turn(s: State, u: Understanding, out: _Out) -> None:
    step = s.question
    if step == "pain" and u.score is not None and not u.has(QUESTION):
        s.trend = [*s.trend, {"date": _today(), "pain": u.score, "life": None}][-MAX_TREND:]
        s.question = "life"
        _ask_checkin(s, out)
        return
    change = _choice(u, "change") if step == "life" else None
    if change in exercises.CHANGES and s.trend:
        s.trend[-1]["life"] = change
        s.question = "signs"
        _ask_checkin(s, out)
        return
    reply = _reply(u) if step == "signs" else None
    if reply == NO:
        s.phase, s.question = IDLE, None
        _checkin_result(s, out)
        return
    if reply in (YES, UNSURE):
        # Something new: the safety questions again, one sign at a time.
        s.phase, s.question = IDLE, None
        s.answers, s.screened = {}, False
        _start_screening(s, u, out, intro="checkin.rescreen")
        return
    if u.has(STOP) or u.has(GOODBYE):
        s.phase, s.question = IDLE, None
        out.text(say("checkin.stopped"))
        return
    if u.has(QUESTION) or u.topic:
        _answer_question(s, u, out)
        _ask_checkin(s, out, again=True)
        return
    _ask_checkin(s, out, note=say("checkin.unclear"))


def _checkin_result(s: State, out: _Out) -> None:
    today = date.today()
    status = checkin.trend_status(s.trend, today)
    lines: list[str] = []
    line = checkin.trend_line(s.trend)
    if line.count("\u2192"):
        lines.append(say("checkin.trend", line=line))
    if status in (checkin.WORSE, checkin.ASSESS):
        s.level = max_level(s.level, "routine")
        s.announced = max_level(s.announced, "routine")
    first = date.fromisoformat(s.trend[0]["date"]) if s.trend else today
    weeks = max(1, (today - first).days // 7)
    key = {
        checkin.WORSE: ("checkin.worse", "worse_source"),
        checkin.ASSESS: ("checkin.assess", "no_improvement_source"),
        checkin.IMPROVING: ("checkin.improving", "settling_source"),
    }.get(status, ("checkin.settling", "settling_source"))
    lines.append(say(key[0], weeks=weeks))
    lines.append("Source: " + advice.short_source(checkin.source(key[1]), limit=3))
    lines.append(say("checkin.safety"))
    out.text("\n".join(lines))
    days = int((s.checkin or {}).get("days") or 7)
    out.text(
        say("checkin.again_offer"),
        buttons=[
            {
                "title": say("checkin.button_again", when=_days_text(days)),
                "payload": say("checkin.payload", days=days),
            },
            {"title": say("checkin.button_stop"), "payload": say("checkin.payload_stop")},
        ],
    )


def _trend_entry(entry: dict[str, Any]) -> str:
    parts = [str(entry.get("date", ""))]
    if isinstance(entry.get("pain"), int):
        parts.append(say("summary.pain", pain=entry["pain"]))
    if entry.get("life"):
        parts.append(say("summary.life", life=say(f"exercises.{entry['life']}").lower()))
    return ", ".join(parts)


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
    elif s.phase in PLAN_PHASES:
        _ask_open(s, out)
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
        {
            "json_message": {
                "type": "sources",
                "topic": answer.topic,
                "kind": answer.kind,
                "sources": sources,
            }
        },
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
        planned = {"action": CANCEL} if s.checkin else None  # no check-in after "forget me"
        return Turn(out.messages, State(), forget=True, reminder=planned)
    if value == NO:
        out.text(say("forget_cancelled"))
        if s.phase == SCREENING and s.question:
            _ask(s, out, again=True)
        elif s.escalated and not s.help_on_way:
            _reminder(s, out)
        else:
            _ask_open(s, out)
        return _finish(s, out)
    return None
