"""After the safety questions, on the chat page in a real headless Chromium: the STarT Back
questions answered with their buttons, the plan they choose, and a check-in pushed to the open
page without the person sending anything."""

from __future__ import annotations

import pytest

from tests.widget.conftest import REPLY_TIMEOUT_MS, Chat

pytestmark = [pytest.mark.integration, pytest.mark.widget]

SYMPTOMS = "sharp shooting pain down my left leg for 3 weeks, about 5/10"


def click(chat: Chat, title: str) -> None:
    before = chat.bot_count()
    chat.page.get_by_role("button", name=title, exact=True).click()
    chat.wait_for_bot(before + 1)
    chat.settle(quiet_ms=800)


def test_startback_by_buttons_then_a_check_in_arrives_on_the_open_page(chat: Chat) -> None:
    chat.send(SYMPTOMS)
    chat.page.wait_for_selector("#replies button", timeout=REPLY_TIMEOUT_MS)
    for _ in range(8):
        click(chat, "No")
    assert "STarT Back" in chat.texts()[-1]
    click(chat, "Yes, ask me")
    assert chat.texts()[-1].startswith("(1/9)")
    for title in ["Yes", "Yes", "Yes", "Yes", "No", "No", "No", "No"]:
        click(chat, title)
    assert chat.texts()[-1].startswith("(9/9)")
    assert chat.replies() == ["Not at all", "Slightly", "Moderately", "Very much", "Extremely"]
    click(chat, "Slightly")
    plan = " ".join(chat.texts()[-3:])
    assert "Medium risk" in plan and "physical therapist" in plan and "Source" in plan

    chat.send("please check on me in 2 days")
    assert "check on you in 2 days" in chat.texts()[-1]
    before = chat.bot_count()
    # Nothing more is typed: the check-in is pushed to the page (a "day" is a second here).
    chat.page.wait_for_function(
        "n => [...document.querySelectorAll('.msg--bot .msg-body')].slice(n)"
        ".some(el => el.textContent.includes('How bad is your pain today'))",
        arg=before,
        timeout=REPLY_TIMEOUT_MS,
    )
    assert chat.errors == []
