"""The connection to the shared store (Redis), opened lazily in each process, and its failures.

`Link` holds the URL and makes one redis-py client per process id: `serve --workers N`
forks its workers after `create_app`, and a socket opened before the fork must never be used
by two processes, so a child asking for the client gets its own. Lua scripts are sent by
digest (EVALSHA, loaded again if Redis forgot them). `StoreDown` is what any call raises when
Redis does not answer; the pipeline turns it into a 503 in the owner's own format.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

#: Every key the sandbox writes starts with this, so one Redis can hold other data too.
PREFIX = "rsbx:"
#: Redis errors that mean "the store does not answer" (a Lua error or a bug is not one of them).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class StoreDown(Exception):
    """The shared store did not answer (or a tenant's lock could not be had in time).

    `sent`: the command may have reached Redis before the answer failed to come back (a
    timeout, or a connection lost mid-call), so whether it was applied is unknown."""

    def __init__(self, url: str, reason: str, sent: bool = False) -> None:
        super().__init__(f"the shared store at {url} does not answer ({reason})")
        self.url, self.reason, self.sent = url, reason, sent


def _down(url: str, exc: BaseException) -> StoreDown:
    refused = isinstance(exc, ConnectionRefusedError) or "refused" in str(exc).lower()
    return StoreDown(url, str(exc) or type(exc).__name__, sent=not refused)


def tenant_key(tenant: str, *parts: str) -> str:
    """A key of one tenant; `{tenant}` is a Redis Cluster hash tag, so a tenant's keys (and the
    scripts that touch several of them) stay on one node."""
    return f"{PREFIX}{{{tenant}}}:" + ":".join(parts)


def dumps(value: Any) -> str:
    """Compact JSON; Decimals as strings, as Flask's JSON provider writes them."""
    return json.dumps(value, separators=(",", ":"), default=lambda v: str(v) if isinstance(v, Decimal) else
                      _refuse(v))


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON-shaped")


class Script:
    """A Lua script, sent by its SHA1 digest (and loaded once when Redis does not know it)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    def __call__(self, client: redis.Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            client.script_load(self.text)
            return client.evalsha(self.sha, len(keys), *keys, *args)


class Link:
    """The shared store's URL and this process's clients."""

    #: Seconds a command may take: 1 for requests (a stalled Redis fails a request fast), 30 for
    #: the scripts that copy a tenant's fixtures in or delete it (thousands of documents).
    TIMEOUT_S, SLOW_TIMEOUT_S = 1, 30

    def __init__(self, url: str) -> None:
        self.url = url
        self._pid: int | None = None
        self._clients: dict[bool, redis.Redis] = {}

    def _client(self, slow: bool) -> redis.Redis:
        pid = os.getpid()
        if self._pid != pid:  # first use in this process (a forked worker included)
            self._clients, self._pid = {}, pid
        found = self._clients.get(slow)
        if found is None:
            # no retries: redis-py re-sends a command whose answer timed out, and Redis then
            # applies it twice (a clock moved twice, a commit applied under a 503)
            timeout = self.SLOW_TIMEOUT_S if slow else self.TIMEOUT_S
            found = self._clients[slow] = redis.Redis.from_url(
                self.url, decode_responses=True, socket_connect_timeout=1, socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0), health_check_interval=0)
        return found

    @property
    def client(self) -> redis.Redis:
        return self._client(False)

    def run(self, script: Script, keys: Sequence[str], args: Sequence[Any] = (), slow: bool = False) -> Any:
        """Run a Lua script (atomic in Redis: all of it or, when Redis is gone, none); `slow`
        for one that may take long (a tenant's fixtures copied in or deleted)."""
        try:
            return script(self._client(slow), keys, args)
        except UNREACHABLE as exc:
            raise _down(self.url, exc) from None

    def call(self, name: str, *args: Any) -> Any:
        """One Redis command, e.g. `link.call("hget", key, field)`."""
        try:
            return getattr(self.client, name)(*args)
        except UNREACHABLE as exc:
            raise _down(self.url, exc) from None

    def close(self) -> None:
        """Close this process's connections (a later call opens new ones)."""
        for client in self._clients.values():
            client.close()
        self._clients, self._pid = {}, None

    def check(self) -> None:
        """:raise StoreDown: Redis does not answer a PING."""
        self.call("ping")
