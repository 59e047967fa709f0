"""The chat embedded in another website with one script tag (web/embed.js), in real Chromium.

The host site is the example page (web/examples/host.html, with its own strict
Content-Security-Policy) served by a second local server: ``127.0.0.1:<port>`` is in the bot's
BOT_ALLOWED_ORIGINS, ``localhost:<port>`` is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from scripts.processes import Bot
from tests.widget.conftest import AXE, REPLY_TIMEOUT_MS, HostSite, axe_check, screenshot_path

pytestmark = [pytest.mark.integration, pytest.mark.widget]

LAUNCHER = "Back pain? Chat with the sciatica helper"
RED_FLAG = "I can't control my bladder since yesterday"
FRAME = "[data-sciatica-chat] iframe"  # Playwright's CSS reaches into the open shadow root


@pytest.fixture
def host_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 850})
    # axe-core in every frame, as the browser's own script (neither page's policy applies),
    # allowed to ask the chat's frame, on the bot's origin, for its results.
    context.add_init_script(path=str(AXE))
    context.add_init_script("axe.configure({allowedOrigins: ['<unsafe_all_origins>']})")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def bot_count(frame: Any) -> int:
    return int(frame.locator(".msg--bot").count())


def say(page: Any, frame: Any, text: str) -> None:
    """Types into the chat (wherever the focus is in it) and waits for the answer to begin."""
    before = bot_count(frame)
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(frame.locator(".msg--bot")).to_have_count(before + 1, timeout=REPLY_TIMEOUT_MS)
    frame.locator(".msg--bot").nth(before).wait_for(timeout=REPLY_TIMEOUT_MS)


def settle(page: Any, frame: Any, quiet_ms: int = 2500) -> None:
    """Waits until the bot has said everything it is going to say for now."""
    last = -1
    while True:
        count = frame.locator(".msg, .sources, .badge").count()
        if count == last:
            return
        last = count
        page.wait_for_timeout(quiet_ms)


def test_another_site_embeds_the_chat_and_a_conversation_shows_the_emergency(
    host_page: Any, host_site: HostSite, bot: Bot
) -> None:
    page = host_page
    page.goto(host_site.allowed_url)
    launcher = page.get_by_role("button", name=LAUNCHER)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert page.locator(FRAME).count() == 0  # nothing talks to the bot before the click

    # From the keyboard: Tab to the launcher, Enter opens the panel and the message box gets
    # the focus.
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.hasAttribute('data-sciatica-chat')"):
            break
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("dialog", name="Sciatica helper")).to_be_visible()
    frame = page.frame_locator(FRAME)
    expect(frame.locator("#message")).to_be_focused(timeout=30_000)

    say(page, frame, "hello")  # an ordinary bot message to compare the emergency with
    settle(page, frame)
    say(page, frame, RED_FLAG)
    emergency = frame.locator(".msg--emergency")
    emergency.wait_for(timeout=REPLY_TIMEOUT_MS)
    settle(page, frame)
    expect(emergency.locator(".badge")).to_have_text("Emergency")
    assert emergency.locator(".msg-body").text_content().startswith("EMERGENCY:")
    looks = frame.locator("body").evaluate(
        """() => {
            const look = el => {
                const s = getComputedStyle(el);
                return [s.backgroundColor, s.borderTopWidth];
            };
            return {
                emergency: look(document.querySelector('.msg--emergency')),
                plain: look(document.querySelector('.msg--bot:not(.msg--level)')),
            };
        }"""
    )
    assert looks["emergency"][0] != looks["plain"][0] and looks["emergency"][1] != "0px", looks
    # The emergency is visible inside the panel, not scrolled away or clipped by the host page.
    expect(emergency).to_be_in_viewport()

    # The launcher, the panel and the chat in it: no serious or critical accessibility problem.
    results, bad = axe_check(page)
    assert bad == [], bad
    # axe checked the chat inside the frame too (its message box), not only the host page.
    assert "#message" in json.dumps(results["passes"]), [
        n["target"] for v in results["passes"][:5] for n in v["nodes"]
    ]

    # The conversation stays with the bot: the host page's scripts cannot read the frame.
    assert page.evaluate(
        "() => document.querySelector('[data-sciatica-chat]').shadowRoot"
        ".querySelector('iframe').contentDocument === null"
    )
    target = screenshot_path("EMBED_SCREENSHOT")
    if target is not None:
        frame.locator(".msg--user").last.evaluate("m => m.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(target))

    # Escape closes the panel and gives the focus back to the launcher.
    frame.locator("#message").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("() => document.activeElement?.hasAttribute('data-sciatica-chat')")

    # A reload of the host page keeps the conversation (the frame's sessionStorage).
    shown = frame.locator(".msg-body").all_text_contents()
    page.reload()
    page.get_by_role("button", name=LAUNCHER).click()
    expect(frame.locator(".msg--emergency .badge")).to_have_text("Emergency", timeout=30_000)
    assert frame.locator(".msg-body").all_text_contents() == shown
    assert page.errors == []


def test_a_site_that_is_not_allowed_gets_no_chat(
    host_page: Any, host_site: HostSite, bot: Bot
) -> None:
    # The bot's answer to any framing site: only itself and the allowed origins may frame it.
    policy = requests.get(f"{bot.rasa_url}/chat/embedded", timeout=30).headers[
        "Content-Security-Policy"
    ]
    ancestors = re.search(r"frame-ancestors ([^;]+)", policy).group(1).split()
    assert host_site.origin in ancestors and "'self'" in ancestors
    assert not any("localhost:" + str(host_site.port) in a for a in ancestors)
    assert "*" not in ancestors

    page = host_page
    page.goto(host_site.refused_url)
    page.get_by_role("button", name=LAUNCHER).click()
    # Chromium refuses to show the frame, and the panel says so instead of staying blank.
    expect(page.get_by_text("The chat can't be shown on this website.")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_role("link", name="Open the chat in a new tab")).to_have_attribute(
        "href", f"{bot.rasa_url}/chat/"
    )
    assert page.frame_locator(FRAME).locator("#message").count() == 0
    # Nor may a page of that site open the chat's socket itself.
    handshake = requests.get(
        f"{bot.rasa_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": host_site.refused_url.rstrip("/")},
        timeout=30,
    )
    assert handshake.status_code == 400
