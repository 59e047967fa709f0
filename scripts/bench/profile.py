"""Where the time goes: py-spy on the running servers, and the language layer in-process.

``profile_single`` samples the one-instance Rasa server and action server with py-spy while a
few extra conversations run, and ``summarise_profile`` sorts the samples into the categories
below (by the frames on each stack). ``language_layer_cost`` times
``bot.understanding.understand`` and ``bot.nlp.analyse`` per message without any server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from scripts.bench import log
from scripts.bench.driver import drive
from scripts.bench.setups import Setup
from scripts.processes import BIN, ROOT

# Where a sample of the Rasa process or the action server is spent, judged by the frames on its
# stack (py-spy's "function (file:line)"). Inclusive: a sample counts for every category one of its
# frames matches, so shares do not add up to 100%.
RASA_CATEGORIES = [
    ("handling a message (all of it)", r"rasa/core/processor\.py"),
    (
        "NLU: SymptomExtractor (bot.understanding: spaCy, ConText, red-flag rules)",
        r"symptom_extractor|understanding",
    ),
    ("NLU: DIET classifier (TensorFlow)", r"diet_classifier\.py"),
    ("NLU: tokenizer and featurizers", r"rasa/nlu/(featurizers|tokenizers)/"),
    ("dialogue policies", r"rasa/core/policies/"),
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
    """Milliseconds per message of ``bot.understanding.understand`` (what the NLU component
    runs) and of ``bot.nlp.analyse`` alone, and how analyse's time splits over the spaCy pipes."""
    from bot.nlp import analyse, build_pipeline, normalise_text
    from bot.understanding import understand, warm_up

    warm_up()
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
        "route_ms": per_message(understand),
        "analyse_ms": per_message(analyse),
        "pipes_ms": {name: round(1000 * s / calls, 3) for name, s in pipes.items()},
    }


def profile_single(setup: Setup, workdir: Path, args: argparse.Namespace, run_id: str) -> dict:
    """py-spy on the one-instance servers during a few extra conversations, not counted in the
    levels: where their busy samples went, and how much of the time each was at work."""
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
