"""One scaled cluster per test session, started and stopped with scripts/cluster.py.

2 Rasa servers and 2 action servers behind nginx, a PostgreSQL database of its own (dropped at
the end) and a Redis key prefix of its own. PostgreSQL and Redis are reached through TCP relays
the tests can cut (tests/cluster/tcp_proxy.py), so a database restart or an unreachable Redis
can be staged without touching the machine's shared servers.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.processes import MODEL, ROOT, api_token, free_port

PYTHON = str(Path(sys.executable).parent / "python")
POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Relay:
    """A TCP relay to PostgreSQL or Redis that a test can stop (cutting every connection)."""

    port: int
    target: tuple[str, int]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "tests.cluster.tcp_proxy", str(self.port), *map(str, self.target)],
            cwd=ROOT,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"relay on {self.port} did not start: {self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class ClusterUnderTest:
    dir: Path
    env: dict[str, str]
    database: str
    postgres: Relay
    redis: Relay

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "-m", "scripts.cluster", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def status(self) -> dict[str, Any]:
        result = self.cli("status", "--json", timeout=60)
        return json.loads(result.stdout)

    @property
    def state(self) -> dict[str, Any]:
        return json.loads((self.dir / "cluster.json").read_text())

    @property
    def url(self) -> str:
        return self.state["url"]

    def replica_url(self, index: int) -> str:
        return self.state["rasa"][index]["url"]

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_token(self.env['RASA_JWT_SECRET'])}"}

    def tracker(self, sender: str) -> dict[str, Any]:
        # The HTTP API is not behind nginx: ask a replica (any one reads the shared store).
        response = requests.get(
            f"{self.replica_url(0)}/conversations/{sender}/tracker", headers=self.auth(), timeout=60
        )
        assert response.status_code == 200, response.text
        return response.json()

    def log_marks(self) -> dict[str, int]:
        """Where the Rasa logs end now (see ``logs_since``)."""
        return {r["log"]: Path(r["log"]).stat().st_size for r in self.state["rasa"]}

    def logs_since(self, marks: dict[str, int]) -> str:
        """What the Rasa servers logged since ``log_marks``."""
        text = []
        for path, offset in marks.items():
            with open(path, "rb") as log:
                log.seek(offset)
                text.append(log.read().decode(errors="replace"))
        return "\n".join(text)

    def ensure_started(self) -> None:
        """Brings back whatever a test stopped (the script's own idempotent start)."""
        result = self.cli("start")
        assert result.returncode == 0, result.stdout + result.stderr


def with_socket_channel(source: Path, target: Path) -> Path:
    """The repository's channels, plus Rasa's socket.io channel unless one is configured."""
    text = source.read_text()
    if "socketio" not in text and "webchat" not in text:
        text += "\nsocketio:\n  user_message_evt: user_uttered\n  bot_message_evt: bot_uttered\n"
    target.write_text(text)
    return target


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterUnderTest]:
    if not MODEL.exists():
        raise RuntimeError(f"No trained model at {MODEL}: run `make train` first.")
    work = tmp_path_factory.mktemp("cluster")
    run_id = secrets.token_hex(4)
    postgres = Relay(free_port(), POSTGRES, work / "relay-postgres.log")
    redis = Relay(free_port(), REDIS, work / "relay-redis.log")
    database = f"sciatica_test_{run_id}"
    env = {
        **os.environ,
        "RASA_REPLICAS": "2",
        "ACTION_REPLICAS": "2",
        "CLUSTER_DIR": str(work / "cluster"),
        "CLUSTER_PORT": str(free_port()),
        "TRACKER_DB_URL": f"postgresql://postgres@127.0.0.1:{postgres.port}/{database}",
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/15",
        "LOCK_KEY_PREFIX": f"test{run_id}",
        "CLUSTER_CREDENTIALS": str(
            with_socket_channel(ROOT / "credentials.yml", work / "credentials.yml")
        ),
        "RASA_JWT_SECRET": secrets.token_hex(32),
        "ACTION_SERVER_TOKEN": secrets.token_hex(32),
    }
    for name in ("CLUSTER_RATE_LIMIT", "CLUSTER_RATE_BURST", "BOT_ALLOWED_ORIGINS"):
        env.pop(name, None)
    under_test = ClusterUnderTest(work / "cluster", env, database, postgres, redis)
    postgres.start()
    redis.start()
    try:
        result = under_test.cli("start")
        if result.returncode != 0:
            raise RuntimeError(f"The cluster did not start:\n{result.stdout}\n{result.stderr}")
        yield under_test
    finally:
        for relay in (postgres, redis):  # a failed test may have left one cut
            if relay.process is None:
                relay.start()
        stopped = under_test.cli("stop", "--drop-database", timeout=300)
        postgres.stop()
        redis.stop()
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
