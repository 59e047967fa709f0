"""Who can reach what: the HTTP API needs a JWT, the action server needs Rasa's shared secret."""

from __future__ import annotations

import socket
import subprocess
import time

import jwt
import pytest
import requests

from scripts.processes import JWT_METHOD, Bot, api_token
from tests.security.conftest import ALLOWED_ORIGIN

pytestmark = pytest.mark.integration

API_ENDPOINTS = [
    ("GET", "/status"),
    ("GET", "/conversations/someone/tracker"),
    ("POST", "/model/parse"),
    ("POST", "/conversations/someone/messages"),
    ("GET", "/domain"),
]


@pytest.mark.parametrize(("method", "path"), API_ENDPOINTS)
def test_the_http_api_refuses_requests_without_a_token(bot: Bot, method: str, path: str) -> None:
    response = requests.request(method, bot.rasa_url + path, json={"text": "hi"}, timeout=30)
    assert response.status_code == 401


def _bad_token(kind: str, secret: str) -> str:
    user = {"username": "x", "role": "admin"}
    if kind == "wrong-secret":
        return api_token("not-the-secret-" * 4)
    if kind == "expired":
        return jwt.encode({"user": user, "exp": int(time.time()) - 3600}, secret, JWT_METHOD)
    if kind == "unsigned":
        return jwt.encode({"user": user}, None, algorithm="none")
    return "garbage.token.value"


@pytest.mark.parametrize("kind", ["wrong-secret", "expired", "unsigned", "garbage"])
def test_forged_or_expired_tokens_are_refused(bot: Bot, kind: str) -> None:
    headers = {"Authorization": f"Bearer {_bad_token(kind, bot.jwt_secret)}"}
    response = requests.get(f"{bot.rasa_url}/status", headers=headers, timeout=30)
    assert response.status_code == 401


def test_a_token_in_the_query_string_is_not_accepted(bot: Bot) -> None:
    token = api_token(bot.jwt_secret)
    response = requests.get(f"{bot.rasa_url}/status", params={"token": token}, timeout=30)
    assert response.status_code == 401


def test_an_admin_token_reaches_the_api(bot: Bot) -> None:
    response = requests.get(f"{bot.rasa_url}/status", headers=bot.auth(), timeout=30)
    assert response.status_code == 200


def test_a_user_token_reaches_only_its_own_conversation(bot: Bot, sender: str) -> None:
    bot.say(sender, "hello")
    mine = {"Authorization": f"Bearer {api_token(bot.jwt_secret, 'user', sender)}"}
    own = requests.get(f"{bot.rasa_url}/conversations/{sender}/tracker", headers=mine, timeout=30)
    other = requests.get(f"{bot.rasa_url}/conversations/other/tracker", headers=mine, timeout=30)
    assert own.status_code == 200
    assert other.status_code == 403


def test_cors_allows_only_the_configured_origins(bot: Bot) -> None:
    def preflight(origin: str) -> requests.Response:
        return requests.options(
            f"{bot.rasa_url}/webhooks/rest/webhook",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=30,
        )

    allowed = preflight(ALLOWED_ORIGIN)
    foreign = preflight("https://evil.example")
    assert allowed.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    assert foreign.headers.get("Access-Control-Allow-Origin") in (None, "")


@pytest.mark.parametrize("headers", [{}, {"X-Action-Token": "wrong"}], ids=["none", "wrong"])
def test_the_action_server_refuses_calls_without_rasas_secret(
    bot: Bot, headers: dict[str, str]
) -> None:
    call = {"next_action": "action_turn", "sender_id": "x", "tracker": {}, "domain": {}}
    webhook = requests.post(f"{bot.actions_url}/webhook", json=call, headers=headers, timeout=30)
    listing = requests.get(f"{bot.actions_url}/actions", headers=headers, timeout=30)
    assert webhook.status_code == 401
    assert listing.status_code == 401


def test_the_action_server_answers_rasas_secret(bot: Bot) -> None:
    headers = {"X-Action-Token": bot.action_token}
    response = requests.get(f"{bot.actions_url}/actions", headers=headers, timeout=30)
    assert response.status_code == 200
    assert {"name": "action_turn"} in response.json()


def _other_addresses() -> list[str]:
    output = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout
    return [a for a in output.split() if ":" not in a and not a.startswith("127.")]


def test_the_action_server_listens_on_loopback_only(bot: Bot) -> None:
    addresses = _other_addresses()
    assert addresses, "this machine has no other address to check from"
    for address in addresses:
        with socket.socket() as probe:
            probe.settimeout(3)
            assert probe.connect_ex((address, bot.actions_port)) != 0, address
    with socket.create_connection(("127.0.0.1", bot.actions_port), timeout=3):
        pass
