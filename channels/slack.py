"""Slack: the Events API and interactivity at ``POST /webhooks/slack/webhook``.

Rasa's Slack connector (``rasa.core.channels.slack``), with what it lacks for this bot:

- **Off until configured.** An empty ``slack_token`` or ``slack_signing_secret`` (``make run``
  exports empty ``SLACK_*`` variables) leaves Slack off: the server starts, logs one warning, and
  the webhook answers 503. Rasa refuses to start instead.
- **Every request is authenticated.** The ``X-Slack-Signature`` HMAC over the raw body must match
  and ``X-Slack-Request-Timestamp`` be within five minutes; otherwise 401 (Rasa: 400). Bodies
  that are not what Slack sends get a 4xx, never a 500.
- **One reply per message.** Slack delivers an event again when it did not get a 2xx within
  three seconds; copies may reach other bot processes. Each event is claimed in a shared store
  (``channels.dedupe``, Redis when ``SLACK_DEDUPE_REDIS_URL`` or ``REDIS_URL`` is set) by its
  ``event_id`` and by its message (``channel`` + ``ts``, which a message and its ``app_mention``
  share); only the first claim is answered. Rasa only drops retries Slack marks as
  ``http_timeout`` and answers every other copy.
- **Replies Slack can show.** Buttons become a section and an actions block; the ``sources``
  payload becomes a context block with links to ``{BOT_PUBLIC_URL}/chat/sources/<document>``;
  the ``triage`` payload is not posted (Rasa would post the dict as API arguments and Slack would
  reject it): the text before it already starts with the headline ("EMERGENCY: ..."), which is
  shown in bold, with the advice, the reasons and the source, so a second post would only repeat
  the emergency advice as a separate notification. The level and red flags are in the tracker.
- **The same safety net as the REST channel.** Messages over the size limit get the short reply
  (with the emergency advice when they hold a red flag); when handling a message fails, the
  person gets the apology and the emergency advice instead of silence.
- **Separate conversations per channel** by default (``conversation_granularity: channel``), so
  what someone said in a direct message is never carried into a reply in a shared channel.

``SLACK_API_URL`` (default ``https://slack.com/api/``) is where replies are posted; tests point
it at a stand-in. Logs hold event ids and reasons, never what anyone wrote.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot as RasaSlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import safety_net
from bot.advice import headlines
from channels import dedupe

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
SIGNATURE_MAX_AGE_SECONDS = 5 * 60
# Slack's event and interaction payloads are a few kB (a block_actions payload carries the
# whole message clicked); anything near this is not from Slack.
MAX_BODY_BYTES = 256 * 1024
# Limits of Slack's Block Kit and chat.postMessage.
SECTION_TEXT_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
BUTTONS_PER_ACTIONS_BLOCK = 25
CONTEXT_ELEMENTS_LIMIT = 10
MESSAGE_TEXT_LIMIT = 3900
# Message events that are someone writing; edits, joins and the like are not answered.
ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}
INTERACTIVE_TYPES = {"block_actions", "interactive_message"}
_DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HEADLINE = re.compile(
    r"^(?:" + "|".join(re.escape(h) for h in sorted(headlines(), key=len, reverse=True)) + r"):"
)

NOT_CONFIGURED = (
    "Slack is not configured on this server (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not "
    "both set)."
)


class BadRequest(ValueError):
    """The body is not something Slack sends; the text says why, for the 4xx reply."""

    def __init__(self, reason: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(reason)
        self.status = status


# --- requests ---------------------------------------------------------------------------------


def signature_problem(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float | None = None,
    max_age: int = SIGNATURE_MAX_AGE_SECONDS,
) -> str | None:
    """Why a request is not authentically from Slack, or None when it is.

    Slack signs ``v0:{timestamp}:{raw body}`` with HMAC-SHA256 and the app's signing secret. The
    timestamp bounds replays to ``max_age`` seconds either way; the HMAC is computed over the
    raw bytes, so a body that is not valid UTF-8 is refused rather than crashing the check.
    """
    if not timestamp or not signature:
        return "missing signature headers"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "malformed timestamp"
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > max_age:
        return "stale timestamp"
    digest = hmac.new(
        secret.encode("utf-8"), b"v0:" + timestamp.encode("ascii") + b":" + body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace")):
        return "signature mismatch"
    return None


@dataclass
class SlackRequest:
    """What a verified request is: a URL check, an event callback or an interaction."""

    kind: str  # "url_verification" | "event_callback" | "interactive" | "other"
    payload: dict[str, Any] = field(default_factory=dict)


def _json_object(raw: str | bytes) -> dict[str, Any]:
    try:
        decoded = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        parsed = json.loads(decoded)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest("The body is not valid JSON.") from error
    if not isinstance(parsed, dict):
        raise BadRequest("The body must be a JSON object.")
    return parsed


def parse_request(content_type: str | None, body: bytes) -> SlackRequest:
    """The kind and payload of a request body, or BadRequest.

    Events come as JSON; interactions as a form with one ``payload`` field holding JSON.
    """
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json":
        payload = _json_object(body)
        kind = payload.get("type")
        if kind == "url_verification":
            if not isinstance(payload.get("challenge"), str):
                raise BadRequest('"challenge" must be a string.')
            return SlackRequest("url_verification", payload)
        if kind == "event_callback":
            if not isinstance(payload.get("event"), dict):
                raise BadRequest('"event" must be an object.')
            return SlackRequest("event_callback", payload)
        return SlackRequest("other", payload)
    if media_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as error:
            raise BadRequest("The body is not a valid form.") from error
        values = form.get("payload")
        if not values or len(values) != 1:
            raise BadRequest('The form must have one "payload" field.')
        payload = _json_object(values[0])
        if payload.get("type") in INTERACTIVE_TYPES:
            return SlackRequest("interactive", payload)
        return SlackRequest("other", payload)
    raise BadRequest(
        "Send application/json or application/x-www-form-urlencoded.",
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    )


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def bot_user_ids(payload: Mapping[str, Any]) -> list[str]:
    """The app's own user id in an event callback: its messages are not answered."""
    authorizations = payload.get("authorizations")
    if not isinstance(authorizations, list):
        return []
    return [
        a["user_id"]
        for a in authorizations
        if isinstance(a, dict) and a.get("is_bot") and isinstance(a.get("user_id"), str)
    ]


def mentioned_ids(payload: Mapping[str, Any]) -> list[str]:
    """User ids whose mentions are removed from the text: the app's own (as Rasa does)."""
    own = bot_user_ids(payload)
    if own:
        return own
    users = payload.get("authed_users")
    return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []


def is_person_writing(event: Mapping[str, Any], bot_ids: list[str]) -> bool:
    """A message or mention someone wrote (not the bot, not an edit, a join or a deletion)."""
    return (
        event.get("type") in ("message", "app_mention")
        and event.get("subtype") in ANSWERED_SUBTYPES
        and not event.get("bot_id")
        and _string(event.get("user")) is not None
        and event.get("user") not in bot_ids
        and _string(event.get("channel")) is not None
        and isinstance(event.get("text"), str)
        and bool(event["text"].strip())
    )


def event_keys(payload: Mapping[str, Any]) -> list[str]:
    """What identifies an event across Slack's retries and across its two event types.

    A retry repeats the ``event_id``; a mention in a channel the bot also reads arrives twice
    (``message`` and ``app_mention``, different ids) with the same ``channel`` and ``ts``.
    """
    keys = []
    event = payload.get("event") or {}
    if _string(payload.get("event_id")):
        keys.append(f"event:{payload['event_id']}")
    if _string(event.get("channel")) and _string(event.get("ts")):
        keys.append(f"message:{event['channel']}:{event['ts']}")
    return keys


def interaction_keys(payload: Mapping[str, Any]) -> list[str]:
    action = (payload.get("actions") or [{}])[0]
    user = (payload.get("user") or {}).get("id")
    if isinstance(action, dict) and _string(action.get("action_ts")) and _string(user):
        return [f"action:{user}:{action['action_ts']}"]
    return []


def unescape(text: str) -> str:
    """Slack escapes &, < and > in message text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- replies ----------------------------------------------------------------------------------


def format_text(text: str) -> str:
    """Bot text as Slack mrkdwn: escaped, with a triage headline ("EMERGENCY: ...") in bold."""
    lines = escape(text.strip()).split("\n")
    if lines and _HEADLINE.match(lines[0]) and "*" not in lines[0]:
        lines[0] = f"*{lines[0]}*"
    return "\n".join(lines)


def split_text(text: str, limit: int = MESSAGE_TEXT_LIMIT) -> list[str]:
    """Text in parts Slack shows whole, split at paragraph, then line, then word boundaries."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = limit
        for separator in ("\n\n", "\n", " "):
            found = rest.rfind(separator, 0, limit)
            if found > limit // 4:
                cut = found
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def button_blocks(text: str, buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A section with the text and actions blocks with one Slack button per Rasa button.

    Each button's value is the Rasa payload, which a click sends back as the person's message.
    """
    blocks: list[dict[str, Any]] = []
    if text.strip():
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _shorten(format_text(text), SECTION_TEXT_LIMIT)},
            }
        )
    usable = [
        b
        for b in buttons
        if isinstance(b, dict)
        and isinstance(b.get("title"), str)
        and isinstance(b.get("payload"), str)
        and len(b["payload"]) <= BUTTON_VALUE_LIMIT
    ]
    for start in range(0, len(usable), BUTTONS_PER_ACTIONS_BLOCK):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"button_{start + i}",
                        "text": {
                            "type": "plain_text",
                            "text": _shorten(button["title"], BUTTON_TEXT_LIMIT),
                            "emoji": True,
                        },
                        "value": button["payload"],
                    }
                    for i, button in enumerate(usable[start : start + BUTTONS_PER_ACTIONS_BLOCK])
                ],
            }
        )
    return blocks


def source_url(public_url: str | None, document: Any) -> str | None:
    if not public_url or not isinstance(document, str) or not _DOCUMENT_ID.match(document):
        return None
    return f"{public_url.rstrip('/')}/chat/sources/{quote(document)}"


def sources_message(payload: Mapping[str, Any], public_url: str | None) -> dict[str, Any] | None:
    """The ``sources`` payload as a context block: each document's title, linked when the bot
    has a public URL; None when the payload names no source."""
    sources = [
        s
        for s in payload.get("sources") or []
        if isinstance(s, dict) and isinstance(s.get("title"), str) and s["title"].strip()
    ][:CONTEXT_ELEMENTS_LIMIT]
    if not sources:
        return None
    elements = []
    for source in sources:
        title = escape(" ".join(source["title"].split())).replace("|", "¦")
        url = source_url(public_url, source.get("document"))
        label = f"<{url}|{title}>" if url else title
        elements.append({"type": "mrkdwn", "text": f":page_facing_up: {label}"})
    titles = "; ".join(" ".join(s["title"].split()) for s in sources)
    prefix = "Source" if len(sources) == 1 else "Sources"
    return {
        "text": escape(f"{prefix}: {titles}"),
        "blocks": [{"type": "context", "elements": elements}],
    }


# Arguments of chat.postMessage a Slack-specific custom payload in the domain may set.
_MESSAGE_ARGUMENTS = {"text", "blocks", "attachments", "mrkdwn", "unfurl_links", "unfurl_media"}


class SlackBot(RasaSlackBot):
    """Posts the bot's replies with chat.postMessage, in shapes Slack shows.

    ``as_user`` (Rasa sends it) is left out: only classic Slack apps may use it.
    """

    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
        *,
        api_url: str = DEFAULT_API_URL,
        public_url: str | None = None,
    ) -> None:
        self.slack_channel = slack_channel
        self.thread_id = thread_id
        self.proxy = proxy
        self.public_url = public_url
        self.client = AsyncWebClient(
            token,
            base_url=api_url,
            proxy=proxy,
            timeout=10,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
        )
        OutputChannel.__init__(self)

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)
        kwargs.pop("type", None)
        if self.thread_id:
            kwargs["thread_ts"] = self.thread_id
        await self.client.chat_postMessage(channel=channel, **kwargs)

    def _recipient(self, recipient_id: str) -> str:
        return self.slack_channel or recipient_id

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(format_text(text)):
            await self._post_message(self._recipient(recipient_id), text=part)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        blocks = button_blocks(text, buttons)
        if not any(b["type"] == "actions" for b in blocks):
            await self.send_text_message(recipient_id, text)
            return
        await self._post_message(
            self._recipient(recipient_id),
            text=_shorten(format_text(text), MESSAGE_TEXT_LIMIT),
            blocks=blocks,
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        kind = json_message.get("type")
        if kind == "sources":
            message = sources_message(json_message, self.public_url)
            if message:
                await self._post_message(self._recipient(recipient_id), **message)
            return
        if kind == "triage":
            # Shown by the text before it (headline in bold, advice, reasons, source).
            logger.debug("Triage payload (%s) not posted separately.", json_message.get("level"))
            return
        if kind in ("forgotten", "summary"):
            # For pages that keep a copy of the conversation (and offer the summary text just
            # before as a download); Slack keeps its own history.
            return
        arguments = {k: v for k, v in json_message.items() if k in _MESSAGE_ARGUMENTS}
        if arguments.get("text") or arguments.get("blocks") or arguments.get("attachments"):
            await self._post_message(self._recipient(recipient_id), **arguments)
            return
        logger.warning("A custom payload of type %r is not shown on Slack.", kind)


# --- the input channel ------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    """A yes/no setting, also when it comes from an environment variable (a string)."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _public_url() -> str | None:
    return (os.environ.get("BOT_PUBLIC_URL") or "").strip().rstrip("/") or None


class SlackInput(RasaSlackInput):
    """Rasa's Slack input channel, authenticated, deduplicated and off until configured."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SlackInput:
        credentials = credentials or {}
        return cls(
            credentials.get("slack_token") or "",
            credentials.get("slack_channel") or None,
            credentials.get("proxy") or None,
            use_threads=_flag(credentials.get("use_threads", False)),
            slack_signing_secret=credentials.get("slack_signing_secret") or "",
            conversation_granularity=credentials.get("conversation_granularity") or "channel",
            api_url=credentials.get("slack_api_url") or os.environ.get("SLACK_API_URL") or None,
            public_url=_public_url(),
        )

    def __init__(
        self,
        slack_token: str,
        slack_channel: str | None = None,
        proxy: str | None = None,
        slack_retry_reason_header: str | None = None,
        slack_retry_number_header: str | None = None,
        errors_ignore_retry: list[str] | None = None,
        use_threads: bool = False,
        slack_signing_secret: str = "",
        conversation_granularity: str = "channel",
        *,
        api_url: str | None = None,
        public_url: str | None = None,
        dedupe_store: dedupe.Dedupe | None = None,
    ) -> None:
        super().__init__(
            (slack_token or "").strip(),
            slack_channel,
            proxy,
            slack_retry_reason_header or "x-slack-retry-reason",
            slack_retry_number_header or "x-slack-retry-num",
            errors_ignore_retry,
            use_threads,
            (slack_signing_secret or "").strip(),
            conversation_granularity,
        )
        self.api_url = (api_url or "").strip() or DEFAULT_API_URL
        self.public_url = public_url
        self.configured = bool(self.slack_token and self.slack_signing_secret)
        self.dedupe = dedupe_store or dedupe.from_env(
            "slack", ("SLACK_DEDUPE_REDIS_URL", "REDIS_URL")
        )
        if self.configured:
            logger.info("Slack is on; events are deduplicated with %r.", self.dedupe)
        else:
            missing = [
                name
                for name, value in (
                    ("SLACK_BOT_TOKEN", self.slack_token),
                    ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
                )
                if not value
            ]
            logger.warning(
                "Slack is off: %s empty. /webhooks/slack/webhook answers 503 until both "
                "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set (see docs/slack.md).",
                " and ".join(missing) + (" is" if len(missing) == 1 else " are"),
            )

    def _validate_credentials(self) -> None:
        """Missing credentials switch the channel off (503) instead of stopping the server."""

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        return SlackBot(
            self.slack_token,
            channel or self.slack_channel,
            thread_id,
            self.proxy,
            api_url=self.api_url,
            public_url=self.public_url,
        )

    # -- events --------------------------------------------------------------------------------

    def _event_message(self, payload: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        """Text, conversation id and metadata of an event someone wrote, or None to ignore it."""
        event = payload["event"]
        bot_ids = bot_user_ids(payload)
        if not is_person_writing(event, bot_ids):
            return None
        channel = event["channel"]
        in_dm = event.get("channel_type") == "im"
        if not (in_dm or event["type"] == "app_mention" or channel == self.slack_channel):
            return None
        thread = _string(event.get("thread_ts")) or _string(event.get("ts"))
        mentions = mentioned_ids(payload)
        metadata = {"out_channel": channel, "thread_id": thread, "users": mentions}
        text = unescape(self._sanitize_user_message(event["text"], mentions))
        sender = self._get_conversation_id(event["user"], channel, thread)
        return text, sender, metadata

    def _interaction_message(
        self, payload: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]] | None:
        """The clicked button's value (or chosen option) as the person's message, or None."""
        actions = payload.get("actions")
        user = _string((payload.get("user") or {}).get("id"))
        channel = _string((payload.get("channel") or {}).get("id")) or _string(
            (payload.get("container") or {}).get("channel_id")
        )
        if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
            return None
        if not user or not channel or not self._is_interactive_message(payload):
            return None
        text = self._get_interactive_response(actions[0])
        if not isinstance(text, str) or not text.strip():
            return None
        message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
        thread = _string(message.get("thread_ts")) or _string(message.get("ts"))
        metadata = {"out_channel": channel, "thread_id": thread, "users": []}
        return text, self._get_conversation_id(user, channel, thread), metadata

    async def _claim(self, keys: list[str]) -> bool:
        """True when none of ``keys`` was claimed before (this copy is the one to answer)."""
        for key in keys:
            if not await self.dedupe.claim(key):
                return False
        return True

    def _answer_later(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender_id: str,
        metadata: dict[str, Any],
    ) -> None:
        """Handle the message after the 2xx: Slack retries anything slower than three seconds."""
        thread = metadata.get("thread_id") if self.use_threads else None
        output = self.get_output_channel(metadata.get("out_channel"), thread)
        task = asyncio.create_task(self._answer(on_new_message, output, text, sender_id, metadata))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def _answer(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        output: OutputChannel,
        text: str,
        sender_id: str,
        metadata: dict[str, Any],
    ) -> None:
        if len(text) > safety_net.MAX_MESSAGE_CHARS:
            logger.info("Refused a Slack message of %d characters (too long).", len(text))
            await self._send_safely(output, sender_id, safety_net.too_long(text))
            return
        try:
            await on_new_message(
                UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata)
            )
        except Exception as error:  # noqa: BLE001 - any failure gets the safety net
            logger.error(
                "Could not handle a Slack message (%s); replying with the safety net.",
                type(error).__name__,
            )
            await self._send_safely(output, sender_id, safety_net.unavailable(text))

    @staticmethod
    async def _send_safely(
        output: OutputChannel, sender_id: str, messages: list[dict[str, Any]]
    ) -> None:
        for message in messages:
            message = dict(message)
            if "json_message" in message:
                message["custom"] = message.pop("json_message")
            try:
                await output.send_response(sender_id, message)
            except Exception as error:  # noqa: BLE001 - nothing more can be done but log
                logger.error("Could not post to Slack (%s).", type(error).__name__)
                return

    # -- the webhook ---------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack_webhook = Blueprint("slack_webhook", __name__)

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.configured:
                return response.json({"error": NOT_CONFIGURED}, status=503)
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.json({"error": NOT_CONFIGURED}, status=503)
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return response.json({"error": "The body is too large."}, status=413)
            problem = signature_problem(
                self.slack_signing_secret,
                body,
                request.headers.get("X-Slack-Request-Timestamp"),
                request.headers.get("X-Slack-Signature"),
            )
            if problem:
                logger.info("Refused a Slack request: %s.", problem)
                return response.json(
                    {"error": "The request is not signed by Slack or is too old."}, status=401
                )
            try:
                parsed = parse_request(request.headers.get("Content-Type"), body)
            except BadRequest as error:
                return response.json({"error": str(error)}, status=error.status)
            return await self._handle(request, parsed, on_new_message)

        return slack_webhook

    async def _handle(
        self,
        request: Request,
        parsed: SlackRequest,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        if parsed.kind == "url_verification":
            return response.json({"challenge": parsed.payload["challenge"]})
        if parsed.kind == "event_callback":
            found = self._event_message(parsed.payload)
            keys = event_keys(parsed.payload)
        elif parsed.kind == "interactive":
            found = self._interaction_message(parsed.payload)
            keys = interaction_keys(parsed.payload)
        else:
            return response.json({"status": "ignored"})
        if found is None:
            return response.json({"status": "ignored"})
        retry = request.headers.get(self.retry_num_header)
        if not await self._claim(keys):
            logger.info(
                "Slack event %s already answered (retry %s, %s); not answering again.",
                parsed.payload.get("event_id", "-"),
                retry or "-",
                request.headers.get(self.retry_reason_header) or "-",
            )
            return response.json({"status": "duplicate"}, headers={"X-Slack-No-Retry": "1"})
        if retry:
            logger.info("Slack retry %s of an event not answered yet; answering it.", retry)
        text, sender_id, metadata = found
        self._answer_later(on_new_message, text, sender_id, metadata)
        return response.json({"status": "accepted"})
