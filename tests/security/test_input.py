"""Bad input on the public endpoints gets a 4xx or a clear reply, never a 5xx, and the server
stays up. Property-based: hypothesis generates the bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.safety_net import MAX_MESSAGE_CHARS
from channels.rest import MAX_BODY_BYTES
from scripts.processes import Bot

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
# Bodies shaped almost like a message: the right keys with any values, plus stray keys.
near_messages = st.fixed_dictionaries(
    {"sender": json_values | st.text(min_size=1, max_size=200), "message": json_values},
    optional={
        "metadata": json_values,
        "input_channel": json_values,
        "extra": json_values,
        "stream": st.booleans(),
    },
)


def post(bot: Bot, path: str, body: bytes, content_type: str = "application/json") -> int:
    response = requests.post(
        bot.rasa_url + path, data=body, headers={"Content-Type": content_type}, timeout=60
    )
    return response.status_code


def assert_alive(bot: Bot) -> None:
    assert requests.get(bot.rasa_url + "/", timeout=10).status_code == 200


@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes_to_the_rest_webhook_get_a_4xx(bot: Bot, body: bytes) -> None:
    status = post(bot, "/webhooks/rest/webhook", body)
    assert status < 500
    if status == 200:  # only a well-formed message can succeed
        parsed = json.loads(body.decode("utf-8"))
        assert isinstance(parsed["sender"], str) and isinstance(parsed["message"], str)


@FUZZ
@given(body=json_values | near_messages)
def test_any_json_to_the_rest_webhook_is_answered_or_refused(bot: Bot, body: Any) -> None:
    response = requests.post(f"{bot.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code < 500
    well_formed = (
        isinstance(body, dict)
        and set(body) <= {"sender", "message", "metadata", "input_channel"}
        and isinstance(body.get("sender"), str)
        and isinstance(body.get("message"), str)
    )
    if not well_formed:
        assert response.status_code == 400
        assert response.json()["error"]


@FUZZ
@given(body=st.binary(max_size=200), path=st.sampled_from(["/model/parse", "/status"]))
def test_the_api_refuses_anything_without_a_token_first(bot: Bot, body: bytes, path: str) -> None:
    assert post(bot, path, body) in (401, 405)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\xfa not utf-8",
        b'{"sender": "a", "message": "\xc3\x28"}',
        b'{"sender": "a", "message": "hi"',
        b"[]",
        b'"just a string"',
        b'{"sender": "a", "message": "\\ud800"}',
        b'{"sender": "", "message": "hi"}',
        b'{"message": "hi"}',
        b'{"sender": "a", "message": 42}',
        b'{"sender": "a", "message": "hi", "admin": true}',
        b'{"sender": "a", "message": "hi", "metadata": "x"}',
    ],
)
def test_malformed_messages_get_a_400_with_a_reason(bot: Bot, body: bytes) -> None:
    response = requests.post(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert_alive(bot)


def test_a_huge_body_is_refused_and_the_server_stays_up(bot: Bot) -> None:
    big = json.dumps({"sender": "a", "message": "x" * (MAX_BODY_BYTES + 10)}).encode()
    assert post(bot, "/webhooks/rest/webhook", big) == 413
    try:
        status = post(bot, "/webhooks/rest/webhook", b"x" * (5 * 1024 * 1024))
    except requests.ConnectionError:
        status = 413  # Sanic may close the connection while the client is still sending
    assert status == 413
    assert_alive(bot)


def test_a_message_over_the_limit_gets_a_clear_reply(bot: Bot, sender: str) -> None:
    messages = bot.say(sender, "my leg hurts and " * (MAX_MESSAGE_CHARS // 10))
    assert any("too long" in m.get("text", "") for m in messages)


def test_a_red_flag_in_an_overlong_message_still_gets_the_emergency_advice(
    bot: Bot, sender: str
) -> None:
    text = "I can't control my bladder since yesterday. " + "it hurts so much. " * 150
    messages = bot.say(sender, text)
    said = " ".join(m.get("text", "") for m in messages)
    assert "EMERGENCY" in said and "too long" in said
