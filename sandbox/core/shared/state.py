"""Credentials, issued tokens, tenant clocks and webhook URLs in Redis, for the shared store.

The in-process classes (CredentialRegistry, TokenIssuer, Clock) keep their state in a dict;
here that dict is a `RedisMap` (a mutable mapping over one Redis hash), so their own code
runs unchanged and every process sees one registry, one set of tokens, one clock per tenant.
What must be atomic across processes is done by Redis itself: a clock moves with HINCRBY,
a token is stored and the oldest dropped past the bound in one script, the token serial is
one INCR.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.core.auth import CredentialRegistry, IssuedToken, Registration, TokenIssuer
from sandbox.core.clock import Clock
from sandbox.core.shared import memo
from sandbox.core.shared.link import PREFIX, Link, Script, StoreDown

TOKEN_LIMIT = 100_000  # as TokenIssuer: the oldest tokens go past this many

# KEYS: hash, order list. ARGV: field, value, limit.
BOUNDED_SET = Script("""
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
while redis.call('LLEN', KEYS[2]) > tonumber(ARGV[3]) do redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2])) end
return 1""")


class RedisMap(MutableMapping):
    """A dict over one Redis hash: keys and values through their codecs (text by default)."""

    def __init__(self, link: Link, key: str, *, encode_key: Callable[[Any], str] = str,
                 decode_key: Callable[[str], Any] = str, encode: Callable[[Any], str] = str,
                 decode: Callable[[str], Any] = str) -> None:
        self.link, self.key = link, key
        self._ek, self._dk, self._ev, self._dv = encode_key, decode_key, encode, decode

    def __getitem__(self, key: Any) -> Any:
        raw = self.link.call("hget", self.key, self._ek(key))
        if raw is None:
            raise KeyError(key)
        return self._dv(raw)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.link.call("hset", self.key, self._ek(key), self._ev(value))

    def __delitem__(self, key: Any) -> None:
        if not self.link.call("hdel", self.key, self._ek(key)):
            raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        return iter([self._dk(k) for k in self.link.call("hkeys", self.key)])

    def __len__(self) -> int:
        return int(self.link.call("hlen", self.key))

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self._dv(v) for v in self.link.call("hvals", self.key)]


class OrderedRedisMap(RedisMap):
    """A RedisMap that remembers insertion order and keeps at most `limit` entries, oldest out first."""

    def __init__(self, link: Link, key: str, limit: int, **codecs: Any) -> None:
        super().__init__(link, key, **codecs)
        self.order, self.limit = key + ":order", limit

    def __setitem__(self, key: Any, value: Any) -> None:
        self.link.run(BOUNDED_SET, [self.key, self.order], [self._ek(key), self._ev(value), self.limit])

    def __iter__(self) -> Iterator[Any]:
        return iter([self._dk(k) for k in self.link.call("lrange", self.order, 0, -1)])

    def values(self) -> list[Any]:  # type: ignore[override]
        fields = self.link.call("lrange", self.order, 0, -1)
        found = self.link.call("hmget", self.key, fields) if fields else []
        return [self._dv(v) for v in found if v is not None]


def _registration_out(reg: Registration) -> str:
    return json.dumps([reg.provider, reg.credential, reg.tenant, None if reg.scopes is None else sorted(reg.scopes)])


def _registration_in(raw: str) -> Registration:
    provider, credential, tenant, scopes = json.loads(raw)
    return Registration(provider, credential, tenant, None if scopes is None else frozenset(scopes))


class SharedCredentials(CredentialRegistry):
    """The credential registry, one for the fleet."""

    def __init__(self, link: Link) -> None:
        super().__init__(None)
        self._items = OrderedRedisMap(link, PREFIX + "credentials", 10**9, encode_key=json.dumps,  # type: ignore[assignment]
                                      decode_key=lambda k: tuple(json.loads(k)), encode=_registration_out,
                                      decode=_registration_in)


def _token_out(token: IssuedToken) -> str:
    return json.dumps([token.provider, token.tenant, None if token.scopes is None else sorted(token.scopes),
                       None if token.expires_at is None else token.expires_at.isoformat()])


def _token_in(raw: str) -> IssuedToken:
    provider, tenant, scopes, expires = json.loads(raw)
    return IssuedToken(provider, tenant, None if scopes is None else frozenset(scopes),
                       None if expires is None else datetime.fromisoformat(expires))


class _Serial:
    """`next()` gives the fleet's next token serial number."""

    def __init__(self, link: Link) -> None:
        self.link = link

    def __next__(self) -> int:
        return int(self.link.call("incr", PREFIX + "token_serial"))


class SharedTokens(TokenIssuer):
    """Issued tokens, valid in every process (looked up by the token itself, so each process
    may sign with its own secret)."""

    def __init__(self, link: Link) -> None:
        super().__init__()
        self._tokens = OrderedRedisMap(link, PREFIX + "tokens", TOKEN_LIMIT, encode=_token_out,  # type: ignore[assignment]
                                       decode=_token_in)
        self._serial = _Serial(link)  # type: ignore[assignment]


class SharedClock(Clock):
    """Tenant clocks every process agrees on: offsets in whole seconds in one hash.

    `now()` falls back on the offset this process saw last when Redis does not answer, so a
    request that already failed for that reason can still be journaled and logged."""

    key = PREFIX + "clock"

    def __init__(self, link: Link) -> None:
        super().__init__()
        self.link = link
        self._offsets = RedisMap(link, self.key, encode=lambda d: str(int(d.total_seconds())),  # type: ignore[assignment]
                                 decode=lambda s: timedelta(seconds=int(s)))
        self._seen: dict[str, timedelta] = {}
        self._seen_lock = threading.Lock()

    def offset(self, tenant: str) -> timedelta:
        found = memo.recall("clock", tenant)  # the request's snapshot (sandbox.core.shared.memo)
        if found is not None:
            return found
        try:
            found = super().offset(tenant)
        except StoreDown:
            return self._seen.get(tenant, timedelta(0))
        self._seen[tenant] = found
        return found

    def now(self, tenant: str = "default") -> datetime:
        return datetime.now(UTC) + self.offset(tenant)

    def advance(self, tenant: str, seconds: int) -> datetime:
        moved = timedelta(seconds=int(self.link.call("hincrby", self.key, tenant, seconds)))
        memo.remember("clock", tenant, moved)
        self._seen[tenant] = moved
        return datetime.now(UTC) + moved


def webhooks(link: Link) -> RedisMap:
    """tenant -> webhook URL, for the fleet."""
    return RedisMap(link, PREFIX + "webhooks")
