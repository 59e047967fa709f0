"""The web chat connector's own rules, without a running server (channels/webchat.py)."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import pytest

from bot.knowledge.corpus import Corpus, Document, Passage
from bot.messages import say
from channels import webchat
from channels.webchat import OriginPolicy

# --- which pages may open a socket -------------------------------------------------------------


def test_unset_allows_the_local_defaults_and_the_bots_own_origin() -> None:
    policy = OriginPolicy(None)
    assert policy.allows("http://localhost:5005")
    assert policy.allows("http://127.0.0.1:5005")
    # The page the bot serves itself, on whatever port it runs.
    assert policy.allows("http://127.0.0.1:8123", host="127.0.0.1:8123")
    assert policy.allows("https://bot.example.org", host="bot.example.org")
    assert not policy.allows("https://evil.example", host="127.0.0.1:8123")
    assert not policy.allows("http://localhost:5006", host="127.0.0.1:8123")


def test_empty_setting_means_unset() -> None:
    assert OriginPolicy("  ").origins == OriginPolicy(None).origins


def test_a_configured_list_allows_exactly_those_origins() -> None:
    policy = OriginPolicy("https://chat.example.org, http://localhost:8080/")
    assert policy.allows("https://chat.example.org")
    assert policy.allows("http://localhost:8080")
    assert not policy.allows("http://localhost:5005")
    assert not policy.allows("https://chat.example.org.evil.example")
    assert not policy.allows("http://chat.example.org")  # another scheme is another origin
    # Not even the bot's own host when the operator listed the origins.
    assert not policy.allows("http://127.0.0.1:8123", host="127.0.0.1:8123")


def test_origins_compare_the_way_browsers_send_them() -> None:
    policy = OriginPolicy("HTTPS://Chat.Example.org:443")
    assert policy.allows("https://chat.example.org")
    assert not policy.allows("https://chat.example.org:8443")


def test_the_public_url_is_allowed_too() -> None:
    policy = OriginPolicy("https://a.example", public_url="https://bot.example.org/chat/")
    assert policy.allows("https://bot.example.org")


@pytest.mark.parametrize("origin", [None, "", "null", "file://", "javascript:alert(1)", "*"])
def test_missing_or_opaque_origins_are_not_allowed_by_the_policy(origin: str | None) -> None:
    assert not OriginPolicy(None).allows(origin, host="127.0.0.1:5005")


def test_entries_that_are_not_origins_are_ignored() -> None:
    assert OriginPolicy("*, not a url, ftp://x.example, https://ok.example").origins == [
        "https://ok.example"
    ]


def test_the_policy_is_what_python_socketio_calls() -> None:
    policy = OriginPolicy.from_env({"BOT_ALLOWED_ORIGINS": "https://chat.example.org"})
    assert policy("https://chat.example.org", {"HTTP_HOST": "127.0.0.1:5005"}) is True
    assert policy("https://evil.example", {"HTTP_HOST": "127.0.0.1:5005"}) is False


def frame_ancestors(policy: OriginPolicy) -> list[str]:
    header = webchat.frame_policy(policy)["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]+)", header).group(1).split()


def test_the_embedded_page_may_be_framed_only_by_the_allowed_origins() -> None:
    policy = OriginPolicy(
        "https://clinic.example, http://localhost:8080", "https://bot.example.org"
    )
    assert frame_ancestors(policy) == [
        "'self'",
        "https://clinic.example",
        "http://localhost:8080",
        "https://bot.example.org",
    ]
    headers = webchat.frame_policy(policy)
    assert "X-Frame-Options" not in headers  # it cannot list origins
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    # Unset: the bot itself and the local defaults, never any site.
    assert frame_ancestors(OriginPolicy(None)) == ["'self'", *webchat.DEFAULT_ORIGINS]
    # The full page at /chat/ stays unframeable by other sites.
    assert webchat.SECURITY_HEADERS["Content-Security-Policy"].endswith("frame-ancestors 'self'")


def test_only_well_formed_origins_reach_the_frame_policy() -> None:
    policy = OriginPolicy("https://ok.example")
    policy.origins += ["https://x.example; script-src *", "https://a b.example", "*"]
    assert frame_ancestors(policy) == ["'self'", "https://ok.example"]


# --- sessions and messages ---------------------------------------------------------------------


def test_session_ids_are_issued_by_the_channel() -> None:
    issued = webchat.new_session_id()
    assert re.fullmatch(r"web-[0-9a-f]{32}", issued)
    assert webchat.session_id_for(issued) == issued  # a reload continues the conversation
    assert webchat.new_session_id() != issued


@pytest.mark.parametrize("requested", [None, "", "alice", "web-123", "WEB-" + "a" * 32, 42, {}])
def test_a_page_cannot_choose_another_conversation(requested: Any) -> None:
    given = webchat.session_id_for(requested)
    assert given != requested
    assert re.fullmatch(r"web-[0-9a-f]{32}", given)


def test_only_text_messages_are_read() -> None:
    assert webchat.read_message({"message": "hi", "session_id": "x"}) == ("hi", None)
    assert webchat.read_message({"message": "hi", "metadata": '{"a": 1}'}) == ("hi", {"a": 1})
    assert webchat.read_message({"message": "hi", "metadata": "{bad"}) == ("hi", None)
    assert webchat.read_message({"message": "hi", "metadata": {"x": "y" * 9000}}) == ("hi", None)
    for event in [None, "hi", {"message": 5}, {"text": "hi"}, {"message": "\ud800"}]:
        assert webchat.read_message(event) is None


def test_the_size_limit_is_the_pages_maxlength() -> None:
    assert webchat.MAX_MESSAGE_CHARS == 2000
    page = (webchat.WEB_DIR / "index.html").read_text(encoding="utf-8")
    assert 'maxlength="2000"' in page


def test_payloads_from_the_safety_net_become_channel_messages() -> None:
    shaped = webchat.as_channel_messages(
        [{"text": "EMERGENCY: ..."}, {"json_message": {"type": "triage", "level": "emergency"}}]
    )
    assert shaped == [
        {"text": "EMERGENCY: ..."},
        {"custom": {"type": "triage", "level": "emergency"}},
    ]


def test_the_deleted_conversation_reply_is_recognised() -> None:
    done = say("forgotten")
    assert webchat.is_forgotten_reply([done])
    assert webchat.is_forgotten_reply([], [{"type": "forgotten"}])
    assert not webchat.is_forgotten_reply(["Do you want me to delete this whole conversation?"])
    assert not webchat.is_forgotten_reply([])


def run_in_own_loop(coroutine: Any) -> None:
    """Runs a coroutine in a thread of its own (a browser test may own this thread's loop)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


class FakeServer:
    """Records what the output channel emits."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, dict[str, Any]]] = []

    async def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        self.emitted.append((event, data, kwargs))


def test_custom_payloads_reach_the_page_as_data() -> None:
    """Rasa's own output passes the payload's keys to emit() and fails with TypeError."""
    server = FakeServer()
    output = webchat.WebChatOutput(server, "bot_uttered")  # type: ignore[arg-type]
    payload = {"type": "triage", "level": "emergency", "title": "Call now", "red_flags": []}

    async def reply() -> None:
        await output.send_response("web-1", {"text": "EMERGENCY: call now.", "custom": payload})

    run_in_own_loop(reply())
    assert server.emitted == [
        ("bot_uttered", {"text": "EMERGENCY: call now."}, {"room": "web-1"}),
        ("bot_uttered", {"custom": payload}, {"room": "web-1"}),
    ]
    assert output.texts == ["EMERGENCY: call now."]
    assert output.customs == [payload]


# --- source pages ------------------------------------------------------------------------------


def test_a_source_page_shows_the_documents_text() -> None:
    page = webchat.source_page("d001")
    assert page is not None
    assert "<h1>What Is Sciatica And Where Does It Come From?</h1>" in page
    assert 'lang="en"' in page
    assert "sciatic nerve" in page.lower()


@pytest.mark.parametrize("doc_id", ["d999", "../credentials", "d000/../../x", "D000", ""])
def test_unknown_documents_have_no_page(doc_id: str) -> None:
    assert webchat.source_page(doc_id) is None


def test_source_text_is_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    corpus = Corpus(
        passages=[Passage(id="d000-p01", doc_id="d000", text=hostile, heading="<b>Heading</b>")],
        documents={"d000": Document(id="d000", title="<i>Title</i>", file_name="a&b.txt")},
    )
    monkeypatch.setattr(webchat, "load_corpus", lambda: corpus)
    page = webchat.source_page("d000")
    assert page is not None
    assert "<script" not in page and "<img" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Heading&lt;/b&gt;" in page
    assert "a&amp;b.txt" in page


ASSET_FILES = (
    "index.html",
    "widget.js",
    "widget.css",
    "embed.js",
    "embed.css",
    "package.json",
    "package-lock.json",
)


def test_the_pages_files_are_in_the_repository() -> None:
    for name in ASSET_FILES:
        assert (webchat.WEB_DIR / name).is_file(), name
