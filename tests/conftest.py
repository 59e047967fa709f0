"""One running bot shared by the integration and security tests (tests/integration,
tests/security): an action server and a Rasa server started the way `make run` starts them,
with a temporary SQLite tracker store.

Starting a bot takes about a minute, so both suites share it. It logs at INFO (the privacy test
reads the whole log), allows the chat page from one other site (``ALLOWED_ORIGIN``), and a
check-in "day" lasts one second (``BOT_CHECKIN_DAY_SECONDS``) so a check-in fires within a test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.checkin import DAY_SECONDS_ENV
from scripts.processes import Bot, start_bot

ALLOWED_ORIGIN = "https://chat.example.org"


@pytest.fixture(scope="session")
def running_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    bot = start_bot(
        tmp_path_factory.mktemp("servers"),
        env={"LOG_LEVEL": "INFO", "BOT_ALLOWED_ORIGINS": ALLOWED_ORIGIN, DAY_SECONDS_ENV: "1"},
        extra_args=("--cors", ALLOWED_ORIGIN),
    )
    yield bot
    bot.stop()
