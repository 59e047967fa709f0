"""The command line and the order of a run: ``python -m scripts.bench`` (``make bench``).

``main`` trains and starts the bots under test (``setups``), warms them up, runs every
concurrency level for every setup (``driver``), measures memory, profiles (``profile``), then
the scaled setup alone, and writes the report (``report``). The options are in ``parse_args``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import scripts.bench
from scripts.bench import log
from scripts.bench.driver import CpuMeter, by_kind, drive, level_summary, memory
from scripts.bench.findings import evaluate_goals, verdict
from scripts.bench.profile import language_layer_cost, profile_single
from scripts.bench.report import format_ms, write
from scripts.bench.setups import (
    Setup,
    cluster_available,
    init_stock,
    start_scaled,
    start_single,
    start_stock,
    time_training,
)
from scripts.bench.workload import TURNS_PER_CONVERSATION, script_messages
from scripts.processes import ROOT

DOCS = ROOT / "docs"


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict[str, Any]:
    """The machine and the versions that matter, for the report's header."""
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
                f"p50={format_ms(lat['p50'])} p95={format_ms(lat['p95'])} "
                f"p99={format_ms(lat['p99'])} ms "
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
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench", description=scripts.bench.__doc__.splitlines()[0]
    )
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
        log(f"{verdict(row['met']):14} {row['goal']} ({row['setup']}): {row['measured']}")
    return 0
