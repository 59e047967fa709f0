"""Clients of the cluster for the tests: many people at once, each from their own address.

Linux routes all of 127.0.0.0/8 to loopback, so a client bound to 127.0.10.7 is, for nginx, a
different person than one bound to 127.0.10.8: that is how the tests give each simulated person
their own rate limit and their own socket.io replica.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

# One person's conversation: a symptom description, the screening questions, then questions.
SCRIPT = (
    "hi",
    "shooting pain down the back of my left leg for 3 weeks, worse when I sit, about 6/10",
    "no",
    "no",
    "no",
    "no",
    "no",
    "no",
    "no",
    "no",
    "what is sciatica?",
    "do I need an MRI?",
    "how do I do the nerve glide?",
    "how many reps?",
    "will it go away?",
    "can I see a physio without a referral?",
    "what about in pregnancy?",
    "what causes sciatica?",
    "thanks",
    "bye",
)

# Questions that each get an answer of their own (for many messages to one conversation).
QUESTIONS = (
    "what is sciatica?",
    "do I need an MRI?",
    "will it go away?",
    "how do I do the nerve glide?",
    "can I see a physio without a referral?",
    "what about in pregnancy?",
    "what causes sciatica?",
    "is walking good for sciatica?",
)


def address(group: int, index: int) -> str:
    """A loopback source address of its own for client ``index`` of a test ``group``."""
    return f"127.0.{group}.{index + 1}"


@dataclass
class Turn:
    message: str
    status: int
    replies: list[dict[str, Any]]
    seconds: float
    attempts: int = 1


@dataclass
class Conversation:
    sender: str
    source: str
    turns: list[Turn] = field(default_factory=list)

    @property
    def failures(self) -> list[Turn]:
        return [t for t in self.turns if t.status != 200 or not t.replies]


async def say(
    session: aiohttp.ClientSession, url: str, sender: str, message: str, timeout: float = 300
) -> tuple[int, list[dict[str, Any]]]:
    async with session.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as response:
        body = await response.text()
        try:
            replies = json.loads(body)
        except ValueError:
            replies = []
        return response.status, replies if isinstance(replies, list) else []


def session_from(source: str, limit: int = 4) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(local_addr=(source, 0), limit=limit, force_close=False)
    return aiohttp.ClientSession(connector=connector)


async def converse(
    url: str,
    sender: str,
    source: str,
    script: Sequence[str],
    *,
    retries: int = 0,
    retry_statuses: frozenset[int] = frozenset({502, 503, 504}),
) -> Conversation:
    """One person typing the script, one message after the other (waiting for each reply).

    With ``retries``, a message that failed because a server was down is sent again, as a person
    (or the chat widget) would after an error.
    """
    conversation = Conversation(sender, source)
    async with session_from(source) as session:
        for message in script:
            started = time.monotonic()
            attempts = 0
            while True:
                attempts += 1
                try:
                    status, replies = await say(session, url, sender, message)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    status, replies = 0, []
                if status == 200 or attempts > retries or (status and status not in retry_statuses):
                    break
                await asyncio.sleep(1)
            conversation.turns.append(
                Turn(message, status, replies, time.monotonic() - started, attempts)
            )
    return conversation


async def many(
    url: str, senders: Sequence[str], group: int, script: Sequence[str], **options: Any
) -> list[Conversation]:
    """Everyone at once, each from their own address."""
    return list(
        await asyncio.gather(
            *(
                converse(url, sender, address(group, i), script, **options)
                for i, sender in enumerate(senders)
            )
        )
    )


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
