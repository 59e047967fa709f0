"""The running bot with Slack on, a stand-in for Slack's Web API, and a Redis of its own.

Slack's settings come from the ``channels.slack.SlackInput`` block of the repository's
credentials.yml (so the shipped configuration is what is tested), next to the REST channel.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.checkin import DAY_SECONDS_ENV
from scripts.processes import ROOT, Bot, free_port, start_bot, stop
from tests.slack.slack_api import SlackStandIn

SLACK_BLOCK = "channels.slack.SlackInput:"
PUBLIC_URL = "https://bot.example.org"


def shipped_slack_block() -> str:
    """The Slack block of credentials.yml, as written (``${VAR}`` and all)."""
    lines = (ROOT / "credentials.yml").read_text().splitlines()
    start = lines.index(SLACK_BLOCK)
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" "):  # the block ends at the next top-level line
            break
        block.append(line)
    return "\n".join(block).rstrip() + "\n"


def write_credentials(workdir: Path) -> Path:
    path = workdir / "credentials.yml"
    path.write_text("channels.rest.RestInput:\n" + shipped_slack_block())
    return path


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of the tests' own (no data on disk), like the one the bot processes share."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (Debian: apt-get install redis-server)"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=(workdir / "redis.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            assert process.poll() is None and time.monotonic() < deadline, "Redis did not start"
            time.sleep(0.1)
    yield url
    client.close()
    stop(process)


@pytest.fixture(scope="session")
def slack_api() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture(scope="session")
def slack_env(slack_api: SlackStandIn, redis_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-" + secrets.token_hex(12),
        "SLACK_SIGNING_SECRET": secrets.token_hex(16),
        "SLACK_API_URL": slack_api.url,
        "SLACK_DEDUPE_REDIS_URL": redis_url,
        "BOT_PUBLIC_URL": PUBLIC_URL,
    }


@pytest.fixture(scope="session")
def slack_bot(tmp_path_factory: pytest.TempPathFactory, slack_env: dict[str, str]) -> Iterator[Bot]:
    workdir = tmp_path_factory.mktemp("slack")
    # a check-in "day" lasts a second, so a check-in comes within the test
    env = {**slack_env, DAY_SECONDS_ENV: "1"}
    bot = start_bot(workdir, credentials=write_credentials(workdir), env=env)
    yield bot
    bot.stop()
