"""The dedupe store: each event is handled once, across retries and across processes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from channels.dedupe import MemoryDedupe, RedisDedupe, from_env, redacted


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeRedis:
    """SET with NX and EX, as Redis does it (without expiry: the TTL is only recorded)."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.ttls: dict[str, int] = {}

    async def set(self, key: str, value: bytes, *, nx: bool, ex: int) -> bool | None:
        if nx and key in self.values:
            return None
        self.values[key], self.ttls[key] = value, ex
        return True

    async def close(self) -> None:
        pass


class DownRedis:
    async def set(self, *_: Any, **__: Any) -> None:
        raise RedisConnectionError("Connection refused")


def test_memory_claims_a_key_once_until_it_expires() -> None:
    clock = FakeClock()
    store = MemoryDedupe(60, clock=clock)

    async def scenario() -> list[bool]:
        first = await store.claim("event:Ev1")
        repeat = await store.claim("event:Ev1")
        other = await store.claim("event:Ev2")
        clock.now += 59
        still = await store.claim("event:Ev1")
        clock.now += 2
        later = await store.claim("event:Ev1")
        return [first, repeat, other, still, later]

    assert asyncio.run(scenario()) == [True, False, True, False, True]


def test_memory_drops_the_oldest_keys_beyond_its_limit() -> None:
    store = MemoryDedupe(3600, max_keys=3, clock=FakeClock())
    for key in ("a", "b", "c", "d"):
        assert store.claim_now(key)
    # "a" was forgotten to stay within 3 keys; the newer ones are still known.
    assert store.claim_now("a")
    assert not store.claim_now("d")


def test_memory_rejects_a_ttl_that_would_remember_nothing() -> None:
    with pytest.raises(ValueError):
        MemoryDedupe(0)


def test_redis_uses_set_nx_with_the_ttl_under_the_channels_namespace() -> None:
    client = FakeRedis()
    store = RedisDedupe("redis://localhost", namespace="slack", ttl=600, client=client)

    async def scenario() -> list[bool]:
        return [await store.claim("event:Ev1"), await store.claim("event:Ev1")]

    assert asyncio.run(scenario()) == [True, False]
    assert client.ttls == {"slack:dedupe:event:Ev1": 600}


def test_two_processes_sharing_redis_claim_a_key_once() -> None:
    shared = FakeRedis()
    first = RedisDedupe("redis://x", namespace="slack", client=shared)
    second = RedisDedupe("redis://x", namespace="slack", client=shared)

    async def scenario() -> list[bool]:
        return [await first.claim("event:Ev9"), await second.claim("event:Ev9")]

    assert asyncio.run(scenario()) == [True, False]


def test_without_redis_it_still_dedupes_in_this_process_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisDedupe("redis://:hunter2@cache:6379/0", namespace="slack", client=DownRedis())

    async def scenario() -> list[bool]:
        return [await store.claim("event:Ev1"), await store.claim("event:Ev1")]

    with caplog.at_level(logging.WARNING, logger="channels.dedupe"):
        assert asyncio.run(scenario()) == [True, False]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cache:6379" in warnings[0] and "hunter2" not in warnings[0]


def test_from_env_prefers_the_channels_own_redis_then_redis_url_then_memory() -> None:
    variables = ("SLACK_DEDUPE_REDIS_URL", "REDIS_URL")
    own = from_env(
        "slack", variables, env={"SLACK_DEDUPE_REDIS_URL": "redis://a", "REDIS_URL": "redis://b"}
    )
    shared = from_env(
        "slack", variables, env={"SLACK_DEDUPE_REDIS_URL": " ", "REDIS_URL": "redis://b"}
    )
    none = from_env("slack", variables, env={"SLACK_DEDUPE_REDIS_URL": "", "REDIS_URL": ""})
    assert isinstance(own, RedisDedupe) and own.url == "redis://a"
    assert isinstance(shared, RedisDedupe) and shared.url == "redis://b"
    assert isinstance(none, MemoryDedupe)


def test_redacted_hides_only_the_password() -> None:
    assert redacted("redis://user:secret@host:6380/1") == "redis://user:***@host:6380/1"
    assert redacted("redis://:secret@host/0") == "redis://:***@host/0"
    assert redacted("redis://host:6379/0") == "redis://host:6379/0"


@pytest.mark.integration
def test_a_real_redis_lets_one_of_many_concurrent_claims_win(redis_url: str) -> None:
    """Two processes' stores racing for the same event id: exactly one claim succeeds."""

    async def scenario() -> list[bool]:
        stores = [RedisDedupe(redis_url, namespace="dedupe-test", ttl=120) for _ in range(2)]
        try:
            return await asyncio.gather(*(stores[i % 2].claim("event:EvRace") for i in range(20)))
        finally:
            for store in stores:
                await store.close()

    assert sorted(asyncio.run(scenario())) == [False] * 19 + [True]
    client = redis.Redis.from_url(redis_url)
    try:
        assert 0 < client.ttl("dedupe-test:dedupe:event:EvRace") <= 120
    finally:
        client.close()
