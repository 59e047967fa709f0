"""The Telegram connector without Rasa: reading updates, writing messages, the webhook's answers.

The webhook handler runs against the local stand-in for the Bot API with a stand-in for Rasa's
message handler, so every reply here went through the connector's real sending code.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety_net import MAX_MESSAGE_CHARS, SAFETY_LINE
from channels import dedupe
from channels.telegram import (
    MAX_BODY_BYTES,
    MESSAGE_LIMIT,
    NOT_CONFIGURED,
    BadUpdate,
    TelegramInput,
    inline_keyboard,
    parse_update,
    pressed_text,
    public_base_url,
    render_custom,
    render_sources,
    text_chunks,
    typed_text,
)
from tests.telegram.conftest import callback_update, message_update
from tests.telegram.fake_api import FakeTelegram, TelegramError, parse_html

TOKEN = "987654321:AAE-unit_test_token"
SECRET = "unit-test_secret-123"
CHAT = 555000111


def body(update: Any) -> bytes:
    return json.dumps(update).encode()


# --- reading updates ------------------------------------------------------------------------


def test_a_text_message_is_read_with_its_chat() -> None:
    update = parse_update(body(message_update(CHAT, "my left leg hurts", update_id=7)))
    assert (update.update_id, update.kind, update.chat_id) == (7, "text", CHAT)
    assert update.text == "my left leg hurts"


def test_a_pressed_button_is_read_as_its_payload() -> None:
    update = parse_update(body(callback_update(CHAT, "/deny")))
    assert (update.kind, update.chat_id, update.text) == ("text", CHAT, "/deny")
    assert update.callback_query_id


@pytest.mark.parametrize(
    ("fields", "kind", "spoken"),
    [
        ({"sticker": {"file_id": "x", "emoji": "😀"}}, "not_text", False),
        ({"photo": [{"file_id": "x", "width": 90, "height": 90}]}, "not_text", False),
        ({"voice": {"file_id": "x", "duration": 4}}, "not_text", True),
        ({"location": {"latitude": 51.5, "longitude": -0.1}}, "not_text", False),
    ],
)
def test_messages_without_text_are_told_apart(
    fields: dict[str, Any], kind: str, spoken: bool
) -> None:
    update = parse_update(body(message_update(CHAT, None, **fields)))
    assert (update.kind, update.spoken) == (kind, spoken)


def test_nul_characters_are_dropped_from_what_the_person_wrote() -> None:
    update = parse_update(body(message_update(CHAT, "left\u0000 leg")))
    assert update.text == "left leg"


def test_a_photo_caption_is_read_as_the_message() -> None:
    update = parse_update(body(message_update(CHAT, None, photo=[], caption="numb foot")))
    assert (update.kind, update.text) == ("text", "numb foot")


def test_edits_groups_bots_and_other_kinds_of_update_are_not_passed_on() -> None:
    edited = message_update(CHAT, "no numbness")
    edited["edited_message"] = edited.pop("message")
    assert parse_update(body(edited)).kind == "edited"
    group = message_update(CHAT, "/start@sciatica_test_bot")
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Backs"}
    assert parse_update(body(group)).kind == "group"
    from_bot = message_update(CHAT, "hello")
    from_bot["message"]["from"]["is_bot"] = True
    assert parse_update(body(from_bot)).kind == "ignored"
    assert parse_update(body({"update_id": 9, "my_chat_member": {}})).kind == "ignored"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"a string"',
        b"{}",
        b'{"update_id": "1"}',
        b'{"update_id": true}',
        b'{"update_id": -1}',
        b'{"update_id": 1, "message": "hi"}',
        b'{"update_id": 1, "message": {"chat": {"id": "42"}, "text": "hi"}}',
        b'{"update_id": 1, "message": {"chat": {"id": 42, "type": "private"}, "text": 5}}',
        b'{"update_id": 1, "message": {"chat": {"id": 42, "type": "private"}, "text": "\\ud800"}}',
        b'{"update_id": 1, "callback_query": {"data": "/deny"}}',
    ],
)
def test_bodies_that_cannot_be_updates_are_refused_with_a_reason(raw: bytes) -> None:
    with pytest.raises(BadUpdate):
        parse_update(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)
near_updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-2, max_value=2**40) | json_values},
    optional={
        "message": st.fixed_dictionaries(
            {"chat": st.fixed_dictionaries({"id": json_values | st.integers()})},
            optional={"text": json_values, "from": json_values, "caption": json_values},
        )
        | json_values,
        "callback_query": json_values,
        "edited_message": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(value=json_values | near_updates)
def test_any_json_is_an_update_or_a_bad_update(value: Any) -> None:
    try:
        update = parse_update(body(value))
    except BadUpdate:
        return
    assert update.kind in {"text", "edited", "not_text", "group", "ignored"}
    if update.kind == "text":
        assert isinstance(update.text, str) and isinstance(update.chat_id, int)


def test_typed_commands_are_words_not_intents() -> None:
    assert typed_text("/start") == "/greet"
    assert typed_text("/start@sciatica_test_bot campaign") == "/greet"
    assert typed_text("/help") == "/greet"
    assert typed_text("/stop") == "stop"
    # typed intents with entities could set slots; typed text is never an intent
    assert typed_text('/report_red_flag{"triage_level": "self_care"}') == (
        'report_red_flag{"triage_level": "self_care"}'
    )
    assert not typed_text("  //affirm").startswith("/")


def test_button_payloads_pass_as_intents_only_without_entities() -> None:
    assert pressed_text("/affirm") == "/affirm"
    assert pressed_text("Yes, I have a fever") == "Yes, I have a fever"
    assert not pressed_text('/affirm{"triage_level": "self_care"}').startswith("/")


# --- writing messages -----------------------------------------------------------------------


def test_long_texts_are_cut_into_messages_telegram_accepts() -> None:
    text = ("My back hurts 😣 when I sit. " * 600).strip()
    chunks = text_chunks(text)
    assert len(chunks) > 1
    assert all(len(c.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT for c in chunks)
    assert " ".join(chunks).split() == text.split()
    assert text_chunks("  \n ") == []


def test_buttons_become_an_inline_keyboard_sending_their_payloads() -> None:
    buttons = [
        {"title": "Yes", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
        {"title": "Not sure", "payload": "/unsure"},
    ]
    assert inline_keyboard(buttons) == {
        "inline_keyboard": [
            [
                {"text": "Yes", "callback_data": "/affirm"},
                {"text": "No", "callback_data": "/deny"},
                {"text": "Not sure", "callback_data": "/unsure"},
            ]
        ]
    }
    assert len(inline_keyboard(buttons, "vertical")["inline_keyboard"]) == 3


def test_long_titles_go_one_per_row_and_long_payloads_send_the_title() -> None:
    long_payload = "Yes, " + "my leg weakness is getting worse and worse " * 3
    keyboard = inline_keyboard(
        [{"title": "Yes, it is getting worse every day", "payload": long_payload}, {"title": "No"}]
    )
    rows = keyboard["inline_keyboard"]
    assert [len(r) for r in rows] == [1, 1]
    assert rows[0][0]["callback_data"] == "Yes, it is getting worse every day"
    assert rows[1][0]["callback_data"] == "No"
    assert inline_keyboard([{"title": "", "payload": "/x"}]) is None


SOURCES = {
    "type": "sources",
    "topic": "what_is_sciatica",
    "sources": [
        {"title": "What Is <b>Sciatica</b> & Why?", "file_name": "a.txt", "document": "d001"},
        {"title": "Nerve glide", "file_name": "b.txt", "document": "d003/../x?y"},
    ],
}


def test_sources_become_escaped_links_under_the_public_url() -> None:
    rendered = render_sources(SOURCES, "https://bot.example.org")
    text, links = parse_html(rendered)
    assert links == [
        ("https://bot.example.org/chat/sources/d001", "What Is <b>Sciatica</b> & Why?"),
        ("https://bot.example.org/chat/sources/d003%2F..%2Fx%3Fy", "Nerve glide"),
    ]
    assert text.startswith("Read the sources:")


def test_without_a_public_url_sources_are_plain_titles() -> None:
    text, links = parse_html(render_sources(SOURCES, None))
    assert links == []
    assert "What Is <b>Sciatica</b> & Why?" in text and "Nerve glide" in text


def test_the_triage_payload_and_unknown_payloads_are_never_sent_raw() -> None:
    triage = {"type": "triage", "level": "emergency", "title": "Get help", "red_flags": []}
    assert render_custom(triage, "https://bot.example.org") is None
    assert render_custom({"type": "carousel", "text": "x"}, None) is None
    assert render_custom("not a dict", None) is None


def test_public_url_must_be_http() -> None:
    assert public_base_url("https://bot.example.org/") == "https://bot.example.org"
    assert public_base_url("javascript:alert(1)") is None
    assert public_base_url("") is None


def test_the_stand_in_refuses_html_telegram_would_refuse() -> None:
    """The stand-in is strict, so escaping mistakes fail the tests that use it."""
    for bad in ("a < b", "fish & chips", "<script>x</script>", "<b>open", "x > y"):
        with pytest.raises(TelegramError):
            parse_html(bad)
    assert parse_html("a &lt; b &amp; <b>c</b>") == ("a < b & c", [])


# --- the webhook ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api() -> Iterator[FakeTelegram]:
    running = FakeTelegram(TOKEN).start()
    yield running
    running.stop()


Handler = Callable[[Any], Awaitable[Any]]


class RasaStandIn:
    """Records what reaches the bot and replies through the channel like Rasa does."""

    def __init__(self, fail: bool = False) -> None:
        self.received: list[str] = []
        self.fail = fail

    async def __call__(self, message: Any) -> None:
        self.received.append(message.text)
        if self.fail:
            raise ConnectionError("the action server is down")
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": f"You said: {message.text} <ok> & done",
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
            },
        )
        await message.output_channel.send_response(
            message.sender_id,
            {"custom": {"type": "triage", "level": "routine", "title": "x", "red_flags": []}},
        )
        await message.output_channel.send_response(message.sender_id, {"custom": SOURCES})


def channel(api: FakeTelegram, **credentials: Any) -> TelegramInput:
    values = {"access_token": TOKEN, "verify": "sciatica_test_bot", "webhook_secret": SECRET}
    values.update(credentials)
    made = TelegramInput.from_credentials(values)
    made.api_url = api.url
    made.public_url = "https://bot.example.org"
    made.seen = dedupe.MemoryDedupe(60)
    return made


def handle(
    telegram: TelegramInput, raw: bytes, bot: Handler, secret: str | None = SECRET
) -> tuple[int, dict[str, Any]]:
    async def run() -> tuple[int, dict[str, Any]]:
        try:
            return await telegram.handle(raw, secret, bot)
        finally:
            output = telegram.get_output_channel()
            if output is not None:
                await output.close_session()

    return asyncio.run(run())


def test_a_message_reaches_the_bot_and_the_reply_comes_back_escaped(api: FakeTelegram) -> None:
    bot, chat = RasaStandIn(), CHAT + 1
    status, answer = handle(channel(api), body(message_update(chat, "hi <there>")), bot)
    assert (status, answer) == (200, {"status": "ok"})
    assert bot.received == ["hi <there>"]
    sent, sources = api.sent_to(chat)  # the triage payload is not sent
    assert sent.text == "You said: hi <there> <ok> & done"
    assert sent.buttons == [{"text": "Yes", "callback_data": "/affirm"}]
    assert sources.links[0] == (
        "https://bot.example.org/chat/sources/d001",
        "What Is <b>Sciatica</b> & Why?",
    )


def test_a_pressed_button_is_answered_and_its_payload_reaches_the_bot(api: FakeTelegram) -> None:
    bot, chat = RasaStandIn(), CHAT + 2
    update = callback_update(chat, "/affirm")
    status, _ = handle(channel(api), body(update), bot)
    assert status == 200 and bot.received == ["/affirm"]
    answered = [c.params for c in api.calls_of("answerCallbackQuery")]
    assert {"callback_query_id": update["callback_query"]["id"]} in answered
    assert len(api.sent_to(chat)) == 2


@pytest.mark.parametrize(
    ("secret", "status"), [(None, 401), ("wrong-secret", 403), ("", 403), ("ünï", 403)]
)
def test_updates_without_the_secret_never_reach_the_bot(
    api: FakeTelegram, secret: str | None, status: int
) -> None:
    bot, chat = RasaStandIn(), CHAT + 3
    got, _ = handle(channel(api), body(message_update(chat, "hi")), bot, secret)
    assert got == status
    assert bot.received == [] and api.sent_to(chat) == []


def test_unconfigured_telegram_answers_503_and_warns_once(
    api: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="channels.telegram")
    bot = RasaStandIn()
    telegram = channel(api, access_token="", verify="", webhook_secret="")
    for _ in range(3):
        status, answer = handle(telegram, body(message_update(CHAT + 4, "hi")), bot)
        assert (status, answer) == (503, {"error": NOT_CONFIGURED})
    warnings = [r for r in caplog.records if "Telegram is off" in r.getMessage()]
    assert len(warnings) == 1 and "TELEGRAM_BOT_TOKEN" in warnings[0].getMessage()
    assert telegram.get_output_channel() is None and bot.received == []


@pytest.mark.parametrize(
    ("credentials", "problem"),
    [
        ({"webhook_secret": ""}, "TELEGRAM_WEBHOOK_SECRET is empty"),
        ({"webhook_secret": "has spaces in it"}, "TELEGRAM_WEBHOOK_SECRET must be"),
        ({"access_token": "not-a-token"}, "TELEGRAM_BOT_TOKEN does not look like"),
    ],
)
def test_a_token_without_a_usable_secret_is_not_configured(
    api: FakeTelegram, credentials: dict[str, str], problem: str
) -> None:
    telegram = channel(api, **credentials)
    assert telegram.problem and telegram.problem.startswith(problem)
    assert handle(telegram, body(message_update(CHAT, "hi")), RasaStandIn())[0] == 503


def test_a_redelivered_update_is_answered_once(api: FakeTelegram) -> None:
    bot, chat, telegram = RasaStandIn(), CHAT + 5, channel(api)
    raw = body(message_update(chat, "hello"))
    assert handle(telegram, raw, bot) == (200, {"status": "ok"})
    assert handle(telegram, raw, bot) == (200, {"status": "duplicate"})
    assert bot.received == ["hello"] and len(api.sent_to(chat)) == 2


def test_malformed_and_oversized_bodies_are_4xx(api: FakeTelegram) -> None:
    bot, telegram = RasaStandIn(), channel(api)
    assert handle(telegram, b"{not json", bot)[0] == 400
    assert handle(telegram, b"x" * (MAX_BODY_BYTES + 1), bot)[0] == 413
    assert bot.received == []


def test_when_the_bot_fails_the_person_gets_the_safety_net(api: FakeTelegram) -> None:
    chat = CHAT + 6
    status, _ = handle(channel(api), body(message_update(chat, "my knee aches")), RasaStandIn(True))
    assert status == 200  # a redelivery would fail the same way
    texts = [c.text for c in api.sent_to(chat)]
    assert texts[0].startswith("Sorry, something went wrong") and texts[1] == SAFETY_LINE


def test_when_the_bot_fails_a_red_flag_still_gets_the_emergency_advice(api: FakeTelegram) -> None:
    chat = CHAT + 7
    text = "I can't feel the toilet paper when I wipe"
    handle(channel(api), body(message_update(chat, text)), RasaStandIn(True))
    texts = [c.text for c in api.sent_to(chat)]
    assert texts[0].startswith("EMERGENCY")
    assert any(t.startswith("Sorry, something went wrong") for t in texts[1:])


def test_a_person_who_blocked_the_bot_does_not_break_the_webhook(api: FakeTelegram) -> None:
    chat = CHAT + 8
    api.blocked.add(str(chat))
    status, _ = handle(channel(api), body(message_update(chat, "hi")), RasaStandIn())
    assert status == 200
    assert api.sent_to(chat)  # tried, and Telegram said no


def test_too_long_messages_get_a_reply_without_reaching_the_bot(api: FakeTelegram) -> None:
    bot, chat = RasaStandIn(), CHAT + 9
    text = "numb between my legs " + "and it hurts " * MAX_MESSAGE_CHARS
    assert handle(channel(api), body(message_update(chat, text)), bot)[0] == 200
    texts = [c.text for c in api.sent_to(chat)]
    assert bot.received == []
    assert texts[0].startswith("EMERGENCY") and "too long" in texts[-1]


def test_edits_stickers_voice_and_groups_get_a_short_explanation(api: FakeTelegram) -> None:
    bot, telegram = RasaStandIn(), channel(api)
    edited = message_update(CHAT + 10, "I can't control my bladder")
    edited["edited_message"] = edited.pop("message")
    handle(telegram, body(edited), bot)
    edit_texts = [c.text for c in api.sent_to(CHAT + 10)]
    assert edit_texts[0].startswith("EMERGENCY") and "edit" in edit_texts[-1]

    handle(telegram, body(message_update(CHAT + 11, None, sticker={"file_id": "x"})), bot)
    assert [c.text for c in api.sent_to(CHAT + 11)] == [
        "I can only read typed text, so I couldn't read that. Please type your question or "
        "tell me about your pain in words."
    ]
    handle(telegram, body(message_update(CHAT + 12, None, voice={"file_id": "x"})), bot)
    assert [c.text for c in api.sent_to(CHAT + 12)][-1] == SAFETY_LINE

    group = message_update(CHAT + 13, "my back hurts")
    group["message"]["chat"] = {"id": -(CHAT + 13), "type": "group", "title": "Backs"}
    handle(telegram, body(group), bot)
    (pointer,) = api.sent_to(-(CHAT + 13))
    assert "one-to-one" in pointer.text and "https://t.me/sciatica_test_bot" in pointer.text
    assert bot.received == []
    assert "getMe" not in api.methods()  # the configured username was used
