"""Nothing a person writes, and no slot value, appears in the logs at INFO level."""

from __future__ import annotations

import pytest

from scripts.processes import Bot

pytestmark = pytest.mark.integration


def test_message_text_and_slot_values_stay_out_of_the_logs(bot: Bot, sender: str) -> None:
    marker = "zanzibarquux"
    bot.say(sender, f"my name is {marker} and I have a fever with my back pain")
    bot.say(sender, f"I can't feel my saddle area {marker}")
    bot.say(sender, f"what is sciatica {marker}")
    slots = bot.slots(sender)
    assert slots["triage_level"] == "emergency"
    logs = "\n".join(path.read_text() for path in bot.workdir.glob("*.log"))
    assert marker not in logs
    for flag in slots["red_flags"]:
        assert flag not in logs
