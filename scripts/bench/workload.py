"""What the benchmark sends: the scripted conversations, and what each reply must contain.

Our bot's script (``SciaticaConversation``) greets, describes symptoms, answers the screening
questions the bot asks (button payloads and free text), asks questions (some with follow-ups),
sometimes reports a red flag, thanks and says goodbye: 20 turns, the wording drawn per
conversation. The stock ``rasa init`` bot's script (``StockConversation``) uses its own intents.
To change what is sent, change the word lists or the two conversation classes here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TURNS_PER_CONVERSATION = 20


@dataclass(frozen=True)
class Turn:
    """One message of a script and what its reply must contain (case-insensitive), if anything."""

    kind: str
    text: str
    expect: str | None = None


GREETINGS = ["hi", "hello", "hello there", "hey", "hey there", "hiya", "good morning"]
SYMPTOMS = [
    "shooting pain down the back of my left leg for 3 weeks, worse when I sit, about 6/10",
    "my lower back aches and there's a burning pain down my right leg to the foot, "
    "2 months now, 7/10, worse when bending",
    "i've got pins and needles in my left calf since last week, maybe 4 out of 10, "
    "walking makes it worse",
    "i have a dull ache in my right buttock that goes down to my knee, had it about 10 days, "
    "5/10, better when I walk",
    "sharp pain from my bum down my right thigh for a month, 8/10 at night, worse when I cough",
    "numbness and tingling in my left foot and calf for 6 weeks, pain about 5 out of 10",
]
# A red flag in the symptom description itself, in a screening answer, or dropped into a question.
RED_FLAG_SYMPTOMS = [
    "can't feel the toilet paper when i wipe and my leg is agony",
    "hiya, my legs both went numb and i keep wetting myself",
    "my back is killing me and since yesterday i can't feel when i need to pee",
]
RED_FLAG_ANSWERS = [
    "yes, actually I wet myself last night without noticing",
    "yes, i couldn't pee at all this morning",
    "now you mention it, i did wet myself yesterday",
]
RED_FLAG_QUESTIONS = [
    "what exercises help? btw i peed myself this morning without noticing",
    "is walking ok? also i can't feel anything between my legs since this morning",
    "how long will this last? i've had a few accidents, wetting myself",
]
RED_FLAG_PLACES = ("symptoms", "screening", "question")

# Free-text "no" answers by screening question (the question is recognised by its wording).
SCREENING_TOPICS = {
    "bladder": ("bladder", ["no", "no, my bladder is fine", "nope, no problems peeing"]),
    "bowel": ("bowels", ["no", "no, bowels are normal", "nope"]),
    "saddle": ("between your legs", ["no", "no numbness there", "nothing like that"]),
    "both_legs": ("both legs", ["no, just the one leg", "only one leg", "no"]),
    "weakness": ("weakness", ["no", "no it's not getting weaker", "no weakness"]),
    "fever": ("fever", ["no", "no fever", "no, I feel fine otherwise"]),
    "cancer": ("cancer", ["no", "no, never", "nope"]),
    "trauma": ("fall or accident", ["no", "no, no fall", "no accident"]),
}
SCREENING_MARK = re.compile(r"^\((\d+)/(\d+)\)")
MAX_SCREENING_ANSWERS = 10  # a misread answer is asked again; never loop for ever

# Questions by topic, each in several wordings; a follow-up, when there is one, comes next.
QUESTIONS: list[tuple[list[str], list[str] | None]] = [
    (["what is sciatica?", "what actually is sciatica", "can you explain what sciatica is"], None),
    (
        ["what causes sciatica?", "why do people get sciatica", "what causes this kind of pain?"],
        ["what about in pregnancy?", "what about during pregnancy?"],
    ),
    (["do I need an MRI?", "should I get a scan?", "will I need an mri scan"], None),
    (
        ["how do I do the nerve glide?", "how do i do the sciatic nerve glide"],
        ["how many reps?", "how many times a day?", "how many should I do?"],
    ),
    (
        ["will it go away?", "how long does sciatica last?", "will this get better on its own?"],
        None,
    ),
    (
        ["can I see a physio without a referral?", "do I need a referral for physical therapy?"],
        None,
    ),
    (["what treatments are there?", "how is sciatica treated?"], None),
    (["what painkillers can I take?", "does ibuprofen help sciatica?"], None),
    (["what exercises help?", "are there exercises I can do?"], None),
    (["will I need surgery?", "when is surgery needed?"], None),
    (["should I rest in bed?", "is it ok to keep walking?"], None),
    (["what is piriformis syndrome?"], None),
    (["where is the sciatic nerve?"], None),
    (["how can I stop it coming back?"], None),
    (["does acupuncture help?"], None),
    (["do steroid injections work?"], None),
]
THANKS = ["thanks", "thanks a lot", "cheers", "thank you, that helps"]
GOODBYES = ["bye", "goodbye", "see you", "thanks, bye", "ok bye", "bye for now"]


def screening_question(messages: Sequence[dict[str, Any]]) -> str | None:
    """The screening question a reply ends with ("(3/8) Is there any numbness..."), or None.

    Only numbered questions count: "Is this happening to you now?" after an answer also has
    buttons, but a person asking questions does not have to answer it.
    """
    for message in reversed(messages):
        if isinstance(message.get("text"), str):
            payloads = {b.get("payload") for b in message.get("buttons") or []}
            if "/deny" in payloads and SCREENING_MARK.match(message["text"]):
                return message["text"]
            return None
    return None


def screening_topic(question: str) -> str | None:
    """Which of the eight screening questions this is, from its wording."""
    lowered = question.lower()
    for topic, (cue, _answers) in SCREENING_TOPICS.items():
        if cue in lowered:
            return topic
    return None


class SciaticaConversation:
    """A 20-turn conversation with our bot that answers the screening questions it is asked.

    The order is fixed (greeting, symptoms, screening answers, questions, thanks, goodbye) and the
    wording is drawn per conversation, so no two conversations are quite the same. Screening
    answers follow the bot: as long as it asks a numbered question, the next turn answers it
    (a button payload or free text); then the questions fill the turns up to the thanks and the
    goodbye. ``red_flag`` puts one red flag into the symptom description, the first screening
    answer or one of the questions; its reply must start with the emergency advice, and every
    question after it must get the advice again (a question about rest, treatment or recovery
    then gets "please don't wait", not an answer that could read as leave to wait).
    """

    def __init__(self, seed: str, red_flag: str | None = None) -> None:
        if red_flag not in (None, *RED_FLAG_PLACES):
            raise ValueError(f"red_flag must be one of {RED_FLAG_PLACES}, not {red_flag!r}")
        self.rng = random.Random(seed)
        self.red_flag = red_flag
        self.sent = 0
        self.screening_answers = 0
        self.escalated = False
        self.questions = self._questions()

    def _questions(self) -> list[Turn]:
        topics = list(QUESTIONS)
        self.rng.shuffle(topics)
        turns: list[Turn] = []
        for wordings, follow_ups in topics:
            turns.append(Turn("question", self.rng.choice(wordings), "source"))
            if follow_ups:
                turns.append(Turn("follow_up", self.rng.choice(follow_ups), "source"))
        if self.red_flag == "question":
            where = self.rng.randint(1, 4)
            turns.insert(where, Turn("red_flag", self.rng.choice(RED_FLAG_QUESTIONS), "EMERGENCY"))
        return turns

    def next_turn(self, reply: Sequence[dict[str, Any]]) -> Turn | None:
        """The next message given the bot's last reply, or None after the last turn."""
        turn = self._choose(reply)
        if turn is None:
            return None
        self.sent += 1
        if self.escalated and turn.kind in ("question", "follow_up"):
            turn = Turn(turn.kind, turn.text, "emergency")
        self.escalated = self.escalated or turn.kind == "red_flag"
        return turn

    def _choose(self, reply: Sequence[dict[str, Any]]) -> Turn | None:
        rng, n = self.rng, self.sent
        if n >= TURNS_PER_CONVERSATION:
            return None
        if n == 0:
            return Turn("greeting", rng.choice(GREETINGS), "emergency number")
        if n == 1:
            if self.red_flag == "symptoms":
                return Turn("red_flag", rng.choice(RED_FLAG_SYMPTOMS), "EMERGENCY")
            return Turn("symptoms", rng.choice(SYMPTOMS), "(1/8)")
        if n == TURNS_PER_CONVERSATION - 1:
            return Turn("goodbye", rng.choice(GOODBYES), "take care")
        if n == TURNS_PER_CONVERSATION - 2:
            return Turn("thanks", rng.choice(THANKS))
        question = screening_question(reply)
        if question is not None and self.screening_answers < MAX_SCREENING_ANSWERS:
            self.screening_answers += 1
            if self.red_flag == "screening" and self.screening_answers == 1:
                return Turn("red_flag", rng.choice(RED_FLAG_ANSWERS), "EMERGENCY")
            if rng.random() < 0.5:
                return Turn("screening", "/deny")
            topic = screening_topic(question)
            answers = SCREENING_TOPICS[topic][1] if topic else ["no"]
            return Turn("screening", rng.choice(answers))
        return self.questions.pop(0)


STOCK_WORDS = {
    "greet": ["hey", "hello", "hi", "hello there", "good morning", "hey there", "good evening"],
    "mood_great": ["perfect", "great", "amazing", "wonderful", "I am feeling very good", "so good"],
    "mood_unhappy": ["my day was horrible", "I am sad", "I don't feel very well", "super sad"],
    "affirm": ["yes", "indeed", "of course", "that sounds good", "correct"],
    "deny": ["no", "never", "I don't think so", "no way", "not really"],
    "goodbye": ["bye", "goodbye", "see you around", "see you later", "have a nice day"],
    "bot_challenge": ["are you a bot?", "are you a human?", "am I talking to a bot?"],
}
# Replies the stock bot's rules and stories make certain.
STOCK_EXPECT = {
    "greet": "how are you",
    "mood_unhappy": "did that help",
    "goodbye": "bye",
    "bot_challenge": "i am a bot",
}
STOCK_EPISODES = [
    ("greet", "mood_great", "bot_challenge", "goodbye"),
    ("greet", "mood_unhappy", "affirm", "goodbye"),
    ("greet", "mood_unhappy", "deny", "goodbye"),
    ("bot_challenge", "greet", "mood_great", "goodbye"),
]


class StockConversation:
    """20 turns with the stock ``rasa init`` bot: five of its story-shaped episodes.

    A "no" to "Did that help you?" comes only in the first episode: the stock stories end the
    conversation there ("Bye"), and later in the same conversation the stock policies answer it
    with nothing at all (seen in every run), which would count as the stock bot's errors.
    """

    def __init__(self, seed: str) -> None:
        rng = random.Random(seed)
        later = [episode for episode in STOCK_EPISODES if "deny" not in episode]
        episodes = [rng.choice(STOCK_EPISODES)] + [
            rng.choice(later) for _ in range(TURNS_PER_CONVERSATION // 4 - 1)
        ]
        self.turns = [
            Turn(intent, rng.choice(STOCK_WORDS[intent]), STOCK_EXPECT.get(intent))
            for episode in episodes
            for intent in episode
        ]

    def next_turn(self, reply: Sequence[dict[str, Any]]) -> Turn | None:
        return self.turns.pop(0) if self.turns else None


def make_conversation(bot: str, index: int, seed: str) -> SciaticaConversation | StockConversation:
    """Conversation ``index`` of a run: for our bot, every fourth has a red flag, placed in turn
    in the symptoms, a screening answer and a question."""
    if bot == "stock":
        return StockConversation(f"{seed}-{index}")
    red_flag = RED_FLAG_PLACES[(index // 4) % len(RED_FLAG_PLACES)] if index % 4 == 3 else None
    return SciaticaConversation(f"{seed}-{index}", red_flag)


def check_reply(turn: Turn, status: int, messages: Any) -> tuple[str | None, bool]:
    """(error, unexpected) for one reply. Errors: a status other than 200, a body that is not a
    list of messages, or an empty reply. Unexpected: a reply without the text the turn expects."""
    if status != 200:
        return f"HTTP {status}", False
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "not a list of messages", False
    if not any(m.get("text") or m.get("custom") or m.get("image") for m in messages):
        return "empty reply", False
    if turn.expect is None:
        return None, False
    said = " ".join(m["text"] for m in messages if isinstance(m.get("text"), str))
    return None, turn.expect.lower() not in said.lower()


def script_messages(seed: str, conversations: int = 8) -> list[str]:
    """The free-text messages of our bot's scripts (button payloads left out)."""
    messages = []
    for index in range(conversations):
        conversation = make_conversation("ours", index, seed)
        # The bot's questions in order, as if every answer was understood.
        questions = [
            [{"text": f"({k}/8) {cue}?", "buttons": [{"payload": "/deny"}]}]
            for k, (cue, _answers) in enumerate(SCREENING_TOPICS.values(), start=1)
        ]
        reply: list[dict[str, Any]] = []
        while (turn := conversation.next_turn(reply)) is not None:
            if not turn.text.startswith("/"):
                messages.append(turn.text)
            ends_screening = turn.kind == "red_flag" or not questions
            reply = [] if ends_screening or turn.kind == "greeting" else questions.pop(0)
    return messages
