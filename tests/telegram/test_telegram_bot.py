"""The running bot on Telegram: real update payloads posted to ``/webhooks/telegram/webhook``,
replies captured by the stand-in Bot API the connector is pointed at (``TELEGRAM_API_URL``)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.safety_net import MAX_MESSAGE_CHARS, SAFETY_LINE
from scripts.processes import ROOT, Bot
from tests.telegram.conftest import (
    PUBLIC_URL,
    Webhook,
    callback_update,
    message_update,
    next_update_id,
)
from tests.telegram.fake_api import Call, FakeTelegram

pytestmark = pytest.mark.integration

SYMPTOMS = "shooting pain down the back of my left leg for 3 weeks, worse when I sit, about 6/10"
SCREENING_BUTTONS = [
    {"text": "Yes", "callback_data": "/affirm"},
    {"text": "No", "callback_data": "/deny"},
    {"text": "Not sure", "callback_data": "/unsure"},
]


def say(webhook: Webhook, api: FakeTelegram, update: dict[str, Any]) -> list[Call]:
    """Posts an update and returns what the bot sent to that chat in reply."""
    chat_id = _chat_of(update)
    before = len(api.sent_to(chat_id))
    response = webhook.post(update)
    assert response.status_code == 200, response.text
    return api.sent_to(chat_id)[before:]


def _chat_of(update: dict[str, Any]) -> int:
    if "callback_query" in update:
        return update["callback_query"]["message"]["chat"]["id"]
    return next(update[k] for k in ("message", "edited_message") if k in update)["chat"]["id"]


def assert_alive(bot: Bot) -> None:
    assert requests.get(bot.rasa_url + "/", timeout=10).status_code == 200


def test_symptoms_get_the_screening_question_with_an_inline_keyboard(
    webhook: Webhook, telegram_api: FakeTelegram, bot: Bot, chat_id: int
) -> None:
    sent = say(webhook, telegram_api, message_update(chat_id, SYMPTOMS))
    assert sent[0].text.startswith("Here's what I understood: shooting pain")
    assert "left" in sent[0].text and "3 weeks" in sent[0].text
    question = sent[-1]
    assert question.text.startswith("(1/8) ") and "bladder" in question.text
    assert question.keyboard == [SCREENING_BUTTONS]
    # one conversation per Telegram chat, marked as coming from Telegram
    events = bot.tracker(str(chat_id))["events"]
    users = [e for e in events if e["event"] == "user"]
    assert [e["text"] for e in users] == [SYMPTOMS]
    assert users[0]["input_channel"] == "telegram"


def test_a_pressed_button_is_answered_and_leads_to_the_next_question(
    webhook: Webhook, telegram_api: FakeTelegram, chat_id: int
) -> None:
    say(webhook, telegram_api, message_update(chat_id, SYMPTOMS))
    press = callback_update(chat_id, "/deny")
    sent = say(webhook, telegram_api, press)
    answered = [c.params for c in telegram_api.calls_of("answerCallbackQuery")]
    assert {"callback_query_id": press["callback_query"]["id"]} in answered
    assert sent[-1].text.startswith("(2/8) ") and "bowels" in sent[-1].text
    assert sent[-1].keyboard == [SCREENING_BUTTONS]


def test_an_answer_links_to_its_sources(
    webhook: Webhook, telegram_api: FakeTelegram, chat_id: int
) -> None:
    sent = say(webhook, telegram_api, message_update(chat_id, "what is sciatica?"))
    answer, sources = sent[0], sent[1]
    assert "Sciatica is not a medical diagnosis" in answer.text
    assert "\n\nSources: " in answer.text  # the answer and its source line stay together
    titles = {
        d["id"]: d["title"]
        for d in yaml.safe_load((ROOT / "data/documents/documents.yml").read_text())["documents"]
    }
    assert sources.params["parse_mode"] == "HTML"
    assert sources.links  # each title is a link to the bot's page for that document
    for href, title in sources.links:
        document = href.removeprefix(f"{PUBLIC_URL}/chat/sources/")
        assert titles[document] == title
        assert title in answer.text


def test_an_emergency_is_said_first_and_no_raw_payload_is_sent(
    webhook: Webhook, telegram_api: FakeTelegram, chat_id: int
) -> None:
    sent = say(
        webhook, telegram_api, message_update(chat_id, "i cant feel the toilet paper when i wipe")
    )
    assert sent[0].text.startswith("EMERGENCY: ")
    assert "emergency number" in sent[0].text
    for call in sent:
        assert "red_flags" not in call.text and "advice_source" not in call.text
        assert not call.text.lstrip().startswith("{")


def test_start_greets(webhook: Webhook, telegram_api: FakeTelegram, chat_id: int) -> None:
    sent = say(webhook, telegram_api, message_update(chat_id, "/start"))
    assert sent[0].text.startswith("Hi, I'm the sciatica bot")


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("not-the-secret", 403)])
def test_updates_without_the_right_secret_are_refused_and_never_answered(
    webhook: Webhook,
    telegram_api: FakeTelegram,
    bot: Bot,
    chat_id: int,
    secret: str | None,
    status: int,
) -> None:
    response = webhook.post(message_update(chat_id, "i cant feel the toilet paper"), secret=secret)
    assert response.status_code == status
    assert telegram_api.sent_to(chat_id) == []
    assert not [e for e in bot.tracker(str(chat_id))["events"] if e["event"] == "user"]


def test_a_redelivered_update_is_answered_once(
    webhook: Webhook, telegram_api: FakeTelegram, chat_id: int
) -> None:
    update = message_update(chat_id, "what is sciatica?")
    first = say(webhook, telegram_api, update)
    assert first
    again = webhook.post(update)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert len(telegram_api.sent_to(chat_id)) == len(first)


def test_an_update_delivered_twice_at_once_is_answered_once(
    webhook: Webhook, telegram_api: FakeTelegram, chat_id: int
) -> None:
    update = message_update(chat_id, "do I need an MRI?")
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: webhook.post(update), range(2)))
    assert sorted(r.json()["status"] for r in responses) == ["duplicate", "ok"]
    sent = telegram_api.sent_to(chat_id)
    assert sent and sum("MRI" in c.text for c in sent) == 1


def test_the_bot_never_asks_telegram_who_it_is_nor_sets_its_webhook(
    webhook: Webhook, telegram_api: FakeTelegram, chat_id: int
) -> None:
    say(webhook, telegram_api, message_update(chat_id, "hello"))
    say(webhook, telegram_api, callback_update(chat_id, "/affirm"))
    methods = set(telegram_api.methods())
    assert "getMe" not in methods and "setWebhook" not in methods
    assert methods <= {"sendMessage", "answerCallbackQuery"}


def test_malformed_bodies_get_4xx_and_the_server_stays_up(
    webhook: Webhook, bot: Bot, chat_id: int
) -> None:
    assert webhook.post(None, raw=b"{this is not json").status_code == 400
    assert webhook.post(None, raw=b"\xff\xfe\x00").status_code == 400
    assert webhook.post([1, 2, 3]).status_code == 400
    assert webhook.post({"message": {"text": "no update id"}}).status_code == 400
    assert webhook.post({"update_id": next_update_id(), "message": "hi"}).status_code == 400
    assert (
        webhook.post(None, raw=b'{"update_id": 1, "x": "' + b"a" * 70_000 + b'"}').status_code
        == 413
    )
    # kinds of update the bot does not handle are taken (a 4xx would make Telegram resend them)
    ignored = webhook.post({"update_id": next_update_id(), "my_chat_member": {"chat": {}}})
    assert ignored.status_code == 200 and ignored.json() == {"status": "ignored"}
    assert_alive(bot)


def test_stickers_edits_and_huge_texts_get_a_sensible_reply(
    webhook: Webhook, telegram_api: FakeTelegram, bot: Bot, chat_id: int
) -> None:
    sticker = say(
        webhook,
        telegram_api,
        message_update(chat_id, None, sticker={"file_id": "CAAD", "emoji": "🙂"}),
    )
    assert [c.text for c in sticker] == [
        "I can only read typed text, so I couldn't read that. Please type your question or "
        "tell me about your pain in words."
    ]
    voice = say(webhook, telegram_api, message_update(chat_id, None, voice={"file_id": "AwAC"}))
    assert voice[-1].text == SAFETY_LINE

    edited = message_update(chat_id, "actually it is both legs and I can't control my bladder")
    edited["edited_message"] = edited.pop("message")
    replies = say(webhook, telegram_api, edited)
    assert replies[0].text.startswith("EMERGENCY: ")
    assert "send it again as a new message" in replies[-1].text

    huge = say(webhook, telegram_api, message_update(chat_id, "my leg hurts. " * MAX_MESSAGE_CHARS))
    assert "too long" in huge[-1].text
    # none of these reached the dialogue
    assert not [e for e in bot.tracker(str(chat_id))["events"] if e["event"] == "user"]
    assert_alive(bot)


def test_a_person_who_blocked_the_bot_does_not_break_it(
    webhook: Webhook, telegram_api: FakeTelegram, bot: Bot, chat_id: int
) -> None:
    telegram_api.blocked.add(str(chat_id))
    assert webhook.post(message_update(chat_id, "what is sciatica?")).status_code == 200
    assert all(c.error and "blocked" in c.error for c in telegram_api.sent_to(chat_id))
    other = chat_id + 1
    assert say(webhook, telegram_api, message_update(other, "what is sciatica?"))
    assert_alive(bot)


def wait_for_message(
    api: FakeTelegram, chat_id: int, words: str, *, after: int, timeout: float = 30
) -> list[Call]:
    """What the bot sent to the chat after its first ``after`` messages, once one says ``words``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = api.sent_to(chat_id)[after:]
        if any(words in c.text for c in sent):
            return sent
        time.sleep(0.2)
    raise AssertionError(f"no {words!r} within {timeout}s: {[c.text for c in sent]}")


def test_a_check_in_is_sent_to_the_chat_without_a_new_message(
    webhook: Webhook, telegram_api: FakeTelegram, bot: Bot, chat_id: int
) -> None:
    say(webhook, telegram_api, message_update(chat_id, SYMPTOMS))
    for _ in range(8):
        sent = say(webhook, telegram_api, callback_update(chat_id, "/deny"))
    assert sent[0].text.startswith("SELF CARE: ")
    sent = say(webhook, telegram_api, message_update(chat_id, "check on me in 2 days"))
    assert "check on you in 2 days" in sent[-1].text
    before = len(telegram_api.sent_to(chat_id))

    # A check-in "day" lasts a second here: nothing is posted to the webhook meanwhile.
    pushed = wait_for_message(telegram_api, chat_id, "How bad is your pain today", after=before)
    assert pushed[0].text == "Hello again, this is the check-in you asked for 2 days ago."
    assert pushed[-1].text.startswith("How bad is your pain today, from 0 (no pain) to 10")
    assert all(c.error is None for c in pushed)
    events = bot.tracker(str(chat_id))["events"]
    users = [e for e in events if e["event"] == "user"]
    assert users[-1]["parse_data"]["intent"]["name"] == "EXTERNAL_checkin"
    assert users[-2]["text"] == "check on me in 2 days"

    # the answer goes on with the check-in, in the same chat
    sent = say(webhook, telegram_api, message_update(chat_id, "about 4"))
    assert "daily life" in sent[-1].text
    assert [k["text"] for k in sent[-1].buttons] == ["Better", "The same", "Worse"]

    # the summary for a doctor comes as text in the same chat, check-in trend included
    sent = say(webhook, telegram_api, message_update(chat_id, "a summary for my doctor please"))
    summary = next(c.text for c in sent if "Summary of what you told" in c.text)
    assert "not a diagnosis" in summary and "4/10" in summary


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    value=json_values
    | st.fixed_dictionaries(
        {"update_id": st.integers(min_value=0, max_value=2**40)},
        optional={"message": json_values, "callback_query": json_values},
    )
)
def test_any_json_gets_a_2xx_or_4xx(webhook: Webhook, value: Any) -> None:
    assert webhook.post(value).status_code < 500


def test_every_message_the_bot_sent_was_one_telegram_accepts(
    webhook: Webhook, telegram_api: FakeTelegram, chat_id: int
) -> None:
    """Escaped HTML, non-empty, short enough, valid keyboards (the stand-in checks as Telegram)."""
    say(webhook, telegram_api, message_update(chat_id, "what is <b>sciatica</b> & why? <script>"))
    refused = [
        (c.method, c.error)
        for c in telegram_api.snapshot()
        if c.error and c.chat_id not in telegram_api.blocked
    ]
    assert refused == []
