"""A red flag anywhere in an over-long message gets the emergency advice before "too long",
on the REST webhook and on the chat page's socket, up to the largest body either takes."""

from __future__ import annotations

import pytest

from channels.webchat import MAX_PACKET_BYTES
from scripts.processes import Bot
from tests.security.conftest import ALLOWED_ORIGIN
from tests.test_safety_net import RED_FLAG, letter
from tests.widget.test_socket import user_texts, visit

pytestmark = pytest.mark.integration


def with_red_flag(chars: int, where: str) -> str:
    body = letter(chars)
    cut = len(body) if where == "end" else body.index("Note", len(body) // 2)
    return body[:cut] + RED_FLAG + " " + body[cut:]


def texts(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages if "text" in m]


@pytest.mark.parametrize(("chars", "where"), [(20_000, "end"), (60_000, "middle"), (60_000, "end")])
def test_a_red_flag_anywhere_in_a_long_rest_message_gets_the_advice(
    bot: Bot, sender: str, chars: int, where: str
) -> None:
    said = texts(bot.say(sender, with_red_flag(chars, where)))
    assert said[0].startswith("EMERGENCY:")
    assert "too long" in said[-1]


def test_a_long_rest_message_without_a_red_flag_gets_only_too_long(bot: Bot, sender: str) -> None:
    said = texts(bot.say(sender, letter(60_000)))
    assert len(said) == 1 and "too long" in said[0]


def test_a_red_flag_at_the_end_of_a_long_chat_message_gets_the_advice(bot: Bot) -> None:
    result = visit(bot, ALLOWED_ORIGIN, [with_red_flag(60_000, "end")])
    assert result.refused is None
    assert result.texts[0].startswith("EMERGENCY:")
    assert result.customs[0]["level"] == "emergency"
    assert "too long" in result.texts[-1]
    assert user_texts(bot, result.session_id) == []


def test_a_chat_packet_over_the_limit_is_refused_by_the_socket_server(bot: Bot) -> None:
    result = visit(bot, ALLOWED_ORIGIN, [letter(MAX_PACKET_BYTES + 1000)])
    assert result.replies == []
    if result.session_id:
        assert user_texts(bot, result.session_id) == []
    follow_up = visit(bot, ALLOWED_ORIGIN, ["what is sciatica?"])
    assert follow_up.texts, "the socket server should still answer"
