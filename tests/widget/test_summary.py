"""The summary for a doctor as a download from the chat page, in a real headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.widget.conftest import REPLY_TIMEOUT_MS, Chat

pytestmark = [pytest.mark.integration, pytest.mark.widget]

SYMPTOMS = "sharp shooting pain down my left leg for 3 weeks"
DOWNLOAD = "Download this summary (print-ready page)"


def test_the_summary_downloads_as_a_print_ready_page(chat: Chat, tmp_path: Path) -> None:
    chat.send(SYMPTOMS)
    chat.page.wait_for_selector("#replies button", timeout=REPLY_TIMEOUT_MS)
    chat.settle()
    before = chat.bot_count()
    chat.page.get_by_role("button", name="No", exact=True).click()  # one screening answer
    chat.wait_for_bot(before + 1)
    chat.settle()
    # Only the summary gets a download, not the bot's other messages.
    assert chat.page.get_by_role("button", name=DOWNLOAD).count() == 0

    chat.page.get_by_role("button", name="Summary for my doctor").click()
    button = chat.page.get_by_role("button", name=DOWNLOAD)
    button.wait_for(timeout=REPLY_TIMEOUT_MS)
    chat.settle()
    assert chat.texts("user")[-1] == "Summary for my doctor"
    assert button.count() == 1
    summary = button.locator("xpath=..").locator(".msg-body").text_content()
    assert summary.startswith("Summary of what you told the sciatica bot")

    with chat.page.expect_download() as info:
        button.click()
    download = info.value
    assert re.fullmatch(r"sciatica-summary-\d{4}-\d{2}-\d{2}\.html", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert "<script" not in saved.read_text(encoding="utf-8")

    # Opened as the person would, and printed: what was reported, the answer given, the line
    # saying it is not a diagnosis; the on-screen hint is not printed.
    viewer = chat.page.context.new_page()
    viewer.goto(saved.as_uri())
    viewer.emulate_media(media="print")
    printed = viewer.locator("main").inner_text()
    assert viewer.locator("h1").text_content() == summary.split("\n")[0]
    for line in summary.split("\n")[1:]:
        assert line.removeprefix("- ").strip() in printed, line
    assert "left" in printed and "3 weeks" in printed and "No." in printed
    assert "produced by an educational bot" in printed and "not a diagnosis" in printed
    assert not viewer.locator(".print-hint").is_visible()
    assert len(viewer.pdf()) > 1000  # Chromium prints it
    viewer.close()

    # The download stays offered after a reload.
    chat.page.reload()
    chat.page.get_by_role("button", name=DOWNLOAD).wait_for(timeout=30_000)
    assert chat.errors == []
