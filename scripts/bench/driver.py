"""The load: conversations sent at a given concurrency, and what they measured.

``drive`` plays conversations from ``workload`` against a bot's REST webhook, ``concurrency``
at a time, each a fresh sender sending its next message as soon as the reply arrives, and
records every turn's latency and result; ``level_summary`` turns those records into percentiles,
errors and throughput. ``CpuMeter`` and ``memory`` measure the bot's processes meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scripts.bench.workload import check_reply, make_conversation

WEBHOOK = "/webhooks/rest/webhook"
REQUEST_TIMEOUT_S = 120.0


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
        snap["machine"] = busy_cpu_seconds(machine)
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


def busy_cpu_seconds(times: Any) -> float:
    """CPU seconds spent at work (user, system, nice) in a ``psutil.cpu_times()`` reading."""
    return times.user + times.system + getattr(times, "nice", 0.0)
