"""Fixtures that start the real action server and Rasa server on free local ports.

The servers use a temporary SQLite tracker store, so tests never touch var/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "sciatica.tar.gz"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} did not start:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log.read_text()[-3000:]}")


@dataclass
class Servers:
    rasa_url: str
    actions_url: str
    workdir: Path
    rasa: subprocess.Popen
    endpoints: Path
    rasa_port: int

    def say(self, sender: str, message: Any) -> list[dict[str, Any]]:
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        response = requests.get(f"{self.rasa_url}/conversations/{sender}/tracker", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def slots(self, sender: str) -> dict[str, Any]:
        return self.tracker(sender)["slots"]


def start_rasa(workdir: Path, endpoints: Path, port: int) -> subprocess.Popen:
    log = workdir / f"rasa-{port}.log"
    process = subprocess.Popen(
        [
            str(BIN / "rasa"),
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
            str(ROOT / "credentials.yml"),
        ],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"},
    )
    wait_for(f"http://127.0.0.1:{port}/status", process, log)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train` first.")
    workdir = tmp_path_factory.mktemp("servers")
    actions_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
        "tracker_store:\n  type: stores.tracker_store.PrivateSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {workdir / 'tracker.db'}\n"
        "lock_store:\n  type: in_memory\n"
    )
    actions_log = workdir / "actions.log"
    actions = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--port", str(actions_port), "--actions", "actions"],
        cwd=ROOT,
        stdout=actions_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{actions_port}/health", actions, actions_log)
        rasa = start_rasa(workdir, endpoints, rasa_port)
    except Exception:
        stop(actions)
        raise
    running = Servers(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        actions_url=f"http://127.0.0.1:{actions_port}",
        workdir=workdir,
        rasa=rasa,
        endpoints=endpoints,
        rasa_port=rasa_port,
    )
    yield running
    stop(running.rasa)
    stop(actions)


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if "text" in m]
