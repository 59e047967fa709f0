"""Fixtures that start the real action server and Rasa server on free local ports.

The servers use a temporary SQLite tracker store, so tests never touch var/. A check-in "day"
lasts one second here (``BOT_CHECKIN_DAY_SECONDS``), so a check-in fires within the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.checkin import DAY_SECONDS_ENV
from scripts.processes import Bot, start_bot

Servers = Bot


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    bot = start_bot(tmp_path_factory.mktemp("servers"), env={DAY_SECONDS_ENV: "1"})
    yield bot
    bot.stop()


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if "text" in m]
