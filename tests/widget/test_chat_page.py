"""The chat page at /chat/ in a real headless Chromium, talking to the real bot."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts.processes import Bot
from tests.widget.conftest import (
    AXE,
    REPLY_TIMEOUT_MS,
    Chat,
    axe_check,
    new_chat,
    screenshot_path,
)

pytestmark = [pytest.mark.integration, pytest.mark.widget]

SYMPTOMS = "sharp shooting pain down my left leg for 3 weeks"
RED_FLAG = "I can't control my bladder since yesterday"


def user_events(bot: Bot, session_id: str) -> list[str]:
    events = bot.tracker(session_id)["events"]
    return [e.get("text") for e in events if e.get("event") == "user"]


def test_describe_symptoms_then_answer_a_screening_question_with_a_button(chat: Chat) -> None:
    chat.send(SYMPTOMS)
    chat.page.wait_for_selector("#replies button", timeout=REPLY_TIMEOUT_MS)
    assert any("understood" in t for t in chat.texts()), chat.texts()
    question = chat.texts()[-1]
    assert question.startswith("(1/8)")
    assert chat.replies() == ["Yes", "No", "Not sure"]

    before = chat.bot_count()
    chat.page.get_by_role("button", name="No", exact=True).click()
    chat.wait_for_bot(before + 1)
    assert chat.texts("user")[-1] == "No"  # the button's title, not its payload
    assert chat.texts()[-1].startswith("(2/8)")
    assert chat.errors == []


def test_a_red_flag_is_shown_as_an_emergency(chat: Chat) -> None:
    chat.send("hello")  # an ordinary bot message to compare the emergency with
    chat.settle()
    chat.send(RED_FLAG)
    emergency = chat.page.locator(".msg--emergency")
    emergency.wait_for(timeout=REPLY_TIMEOUT_MS)
    chat.settle()
    assert emergency.count() == 1
    assert emergency.locator(".msg-body").text_content().startswith("EMERGENCY:")
    assert emergency.locator(".badge").text_content() == "Emergency"
    styles = chat.page.evaluate(
        """() => {
            const look = el => {
                const s = getComputedStyle(el);
                return [s.backgroundColor, s.borderTopColor, s.borderTopWidth];
            };
            const plain = document.querySelector('.msg--bot:not(.msg--level)');
            return {
                emergency: look(document.querySelector('.msg--emergency')),
                plain: plain ? look(plain) : null,
            };
        }"""
    )
    # Visibly different from an ordinary bot message: colour and a border of its own.
    assert styles["plain"] is not None
    assert styles["emergency"][0] != styles["plain"][0]
    assert styles["emergency"][2] != "0px"
    # Only the escalation itself is marked, not what the bot says around it.
    assert chat.page.locator(".msg--level").count() == 1


def test_an_answer_links_to_its_sources(chat: Chat, bot: Bot) -> None:
    chat.send("what is sciatica")
    links = chat.page.locator(".sources a")
    links.first.wait_for(timeout=REPLY_TIMEOUT_MS)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs and all(re.fullmatch(r"sources/d00[0-4]", h or "") for h in hrefs), hrefs
    assert chat.texts()[0].startswith("Sciatica")

    title = links.first.evaluate("a => a.firstChild.textContent")
    source = chat.page.context.new_page()
    source.goto(links.first.evaluate("a => a.href"))
    assert source.locator("h1").text_content() == title
    assert source.locator("p.passage").count() > 0
    source.close()


def test_a_reload_keeps_the_conversation(chat: Chat, bot: Bot) -> None:
    chat.send(SYMPTOMS)
    chat.page.wait_for_selector("#replies button", timeout=REPLY_TIMEOUT_MS)
    chat.settle()
    shown = chat.texts(), chat.texts("user")
    session_id = chat.stored()["sessionId"]

    chat.page.reload()
    chat.page.wait_for_function("() => !!window.io")
    assert (chat.texts(), chat.texts("user")) == shown
    assert chat.replies() == ["Yes", "No", "Not sure"]

    # The bot remembers too: the answer continues the same screening.
    before = chat.bot_count()
    chat.page.get_by_role("button", name="No", exact=True).click()
    chat.wait_for_bot(before + 1)
    assert chat.texts()[-1].startswith("(2/8)")
    assert chat.stored()["sessionId"] == session_id
    assert user_events(bot, session_id)[:1] == [SYMPTOMS]
    # sessionStorage only: nothing about the conversation is kept beyond the tab.
    assert chat.page.evaluate("() => localStorage.length") == 0


def test_forget_me_clears_the_page_and_its_storage(chat: Chat, bot: Bot) -> None:
    chat.send(SYMPTOMS)
    chat.page.wait_for_selector("#replies button", timeout=REPLY_TIMEOUT_MS)
    chat.settle()
    old_session = chat.stored()["sessionId"]

    before = chat.bot_count()
    chat.page.get_by_role("button", name="Delete this conversation").click()
    chat.wait_for_bot(before + 1)
    chat.page.get_by_role("button", name="Yes, delete it").click()
    chat.page.wait_for_function(
        "() => document.querySelectorAll('.msg').length === 1", timeout=REPLY_TIMEOUT_MS
    )
    assert chat.texts()[0].startswith("Done: I've deleted our conversation")
    chat.page.wait_for_function(
        "() => { const s = JSON.parse(sessionStorage.getItem('sciatica-chat') || 'null');"
        " return s && s.sessionId; }"
    )
    stored = chat.stored()
    assert stored["messages"] == []
    assert stored["sessionId"] != old_session
    assert SYMPTOMS not in json.dumps(stored)
    assert SYMPTOMS not in user_events(bot, old_session)

    chat.page.reload()
    chat.page.wait_for_function("() => !!window.io")
    assert chat.page.locator(".msg").count() == 0


def test_phone_width_has_no_horizontal_scroll(browser: Any, bot: Bot) -> None:
    chat = new_chat(browser, bot, viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        chat.open()
        chat.send("what is sciatica")
        chat.page.locator(".sources a").first.wait_for(timeout=REPLY_TIMEOUT_MS)
        chat.send("pain " + "x" * 120 + " in my leg")
        chat.send(RED_FLAG)
        chat.page.locator(".msg--emergency").wait_for(timeout=REPLY_TIMEOUT_MS)
        layout = chat.page.evaluate(
            """() => {
                const root = document.documentElement;
                const right = el => el.getBoundingClientRect().right;
                return {
                    scrollWidth: root.scrollWidth,
                    width: window.innerWidth,
                    widest: Math.max(...[...document.querySelectorAll('.msg, button, input')]
                        .map(right)),
                    input: document.getElementById('message').getBoundingClientRect().bottom,
                    height: window.innerHeight,
                };
            }"""
        )
        assert layout["width"] == 375
        assert layout["scrollWidth"] <= layout["width"], layout
        assert layout["widest"] <= layout["width"], layout
        assert layout["input"] <= layout["height"], layout  # the input stays on screen
    finally:
        chat.page.context.close()


def test_keyboard_only(chat: Chat) -> None:
    page = chat.page
    focused = "() => document.activeElement && document.activeElement.id"
    focused_text = "() => document.activeElement.textContent"
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == "message":
            break
    assert page.evaluate(focused) == "message"

    page.keyboard.type(SYMPTOMS)
    page.keyboard.press("Enter")
    page.wait_for_selector("#replies button", timeout=REPLY_TIMEOUT_MS)
    chat.settle()

    # Tab past Send to the suggested replies, and on to "No" (a "Yes" ends the screening).
    in_replies = "() => document.activeElement.closest('#replies') !== null"
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate(in_replies) and page.evaluate(focused_text) == "No":
            break
    assert page.evaluate(in_replies)
    button = page.evaluate_handle("() => document.activeElement")
    assert button.evaluate("b => b.tagName") == "BUTTON"
    outline = button.evaluate(
        "b => [getComputedStyle(b).outlineStyle, getComputedStyle(b).outlineWidth]"
    )
    assert outline[0] != "none" and outline[1] != "0px", outline  # focus is visible
    title = button.evaluate("b => b.textContent")
    assert title == "No"

    before = chat.bot_count()
    page.keyboard.press("Enter")
    chat.wait_for_bot(before + 1)
    assert chat.texts("user")[-1] == title
    # The next question's buttons get the focus, so the screening can go on from the keyboard.
    page.wait_for_function("() => document.activeElement.closest('#replies') !== null")


def test_accessibility_has_no_serious_or_critical_violations(browser: Any, bot: Bot) -> None:
    # axe is injected as a script, which the page's own Content-Security-Policy forbids.
    chat = new_chat(browser, bot, viewport={"width": 900, "height": 900}, bypass_csp=True)
    try:
        chat.open()
        chat.send(SYMPTOMS)
        chat.page.wait_for_selector("#replies button", timeout=REPLY_TIMEOUT_MS)
        chat.settle()
        chat.send("what is sciatica")
        chat.page.locator(".sources a").first.wait_for(timeout=REPLY_TIMEOUT_MS)
        # After the answer the screening question comes back with its buttons.
        chat.page.wait_for_selector("#replies button", timeout=REPLY_TIMEOUT_MS)
        chat.settle()
        chat.send(RED_FLAG)
        chat.page.locator(".msg--emergency").wait_for(timeout=REPLY_TIMEOUT_MS)
        chat.settle()
        page = chat.page
        # The emergency advice is the first thing the bot says after the red flag.
        after = "xpath=following-sibling::*[contains(@class, 'msg')][1]"
        first_reply = page.locator(".msg--user").last.locator(after)
        assert "msg--emergency" in (first_reply.get_attribute("class") or "")
        assert page.evaluate("() => document.documentElement.lang") == "en"
        log = page.locator("#transcript")
        assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
        assert page.get_by_label("Your message").count() == 1

        page.add_script_tag(path=str(AXE))
        results, bad = axe_check(page)
        assert bad == [], bad
        assert len(results["passes"]) > 10  # axe really ran over the page

        for width in (375,):
            page.set_viewport_size({"width": width, "height": 740})
            results = page.evaluate("async () => JSON.parse(JSON.stringify(await axe.run()))")
            bad = [v["id"] for v in results["violations"] if v["impact"] in ("serious", "critical")]
            assert bad == [], (width, bad)

        target = screenshot_path()
        if target is not None:
            page.set_viewport_size({"width": 900, "height": 1250})
            page.evaluate("() => document.getElementById('message').blur()")
            page.screenshot(path=str(target))
    finally:
        chat.page.context.close()


XSS = [
    "<script>alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    "[click](javascript:alert('link'))",
]


def test_text_is_never_html(chat: Chat) -> None:
    for text in XSS:
        chat.send(text)
    chat.settle()

    def check() -> None:
        assert chat.texts("user") == XSS  # shown literally
        found = chat.page.evaluate(
            """() => ({
                scripts: document.querySelectorAll('#chat script').length,
                images: document.querySelectorAll('img').length,
                jsLinks: [...document.querySelectorAll('[href]')]
                    .filter(el => /^\\s*javascript:/i.test(el.getAttribute('href'))).length,
                links: [...document.querySelectorAll('#transcript a')].map(a => a.href),
            })"""
        )
        # The bot may answer with a cited passage: its source links are the only links.
        links = found.pop("links")
        assert all(re.fullmatch(r"http://127\.0\.0\.1:\d+/chat/sources/d\d{3}", u) for u in links)
        assert found == {"scripts": 0, "images": 0, "jsLinks": 0}, found
        assert chat.dialogs == []

    check()
    chat.page.reload()  # what is restored from sessionStorage is rendered the same safe way
    chat.page.wait_for_function("() => !!window.io")
    chat.page.wait_for_timeout(1000)
    check()


def test_the_input_is_capped_at_2000_characters(chat: Chat) -> None:
    chat.page.focus("#message")
    chat.page.keyboard.insert_text("x" * 2100)  # as a paste would
    assert len(chat.page.input_value("#message")) == 2000
