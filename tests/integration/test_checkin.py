"""A check-in scheduled over HTTP fires as a Rasa reminder on the real servers.

The REST channel answers only the request in hand, so what the check-in says is read from the
tracker (Slack, Telegram and the open chat page get it pushed through their output channels).
"""

from __future__ import annotations

import time

import pytest

from tests.integration.conftest import Servers, texts

pytestmark = pytest.mark.integration


def bot_texts(servers: Servers, sender: str) -> list[str]:
    return [e.get("text") or "" for e in servers.tracker(sender)["events"] if e["event"] == "bot"]


def wait_for_text(servers: Servers, sender: str, words: str, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    said: list[str] = []
    while time.monotonic() < deadline:
        said = bot_texts(servers, sender)
        if any(words in t for t in said):
            return said
        time.sleep(0.5)
    raise AssertionError(f"no {words!r} within {timeout}s: {said[-3:]}")


def test_a_check_in_fires_asks_about_pain_and_takes_the_answer(
    servers: Servers, sender: str
) -> None:
    reply = " ".join(texts(servers.say(sender, "can you check on me in 2 days?")))
    assert "check on you in 2 days" in reply
    events = servers.tracker(sender)["events"]
    assert [e["kill_on_user_msg"] for e in events if e["event"] == "reminder"] == [False]
    # A "day" lasts one second on the test servers.
    wait_for_text(servers, sender, "How bad is your pain today")
    user = [e for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    assert user[-1]["parse_data"]["intent"]["name"] == "EXTERNAL_checkin"
    reply = " ".join(texts(servers.say(sender, "about 4")))
    assert "daily life" in reply
    assert servers.slots(sender)["conversation"]["trend"][-1]["pain"] == 4


def test_a_cancelled_check_in_does_not_fire(servers: Servers, sender: str) -> None:
    servers.say(sender, "check on me in 2 days")
    reply = " ".join(texts(servers.say(sender, "cancel the check-in")))
    assert "cancelled" in reply
    time.sleep(4)
    assert not any("How bad is your pain" in t for t in bot_texts(servers, sender))
