"""The bots under test, started and stopped: one instance, the scaled setup, a stock bot.

Each ``start_*`` returns a ``Setup``: the bot's URL, its processes (for the CPU and memory
tables) and how to stop it. One instance is started as ``make run`` starts it
(``scripts.processes.start_bot``), the scaled setup with ``scripts.cluster``, the stock bot with
``rasa run`` in a ``rasa init`` project. Training is timed here too: ``time_training`` for this
bot, ``init_stock`` for the stock bot (``rasa init`` trains).
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shlex
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.bench.driver import busy_cpu_seconds
from scripts.processes import BIN, ROOT, base_env, free_port, start_bot, stop, wait_for


@dataclass
class Setup:
    """A running bot under test: its public URL, its processes and how to stop it."""

    name: str
    url: str
    processes: dict[str, int]
    stop: Callable[[], None]
    notes: list[str] = field(default_factory=list)


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The servers' environment (``base_env``), with a fixed hash seed unless one is set."""
    return base_env({"PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0"), **(extra or {})})


def start_single(workdir: Path) -> Setup:
    """The action server and Rasa, as ``make run`` starts them (SQLite tracker store)."""
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
        env=server_env({"RASA_CACHE_DIRECTORY": str(directory / ".rasa" / "cache")}),
    )


def start_stock(directory: Path) -> Setup:
    """``rasa run`` in the stock project, on its newest model."""
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
        env=server_env(),
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
    database = f"bench_{uuid.uuid4().hex[:10]}"
    env = server_env(
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

    def stop_cluster() -> None:
        subprocess.run(
            [*command, "stop", "--drop-database"], cwd=ROOT, env=env, capture_output=True
        )

    log = workdir / "cluster-start.log"
    with log.open("w") as out:
        started = subprocess.run(
            [*command, "start"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if started.returncode != 0:
        stop_cluster()
        raise RuntimeError(f"scripts.cluster start failed:\n{log.read_text()[-3000:]}")
    try:
        status = subprocess.run(
            [*command, "status", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        state = json.loads(status.stdout)
        processes = cluster_processes(state)
    except (ValueError, KeyError, TypeError):
        stop_cluster()
        raise
    return Setup(
        "scaled",
        state["url"],
        processes,
        stop_cluster,
        [
            f"{rasa_replicas} Rasa replicas, {action_replicas} action servers behind nginx; "
            "PostgreSQL tracker store, Redis lock store (shared services, not in the memory table)",
            "nginx rate limit lifted for the load generator",
        ],
    )


def _timed(command: list[str], *, cwd: Path, log: Path, env: dict[str, str]) -> dict[str, Any]:
    """Runs a command, and says how long it took (wall and CPU of the process and its children)
    and how busy the rest of the machine was meanwhile (percent of all cores)."""
    import psutil

    machine_before = busy_cpu_seconds(psutil.cpu_times())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = busy_cpu_seconds(psutil.cpu_times()) - machine_before
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
        env=server_env({"RASA_CACHE_DIRECTORY": str(out / "cache")}),
    )
