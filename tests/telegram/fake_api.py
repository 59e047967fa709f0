"""A local stand-in for Telegram's Bot API that records every call.

Routes ``/bot<token>/<method>`` like ``https://api.telegram.org``, takes form-encoded or JSON
parameters, and answers ``{"ok": true, "result": ...}`` shaped like Telegram's, or Telegram's
errors: 401 for a wrong token, 400 for a message Telegram would refuse (empty or too long text,
HTML that does not parse, bad inline keyboards, callback data over 64 bytes, a bad webhook
secret), 403 for a chat listed in ``blocked`` (the person blocked the bot).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# The tags Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style).
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a"}
TAG = re.compile(r'<(/?)([a-z-]+)((?:\s+href="[^"<>]*")?)\s*>')
ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def parse_html(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Plain text and links of a message in HTML parse mode, as Telegram reads it, or an error."""
    plain, links, stack = [], [], []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = TAG.match(text, i)
            if not match or match.group(2) not in TAGS:
                raise TelegramError(400, f"Bad Request: can't parse entities: bad tag at {i}")
            closing, name, attrs = match.groups()
            if closing:
                if not stack or stack[-1][0] != name:
                    raise TelegramError(400, f"Bad Request: can't parse entities: </{name}>")
                opened, href, start = stack.pop()
                if opened == "a":
                    links.append((href, "".join(plain)[start:]))
            else:
                if attrs and name != "a":
                    raise TelegramError(400, "Bad Request: can't parse entities: attribute")
                href = html.unescape(attrs.split('"')[1]) if attrs else ""
                stack.append((name, href, len("".join(plain))))
            i = match.end()
        elif ch == "&":
            match = ENTITY.match(text, i)
            if not match:
                raise TelegramError(400, f"Bad Request: can't parse entities: bad entity at {i}")
            plain.append(html.unescape(match.group(0)))
            i = match.end()
        elif ch == ">":
            raise TelegramError(400, f"Bad Request: can't parse entities: '>' at {i}")
        else:
            plain.append(ch)
            i += 1
    if stack:
        raise TelegramError(400, "Bad Request: can't parse entities: unclosed tag")
    return "".join(plain), links


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    # for sendMessage: the text as the person sees it, the links, and the keyboard
    text: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)
    keyboard: list[list[dict[str, Any]]] | None = None
    # what the stand-in answered when it refused the call, as Telegram would
    error: str | None = None

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [key for row in self.keyboard or [] for key in row]


class FakeTelegram:
    """The Bot API for one bot, served from a background thread on a free local port."""

    def __init__(self, token: str, username: str = "sciatica_test_bot") -> None:
        self.token, self.username = token, username
        self.calls: list[Call] = []
        self.blocked: set[str] = set()
        self.webhook: dict[str, Any] = {"url": ""}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.url = ""

    # --- running ---------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("The stand-in Bot API did not start.")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=1.0)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    # --- what was called -------------------------------------------------------------------

    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    def methods(self) -> list[str]:
        return [c.method for c in self.snapshot()]

    def sent_to(self, chat_id: int | str) -> list[Call]:
        return [
            c for c in self.snapshot() if c.method == "sendMessage" and c.chat_id == str(chat_id)
        ]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.snapshot() if c.method == method]

    # --- the API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        method = request.match_info["method"]
        call = Call(method, dict(params))
        with self._lock:
            self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise TelegramError(401, "Unauthorized")
            result = self._result(call)
        except TelegramError as error:
            call.error = error.description
            return self._error(error)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(error: TelegramError) -> web.Response:
        body = {"ok": False, "error_code": error.status, "description": error.description}
        return web.json_response(body, status=error.status)

    def _result(self, call: Call) -> Any:
        p = call.params
        if call.method == "getMe":
            bot_id = int(self.token.split(":")[0])
            return {
                "id": bot_id,
                "is_bot": True,
                "first_name": "Sciatica",
                "username": self.username,
            }
        if call.method == "sendMessage":
            return self._send_message(call)
        if call.method == "answerCallbackQuery":
            if not p.get("callback_query_id"):
                raise TelegramError(400, "Bad Request: query is too old or query ID is invalid")
            return True
        if call.method == "setWebhook":
            if not str(p.get("url", "")).startswith("https://"):
                raise TelegramError(400, "Bad Request: bad webhook: HTTPS url must be provided")
            secret = p.get("secret_token")
            if secret is not None and not SECRET.fullmatch(str(secret)):
                raise TelegramError(400, "Bad Request: secret token contains unallowed characters")
            allowed = json.loads(p.get("allowed_updates", "[]"))
            self.webhook = {"url": p["url"], "allowed_updates": allowed}
            return True
        if call.method == "deleteWebhook":
            self.webhook = {"url": ""}
            return True
        if call.method == "getWebhookInfo":
            return {"has_custom_certificate": False, "pending_update_count": 0, **self.webhook}
        raise TelegramError(404, "Not Found: method not found")

    def _send_message(self, call: Call) -> dict[str, Any]:
        p = call.params
        chat_id = str(p.get("chat_id", ""))
        if not re.fullmatch(r"-?[0-9]+", chat_id):
            raise TelegramError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        text = str(p.get("text", ""))
        if p.get("parse_mode") == "HTML":
            call.text, call.links = parse_html(text)
        else:
            call.text = text
        if not call.text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(call.text.encode("utf-16-le")) // 2 > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        if "reply_markup" in p:
            markup = json.loads(p["reply_markup"])
            rows = markup.get("inline_keyboard")
            if not isinstance(rows, list) or not all(isinstance(r, list) and r for r in rows):
                raise TelegramError(400, "Bad Request: inline keyboard expected")
            for key in (k for row in rows for k in row):
                data = key.get("callback_data", "")
                if not key.get("text") or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
            call.keyboard = rows
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "text": call.text,
        }
