"""Tenants' tables in Redis: the shared store's Store, with the same calls as sandbox.core.store.

Layout per tenant (keys start `rsbx:{tenant}:`): one hash per table (`h:<provider>:<table>`,
document key -> JSON; an unkeyed table's key is its document id) and one sorted set beside it
(`o:...`, the same keys scored by document id, so pages and `all()` keep insertion order), a
hash of id counters (`ids`), the set of every key the tenant wrote (`keys`), the `loaded`
marker and the `lock`. A tenant is copied from the fixtures into Redis the first time any
process uses it.

A transaction takes the tenant's lock in this process (threads queue here, not in Redis) and
then in Redis (SET NX with an expiry, so a process that dies cannot hold it for ever), reads
what it needs, and commits every staged write with one Lua script that first checks the lock
is still its own: all or nothing, whichever process runs it. Reads outside a transaction take
no lock; each read is one script, atomic on its own. A reset deletes every key of the tenant
in one script, so the next request of any process starts again from the fixtures.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from redis.exceptions import ResponseError

from sandbox.core.shared.link import PREFIX, Link, Script, StoreDown, dumps, tenant_key
from sandbox.core.store import Tx
from sandbox.core.tables import pack, unpack

LOCK_MS = 10_000  # how long a tenant's lock outlives a process that died holding it
LOCK_WAIT = 10.0  # seconds a transaction waits for the tenant's lock before answering 503
TENANTS = PREFIX + "tenants"

# KEYS: lock, loaded. ARGV: token, ttl ms. 0: busy; 1: locked, tenant not loaded; 2: locked, loaded.
LOCK = Script("""
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 + redis.call('EXISTS', KEYS[2]) end
return 0""")
UNLOCK = Script("if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1")
# KEYS: lock, loaded, keys, ids, tenants. ARGV: token, ops JSON, mark loaded (1/0), tenant.
# op: [kind, hash, zset, counter, key, doc, id]; kind p: put by key, a: append, d: delete, l: load with id.
COMMIT = Script("""
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('LOCKLOST tenant lock expired') end
for _, op in ipairs(cjson.decode(ARGV[2])) do
  local kind, h, o, c, key = op[1], op[2], op[3], op[4], op[5]
  if kind == 'd' then
    redis.call('HDEL', h, key); redis.call('ZREM', o, key)
  else
    if kind == 'l' then
      redis.call('ZADD', o, op[7], key)
      if op[7] > tonumber(redis.call('HGET', KEYS[4], c) or '0') then redis.call('HSET', KEYS[4], c, op[7]) end
    elseif kind == 'a' or not redis.call('ZSCORE', o, key) then
      local id = redis.call('HINCRBY', KEYS[4], c, 1)
      if kind == 'a' then key = tostring(id) end
      redis.call('ZADD', o, id, key)
    end
    redis.call('HSET', h, key, op[6])
    redis.call('SADD', KEYS[3], h, o)
  end
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[2], '1'); redis.call('SADD', KEYS[3], KEYS[4]); redis.call('SADD', KEYS[5], ARGV[4])
end
redis.call('DEL', KEYS[1])
return 1""")
# KEYS: lock, loaded, keys. ARGV: token.
RESET = Script("""
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('LOCKLOST tenant lock expired') end
for _, k in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('DEL', k) end
redis.call('DEL', KEYS[3], KEYS[2], KEYS[1])
return 1""")
# KEYS: loaded, hash. ARGV: key. {loaded, doc or ''}
GET = Script("""
local doc = redis.call('HGET', KEYS[2], ARGV[1])
return {redis.call('EXISTS', KEYS[1]), doc or ''}""")
# KEYS: loaded, hash, zset. ARGV: offset, limit (-1: all, oldest first). {loaded, count, docs...}
PAGE = Script("""
local out = {redis.call('EXISTS', KEYS[1]), redis.call('ZCARD', KEYS[3])}
local limit = tonumber(ARGV[2])
if limit == 0 then return out end
local keys
if limit < 0 then keys = redis.call('ZRANGE', KEYS[3], 0, -1)
else keys = redis.call('ZREVRANGE', KEYS[3], ARGV[1], tonumber(ARGV[1]) + limit - 1) end
for i = 1, #keys, 1000 do
  for _, doc in ipairs(redis.call('HMGET', KEYS[2], unpack(keys, i, math.min(i + 999, #keys)))) do
    out[#out + 1] = doc
  end
end
return out""")


class _NotLoaded(Exception):
    """A lock-free read found the tenant absent (new, or just reset): load it, read again."""


class SharedTenant:
    """One tenant as a transaction sees it: reads go to Redis."""

    def __init__(self, store: SharedStore, name: str) -> None:
        self.store, self.name = store, name

    def fetch(self, provider: str, table: str, key: str) -> dict | None:
        loaded, doc = self.store.link.run(GET, [self.store.key(self.name, "loaded"),
                                                self.store.table_key(self.name, "h", provider, table)], [key])
        if not loaded:
            raise _NotLoaded
        return json.loads(doc) if doc else None

    def table_raw(self, provider: str, table: str) -> dict[str, Any]:
        """Every document of the table, oldest first (what `Tx.all` reads)."""
        docs, _ = self.store.fetch_page(self.name, provider, table, 0, -1)
        return {str(n): pack(doc) for n, doc in enumerate(docs)}  # packed, as Tx.all reads a table


class SharedTx(Tx):
    """`Tx` over Redis: reads fetch from Redis; `ops()` says what the commit script writes."""

    def get(self, table: str, key: str) -> dict | None:
        key = str(key)
        if (table, key) in self._staged:
            return super().get(table, key)  # the staged version, unpacked
        self._key_field(table)
        return self._state.fetch(self.provider, table, key)

    def ops(self) -> list[list]:  # type: ignore[override]
        store, tenant, provider = self._state.store, self.tenant, self.provider
        ops: list[list] = []
        for (table, key), doc in self._staged.items():
            ops.append(["d" if doc is None else "p", *store.table_keys(tenant, provider, table), key,
                        "" if doc is None else dumps(unpack(doc)), 0])
        for table, doc in self._inserts:
            ops.append(["a", *store.table_keys(tenant, provider, table), "", dumps(unpack(doc)), 0])
        return ops


class SharedStore:
    """Every tenant's tables in one Redis, shared by every process pointed at it."""

    def __init__(self, link: Link, fixtures: Mapping[str, dict], keys: Mapping[str, Mapping[str, str | None]]) -> None:
        self.link = link
        self.keys = {provider: dict(k) for provider, k in keys.items()}
        self.data_dir = None
        self.lock_ms = LOCK_MS
        self._fixtures = {provider: json.dumps(tables) for provider, tables in fixtures.items()}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.after_load: Callable[[], None] | None = None  # in-process heap freezing: nothing to do here
        self.notifier: Callable[[str, str, str, dict, Any], Any] | None = None

    # keys -----------------------------------------------------------------------------------

    @staticmethod
    def key(tenant: str, name: str) -> str:
        return tenant_key(tenant, name)

    @staticmethod
    def table_key(tenant: str, kind: str, provider: str, table: str) -> str:
        return tenant_key(tenant, kind, provider, table)

    def table_keys(self, tenant: str, provider: str, table: str) -> tuple[str, str, str]:
        """(documents hash, order zset, id counter field) of one table."""
        return (self.table_key(tenant, "h", provider, table), self.table_key(tenant, "o", provider, table),
                f"{provider}:{table}")

    def _fixture_ops(self, tenant: str) -> list[list]:
        ops = []
        for provider, text in self._fixtures.items():
            for table, docs in json.loads(text).items():
                key_field = self.keys.get(provider, {}).get(table)
                for doc_id, doc in docs.items():
                    key = str(doc[key_field]) if key_field else str(doc_id)
                    ops.append(["l", *self.table_keys(tenant, provider, table), key, dumps(doc), int(doc_id)])
        return ops

    # the tenant's lock ------------------------------------------------------------------------

    def _local_lock(self, tenant: str) -> threading.Lock:
        found = self._locks.get(tenant)
        if found is None:
            with self._locks_lock:
                found = self._locks.setdefault(tenant, threading.Lock())
        return found

    @contextmanager
    def _locked(self, tenant: str) -> Iterator[list[str]]:
        """Hold the tenant's lock (this process's, then Redis's), the tenant loaded; yields
        [token]. A commit that releases the lock empties the list; else it is released here."""
        with self._local_lock(tenant):
            token, lock, loaded = secrets.token_hex(8), self.key(tenant, "lock"), self.key(tenant, "loaded")
            held = [token]
            deadline, pause = time.monotonic() + LOCK_WAIT, 0.0005
            while not (state := self.link.run(LOCK, [lock, loaded], [token, self.lock_ms])):
                if time.monotonic() > deadline:
                    raise StoreDown(self.link.url, f"tenant {tenant!r} stayed locked for {LOCK_WAIT:.0f} s")
                time.sleep(pause)
                pause = min(pause * 2, 0.01)
            try:
                if state == 1:  # first use since start or reset: copy the fixtures in (the lock is kept)
                    self._commit(tenant, token, self._fixture_ops(tenant), load=True, release=False)
                yield held
            finally:
                if held:
                    with suppress(StoreDown):  # else the lock expires by itself
                        self.link.run(UNLOCK, [lock], [token])

    def _commit(self, tenant: str, token: str, ops: list[list], *, load: bool = False, release: bool = True) -> None:
        keys = [self.key(tenant, "lock"), self.key(tenant, "loaded"), self.key(tenant, "keys"),
                self.key(tenant, "ids"), TENANTS]
        try:
            self.link.run(COMMIT if release else _COMMIT_KEEP, keys, [token, json.dumps(ops), int(load), tenant],
                          slow=load)
        except ResponseError as exc:
            if "LOCKLOST" in str(exc):
                raise StoreDown(self.link.url, f"tenant {tenant!r}: its lock expired before the commit") from None
            raise

    # the Store's calls ------------------------------------------------------------------------

    def tenant(self, name: str) -> SharedTenant:
        """The tenant, copied from the fixtures into Redis if no process has used it yet."""
        if not self.link.call("exists", self.key(name, "loaded")):
            with self._locked(name):
                pass
        return SharedTenant(self, name)

    def tenants(self) -> list[str]:
        return sorted(self.link.call("smembers", TENANTS))

    @contextmanager
    def transaction(self, tenant: str, provider: str) -> Iterator[Tx]:
        """Stage writes in the block; commit them all (one script) if it ends cleanly, none if it raises."""
        with self._locked(tenant) as held:
            tx = SharedTx(SharedTenant(self, tenant), provider, self.keys.get(provider, {}))  # type: ignore[arg-type]
            yield tx
            ops = tx.ops()
            if ops:
                self._commit(tenant, held[0], ops)
                held.clear()
        if self.notifier is not None:
            for kind, payload, now in tx.notifications:
                self.notifier(tenant, provider, kind, payload, now)

    def read(self, tenant: str, provider: str, fn: Callable[[Tx], Any]) -> Any:
        """Run `fn` on a read-only view (no lock: each read is atomic on its own)."""
        for attempt in (1, 2):
            try:
                return fn(SharedTx(SharedTenant(self, tenant), provider, self.keys.get(provider, {})))  # type: ignore[arg-type]
            except _NotLoaded:
                if attempt == 2:
                    raise StoreDown(self.link.url, f"tenant {tenant!r} was reset again while being read") from None
                self.tenant(tenant)
        return None  # pragma: no cover

    def fetch_page(self, tenant: str, provider: str, table: str, offset: int, limit: int) -> tuple[list[dict], int]:
        for attempt in (1, 2):
            keys = [self.key(tenant, "loaded"), *self.table_keys(tenant, provider, table)[:2]]
            loaded, count, *docs = self.link.run(PAGE, keys, [offset, limit])
            if loaded:
                return [json.loads(doc) for doc in docs if doc], count
            if attempt == 1:
                self.tenant(tenant)
        raise _NotLoaded

    def page(self, tenant: str, provider: str, table: str, offset: int, limit: int) -> tuple[list[dict], int]:
        """(one page of a table, newest first; how many documents it holds)."""
        return self.fetch_page(tenant, provider, table, offset, limit)

    def reset(self, tenant: str) -> None:
        """Delete every key of the tenant at once: every process's next request starts again
        from the fixtures."""
        with self._locked(tenant) as held:
            self.link.run(RESET, [self.key(tenant, "lock"), self.key(tenant, "loaded"), self.key(tenant, "keys")],
                          held, slow=True)
            held.clear()

    def close(self) -> None:
        """Nothing to flush: every commit is in Redis already."""


# COMMIT without releasing the lock (the fixture load at the start of a transaction).
_COMMIT_KEEP = Script(COMMIT.text.replace("redis.call('DEL', KEYS[1])\nreturn 1", "return 1"))
