"""Action-server replies are validated exactly as Rasa does, with the schema checked once."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from stores import action_validation, patches

GOOD = {
    "events": [{"event": "slot", "name": "triage_level", "value": "urgent"}],
    "responses": [{"text": "hello", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
}
BAD = [{"events": "not a list"}, {"events": [{"event": 42}]}, {"responses": "nope"}]


@pytest.fixture
def action() -> RemoteAction:
    patches.install()
    return RemoteAction("action_turn", None)


def test_a_valid_reply_passes(action: RemoteAction) -> None:
    assert action._validate_action_result(GOOD) is True


@pytest.mark.parametrize("reply", BAD)
def test_an_invalid_reply_fails_like_rasas_own_check(action: RemoteAction, reply: dict) -> None:
    with pytest.raises(jsonschema.ValidationError) as ours:
        action._validate_action_result(reply)
    with pytest.raises(jsonschema.ValidationError) as stock:
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
    assert ours.value.message.startswith(stock.value.message)
    assert "Failed to validate Action server response" in ours.value.message


def test_the_schema_is_checked_once(action: RemoteAction, monkeypatch: pytest.MonkeyPatch) -> None:
    checks = []
    validator_class = type(action_validation.action_response_validator())
    monkeypatch.setattr(
        validator_class, "check_schema", classmethod(lambda cls, s: checks.append(s) or None)
    )
    for _ in range(5):
        action._validate_action_result(GOOD)
    assert checks == []


def test_it_is_the_installed_check() -> None:
    patches.install()
    assert RemoteAction._validate_action_result is action_validation.validate_action_result
