"""Conversation evaluation: scripted multi-turn conversations played against the running bot.

The conversations in ``eval/conversations/*.yml`` are written from personas (a frightened person,
someone who wants to wait, a parent writing about a child, someone who types answers instead of
clicking, ...), independently of the bot's rules and never used for training. Each one is played
over the REST channel (``POST /webhooks/rest/webhook``), the slots are read after every turn from
``GET /conversations/<id>/tracker``, and every expectation is checked from outside, the way a
person (or a clinician reading the transcript) would see it.

The invariants a conversation exercises (``INVARIANTS``) give the table: for each, the share of
the conversations exercising it that kept it, and which conversation failed at which turn.

    python -m scripts.eval_conversations                  # starts the servers, plays everything
    python -m scripts.eval_conversations --url http://localhost:5005   # a running bot
        (needs RASA_JWT_SECRET, or --token with an admin JWT)
    python -m scripts.eval_conversations --only wait- --verbose

``run(target)`` returns the results as a dict and ``render_markdown(results)`` the table, for
``make eval``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = ROOT / "eval" / "conversations"

INVARIANTS: dict[int, str] = {
    1: "A current red flag, however it is written (hedged, misspelt, about someone else), "
    "raises the level at once and says what to do",
    2: "After an escalation the advice stays in view: wanting to wait is never approved",
    3: "An emergency outside sciatica is recognised and sent to the right help now",
    4: "Questions, negations, past history and family history add no red flag",
    5: "A question gets an answer with its source, or an honest 'the documents don't cover it'",
    6: "Ordinary sciatica is screened before any self-care and ends at self-care or routine",
    7: "A typed screening answer counts the same as a button",
    8: "No identical bot message three times in a row",
}

PERSONAS: dict[str, str] = {
    "frightened": "a frightened person",
    "sceptic": "a sceptic who wants to wait",
    "parent": "a parent describing a child",
    "partner": "a partner describing their husband or wife",
    "rambler": "someone rambling with typos and no punctuation",
    "questioner": "someone who only asks questions",
    "pregnant": "a pregnant woman",
    "older_cancer": "an older person with past cancer",
    "hedger": "someone who hedges",
    "corrector": "someone who corrects the bot",
    "typer": "someone who types the screening answers instead of clicking",
    "other_emergency": "someone with an emergency that is not sciatica",
    "ordinary": "someone with ordinary sciatica",
}

# Triage levels in order (over-triage is acceptable, so checks are "at least" / "at most").
LEVEL_ORDER = ("self_care", "routine", "urgent", "crisis", "emergency")
AT_LEAST = ("urgent", "emergency", "crisis")
AT_MOST = ("self_care", "routine")
ADVICE_KINDS = ("emergency", "urgent", "crisis")
CLICK_TITLES = ("Yes", "No", "Not sure")
SCREENING_TITLES = {"yes", "no", "not sure"}

EXPECTATION_KEYS = {
    "level_at_least": str,
    "level_at_most": str,
    "red_flags_nonempty": bool,
    "red_flags_unchanged": bool,
    "advice": str,
    "not_permission_to_wait": bool,
    "answers_question": bool,
    "screening_question": bool,
    "mentions_any": list,
    "mentions_none": list,
}

# Which expectations can show that a conversation exercises an invariant (validation only: a
# conversation that claims an invariant must check something that could fail it).
EXERCISED_BY: dict[int, tuple[str, ...]] = {
    1: ("level_at_least",),
    2: ("not_permission_to_wait", "advice"),
    3: ("level_at_least", "advice"),
    4: ("red_flags_unchanged", "red_flags_nonempty"),
    5: ("answers_question",),
    6: ("screening_question", "level_at_most"),
    7: ("screening_question", "level_at_least", "level_at_most"),
}

MIN_TURNS, MAX_TURNS = 3, 10


# --- loading and validation -------------------------------------------------------------------


class ConversationError(ValueError):
    """A malformed conversation file: the message names the file and the conversation."""


@dataclass
class Turn:
    user: str | None = None
    click: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    id: str
    persona: str
    invariants: list[int]
    turns: list[Turn]
    source: str = ""
    note: str = ""


def _fail(where: str, problem: str) -> ConversationError:
    return ConversationError(f"{where}: {problem}")


def _parse_expect(where: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(where, "expect must be a mapping")
    for key, value in raw.items():
        if key not in EXPECTATION_KEYS:
            raise _fail(where, f"unknown expectation {key!r}")
        if not isinstance(value, EXPECTATION_KEYS[key]):
            raise _fail(where, f"{key} must be a {EXPECTATION_KEYS[key].__name__}")
    if raw.get("level_at_least", "urgent") not in AT_LEAST:
        raise _fail(where, f"level_at_least must be one of {AT_LEAST}")
    if raw.get("level_at_most", "routine") not in AT_MOST:
        raise _fail(where, f"level_at_most must be one of {AT_MOST}")
    if raw.get("advice", "urgent") not in ADVICE_KINDS:
        raise _fail(where, f"advice must be one of {ADVICE_KINDS}")
    for key in ("mentions_any", "mentions_none"):
        words = raw.get(key, ["x"])
        if not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise _fail(where, f"{key} must be a non-empty list of words")
    for key in ("red_flags_unchanged", "not_permission_to_wait", "answers_question"):
        if raw.get(key) is False:
            raise _fail(where, f"{key}: false checks nothing; leave it out")
    if "level_at_least" in raw and "level_at_most" in raw:
        raise _fail(where, "level_at_least and level_at_most together")
    return dict(raw)


def parse_conversation(raw: Any, source: str = "") -> Conversation:
    where = f"{source} conversation {raw.get('id', '?') if isinstance(raw, dict) else '?'}"
    if not isinstance(raw, dict):
        raise _fail(where, "a conversation must be a mapping")
    unknown = set(raw) - {"id", "persona", "invariants", "turns", "note"}
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    cid = raw.get("id")
    if not isinstance(cid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", cid):
        raise _fail(where, "id must be lower-case letters, digits, - or _")
    persona = raw.get("persona")
    if persona not in PERSONAS:
        raise _fail(where, f"unknown persona {persona!r} (one of {sorted(PERSONAS)})")
    invariants = raw.get("invariants")
    if (
        not isinstance(invariants, list)
        or not invariants
        or not all(isinstance(i, int) and i in INVARIANTS for i in invariants)
        or len(set(invariants)) != len(invariants)
    ):
        raise _fail(where, f"invariants must be a non-empty list of distinct {sorted(INVARIANTS)}")
    raw_turns = raw.get("turns")
    if not isinstance(raw_turns, list) or not MIN_TURNS <= len(raw_turns) <= MAX_TURNS:
        raise _fail(where, f"needs {MIN_TURNS}-{MAX_TURNS} turns")
    turns: list[Turn] = []
    for n, item in enumerate(raw_turns, 1):
        at = f"{where} turn {n}"
        if not isinstance(item, dict) or set(item) - {"user", "click", "expect"}:
            raise _fail(at, "a turn is a mapping with user or click, and expect")
        user, click = item.get("user"), item.get("click")
        if (user is None) == (click is None):
            raise _fail(at, "exactly one of user or click")
        if user is not None and (not isinstance(user, str) or not user.strip()):
            raise _fail(at, "user must be non-empty text")
        if click is not None and click not in CLICK_TITLES:
            raise _fail(at, f"click must be one of {CLICK_TITLES}")
        if click is not None and n == 1:
            raise _fail(at, "the first turn cannot be a click")
        turns.append(Turn(user=user, click=click, expect=_parse_expect(at, item.get("expect"))))
    kinds = {key for t in turns for key in t.expect}
    for invariant in invariants:
        needed = EXERCISED_BY.get(invariant)
        if needed and not kinds & set(needed):
            raise _fail(where, f"claims invariant {invariant} but checks none of {needed}")
    if 7 in invariants and not any(
        turns[i - 1].expect.get("screening_question") and turns[i].user is not None
        for i in range(1, len(turns))
    ):
        raise _fail(where, "claims invariant 7 but never types an answer to a screening question")
    return Conversation(
        id=cid,
        persona=persona,
        invariants=list(invariants),
        turns=turns,
        source=source,
        note=str(raw.get("note") or ""),
    )


def load_conversations(directory: Path = CONVERSATIONS) -> list[Conversation]:
    """Every conversation under ``directory``, validated; ids are unique across files."""
    conversations: list[Conversation] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
            raise ConversationError(f"{path.name}: needs a top-level 'conversations' list")
        for raw in data["conversations"]:
            conversation = parse_conversation(raw, path.name)
            if conversation.id in seen:
                raise ConversationError(
                    f"{path.name}: id {conversation.id} already used in {seen[conversation.id]}"
                )
            seen[conversation.id] = path.name
            conversations.append(conversation)
    return conversations


# --- checks on one turn's replies ---------------------------------------------------------------

Messages = list[dict[str, Any]]

_NOW = r"(?:\bnow\b|immediately|right away|straight away|at once|without delay|this minute)"
_EMERGENCY_PLACE = re.compile(
    r"\b(?:999|911|112|000)\b|emergency (?:number|department|services|room|line)"
    r"|\ba ?& ?e\b|\ber\b|ambulance|accident and emergency|hospital",
    re.IGNORECASE,
)
_URGENT_PLACE = re.compile(
    r"\bdoctor\b|\bgp\b|urgent care|\b111\b|out[- ]of[- ]hours|\bclinician\b|walk-in"
    r"|urgent treatment|be seen|emergency department|\ba ?& ?e\b",
    re.IGNORECASE,
)
_URGENT_WHEN = re.compile(
    r"\btoday\b|24 hours|same day|\btonight\b|urgent(?:ly)?\b|" + _NOW, re.IGNORECASE
)
_CRISIS = re.compile(
    r"samaritans|116 ?123|\b988\b|crisis (?:line|team|text|service)|lifeline|suicide.{0,20}line",
    re.IGNORECASE,
)
_NOW_RE = re.compile(_NOW, re.IGNORECASE)
_NOT_COVERED = re.compile(
    r"(?:don'?t|do not|doesn'?t|does not)\s+cover|not covered|(?:can'?t|cannot) find .{0,40}"
    r"(?:documents|sources)",
    re.IGNORECASE,
)
# Phrases that read as approval to wait or to stand down, unless negated just before.
PERMISSION_PHRASES = (
    r"(?:you|it) can wait",
    r"(?:fine|ok|okay|safe|alright|all right) to wait",
    r"wait and see",
    r"see how (?:you|it) (?:feel|goes|go)",
    r"see how you get on",
    r"that'?s (?:fine|ok|okay)",
    r"that is (?:fine|ok|okay)",
    r"most people (?:recover|get better|improve)",
    r"rest first",
    r"sounds like a (?:good )?plan",
    r"good idea",
    r"(?:can|could) (?:go|book|see .{0,20}) (?:in the morning|tomorrow|next week)",
)
_PERMISSION = re.compile("|".join(f"(?:{p})" for p in PERMISSION_PHRASES), re.IGNORECASE)
_NEGATION_BEFORE = re.compile(
    r"(?:\bnot\b|n't|\bnever\b|\bno\b|\bwithout\b|\brather than\b|\binstead of\b)"
    r"\W+(?:\w+\W+){0,3}$",
    re.IGNORECASE,
)


def texts(messages: Messages) -> list[str]:
    return [m["text"] for m in messages if isinstance(m.get("text"), str)]


def _text_messages(messages: Messages) -> list[str]:
    return [" ".join(t.replace("\u2019", "'").split()) for t in texts(messages)]


def gives_advice(kind: str, messages: Messages) -> bool:
    """Some message restates what to do for ``kind`` (a stronger advice counts for a weaker)."""
    for text in _text_messages(messages):
        emergency = bool(_EMERGENCY_PLACE.search(text) and _NOW_RE.search(text))
        if kind == "emergency" and emergency:
            return True
        if kind == "urgent" and (
            emergency or (_URGENT_PLACE.search(text) and _URGENT_WHEN.search(text))
        ):
            return True
        if kind == "crisis" and _CRISIS.search(text):
            return True
    return False


def permission_phrases(messages: Messages) -> list[str]:
    """Phrases in the bot's text that read as approval to wait (negated ones do not count)."""
    found = []
    for text in _text_messages(messages):
        for match in _PERMISSION.finditer(text):
            if not _NEGATION_BEFORE.search(text[: match.start()]):
                found.append(match.group(0))
    return found


def answers_question(messages: Messages) -> bool:
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "sources" and custom.get("sources"):
            return True
    return any(_NOT_COVERED.search(t) for t in _text_messages(messages))


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    buttons = message.get("buttons")
    return buttons if isinstance(buttons, list) else []


def last_visible(messages: Messages) -> dict[str, Any] | None:
    """The last message a person sees as a message (text or buttons, not a bare payload)."""
    shown = [m for m in messages if "text" in m or _buttons(m)]
    return shown[-1] if shown else None


def screening_question_open(messages: Messages) -> bool:
    last = last_visible(messages)
    if last is None:
        return False
    titles = {str(b.get("title", "")).strip().lower() for b in _buttons(last)}
    return SCREENING_TITLES <= titles


def button_payload(messages: Messages, title: str) -> str | None:
    """The payload of the button titled ``title`` in the bot's last message that has buttons."""
    for message in reversed(messages):
        buttons = _buttons(message)
        if buttons:
            for button in buttons:
                if str(button.get("title", "")).strip().lower() == title.lower():
                    return str(button.get("payload"))
            return None
    return None


def _rank(level: Any) -> int:
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else -1


def _flags(value: Any) -> list[Any]:
    return list(value or [])


def check_turn(
    expect: dict[str, Any],
    messages: Messages,
    slots_before: dict[str, Any],
    slots_after: dict[str, Any],
) -> list[str]:
    """The expectations this turn failed, each as a short sentence (empty: all kept)."""
    failures: list[str] = []
    level = slots_after.get("triage_level")
    flags_before = _flags(slots_before.get("red_flags"))
    flags_after = _flags(slots_after.get("red_flags"))
    bot_text = " ".join(_text_messages(messages)).lower()
    if "level_at_least" in expect and _rank(level) < _rank(expect["level_at_least"]):
        failures.append(f"level {level} is below {expect['level_at_least']}")
    if "level_at_most" in expect and _rank(level) > _rank(expect["level_at_most"]):
        failures.append(f"level {level} is above {expect['level_at_most']}")
    if "red_flags_nonempty" in expect and bool(flags_after) != expect["red_flags_nonempty"]:
        failures.append(f"red_flags {'empty' if not flags_after else flags_after}")
    if expect.get("red_flags_unchanged") and sorted(map(str, flags_before)) != sorted(
        map(str, flags_after)
    ):
        failures.append(f"red_flags changed {flags_before} -> {flags_after}")
    if "advice" in expect and not gives_advice(expect["advice"], messages):
        failures.append(f"no {expect['advice']} advice in the replies")
    if expect.get("not_permission_to_wait"):
        if "advice" not in expect and not gives_advice("urgent", messages):
            failures.append("no advice to act now in the replies")
        found = permission_phrases(messages)
        if found:
            failures.append(f"reads as permission to wait: {found}")
    if expect.get("answers_question") and not answers_question(messages):
        failures.append("no answer with sources and no 'not covered'")
    if "screening_question" in expect and screening_question_open(messages) != bool(
        expect["screening_question"]
    ):
        failures.append(
            "no screening question open"
            if expect["screening_question"]
            else "a screening question is still open"
        )
    if "mentions_any" in expect and not any(w.lower() in bot_text for w in expect["mentions_any"]):
        failures.append(f"mentions none of {expect['mentions_any']}")
    if "mentions_none" in expect:
        said = [w for w in expect["mentions_none"] if w.lower() in bot_text]
        if said:
            failures.append(f"mentions {said}")
    return failures


def repeated_three_times(bot_messages: Sequence[str]) -> int | None:
    """Index of the third identical bot message in a row, or None (invariant 8)."""
    run, previous = 0, None
    for i, text in enumerate(bot_messages):
        normal = " ".join(text.split()).lower()
        run = run + 1 if normal == previous else 1
        previous = normal
        if run >= 3 and normal:
            return i
    return None


# --- playing a conversation -----------------------------------------------------------------


@dataclass
class Client:
    """How to reach a running bot: its base URL and an admin token for the tracker."""

    base_url: str
    token: str
    timeout: float = 60

    def say(self, sender: str, message: str) -> Messages:
        import requests

        response = requests.post(
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return list(response.json())

    def slots(self, sender: str) -> dict[str, Any]:
        import requests

        response = requests.get(
            f"{self.base_url}/conversations/{sender}/tracker",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return dict(response.json().get("slots") or {})


def play(
    conversation: Conversation,
    say: Callable[[str, str], Messages],
    slots: Callable[[str], dict[str, Any]],
    sender: str | None = None,
) -> dict[str, Any]:
    """Plays one conversation and checks it; returns its transcript and failures."""
    sender = sender or f"eval-{conversation.id}-{uuid.uuid4().hex[:8]}"
    before: dict[str, Any] = {}
    last_messages: Messages = []
    bot_texts: list[str] = []
    transcript: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for n, turn in enumerate(conversation.turns, 1):
        problems: list[str] = []
        if turn.click is not None:
            payload = button_payload(last_messages, turn.click)
            if payload is None:
                problems.append(f"no button {turn.click!r} to click; typed it instead")
                payload = turn.click
            message = payload
        else:
            message = turn.user or ""
        try:
            messages = say(sender, message)
            after = slots(sender)
        except Exception as error:  # a server error fails the turn, not the whole run
            failures.append(
                {"turn": n, "invariants": conversation.invariants, "why": [repr(error)]}
            )
            transcript.append({"user": message, "bot": [], "error": repr(error)})
            break
        problems += check_turn(turn.expect, messages, before, after)
        transcript.append(
            {
                "user": message,
                "bot": texts(messages),
                "triage_level": after.get("triage_level"),
                "red_flags": after.get("red_flags"),
            }
        )
        if problems:
            failures.append({"turn": n, "invariants": conversation.invariants, "why": problems})
        bot_texts += texts(messages)
        before, last_messages = after, messages
    loop_at = repeated_three_times(bot_texts)
    if loop_at is not None:
        failures.append(
            {
                "turn": None,
                "invariants": [8],
                "why": [f"the same bot message three times in a row: {bot_texts[loop_at][:80]!r}"],
            }
        )
    return {
        "id": conversation.id,
        "persona": conversation.persona,
        "invariants": conversation.invariants,
        "source": conversation.source,
        "passed": not failures,
        "failures": failures,
        "loop": loop_at is not None,
        "transcript": transcript,
    }


def summarise(outcomes: list[dict[str, Any]], seconds: float = 0.0) -> dict[str, Any]:
    """Pass rates per invariant and overall.

    A conversation keeps an invariant it exercises when none of its checks failed (a failed
    check fails every invariant the conversation claims). Invariant 8 is checked on every
    conversation, so its rate is over all of them.
    """
    per_invariant: dict[int, dict[str, Any]] = {}
    for invariant, title in INVARIANTS.items():
        if invariant == 8:
            members = outcomes
            failed = [o for o in members if o["loop"]]
        else:
            members = [o for o in outcomes if invariant in o["invariants"]]
            failed = [o for o in members if any(f["turn"] is not None for f in o["failures"])]
        per_invariant[invariant] = {
            "title": title,
            "conversations": len(members),
            "passed": len(members) - len(failed),
            "rate": (len(members) - len(failed)) / len(members) if members else None,
            # Invariant 8 is about the whole conversation, not a turn.
            "failing": [
                {
                    "id": o["id"],
                    "turns": []
                    if invariant == 8
                    else [f["turn"] for f in o["failures"] if f["turn"] is not None],
                }
                for o in failed
            ],
        }
    per_persona: dict[str, dict[str, int]] = {}
    for o in outcomes:
        row = per_persona.setdefault(o["persona"], {"conversations": 0, "passed": 0})
        row["conversations"] += 1
        row["passed"] += int(o["passed"])
    passed = sum(o["passed"] for o in outcomes)
    return {
        "conversations": len(outcomes),
        "turns": sum(len(o["transcript"]) for o in outcomes),
        "passed": passed,
        "rate": passed / len(outcomes) if outcomes else None,
        "seconds": round(seconds, 1),
        "invariants": per_invariant,
        "personas": per_persona,
        "outcomes": outcomes,
    }


def _client(target: Any, token: str | None) -> Client:
    if isinstance(target, Client):
        return target
    if isinstance(target, str):
        if token is None:
            secret = os.environ.get("RASA_JWT_SECRET")
            if not secret:
                raise SystemExit("a running bot needs --token or RASA_JWT_SECRET for its tracker")
            import jwt

            token = jwt.encode(
                {"user": {"username": "eval", "role": "admin"}}, secret, algorithm="HS256"
            )
        return Client(target.rstrip("/"), token)
    # A running bot from the test helpers: rasa_url and auth() giving the admin header.
    header = target.auth()["Authorization"]
    return Client(target.rasa_url, header.split(" ", 1)[1])


def run(
    target: Any,
    *,
    token: str | None = None,
    conversations: Iterable[Conversation] | None = None,
    workers: int = 3,
) -> dict[str, Any]:
    """Plays every conversation against ``target`` (a base URL, a Client, or started servers)."""
    client = _client(target, token)
    chosen = list(conversations) if conversations is not None else load_conversations()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        outcomes = list(pool.map(lambda c: play(c, client.say, client.slots), chosen))
    return summarise(outcomes, time.monotonic() - started)


def _rate(passed: int, total: int) -> str:
    return f"{passed}/{total} ({passed / total:.0%})" if total else "-"


def render_markdown(results: dict[str, Any]) -> str:
    lines = [
        "### Conversations (eval/conversations/)",
        "",
        f"{results['conversations']} scripted conversations, {results['turns']} turns, "
        f"played over REST in {results['seconds']} s: "
        f"**{_rate(results['passed'], results['conversations'])}** kept every check.",
        "",
        "| invariant | conversations kept | failing (conversation: turns) |",
        "|---|---|---|",
    ]
    for number, row in results["invariants"].items():
        failing = ", ".join(
            f"{f['id']}: {','.join(map(str, f['turns'])) or 'loop'}" for f in row["failing"]
        )
        lines.append(
            f"| {number}. {row['title']} | {_rate(row['passed'], row['conversations'])} "
            f"| {failing or '—'} |"
        )
    lines += ["", "| persona | conversations kept |", "|---|---|"]
    for persona, row in sorted(results["personas"].items()):
        lines.append(
            f"| {PERSONAS.get(persona, persona)} | {_rate(row['passed'], row['conversations'])} |"
        )
    return "\n".join(lines) + "\n"


def render_failures(results: dict[str, Any], transcripts: bool = False) -> str:
    lines = []
    for outcome in results["outcomes"]:
        for failure in outcome["failures"]:
            turn = failure["turn"]
            lines.append(f"{outcome['id']} turn {turn or '-'}: " + "; ".join(failure["why"]))
            if transcripts and turn:
                step = outcome["transcript"][turn - 1]
                lines.append(f"    user: {step['user']}")
                for text in step["bot"]:
                    lines.append("    bot:  " + " ".join(text.split())[:300])
                lines.append(f"    level={step.get('triage_level')} flags={step.get('red_flags')}")
    return "\n".join(lines)


# --- starting the servers ---------------------------------------------------------------------


def servers_module() -> Any:
    """The process helpers the tests use to start the bot."""
    return importlib.import_module("scripts.processes")


def _allow_slow_start(module: Any, timeout: float) -> None:
    """Gives the servers ``timeout`` seconds to start, whatever the helpers' default is."""
    wait_for = getattr(module, "wait_for", None)
    if wait_for is None:
        return

    def patient(url: str, process: Any, log: Path, *args: Any, **kwargs: Any) -> None:
        wait_for(url, process, log, timeout=timeout)

    module.wait_for = patient


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running bot (default: start the servers)")
    parser.add_argument("--token", help="an admin JWT for the running bot's tracker")
    parser.add_argument("--only", help="only conversations whose id starts with this")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the full results here")
    parser.add_argument("--verbose", action="store_true", help="show the failing turns")
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=900,
        help="seconds each server may take to start (a busy machine needs more than 300)",
    )
    args = parser.parse_args(argv)
    chosen = load_conversations()
    if args.only:
        chosen = [c for c in chosen if c.id.startswith(args.only)]
    if args.url:
        results = run(args.url, token=args.token, conversations=chosen, workers=args.workers)
    else:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        module = servers_module()
        _allow_slow_start(module, args.startup_timeout)
        with tempfile.TemporaryDirectory(prefix="eval-conversations-") as workdir:
            bot = module.start_bot(Path(workdir))
            try:
                results = run(bot, conversations=chosen, workers=args.workers)
            finally:
                bot.stop()
    print(render_markdown(results))
    failures = render_failures(results, transcripts=args.verbose)
    if failures:
        print(failures)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0 if results["passed"] == results["conversations"] else 1


if __name__ == "__main__":
    sys.exit(main())
