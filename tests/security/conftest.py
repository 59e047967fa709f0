"""One running bot for the security tests, started the way `make run` starts it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from scripts.processes import Bot, start_bot

ALLOWED_ORIGIN = "https://chat.example.org"


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    running = start_bot(
        tmp_path_factory.mktemp("security"),
        env={"LOG_LEVEL": "INFO", "BOT_ALLOWED_ORIGINS": ALLOWED_ORIGIN},
        extra_args=("--cors", ALLOWED_ORIGIN),
    )
    yield running
    running.stop()


@pytest.fixture
def sender() -> str:
    return f"sec-{uuid.uuid4().hex[:12]}"
