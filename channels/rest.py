"""The REST channel (``POST /webhooks/rest/webhook``), strict about its input.

Same URL and reply format as Rasa's own REST channel, with what a health service needs on top:

- the body must be a UTF-8 JSON object with a string ``sender`` (1-128 characters) and a string
  ``message``; optional ``metadata`` (an object) and ``input_channel`` (ignored); any other field,
  wrong type, bad JSON or bad UTF-8 is a 400 with a short reason;
- bodies over ``MAX_BODY_BYTES`` get 413; any request to the server over ``MAX_REQUEST_BYTES``
  is refused with 413 by Sanic before it is read (Rasa's default is Sanic's 100 MB);
- a message over ``MAX_MESSAGE_CHARS`` gets a clear reply (and the emergency advice if it holds a
  red flag) instead of going through the NLU pipeline;
- when handling a message fails (a store or the action server is down), the person gets an
  apology and the emergency advice with status 503, and the log says what failed, never what the
  person wrote (Rasa's channel logs the text).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import jwt
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import safety_net

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_REQUEST_BYTES = 1024 * 1024
MAX_SENDER_CHARS = 128
MAX_METADATA_BYTES = 8 * 1024
ALLOWED_FIELDS = {"sender", "message", "metadata", "input_channel"}


class BadRequest(ValueError):
    """The request cannot be a message; the text says why, for the 400 reply."""


def parse_body(raw: bytes) -> tuple[str, str, dict[str, Any] | None]:
    """Sender, message and metadata of a request body, or BadRequest."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest("The body is not valid UTF-8.") from error
    try:
        body = json.loads(decoded)
    except ValueError as error:
        raise BadRequest("The body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise BadRequest('The body must be a JSON object: {"sender": ..., "message": ...}.')
    unknown = sorted(set(body) - ALLOWED_FIELDS)
    if unknown:
        raise BadRequest(f"Unknown fields: {', '.join(unknown)}.")
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f'"sender" must be a non-empty string of at most {MAX_SENDER_CHARS}.')
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in sender):
        raise BadRequest('"sender" must not contain control characters.')
    if not isinstance(message, str):
        raise BadRequest('"message" must be a string.')
    if any(0xD800 <= ord(c) <= 0xDFFF for c in message):
        raise BadRequest('"message" is not valid Unicode.')
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise BadRequest('"metadata" must be an object.')
        if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
            raise BadRequest(f'"metadata" must be at most {MAX_METADATA_BYTES} bytes.')
    input_channel = body.get("input_channel")
    if input_channel is not None and not isinstance(input_channel, str):
        raise BadRequest('"input_channel" must be a string.')
    return sender, message, metadata


def _with_recipient(sender: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replies in the shape Rasa's REST channel uses (``custom`` for json payloads)."""
    shaped = []
    for message in messages:
        item: dict[str, Any] = {"recipient_id": sender}
        if "text" in message:
            item["text"] = message["text"]
        if "buttons" in message:
            item["buttons"] = message["buttons"]
        if "json_message" in message:
            item["custom"] = message["json_message"]
        shaped.append(item)
    return shaped


class RestInput(RasaRestInput):
    """Rasa's REST channel with input validation, a message size limit and a safety net."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Any) -> Blueprint:
        webhook = Blueprint("strict_rest_webhook", __name__)

        @webhook.listener("before_server_start")
        async def harden(app: Any, _loop: Any) -> None:
            harden_server(app)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.json(
                    {"error": f"The body must be at most {MAX_BODY_BYTES} bytes."}, status=413
                )
            try:
                sender, text, metadata = parse_body(request.body or b"")
            except BadRequest as error:
                return response.json({"error": str(error)}, status=400)
            if len(text) > safety_net.MAX_MESSAGE_CHARS:
                logger.info("Refused a message of %d characters (too long).", len(text))
                return response.json(_with_recipient(sender, safety_net.too_long(text)))
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text, collector, sender, input_channel=self.name(), metadata=metadata
                    )
                )
            except Exception as error:  # noqa: BLE001 - any failure gets the safety net
                logger.error(
                    "Could not handle a message (%s: %s); replied with the safety net.",
                    type(error).__name__,
                    _describe(error),
                )
                return response.json(
                    collector.messages + _with_recipient(sender, safety_net.unavailable(text)),
                    status=503,
                )
            return response.json(collector.messages)

        return webhook


def harden_server(app: Any) -> None:
    """Server-wide limits the Rasa server lacks; the REST channel is always loaded, so here.

    - a request size limit for every endpoint (Sanic reads it for each new connection; Rasa
      leaves Sanic's 100 MB). The admin API's largest bodies (a tracker's events) stay well
      below 1 MB;
    - a token the JWT library refuses outright (e.g. ``"alg": "none"``) is a 401, not a 500
      (sanic-jwt only catches the errors it expects).
    """
    app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_REQUEST_BYTES)

    async def refused_token(_: Request, error: Exception) -> HTTPResponse:
        logger.info("Refused an API token (%s).", type(error).__name__)
        return response.json(
            {"status": "failure", "reason": "NotAuthenticated", "message": "Invalid token."},
            status=401,
        )

    app.error_handler.add(jwt.exceptions.PyJWTError, refused_token)


def _describe(error: Exception) -> str:
    """The error's own words, cut short, without SQL parameters (which hold the conversation)."""
    return " ".join(str(error).split("[SQL:")[0].split())[:200]
