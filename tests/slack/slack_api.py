"""A stand-in for Slack in tests: its Web API (recording what the bot posts) and its requests.

``SlackStandIn`` answers the Web API methods the bot calls (``chat.postMessage``) the way Slack
does, ``{"ok": true, ...}``, and records each call. The payload builders copy the shapes of
Slack's Events API (``event_callback``, ``url_verification``) and interactivity
(``block_actions``) requests, and ``signed`` signs a body the way Slack does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests
from slack_sdk.signature import SignatureVerifier

TEAM = "T0SCIATICA"
APP = "A0SCIATICA"
BOT_USER = "U0SCIATBOT"


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:10].upper()


class SlackStandIn:
    """Slack's Web API on a local port; ``url`` is what ``SLACK_API_URL`` is set to."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or b"{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                method = self.path.rsplit("/", 1)[-1]
                stand_in.record(method, self.headers.get("Authorization"), body)
                reply: dict[str, Any] = {"ok": True}
                if method == "chat.postMessage":
                    ts = f"{time.time():.6f}"
                    reply.update(
                        channel=body.get("channel"),
                        ts=ts,
                        message={"type": "message", "user": BOT_USER, "ts": ts, **body},
                    )
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def record(self, method: str, authorization: str | None, body: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append({"method": method, "authorization": authorization, "body": body})

    def posts(self, channel: str) -> list[dict[str, Any]]:
        """The chat.postMessage bodies sent to ``channel``, in order."""
        with self._lock:
            return [
                c["body"]
                for c in self.calls
                if c["method"] == "chat.postMessage" and c["body"].get("channel") == channel
            ]

    def wait_for_posts(
        self, channel: str, *, after: int = 0, quiet: float = 4.0, timeout: float = 120
    ) -> list[dict[str, Any]]:
        """The posts to ``channel`` once more than ``after`` arrived and ``quiet`` s passed
        without another (so a duplicate reply would have been seen)."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.posts(channel))
            if count != seen:
                seen, since = count, time.monotonic()
            elif count > after and time.monotonic() - since >= quiet:
                return self.posts(channel)
            time.sleep(0.2)
        raise AssertionError(f"no reply in {channel} within {timeout}s: {self.posts(channel)}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def message_event(
    text: str,
    *,
    user: str,
    channel: str,
    channel_type: str = "im",
    event_type: str = "message",
    event_id: str | None = None,
    ts: str | None = None,
) -> dict[str, Any]:
    """An ``event_callback`` with a ``message`` (or ``app_mention``) event, as Slack sends it."""
    ts = ts or f"{time.time():.6f}"
    event: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid4()),
        "type": event_type,
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "b1",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ],
        "team": TEAM,
        "channel": channel,
        "event_ts": ts,
    }
    if event_type == "message":
        event["channel_type"] = channel_type
    return {
        "token": "verification-token-not-used",
        "team_id": TEAM,
        "context_team_id": TEAM,
        "api_app_id": APP,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_id("Ev"),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + uuid.uuid4().hex,
    }


def url_verification(challenge: str) -> dict[str, Any]:
    return {
        "token": "verification-token-not-used",
        "challenge": challenge,
        "type": "url_verification",
    }


def block_actions(
    post: dict[str, Any], value: str, *, user: str, channel: str, message_ts: str | None = None
) -> dict[str, Any]:
    """A ``block_actions`` payload: ``user`` clicked the button with ``value`` in ``post``."""
    message_ts = message_ts or f"{time.time():.6f}"
    button = next(
        element
        for block in post.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("value") == value
    )
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "alex", "name": "alex", "team_id": TEAM},
        "api_app_id": APP,
        "token": "verification-token-not-used",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{int(time.time())}.1.{uuid.uuid4().hex}",
        "team": {"id": TEAM, "domain": "example"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": {
            "type": "message",
            "user": BOT_USER,
            "bot_id": "B0SCIATICA",
            "ts": message_ts,
            "text": post.get("text", ""),
            "blocks": post.get("blocks", []),
        },
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0SCIATICA/1/abc",
        "actions": [
            {
                "action_id": button.get("action_id", "a"),
                "block_id": "actions",
                "text": button["text"],
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def json_body(payload: Any) -> tuple[bytes, str]:
    return json.dumps(payload).encode(), "application/json"


def form_body(payload: Any) -> tuple[bytes, str]:
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def signed(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: the request timestamp and ``v0=`` HMAC-SHA256 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    try:
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    except UnicodeDecodeError:  # slack_sdk signs text; Slack signs the raw bytes
        digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
        signature = "v0=" + digest.hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


def deliver(
    base_url: str,
    body: bytes,
    content_type: str,
    *,
    secret: str | None,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST a body to the bot's Slack webhook, signed with ``secret`` (unsigned when None)."""
    sent = {
        "Content-Type": content_type,
        **(signed(secret, body, timestamp=timestamp) if secret else {}),
    }
    sent.update(headers or {})
    return requests.post(f"{base_url}/webhooks/slack/webhook", data=body, headers=sent, timeout=30)
