"""What nginx lets the public reach in the scaled setup: the channels, the chat page and its
socket, nothing else; and no process of a running cluster has a secret on its command line.

The first test runs nginx with the configuration scripts/cluster.py renders, in front of a
stand-in for the Rasa replicas that answers every path, so any path nginx lets through shows.
"""

from __future__ import annotations

import http.client
import http.server
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from scripts import cluster
from scripts.processes import command_lines, free_port
from tests.cluster.conftest import ClusterUnderTest

pytestmark = pytest.mark.cluster

# What people need: every channel's webhook, the chat page with its files, its socket.
PUBLIC = [
    ("GET", "/webhooks/rest/"),
    ("POST", "/webhooks/rest/webhook"),
    ("POST", "/webhooks/slack/webhook"),
    ("POST", "/webhooks/telegram/webhook"),
    ("GET", "/chat/"),
    ("GET", "/chat/widget.js"),
    ("GET", "/chat/sources/d001"),
    ("GET", "/socket.io/?EIO=4&transport=polling"),
]
# Rasa's HTTP API and anything else, also when reached through a public prefix.
REFUSED = [
    ("GET", "/"),
    ("GET", "/version"),
    ("GET", "/status"),
    ("GET", "/domain"),
    ("GET", "/conversations/someone/tracker"),
    ("POST", "/conversations/someone/messages"),
    ("POST", "/conversations/someone/trigger_intent"),
    ("POST", "/model/parse"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
    ("POST", "/model/train"),
    ("GET", "/chatty"),
    ("GET", "/chat/../status"),
    ("GET", "/chat/%2e%2e/version"),
    ("GET", "/webhooks/rest/../../conversations/someone/tracker"),
    ("GET", "/socket.io/../model/parse"),
    ("GET", "/.env"),
    ("GET", "/var/secrets.env"),
]


class Upstream(http.server.ThreadingHTTPServer):
    """Stands in for the Rasa replicas: answers anything with 200 and remembers the path."""

    def __init__(self, port: int) -> None:
        self.seen: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                outer.seen.append(self.path)
                body = b"upstream"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815

            def log_message(self, *_: object) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Upstream]]:
    work = tmp_path_factory.mktemp("nginx-exposure")
    port, upstream_port, internal_port = free_port(), free_port(), free_port()
    settings = cluster.settings_from_env({"CLUSTER_DIR": str(work), "CLUSTER_PORT": str(port)})
    for sub in ("logs", "nginx/tmp"):
        (work / sub).mkdir(parents=True)
    conf = cluster.render_nginx(settings, [upstream_port], [upstream_port], internal_port)
    (work / "nginx" / "nginx.conf").write_text(conf)
    upstream = Upstream(upstream_port)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    nginx = subprocess.Popen(
        cluster.command(cluster.Proc("nginx", port), settings, {}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not cluster.healthy(f"http://127.0.0.1:{port}/healthz", timeout=1):
            assert nginx.poll() is None, (work / "logs" / "nginx-error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.2)
        yield port, upstream
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
        upstream.shutdown()


def request(port: int, method: str, path: str) -> tuple[int, bytes]:
    """Sends ``path`` exactly as written (no client-side clean-up of ``..``)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=b"{}" if method in {"POST", "PUT"} else None)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize(("method", "path"), PUBLIC, ids=[f"{m} {p}" for m, p in PUBLIC])
def test_nginx_passes_the_channels_the_chat_page_and_its_socket(
    proxy: tuple[int, Upstream], method: str, path: str
) -> None:
    port, upstream = proxy
    status, body = request(port, method, path)
    assert (status, body) == (200, b"upstream")
    assert upstream.seen[-1] == path


@pytest.mark.parametrize(("method", "path"), REFUSED, ids=[f"{m} {p}" for m, p in REFUSED])
def test_nginx_answers_404_for_the_http_api_and_anything_else(
    proxy: tuple[int, Upstream], method: str, path: str
) -> None:
    port, upstream = proxy
    before = len(upstream.seen)
    status, body = request(port, method, path)
    assert status in (400, 404), (status, body)
    assert b"upstream" not in body
    assert len(upstream.seen) == before, upstream.seen[before:]


def test_a_running_cluster_keeps_its_secrets_off_every_command_line(
    cluster: ClusterUnderTest,
) -> None:
    replica = cluster.state["rasa"][0]
    secret_of = {name: cluster.env[name] for name in ("RASA_JWT_SECRET", "ACTION_SERVER_TOKEN")}
    lines = command_lines()
    assert any(f"--port\0{replica['port']}" in line for line in lines.values())
    for name, secret in secret_of.items():
        holders = [pid for pid, line in lines.items() if secret in line]
        assert holders == [], f"{name} is on the command line of {holders}"
    # The API still works for operators, on a replica's own port, with the secret from the
    # environment; through nginx it does not exist.
    status = requests.get(f"{replica['url']}/status", headers=cluster.auth(), timeout=30)
    assert status.status_code == 200
    through_nginx = requests.get(f"{cluster.url}/status", headers=cluster.auth(), timeout=30)
    assert through_nginx.status_code == 404
