"""What the bot serves under /chat/: the page, its files, the source documents, and no more."""

from __future__ import annotations

import pytest
import requests

from bot.knowledge.corpus import load_corpus
from scripts.processes import Bot

pytestmark = [pytest.mark.integration, pytest.mark.widget]


def get(bot: Bot, path: str) -> requests.Response:
    return requests.get(f"{bot.rasa_url}{path}", timeout=30, allow_redirects=False)


def test_the_chat_page_is_served_with_a_strict_policy(bot: Bot) -> None:
    page = get(bot, "/chat/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'role="log"' in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"

    # The same page for other sites' frames, with the same policy but for who may frame it.
    framed = get(bot, "/chat/embedded")
    assert framed.status_code == 200 and framed.text == page.text
    framed_policy = framed.headers["Content-Security-Policy"]
    assert framed_policy.split("; frame-ancestors")[0] == policy.split("; frame-ancestors")[0]
    assert "frame-ancestors 'self'" in policy and policy.endswith("'self'")
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"

    moved = get(bot, "/chat")
    assert moved.status_code == 302 and moved.headers["Location"] == "/chat/"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/chat/widget.js", "javascript"),
        ("/chat/widget.css", "text/css"),
        ("/chat/embed.js", "javascript"),
        ("/chat/embed.css", "text/css"),
        ("/chat/vendor/socket.io.min.js", "javascript"),
        ("/chat/favicon.svg", "image/svg+xml"),
    ],
)
def test_the_pages_files_are_served_locally(bot: Bot, path: str, kind: str) -> None:
    response = get(bot, path)
    assert response.status_code == 200, path
    assert kind in response.headers["Content-Type"]
    assert len(response.content) > 100


def test_every_source_document_has_a_page(bot: Bot) -> None:
    for doc_id, document in load_corpus().documents.items():
        page = get(bot, f"/chat/sources/{doc_id}")
        assert page.status_code == 200, doc_id
        assert f"<h1>{document.title}</h1>".replace("&", "&amp;") in page.text
        assert "Content-Security-Policy" in page.headers


@pytest.mark.parametrize(
    "path",
    [
        "/chat/sources/d999",
        "/chat/sources/..%2F..%2Fcredentials.yml",
        "/chat/sources/%3Cscript%3E",
        "/chat/../credentials.yml",
        "/chat/package.json",
        "/chat/index.html.bak",
        "/chat/examples/host.html",
        "/chat/node_modules/socket.io-client/package.json",
        "/chat/vendor/../../credentials.yml",
    ],
)
def test_nothing_else_is_served(bot: Bot, path: str) -> None:
    response = get(bot, path)
    assert response.status_code == 404, (path, response.status_code)
    assert "<script" not in response.text
