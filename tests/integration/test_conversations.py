"""Whole conversations over Rasa's HTTP API, with the real Rasa and action servers."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Servers, texts

pytestmark = pytest.mark.integration

SYMPTOMS = "shooting pain down the back of my left leg for 3 weeks, worse when I sit, about 6/10"


def customs(messages: list[dict]) -> list[dict]:
    return [m["custom"] for m in messages if "custom" in m]


def test_greeting_says_what_the_bot_is_and_what_to_do_in_an_emergency(
    servers: Servers, sender: str
) -> None:
    reply = " ".join(texts(servers.say(sender, "hello")))
    assert "not a diagnosis" in reply
    assert "emergency number" in reply


@pytest.mark.parametrize(
    "message",
    [
        "what exercises help? btw i peed myself this morning without noticing",
        "can't feel the toilet paper when i wipe and my leg is agony",
        "hiya, my legs both went numb and i keep wetting myself",
    ],
)
def test_a_red_flag_is_escalated_first_whatever_the_intent(
    servers: Servers, sender: str, message: str
) -> None:
    replies = texts(servers.say(sender, message))
    assert replies[0].startswith("EMERGENCY")
    assert "emergency" in replies[0].lower()
    assert "Why:" in replies[0] and "Source:" in replies[0]
    slots = servers.slots(sender)
    assert slots["triage_level"] == "emergency"
    assert slots["red_flags"]


def test_negated_red_flags_do_not_escalate(servers: Servers, sender: str) -> None:
    servers.say(sender, "no bladder or bowel problems, just a dull ache in my buttock")
    slots = servers.slots(sender)
    assert slots["triage_level"] not in ("emergency", "urgent", "crisis")
    assert not slots["red_flags"]


def test_screening_all_no_ends_in_self_care_with_reason_and_source(
    servers: Servers, sender: str
) -> None:
    first = servers.say(sender, SYMPTOMS)
    said = texts(first)
    assert any("left" in t and "leg" in t for t in said), said
    question = first[-1]
    assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny", "/unsure"]
    last: list[dict] = []
    for _ in range(8):
        last = servers.say(sender, "/deny")
    result = " ".join(texts(last))
    assert "SELF CARE" in result
    assert "Source:" in result
    slots = servers.slots(sender)
    assert slots["triage_level"] == "self_care"
    assert servers.tracker(sender)["active_loop"] == {} or not servers.tracker(sender)[
        "active_loop"
    ].get("name")


def test_a_red_flag_in_a_free_text_answer_stops_screening(servers: Servers, sender: str) -> None:
    servers.say(sender, SYMPTOMS)
    replies = texts(servers.say(sender, "well now you ask, i did wet myself last night"))
    assert replies[0].startswith("EMERGENCY")
    assert servers.slots(sender)["triage_level"] == "emergency"
    # The bot does not carry on screening as if nothing happened.
    assert not any(t.startswith("(2/8)") for t in replies)


def test_yes_to_the_bladder_question_is_an_emergency(servers: Servers, sender: str) -> None:
    servers.say(sender, SYMPTOMS)
    replies = texts(servers.say(sender, "yes"))
    assert any(t.startswith("EMERGENCY") for t in replies)
    assert "cauda_equina_bladder" in servers.slots(sender)["red_flags"]


def test_stop_leaves_screening_politely_without_calling_it_self_care(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, SYMPTOMS)
    reply = " ".join(texts(servers.say(sender, "stop, i just want information")))
    assert "stopped" in reply.lower()
    slots = servers.slots(sender)
    assert slots["triage_level"] != "self_care"
    assert not (servers.tracker(sender).get("active_loop") or {}).get("name")


def test_answers_name_their_source_in_text_and_payload(servers: Servers, sender: str) -> None:
    messages = servers.say(sender, "what actually is sciatica")
    assert any("Source" in t for t in texts(messages))
    payloads = customs(messages)
    assert payloads and payloads[0]["sources"]
    assert {"title", "file_name"} <= set(payloads[0]["sources"][0])


def test_follow_up_about_reps_uses_the_previous_exercise(servers: Servers, sender: str) -> None:
    servers.say(sender, "how do i do the sciatic nerve glide")
    reply = " ".join(texts(servers.say(sender, "how many reps?")))
    assert "20" in reply or "10" in reply


def test_a_question_the_documents_do_not_cover_gets_an_honest_reply(
    servers: Servers, sender: str
) -> None:
    reply = " ".join(texts(servers.say(sender, "what's the best way to fix a flat bike tyre")))
    assert "outside" in reply or "don't cover" in reply


def test_the_level_only_rises(servers: Servers, sender: str) -> None:
    servers.say(sender, "I've had a fever and chills all week with this back pain")
    assert servers.slots(sender)["triage_level"] == "urgent"
    servers.say(sender, "thanks, what is sciatica anyway")
    assert servers.slots(sender)["triage_level"] == "urgent"


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "😀😀😀🙏",
        "\x00\x01\x07\x1b[31mhello\x7f",
        "my leg hurts " * 1600,  # about 20 KB
        "Ich habe seit drei Wochen starke Rückenschmerzen",
        "<script>alert(1)</script>",
    ],
)
def test_bad_input_gets_a_clear_reply(servers: Servers, sender: str, message: str) -> None:
    replies = texts(servers.say(sender, message))
    assert replies and all(r.strip() for r in replies)


def test_conversations_survive_a_restart(servers: Servers, sender: str) -> None:
    servers.say(sender, "I've had a fever and chills all week with this back pain")
    servers.restart_rasa()
    assert servers.slots(sender)["triage_level"] == "urgent"


def test_forget_me_deletes_the_conversation_after_confirmation(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, "I've had a fever and chills all week with this back pain")
    ask = servers.say(sender, "please forget me and delete everything i told you")
    assert any("delete" in t for t in texts(ask))
    assert servers.slots(sender)["triage_level"] == "urgent"  # nothing deleted before a yes
    servers.say(sender, "/affirm")
    tracker = servers.tracker(sender)
    assert not [e for e in tracker["events"] if e["event"] == "user"]
    assert tracker["slots"]["triage_level"] is None


def test_forget_me_can_be_cancelled(servers: Servers, sender: str) -> None:
    servers.say(sender, "what is sciatica")
    servers.say(sender, "delete my data")
    reply = " ".join(texts(servers.say(sender, "/deny")))
    assert "kept" in reply
    assert [e for e in servers.tracker(sender)["events"] if e["event"] == "user"]


def test_not_sure_about_the_bladder_keeps_screening_and_ends_urgent(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, SYMPTOMS)
    replies = texts(servers.say(sender, "/unsure"))
    assert any(t.startswith("(2/8)") for t in replies)
    last: list[dict] = []
    for _ in range(7):
        last = servers.say(sender, "/deny")
    result = " ".join(texts(last))
    assert "URGENT" in result or servers.slots(sender)["triage_level"] == "urgent"
    assert servers.slots(sender)["triage_level"] == "urgent"


def test_what_about_pregnancy_follows_the_previous_topic(servers: Servers, sender: str) -> None:
    servers.say(sender, "what causes sciatica")
    reply = " ".join(texts(servers.say(sender, "what about during pregnancy?")))
    assert "pregnan" in reply.lower()
    assert "Source" in reply


def test_an_answer_that_names_a_topic_still_answers_the_open_question(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, SYMPTOMS)
    for _ in range(6):  # bladder, bowel, saddle, both legs, weakness, fever
        servers.say(sender, "/deny")
    replies = texts(servers.say(sender, "never had cancer"))
    assert replies[-1].startswith("(8/8)"), replies
    assert servers.slots(sender)["conversation"]["answers"]["cancer"] == "no"


def test_after_an_emergency_what_now_gets_the_emergency_advice_again(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, "i cant feel when i need to pee and my leg is numb")
    replies = texts(servers.say(sender, "ok what should i do now?"))
    assert replies[0].startswith("Please don't wait: Call your local emergency number"), replies
