"""Slack's requests to the running bot, and what the bot posts back to Slack's Web API.

The bot runs with Slack on (``conftest.slack_bot``) and posts its replies to a local stand-in for
Slack's Web API, through the connector's own code (``SLACK_API_URL``). Every request is signed
the way Slack signs it unless the test is about signatures.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.processes import ROOT, Bot, free_port, start_rasa, stop
from tests.slack.conftest import PUBLIC_URL, write_credentials
from tests.slack.slack_api import (
    SlackStandIn,
    block_actions,
    deliver,
    form_body,
    json_body,
    message_event,
    new_id,
    url_verification,
)

pytestmark = pytest.mark.integration

SYMPTOMS = "shooting pain down the back of my left leg for 3 weeks, worse when I sit, about 6/10"
EMERGENCY = "i cant feel the toilet paper when i wipe"
# Arguments the bot may give chat.postMessage; anything else (a raw payload) Slack would refuse.
POST_ARGUMENTS = {"channel", "text", "blocks", "thread_ts"}


class Person:
    """Someone writing to the bot in a direct message of their own."""

    def __init__(self, bot: Bot, slack_api: SlackStandIn, secret: str) -> None:
        self.bot, self.slack_api, self.secret = bot, slack_api, secret
        self.user, self.channel = new_id("U"), new_id("D")

    @property
    def conversation(self) -> str:
        return f"{self.user}_{self.channel}"

    def event(self, text: str, **kwargs: Any) -> dict[str, Any]:
        return message_event(text, user=self.user, channel=self.channel, **kwargs)

    def send(self, payload: dict[str, Any], **kwargs: Any) -> requests.Response:
        return deliver(self.bot.rasa_url, *json_body(payload), secret=self.secret, **kwargs)

    def says(self, text: str) -> list[dict[str, Any]]:
        """Sends a message and returns the posts it got back."""
        before = len(self.posts())
        response = self.send(self.event(text))
        assert response.status_code == 200, response.text
        # Slack sends the event again when the 2xx takes longer than three seconds.
        assert response.elapsed.total_seconds() < 3
        return self.slack_api.wait_for_posts(self.channel, after=before)[before:]

    def posts(self) -> list[dict[str, Any]]:
        return self.slack_api.posts(self.channel)

    def user_messages(self) -> list[str]:
        events = self.bot.tracker(self.conversation)["events"]
        return [e["text"] for e in events if e["event"] == "user"]


@pytest.fixture
def person(slack_bot: Bot, slack_api: SlackStandIn, slack_env: dict[str, str]) -> Person:
    return Person(slack_bot, slack_api, slack_env["SLACK_SIGNING_SECRET"])


@pytest.fixture(scope="module")
def greeting_reply(slack_bot: Bot, slack_api: SlackStandIn, slack_env: dict[str, str]) -> list:
    """What a first "hello" gets: the reference for "answered exactly once"."""
    posts = Person(slack_bot, slack_api, slack_env["SLACK_SIGNING_SECRET"]).says("hello")
    assert posts
    return [p["text"] for p in posts]


def texts(posts: list[dict[str, Any]]) -> list[str]:
    return [p["text"] for p in posts]


def test_slacks_url_check_gets_its_challenge_back(person: Person) -> None:
    response = person.send(url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_symptoms_get_the_screening_question_with_buttons_and_a_click_answers_it(
    person: Person, slack_api: SlackStandIn, slack_env: dict[str, str]
) -> None:
    posts = person.says(SYMPTOMS)
    assert any("left" in p["text"] and "leg" in p["text"] for p in posts), posts
    question = posts[-1]
    section, actions = question["blocks"]
    assert section["type"] == "section" and section["text"]["text"].startswith("(1/8)")
    assert question["text"].startswith("(1/8)")  # the notification text
    assert actions["type"] == "actions"
    assert [(b["text"]["text"], b["value"]) for b in actions["elements"]] == [
        ("Yes", "/affirm"),
        ("No", "/deny"),
        ("Not sure", "/unsure"),
    ]
    for post in posts:
        assert set(post) <= POST_ARGUMENTS
    token = slack_env["SLACK_BOT_TOKEN"]
    assert {c["authorization"] for c in slack_api.calls} == {f"Bearer {token}"}

    before = len(person.posts())
    click = block_actions(question, "/deny", user=person.user, channel=person.channel)
    response = deliver(person.bot.rasa_url, *form_body(click), secret=person.secret)
    assert response.status_code == 200, response.text
    after_click = slack_api.wait_for_posts(person.channel, after=before)[before:]
    assert after_click[-1]["text"].startswith("(2/8)")
    assert person.user_messages() == [SYMPTOMS, "/deny"]


def test_an_answer_names_its_source_in_a_context_block_with_a_link(person: Person) -> None:
    posts = person.says("what is sciatica?")
    assert any("Source" in p["text"] for p in posts)
    contexts = [b for p in posts for b in p.get("blocks", []) if b["type"] == "context"]
    assert len(contexts) == 1
    links = [e["text"] for e in contexts[0]["elements"]]
    assert links and all(f"<{PUBLIC_URL}/chat/sources/d00" in link for link in links), links


def test_an_emergency_is_answered_first_with_the_headline_in_bold_and_no_raw_payload(
    person: Person,
) -> None:
    posts = person.says(EMERGENCY)
    assert posts[0]["text"].startswith("*EMERGENCY:")
    assert "emergency" in posts[0]["text"].lower() and "Why:" in posts[0]["text"]
    for post in posts:
        assert set(post) <= POST_ARGUMENTS
        assert "red_flags" not in json.dumps(post)
    assert person.bot.slots(person.conversation)["triage_level"] == "emergency"


def wait_for_post(
    person: Person, words: str, *, after: int, timeout: float = 30
) -> list[dict[str, Any]]:
    """The posts in the person's channel after the first ``after``, once one says ``words``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = person.posts()[after:]
        if any(words in p["text"] for p in posts):
            return posts
        time.sleep(0.2)
    raise AssertionError(f"no {words!r} within {timeout}s: {texts(person.posts()[after:])}")


def test_a_check_in_is_posted_to_the_channel_without_a_new_message(person: Person) -> None:
    def write(text: str, words: str) -> list[dict[str, Any]]:
        before = len(person.posts())
        assert person.send(person.event(text)).status_code == 200
        return wait_for_post(person, words, after=before)

    def click(post: dict[str, Any], value: str, words: str) -> list[dict[str, Any]]:
        before = len(person.posts())
        clicked = block_actions(post, value, user=person.user, channel=person.channel)
        response = deliver(person.bot.rasa_url, *form_body(clicked), secret=person.secret)
        assert response.status_code == 200, response.text
        return wait_for_post(person, words, after=before)

    posts = write(SYMPTOMS, "(1/8)")
    for number in range(2, 9):
        posts = click(posts[-1], "/deny", f"({number}/8)")
    posts = click(posts[-1], "/deny", "STarT Back")
    assert posts[0]["text"].startswith("*SELF CARE:")
    posts = write("check on me in 2 days", "check on you in 2 days")
    before = len(person.posts())

    # A check-in "day" lasts a second here: nothing is sent to the webhook meanwhile.
    pushed = wait_for_post(person, "How bad is your pain today", after=before)
    assert texts(pushed) == [
        "Hello again, this is the check-in you asked for 2 days ago.",
        "How bad is your pain today, from 0 (no pain) to 10 (the worst pain you can imagine)?",
    ]
    for post in pushed:
        assert set(post) <= POST_ARGUMENTS
    events = person.bot.tracker(person.conversation)["events"]
    users = [e for e in events if e["event"] == "user"]
    assert users[-1]["parse_data"]["intent"]["name"] == "EXTERNAL_checkin"
    assert users[-2]["text"] == "check on me in 2 days"

    # the answer goes on with the check-in, in the same channel
    posts = write("about 4", "daily life")
    buttons = [
        e["text"]["text"]
        for b in posts[-1]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert buttons == ["Better", "The same", "Worse"]

    # the summary for a doctor comes as text in the same channel, check-in trend included
    posts = write("a summary for my doctor please", "Summary of what you told")
    summary = next(p["text"] for p in posts if "Summary of what you told" in p["text"])
    assert "not a diagnosis" in summary and "4/10" in summary


def test_requests_not_signed_by_slack_or_too_old_are_refused_and_not_answered(
    person: Person, greeting_reply: list[str]
) -> None:
    body, content_type = json_body(person.event("hello"))
    now = int(time.time())
    refused = [
        deliver(person.bot.rasa_url, body, content_type, secret=None),
        deliver(person.bot.rasa_url, body, content_type, secret="not-the-signing-secret"),
        deliver(
            person.bot.rasa_url, body, content_type, secret=person.secret, timestamp=now - 6 * 60
        ),
        deliver(
            person.bot.rasa_url, body, content_type, secret=person.secret, timestamp=now + 6 * 60
        ),
    ]
    assert [r.status_code for r in refused] == [401, 401, 401, 401]
    assert all("error" in r.json() for r in refused)
    # The same event, properly signed, is answered once: none of the refused copies was.
    assert texts(person.says("hello")) == greeting_reply
    assert person.user_messages() == ["hello"]


def test_slacks_retries_of_an_event_are_answered_once(
    person: Person, greeting_reply: list[str]
) -> None:
    event = person.event("hello")
    first = person.send(event)
    retries = [
        person.send(
            event, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        ),
        person.send(
            event, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}
        ),
    ]
    assert texts(person.slack_api.wait_for_posts(person.channel)) == greeting_reply
    assert person.user_messages() == ["hello"]
    # Slack is told not to retry once more.
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    for retry in retries:
        assert retry.status_code == 200 and retry.json()["status"] == "duplicate"
        assert retry.headers.get("X-Slack-No-Retry") == "1"


def test_a_retry_of_an_event_the_bot_never_got_is_answered(
    person: Person, greeting_reply: list[str]
) -> None:
    """Retries are not dropped blindly (Rasa drops every http_timeout retry)."""
    response = person.send(
        person.event("hello"),
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert response.json()["status"] == "accepted"
    assert texts(person.slack_api.wait_for_posts(person.channel)) == greeting_reply


@pytest.fixture(scope="module")
def second_process(
    slack_bot: Bot, slack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """Another Rasa process behind the same Slack app, action server, stores and Redis."""
    workdir: Path = tmp_path_factory.mktemp("slack-second")
    port = free_port()
    process = start_rasa(
        workdir,
        slack_bot.endpoints,
        port,
        jwt_secret=slack_bot.jwt_secret,
        action_token=slack_bot.action_token,
        credentials=write_credentials(workdir),
        env=slack_env,
    )
    yield f"http://127.0.0.1:{port}"
    stop(process)


def test_the_same_event_reaching_two_bot_processes_is_answered_once(
    person: Person, second_process: str, slack_api: SlackStandIn, greeting_reply: list[str]
) -> None:
    # The second process answers on its own, so a single reply below is not a broken process.
    other = Person(person.bot, slack_api, person.secret)
    response = deliver(second_process, *json_body(other.event("hello")), secret=person.secret)
    assert response.json()["status"] == "accepted"
    assert texts(slack_api.wait_for_posts(other.channel)) == greeting_reply

    body, content_type = json_body(person.event("hello"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(
            pool.map(
                lambda url: deliver(url, body, content_type, secret=person.secret),
                [person.bot.rasa_url, second_process],
            )
        )
    assert texts(slack_api.wait_for_posts(person.channel)) == greeting_reply
    assert person.user_messages() == ["hello"]
    assert [r.status_code for r in responses] == [200, 200]
    assert sorted(r.json()["status"] for r in responses) == ["accepted", "duplicate"]


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{not json", 400),
        ("application/json", b"[]", 400),
        ("application/json", b"\xff\xfe\xfd", 400),
        ("application/json", b'{"type": "event_callback", "event": []}', 400),
        ("application/x-www-form-urlencoded", b"nothing=here", 400),
        ("application/x-www-form-urlencoded", b"payload=%7B%22type", 400),
        ("text/plain", b"hello", 415),
    ],
)
def test_malformed_bodies_get_a_4xx_and_the_server_stays_up(
    person: Person, content_type: str, body: bytes, status: int
) -> None:
    signed = deliver(person.bot.rasa_url, body, content_type, secret=person.secret)
    assert signed.status_code == status, signed.text
    assert "error" in signed.json()
    unsigned = deliver(person.bot.rasa_url, body, content_type, secret=None)
    assert unsigned.status_code == 401
    assert requests.get(f"{person.bot.rasa_url}/webhooks/slack/", timeout=10).status_code == 200
    assert person.send(url_verification("still-here")).json() == {"challenge": "still-here"}


def test_events_that_are_not_someone_writing_are_not_answered(
    person: Person, greeting_reply: list[str]
) -> None:
    edited = person.event("hello")
    edited["event"]["subtype"] = "message_changed"
    own = person.event("hello")
    own["event"]["bot_id"] = "B0SCIATICA"
    for payload in (edited, own, {"type": "app_rate_limited", "minute_rate_limited": 1}):
        response = person.send(payload)
        assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert texts(person.says("hello")) == greeting_reply


def test_with_slack_unconfigured_the_bot_starts_and_the_webhook_answers_503(
    slack_bot: Bot, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The repository's credentials.yml with the empty variables `make run` exports."""
    workdir = tmp_path_factory.mktemp("slack-off")
    port = free_port()
    process = start_rasa(
        workdir,
        slack_bot.endpoints,
        port,
        jwt_secret=slack_bot.jwt_secret,
        action_token=slack_bot.action_token,
        credentials=ROOT / "credentials.yml",
        env={"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": ""},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        body, content_type = json_body(url_verification("x"))
        response = deliver(url, body, content_type, secret="anything")
        assert response.status_code == 503
        assert "not configured" in response.json()["error"]
        assert requests.get(f"{url}/webhooks/slack/", timeout=10).status_code == 503
        rest = requests.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": new_id("u"), "message": "hello"},
            timeout=60,
        )
        assert rest.status_code == 200 and rest.json()
    finally:
        stop(process)
    log = (workdir / f"rasa-{port}.log").read_text()
    assert log.count("Slack is off") == 1, log[-3000:]
