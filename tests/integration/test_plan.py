"""After a screening with no red flag, over Rasa's HTTP API with the real servers: the STarT Back
questions with their buttons, the plan they choose, and the guided exercise session."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Servers, texts

pytestmark = pytest.mark.integration

SYMPTOMS = "shooting pain down the back of my left leg for 3 weeks, worse when I sit, about 6/10"


def screened(servers: Servers, sender: str) -> list[dict]:
    servers.say(sender, SYMPTOMS)
    last: list[dict] = []
    for _ in range(8):
        last = servers.say(sender, "/deny")
    return last


def test_startback_by_buttons_and_words_chooses_a_plan_with_its_sources(
    servers: Servers, sender: str
) -> None:
    offer = screened(servers, sender)[-1]
    assert "STarT Back" in offer["text"] and offer["buttons"]
    reply = servers.say(sender, offer["buttons"][0]["payload"])
    assert "(1/9)" in texts(reply)[-1]
    for answer in ["/affirm", "yes", "/affirm", "yes", "/deny", "no", "/deny", "no"]:
        reply = servers.say(sender, answer)
    item_9 = reply[-1]
    assert "(9/9)" in item_9["text"] and len(item_9["buttons"]) == 5
    plan = " ".join(texts(servers.say(sender, "slightly")))
    assert "medium risk" in plan.lower()
    assert "physical therapist" in plan and "Source" in plan
    risk = servers.slots(sender)["conversation"]["risk"]
    assert (risk["total"], risk["psychosocial"], risk["risk"]) == (4, 0, "medium")
    summary = " ".join(texts(servers.say(sender, "a summary for my doctor please")))
    assert "STarT Back" in summary and "medium" in summary


def test_the_exercise_session_goes_one_at_a_time_and_worse_gets_the_documents_rule(
    servers: Servers, sender: str
) -> None:
    screened(servers, sender)
    first = " ".join(texts(servers.say(sender, "let's do the exercises")))
    assert "nerve glide" in first.lower()
    second = " ".join(texts(servers.say(sender, "better")))
    assert "cat/camel" in second.lower()
    worse = " ".join(texts(servers.say(sender, "worse")))
    assert "too advanced" in worse and "physical therapist" in worse
