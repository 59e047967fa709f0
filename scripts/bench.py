"""`make bench`: how fast the bot answers, how much it holds, how long it trains.

One run on one machine measures, next to each other:

- per-turn latency (p50/p95/p99) and throughput of the bot as one instance (action server + Rasa
  with the SQLite tracker store, as ``make run`` starts them), of the scaled setup
  (``scripts.cluster``: nginx, Rasa replicas, action servers, PostgreSQL, Redis) and of a stock
  ``rasa init`` bot as the baseline, at 1, 10 and 50 concurrent conversations. Each conversation
  is a fresh sender playing a 20-turn script over ``POST /webhooks/rest/webhook``: our bot's
  script greets, describes symptoms, answers the screening questions (button payloads and free
  text), asks questions (some with follow-ups), sometimes reports a red flag, thanks and says
  goodbye; the stock bot's script uses its own intents;
- training time of this bot (``rasa train --force`` into a temporary directory with its own
  cache, so the shared ``models/`` and ``.rasa/`` are untouched) and of the stock bot;
- resident memory (RSS) of every process after the load, and the CPU each used during it;
- where the time goes: a py-spy profile of the Rasa and action servers under load and the cost
  of the bot's own language layer (``bot.routing.route``) per message, measured in-process.

Results go to docs/benchmarks.md (tables, goals, machine facts, the exact command),
docs/benchmarks.png (latency percentiles by concurrency) and docs/benchmarks.json (raw numbers).

    python -m scripts.bench            # the full run (about 20-25 minutes on 2 cores)
    python -m scripts.bench --quick    # levels 1 and 10, fewer conversations, no training
                                       # (about 10 minutes; --train adds about 5)
    python -m scripts.bench --url http://127.0.0.1:5005 --levels 1,10   # an already running bot
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BIN = Path(sys.executable).parent
WEBHOOK = "/webhooks/rest/webhook"

# The goals from the project's issue.
P95_RATIO_GOAL = 1.5  # p95 per-turn latency at most this many times the stock bot's
TRAINING_GOAL_S = 300.0  # training under 5 minutes on 2 cores
ERROR_FREE_LEVEL = 50  # this many concurrent conversations with no error

TURNS_PER_CONVERSATION = 20
REQUEST_TIMEOUT_S = 120.0

SETUP_LABELS = {
    "single": "our bot, one instance",
    "scaled": "our bot, scaled (nginx + replicas)",
    "stock": "stock `rasa init` bot",
    "url": "the bot at --url",
}


# --- conversations ----------------------------------------------------------------------------


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
    answer or one of the questions; its reply must start with the emergency advice.
    """

    def __init__(self, seed: str, red_flag: str | None = None) -> None:
        if red_flag not in (None, *RED_FLAG_PLACES):
            raise ValueError(f"red_flag must be one of {RED_FLAG_PLACES}, not {red_flag!r}")
        self.rng = random.Random(seed)
        self.red_flag = red_flag
        self.sent = 0
        self.screening_answers = 0
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
        if turn is not None:
            self.sent += 1
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


# --- replies and statistics -----------------------------------------------------------------


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


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99, mean, min and max of a list of latencies (all None when it is empty)."""
    if not latencies_ms:
        return {k: None for k in ("p50", "p95", "p99", "mean", "min", "max")}
    return {
        "p50": round(percentile(latencies_ms, 50), 1),
        "p95": round(percentile(latencies_ms, 95), 1),
        "p99": round(percentile(latencies_ms, 99), 1),
        "mean": round(sum(latencies_ms) / len(latencies_ms), 1),
        "min": round(min(latencies_ms), 1),
        "max": round(max(latencies_ms), 1),
    }


@dataclass
class TurnRecord:
    conversation: int
    turn: int
    kind: str
    latency_ms: float
    status: int
    error: str | None = None
    unexpected: bool = False


def level_summary(
    records: Sequence[TurnRecord], wall_s: float, concurrency: int, conversations: int
) -> dict[str, Any]:
    """What one concurrency level measured: latency of every turn (errors included, they took
    that long too), errors by kind, unexpected replies and completed turns per second."""
    errors = Counter(r.error for r in records if r.error)
    return {
        "concurrency": concurrency,
        "conversations": conversations,
        "turns": len(records),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "unexpected": sum(1 for r in records if r.unexpected),
        "unexpected_kinds": dict(Counter(r.kind for r in records if r.unexpected)),
        "wall_s": round(wall_s, 2),
        "throughput_tps": round(len(records) / wall_s, 2) if wall_s > 0 else None,
        "latency_ms": summarise([r.latency_ms for r in records]),
    }


def by_kind(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Latency by turn kind (greeting, symptoms, screening, question...), from raw records."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for record in records:
        grouped[record["kind"]].append(record["latency_ms"])
    return {kind: {"turns": len(v), **summarise(v)} for kind, v in sorted(grouped.items())}


# --- load ---------------------------------------------------------------------------------------


async def _converse(
    session: Any, url: str, sender: str, index: int, conversation: Any
) -> list[TurnRecord]:
    import aiohttp

    records: list[TurnRecord] = []
    reply: list[dict[str, Any]] = []
    number = 0
    while (turn := conversation.next_turn(reply)) is not None:
        number += 1
        started = time.perf_counter()
        status, body, error = 0, None, None
        try:
            async with session.post(url, json={"sender": sender, "message": turn.text}) as resp:
                status = resp.status
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            error = type(exc).__name__
        latency = (time.perf_counter() - started) * 1000
        unexpected = False
        if error is None:
            error, unexpected = check_reply(turn, status, body)
        reply = body if error is None else []
        records.append(TurnRecord(index, number, turn.kind, latency, status, error, unexpected))
    return records


async def drive(
    base_url: str,
    bot: str,
    concurrency: int,
    conversations: int,
    prefix: str,
    seed: str,
) -> tuple[list[TurnRecord], float]:
    """``conversations`` conversations, ``concurrency`` at a time, each a fresh sender; closed
    loop (each simulated person sends the next message as soon as the reply arrives)."""
    import aiohttp

    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(conversations):
        queue.put_nowait(index)
    records: list[TurnRecord] = []
    url = base_url.rstrip("/") + WEBHOOK
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)

    async def worker(session: Any) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            sender = f"{prefix}-{index}-{uuid.uuid4().hex[:8]}"
            conversation = make_conversation(bot, index, seed)
            records.extend(await _converse(session, url, sender, index, conversation))

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return records, wall


# --- processes ---------------------------------------------------------------------------------


def _tree(pid: int) -> list[Any]:
    import psutil

    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def memory(processes: dict[str, int]) -> list[dict[str, Any]]:
    """RSS of each process (with its children, e.g. nginx workers), in MB."""
    import psutil

    rows = []
    for label, pid in processes.items():
        rss = 0
        for process in _tree(pid):
            with contextlib.suppress(psutil.NoSuchProcess):
                rss += process.memory_info().rss
        rows.append({"process": label, "pid": pid, "rss_mb": round(rss / 2**20, 1)})
    return rows


class CpuMeter:
    """CPU used by each process (children included), by this load generator and by everything
    else on the machine between ``start`` and ``stop``; the last says how noisy the run was."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = processes

    def _cpu(self, pid: int) -> float:
        import psutil

        total = 0.0
        for process in _tree(pid):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def _snapshot(self) -> dict[str, float]:
        import psutil

        machine = psutil.cpu_times()
        snap = {label: self._cpu(pid) for label, pid in self.processes.items()}
        own = psutil.Process().cpu_times()  # this process only: the servers are its children
        snap["load generator"] = own.user + own.system
        snap["machine"] = _busy_cpu_seconds(machine)
        snap["wall"] = time.monotonic()
        return snap

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self) -> dict[str, float]:
        """Percent of one core per process, and of the machine's cores for the rest."""
        after = self._snapshot()
        wall = after["wall"] - self.before["wall"]
        cores = os.cpu_count() or 1
        used = {k: after[k] - self.before[k] for k in after if k != "wall"}
        ours = sum(v for k, v in used.items() if k != "machine")
        result = {k: round(100 * v / wall, 1) for k, v in used.items() if k != "machine"}
        result["machine busy %"] = round(100 * used["machine"] / (wall * cores), 1)
        result["other processes %"] = round(
            100 * max(0.0, used["machine"] - ours) / (wall * cores), 1
        )
        return result


@dataclass
class Setup:
    """A running bot under test: its public URL, its processes and how to stop it."""

    name: str
    url: str
    processes: dict[str, int]
    stop: Callable[[], None]
    notes: list[str] = field(default_factory=list)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra or {})
    return env


def start_single(workdir: Path) -> Setup:
    """The action server and Rasa, as ``make run`` starts them (SQLite tracker store)."""
    from scripts.processes import start_bot

    bot = start_bot(workdir)
    return Setup(
        "single",
        bot.rasa_url,
        {"rasa": bot.rasa.pid, "action server": bot.actions.pid},
        bot.stop,
        [
            "the action server and Rasa as `make run` starts them (without its retention job): "
            "SQLite tracker store, in-memory lock store, JWT on the HTTP API"
        ],
    )


def init_stock(directory: Path) -> dict[str, Any]:
    """``rasa init --no-prompt``: the stock project, trained with its default configuration."""
    if list((directory / "models").glob("*.tar.gz")):
        return {"reused": str(directory)}
    directory.mkdir(parents=True, exist_ok=True)
    log = directory.parent / "stock-init.log"
    return _timed(
        [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(directory)],
        cwd=directory,
        log=log,
        env=_env({"RASA_CACHE_DIRECTORY": str(directory / ".rasa" / "cache")}),
    )


def start_stock(directory: Path) -> Setup:
    from scripts.processes import free_port, stop, wait_for

    port = free_port()
    model = sorted((directory / "models").glob("*.tar.gz"))[-1]
    log = directory.parent / f"stock-rasa-{port}.log"
    process = subprocess.Popen(
        [
            str(BIN / "rasa"),
            "run",
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(model),
            "--credentials",
            str(directory / "credentials.yml"),
            "--endpoints",
            str(directory / "endpoints.yml"),
        ],
        cwd=directory,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=_env(),
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", process, log)
    except Exception:
        stop(process)
        raise
    return Setup(
        "stock",
        f"http://127.0.0.1:{port}",
        {"rasa": process.pid},
        lambda: stop(process),
        ["rasa init's defaults: in-memory tracker store, no action server"],
    )


def cluster_available() -> bool:
    return (ROOT / "scripts" / "cluster.py").exists() or (ROOT / "scripts" / "cluster").is_dir()


def cluster_processes(state: dict[str, Any]) -> dict[str, int]:
    """Name -> pid of every process in ``scripts.cluster status --json`` (replicas, nginx...)."""
    processes = {}
    for key, value in state.items():
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("pid"), int):
                processes[str(entry.get("name") or key)] = entry["pid"]
    if not processes:
        raise ValueError("scripts.cluster status --json lists no processes")
    return processes


def start_scaled(workdir: Path, rasa_replicas: int, action_replicas: int) -> Setup:
    """The scaled setup of ``scripts.cluster`` in a directory and database of its own.

    nginx's per-client rate limit is lifted: the load generator sends every conversation from
    one address and without pauses, which the limit exists to stop.
    """
    from scripts.processes import free_port

    database = f"bench_{uuid.uuid4().hex[:10]}"
    env = _env(
        {
            "RASA_REPLICAS": str(rasa_replicas),
            "ACTION_REPLICAS": str(action_replicas),
            "CLUSTER_PORT": str(free_port()),
            "CLUSTER_DIR": str(workdir / "cluster"),
            "TRACKER_DB_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
            "LOCK_KEY_PREFIX": database,
            "CLUSTER_RATE_LIMIT": "100000r/s",
            "CLUSTER_RATE_BURST": "100000",
            "RASA_JWT_SECRET": os.environ.get("RASA_JWT_SECRET") or secrets.token_hex(32),
            "ACTION_SERVER_TOKEN": os.environ.get("ACTION_SERVER_TOKEN") or secrets.token_hex(32),
        }
    )
    command = [str(BIN / "python"), "-m", "scripts.cluster"]

    def stop() -> None:
        subprocess.run(
            [*command, "stop", "--drop-database"], cwd=ROOT, env=env, capture_output=True
        )

    log = workdir / "cluster-start.log"
    with log.open("w") as out:
        started = subprocess.run(
            [*command, "start"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if started.returncode != 0:
        stop()
        raise RuntimeError(f"scripts.cluster start failed:\n{log.read_text()[-3000:]}")
    try:
        status = subprocess.run(
            [*command, "status", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        state = json.loads(status.stdout)
        processes = cluster_processes(state)
    except (ValueError, KeyError, TypeError):
        stop()
        raise
    return Setup(
        "scaled",
        state["url"],
        processes,
        stop,
        [
            f"{rasa_replicas} Rasa replicas, {action_replicas} action servers behind nginx; "
            "PostgreSQL tracker store, Redis lock store (shared services, not in the memory table)",
            "nginx rate limit lifted for the load generator",
        ],
    )


# --- training ----------------------------------------------------------------------------------


def _busy_cpu_seconds(times: Any) -> float:
    return times.user + times.system + getattr(times, "nice", 0.0)


def _timed(command: list[str], *, cwd: Path, log: Path, env: dict[str, str]) -> dict[str, Any]:
    """Runs a command, and says how long it took (wall and CPU of the process and its children)
    and how busy the rest of the machine was meanwhile (percent of all cores)."""
    import psutil

    machine_before = _busy_cpu_seconds(psutil.cpu_times())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = _busy_cpu_seconds(psutil.cpu_times()) - machine_before
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cores = os.cpu_count() or 1
    result = {
        "command": shlex.join(command),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "returncode": done.returncode,
        "other_processes_pct": round(100 * max(0.0, machine - cpu) / (wall * cores), 1),
    }
    if done.returncode != 0:
        result["log_tail"] = log.read_text(errors="replace")[-2000:]
    return result


def time_training(workdir: Path) -> dict[str, Any]:
    """``rasa train --force`` of this bot into a temporary directory, with an empty cache."""
    out = workdir / "train"
    return _timed(
        [
            str(BIN / "rasa"),
            "train",
            "--force",
            "--out",
            str(out / "models"),
            "--fixed-model-name",
            "bench",
        ],
        cwd=ROOT,
        log=workdir / "train.log",
        env=_env({"RASA_CACHE_DIRECTORY": str(out / "cache")}),
    )


# --- profile -----------------------------------------------------------------------------------

# Where a sample of the Rasa process or the action server is spent, judged by the frames on its
# stack (py-spy's "function (file:line)"). Inclusive: a sample counts for every category one of its
# frames matches, so shares do not add up to 100%.
RASA_CATEGORIES = [
    ("handling a message (all of it)", r"rasa/core/processor\.py"),
    ("NLU: SymptomExtractor (bot.routing: spaCy, ConText, red-flag rules)", r"symptom_extractor"),
    ("NLU: DIET classifier (TensorFlow)", r"diet_classifier\.py"),
    ("NLU: tokenizer and featurizers", r"rasa/nlu/(featurizers|tokenizers)/"),
    ("dialogue policies (TED, rules, memoization)", r"rasa/core/policies/"),
    ("tracker store (SQL)", r"tracker_store\.py|sqlalchemy/"),
    ("lock store", r"lock_store\.py"),
    ("custom actions: calls to the action server and their replies", r"rasa/core/actions/"),
    ("  of which: validating each reply (jsonschema)", r"_validate_action_result"),
]
ACTION_CATEGORIES = [
    ("running an action (all of it)", r"rasa_sdk/executor\.py"),
    ("bot.nlp.analyse (spaCy + ConText)", r"\banalyse \(.*bot/nlp\.py"),
    ("red-flag engine (bot.triage.engine)", r"bot/triage/engine\.py"),
    ("screening answers (bot.triage.screening)", r"bot/triage/screening\.py"),
    ("answers and retrieval (bot.knowledge)", r"bot/knowledge/"),
    ("rasa_sdk tracker and JSON", r"rasa_sdk/(interfaces|events|endpoint)\.py|json/"),
]
PROFILE_RATE = 100  # samples per second
PROJECT_FRAME = re.compile(
    r"\((?:" + re.escape(str(ROOT)) + r"/)?(?:bot|components|actions|stores|channels)/[^()]*\)"
)
# A sample whose innermost frame is one of these is the process waiting for work (the event loop
# runs in C, so py-spy sees the Python frame that started it), not spending CPU.
IDLE_LEAF = re.compile(
    r"^(serve \(sanic/server/runners\.py|run_forever \(asyncio/base_events\.py"
    r"|select \(selectors\.py|wait \(threading\.py)"
)


def parse_collapsed(text: str) -> list[tuple[tuple[str, ...], int]]:
    """py-spy's raw output (collapsed stacks: ``frame;frame;... count`` per line, root first)."""
    stacks = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append((tuple(stack.split(";")), int(count)))
    return stacks


def busy(stacks: Sequence[tuple[tuple[str, ...], int]]) -> list[tuple[tuple[str, ...], int]]:
    """The samples in which the process was working rather than waiting for a request."""
    return [
        (frames, count) for frames, count in stacks if frames and not IDLE_LEAF.match(frames[-1])
    ]


def category_shares(
    stacks: Sequence[tuple[tuple[str, ...], int]], categories: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Share of samples (percent) with a frame matching each category's pattern."""
    total = sum(count for _, count in stacks)
    rows = []
    for label, pattern in categories:
        regex = re.compile(pattern)
        hit = sum(c for frames, c in stacks if any(regex.search(f) for f in frames))
        rows.append({"category": label, "share": round(100 * hit / total, 1) if total else 0.0})
    return rows


def top_functions(
    stacks: Sequence[tuple[tuple[str, ...], int]],
    n: int = 12,
    keep: Callable[[str], bool] = lambda frame: bool(PROJECT_FRAME.search(frame)),
    by_self: bool = False,
) -> list[dict[str, Any]]:
    """Functions by inclusive share of samples (each counted once per sample), or by the share
    in which they were the innermost frame (``by_self``), filtered by ``keep``."""
    total = sum(count for _, count in stacks)
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks:
        for name in {_strip_line(frame) for frame in frames if keep(frame)}:
            inclusive[name] += count
        if frames and keep(frames[-1]):
            own[_strip_line(frames[-1])] += count
    return [
        {
            "function": name,
            "inclusive": round(100 * count / total, 1),
            "self": round(100 * own[name] / total, 1),
        }
        for name, count in (own if by_self else inclusive).most_common(n)
    ]


def _strip_line(frame: str) -> str:
    """``route (bot/routing.py:75)`` -> ``route (bot/routing.py)``: one row per function."""
    return re.sub(r":\d+\)$", ")", frame)


@contextlib.contextmanager
def py_spy(
    processes: dict[str, int], directory: Path, rate: int = 100
) -> Iterator[dict[str, Path]]:
    """Samples the given processes with py-spy while the block runs (raw collapsed stacks)."""
    spy = BIN / "py-spy"
    if not spy.exists():
        found = shutil.which("py-spy")
        if not found:
            raise RuntimeError("py-spy is not installed (pip install py-spy)")
        spy = Path(found)
    outputs = {
        label: directory / f"profile-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.txt"
        for label in processes
    }
    recorders = [
        subprocess.Popen(
            # Not --nonblocking: reading a running process gives torn stacks (about 8% of
            # samples here); pausing it for each sample costs little at this rate.
            [str(spy), "record", "--pid", str(pid), "--rate", str(rate)]
            + ["--format", "raw", "--output", str(outputs[label])],
            stdout=subprocess.DEVNULL,
            stderr=(directory / f"py-spy-{pid}.log").open("w"),
        )
        for label, pid in processes.items()
    ]
    try:
        time.sleep(1.0)  # py-spy attaches
        yield outputs
    finally:
        for recorder in recorders:
            if recorder.poll() is None:
                recorder.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        for recorder in recorders:
            try:
                recorder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                recorder.kill()


def summarise_profile(path: Path, categories: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Shares of the busy samples by category, the project's functions and the hottest code."""
    stacks = parse_collapsed(path.read_text()) if path.exists() else []
    working = busy(stacks)
    return {
        "samples": sum(c for _, c in stacks),
        "busy_samples": sum(c for _, c in working),
        "categories": category_shares(working, categories),
        "top_project_functions": top_functions(working),
        "top_self": top_functions(working, 8, keep=lambda frame: True, by_self=True),
    }


def language_layer_cost(messages: Sequence[str], repeats: int = 3) -> dict[str, Any]:
    """Milliseconds per message of ``bot.routing.route`` (what the NLU component runs) and of
    ``bot.nlp.analyse`` alone, and how analyse's time splits over the spaCy pipes."""
    from bot import routing
    from bot.nlp import analyse, build_pipeline, normalise_text

    routing.warm_up()
    nlp = build_pipeline()

    def per_message(function: Callable[[str], Any]) -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            for message in messages:
                function(message)
        return round(1000 * (time.perf_counter() - started) / (repeats * len(messages)), 2)

    pipes: dict[str, float] = defaultdict(float)
    for _ in range(repeats):
        for message in messages:
            started = time.perf_counter()
            doc = nlp.make_doc(normalise_text(message))
            pipes["tokenizer"] += time.perf_counter() - started
            for name, pipe in nlp.pipeline:
                started = time.perf_counter()
                doc = pipe(doc)
                pipes[name] += time.perf_counter() - started
    calls = repeats * len(messages)
    return {
        "messages": len(messages),
        "route_ms": per_message(routing.route),
        "analyse_ms": per_message(analyse),
        "pipes_ms": {name: round(1000 * s / calls, 3) for name, s in pipes.items()},
    }


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


# --- machine -----------------------------------------------------------------------------------


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(ImportError):
        import psutil

        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    nginx = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(["nginx", "-v"], capture_output=True, text=True, timeout=10)
        nginx = found.stderr.strip().rpartition("/")[2] or None
    return {
        "host": platform.node(),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {
            name: _version(name)
            for name in ("rasa", "rasa-sdk", "spacy", "medspacy", "tensorflow", "sanic", "aiohttp")
        }
        | {"nginx": nginx},
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- goals and report --------------------------------------------------------------------------


def _level(results: dict[str, Any], setup: str, concurrency: int) -> dict[str, Any] | None:
    for level in results.get("setups", {}).get(setup, {}).get("levels", []):
        if level["concurrency"] == concurrency:
            return level
    return None


def evaluate_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per goal and setup: what was measured and whether the goal is met (None when it
    could not be measured in this run)."""
    rows: list[dict[str, Any]] = []
    levels = sorted(
        {lv["concurrency"] for s in results.get("setups", {}).values() for lv in s["levels"]}
    )
    for setup in ("single", "scaled"):
        if setup not in results.get("setups", {}):
            continue
        for concurrency in levels:
            ours, stock = _level(results, setup, concurrency), _level(results, "stock", concurrency)
            goal = f"p95 per-turn latency at most {P95_RATIO_GOAL}x the stock bot's"
            if not ours or not stock or not stock["latency_ms"]["p95"] or not ours["turns"]:
                continue
            ratio = ours["latency_ms"]["p95"] / stock["latency_ms"]["p95"]
            rows.append(
                {
                    "goal": goal,
                    "setup": setup,
                    "concurrency": concurrency,
                    "measured": f"{ours['latency_ms']['p95']:.0f} ms vs "
                    f"{stock['latency_ms']['p95']:.0f} ms = {ratio:.2f}x",
                    "value": round(ratio, 3),
                    "met": ratio <= P95_RATIO_GOAL,
                }
            )
        level = _level(results, setup, ERROR_FREE_LEVEL)
        rows.append(
            {
                "goal": f"{ERROR_FREE_LEVEL} concurrent conversations with no error",
                "setup": setup,
                "concurrency": ERROR_FREE_LEVEL,
                "measured": (
                    f"{level['errors']} errors in {level['turns']} turns"
                    if level
                    else "not measured in this run"
                ),
                "value": level["errors"] if level else None,
                "met": (level["errors"] == 0 and level["turns"] > 0) if level else None,
            }
        )
    training = results.get("training")
    trained = bool(training) and training.get("returncode") == 0
    rows.append(
        {
            "goal": f"training under {TRAINING_GOAL_S / 60:.0f} minutes on "
            f"{results.get('machine', {}).get('cores', '?')} cores",
            "setup": "single",
            "concurrency": None,
            "measured": (
                _duration(training["wall_s"])
                if trained
                else ("failed" if training else "not measured in this run")
            ),
            "value": training.get("wall_s") if trained else None,
            "met": (training["wall_s"] < TRAINING_GOAL_S)
            if trained
            else (False if training else None),
        }
    )
    return rows


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def render_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    settings = results["settings"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`scripts/bench.py`); do not edit by hand. "
        + (
            "**This is a quick development run** (fewer conversations and levels): "
            "the figures only show that the benchmark works. "
            if settings.get("quick")
            else ""
        )
        + "All figures come from **one run on the machine named below**, with the load generator "
        "on the same machine; other work running at the same time shows in the CPU table as "
        "'other processes'.",
        "",
        f"- Command: `{results['command']}`",
        f"- Date: {results['started']} to {results['finished']} (UTC)",
        f"- Machine: {machine['host']}, {machine['cores']} cores, {machine['cpu']}, "
        f"{machine['memory_gb']} GB RAM, {machine['os']}; load average at start "
        f"{', '.join(str(x) for x in machine['load_average_at_start'])}",
        "- Versions: Python "
        + machine["python"]
        + ", "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v),
        "",
        "## Goals",
        "",
        "| goal | setup | measured | result |",
        "|---|---|---|---|",
    ]
    for row in results["goals"]:
        where = SETUP_LABELS.get(row["setup"], row["setup"])
        if row["concurrency"] and "p95" in row["goal"]:
            where += f", {row['concurrency']} concurrent"
        lines.append(f"| {row['goal']} | {where} | {row['measured']} | {_verdict(row['met'])} |")

    lines += [
        "",
        "## Per-turn latency and throughput",
        "",
        f"Each conversation is a fresh sender playing a {TURNS_PER_CONVERSATION}-turn script; "
        "'concurrent' conversations run at the same time, each sending its next message as soon "
        "as the reply arrives (no pause, so this is the most load that many people can make). "
        "Latency is measured per turn from sending the request to reading the whole reply, errors "
        "included. An error is a status other than 200, no reply or a failed request; an "
        "unexpected reply lacks what the turn must get (the emergency advice after a red flag, a "
        "source after a question, the first screening question after symptoms). Throughput is "
        "completed turns per second of the level's wall time.",
        "",
        "| setup | concurrent | conversations | turns | errors | unexpected | p50 ms | p95 ms "
        "| p99 ms | max ms | turns/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, setup in results["setups"].items():
        for lv in setup["levels"]:
            lat = lv["latency_ms"]
            lines.append(
                f"| {SETUP_LABELS.get(name, name)} | {lv['concurrency']} | {lv['conversations']} "
                f"| {lv['turns']} | {lv['errors']} | {lv['unexpected']} | {_ms(lat['p50'])} "
                f"| {_ms(lat['p95'])} | {_ms(lat['p99'])} | {_ms(lat['max'])} "
                f"| {lv['throughput_tps']} |"
            )
    error_notes = [
        f"- {SETUP_LABELS.get(name, name)}, {lv['concurrency']} concurrent: "
        + ", ".join(f"{k} x{v}" for k, v in lv["error_kinds"].items())
        + (
            "; unexpected replies by turn kind: "
            + ", ".join(f"{k} x{v}" for k, v in lv["unexpected_kinds"].items())
            if lv["unexpected_kinds"]
            else ""
        )
        for name, setup in results["setups"].items()
        for lv in setup["levels"]
        if lv["error_kinds"] or lv["unexpected_kinds"]
    ]
    if error_notes:
        lines += ["", "Errors and unexpected replies:", "", *error_notes]
    lines += ["", "![Latency percentiles by concurrency](benchmarks.png)", ""]

    kinds = results.get("by_kind", {})
    if kinds:
        lines += [
            "### Latency by kind of turn (our bot, one instance, one conversation at a time)",
            "",
            "| turn | turns | p50 ms | p95 ms | max ms |",
            "|---|---|---|---|---|",
        ]
        for kind, row in kinds.items():
            lines.append(
                f"| {kind} | {row['turns']} | {_ms(row['p50'])} | {_ms(row['p95'])} "
                f"| {_ms(row['max'])} |"
            )
        lines.append("")

    lines += [
        "## CPU during the load",
        "",
        "Percent of one core used by each process during each level (100% = one core busy the "
        "whole time); 'machine busy' is the share of all cores in use, 'other processes' the part "
        "of it used by neither the bot nor the load generator.",
        "",
        "| setup | concurrent | CPU by process | load generator | machine busy | other processes |",
        "|---|---|---|---|---|---|",
    ]
    for name, setup in results["setups"].items():
        for lv in setup["levels"]:
            cpu = dict(lv.get("cpu", {}))
            if not cpu:
                continue
            extra = {"load generator", "machine busy %", "other processes %"}
            procs = ", ".join(f"{k} {v:.0f}%" for k, v in cpu.items() if k not in extra)
            lines.append(
                f"| {SETUP_LABELS.get(name, name)} | {lv['concurrency']} | {procs} "
                f"| {cpu['load generator']:.0f}% | {cpu['machine busy %']:.0f}% "
                f"| {cpu['other processes %']:.0f}% |"
            )

    lines += [
        "",
        "## Memory after the load",
        "",
        "Resident memory (RSS, psutil) of each process, children included, after the last level.",
        "",
        "| setup | process | RSS MB |",
        "|---|---|---|",
    ]
    for name, setup in results["setups"].items():
        rows = setup.get("memory", [])
        for row in rows:
            lines.append(
                f"| {SETUP_LABELS.get(name, name)} | {row['process']} | {row['rss_mb']:.0f} |"
            )
        if len(rows) > 1:
            total = sum(r["rss_mb"] for r in rows)
            lines.append(f"| {SETUP_LABELS.get(name, name)} | **total** | {total:.0f} |")

    lines += [
        "",
        "## Training",
        "",
        "Wall time from start to the model on disk (Python and TensorFlow start-up included); "
        "'other processes' is the share of the machine's cores used by anything else meanwhile.",
        "",
        "| bot | command | wall | CPU time | other processes | result |",
        "|---|---|---|---|---|---|",
    ]
    for label, key in (
        ("our bot", "training"),
        ("stock bot (`rasa init`, trains too)", "stock_init"),
    ):
        run = results.get(key)
        if not run:
            lines.append(f"| {label} | – | not measured in this run | – | – | – |")
        elif "reused" in run:
            lines.append(f"| {label} | – | reused {run['reused']} | – | – | – |")
        else:
            result = "ok" if run["returncode"] == 0 else f"failed ({run['returncode']})"
            other = run.get("other_processes_pct")
            lines.append(
                f"| {label} | `{_short_command(run['command'])}` | {_duration(run['wall_s'])} "
                f"| {_duration(run['cpu_s'])} | {'–' if other is None else f'{other:.0f}%'} "
                f"| {result} |"
            )

    lines += _profile_section(results)
    lines += [
        "",
        "## Setups",
        "",
        *[
            f"- {SETUP_LABELS.get(name, name)}: " + "; ".join(setup.get("notes", []))
            for name, setup in results["setups"].items()
        ],
        *[f"- {note}" for note in results.get("notes", [])],
        "",
        "Raw numbers (every turn's latency) are in `benchmarks.json`.",
        "",
    ]
    return "\n".join(lines)


def _short_command(command: str) -> str:
    return command.replace(str(BIN) + "/", "").replace(str(ROOT) + "/", "")


def _profile_section(results: dict[str, Any]) -> list[str]:
    profile = results.get("profile")
    cost = results.get("language_layer")
    if not profile and not cost:
        return []
    lines = ["", "## Where the time goes", ""]
    if profile:
        lines += [
            f"py-spy sampled the one-instance Rasa server and action server ({profile['rate']} "
            f"samples/s) during {profile['conversations']} extra conversations at "
            f"{profile['concurrency']} concurrent ({profile.get('wall_s', '?')} s), not counted "
            "above. Samples in which a process was waiting for work are left out; the shares are "
            "of the samples in which it was at work, and inclusive: a sample counts for every "
            "category on its stack, so they do not add up to 100%.",
            "",
        ]
        lines += _profile_findings(results)
        for label, data in profile["processes"].items():
            lines += [
                f"**{label}**: {data['busy_samples']} samples at work, "
                f"{data.get('working_pct', 0):.0f}% of the load's wall time",
                "",
                "| where | share of busy samples |",
                "|---|---|",
                *[f"| {row['category']} | {row['share']:.1f}% |" for row in data["categories"]],
                "",
            ]
            if data["top_project_functions"]:
                lines += [
                    "| project function | inclusive | self |",
                    "|---|---|---|",
                    *[
                        f"| `{row['function']}` | {row['inclusive']:.1f}% | {row['self']:.1f}% |"
                        for row in data["top_project_functions"]
                    ],
                    "",
                ]
            if data.get("top_self"):
                lines += [
                    "| hottest code (innermost frame) | self |",
                    "|---|---|",
                    *[f"| `{row['function']}` | {row['self']:.1f}% |" for row in data["top_self"]],
                    "",
                ]
    if cost:
        pipes = ", ".join(f"{name} {ms:.2f}" for name, ms in cost["pipes_ms"].items())
        lines += [
            f"The bot's own language layer, timed in one process over {cost['messages']} free-text "
            f"messages of the scripts: `bot.routing.route` (what the NLU component runs per "
            f"message) {cost['route_ms']:.1f} ms, of which `bot.nlp.analyse` "
            f"{cost['analyse_ms']:.1f} ms; by spaCy pipe (ms): {pipes}.",
            "",
        ]
    return lines


def _share(data: dict[str, Any], prefix: str) -> float | None:
    for row in data.get("categories", []):
        if row["category"].strip().startswith(prefix):
            return row["share"]
    return None


def _profile_findings(results: dict[str, Any]) -> list[str]:
    """The profile's main points in words, from this run's numbers."""
    processes = results["profile"]["processes"]
    rasa, actions = processes.get("Rasa server"), processes.get("action server")
    found = []
    if rasa and rasa["busy_samples"]:
        ranked = sorted(
            (r for r in rasa["categories"] if "all of it" not in r["category"]),
            key=lambda r: -r["share"],
        )
        found.append(
            "- Rasa server, largest shares: "
            + "; ".join(f"{r['category'].strip()} {r['share']:.0f}%" for r in ranked[:4])
            + "."
        )
        validation = _share(rasa, "of which: validating")
        if validation and validation >= 5:
            found.append(
                f"- {validation:.0f}% of the Rasa server's busy time goes into validating the "
                "action server's replies: Rasa 3.6's `RemoteAction._validate_action_result` calls "
                "`jsonschema.validate`, which checks the (constant) response schema against the "
                "JSON Schema metaschema again on every custom action call before checking the "
                "reply. This bot makes one to three such calls per message "
                "(`action_assess_message` after every message, then the answer, or the screening "
                "form's validation and its next question)."
            )
    if rasa and actions and "working_pct" in actions:
        found.append(
            f"- During the profiled load the Rasa server was at work "
            f"{rasa['working_pct']:.0f}% of the time, the action server "
            f"{actions['working_pct']:.0f}%"
            + (
                ": one Rasa process, on one core, is what limits a single instance."
                if actions["working_pct"] < rasa["working_pct"] / 2
                else "."
            )
        )
    found += _load_findings(results)
    cost = results.get("language_layer")
    single = _level(results, "single", 1)
    if cost and single and single["latency_ms"]["p50"]:
        found.append(
            f"- The bot's own language layer costs {cost['route_ms']:.1f} ms per message in the "
            f"NLU component (and about as much again for each analysis in the action server), "
            f"against a median turn of {single['latency_ms']['p50']:.0f} ms."
        )
    return [*found, ""] if found else []


def _load_findings(results: dict[str, Any]) -> list[str]:
    """Why the latency ratios are what they are, from this run's throughput and latency."""
    found = []
    levels = [
        level["concurrency"]
        for level in results.get("setups", {}).get("stock", {}).get("levels", [])
    ]
    if levels:
        top = max(levels)
        stock, single = _level(results, "stock", top), _level(results, "single", top)
        if stock and single and stock["throughput_tps"] and single["throughput_tps"]:
            work = stock["throughput_tps"] / single["throughput_tps"]
            ratio = single["latency_ms"]["p95"] / max(stock["latency_ms"]["p95"], 1e-9)
            found.append(
                f"- At {top} concurrent conversations every process is saturated and turns "
                f"queue, so latency follows throughput: the stock bot completed "
                f"{stock['throughput_tps']:.0f} turns/s, one instance of this bot "
                f"{single['throughput_tps']:.0f} turns/s, i.e. each turn of this bot takes "
                f"about {work:.2f}x the stock bot's processing time, and its p95 is "
                f"{ratio:.2f}x. The extra work per message is what the bot is for: the red-flag "
                "analysis in the NLU "
                "component, a custom action call after every message (Rasa sends the whole "
                "conversation as JSON each time) and one or two more for the answer or the "
                "screening step, more rules and slots for the policies, and an SQL tracker "
                "store where the stock bot keeps conversations in memory."
            )
    single, scaled = _level(results, "single", 1), _level(results, "scaled", 1)
    if single and scaled:
        extra = scaled["latency_ms"]["p50"] - single["latency_ms"]["p50"]
        found.append(
            f"- One conversation at a time, the scaled setup's median turn is {extra:+.0f} ms "
            "against one instance: nginx in front, PostgreSQL instead of SQLite and Redis locks "
            "are network round trips on every message. Its purpose is more capacity, not a "
            f"faster turn, and on this machine's {results['machine']['cores']} cores its Rasa "
            "replicas, action servers, nginx, PostgreSQL, Redis and the load generator share the "
            "same CPUs, so it cannot show the capacity of separate machines."
        )
    return found


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"single": ("tab:blue", "o"), "scaled": ("tab:green", "s"), "stock": ("tab:gray", "^")}
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    for ax, key in zip(axes, ("p50", "p95", "p99"), strict=True):
        for name, setup in results["setups"].items():
            points = [
                (lv["concurrency"], lv["latency_ms"][key])
                for lv in setup["levels"]
                if lv["latency_ms"][key] is not None
            ]
            if not points:
                continue
            colour, marker = styles.get(name, ("tab:red", "x"))
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker=marker, color=colour, label=SETUP_LABELS.get(name, name))
        ax.set_title(f"{key} per-turn latency")
        ax.set_xlabel("concurrent conversations")
        ax.set_xscale("log")
        ax.set_yscale("log")
        levels = sorted(
            {lv["concurrency"] for s in results["setups"].values() for lv in s["levels"]}
        )
        ax.set_xticks(levels)
        ax.set_xticklabels([str(x) for x in levels])
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms (log scale)")
    axes[0].legend(fontsize=8)
    figure.suptitle(
        f"{results['machine']['cores']} cores, {results['machine']['cpu']}, {results['started']}"
        + (" (quick run)" if results["settings"].get("quick") else ""),
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# --- the run -----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_levels(
    setups: Sequence[Setup],
    levels: Sequence[int],
    min_conversations: int,
    run_id: str,
    seed: str,
) -> dict[str, dict[str, Any]]:
    """Every level for every setup, the setups taking turns at each level so that a change in the
    machine's background load during the run falls on all of them alike."""
    out: dict[str, dict[str, Any]] = {
        s.name: {"levels": [], "raw": [], "notes": s.notes} for s in setups
    }
    for concurrency in levels:
        conversations = max(concurrency, min_conversations)
        for setup in setups:
            bot = "stock" if setup.name == "stock" else "ours"
            meter = CpuMeter(setup.processes)
            meter.start()
            records, wall = asyncio.run(
                drive(
                    setup.url,
                    bot,
                    concurrency,
                    conversations,
                    f"bench-{run_id}-{setup.name}-c{concurrency}",
                    seed,
                )
            )
            summary = level_summary(records, wall, concurrency, conversations)
            summary["cpu"] = meter.stop()
            out[setup.name]["levels"].append(summary)
            out[setup.name]["raw"].extend(
                {**asdict(r), "concurrency": concurrency, "latency_ms": round(r.latency_ms, 1)}
                for r in records
            )
            lat = summary["latency_ms"]
            log(
                f"{setup.name:6} c={concurrency:<3} turns={summary['turns']:<5} "
                f"errors={summary['errors']} unexpected={summary['unexpected']} "
                f"p50={_ms(lat['p50'])} p95={_ms(lat['p95'])} p99={_ms(lat['p99'])} ms "
                f"{summary['throughput_tps']} turns/s"
            )
    return out


def warm(setup: Setup, seed: str, conversations: int = 2) -> None:
    """A few conversations first, not counted: the first messages after a start are slow."""
    bot = "stock" if setup.name == "stock" else "ours"
    records, _ = asyncio.run(
        drive(setup.url, bot, conversations, conversations, f"warm-{setup.name}", seed)
    )
    failed = [r for r in records if r.error]
    if failed:
        log(f"warning: {len(failed)} errors while warming up {setup.name}: {failed[0].error}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run for development")
    parser.add_argument("--levels", help="concurrency levels, e.g. 1,10,50 (default: 1,10,50)")
    parser.add_argument(
        "--min-conversations",
        type=int,
        help="conversations per level at least (default 10; quick 3)",
    )
    parser.add_argument("--seed", default="bench", help="wording of the scripts")
    parser.add_argument(
        "--train",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure training (default: yes; quick: no)",
    )
    parser.add_argument(
        "--stock",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the stock rasa init bot",
    )
    parser.add_argument(
        "--scaled",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the scaled setup (scripts.cluster)",
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="profile the one-instance servers with py-spy",
    )
    parser.add_argument("--rasa-replicas", type=int, default=2)
    parser.add_argument("--action-replicas", type=int, default=2)
    parser.add_argument(
        "--stock-dir", type=Path, help="keep the stock project here and reuse its model next time"
    )
    parser.add_argument("--url", help="measure only the bot already running at this URL")
    parser.add_argument("--out", type=Path, default=DOCS, help="where the results go")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="measure nothing: write the report and plot again from a benchmarks.json",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the logs, models and raw profiles here (default: a temporary directory)",
    )
    args = parser.parse_args(argv)
    args.levels = [
        int(x) for x in (args.levels or ("1,10" if args.quick else "1,10,50")).split(",")
    ]
    if args.min_conversations is None:
        args.min_conversations = 3 if args.quick else 10
    if args.train is None:
        args.train = not args.quick
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        results["goals"] = evaluate_goals(results)
        write(results, args.out)
        return 0
    command = "python -m scripts.bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    run_id = uuid.uuid4().hex[:6]
    results: dict[str, Any] = {
        "command": command.strip(),
        "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": machine_facts(),
        "settings": {
            "quick": args.quick,
            "levels": args.levels,
            "min_conversations": args.min_conversations,
            "turns_per_conversation": TURNS_PER_CONVERSATION,
            "seed": args.seed,
        },
        "notes": [],
    }
    log(f"{results['machine']['cores']} cores, {results['machine']['cpu']}; levels {args.levels}")
    with contextlib.ExitStack() as stack:
        if args.workdir:
            workdir = args.workdir.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        setups: list[Setup] = []

        def started(setup: Setup) -> Setup:
            stack.callback(setup.stop)
            return setup

        if args.url:
            setups.append(Setup("url", args.url, {}, lambda: None, [args.url]))
        else:
            if args.train:
                log("training this bot (rasa train --force, temporary output)...")
                results["training"] = time_training(workdir)
                log(f"training: {results['training']['wall_s']} s")
            stock_dir = args.stock_dir or workdir / "stock"
            if args.stock:
                log(f"the stock bot (rasa init --no-prompt) in {stock_dir}...")
                results["stock_init"] = init_stock(stock_dir)
            log("starting our bot and the stock bot...")
            from concurrent.futures import ThreadPoolExecutor

            (workdir / "single").mkdir(exist_ok=True)
            starts = [(start_single, workdir / "single")]
            if args.stock:
                starts.insert(0, (start_stock, stock_dir))
            with ThreadPoolExecutor(len(starts)) as pool:
                futures = [pool.submit(function, where) for function, where in starts]
            failures = []
            for future in futures:
                try:
                    setups.append(started(future.result()))
                except Exception as error:  # noqa: BLE001 - stop the others, then say why
                    failures.append(error)
            if failures:
                raise failures[0]
        for setup in setups:
            warm(setup, args.seed)
        results["setups"] = run_levels(
            setups, args.levels, args.min_conversations, run_id, args.seed
        )
        for setup in setups:
            results["setups"][setup.name]["memory"] = memory(setup.processes)
        if args.profile and not args.url:
            single = next(s for s in setups if s.name == "single")
            results["profile"] = profile_single(single, workdir, args, run_id)
        for setup in setups:
            setup.stop()
        if args.scaled and not args.url:
            if cluster_available():
                log("starting the scaled setup (scripts.cluster)...")
                try:
                    scaled = started(
                        start_scaled(workdir, args.rasa_replicas, args.action_replicas)
                    )
                except (RuntimeError, OSError, ValueError, KeyError) as error:
                    # PostgreSQL or Redis missing, say: the other figures still stand.
                    log(f"the scaled setup did not start: {error}")
                    results["notes"].append(
                        "The scaled setup was not measured: it did not start "
                        f"({str(error).splitlines()[0]})."
                    )
                else:
                    warm(scaled, args.seed, conversations=2 * args.rasa_replicas)
                    results["setups"].update(
                        run_levels([scaled], args.levels, args.min_conversations, run_id, args.seed)
                    )
                    results["setups"]["scaled"]["memory"] = memory(scaled.processes)
                    scaled.stop()
            else:
                results["notes"].append("The scaled setup was not measured: no scripts/cluster.")
    if not args.url:
        log("timing the language layer in-process...")
        results["language_layer"] = language_layer_cost(script_messages(args.seed))
    measured = results["setups"].get("single") or results["setups"].get("url") or {}
    single_raw = measured.get("raw", [])
    results["by_kind"] = by_kind(r for r in single_raw if r["concurrency"] == min(args.levels))
    results["finished"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    results["goals"] = evaluate_goals(results)
    write(results, args.out)
    for row in results["goals"]:
        log(f"{_verdict(row['met']):14} {row['goal']} ({row['setup']}): {row['measured']}")
    return 0


def profile_single(setup: Setup, workdir: Path, args: argparse.Namespace, run_id: str) -> dict:
    concurrency = 10
    conversations = 10 if not args.quick else 5
    log(f"profiling our bot with py-spy ({conversations} conversations at {concurrency})...")
    labels = {
        "Rasa server": setup.processes["rasa"],
        "action server": setup.processes["action server"],
    }
    with py_spy(labels, workdir, rate=PROFILE_RATE) as outputs:
        started = time.perf_counter()
        asyncio.run(
            drive(setup.url, "ours", concurrency, conversations, f"profile-{run_id}", args.seed)
        )
        wall = time.perf_counter() - started
    categories = {"Rasa server": RASA_CATEGORIES, "action server": ACTION_CATEGORIES}
    processes = {}
    for label, path in outputs.items():
        summary = summarise_profile(path, categories[label])
        # py-spy leaves out the samples in which the process was idle: the rest, against all
        # the samples the load's wall time held, is the share of the time it was working.
        summary["working_pct"] = round(100 * summary["busy_samples"] / (PROFILE_RATE * wall), 1)
        processes[label] = summary
    if not any(p["samples"] for p in processes.values()):
        log(f"warning: py-spy recorded nothing; see {workdir}/py-spy-*.log")
    return {
        "rate": PROFILE_RATE,
        "wall_s": round(wall, 1),
        "concurrency": concurrency,
        "conversations": conversations,
        "processes": processes,
    }


def write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "benchmarks.md").write_text(render_markdown(results))
    plot(results, out / "benchmarks.png")
    log(f"wrote {out / 'benchmarks.md'}, benchmarks.png and benchmarks.json")


if __name__ == "__main__":
    sys.exit(main())
