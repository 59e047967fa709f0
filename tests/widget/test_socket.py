"""The chat's socket.io endpoint, spoken to by python-socketio's client as another page would.

The client uses long-polling: python-engineio 4.15's websocket client needs a newer aiohttp than
the 3.9 Rasa pins. The Origin check is the same for both transports (python-engineio checks it
on every request).
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import socketio

from bot.safety_net import MAX_MESSAGE_CHARS
from scripts.processes import Bot

pytestmark = [pytest.mark.integration, pytest.mark.widget]

QUIET_SECONDS = 3.0
LEAVE_SECONDS = 2.0
REPLY_TIMEOUT = 90.0


@dataclass
class Visit:
    session_id: str | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)
    refused: str | None = None
    # the server closed the connection (a packet over its limit): no reply will come
    dropped: bool = False

    @property
    def texts(self) -> list[str]:
        return [r["text"] for r in self.replies if "text" in r]

    @property
    def customs(self) -> list[dict[str, Any]]:
        return [r["custom"] for r in self.replies if "custom" in r]


async def _visit(
    url: str, origin: str, messages: list[dict[str, Any]], session_id: str | None
) -> Visit:
    visit = Visit()
    client = socketio.AsyncClient(reconnection=False)
    confirmed = asyncio.Event()

    @client.on("session_confirm")
    async def on_session(data: Any) -> None:
        visit.session_id = data
        confirmed.set()

    @client.on("bot_uttered")
    async def on_reply(data: Any) -> None:
        visit.replies.append(data)

    @client.on("disconnect")
    async def on_disconnect(*_: Any) -> None:
        visit.dropped = True

    try:
        await client.connect(
            url,
            headers={"Origin": origin},
            transports=["polling"],
            socketio_path="socket.io",
            wait_timeout=30,
        )
    except socketio.exceptions.ConnectionError as error:
        visit.refused = str(error)
        return visit
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), 30)
        for message in messages:
            count = len(visit.replies)
            await client.emit("user_uttered", {"session_id": visit.session_id, **message})
            await _until_quiet(visit, count)
    finally:
        if not visit.dropped:
            await _leave(client)
    return visit


async def _leave(client: socketio.AsyncClient) -> None:
    """Says goodbye to the server without waiting out the open long-poll (up to the server's
    ping interval, 25 s): the server has the close packet either way."""
    try:
        await asyncio.wait_for(client.disconnect(), LEAVE_SECONDS)
    except asyncio.TimeoutError:
        pass


async def _until_quiet(visit: Visit, count: int) -> None:
    """Waits for the first reply, then until nothing new came for QUIET_SECONDS."""
    waited = 0.0
    while len(visit.replies) == count and waited < REPLY_TIMEOUT and not visit.dropped:
        await asyncio.sleep(0.25)
        waited += 0.25
    seen = -1
    while seen != len(visit.replies) and not visit.dropped:
        seen = len(visit.replies)
        await asyncio.sleep(QUIET_SECONDS)


def visit(
    bot: Bot,
    origin: str,
    messages: list[str | dict[str, Any]] = (),  # type: ignore[assignment]
    session_id: str | None = None,
) -> Visit:
    """Runs one socket conversation in its own thread and event loop (the browser tests own
    the main thread's)."""
    events = [m if isinstance(m, dict) else {"message": m} for m in messages]
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["visit"] = asyncio.run(_visit(bot.rasa_url, origin, events, session_id))
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            result["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(REPLY_TIMEOUT * (len(events) + 1) + 60)
    if "error" in result:
        raise result["error"]
    return result["visit"]


def user_texts(bot: Bot, session_id: str) -> list[str]:
    return [e.get("text") for e in bot.tracker(session_id)["events"] if e.get("event") == "user"]


def test_a_page_on_another_site_is_refused(bot: Bot) -> None:
    for origin in ("https://evil.example", "http://localhost:5006", "null"):
        result = visit(bot, origin, ["what is sciatica"])
        assert result.refused is not None, origin
        assert result.replies == []


def test_the_bots_own_page_connects_and_gets_answers(bot: Bot) -> None:
    result = visit(bot, bot.rasa_url, ["what is sciatica"])
    assert result.refused is None
    assert re.fullmatch(r"web-[0-9a-f]{32}", result.session_id or "")
    assert result.texts and result.texts[0].startswith("Sciatica")
    sources = [c for c in result.customs if c.get("type") == "sources"]
    assert sources and sources[0]["sources"][0]["document"].startswith("d00")
    assert user_texts(bot, result.session_id) == ["what is sciatica"]


def test_the_local_default_origin_connects(bot: Bot) -> None:
    result = visit(bot, "http://localhost:5005", ["hello"])
    assert result.refused is None
    assert result.texts


def test_an_emergency_arrives_with_its_triage_payload(bot: Bot) -> None:
    result = visit(bot, bot.rasa_url, ["I can't control my bladder since yesterday"])
    assert result.texts[0].startswith("EMERGENCY:")
    assert {"type": "triage", "level": "emergency"}.items() <= result.customs[0].items()


def test_a_message_over_the_limit_gets_a_short_reply_and_never_reaches_the_bot(bot: Bot) -> None:
    long_text = "my back hurts " * (MAX_MESSAGE_CHARS // 14 + 1)
    assert len(long_text) > MAX_MESSAGE_CHARS
    result = visit(bot, bot.rasa_url, [long_text])
    assert len(result.texts) == 1 and "too long" in result.texts[0]
    assert user_texts(bot, result.session_id) == []


def test_a_long_message_with_a_red_flag_still_gets_the_emergency_advice(bot: Bot) -> None:
    text = "I can't control my bladder since yesterday. " + "x" * MAX_MESSAGE_CHARS
    result = visit(bot, bot.rasa_url, [text])
    assert result.texts[0].startswith("EMERGENCY:")
    assert result.customs[0]["level"] == "emergency"
    assert "too long" in result.texts[-1]


def test_a_page_cannot_write_into_another_conversation(bot: Bot) -> None:
    first = visit(bot, bot.rasa_url, ["what is sciatica"])
    # Another page names the first one's session in its message: the channel ignores that.
    second = visit(bot, bot.rasa_url, [{"message": "hello there", "session_id": first.session_id}])
    assert second.session_id != first.session_id
    assert user_texts(bot, first.session_id) == ["what is sciatica"]
    assert user_texts(bot, second.session_id) == ["hello there"]
    # Nor choose an id the channel did not issue (such as another channel's sender).
    chosen = visit(bot, bot.rasa_url, [], session_id="alice")
    assert chosen.session_id != "alice"


def test_a_reconnecting_page_continues_its_conversation(bot: Bot) -> None:
    first = visit(bot, bot.rasa_url, ["what is sciatica"])
    again = visit(bot, bot.rasa_url, ["hello"], session_id=first.session_id)
    assert again.session_id == first.session_id
    assert user_texts(bot, first.session_id) == ["what is sciatica", "hello"]


def test_a_page_at_an_allowed_origin_gets_one_cors_answer(bot: Bot) -> None:
    """Browsers refuse a response with two Access-Control-Allow-Origin headers (python-engineio
    and Sanic-CORS each add one unless the channel stops the second)."""
    handshake = requests.get(
        f"{bot.rasa_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": "http://localhost:5005"},
        timeout=30,
    )
    assert handshake.status_code == 200
    assert handshake.raw.headers.getlist("Access-Control-Allow-Origin") == ["http://localhost:5005"]
    refused = requests.get(
        f"{bot.rasa_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": "https://evil.example"},
        timeout=30,
    )
    assert refused.status_code == 400
    assert "Access-Control-Allow-Origin" not in refused.headers
