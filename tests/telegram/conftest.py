"""One running bot with the Telegram channel on, talking to a local stand-in for the Bot API.

The bot is started the way ``make run`` starts it (scripts.processes), with a credentials file made
of the repository's REST and Telegram blocks, so the tests exercise the real configuration.
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from bot.checkin import DAY_SECONDS_ENV
from scripts.processes import ROOT, Bot, start_bot
from tests.telegram.fake_api import FakeTelegram

TOKEN = "123456789:AAF-test_token_for_the_stand_in"
USERNAME = "sciatica_test_bot"
PUBLIC_URL = "https://bot.example.org"
BLOCK = "channels.telegram.TelegramInput"
_update_ids = itertools.count(random.randint(10_000, 10_000_000))


def credentials_file(path: Path) -> Path:
    """The repository's REST and Telegram blocks (``${VAR}`` left for Rasa to expand)."""
    repo = yaml.safe_load((ROOT / "credentials.yml").read_text())
    path.write_text(
        yaml.safe_dump({"channels.rest.RestInput": None, BLOCK: repo[BLOCK]}, sort_keys=False)
    )
    return path


@pytest.fixture(scope="session")
def telegram_api() -> Iterator[FakeTelegram]:
    api = FakeTelegram(TOKEN, USERNAME).start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def webhook_secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="session")
def bot(
    tmp_path_factory: pytest.TempPathFactory, telegram_api: FakeTelegram, webhook_secret: str
) -> Iterator[Bot]:
    workdir = tmp_path_factory.mktemp("telegram")
    running = start_bot(
        workdir,
        credentials=credentials_file(workdir / "credentials.yml"),
        env={
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BOT_USERNAME": USERNAME,
            "TELEGRAM_WEBHOOK_SECRET": webhook_secret,
            "TELEGRAM_API_URL": telegram_api.url,
            "BOT_PUBLIC_URL": PUBLIC_URL,
            # this process's memory answers each update once (no shared Redis in this test)
            "TELEGRAM_DEDUPE_REDIS_URL": "",
            "REDIS_URL": "",
            # a check-in "day" lasts a second, so a check-in comes within the test
            DAY_SECONDS_ENV: "1",
        },
    )
    yield running
    running.stop()


class Webhook:
    """Posts updates to the running bot's Telegram webhook, as Telegram does."""

    def __init__(self, bot: Bot, secret: str) -> None:
        self.url = f"{bot.rasa_url}/webhooks/telegram/webhook"
        self.secret = secret

    def post(
        self,
        update: Any,
        *,
        secret: str | None = "default",
        raw: bytes | None = None,
        timeout: float = 120,
    ) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if secret == "default":
            secret = self.secret
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = raw if raw is not None else json.dumps(update).encode()
        return requests.post(self.url, data=body, headers=headers, timeout=timeout)


@pytest.fixture(scope="session")
def webhook(bot: Bot, webhook_secret: str) -> Webhook:
    return Webhook(bot, webhook_secret)


@pytest.fixture
def chat_id() -> int:
    """A new private chat (and person) for each test."""
    return random.randint(10**9, 2 * 10**9)


def next_update_id() -> int:
    return next(_update_ids)


def user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Alex", "language_code": "en"}


def chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    if kind == "private":
        return {"id": chat_id, "first_name": "Alex", "type": "private"}
    return {"id": -chat_id, "title": "Back pain group", "type": kind}


def message_update(
    chat_id: int, text: str | None = None, update_id: int | None = None, **fields: Any
) -> dict[str, Any]:
    """An update with a ``message``, shaped like the Bot API's."""
    message: dict[str, Any] = {
        "message_id": random.randint(1, 10**6),
        "from": user(chat_id),
        "chat": chat(chat_id),
        "date": 1_700_000_000,
    }
    if text is not None:
        message["text"] = text
    message.update(fields)
    return {"update_id": update_id or next_update_id(), "message": message}


def callback_update(
    chat_id: int, data: str, message_text: str = "(1/8) ...", update_id: int | None = None
) -> dict[str, Any]:
    """A pressed inline button: a ``callback_query`` on one of the bot's messages."""
    return {
        "update_id": update_id or next_update_id(),
        "callback_query": {
            "id": str(random.randint(10**17, 10**18)),
            "from": user(chat_id),
            "message": {
                "message_id": random.randint(1, 10**6),
                "from": {"id": 123456789, "is_bot": True, "first_name": "Sciatica"},
                "chat": chat(chat_id),
                "date": 1_700_000_000,
                "text": message_text,
            },
            "chat_instance": str(random.randint(10**17, 10**18)),
            "data": data,
        },
    }
