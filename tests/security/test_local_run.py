"""`make run` and `make shell` as a person runs them (scripts/run.sh): what they print, which
interfaces they listen on, and that no secret is on any process's command line."""

from __future__ import annotations

import os
import pty
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from scripts.processes import ROOT, base_env, command_lines, free_port

pytestmark = pytest.mark.integration

RUN_SH = ROOT / "scripts" / "run.sh"
# A JWT (three base64url parts, the first one a JSON header) or a long hex secret.
TOKEN_LIKE = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*|\b[0-9a-f]{40,}\b")
START_TIMEOUT = 900


@dataclass
class Started:
    """scripts/run.sh running in its own session, its output collected as it comes."""

    process: subprocess.Popen
    secrets: dict[str, str]
    ports: dict[str, int]
    output: list[str] = field(default_factory=list)
    terminal: int = -1  # our side of the pseudo-terminal, when run.sh has one

    def type_line(self, line: str) -> None:
        os.write(self.terminal, line.encode() + b"\r")

    def text(self) -> str:
        return "".join(self.output)

    def wait_for(self, condition: object, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not condition():  # type: ignore[operator]
            if self.process.poll() is not None:
                raise AssertionError(f"run.sh stopped before {what}:\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {START_TIMEOUT}s:\n{self.text()[-3000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C, as a person stops it
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_run_sh(*args: str, terminal: bool = False) -> Started:
    """run.sh with fresh secrets in its environment and free ports."""
    chosen = {name: secrets.token_hex(32) for name in ("RASA_JWT_SECRET", "ACTION_SERVER_TOKEN")}
    ports = {name: free_port() for name in ("RASA_PORT", "ACTIONS_PORT", "SHELL_PORT")}
    env = base_env({**chosen, **{k: str(v) for k, v in ports.items()}, "TERM": "xterm"})
    if terminal:  # `rasa shell` wants a terminal to prompt in
        controller, terminal_side = pty.openpty()
        stdin = stdout = terminal_side
    else:
        controller, terminal_side = -1, -1
        stdin, stdout = subprocess.DEVNULL, subprocess.PIPE
    process = subprocess.Popen(
        ["bash", str(RUN_SH), *args],
        cwd=ROOT,
        env=env,
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started = Started(process, chosen, ports, terminal=controller)

    def collect() -> None:
        while True:
            try:
                if terminal:
                    chunk = os.read(controller, 4096)
                else:
                    chunk = process.stdout.read1(4096)  # type: ignore[union-attr]
            except OSError:
                return
            if not chunk:
                return
            started.output.append(chunk.decode(errors="replace"))

    if terminal:
        os.close(terminal_side)
    threading.Thread(target=collect, daemon=True).start()
    return started


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the TCP sockets listening on ``port`` (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
                else:
                    words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, 32, 8)]
                    found.add(socket.inet_ntop(socket.AF_INET6, b"".join(words)))
    return found


def other_addresses() -> list[str]:
    output = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout
    return [a for a in output.split() if ":" not in a and not a.startswith("127.")]


@pytest.fixture(scope="module")
def running() -> Iterator[Started]:
    started = start_run_sh()
    try:
        started.wait_for(lambda: "Press Ctrl-C to stop." in started.text(), "ready message")
        yield started
    finally:
        started.stop()


def test_make_run_prints_how_to_mint_a_token_never_a_token(running: Started) -> None:
    text = running.text()
    assert "make -s api-token" in text
    assert TOKEN_LIKE.findall(text) == []
    for secret in running.secrets.values():
        assert secret not in text


def test_no_secret_is_on_any_command_line_while_the_bot_runs(running: Started) -> None:
    lines = command_lines()
    rasa = [line for line in lines.values() if f"--port\0{running.ports['RASA_PORT']}" in line]
    assert rasa, "the Rasa server of run.sh is not running"
    for name, secret in running.secrets.items():
        holders = [pid for pid, line in lines.items() if secret in line]
        assert holders == [], f"{name} is on the command line of process(es) {holders}"
    # ...and yet Rasa has the JWT secret: a token minted from it opens the API.
    minted = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "scripts.api_token"],
        cwd=ROOT,
        env={**os.environ, "RASA_JWT_SECRET": running.secrets["RASA_JWT_SECRET"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    url = f"http://127.0.0.1:{running.ports['RASA_PORT']}/status"
    assert requests.get(url, timeout=30).status_code == 401
    answer = requests.get(url, headers={"Authorization": f"Bearer {minted}"}, timeout=30)
    assert answer.status_code == 200


def test_make_shell_listens_on_loopback_only() -> None:
    shell = start_run_sh("--shell", terminal=True)
    port = shell.ports["SHELL_PORT"]
    try:
        shell.wait_for(lambda: listening_addresses(port), f"a server on port {port}")
        assert listening_addresses(port) == {"127.0.0.1"}
        addresses = other_addresses()
        assert addresses, "this machine has no other address to check from"
        for address in addresses:
            with socket.socket() as probe:
                probe.settimeout(3)
                assert probe.connect_ex((address, port)) != 0, address
        with socket.create_connection(("127.0.0.1", port), timeout=3):
            pass
        # ...and the terminal chat still reaches it (it talks to http://localhost:<port>).
        shell.wait_for(lambda: "Your input" in shell.text(), "the prompt")
        shell.type_line("what is sciatica?")
        shell.wait_for(lambda: "sciatic nerve" in shell.text().lower(), "an answer")
        assert "Traceback" not in shell.text()
    finally:
        shell.stop()
