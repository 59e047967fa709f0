"""The registration command (``python -m scripts.telegram_webhook``) against the stand-in API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from scripts import telegram_webhook
from scripts.processes import ROOT
from tests.telegram.fake_api import FakeTelegram

TOKEN = "555666777:AAG-registration_test_token"
SECRET = "registration_Secret-42"
URL = "https://bot.example.org/webhooks/telegram/webhook"


@pytest.fixture(scope="module")
def api() -> Iterator[FakeTelegram]:
    running = FakeTelegram(TOKEN).start()
    yield running
    running.stop()


@pytest.fixture
def env(api: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_URL": URL,
        "TELEGRAM_API_URL": api.url,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_set_webhook_registers_the_url_and_the_secret_token(
    api: FakeTelegram, env: dict[str, str]
) -> None:
    before = len(api.calls_of("setWebhook"))
    done = subprocess.run(
        [sys.executable, "-m", "scripts.telegram_webhook", "set-webhook"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert URL in done.stdout and SECRET not in done.stdout
    (call,) = api.calls_of("setWebhook")[before:]
    assert call.params["url"] == URL
    assert call.params["secret_token"] == SECRET
    assert json.loads(call.params["allowed_updates"]) == [
        "message",
        "edited_message",
        "callback_query",
    ]
    assert call.params["drop_pending_updates"] == "false"


def test_info_and_delete_webhook(
    api: FakeTelegram, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert telegram_webhook.main(["set-webhook", "--drop-pending-updates"]) == 0
    assert api.calls_of("setWebhook")[-1].params["drop_pending_updates"] == "true"
    assert telegram_webhook.main(["info"]) == 0
    assert f"url: {URL}" in capsys.readouterr().out
    assert telegram_webhook.main(["delete-webhook"]) == 0
    assert api.methods()[-1] == "deleteWebhook"
    telegram_webhook.main(["info"])
    assert "url: (none)" in capsys.readouterr().out


def test_a_bare_https_host_gets_the_webhook_path(api: FakeTelegram, env: dict[str, str]) -> None:
    assert telegram_webhook.main(["set-webhook", "--url", "https://bot.example.org"]) == 0
    assert api.calls_of("setWebhook")[-1].params["url"] == URL


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TELEGRAM_WEBHOOK_SECRET", "", "TELEGRAM_WEBHOOK_SECRET is not set"),
        ("TELEGRAM_WEBHOOK_SECRET", "not allowed!", "1-256 characters"),
        ("TELEGRAM_WEBHOOK_URL", "http://bot.example.org/hook", "https://"),
        ("TELEGRAM_WEBHOOK_URL", "https://bot.example.org:5005/hook", "ports 443, 80, 88"),
        ("TELEGRAM_WEBHOOK_URL", "", "TELEGRAM_WEBHOOK_URL is not set"),
        ("TELEGRAM_BOT_TOKEN", "", "TELEGRAM_BOT_TOKEN is not set"),
    ],
)
def test_bad_settings_stop_before_calling_telegram(
    api: FakeTelegram,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    calls = len(api.snapshot())
    assert telegram_webhook.main(["set-webhook"]) == 2
    assert message in capsys.readouterr().err
    assert len(api.snapshot()) == calls


def test_a_token_telegram_refuses_is_reported(
    api: FakeTelegram,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "111:wrong")
    assert telegram_webhook.main(["set-webhook"]) == 1
    assert "Telegram refused" in capsys.readouterr().err
