"""A Redis lock store that stays correct when several Rasa servers share it.

Rasa makes the messages of one conversation wait for each other with a *ticket lock*: each
message draws a numbered ticket, and only the oldest live ticket may be processed. Rasa 3.6's
``RedisLockStore`` draws a ticket by reading the conversation's lock from Redis, adding the ticket
in Python and writing the lock back (rasa #9213). Two servers doing that at the same moment read
the same lock and both write it back: both get the same ticket number, or one ticket disappears.
Either way two messages of one conversation are processed at once, and the tracker store ends up
with interleaved, lost or duplicated events.

This store keeps Rasa's lock format (the same JSON value, read by Rasa's own ``TicketLock``) but
runs every read-modify-write inside Redis as a Lua script (redis-py's ``Script``: EVALSHA, EVAL
after a Redis restart). Redis runs a script atomically, so issuing a ticket, returning one and
dropping expired ones can no longer interleave, whichever server or thread calls them. Each lock
key also gets an expiry, so a lock left by a crashed server disappears by itself.

When Redis cannot be reached the store logs one clear error and raises ``LockStoreUnavailable``
(a Rasa ``LockError``); the REST channel turns it into an apology and the emergency advice.

Configured in an endpoints file::

    lock_store:
      type: stores.lock_store.AtomicRedisLockStore
      url: redis://127.0.0.1:6379/1    # or a host name, with port/db/password as below
      key_prefix: sciatica             # optional; keys are "<prefix>:lock:{<conversation id>}"
      # port: 6379, db: 1, password: ${REDIS_PASSWORD}, use_ssl: false,
      # socket_timeout: 5, poll_interval: 0.1
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from stores import patches

logger = logging.getLogger(__name__)

DEFAULT_URL = "redis://127.0.0.1:6379/1"
DEFAULT_PREFIX = "sciatica"
# Seconds a waiting message sleeps between looks at the lock (Rasa's default is 1 s, which adds
# up to a second to every message that had to wait).
DEFAULT_POLL_INTERVAL = 0.1
# A lock key outlives its last ticket by this much, so a crashed server leaves nothing behind.
KEY_GRACE_MS = 1000

# Shared by the scripts: the live tickets of the lock at KEYS[1] (expired ones dropped) and how
# to write them back (the key is deleted when none is left). ARGV[1] is the caller's clock, as in
# Rasa's TicketLock, which compares ``expires`` with the local time.
_LUA_COMMON = """
local now = tonumber(ARGV[1])
local function live_tickets()
  local raw = redis.call('GET', KEYS[1])
  local tickets = {}
  if raw then
    local lock = cjson.decode(raw)
    if type(lock['tickets']) == 'table' then
      for _, item in ipairs(lock['tickets']) do
        local ticket = item
        if type(item) == 'string' then ticket = cjson.decode(item) end
        if tonumber(ticket['expires']) >= now then table.insert(tickets, ticket) end
      end
    end
  end
  return tickets
end
local function store(tickets, conversation_id)
  if #tickets == 0 then
    redis.call('DEL', KEYS[1])
    return 0
  end
  local encoded, last_expiry = {}, now
  for i, ticket in ipairs(tickets) do
    encoded[i] = cjson.encode({number = ticket['number'], expires = ticket['expires']})
    if tonumber(ticket['expires']) > last_expiry then last_expiry = tonumber(ticket['expires']) end
  end
  local ttl = math.ceil((last_expiry - now) * 1000) + tonumber(ARGV[2])
  local value = cjson.encode({conversation_id = conversation_id, tickets = encoded})
  redis.call('SET', KEYS[1], value, 'PX', ttl)
  return #tickets
end
"""

# KEYS[2] counts the conversation's tickets. Numbers never repeat (for a day), so a server that
# outlived its ticket cannot return somebody else's ticket of the same number.
# ARGV: now, grace ms, conversation id, lifetime. Returns the new ticket's number.
_ISSUE = (
    _LUA_COMMON
    + """
local tickets = live_tickets()
local number = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
table.insert(tickets, {number = number, expires = now + tonumber(ARGV[4])})
store(tickets, ARGV[3])
return number
"""
)

# ARGV: now, grace ms, conversation id, ticket number. Returns how many tickets are left
# (0: the lock was deleted, nobody is waiting).
_RETURN = (
    _LUA_COMMON
    + """
local kept = {}
for _, ticket in ipairs(live_tickets()) do
  if ticket['number'] ~= tonumber(ARGV[4]) then table.insert(kept, ticket) end
end
return store(kept, ARGV[3])
"""
)

# ARGV: now, grace ms, conversation id. Drops expired tickets; returns how many are left.
_PRUNE = (
    _LUA_COMMON
    + """
return store(live_tickets(), ARGV[3])
"""
)


class LockStoreUnavailable(LockError):
    """Redis cannot be reached, so no message can be processed safely."""


class AtomicRedisLockStore(LockStore):
    """Rasa's ticket lock in Redis, with every ticket change done atomically by a Lua script."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **settings: Any) -> None:
        # Rasa builds the lock store in every Rasa process of a scaled setup: the patches are
        # installed here too, for a setup that pairs this lock store with another tracker store.
        patches.install()
        config: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        if endpoint_config is not None and endpoint_config.url:
            config.setdefault("url", endpoint_config.url)
        config.update(settings)
        url = str(config.pop("url", None) or DEFAULT_URL)
        prefix = str(config.pop("key_prefix", None) or DEFAULT_PREFIX)
        self.poll_interval = float(config.pop("poll_interval", DEFAULT_POLL_INTERVAL))
        self.key_prefix = f"{prefix}:lock:"
        self.red = _client(url, config)
        self.where = _describe(self.red)
        self._issue = self.red.register_script(_ISSUE)
        self._return = self.red.register_script(_RETURN)
        self._prune = self.red.register_script(_PRUNE)
        super().__init__()

    def _key(self, conversation_id: str) -> str:
        # The braces are a Redis Cluster hash tag: a lock and its counter live on the same node.
        return f"{self.key_prefix}{{{conversation_id}}}"

    def _run(self, what: str, call: Any) -> Any:
        """Runs one Redis call; an unreachable Redis becomes one clear error in the log."""
        try:
            return call()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            logger.error(
                "Lock store: Redis at %s is unreachable while trying to %s (%s: %s). Messages "
                "cannot be processed until it is back.",
                self.where,
                what,
                type(error).__name__,
                error,
            )
            raise LockStoreUnavailable(
                f"The lock store (Redis at {self.where}) is unreachable: {error}"
            ) from error
        except redis.exceptions.RedisError as error:
            logger.error(
                "Lock store: Redis at %s refused to %s (%s: %s).",
                self.where,
                what,
                type(error).__name__,
                error,
            )
            raise LockError(f"The lock store (Redis at {self.where}) failed: {error}") from error

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Draws the next ticket for the conversation in one atomic step."""
        number = self._run(
            "issue a ticket",
            lambda: self._issue(
                keys=[self._key(conversation_id), self._key(conversation_id) + ":seq"],
                args=[repr(time.time()), KEY_GRACE_MS, conversation_id, float(lock_lifetime)],
            ),
        )
        return int(number)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Returns a ticket; the lock is deleted in the same step when nobody else waits."""
        self._run(
            "return a ticket",
            lambda: self._return(
                keys=[self._key(conversation_id)],
                args=[repr(time.time()), KEY_GRACE_MS, conversation_id, int(ticket_number)],
            ),
        )

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Rasa's version returns the ticket, then looks whether someone waits, then deletes the
        # lock: a ticket drawn in between is deleted with it. Here it is one step.
        self.finish_serving(conversation_id, ticket_number)

    def update_lock(self, conversation_id: str) -> None:
        self._run(
            "drop expired tickets",
            lambda: self._prune(
                keys=[self._key(conversation_id)],
                args=[repr(time.time()), KEY_GRACE_MS, conversation_id],
            ),
        )

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        raw = self._run("read a lock", lambda: self.red.get(self._key(conversation_id)))
        if not raw:
            return None
        return TicketLock.from_dict(json.loads(raw))

    def delete_lock(self, conversation_id: str) -> None:
        deleted = self._run("delete a lock", lambda: self.red.delete(self._key(conversation_id)))
        self._log_deletion(conversation_id, bool(deleted))

    def save_lock(self, lock: TicketLock) -> None:
        """Overwrites a whole lock (Rasa's interface; this store itself never needs it)."""
        expiries = [ticket.expires for ticket in lock.tickets]
        ttl_ms = int(max(0.0, max(expiries, default=0.0) - time.time()) * 1000) + KEY_GRACE_MS
        self._run(
            "save a lock",
            lambda: self.red.set(self._key(lock.conversation_id), lock.dumps(), px=ttl_ms),
        )

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ticket lock, looking at the queue every ``poll_interval`` seconds."""
        wait = self.poll_interval if wait_time_in_seconds is None else wait_time_in_seconds
        async with super().lock(conversation_id, lock_lifetime, wait) as ticket_lock:
            yield ticket_lock


def _client(url: str, config: dict[str, Any]) -> redis.Redis:
    """A Redis client from a URL, or from a host name plus port/db/password like Rasa's store."""
    timeouts = {
        "socket_timeout": float(config.pop("socket_timeout", 5)),
        "socket_connect_timeout": float(config.pop("socket_connect_timeout", 2)),
        "health_check_interval": int(config.pop("health_check_interval", 30)),
    }
    password = config.pop("password", None) or None
    username = config.pop("username", None) or None
    if "://" in url:
        extra = {k: v for k, v in (("password", password), ("username", username)) if v}
        return redis.Redis.from_url(url, **timeouts, **extra)
    use_ssl = str(config.pop("use_ssl", False)).lower() in {"1", "true", "yes"}
    ssl = {
        name: config.pop(name)
        for name in ("ssl_certfile", "ssl_keyfile", "ssl_ca_certs")
        if config.get(name)
    }
    return redis.Redis(
        host=url,
        port=int(config.pop("port", 6379) or 6379),
        db=int(config.pop("db", 1) or 1),
        username=username,
        password=password,
        ssl=use_ssl,
        **ssl,
        **timeouts,
    )


def _describe(client: redis.Redis) -> str:
    """Where the client points, without the password (for logs and error messages)."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
