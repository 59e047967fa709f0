"""Start and stop the bot's real servers: the action server and Rasa, on free local ports.

Shared by everything that runs the bot as processes: the test suites that talk to a running bot
(integration, channels, widget, security, cluster), the benchmark (``scripts.bench``) and the
scaled setup (``scripts.cluster``). They all run the bot the way ``make run`` does: the action
server from ``python -m actions.server`` with a shared token, Rasa with JWT auth on its HTTP API.
Also here: a free port, waiting until a server answers, stopping a process, minting an API token.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from scripts.api_token import mint

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "sciatica.tar.gz"
BIN = Path(sys.executable).parent
JWT_METHOD = "HS256"


def free_port() -> int:
    """A local port nothing listens on at the moment (the system picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str, timeout: float = 3) -> bool:
    """The URL answers 200 now (a refused or slow connection is False, not an error)."""
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    """Waits until the URL answers 200; an error with the log's end if the process stops first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} did not start:\n{log.read_text()[-3000:]}")
        if healthy(url, timeout=2):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def api_token(secret: str, role: str = "admin", username: str = "tests") -> str:
    """A JWT for Rasa's HTTP API, the way an operator mints one (``scripts.api_token``)."""
    return mint(secret, role, username, hours=None)


# Channel settings credentials.yml reads; empty means the channel is off (as in `make run`).
CHANNEL_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BOT_USERNAME",
    "TELEGRAM_WEBHOOK_SECRET",
)


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    for name in CHANNEL_VARS:
        env.setdefault(name, "")
    env.update(extra or {})
    return env


def start_actions(
    workdir: Path,
    port: int,
    token: str,
    env: Mapping[str, str] | None = None,
    *,
    wait: bool = True,
) -> subprocess.Popen:
    """The action server; with ``wait=False`` it is left starting (see ``ready``)."""
    log = workdir / f"actions-{port}.log"
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=base_env({"ACTION_SERVER_TOKEN": token, **(env or {})}),
    )
    if wait:
        ready(process, f"http://127.0.0.1:{port}/health", log)
    return process


def ready(process: subprocess.Popen, url: str, log: Path) -> None:
    """Waits until a started server answers at ``url``; stops it if it never does."""
    try:
        wait_for(url, process, log)
    except Exception:
        stop(process)
        raise


def write_endpoints(
    workdir: Path,
    actions_port: int,
    *,
    tracker_store: str | None = None,
    lock_store: str = "lock_store:\n  type: in_memory\n",
    name: str = "endpoints.yml",
) -> Path:
    """An endpoints file like the repository's, with a temporary SQLite tracker store."""
    tracker_store = tracker_store or (
        "tracker_store:\n  type: stores.tracker_store.PrivateSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {workdir / 'tracker.db'}\n"
    )
    path = workdir / name
    path.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
        "  headers:\n    X-Action-Token: ${ACTION_SERVER_TOKEN}\n" + tracker_store + lock_store
    )
    return path


def start_rasa(
    workdir: Path,
    endpoints: Path,
    port: int,
    *,
    jwt_secret: str,
    action_token: str,
    credentials: Path | None = None,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    wait: bool = True,
) -> subprocess.Popen:
    """The Rasa server; with ``wait=False`` it is left loading its model (see ``ready``)."""
    log = workdir / f"rasa-{port}.log"
    process = subprocess.Popen(
        [
            str(BIN / "python"),
            "-m",
            "scripts.rasa_server",  # `rasa` taking the JWT secret from RASA_JWT_SECRET
            "run",
            "--enable-api",
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(MODEL),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(credentials or ROOT / "credentials.yml"),
            "--jwt-method",
            JWT_METHOD,
            *extra_args,
        ],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=base_env(
            {"ACTION_SERVER_TOKEN": action_token, "RASA_JWT_SECRET": jwt_secret, **(env or {})}
        ),
    )
    if wait:
        ready(process, f"http://127.0.0.1:{port}/", log)
    return process


@dataclass
class Bot:
    """A running action server and Rasa server, and how to talk to them."""

    workdir: Path
    rasa: subprocess.Popen
    actions: subprocess.Popen
    rasa_port: int
    actions_port: int
    endpoints: Path
    jwt_secret: str
    action_token: str
    credentials: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    extra_args: tuple[str, ...] = ()

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def rasa_log(self) -> Path:
        return self.workdir / f"rasa-{self.rasa_port}.log"

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {api_token(self.jwt_secret, role)}"}

    def say(self, sender: str, message: Any) -> list[dict[str, Any]]:
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        response = requests.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", headers=self.auth(), timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()

    def slots(self, sender: str) -> dict[str, Any]:
        return self.tracker(sender)["slots"]

    def restart_rasa(self) -> None:
        stop(self.rasa)
        self.rasa = start_rasa(
            self.workdir,
            self.endpoints,
            self.rasa_port,
            jwt_secret=self.jwt_secret,
            action_token=self.action_token,
            credentials=self.credentials,
            env=self.env,
            extra_args=self.extra_args,
        )

    def stop(self) -> None:
        stop(self.rasa)
        stop(self.actions)


def start_bot(
    workdir: Path,
    *,
    credentials: Path | None = None,
    env: Mapping[str, str] | None = None,
    tracker_store: str | None = None,
    lock_store: str = "lock_store:\n  type: in_memory\n",
    extra_args: Sequence[str] = (),
    rasa_port: int | None = None,
) -> Bot:
    """Starts an action server and a Rasa server that talk to each other; ``Bot.stop`` ends both.

    ``rasa_port``: where Rasa listens (default: a free port), for settings that name the bot's
    own address before it starts.
    """
    if not MODEL.exists():
        raise RuntimeError(f"No trained model at {MODEL}: run `make train` first.")
    actions_port, rasa_port = free_port(), rasa_port or free_port()
    jwt_secret, action_token = secrets.token_hex(32), secrets.token_hex(32)
    endpoints = write_endpoints(
        workdir, actions_port, tracker_store=tracker_store, lock_store=lock_store
    )
    # Both load at once: Rasa needs the action server only when the first message comes.
    actions = start_actions(workdir, actions_port, action_token, env, wait=False)
    rasa = start_rasa(
        workdir,
        endpoints,
        rasa_port,
        jwt_secret=jwt_secret,
        action_token=action_token,
        credentials=credentials,
        env=env,
        extra_args=extra_args,
        wait=False,
    )
    try:
        ready(
            actions,
            f"http://127.0.0.1:{actions_port}/health",
            workdir / f"actions-{actions_port}.log",
        )
        ready(rasa, f"http://127.0.0.1:{rasa_port}/", workdir / f"rasa-{rasa_port}.log")
    except Exception:
        stop(actions)
        stop(rasa)
        raise
    return Bot(
        workdir=workdir,
        rasa=rasa,
        actions=actions,
        rasa_port=rasa_port,
        actions_port=actions_port,
        endpoints=endpoints,
        jwt_secret=jwt_secret,
        action_token=action_token,
        credentials=credentials,
        env=dict(env or {}),
        extra_args=tuple(extra_args),
    )


def command_lines() -> dict[int, str]:
    """Every running process's command line, by pid (what ``ps`` shows any user)."""
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                pass
    return lines
