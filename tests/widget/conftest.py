"""One running bot (with the repository's credentials.yml), one headless Chromium and one
other website (the example host page, web/examples/host.html) for the web chat tests.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright's Python package; Playwright's
own browser downloads are never used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scripts.processes import ROOT, Bot, free_port, start_bot

CHROMIUM = os.environ.get("WIDGET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
REPLY_TIMEOUT_MS = 90_000  # a reply can take a while on a busy two-core machine
LOCAL_ORIGINS = ("http://localhost:5005", "http://127.0.0.1:5005")
EXAMPLE_HOST_PAGE = ROOT / "web" / "examples" / "host.html"
EXAMPLE_BOT_URL = "https://bot.example.org"


@dataclass
class HostSite:
    """Another website on this machine serving the example host page, which embeds the chat.

    The same server is two origins: ``http://127.0.0.1:<port>`` (allowed to embed the chat)
    and ``http://localhost:<port>`` (not allowed).
    """

    port: int
    bot_url: str = ""

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def allowed_url(self) -> str:
        return f"{self.origin}/"

    @property
    def refused_url(self) -> str:
        return f"http://localhost:{self.port}/"


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    site = HostSite(port=0)

    class HostPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path != "/":
                self.send_error(404)
                return
            page = EXAMPLE_HOST_PAGE.read_text(encoding="utf-8")
            body = page.replace(EXAMPLE_BOT_URL, site.bot_url).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), HostPage)
    site.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[Bot]:
    # BOT_ALLOWED_ORIGINS as a site that embeds the chat sets it: the local defaults and the host
    # site's origin; the bot's own address (BOT_PUBLIC_URL) is allowed too, so its page at
    # /chat/ connects. Every other origin is refused. (The policy when the variable is unset is
    # covered in test_webchat_channel.py.) CORS for the HTTP API as `make run` sets it.
    rasa_port = free_port()
    host_site.bot_url = f"http://127.0.0.1:{rasa_port}"
    running = start_bot(
        tmp_path_factory.mktemp("widget"),
        credentials=ROOT / "credentials.yml",
        env={
            "BOT_ALLOWED_ORIGINS": ",".join((*LOCAL_ORIGINS, host_site.origin)),
            "BOT_PUBLIC_URL": host_site.bot_url,
            # A check-in "day" lasts one second here, so a check-in fires during a test.
            "BOT_CHECKIN_DAY_SECONDS": "1",
        },
        extra_args=("--cors", *LOCAL_ORIGINS),
        rasa_port=rasa_port,
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Chat:
    """The chat page in a fresh browser context (its own sessionStorage), and what it saw."""

    page: Any
    url: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self) -> Chat:
        self.page.goto(self.url)
        self.page.wait_for_function("() => !!window.io", timeout=30_000)
        return self

    def send(self, text: str) -> None:
        """Types a message and presses Enter, then waits for the bot's answer to begin."""
        before = self.bot_count()
        self.page.fill("#message", text)
        self.page.press("#message", "Enter")
        self.wait_for_bot(before + 1)

    def bot_count(self) -> int:
        return int(self.page.locator(".msg--bot").count())

    def wait_for_bot(self, count: int) -> None:
        self.page.wait_for_function(
            "n => document.querySelectorAll('.msg--bot').length >= n",
            arg=count,
            timeout=REPLY_TIMEOUT_MS,
        )

    def settle(self, quiet_ms: int = 2500) -> None:
        """Waits until the bot has said everything it is going to say for now."""
        last = -1
        while True:
            count = self.page.locator(".msg, .sources, .badge").count()
            if count == last:
                return
            last = count
            self.page.wait_for_timeout(quiet_ms)

    def texts(self, who: str = "bot") -> list[str]:
        return self.page.locator(f".msg--{who} .msg-body").all_text_contents()

    def replies(self) -> list[str]:
        return self.page.locator("#replies button").all_text_contents()

    def stored(self) -> dict[str, Any] | None:
        return self.page.evaluate(
            "() => JSON.parse(sessionStorage.getItem('sciatica-chat') || 'null')"
        )


def new_chat(browser: Any, bot: Bot, **context_options: Any) -> Chat:
    context = browser.new_context(**context_options)
    page = context.new_page()
    chat = Chat(page=page, url=f"{bot.rasa_url}/chat/")

    def on_dialog(dialog: Any) -> None:
        chat.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: chat.errors.append(str(error)))
    return chat


@pytest.fixture
def chat(browser: Any, bot: Bot) -> Iterator[Chat]:
    opened = new_chat(browser, bot, viewport={"width": 1024, "height": 800})
    yield opened.open()
    opened.page.context.close()


def screenshot_path(variable: str = "WIDGET_SCREENSHOT") -> Path | None:
    """Where to save a README screenshot (env WIDGET_SCREENSHOT, EMBED_SCREENSHOT), if asked to."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else ROOT / path


def axe_check(page: Any) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """axe-core over the page (already added to it): its results and the serious or critical
    violations, each as (rule, impact, first targets)."""
    results = page.evaluate("async () => JSON.parse(JSON.stringify(await axe.run(document)))")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    return results, bad
