"""The chat page at ``/chat/``, the widget other sites embed, and the socket.io channel.

The page is served by the Rasa server itself (same origin, so no CORS and one URL to put behind
a proxy). Other sites embed the same page in a frame (``/chat/embed.js`` adds a launcher that
opens ``/chat/embedded``); only the origins in ``BOT_ALLOWED_ORIGINS`` may frame it
(``Content-Security-Policy: frame-ancestors``), as only they may open a socket.

The channel keeps the event names and message format of Rasa 3.6's ``SocketIOInput`` but cannot
reuse its handlers with the python-socketio 5.18 that Rasa installs:

- Rasa's server accepts sockets from any web page (``cors_allowed_origins=[]`` switches the
  Origin check off), so any site could talk to the bot in a visitor's browser; here only the
  origins in ``BOT_ALLOWED_ORIGINS`` may connect;
- with ``session_persistence`` Rasa calls ``sio.enter_room`` without awaiting it (a coroutine in
  python-socketio 5), so the socket never joins its session's room and no reply arrives;
- custom payloads are passed to ``emit`` as keyword arguments, so ``{"type": "triage", ...}``
  raises TypeError and the person sees nothing after the emergency text.

On top of that, for a health service:

- session ids are issued by the server (``web-`` and 32 hex digits) and bound to the socket, so
  a page can continue only a web session it was given and never address another channel's
  conversation;
- a message over ``MAX_MESSAGE_CHARS`` gets a short reply (and the emergency advice if it holds a
  red flag anywhere in it) instead of going through the NLU pipeline; packets over
  ``MAX_PACKET_BYTES`` are refused by the socket server itself;
- when handling a message fails, the person gets the apology and the emergency advice;
- after "forget me" is confirmed, the page is told (``{"type": "forgotten"}``) so it can drop
  its copy of the conversation, and the socket gets a new session id.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import OutputChannel, UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic_cors.core import SANIC_CORS_EVALUATED
from socketio import AsyncServer

from bot import safety_net
from bot.knowledge.corpus import load_corpus
from bot.messages import say

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
WEB_DIR = ROOT / "web"

# Longer messages are answered with a short explanation and never reach the bot (the page's
# input has the same maxlength).
MAX_MESSAGE_CHARS = safety_net.MAX_MESSAGE_CHARS
MAX_METADATA_BYTES = 8 * 1024
# The largest socket.io packet the server takes (python-engineio's default is 1 MB), as the REST
# channel's body limit: an over-long message is still read whole for red flags (the safety net
# reads up to 64 KB), and nothing larger is parsed.
MAX_PACKET_BYTES = 64 * 1024

ORIGINS_VARIABLE = "BOT_ALLOWED_ORIGINS"
PUBLIC_URL_VARIABLE = "BOT_PUBLIC_URL"
DEFAULT_ORIGINS = ("http://localhost:5005", "http://127.0.0.1:5005")

SESSION_PREFIX = "web-"
_SESSION_ID = re.compile(r"^web-[0-9a-f]{32}$")
_DOC_ID = re.compile(r"^d\d{3}$")

# URL under /chat/ -> (file under web/, content type). Only these files are served, so nothing
# else in web/ (node_modules, package files) is reachable.
ASSETS: dict[str, tuple[str, str]] = {
    "widget.js": ("widget.js", "text/javascript; charset=utf-8"),
    "widget.css": ("widget.css", "text/css; charset=utf-8"),
    "embed.js": ("embed.js", "text/javascript; charset=utf-8"),
    "embed.css": ("embed.css", "text/css; charset=utf-8"),
    "favicon.svg": ("favicon.svg", "image/svg+xml"),
    "vendor/socket.io.min.js": (
        "node_modules/socket.io-client/dist/socket.io.min.js",
        "text/javascript; charset=utf-8",
    ),
}

# Scripts, styles and the socket only from the bot itself; no inline script, no framing by
# other sites, no referrer (URLs can hint at health topics).
CONTENT_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": f"{CONTENT_POLICY}; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}
# An origin as it may stand in a CSP source list (anything else is left out of frame-ancestors).
_CSP_ORIGIN = re.compile(r"^https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$")


# --- origins ----------------------------------------------------------------------------------


def normalise_origin(value: str, *, url: bool = False) -> str | None:
    """``scheme://host[:port]`` as browsers send it in ``Origin``, or None if it isn't one.

    With ``url=True`` the value may be a whole URL (a path after the origin).
    """
    value = value.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return None
    if not url and (parts.path not in ("", "/") or parts.query or parts.fragment):
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}"


def parse_origins(value: str) -> list[str]:
    """The origins in a comma-separated list; entries that are not origins are left out."""
    origins = []
    for entry in value.split(","):
        if not entry.strip():
            continue
        origin = normalise_origin(entry)
        if origin is None:
            logger.warning("Ignoring %r in %s: not an origin.", entry.strip(), ORIGINS_VARIABLE)
        elif origin not in origins:
            origins.append(origin)
    return origins


class OriginPolicy:
    """Which web pages may open a socket (python-socketio's ``cors_allowed_origins`` callable).

    With ``BOT_ALLOWED_ORIGINS`` set, exactly those origins (and the origin of
    ``BOT_PUBLIC_URL``). Unset or empty: the local defaults of ``make run`` and the bot's own
    origin (the page it serves at /chat/, whatever host and port it runs on).
    """

    def __init__(self, configured: str | None = None, public_url: str | None = None) -> None:
        self.explicit = bool(configured and configured.strip())
        self.origins = parse_origins(configured) if self.explicit else list(DEFAULT_ORIGINS)
        public = normalise_origin(public_url, url=True) if public_url else None
        if public and public not in self.origins:
            self.origins.append(public)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OriginPolicy:
        env = os.environ if env is None else env
        return cls(env.get(ORIGINS_VARIABLE), env.get(PUBLIC_URL_VARIABLE))

    def allows(self, origin: str | None, host: str | None = None) -> bool:
        """Whether a page at ``origin`` may connect to the bot reached at ``host``."""
        if not origin:
            return False
        normalised = normalise_origin(origin)
        if normalised is None:
            return False
        if normalised in self.origins:
            return True
        if self.explicit or not host:
            return False
        return urlsplit(normalised).netloc == _normalise_host(host, urlsplit(normalised).scheme)

    def __call__(self, origin: str | None, environ: Mapping[str, Any] | None = None) -> bool:
        allowed = self.allows(origin, (environ or {}).get("HTTP_HOST"))
        if origin and not allowed:
            logger.info("Refused a chat socket from a page at an origin that is not allowed.")
        return allowed


def frame_policy(policy: OriginPolicy) -> dict[str, str]:
    """Headers for the page other sites embed: framed only by the bot and the allowed origins.

    No X-Frame-Options: it cannot list origins, and browsers that know ``frame-ancestors``
    ignore it anyway.
    """
    sources = ["'self'", *(o for o in policy.origins if _CSP_ORIGIN.match(o))]
    headers = {k: v for k, v in SECURITY_HEADERS.items() if k != "X-Frame-Options"}
    headers["Content-Security-Policy"] = f"{CONTENT_POLICY}; frame-ancestors {' '.join(sources)}"
    return headers


def _normalise_host(host: str, scheme: str) -> str:
    """The Host header as the netloc part of an origin (lower case, default port left out)."""
    origin = normalise_origin(f"{scheme}://{host.strip()}")
    return urlsplit(origin).netloc if origin else ""


# --- sessions and messages --------------------------------------------------------------------


def new_session_id() -> str:
    return SESSION_PREFIX + uuid.uuid4().hex


def session_id_for(requested: Any) -> str:
    """The session a page asked to continue if it is one this channel issues, else a new one."""
    if isinstance(requested, str) and _SESSION_ID.match(requested):
        return requested
    return new_session_id()


def read_message(data: Any) -> tuple[str, dict[str, Any] | None] | None:
    """Text and metadata of a ``user_uttered`` event, or None when it is not a message."""
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return None
    text = data["message"]
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return None
    metadata = data.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = None
    if not isinstance(metadata, dict) or len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        metadata = None
    return text, metadata


def as_channel_messages(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bot messages in the shape ``OutputChannel.send_response`` takes (``custom`` payloads)."""
    shaped = []
    for message in messages:
        item = {k: v for k, v in message.items() if k != "json_message"}
        if "json_message" in message:
            item["custom"] = message["json_message"]
        shaped.append(item)
    return shaped


@lru_cache(maxsize=1)
def _forgotten_texts() -> frozenset[str]:
    """What the bot says once a conversation is deleted (split the way the channel splits)."""
    parts = {part.strip() for part in say("forgotten").split("\n\n")}
    return frozenset(p for p in parts if p)


def is_forgotten_reply(texts: Iterable[str], customs: Iterable[dict[str, Any]] = ()) -> bool:
    """Whether the bot's reply says the conversation was deleted."""
    if any(c.get("type") == "forgotten" for c in customs):
        return True
    wanted = _forgotten_texts()
    return bool(wanted) and wanted.issubset({t.strip() for t in texts})


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output with custom payloads sent as ``{"custom": {...}}``.

    It also remembers what it sent, so the channel can tell the page a conversation ended.
    """

    @classmethod
    def name(cls) -> str:
        return WebChatInput.name()

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.texts: list[str] = []
        self.customs: list[dict[str, Any]] = []

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if isinstance(response, dict):
            if isinstance(response.get("text"), str):
                self.texts.append(response["text"])
            if isinstance(response.get("custom"), dict):
                self.customs.append(response["custom"])
        await self.sio.emit(self.bot_message_evt, response, room=socket_id)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


# --- pages ------------------------------------------------------------------------------------


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<link rel="icon" href="../favicon.svg" type="image/svg+xml">\n'
        '<link rel="stylesheet" href="../widget.css">\n</head>\n'
        f'<body class="source-page">\n<main>\n{body}\n</main>\n</body>\n</html>\n'
    )


def source_page(doc_id: str) -> str | None:
    """A source document as a page (every piece of its text HTML-escaped), or None if unknown.

    The text is the document as the bot answers from it: the passages of
    ``bot.knowledge.corpus``, without site navigation, shop links or off-topic parts.
    """
    if not _DOC_ID.match(doc_id):
        return None
    corpus = load_corpus()
    document = corpus.documents.get(doc_id)
    if document is None:
        return None
    parts = [
        '<p><a href="../">Back to the chat</a></p>',
        f"<h1>{html.escape(document.title)}</h1>",
        '<p class="provenance">One of the five documents the bot answers from '
        f"(file {html.escape(document.file_name)}). Navigation, shop links and off-topic parts "
        "of the original are left out. This is general information, not a diagnosis.</p>",
    ]
    heading = ""
    for passage in corpus.of_document(doc_id):
        if passage.heading and passage.heading != heading:
            heading = passage.heading
            parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(f'<p class="passage">{html.escape(passage.text)}</p>')
    parts.append('<p><a href="../">Back to the chat</a></p>')
    return _page(f"{document.title} (source document)", "\n".join(parts))


def not_found_page() -> str:
    return _page(
        "Not found",
        "<h1>Not found</h1>\n<p>There is no such page.</p>\n"
        '<p><a href="../">Back to the chat</a></p>',
    )


def _headers(cache: str) -> dict[str, str]:
    return {**SECURITY_HEADERS, "Cache-Control": cache}


def page_blueprint(web_dir: Path = WEB_DIR, policy: OriginPolicy | None = None) -> Blueprint:
    """The chat page, its own scripts and styles, the vendored socket.io client, the sources,
    and the same page for other sites' frames (``/chat/embedded``)."""
    page = Blueprint("webchat_page", url_prefix="/chat", strict_slashes=True)
    framed_headers = {
        **frame_policy(policy or OriginPolicy.from_env()),
        "Cache-Control": "no-cache",
    }

    @page.route("", methods=["GET"], strict_slashes=True)
    async def to_index(_: Request) -> HTTPResponse:
        return response.redirect("/chat/", headers=_headers("no-cache"))

    @page.route("/", methods=["GET"], strict_slashes=True)
    async def index(_: Request) -> HTTPResponse:
        return await response.file(
            web_dir / "index.html",
            mime_type="text/html; charset=utf-8",
            headers=_headers("no-cache"),
        )

    @page.route("/embedded", methods=["GET"], strict_slashes=True)
    async def embedded(_: Request) -> HTTPResponse:
        return await response.file(
            web_dir / "index.html", mime_type="text/html; charset=utf-8", headers={**framed_headers}
        )

    def asset_route(url: str, file_name: str, content_type: str) -> None:
        async def asset(_: Request) -> HTTPResponse:
            path = web_dir / file_name
            if not path.is_file():
                logger.error("The chat page's %s is missing: run `npm ci` in web/.", file_name)
                return response.text(
                    "The chat page is not installed completely: run `npm ci` in web/ "
                    "(`make install` does it).",
                    status=503,
                    headers=_headers("no-store"),
                )
            return await response.file(path, mime_type=content_type, headers=_headers("no-cache"))

        route_name = "asset_" + re.sub(r"\W", "_", url)
        page.add_route(asset, f"/{url}", methods=["GET"], name=route_name)

    for url, (file_name, content_type) in ASSETS.items():
        asset_route(url, file_name, content_type)

    @page.route("/sources/<doc_id:str>", methods=["GET"])
    async def source(_: Request, doc_id: str) -> HTTPResponse:
        text = source_page(doc_id)
        if text is None:
            return response.html(not_found_page(), status=404, headers=_headers("no-cache"))
        return response.html(text, headers=_headers("no-cache"))

    return page


class WebChatBlueprint(SocketBlueprint):
    """Attaches the socket.io server and, outside the channel's URL prefix, the chat page."""

    def __init__(self, sio: AsyncServer, socketio_path: str, page: Blueprint, *args: Any) -> None:
        super().__init__(sio, socketio_path, *args)
        self.ctx.page = page

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        app.blueprint(self.ctx.page)
        socket_path = "/" + self.ctx.socketio_path.strip("/") + "/"

        async def socket_cors_by_engineio(request: Request) -> None:
            # python-engineio answers the socket's CORS itself, for the allowed origins only;
            # Sanic-CORS (`rasa run --cors`) would add a second Access-Control-Allow-Origin
            # header, and browsers refuse a response with two.
            if request.path.startswith(socket_path):
                setattr(request.ctx, SANIC_CORS_EVALUATED, True)

        app.register_middleware(socket_cors_by_engineio, "request")


# --- the channel ------------------------------------------------------------------------------


class WebChatInput(SocketIOInput):
    """The website chat: socket.io for the page at /chat/, limited to allowed origins."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> WebChatBlueprint:
        policy = OriginPolicy.from_env()
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=policy,
            max_http_buffer_size=MAX_PACKET_BYTES,
        )
        self.sio = sio
        page = page_blueprint(policy=policy)
        webhook = WebChatBlueprint(sio, self.socketio_path, page, "webchat_webhook")
        namespace = self.namespace
        if not (WEB_DIR / ASSETS["vendor/socket.io.min.js"][0]).is_file():
            logger.warning("The chat page needs `npm ci` in web/ before it can work.")

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            if self.jwt_key:
                token = auth.get("token") if isinstance(auth, dict) else None
                payload = None
                if token:
                    payload = decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
                if not payload:
                    return False
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = session_id_for(requested) if self.session_persistence else sid
            await self._join(sid, session_id, namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            sender_id = session.get("session_id") if self.session_persistence else sid
            if not sender_id:
                logger.info("Ignored a chat message sent before a session was requested.")
                return
            message = read_message(data)
            if message is None:
                logger.info("Ignored a chat event that is not a message.")
                return
            text, metadata = message
            output = WebChatOutput(sio, self.bot_message_evt)
            if len(text) > MAX_MESSAGE_CHARS:
                logger.info("Refused a message of %d characters (too long).", len(text))
                await self._send_all(output, sender_id, safety_net.too_long(text))
                return
            try:
                await on_new_message(
                    UserMessage(
                        text, output, sender_id, input_channel=self.name(), metadata=metadata
                    )
                )
            except Exception as error:  # noqa: BLE001 - any failure gets the safety net
                logger.error(
                    "Could not handle a chat message (%s); replied with the safety net.",
                    type(error).__name__,
                )
                await self._send_all(output, sender_id, safety_net.unavailable(text))
                return
            if self.session_persistence and is_forgotten_reply(output.texts, output.customs):
                if not any(c.get("type") == "forgotten" for c in output.customs):
                    await output.send_custom_json(sender_id, {"type": "forgotten"})
                await sio.leave_room(sid, sender_id, namespace=namespace)
                await self._join(sid, new_session_id(), namespace)

        return webhook

    async def _join(self, sid: str, session_id: str, namespace: str | None) -> None:
        """Binds the socket to a session (its room) and tells the page the session id."""
        assert self.sio is not None
        await self.sio.save_session(sid, {"session_id": session_id}, namespace=namespace)
        await self.sio.enter_room(sid, session_id, namespace=namespace)
        await self.sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

    @staticmethod
    async def _send_all(output: WebChatOutput, sender_id: str, messages: list[dict]) -> None:
        for message in as_channel_messages(messages):
            await output.send_response(sender_id, message)
