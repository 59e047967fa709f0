"""The process helpers shared by the tests, the benchmark and the cluster (scripts/processes.py).

Only the cheap parts: ports, health checks, waiting, tokens and environments. Starting the real
servers is what the integration suites do.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest

from scripts.processes import (
    CHANNEL_VARS,
    JWT_METHOD,
    api_token,
    base_env,
    free_port,
    healthy,
    wait_for,
)


class Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 500)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_free_port_can_be_listened_on() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", free_port()))


def test_healthy_only_for_a_200(server: str) -> None:
    assert healthy(f"{server}/ok")
    assert not healthy(f"{server}/broken")
    assert not healthy(f"http://127.0.0.1:{free_port()}/", timeout=1)


def test_waiting_ends_when_the_server_answers(server: str, tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        wait_for(f"{server}/ok", process, tmp_path / "unused.log", timeout=10)
    finally:
        process.kill()
        process.wait()


def test_a_process_that_stops_while_starting_is_an_error_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("Traceback: the model is missing\n")
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    with pytest.raises(RuntimeError, match="the model is missing"):
        wait_for(f"http://127.0.0.1:{free_port()}/", process, log, timeout=10)


def test_the_api_token_is_the_one_an_operator_mints() -> None:
    secret = "s" * 32
    claims = jwt.decode(api_token(secret, "user", "c1"), secret, algorithms=[JWT_METHOD])
    assert claims == {"user": {"username": "c1", "role": "user"}}


def test_channels_stay_off_unless_set_and_extra_settings_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in CHANNEL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    env = base_env({"RASA_TELEMETRY_ENABLED": "true"})
    assert env["TELEGRAM_BOT_TOKEN"] == "123:abc"
    assert all(env[name] == "" for name in CHANNEL_VARS if name != "TELEGRAM_BOT_TOKEN")
    assert env["RASA_TELEMETRY_ENABLED"] == "true"
    assert base_env()["RASA_TELEMETRY_ENABLED"] == "false"
