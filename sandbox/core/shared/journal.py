"""The request journal and the notification outbox in Redis: one stream per tenant, bounded.

Same calls and answers as sandbox.core.journal. Each tenant keeps its newest `limit` entries
(its stream is trimmed when it grows past that), and all tenants together at most `total`:
a fleet-wide stream of arrivals says whose entry is oldest, and the script that adds an entry
drops the oldest of any tenant while there are too many, as the in-process `Bounded` does.
Entry numbers (`req_N`, `ntf_N`) come from one counter, so they grow across every process.
Webhook delivery attempts are kept beside the outbox (a hash, item number -> attempts) and
leave with their item.

Recording never fails a request: when Redis is gone the entry is lost and a warning logged
(the request itself answers 503 wherever it needed the store).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sandbox.core.clock import isoformat_ms
from sandbox.core.journal import HTTP_SECRETS, Body, Secrets, _shown
from sandbox.core.shared.link import PREFIX, Link, Script, StoreDown, dumps, tenant_key

log = logging.getLogger("sandbox.store")

# KEYS: counter, tenant stream, arrivals stream, alive count, tenant side hash.
# ARGV: tenant, entry JSON, limit, total, key prefix of streams, stream suffix, side hash suffix.
ADD = Script("""
local function drop(stream, id, fields, side)
  redis.call('XDEL', stream, id)
  if side ~= '' then redis.call('HDEL', side, fields[2]) end
  return redis.call('DECR', KEYS[4])
end
local n = redis.call('INCR', KEYS[1])
local id = redis.call('XADD', KEYS[2], '*', 'n', n, 'e', ARGV[2])
redis.call('XADD', KEYS[3], '*', 't', ARGV[1], 'i', id)
local alive = redis.call('INCR', KEYS[4])
if redis.call('XLEN', KEYS[2]) > tonumber(ARGV[3]) then
  local old = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  alive = drop(KEYS[2], old[1], old[2], KEYS[5])
end
while alive > tonumber(ARGV[4]) do
  local arrival = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)[1]
  if not arrival then break end
  redis.call('XDEL', KEYS[3], arrival[1])
  local tenant, ref = arrival[2][2], arrival[2][4]
  local stream = ARGV[5] .. '{' .. tenant .. '}:' .. ARGV[6]
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
  if first and first[1] == ref then
    local side = ''
    if ARGV[7] ~= '' then side = ARGV[5] .. '{' .. tenant .. '}:' .. ARGV[7] end
    alive = drop(stream, ref, first[2], side)
  end
end
if redis.call('XLEN', KEYS[3]) > 2 * alive + 1000 then  -- arrivals of entries their tenant dropped
  redis.call('XTRIM', KEYS[3], 'MAXLEN', 2 * alive + 1000)
end
return n""")
# KEYS: tenant stream, alive count, side hash.
CLEAR = Script("""
local n = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[3])
if n > 0 then redis.call('DECRBY', KEYS[2], n) end
return n""")
# KEYS: side hash. ARGV: item number, attempt JSON.
ATTEMPT = Script("""
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then redis.call('HSET', KEYS[1], ARGV[1], string.sub(cur, 1, -2) .. ',' .. ARGV[2] .. ']')
else redis.call('HSET', KEYS[1], ARGV[1], '[' .. ARGV[2] .. ']') end
return 1""")


class SharedBounded:
    """One kind of bounded per-tenant entries (journal or outbox) in Redis."""

    def __init__(self, link: Link, kind: str, limit: int, total: int, side: str = "") -> None:
        self.link, self.kind, self.limit, self.total, self.side = link, kind, limit, total, side
        self._fleet = [PREFIX + f"{kind}:counter", PREFIX + f"{kind}:arrivals", PREFIX + f"{kind}:alive"]

    def add(self, tenant: str, entry: dict[str, Any]) -> int:
        """Keep the entry; its number (0: lost, because Redis did not answer; a warning is logged)."""
        try:
            return self._add(tenant, dumps(entry))
        except StoreDown as exc:
            log.warning("%s entry of tenant %s lost: %s", self.kind, tenant, exc)
            return 0

    def _add(self, tenant: str, entry_json: str) -> int:
        keys = [self._fleet[0], tenant_key(tenant, self.kind), self._fleet[1], self._fleet[2],
                tenant_key(tenant, self.side) if self.side else tenant_key(tenant, "none")]
        return int(self.link.run(ADD, keys, [tenant, entry_json, self.limit, self.total, PREFIX, self.kind,
                                             self.side]))

    def of(self, tenant: str) -> list[tuple[int, dict[str, Any]]]:
        """(number, entry) of the tenant, oldest first."""
        return [(int(fields["n"]), json.loads(fields["e"]))
                for _, fields in self.link.call("xrange", tenant_key(tenant, self.kind))]

    def size(self, tenant: str) -> int:
        return int(self.link.call("xlen", tenant_key(tenant, self.kind)))

    def clear(self, tenant: str) -> None:
        self.link.run(CLEAR, [tenant_key(tenant, self.kind), self._fleet[2],
                              tenant_key(tenant, self.side or "none")])


def _body_out(body: Body) -> dict[str, Any]:
    return {"raw": body.raw.decode("latin-1"), "size": body.size, "is_json": body.is_json}


def _body_in(stored: dict[str, Any]) -> Body:
    return Body(stored["raw"].encode("latin-1"), stored["size"], stored["is_json"])


class SharedJournal:
    """RequestJournal's calls over Redis streams."""

    def __init__(self, link: Link, limit: int = 1000, total: int = 20_000, secrets: Secrets | None = None) -> None:
        self._items = SharedBounded(link, "journal", limit, total)
        self.secrets = secrets or HTTP_SECRETS

    def record(self, tenant: str, entry: dict[str, Any]) -> dict[str, Any]:
        stored = {**entry, "request": {"headers": entry["request"]["headers"],
                                       "body": _body_out(entry["request"]["body"])},
                  "response": {"body": _body_out(entry["response"]["body"])}}
        return {"id": f"req_{self._items.add(tenant, stored)}", **entry}

    def size(self, tenant: str) -> int:
        return self._items.size(tenant)

    def query(self, tenant: str, *, provider: str | None = None, operation: str | None = None,
              status: int | None = None, since: str | None = None, limit: int = 50,
              offset: int = 0, where: Callable[[dict[str, Any]], bool] | None = None,
              ) -> tuple[list[dict[str, Any]], int]:
        """As RequestJournal.query: one page of matching entries, newest first, and the count."""
        hits = []
        for number, e in reversed(self._items.of(tenant)):
            if ((provider is None or e["provider"] == provider) and (operation is None or e["operation"] == operation)
                    and (status is None or e["status"] == status) and (since is None or e["time"] >= since)):
                e = {"id": f"req_{number}", **e, "request": {"headers": e["request"]["headers"],
                                                           "body": _body_in(e["request"]["body"])},
                     "response": {"body": _body_in(e["response"]["body"])}}
                if where is None or where(e):
                    hits.append(e)
        return [_shown(e, self.secrets) for e in hits[offset:offset + limit]], len(hits)

    def clear(self, tenant: str) -> None:
        self._items.clear(tenant)


class SharedOutbox:
    """Outbox's calls over Redis streams; delivery attempts in a hash beside each tenant's stream."""

    def __init__(self, link: Link, limit: int = 1000, total: int = 20_000) -> None:
        self._items = SharedBounded(link, "outbox", limit, total, side="deliveries")
        self._link = link

    def record(self, tenant: str, provider: str, kind: str, payload: dict[str, Any], now,
               delivering: bool = False) -> dict[str, Any]:
        item = {"provider": provider, "type": kind, "created_at": isoformat_ms(now), "payload": payload}
        if delivering:
            item.update(deliveries=[], delivered=False)
        return {"id": f"ntf_{self._items.add(tenant, item)}", **item}

    def attempt(self, tenant: str, item_id: str, record: dict[str, Any]) -> None:
        self._link.run(ATTEMPT, [tenant_key(tenant, "deliveries")], [item_id.removeprefix("ntf_"), dumps(record)])

    def list(self, tenant: str, provider: str | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        attempts = self._link.call("hgetall", tenant_key(tenant, "deliveries"))
        items = []
        for number, item in reversed(self._items.of(tenant)):
            if provider is not None and item["provider"] != provider:
                continue
            item = {"id": f"ntf_{number}", **item}
            if "deliveries" in item:
                tried = json.loads(attempts.get(str(number), "[]"))
                item.update(deliveries=tried, delivered=any(r["delivered"] for r in tried))
            items.append(item)
        return items

    def clear(self, tenant: str) -> None:
        self._items.clear(tenant)
