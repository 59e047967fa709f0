"""The integration tests talk to the bot they share with the security tests (tests/conftest.py):
a real action server and Rasa server on free local ports, a temporary SQLite tracker store, and
a check-in "day" of one second, so a check-in fires within the test.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from scripts.processes import Bot

Servers = Bot


@pytest.fixture
def servers(running_bot: Bot) -> Bot:
    return running_bot


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if "text" in m]
