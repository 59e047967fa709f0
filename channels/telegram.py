"""The Telegram channel (``POST /webhooks/telegram/webhook``): Rasa's, made safe to run.

Rasa 3.6's connector calls ``getMe`` on every update (its only check that a request came from
Telegram is that the bot's own username matches), calls ``setWebhook`` whenever a process starts,
exposes an unauthenticated ``/set_webhook`` route, sends the raw text of custom payloads and
answers a malformed update with a 500, which Telegram keeps retrying. This subclass:

- is configured from environment variables through ``credentials.yml``; an empty
  ``TELEGRAM_BOT_TOKEN`` (or secret) means "Telegram is not configured": one warning at start,
  and the webhook answers 503 with a short JSON error;
- accepts an update only with Telegram's secret token header
  (``X-Telegram-Bot-Api-Secret-Token``, compared in constant time; missing 401, wrong 403);
- makes no Telegram API call per update except sending the replies and answering a pressed
  button; the username comes from the configuration (``getMe`` at most once, lazily, only if a
  group message needs it); the webhook is registered by a separate command
  (``python -m scripts.telegram_webhook set-webhook``);
- answers each ``update_id`` once (Telegram redelivers an update it thinks failed);
- never answers 5xx: bad JSON or a malformed update is a 400, kinds of update the bot does not
  handle are a 200, and when handling a message fails the person gets the safety net (an
  apology and the emergency advice), like the REST channel;
- sends HTML with every text escaped, buttons as inline keyboards whose presses come back as the
  button's payload, the ``sources`` payload as links, and never a raw custom payload.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import RetryAfter, TelegramAPIError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput as RasaTelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import dedupe

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram accepts 1-256 characters from this set as a webhook secret token.
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
TOKEN_PATTERN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
# The update kinds the bot handles; setWebhook asks Telegram for these only.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
# A text update is at most 4096 characters; anything near this size is not from Telegram.
MAX_BODY_BYTES = 64 * 1024
# Telegram's limits: message text (after entity parsing, in UTF-16 code units) and button data.
MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
# Buttons whose titles together are longer than this go one per row (a phone is ~30 wide).
ROW_CHARS = 30
# Each call to the Bot API gives up after this many seconds (aiohttp's default is 5 minutes).
REQUEST_TIMEOUT = 15
# Flood control: wait for Telegram's "retry after" only when it is this short.
MAX_RETRY_AFTER = 5
SOURCES_PATH = "/chat/sources/"
# Telegram keeps redelivering an unanswered update for up to a day.
DEDUPE_TTL_SECONDS = 24 * 3600
DEDUPE_VARIABLES = ("TELEGRAM_DEDUPE_REDIS_URL", "REDIS_URL")
# A button payload that is an intent carries no entities: a forged callback cannot set slots.
PLAIN_INTENT = re.compile(r"/[A-Za-z_]+")
COMMAND = re.compile(r"/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+.*)?", re.DOTALL)
# Telegram's own commands: /start opens every conversation, /help is in every bot's menu.
GREETING_COMMANDS = {"start", "help"}
GREET_PAYLOAD = "/greet"

NOT_CONFIGURED = "Telegram is not configured on this server."

TEXT_ONLY_REPLY = (
    "I can only read typed text, so I couldn't read that. Please type your question or tell me "
    "about your pain in words."
)
EDITED_REPLY = (
    "I don't see changes to messages I've already read, so I haven't taken that edit into "
    "account. Please send it again as a new message."
)
GROUP_REPLY = (
    "To keep your health details private, I only talk in one-to-one chats. Please message me "
    "directly{link}."
)


class BadUpdate(ValueError):
    """The body cannot be a Telegram update; the text says why, for the 400 reply."""


# --- reading updates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    """What the bot needs from one Telegram update.

    kind: ``text`` (a message or a pressed button, ``text`` is what goes to the bot),
    ``edited`` (an edited message), ``not_text`` (sticker, photo, voice...), ``group`` (a
    message in a group chat) or ``ignored`` (nothing to answer).
    """

    update_id: int
    kind: str
    chat_id: int | None = None
    text: str | None = None
    callback_query_id: str | None = None
    spoken: bool = False


SPOKEN_KINDS = ("voice", "audio", "video", "video_note")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadUpdate(f'"{name}" must be a string.')
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise BadUpdate(f'"{name}" is not valid Unicode.')
    # NUL means nothing in a message and some tracker stores (PostgreSQL) refuse it.
    return value.replace("\x00", "")


def _chat_id(message: Any, where: str) -> tuple[int, str]:
    if not isinstance(message, dict):
        raise BadUpdate(f'"{where}" must be an object.')
    chat = message.get("chat")
    if not isinstance(chat, dict) or not _is_int(chat.get("id")):
        raise BadUpdate(f'"{where}.chat.id" must be an integer.')
    return chat["id"], str(chat.get("type") or "private")


def typed_text(text: str) -> str:
    """What a typed message means to the bot: never an intent.

    Rasa reads text that starts with "/" as an intent (with entities that can set slots), so a
    typed "/deny" would skip the words the person meant. Telegram's /start and /help greet; any
    other command is read as its words ("/stop" as "stop").
    """
    text = text.strip()
    match = COMMAND.fullmatch(text)
    if match and match.group(1).lower() in GREETING_COMMANDS:
        return GREET_PAYLOAD
    return text.lstrip("/").strip()


def pressed_text(data: str) -> str:
    """A pressed button's payload as the bot's input: an intent without entities, or words."""
    data = data.strip()
    if data.startswith("/") and not PLAIN_INTENT.fullmatch(data):
        return typed_text(data)
    return data


def parse_update(raw: bytes) -> Update:
    """The update in a webhook body, or BadUpdate when the body cannot be one."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise BadUpdate("The body is not valid JSON.") from error
    if not isinstance(data, dict):
        raise BadUpdate("An update must be a JSON object.")
    update_id = data.get("update_id")
    if not _is_int(update_id) or update_id < 0:
        raise BadUpdate('"update_id" must be a non-negative integer.')

    if data.get("callback_query") is not None:
        return _button(update_id, data["callback_query"])
    if data.get("message") is not None:
        return _message(update_id, data["message"], "message")
    if data.get("edited_message") is not None:
        return _message(update_id, data["edited_message"], "edited_message")
    # channel posts, polls, chat member changes...: nothing to answer
    return Update(update_id, "ignored")


def _message(update_id: int, message: Any, where: str) -> Update:
    chat_id, chat_type = _chat_id(message, where)
    sender = message.get("from")
    if isinstance(sender, dict) and sender.get("is_bot") is True:
        return Update(update_id, "ignored", chat_id)
    text = _check_text(message.get("text"), f"{where}.text")
    if text is None:
        text = _check_text(message.get("caption"), f"{where}.caption")
    if chat_type != "private":
        # only commands and mentions reach a bot in a group; answer those with a pointer
        return Update(update_id, "group" if text else "ignored", chat_id)
    if text is None or not text.strip():
        spoken = any(message.get(kind) is not None for kind in SPOKEN_KINDS)
        return Update(update_id, "not_text", chat_id, spoken=spoken)
    if where == "edited_message":
        return Update(update_id, "edited", chat_id, text)
    return Update(update_id, "text", chat_id, typed_text(text))


def _button(update_id: int, query: Any) -> Update:
    if not isinstance(query, dict):
        raise BadUpdate('"callback_query" must be an object.')
    query_id = query.get("id")
    if not isinstance(query_id, str) or not query_id:
        raise BadUpdate('"callback_query.id" must be a string.')
    data = _check_text(query.get("data"), "callback_query.data")
    if query.get("message") is not None:
        chat_id, _ = _chat_id(query["message"], "callback_query.message")
    else:
        sender = query.get("from")
        if not isinstance(sender, dict) or not _is_int(sender.get("id")):
            raise BadUpdate('"callback_query.from.id" must be an integer.')
        chat_id = sender["id"]
    if not data or not data.strip():
        return Update(update_id, "ignored", chat_id, callback_query_id=query_id)
    return Update(update_id, "text", chat_id, pressed_text(data), callback_query_id=query_id)


# --- writing messages -----------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_chunks(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Text cut into messages Telegram accepts (at line breaks, else spaces), before escaping."""
    chunks: list[str] = []
    rest = (text or "").strip()
    while rest:
        if _utf16_len(rest) <= limit:
            chunks.append(rest)
            break
        cut = limit
        while _utf16_len(rest[:cut]) > limit:
            cut -= 1
        window = rest[:cut]
        at = max(window.rfind("\n"), window.rfind(" "))
        if at > cut // 2:
            cut = at
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    return chunks


def escape(text: str) -> str:
    """Text for HTML parse mode: only the three characters Telegram requires escaped."""
    return html.escape(text, quote=False)


def _callback_data(button: dict[str, Any]) -> str:
    """The button's payload, or its title when the payload is over Telegram's 64 bytes."""
    title = str(button.get("title") or "")
    payload = str(button.get("payload") or title)
    if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return payload
    return title.encode("utf-8")[:CALLBACK_DATA_LIMIT].decode("utf-8", "ignore")


def inline_keyboard(
    buttons: Iterable[dict[str, Any]], button_type: str | None = None
) -> dict[str, Any] | None:
    """Rasa buttons as a Telegram inline keyboard.

    ``button_type`` as in Rasa's connector: "inline" one row, "vertical" one button per row;
    otherwise one row when the titles fit a phone's width. Rasa's "reply" keyboard would send
    the title back instead of the payload, so it is not used.
    """
    keys = [
        {"text": str(b["title"]), "callback_data": _callback_data(b)}
        for b in buttons
        if isinstance(b, dict) and str(b.get("title") or "").strip()
    ]
    if not keys:
        return None
    width = sum(len(k["text"]) for k in keys) + 4 * (len(keys) - 1)
    vertical = button_type == "vertical" or (button_type != "inline" and width > ROW_CHARS)
    rows = [[k] for k in keys] if vertical else [keys]
    return {"inline_keyboard": rows}


def public_base_url(value: str | None) -> str | None:
    """BOT_PUBLIC_URL without a trailing slash, or None when unset or not an http(s) URL."""
    value = (value or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        logger.warning("BOT_PUBLIC_URL is not an http(s) URL; sources are sent without links.")
        return None
    return value.rstrip("/")


def render_sources(payload: dict[str, Any], public_url: str | None) -> str | None:
    """The ``sources`` payload as HTML: linked titles when the bot has a public URL."""
    lines = []
    for source in payload.get("sources") or []:
        if not isinstance(source, dict):
            continue
        title = " ".join(str(source.get("title") or source.get("file_name") or "").split())
        if not title:
            continue
        document = source.get("document")
        if public_url and isinstance(document, str) and document.strip():
            href = f"{public_url}{SOURCES_PATH}{quote(document.strip(), safe='')}"
            lines.append(f'• <a href="{html.escape(href, quote=True)}">{escape(title)}</a>')
        else:
            lines.append(f"• {escape(title)}")
    if not lines:
        return None
    heading = "Read the source:" if len(lines) == 1 else "Read the sources:"
    if not public_url:
        heading = "Source document:" if len(lines) == 1 else "Source documents:"
    return "\n".join([heading, *lines])


def render_custom(payload: Any, public_url: str | None) -> str | None:
    """A custom payload as HTML to send, or None when there is nothing to send.

    The ``triage`` payload is not sent: the text just before it already says the level
    ("EMERGENCY: ..."), what to do, why and the source, and the payload is only for channels
    that show the level as a banner. Unknown payloads are never sent raw.
    """
    if not isinstance(payload, dict):
        return None
    kind = payload.get("type")
    if kind == "sources":
        return render_sources(payload, public_url)
    # "forgotten" and "summary" are for pages that keep a copy of the conversation (the summary
    # is the text just before); Telegram keeps its own.
    if kind not in {"triage", "forgotten", "summary"}:
        logger.warning("Not sending a custom payload of unknown type %r to Telegram.", kind)
    return None


def as_response(message: dict[str, Any]) -> dict[str, Any]:
    """A message built by ``bot`` (``json_message``) in the shape Rasa hands to channels."""
    shaped = dict(message)
    if "json_message" in shaped:
        shaped["custom"] = shaped.pop("json_message")
    return shaped


# --- the output channel ---------------------------------------------------------------------


class TelegramOutput(RasaTelegramOutput):
    """Sends the bot's messages through the Bot API at ``api_url``, HTML-escaped."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(
        self,
        access_token: str,
        api_url: str = DEFAULT_API_URL,
        public_url: str | None = None,
        username: str | None = None,
    ) -> None:
        # Rasa's __init__ only passes the token on; the server and timeout are ours.
        super(RasaTelegramOutput, self).__init__(
            access_token, server=TelegramAPIServer.from_base(api_url), timeout=REQUEST_TIMEOUT
        )
        self.public_url = public_url
        self._username = (username or "").lstrip("@") or None

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API call; waits once for a short flood-control pause."""
        try:
            return await self.request(method, params)
        except RetryAfter as error:
            if error.timeout > MAX_RETRY_AFTER:
                raise
            await asyncio.sleep(error.timeout)
            return await self.request(method, params)

    async def send_html(
        self, chat_id: str | int, text: str, reply_markup: dict[str, Any] | None = None
    ) -> None:
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text,
            "parse_mode": "HTML",
            "disable_web_page_preview": "true",
        }
        if reply_markup:
            params["reply_markup"] = json.dumps(reply_markup)
        await self.call("sendMessage", params)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Sends one bot message; a failed send is logged and the next message still goes."""
        try:
            await super().send_response(recipient_id, message)
        except (TelegramAPIError, asyncio.TimeoutError) as error:
            logger.error("Telegram did not take a message (%s: %s).", type(error).__name__, error)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        # One message per bot utterance (Rasa's splits at blank lines): an answer and its
        # "Source:" line stay together, and the person gets one notification.
        for chunk in text_chunks(text):
            await self.send_html(recipient_id, escape(chunk))

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        chunks = text_chunks(text) or ["Please choose:"]
        for chunk in chunks[:-1]:
            await self.send_html(recipient_id, escape(chunk))
        await self.send_html(
            recipient_id, escape(chunks[-1]), inline_keyboard(buttons, button_type)
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        rendered = render_custom(json_message, self.public_url)
        if rendered:
            await self.send_html(recipient_id, rendered)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.call("sendPhoto", {"chat_id": recipient_id, "photo": image})

    async def answer_button(self, callback_query_id: str) -> None:
        """Stops the pressed button's spinner; a late or failed answer only costs the spinner."""
        try:
            await self.call("answerCallbackQuery", {"callback_query_id": callback_query_id})
        except (TelegramAPIError, asyncio.TimeoutError) as error:
            logger.info("Could not answer a button press (%s).", type(error).__name__)

    async def username(self) -> str | None:
        """The bot's @name: from the configuration, else asked of Telegram once."""
        if self._username is None:
            try:
                me = await self.call("getMe", {})
                self._username = str((me or {}).get("username") or "") or None
            except (TelegramAPIError, asyncio.TimeoutError) as error:
                logger.info("Could not learn the bot's username (%s).", type(error).__name__)
        return self._username

    async def register_webhook(
        self,
        url: str,
        secret: str,
        *,
        drop_pending_updates: bool = False,
        max_connections: int | None = None,
    ) -> Any:
        params: dict[str, Any] = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": json.dumps(list(ALLOWED_UPDATES)),
            "drop_pending_updates": "true" if drop_pending_updates else "false",
        }
        if max_connections:
            params["max_connections"] = max_connections
        return await self.call("setWebhook", params)

    async def remove_webhook(self, *, drop_pending_updates: bool = False) -> Any:
        return await self.call(
            "deleteWebhook",
            {"drop_pending_updates": "true" if drop_pending_updates else "false"},
        )

    async def webhook_info(self) -> Any:
        return await self.call("getWebhookInfo", {})

    async def close_session(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


# --- the input channel ----------------------------------------------------------------------


def configuration_problem(token: str, secret: str) -> str | None:
    """Why the channel cannot take updates with these settings, or None when it can."""
    if not token:
        return "TELEGRAM_BOT_TOKEN is empty"
    if not TOKEN_PATTERN.fullmatch(token):
        return "TELEGRAM_BOT_TOKEN does not look like a token from @BotFather (digits:letters)"
    if not secret:
        return "TELEGRAM_WEBHOOK_SECRET is empty (updates could not be authenticated)"
    if not SECRET_PATTERN.fullmatch(secret):
        return "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters from A-Z, a-z, 0-9, _ and -"
    return None


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class TelegramInput(RasaTelegramInput):
    """Telegram's webhook, authenticated by its secret token; see the module docstring."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        credentials = credentials or {}
        return cls(
            access_token=str(credentials.get("access_token") or ""),
            verify=str(credentials.get("verify") or ""),
            webhook_secret=str(credentials.get("webhook_secret") or ""),
            api_url=str(
                credentials.get("api_url") or os.environ.get("TELEGRAM_API_URL") or DEFAULT_API_URL
            ),
            public_url=public_base_url(os.environ.get("BOT_PUBLIC_URL")),
        )

    def __init__(
        self,
        access_token: str,
        verify: str = "",
        webhook_secret: str = "",
        api_url: str = DEFAULT_API_URL,
        public_url: str | None = None,
        seen: dedupe.Dedupe | None = None,
    ) -> None:
        super().__init__(access_token.strip(), verify.strip(), None, debug_mode=False)
        self.webhook_secret = webhook_secret.strip()
        self.api_url = api_url.strip() or DEFAULT_API_URL
        self.public_url = public_url
        # Shared through Redis when TELEGRAM_DEDUPE_REDIS_URL or REDIS_URL is set (several bot
        # processes behind one webhook URL), else this process's memory.
        self.seen = seen or dedupe.from_env("telegram", DEDUPE_VARIABLES, ttl=DEDUPE_TTL_SECONDS)
        self.problem = configuration_problem(self.access_token, self.webhook_secret)
        self._output: TelegramOutput | None = None
        if self.problem:
            logger.warning(
                "Telegram is off: %s. Its webhook answers 503 (see docs/telegram.md).",
                self.problem,
            )

    @property
    def bot_id(self) -> str:
        return self.access_token.split(":", 1)[0]

    def get_output_channel(self) -> TelegramOutput | None:  # type: ignore[override]
        """The channel's one output channel; no API call (Rasa's sets the webhook here)."""
        if self.problem:
            return None
        if self._output is None:
            self._output = TelegramOutput(
                self.access_token, self.api_url, self.public_url, self.verify
            )
        return self._output

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("sciatica_telegram_webhook", __name__)

        @webhook.listener("after_server_stop")
        async def close(_app: Any, _loop: Any) -> None:
            if self._output is not None:
                await self._output.close_session()
            await self.seen.close()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if not self.problem else "not configured"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            status, body = await self.handle(
                request.body or b"", request.headers.get(SECRET_HEADER), on_new_message
            )
            return response.json(body, status=status)

        return webhook

    async def handle(
        self, body: bytes, secret: str | None, on_new_message: OnNewMessage
    ) -> tuple[int, dict[str, Any]]:
        """Status and JSON body for one webhook request (2xx tells Telegram not to resend)."""
        if self.problem:
            return 503, {"error": NOT_CONFIGURED}
        if secret is None:
            return 401, {"error": f"Missing {SECRET_HEADER} header."}
        given = secret.encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.webhook_secret.encode("utf-8")):
            logger.warning("Refused a Telegram update with a wrong secret token.")
            return 403, {"error": "Wrong secret token."}
        if len(body) > MAX_BODY_BYTES:
            return 413, {"error": f"The body must be at most {MAX_BODY_BYTES} bytes."}
        try:
            update = parse_update(body)
        except BadUpdate as error:
            logger.info("Refused a Telegram update: %s", error)
            return 400, {"error": str(error)}
        if not await self.seen.claim(f"{self.bot_id}:{update.update_id}"):
            logger.info("Telegram update %d was already answered.", update.update_id)
            return 200, {"status": "duplicate"}
        output = self.get_output_channel()
        assert output is not None  # configured, checked above
        if update.callback_query_id:
            await output.answer_button(update.callback_query_id)
        await self.respond(update, output, on_new_message)
        return 200, {"status": "ok" if update.kind != "ignored" else "ignored"}

    async def respond(
        self, update: Update, output: TelegramOutput, on_new_message: OnNewMessage
    ) -> None:
        from bot import safety_net  # the detector loads spaCy: only once a message needs it

        chat_id = str(update.chat_id)
        if update.kind == "text" and update.text is not None:
            if len(update.text) > safety_net.MAX_MESSAGE_CHARS:
                logger.info("Refused a message of %d characters (too long).", len(update.text))
                await self.send_all(output, chat_id, safety_net.too_long(update.text))
                return
            await self.pass_on(update.text, chat_id, output, on_new_message)
        elif update.kind == "edited":
            # The edit may add a red flag: say what to do now, then ask for a new message.
            messages = safety_net.red_flag_messages(update.text) + [{"text": EDITED_REPLY}]
            await self.send_all(output, chat_id, messages)
        elif update.kind == "not_text":
            messages = [{"text": TEXT_ONLY_REPLY}]
            if update.spoken:
                # Spoken words may describe an emergency the bot cannot hear.
                messages.append({"text": safety_net.SAFETY_LINE})
            await self.send_all(output, chat_id, messages)
        elif update.kind == "group":
            name = await output.username()
            link = f" at https://t.me/{name}" if name else ""
            await self.send_all(output, chat_id, [{"text": GROUP_REPLY.format(link=link)}])

    async def pass_on(
        self, text: str, chat_id: str, output: TelegramOutput, on_new_message: OnNewMessage
    ) -> None:
        from bot import safety_net

        try:
            await on_new_message(UserMessage(text, output, chat_id, input_channel=self.name()))
        except Exception as error:  # noqa: BLE001 - any failure gets the safety net
            logger.error(
                "Could not handle a Telegram message (%s: %s); sent the safety net.",
                type(error).__name__,
                " ".join(str(error).split("[SQL:")[0].split())[:200],
            )
            await self.send_all(output, chat_id, safety_net.unavailable(text))

    @staticmethod
    async def send_all(
        output: TelegramOutput, chat_id: str, messages: list[dict[str, Any]]
    ) -> None:
        for message in messages:
            await output.send_response(chat_id, as_response(message))
