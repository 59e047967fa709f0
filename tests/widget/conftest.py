"""One running bot (with the repository's credentials.yml) and one headless Chromium for the
web chat tests.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright's Python package; Playwright's
own browser downloads are never used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scripts.processes import ROOT, Bot, start_bot

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


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    # BOT_ALLOWED_ORIGINS empty: the default policy, under which the page the bot serves (on
    # this test's random port) and the local defaults may connect and other sites may not.
    # CORS for the HTTP API as `make run` sets it.
    running = start_bot(
        tmp_path_factory.mktemp("widget"),
        credentials=ROOT / "credentials.yml",
        env={"BOT_ALLOWED_ORIGINS": "", "BOT_PUBLIC_URL": ""},
        extra_args=("--cors", *LOCAL_ORIGINS),
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


def screenshot_path() -> Path | None:
    """Where to save the README screenshot (env WIDGET_SCREENSHOT), if asked to."""
    value = os.environ.get("WIDGET_SCREENSHOT", "").strip()
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else ROOT / path
