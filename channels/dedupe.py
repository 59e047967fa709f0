"""Handle each webhook delivery once: a shared record of the event ids already claimed.

Chat platforms deliver an event again when they did not get a quick 2xx (Slack retries up to
three times, with ``X-Slack-Retry-Num``), and behind a load balancer the copies can reach
different bot processes. A channel claims an event's id before handling it; only the first claim
within ``ttl`` seconds wins, so the person gets one reply.

- ``RedisDedupe``: ``SET key 1 NX EX ttl`` in a Redis every bot process shares. If Redis cannot be
  reached, it falls back to this process's memory and says so in the log: a rare duplicate reply
  is better than silence for someone reporting an emergency.
- ``MemoryDedupe``: an in-process TTL cache; enough for a single bot process.

``from_env`` picks one from environment variables, so every channel configures it the same way.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

# Slack's last retry comes about five minutes after the first delivery; an hour leaves room for
# a slow queue without keeping ids for long.
DEFAULT_TTL_SECONDS = 3600
DEFAULT_MAX_KEYS = 100_000
# How often, at most, the log repeats that Redis cannot be reached.
WARN_EVERY_SECONDS = 60.0


class Dedupe(Protocol):
    """Something that remembers claimed keys for a while."""

    async def claim(self, key: str) -> bool:
        """True the first time ``key`` is claimed within the TTL, False for every repeat."""
        ...

    async def close(self) -> None: ...


class MemoryDedupe:
    """Claimed keys in this process's memory, forgotten after ``ttl`` seconds.

    The oldest keys are dropped first when more than ``max_keys`` are held, so a flood of events
    cannot grow the process without bound.
    """

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.ttl = ttl
        self.max_keys = max_keys
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def claim_now(self, key: str) -> bool:
        """The synchronous claim (atomic within one event loop, as it never awaits)."""
        now = self._clock()
        # Every key lives for the same ttl, so insertion order is expiry order.
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)
        if key in self._expiry:
            return False
        self._expiry[key] = now + self.ttl
        while len(self._expiry) > self.max_keys:
            self._expiry.popitem(last=False)
        return True

    async def claim(self, key: str) -> bool:
        return self.claim_now(key)

    async def close(self) -> None:
        self._expiry.clear()

    def __repr__(self) -> str:
        return f"MemoryDedupe(ttl={self.ttl:g})"


class RedisDedupe:
    """Claimed keys in Redis (``SET NX EX``), shared by every process using the same Redis.

    The client is created on first use, inside the server's event loop.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str,
        ttl: int = DEFAULT_TTL_SECONDS,
        fallback: MemoryDedupe | None = None,
        client: Any = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.url = url
        self.namespace = namespace
        self.ttl = int(ttl)
        self.fallback = fallback or MemoryDedupe(ttl)
        self._client = client
        self._last_warning = -WARN_EVERY_SECONDS

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio as redis

            self._client = redis.Redis.from_url(
                self.url, socket_timeout=2, socket_connect_timeout=2
            )
        return self._client

    def key(self, key: str) -> str:
        return f"{self.namespace}:dedupe:{key}"

    async def claim(self, key: str) -> bool:
        from redis.exceptions import RedisError

        try:
            created = await self._redis().set(self.key(key), b"1", nx=True, ex=self.ttl)
        except (RedisError, OSError) as error:
            now = time.monotonic()
            if now - self._last_warning >= WARN_EVERY_SECONDS:
                self._last_warning = now
                logger.warning(
                    "Cannot reach Redis at %s to deduplicate events (%s); using this process's "
                    "memory until it is back, so another process may answer a repeat.",
                    redacted(self.url),
                    type(error).__name__,
                )
            return self.fallback.claim_now(key)
        # A claim that worked is also remembered locally, so a repeat during a Redis outage
        # that reaches this process is still recognised.
        self.fallback.claim_now(key)
        return bool(created)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def __repr__(self) -> str:
        return f"RedisDedupe({redacted(self.url)}, namespace={self.namespace!r}, ttl={self.ttl})"


def redacted(url: str) -> str:
    """A Redis URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + host).geturl()


def from_env(
    namespace: str,
    variables: Sequence[str] = ("REDIS_URL",),
    *,
    ttl: int = DEFAULT_TTL_SECONDS,
    env: Mapping[str, str] | None = None,
) -> Dedupe:
    """Redis from the first non-empty variable in ``variables``, else this process's memory."""
    env = os.environ if env is None else env
    for name in variables:
        url = (env.get(name) or "").strip()
        if url:
            return RedisDedupe(url, namespace=namespace, ttl=ttl)
    return MemoryDedupe(ttl)
