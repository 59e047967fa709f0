"""Conversation-level behaviour, independent of Rasa: what the bot remembers and says.

The Rasa actions (``actions/actions.py``) call these functions with plain values taken from the
tracker and turn the returned :class:`Reply` into messages and slot events. Everything here can be
tested without a running Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from bot import advice, summary
from bot.findings import Analysis, Finding
from bot.knowledge import answers as kb
from bot.knowledge import retrieval
from bot.nlp import analyse
from bot.triage import screening
from bot.triage.engine import LEVELS, Assessment, RedFlag, assess, max_level
from bot.triage.state import update

SCREENING_SLOTS: list[str] = [q.slot for q in screening.questions()]
IMMEDIATE = ("emergency", "crisis")
# How many findings the conversation keeps (the oldest are dropped first).
MAX_FINDINGS = 200

YES, NO, UNSURE, NOT_ASKED = "yes", "no", "unsure", "not_asked"
# Intents that interrupt the screening rather than answer its question (the form's free-text
# mapping excludes them too, see domain.yml).
INTERRUPTIONS = frozenset(
    {
        "stop_screening",
        "forget_me",
        "correct_misunderstanding",
        "bot_challenge",
        "greet",
        "goodbye",
        "thanks",
        "chitchat",
        "out_of_scope",
        "exercise_dose",
    }
)


# A message phrased as a question: a question mark, a question word, an auxiliary verb first,
# or an auxiliary verb before its subject anywhere ("no but will I need surgery").
_QUESTION = re.compile(
    r"\?|\b(?:what|whats|how|hows|why|when|where|who|which)\b"
    r"|^\W*(?:can|could|should|would|will|is|are|am|do|does|did|may|might|shall|have|has)\b"
    r"|\b(?:can|could|should|would|will|is|are|do|does|did|may|might|shall)\s+"
    r"(?:i|it|you|we|this|that|they|he|she|there)\b",
    re.IGNORECASE,
)


def phrased_as_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


def answers_the_question(intent: str | None, text: str | None = None) -> bool:
    """Whether a message sent while a screening question is open is an answer to it.

    Interruptions are not answers. A message the classifier took for a question about a topic
    is an answer all the same when it is not phrased as a question and its words answer clearly:
    "never had cancer" names a topic but answers "Have you ever had cancer?".
    """
    if intent in INTERRUPTIONS:
        return False
    if (intent or "").startswith("ask_"):
        return text is not None and not phrased_as_question(text) and screening.clear_answer(text)
    return True


def rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


@dataclass
class Reply:
    messages: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str, **extra: Any) -> Reply:
        self.messages.append({"text": text, **extra})
        return self


@dataclass
class TriageState:
    """What the conversation knows about the person's red flags and symptoms."""

    level: str | None = None
    flags: list[str] = field(default_factory=list)
    reasons: list[dict[str, str]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    SLOTS = {
        "level": "triage_level",
        "flags": "red_flags",
        "reasons": "triage_reasons",
        "findings": "findings",
    }

    @classmethod
    def from_slots(cls, slots: dict[str, Any]) -> TriageState:
        return cls(
            level=slots.get("triage_level"),
            flags=list(slots.get("red_flags") or []),
            reasons=list(slots.get("triage_reasons") or []),
            findings=list(slots.get("findings") or []),
        )

    def to_slots(self) -> dict[str, Any]:
        return {slot: getattr(self, attr) for attr, slot in self.SLOTS.items()}

    def changed_slots(self, before: TriageState) -> dict[str, Any]:
        now, then = self.to_slots(), before.to_slots()
        return {slot: value for slot, value in now.items() if value != then[slot]}

    def finding_objects(self) -> list[Finding]:
        return [Finding.from_dict(f) for f in self.findings]

    def reasons_for(self, flag_ids: list[str]) -> list[dict[str, str]]:
        return [r for r in self.reasons if r["id"] in flag_ids]


def _reason(flag: RedFlag) -> dict[str, str]:
    return {"id": flag.id, "level": flag.level, "reason": flag.reason, "source": flag.source}


def _with_assessment(
    state: TriageState, assessment: Assessment, *, correction: bool, analysis: Analysis
) -> TriageState:
    level, flags = update(
        state.level, state.flags, assessment, correction=correction, analysis=analysis
    )
    known = {r["id"]: r for r in state.reasons}
    for flag in assessment.red_flags:
        known.setdefault(flag.id, _reason(flag))
    reasons = [known[f] for f in flags if f in known]
    return replace(state, level=level, flags=list(flags), reasons=reasons)


def after_message(
    state: TriageState, *, text: str, intent: str | None, requested_slot: str | None
) -> TriageState:
    """The triage state after one user message, whatever intent NLU predicted.

    The message goes through the detector; while a screening question is open, the answer to it
    counts as well (a "yes" to the bladder question is a bladder red flag even without words the
    lexicon knows). The level only rises, unless the person corrects a misunderstanding.
    """
    analysis = analyse(text)
    assessment = assess(analysis)
    if requested_slot in SCREENING_SLOTS and answers_the_question(intent, text):
        answer = screening.interpret_answer(
            screening.question_for_slot(requested_slot).id, analysis, intent
        )
        assessment = assessment.merged(answer.assessment)
    new = _with_assessment(
        state,
        assessment,
        correction=intent == "correct_misunderstanding",
        analysis=analysis,
    )
    kept = [f.as_dict() for f in analysis.findings]
    new.findings = (state.findings + kept)[-MAX_FINDINGS:]
    return new


# --- red flags ------------------------------------------------------------------------------


def _escalation(state: TriageState, announced: str | None) -> Reply:
    """The escalation message for the current level, if the person hasn't had it yet."""
    reply = Reply()
    if state.level is None or rank(state.level) < rank("urgent"):
        return reply
    if rank(announced) >= rank(state.level):
        return reply
    flags = [r for r in state.reasons if r["level"] == state.level] or state.reasons
    reply.messages.extend(advice.escalation_messages(state.level, flags))
    reply.slots["announced_level"] = state.level
    return reply


def _skip_remaining(answers: dict[str, Any]) -> dict[str, Any]:
    return {slot: NOT_ASKED for slot in SCREENING_SLOTS if answers.get(slot) is None}


def red_flag_reply(
    state: TriageState, *, announced: str | None, answers: dict[str, Any], in_screening: bool
) -> Reply:
    """Emergency first and plain; the bot stops screening after an emergency or a crisis."""
    reply = _escalation(state, announced)
    if not reply.messages:
        # Already told at this level: say it again briefly rather than carry on as if nothing.
        reply.messages.extend(advice.reminder_messages(state.level, state.reasons))
    if state.level in IMMEDIATE:
        reply.slots.update(_skip_remaining(answers))
        reply.say(advice.still_here())
    return reply


# --- symptoms and screening ----------------------------------------------------------------


def symptom_summary(state: TriageState, *, answers: dict[str, Any]) -> Reply:
    """Say back what was understood, and pre-fill screening answers already given."""
    reply = Reply()
    latest = _latest_message_findings(state)
    text = summary.summarise(latest) or summary.summarise(state.finding_objects())
    if text:
        reply.say(text + " " + advice.screening_intro())
    else:
        reply.say(advice.screening_intro())
    prefilled = screening.prefill(state.finding_objects())
    for slot, value in prefilled.items():
        if answers.get(slot) is None:
            reply.slots[slot] = YES if value else NO
    return reply


def _latest_message_findings(state: TriageState) -> list[Finding]:
    return state.finding_objects()[-20:]


def screening_question(slot: str, answers: dict[str, Any]) -> list[dict[str, Any]]:
    question = screening.question_for_slot(slot)
    asked = sum(1 for s in SCREENING_SLOTS if answers.get(s) is not None) + 1
    return [
        {
            "text": f"({asked}/{len(SCREENING_SLOTS)}) {question.text}",
            "buttons": [
                {"title": "Yes", "payload": "/affirm"},
                {"title": "No", "payload": "/deny"},
                {"title": "Not sure", "payload": "/unsure"},
            ],
        }
    ]


def screening_step(
    state: TriageState,
    *,
    slot: str,
    value: Any,
    text: str,
    intent: str | None,
    announced: str | None,
    answers: dict[str, Any],
) -> Reply:
    """Validate one screening answer. Free text goes through the same detector."""
    question = screening.question_for_slot(slot)
    if value is None or not answers_the_question(intent, text):
        # Nothing was taken from this message for the open question: leave it to the rules.
        return Reply()
    if value == NOT_ASKED:
        answer_value = value
    else:
        # Read from what was written, not only from the intent the slot mapping used: the
        # words "no just the right leg" decide, whatever the classifier made of them.
        answer_value = screening.interpret_answer(question.id, analyse(text), intent).value
    reply = Reply()
    if answer_value not in (YES, NO, UNSURE, NOT_ASKED):
        reply.say("Sorry, I didn't catch that. Please answer yes, no or not sure.")
        reply.slots[slot] = None
        return reply
    reply.slots[slot] = answer_value
    escalation = _escalation(state, announced)
    reply.messages.extend(escalation.messages)
    reply.slots.update(escalation.slots)
    if state.level in IMMEDIATE:
        answers = {**answers, slot: answer_value}
        reply.slots.update(_skip_remaining(answers))
        if escalation.messages:
            reply.say(advice.still_here())
    return reply


def screening_result(
    state: TriageState,
    *,
    answers: dict[str, Any],
    announced: str | None,
    texts: list[str] | None = None,
) -> Reply:
    """The outcome once screening is over: level, what to do, and why (with sources)."""
    reply = Reply()
    if state.level in IMMEDIATE:
        # Whoever raised the emergency has already said so, and that the questions stopped.
        if rank(announced) < rank(state.level):
            reply = _escalation(state, announced)
            reply.say(advice.stopped_screening())
        return reply
    result = screening.outcome(answers, state.finding_objects(), texts or [])
    level = max_level(state.level, result.level) or result.level
    flags = [r for r in state.reasons if r["level"] == level]
    reply.messages.extend(advice.outcome_messages(level, flags, result.reasons, result.sources))
    reply.slots["triage_level"] = level
    reply.slots["announced_level"] = max_level(announced, level)
    return reply


def stop_screening_reply(in_screening: bool, intent: str | None = None) -> list[dict[str, Any]]:
    return [{"text": advice.stop_screening_text(in_screening, leaving=intent == "goodbye")}]


def correction_reply(state: TriageState) -> list[dict[str, Any]]:
    return [{"text": advice.correction_text(state.level, state.reasons)}]


# --- answers ----------------------------------------------------------------------------------


def _answer_messages(answer: kb.Answer) -> list[dict[str, Any]]:
    sources = [
        {"title": s.title, "file_name": s.file_name, "document": s.doc_id} for s in answer.sources
    ]
    return [
        {"text": kb.render_text(answer)},
        {"json_message": {"type": "sources", "topic": answer.topic, "sources": sources}},
    ]


FOLLOW_UPS = {"exercise_dose": "dose"}

# Button answers for "is this happening to you now?": plain sentences, so a "yes" goes through
# the same detector as anything the person types.
YES_NOW = {
    "bladder": "Yes, I have new problems with my bladder",
    "bowel": "Yes, I have new problems with my bowels",
    "saddle": "Yes, I have numbness between my legs",
    "both_legs": "Yes, I have symptoms in both legs",
    "weakness": "Yes, my leg weakness is getting worse",
    "fever": "Yes, I have a fever",
    "cancer": "Yes, I have had cancer",
    "trauma": "Yes, this started after a bad fall or accident",
}


def check_questions(text: str) -> list[dict[str, Any]]:
    """Ask rather than guess: a red flag mentioned as a question gets "is this happening to you?".

    "Can sciatica affect my bladder?" is answered as a question, then the bot asks whether it is
    happening to the person now, with a "yes" that goes through the detector like typed text.
    """
    wanted = assess(analyse(text)).screen
    messages: list[dict[str, Any]] = []
    for question_id in wanted[:1]:
        question = screening.question(question_id)
        messages.append(
            {
                "text": f"Is this happening to you now? {question.text}",
                "buttons": [
                    {"title": "Yes", "payload": YES_NOW[question_id]},
                    {"title": "No", "payload": "/deny"},
                ],
            }
        )
    return messages


ESCALATED = ("urgent", "crisis", "emergency")


def what_now_reply(state: TriageState | None, text: str) -> Reply | None:
    """After an urgent, crisis or emergency message, "what should I do now?" (or "can it wait?")
    gets that advice again, not a general answer: the advice is what to do now."""
    if state is None or state.level not in ESCALATED or not advice.asks_what_to_do_now(text):
        return None
    flags = [r for r in state.reasons if r["level"] == state.level] or state.reasons
    reply = Reply()
    reply.messages.extend(advice.reminder_messages(state.level, flags))
    return reply


def answer(
    *, intent: str | None, text: str, last_topic: str | None, state: TriageState | None = None
) -> Reply:
    escalated = what_now_reply(state, text)
    if escalated is not None:
        return escalated
    reply = Reply()
    topic = intent[4:] if intent and intent.startswith("ask_") else None
    found: kb.Answer | None = None
    if intent in FOLLOW_UPS:
        found = kb.follow_up(last_topic, FOLLOW_UPS[intent])
        if found is None:
            found = kb.get_answer("exercises")
    elif topic == "pregnancy" and last_topic and last_topic != "pregnancy":
        found = kb.follow_up(last_topic, "pregnancy")
    if found is None and topic in kb.topics():
        found = kb.get_answer(topic)
    if found is None:
        return fallback(text=text, intent=intent, in_screening=False)
    reply.messages.extend(_answer_messages(found))
    reply.messages.extend(check_questions(text))
    reply.slots["last_topic"] = topic or last_topic
    return reply


def fallback(
    *, text: str, intent: str | None, in_screening: bool, state: TriageState | None = None
) -> Reply:
    """A retrieved passage when one clearly fits, else an honest "not covered" and the menu."""
    escalated = what_now_reply(state, text)
    if escalated is not None:
        return escalated
    reply = Reply()
    if in_screening:
        return reply.say(advice.screening_nudge())
    if intent in ("affirm", "deny", "unsure"):
        return reply.say("OK. " + kb.menu_text())
    if intent == "out_of_scope":
        reply.messages.append({"response": "utter_out_of_scope"})
        return reply
    if not text.strip() or not any(ch.isalnum() for ch in text):
        return reply.say(advice.empty_message_text() + "\n\n" + kb.menu_text())
    found = retrieval.answer_unknown(text)
    if found is not None:
        reply.messages.extend(_answer_messages(found))
        return reply
    return reply.say(advice.not_covered_text() + "\n\n" + kb.menu_text())


# --- privacy ----------------------------------------------------------------------------------


def forget_confirmation() -> list[dict[str, Any]]:
    return [
        {
            "text": (
                "Do you want me to delete this whole conversation, including everything you've "
                "told me about your symptoms? This can't be undone."
            ),
            "buttons": [
                {"title": "Yes, delete it", "payload": "/affirm"},
                {"title": "No, keep it", "payload": "/deny"},
            ],
        }
    ]


def forgotten() -> list[dict[str, Any]]:
    """The confirmation, and a payload that tells channels (the chat page) to clear their copy."""
    return [
        {
            "text": (
                "Done: I've deleted our conversation. If you write again, we start afresh. "
                "Take care."
            )
        },
        {"json_message": {"type": "forgotten"}},
    ]
