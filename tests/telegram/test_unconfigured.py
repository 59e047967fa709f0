"""Telegram left unconfigured (``make run`` exports its variables empty): the webhook answers
503 with a short JSON error, the start-up log says why once, and the rest of the bot runs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from scripts.processes import BIN, ROOT, base_env, free_port, stop, wait_for
from tests.telegram.conftest import TOKEN, credentials_file, message_update

pytestmark = pytest.mark.integration


def serve(workdir: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    port, log = free_port(), workdir / "channels.log"
    process = subprocess.Popen(
        [
            str(BIN / "python"),
            "-m",
            "tests.telegram.channel_server",
            str(credentials_file(workdir / "credentials.yml")),
            str(port),
        ],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=base_env(env),
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/webhooks/telegram/", process, log, timeout=120)
        yield url, log
    finally:
        stop(process)


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    yield from serve(tmp_path_factory.mktemp("telegram-off"), {})


@pytest.fixture(scope="module")
def without_secret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BOT_USERNAME": "sciatica_test_bot"}
    yield from serve(tmp_path_factory.mktemp("telegram-no-secret"), env)


def post(url: str, secret: str | None = "anything") -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    return requests.post(
        f"{url}/webhooks/telegram/webhook",
        json=message_update(42, "hi"),
        headers=headers,
        timeout=30,
    )


def test_unconfigured_telegram_answers_503_and_warns_once(
    unconfigured: tuple[str, Path],
) -> None:
    url, log = unconfigured
    for secret in ("anything", None, ""):
        response = post(url, secret)
        assert response.status_code == 503
        assert response.json() == {"error": "Telegram is not configured on this server."}
    assert requests.get(f"{url}/webhooks/telegram/", timeout=10).json() == {
        "status": "not configured"
    }
    warnings = [line for line in log.read_text().splitlines() if "Telegram is off" in line]
    assert len(warnings) == 1 and "TELEGRAM_BOT_TOKEN is empty" in warnings[0]


def test_a_token_without_a_secret_is_not_taken_as_configured(
    without_secret: tuple[str, Path],
) -> None:
    url, log = without_secret
    assert post(url).status_code == 503
    assert "TELEGRAM_WEBHOOK_SECRET is empty" in log.read_text()
