"""The safety net: what the person hears when a message can't be handled normally."""

from __future__ import annotations

import random

import pytest

from bot import safety_net
from channels.rest import BadRequest, parse_body


def said(messages: list[dict]) -> str:
    return " ".join(m.get("text", "") for m in messages)


@pytest.mark.parametrize(
    "text",
    [
        "I can't control my bladder since yesterday",
        "numb between my legs and my back is agony",
        "i want to kill myself, the pain never stops",
    ],
)
def test_a_red_flag_gets_its_escalation_even_when_something_is_down(text: str) -> None:
    messages = safety_net.unavailable(text)
    assert said(messages).split(":")[0] in {"EMERGENCY", "PLEASE REACH OUT NOW"}
    assert any(m.get("json_message", {}).get("type") == "triage" for m in messages)
    assert "Sorry" in said(messages)


def test_without_a_red_flag_the_apology_still_says_when_not_to_wait() -> None:
    messages = safety_net.unavailable("what exercises help sciatica?")
    assert said(messages).startswith("Sorry")
    assert "emergency" in said(messages)
    assert not any("json_message" in m for m in messages)


def test_a_too_long_message_is_refused_clearly_and_red_flags_still_count() -> None:
    plain = safety_net.too_long("my leg hurts " * 300)
    flagged = safety_net.too_long("I have lost control of my bowels. " + "ouch " * 600)
    assert "too long" in said(plain) and "EMERGENCY" not in said(plain)
    assert said(flagged).startswith("EMERGENCY") and "too long" in said(flagged)


RED_FLAG = "Since this morning I can't control my bladder."
LETTER = (
    "My leg has been sore for weeks and sitting makes it worse. The physio gave me exercises "
    "and I do them every morning, but the pain is still there in the evening. "
)


def letter(chars: int) -> str:
    """A long, ordinary message of about ``chars`` characters, each sentence numbered."""
    parts, n = [], 0
    while sum(map(len, parts)) < chars:
        n += 1
        parts.append(f"Note {n}. {LETTER}")
    return "".join(parts)[:chars]


@pytest.mark.parametrize("chars", [20_000, 60_000], ids=["20KB", "60KB"])
@pytest.mark.parametrize("where", ["end", "middle"])
def test_a_red_flag_anywhere_in_a_very_long_message_gets_the_advice(chars: int, where: str) -> None:
    body = letter(chars)
    cut = len(body) if where == "end" else body.index("Note", len(body) // 2)
    messages = safety_net.too_long(body[:cut] + RED_FLAG + " " + body[cut:])
    assert said(messages).startswith("EMERGENCY")
    assert "too long" in said(messages)


@pytest.mark.parametrize("chars", [20_000, 60_000], ids=["20KB", "60KB"])
def test_a_very_long_message_without_a_red_flag_gets_only_too_long(chars: int) -> None:
    messages = safety_net.too_long(letter(chars))
    assert len(messages) == 1 and "too long" in said(messages)


def test_a_red_flag_cut_by_a_window_boundary_is_still_found() -> None:
    # One long run-on sentence, so the windows are cut at spaces; the red flag is placed across
    # the end of the first window at several positions.
    padding = "it hurts and it aches and " * 200
    first_end = len(next(safety_net.windows(padding))[1])
    phrase = " i cant feel my saddle area "
    split = 0
    for shift in (5, 10, 15, 20, 25):
        start = first_end - shift
        text = padding[:start] + phrase + padding[start:]
        first_end_here = len(next(safety_net.windows(text))[1])
        split += start + 1 < first_end_here < start + len(phrase) - 1
        assert said(safety_net.too_long(text)).startswith("EMERGENCY"), shift
    assert split, "the phrase never straddled a window boundary"


def test_windows_cover_the_text_with_overlap_and_bounded_work() -> None:
    rng = random.Random(7)
    words = ["my", "back", "hurts", "and", "leg", "pain", ".", "?", "\n", "x" * 50]
    for length in (10, 2_500, 30_000):
        text = " ".join(rng.choice(words) for _ in range(length))[:length]
        pieces = list(safety_net.windows(text))
        assert all(len(w) <= safety_net.WINDOW_CHARS for _, w in pieces)
        assert all(text[offset : offset + len(w)] == w for offset, w in pieces)
        for _ in range(200):  # any stretch up to OVERLAP_CHARS is whole in some window
            a = rng.randrange(len(text))
            b = min(len(text), a + rng.randint(1, safety_net.OVERLAP_CHARS))
            assert any(o <= a and b <= o + len(w) for o, w in pieces), (a, b)
        assert sum(len(w) for _, w in pieces) <= 2 * len(text) + safety_net.WINDOW_CHARS


def test_well_formed_bodies_are_read() -> None:
    assert parse_body(b'{"sender": "a", "message": "hi"}') == ("a", "hi", None)
    assert parse_body('{"sender": "a", "message": "\u00e9", "metadata": {"k": 1}}'.encode()) == (
        "a",
        "\u00e9",
        {"k": 1},
    )


@pytest.mark.parametrize(
    "body",
    [
        b"\xff",
        b"{",
        b"[]",
        b'{"sender": "a"}',
        b'{"sender": 1, "message": "hi"}',
        b'{"sender": "a\\u0000", "message": "hi"}',
        b'{"sender": "a", "message": "hi", "other": 1}',
        b'{"sender": "a", "message": "\\udc00"}',
        ('{"sender": "' + "a" * 129 + '", "message": "hi"}').encode(),
        ('{"sender": "a", "message": "hi", "metadata": {"k": "' + "x" * 9000 + '"}}').encode(),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_body(body)
    assert str(refused.value)
