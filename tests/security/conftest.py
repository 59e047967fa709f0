"""The security tests talk to the bot the integration tests share (tests/conftest.py)."""

from __future__ import annotations

import uuid

import pytest

from scripts.processes import Bot
from tests.conftest import ALLOWED_ORIGIN

__all__ = ["ALLOWED_ORIGIN"]


@pytest.fixture
def bot(running_bot: Bot) -> Bot:
    return running_bot


@pytest.fixture
def sender() -> str:
    return f"sec-{uuid.uuid4().hex[:12]}"
