"""When the action server is down, Rasa itself answers: an apology, and the emergency advice when
the message carried a red flag. No servers needed: the action endpoint is a closed port or a small
in-process HTTP server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, ActionExtractSlots, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from scripts.processes import free_port
from stores import patches, resilience

DOMAIN = Domain.load("domain.yml")
NLG = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
RED_FLAG = "i cant feel the toilet paper when i wipe"

patches.install()


def closed_endpoint() -> EndpointConfig:
    return EndpointConfig(url=f"http://127.0.0.1:{free_port()}/webhook")


def tracker(text: str, red_flag_level: str | None, with_analysis: bool = True) -> Any:
    parse_data: dict[str, Any] = {"intent": {"name": "describe_symptoms", "confidence": 1.0}}
    if with_analysis:
        parse_data["understanding"] = {"level": red_flag_level, "red_flags": []}
    events = [
        ActionExecuted("action_listen"),
        UserUttered(text, parse_data["intent"], parse_data=parse_data),
    ]
    return DialogueStateTracker.from_events("someone", events, slots=DOMAIN.slots)


def run(action: Any, conversation: Any) -> list[Any]:
    return asyncio.run(action.run(CollectingOutputChannel(), NLG, conversation, DOMAIN))


def texts(events: list[Any]) -> list[str]:
    return [e.text for e in events if isinstance(e, BotUttered) and e.text]


def test_a_red_flag_gets_the_emergency_advice_when_the_action_server_is_down() -> None:
    events = run(
        RemoteAction("action_turn", closed_endpoint()),
        tracker(RED_FLAG, "emergency"),
    )
    said = texts(events)
    assert said[0].startswith("EMERGENCY:")
    assert any("Sorry" in t for t in said)
    payloads = [e.data["custom"] for e in events if e.data.get("custom")]
    assert payloads and payloads[0]["type"] == "triage" and payloads[0]["level"] == "emergency"
    assert all(e.metadata.get(resilience.MARKER) for e in events)


def test_without_a_red_flag_the_person_gets_an_apology_and_the_emergency_signs() -> None:
    events = run(
        RemoteAction("action_turn", closed_endpoint()),
        tracker("what is sciatica?", None),
    )
    said = texts(events)
    assert said[0].startswith("Sorry")
    assert "emergency" in said[1]
    assert not any(e.data.get("custom") for e in events)


def test_a_message_the_nlu_did_not_analyse_is_checked_by_the_detector() -> None:
    events = run(
        RemoteAction("action_turn", closed_endpoint()),
        tracker(RED_FLAG, None, with_analysis=False),
    )
    assert texts(events)[0].startswith("EMERGENCY:")


def test_the_apology_comes_once_per_message() -> None:
    endpoint = closed_endpoint()
    conversation = tracker("what is sciatica?", None)
    conversation.update_with_events(run(RemoteAction("action_one", endpoint), conversation), DOMAIN)
    with pytest.raises(RasaException):
        run(RemoteAction("action_two", endpoint), conversation)


def test_the_slot_mapping_call_is_left_to_rasa(caplog: pytest.LogCaptureFixture) -> None:
    """ActionExtractSlots keeps only slots, so the apology must come from the next action."""
    caplog.set_level(logging.ERROR, logger="stores.resilience")
    events = run(ActionExtractSlots(closed_endpoint()), tracker(RED_FLAG, "emergency"))
    assert not [e for e in events if isinstance(e, BotUttered)]
    assert "Action server unavailable" not in caplog.text


def test_slot_mapping_calls_are_recognised_from_the_domain() -> None:
    with_mapping = Domain.from_dict(
        {
            "actions": ["action_fill_slot", "action_turn"],
            "slots": {
                "filled": {
                    "type": "text",
                    "mappings": [{"type": "custom", "action": "action_fill_slot"}],
                }
            },
        }
    )
    assert resilience.called_for_slot_mapping("action_fill_slot", with_mapping)
    assert resilience.called_for_slot_mapping("action_validate_slot_mappings", DOMAIN)
    # The project's own turn action is never a slot mapping: its failure gets the fallback.
    assert not resilience.called_for_slot_mapping("action_turn", DOMAIN)
    assert not resilience.called_for_slot_mapping("action_turn", with_mapping)


def serve(
    handler: Callable[[web.Request], Awaitable[web.Response]],
    scenario: Callable[[EndpointConfig], Awaitable[Any]],
) -> Any:
    """Runs ``scenario`` against a one-route action server answering with ``handler``."""

    async def main() -> Any:
        app = web.Application()
        app.router.add_post("/webhook", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            return await scenario(EndpointConfig(url=f"http://127.0.0.1:{port}/webhook"))
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def test_a_rejection_is_not_an_outage() -> None:
    async def reject(_: web.Request) -> web.Response:
        return web.json_response({"action_name": "action_x", "error": "not me"}, status=400)

    async def scenario(endpoint: EndpointConfig) -> None:
        with pytest.raises(ActionExecutionRejection):
            await RemoteAction("action_x", endpoint).run(
                CollectingOutputChannel(), NLG, tracker(RED_FLAG, "emergency"), DOMAIN
            )

    serve(reject, scenario)


def test_the_bot_answers_normally_as_soon_as_the_action_server_is_back() -> None:
    up = {"value": False}

    async def flaky(_: web.Request) -> web.Response:
        if not up["value"]:
            return web.json_response({"error": "starting"}, status=503)
        return web.json_response({"events": [], "responses": [{"text": "Sciatica is ..."}]})

    async def scenario(endpoint: EndpointConfig) -> tuple[list[str], list[str]]:
        action = RemoteAction("action_turn", endpoint)
        down = await action.run(
            CollectingOutputChannel(), NLG, tracker("what is sciatica?", None), DOMAIN
        )
        up["value"] = True
        back = await action.run(
            CollectingOutputChannel(), NLG, tracker("what is sciatica?", None), DOMAIN
        )
        return texts(down), texts(back)

    down, back = serve(flaky, scenario)
    assert down[0].startswith("Sorry")
    assert back == ["Sciatica is ..."]
