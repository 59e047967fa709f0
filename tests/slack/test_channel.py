"""The Slack connector's own logic, without a running server: signatures, parsing, replies."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
import yaml

from channels.dedupe import MemoryDedupe
from channels.slack import (
    BadRequest,
    SlackBot,
    SlackInput,
    button_blocks,
    event_keys,
    format_text,
    is_person_writing,
    parse_request,
    signature_problem,
    sources_message,
    split_text,
)
from scripts.processes import ROOT
from tests.slack.slack_api import BOT_USER, block_actions, form_body, message_event, signed

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000


def headers_for(body: bytes, timestamp: int = NOW) -> tuple[str, str]:
    sent = signed(SECRET, body, timestamp=timestamp)
    return sent["X-Slack-Request-Timestamp"], sent["X-Slack-Signature"]


# --- signatures -------------------------------------------------------------------------------


def test_a_request_signed_by_slack_within_five_minutes_is_accepted() -> None:
    body = json.dumps(message_event("hi", user="U1", channel="D1")).encode()
    for age in (0, 299, -299):
        timestamp, signature = headers_for(body, NOW - age)
        assert signature_problem(SECRET, body, timestamp, signature, now=NOW) is None


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_a_correctly_signed_but_stale_or_future_request_is_refused(age: int) -> None:
    body = b'{"type":"event_callback"}'
    timestamp, signature = headers_for(body, NOW - age)
    assert signature_problem(SECRET, body, timestamp, signature, now=NOW) == "stale timestamp"


def test_a_changed_body_or_another_secret_does_not_verify() -> None:
    body = b'{"text":"hello"}'
    timestamp, signature = headers_for(body)
    assert signature_problem(SECRET, b'{"text":"hellO"}', timestamp, signature, now=NOW)
    assert signature_problem("other-secret", body, timestamp, signature, now=NOW)
    # The timestamp is part of what is signed: it cannot be refreshed on an old signature.
    assert signature_problem(SECRET, body, str(NOW + 1), signature, now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [(None, "v0=abc"), (str(NOW), None), ("", ""), ("1e9", "v0=abc"), ("-5", "v0=a"), ("١٢", "v0")],
)
def test_missing_or_malformed_signature_headers_are_refused(
    timestamp: str | None, signature: str | None
) -> None:
    assert signature_problem(SECRET, b"{}", timestamp, signature, now=NOW)


def test_bodies_that_are_not_utf8_are_checked_as_raw_bytes() -> None:
    body = b"payload=\xff\xfe"
    digest = hmac.new(SECRET.encode(), f"v0:{NOW}:".encode() + body, hashlib.sha256).hexdigest()
    assert signature_problem(SECRET, body, str(NOW), f"v0={digest}", now=NOW) is None
    assert signature_problem(SECRET, body, str(NOW), "v0=\u00e9", now=NOW) == "signature mismatch"


# --- parsing ----------------------------------------------------------------------------------


def test_events_checks_and_clicks_are_told_apart() -> None:
    event = json.dumps(message_event("hi", user="U1", channel="D1")).encode()
    assert parse_request("application/json", event).kind == "event_callback"
    assert parse_request("application/json; charset=utf-8", event).kind == "event_callback"
    check = b'{"type": "url_verification", "challenge": "3eZbrw1aB"}'
    assert parse_request("application/json", check).payload["challenge"] == "3eZbrw1aB"
    post = {"text": "Q", "blocks": button_blocks("Q", [{"title": "Yes", "payload": "/affirm"}])}
    body, content_type = form_body(block_actions(post, "/affirm", user="U1", channel="D1"))
    assert parse_request(content_type, body).kind == "interactive"
    assert parse_request("application/json", b'{"type": "app_rate_limited"}').kind == "other"


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{not json", 400),
        ("application/json", b"[1, 2]", 400),
        ("application/json", b"\xff\xfe", 400),
        ("application/json", b'{"type": "url_verification", "challenge": 5}', 400),
        ("application/json", b'{"type": "event_callback", "event": "hi"}', 400),
        ("application/x-www-form-urlencoded", b"text=hello", 400),
        ("application/x-www-form-urlencoded", b"payload=%7Bnot", 400),
        ("application/x-www-form-urlencoded", b"payload=1&payload=2", 400),
        ("application/x-www-form-urlencoded", b"payload=%5B%5D", 400),
        ("text/plain", b"hello", 415),
        (None, b"{}", 415),
    ],
)
def test_bodies_slack_does_not_send_are_refused_with_a_reason(
    content_type: str | None, body: bytes, status: int
) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_request(content_type, body)
    assert refused.value.status == status
    assert str(refused.value)


def test_only_what_a_person_wrote_is_answered() -> None:
    def event(**changes: Any) -> dict[str, Any]:
        return {**message_event("my back hurts", user="U1", channel="D1")["event"], **changes}

    assert is_person_writing(event(), [BOT_USER])
    assert is_person_writing(event(subtype="file_share"), [BOT_USER])
    assert not is_person_writing(event(user=BOT_USER), [BOT_USER])
    assert not is_person_writing(event(bot_id="B1"), [BOT_USER])
    assert not is_person_writing(event(subtype="message_changed"), [BOT_USER])
    assert not is_person_writing(event(subtype="channel_join"), [BOT_USER])
    assert not is_person_writing(event(text="   "), [BOT_USER])
    assert not is_person_writing(event(type="reaction_added"), [BOT_USER])


def test_a_retry_and_a_mention_of_the_same_message_share_a_key() -> None:
    first = message_event("<@U0SCIATBOT> hi", user="U1", channel="C1", ts="1.000100")
    retry = json.loads(json.dumps(first))
    mention = message_event(
        "<@U0SCIATBOT> hi", user="U1", channel="C1", ts="1.000100", event_type="app_mention"
    )
    later = message_event("hi", user="U1", channel="C1", ts="2.000100")
    assert event_keys(first) == event_keys(retry)
    assert set(event_keys(first)) & set(event_keys(mention))
    assert not set(event_keys(first)) & set(event_keys(later))


# --- replies ----------------------------------------------------------------------------------


def test_the_triage_headline_is_bold_and_slack_control_characters_are_escaped() -> None:
    text = "EMERGENCY: Call 999 or go to A&E now.\nWhy: <numbness> between the legs."
    assert format_text(text) == (
        "*EMERGENCY: Call 999 or go to A&amp;E now.*\nWhy: &lt;numbness&gt; between the legs."
    )
    assert format_text("PLEASE REACH OUT NOW: talk to someone.").startswith("*PLEASE REACH")
    assert format_text("Emergency departments are busy.") == "Emergency departments are busy."


def test_long_text_is_split_at_paragraphs_into_parts_slack_shows_whole() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 150 for i in range(12))
    parts = split_text(text, limit=1000)
    assert all(len(p) <= 1000 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert all(p.startswith("Paragraph") for p in parts[:3])


def test_buttons_become_a_section_and_an_actions_block_with_the_payloads_as_values() -> None:
    buttons = [
        {"title": "Yes", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
        {"title": "x" * 100, "payload": "Yes, I have new problems with my bladder"},
    ]
    section, actions = button_blocks("(1/8) Any new bladder problems?", buttons)
    assert section == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "(1/8) Any new bladder problems?"},
    }
    assert [e["value"] for e in actions["elements"]] == [b["payload"] for b in buttons]
    assert [e["text"]["text"] for e in actions["elements"]][:2] == ["Yes", "No"]
    assert len(actions["elements"][2]["text"]["text"]) == 75
    assert len({e["action_id"] for e in actions["elements"]}) == 3


def test_more_buttons_than_an_actions_block_holds_are_all_kept() -> None:
    buttons = [{"title": str(i), "payload": f'/choose{{"n": {i}}}'} for i in range(30)]
    blocks = button_blocks("Pick one", buttons)
    assert [len(b["elements"]) for b in blocks[1:]] == [25, 5]


SOURCES = {
    "type": "sources",
    "topic": "what_is_sciatica",
    "sources": [
        {
            "title": "What Is Sciatica And Where Does It Come From?",
            "file_name": "001.txt",
            "document": "d001",
        },
        {"title": "A | B <odd>", "file_name": "002.txt", "document": "../etc"},
    ],
}


def test_sources_become_a_context_block_linking_to_the_documents() -> None:
    message = sources_message(SOURCES, "https://bot.example.org/")
    assert message is not None
    (context,) = message["blocks"]
    assert context["type"] == "context"
    first, second = (e["text"] for e in context["elements"])
    assert "<https://bot.example.org/chat/sources/d001|What Is Sciatica" in first
    # A document id that is not an id gets no link; the title cannot break Slack's link syntax.
    assert "<" not in second.replace("&lt;", "") and "|" not in second
    assert message["text"].startswith("Sources: What Is Sciatica")


def test_without_a_public_url_sources_are_titles_only() -> None:
    message = sources_message(SOURCES, None)
    assert message is not None
    assert "http" not in json.dumps(message)
    assert sources_message({"type": "sources", "sources": []}, None) is None


class RecordingClient:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []

    async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:  # noqa: N802 - Slack's
        self.posts.append(kwargs)
        return {"ok": True}


def output(thread: str | None = None) -> tuple[SlackBot, RecordingClient]:
    bot = SlackBot("xoxb-test", "D1", thread, public_url="https://bot.example.org")
    client = RecordingClient()
    bot.client = client  # type: ignore[assignment]
    return bot, client


def send(bot: SlackBot, *messages: dict[str, Any]) -> None:
    async def run() -> None:
        for message in messages:
            await bot.send_response("U1_D1", dict(message))

    asyncio.run(run())


TRIAGE = {
    "type": "triage",
    "level": "emergency",
    "title": "Call 999",
    "red_flags": [{"id": "cauda_equina_saddle"}],
    "advice_source": "NICE",
}


def test_an_escalation_is_one_post_with_the_headline_and_never_the_raw_triage_payload() -> None:
    bot, client = output()
    send(bot, {"text": "EMERGENCY: Call 999 now.\nWhy: numbness"}, {"custom": TRIAGE})
    assert client.posts == [{"channel": "D1", "text": "*EMERGENCY: Call 999 now.*\nWhy: numbness"}]


def test_replies_go_to_the_conversations_channel_without_legacy_arguments() -> None:
    bot, client = output(thread="1700000000.000100")
    send(
        bot,
        {"text": "Hello"},
        {"text": "Pick", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
        {"custom": SOURCES},
        {"custom": {"type": "unknown", "level": "x"}},
    )
    assert len(client.posts) == 3
    for post in client.posts:
        assert post["channel"] == "D1" and post["thread_ts"] == "1700000000.000100"
        assert "as_user" not in post and "type" not in post and post["text"]
    assert client.posts[1]["blocks"][1]["type"] == "actions"
    assert client.posts[2]["blocks"][0]["type"] == "context"


def slack_input(**changes: Any) -> SlackInput:
    credentials = {"slack_token": "xoxb-test", "slack_signing_secret": SECRET, **changes}
    channel = SlackInput.from_credentials(credentials)
    channel.dedupe = MemoryDedupe()
    return channel


def test_empty_settings_switch_slack_off_instead_of_stopping_the_server() -> None:
    assert not slack_input(slack_token="").configured
    assert not slack_input(slack_signing_secret="  ").configured
    assert not SlackInput.from_credentials(None).configured
    assert slack_input().configured


def test_conversations_are_kept_apart_per_channel_by_default() -> None:
    channel = slack_input()
    direct = channel._event_message(message_event("hi", user="U1", channel="D1"))
    mention = channel._event_message(
        message_event("<@U0SCIATBOT> hi", user="U1", channel="C9", event_type="app_mention")
    )
    assert direct and mention
    assert direct[1] != mention[1]
    assert mention[0] == "hi"  # the bot's own mention is not part of what the person said


def test_channel_messages_without_a_mention_are_not_answered() -> None:
    channel = slack_input()
    assert (
        channel._event_message(message_event("hi", user="U1", channel="C9", channel_type="channel"))
        is None
    )


def test_slack_escaping_is_undone_before_the_bot_reads_the_text() -> None:
    channel = slack_input()
    found = channel._event_message(message_event("pain &gt; 7 &amp; numb", user="U1", channel="D1"))
    assert found and found[0] == "pain > 7 & numb"


def test_a_click_is_the_buttons_payload_in_the_same_conversation_as_the_message() -> None:
    channel = slack_input()
    post = {"text": "Q", "blocks": button_blocks("Q", [{"title": "No", "payload": "/deny"}])}
    click = channel._interaction_message(block_actions(post, "/deny", user="U1", channel="D1"))
    typed = channel._event_message(message_event("no", user="U1", channel="D1"))
    assert click and typed
    assert click[0] == "/deny"
    assert click[1] == typed[1]
    assert click[2]["out_channel"] == "D1"


def test_signing_helper_matches_slacks_published_example() -> None:
    """Slack's documentation example, so the tests sign exactly as Slack does."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
        b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121"
        b".803a0bc887a14d10d2c447fce8b6703c"
    )
    timestamp, signature = (
        "1531420618",
        ("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
    )
    assert signed("8f742231b10e8888abcd99yyyzzz85a5", body, timestamp=1531420618) == {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    assert signature_problem(SECRET, body, timestamp, signature, now=1531420618 + 10) is None
    assert signature_problem(SECRET, body, timestamp, signature, now=time.time()) == (
        "stale timestamp"
    )


def test_the_app_manifest_sends_the_connector_what_it_answers() -> None:
    """deploy/slack-manifest.yml: both URLs on the webhook, the events and scopes it needs."""
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-manifest.yml").read_text())
    settings = manifest["settings"]
    for url in (
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ):
        assert url.startswith("https://") and url.endswith("/webhooks/slack/webhook")
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    events = set(settings["event_subscriptions"]["bot_events"])
    assert events == {"message.im", "app_mention"}
    assert {"chat:write", "im:history", "app_mentions:read"} == set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False


def test_threads_can_be_switched_on_from_an_environment_variable() -> None:
    assert slack_input(use_threads="true").use_threads
    assert not slack_input(use_threads="false").use_threads
    assert not slack_input(use_threads="").use_threads


def answer(text: str, on_new_message: Any) -> list[str]:
    bot, client = output()
    asyncio.run(slack_input()._answer(on_new_message, bot, text, "U1_D1", {}))
    for post in client.posts:
        assert set(post) <= {"channel", "text", "blocks"}
    return [p["text"] for p in client.posts]


def test_when_answering_fails_the_person_gets_an_apology_and_the_emergency_signs() -> None:
    async def broken(_: Any) -> None:
        raise RuntimeError("the tracker store is down")

    replies = answer("my back hurts when i sit", broken)
    assert "went wrong" in replies[0]
    assert "emergency" in replies[1]


def test_when_answering_fails_a_red_flag_still_gets_the_emergency_advice_first() -> None:
    async def broken(_: Any) -> None:
        raise ConnectionError("the action server is down")

    replies = answer("i cant feel the toilet paper when i wipe", broken)
    assert replies[0].startswith("*EMERGENCY:")
    assert "went wrong" in replies[-1]


def test_a_message_over_the_limit_gets_a_short_reply_without_going_to_the_bot() -> None:
    handled: list[Any] = []

    async def handle(message: Any) -> None:
        handled.append(message)

    replies = answer("my leg hurts. " * 200, handle)
    assert not handled
    assert replies and "too long" in replies[-1]
