"""The safety net: what the person hears when a message can't be handled normally."""

from __future__ import annotations

import pytest

from bot import safety_net
from channels.rest import BadRequest, parse_body


def said(messages: list[dict]) -> str:
    return " ".join(m.get("text", "") for m in messages)


@pytest.mark.parametrize(
    "text",
    [
        "I can't control my bladder since yesterday",
        "numb between my legs and my back is agony",
        "i want to kill myself, the pain never stops",
    ],
)
def test_a_red_flag_gets_its_escalation_even_when_something_is_down(text: str) -> None:
    messages = safety_net.unavailable(text)
    assert said(messages).split(":")[0] in {"EMERGENCY", "PLEASE REACH OUT NOW"}
    assert any(m.get("json_message", {}).get("type") == "triage" for m in messages)
    assert "Sorry" in said(messages)


def test_without_a_red_flag_the_apology_still_says_when_not_to_wait() -> None:
    messages = safety_net.unavailable("what exercises help sciatica?")
    assert said(messages).startswith("Sorry")
    assert "emergency" in said(messages)
    assert not any("json_message" in m for m in messages)


def test_a_too_long_message_is_refused_clearly_and_red_flags_still_count() -> None:
    plain = safety_net.too_long("my leg hurts " * 300)
    flagged = safety_net.too_long("I have lost control of my bowels. " + "ouch " * 600)
    assert "too long" in said(plain) and "EMERGENCY" not in said(plain)
    assert said(flagged).startswith("EMERGENCY") and "too long" in said(flagged)


def test_well_formed_bodies_are_read() -> None:
    assert parse_body(b'{"sender": "a", "message": "hi"}') == ("a", "hi", None)
    assert parse_body('{"sender": "a", "message": "\u00e9", "metadata": {"k": 1}}'.encode()) == (
        "a",
        "\u00e9",
        {"k": 1},
    )


@pytest.mark.parametrize(
    "body",
    [
        b"\xff",
        b"{",
        b"[]",
        b'{"sender": "a"}',
        b'{"sender": 1, "message": "hi"}',
        b'{"sender": "a\\u0000", "message": "hi"}',
        b'{"sender": "a", "message": "hi", "other": 1}',
        b'{"sender": "a", "message": "\\udc00"}',
        ('{"sender": "' + "a" * 129 + '", "message": "hi"}').encode(),
        ('{"sender": "a", "message": "hi", "metadata": {"k": "' + "x" * 9000 + '"}}').encode(),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_body(body)
    assert str(refused.value)
