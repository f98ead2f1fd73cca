"""Fault rules in Redis, for the shared store: one rule book per tenant for the whole fleet.

A tenant's rules are a hash (id -> rule JSON) and a list (their order). A request reads the
rules (one script), matches them here as the in-process FaultBook does, and claims the first
match with a script that counts it fired and takes one off its `times` (deleting it at
zero) atomically: a rule with `times: 1` fires once in the fleet, whichever process sees
it first; a process that loses the race tries the next matching rule. A `probability` draw
is numbered fleet-wide; with a `seed`, draw n is the same number in every run.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from sandbox.core.faults import Fault
from sandbox.core.shared import memo
from sandbox.core.shared.link import PREFIX, Link, Script, tenant_key

SPEC = [f.name for f in fields(Fault) if not f.name.startswith("_")]

# KEYS: rules hash, order list. {rule JSON...} in order.
RULES = Script("""
local ids = redis.call('LRANGE', KEYS[2], 0, -1)
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[1], unpack(ids))""")
# KEYS: rules hash, order list. ARGV: id. The rule after firing, or nil when it is gone.
CLAIM = Script("""
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return nil end
local rule = cjson.decode(raw)
rule.fired = rule.fired + 1
if rule.times ~= cjson.null then
  rule.times = rule.times - 1
  if rule.times <= 0 then
    redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('LREM', KEYS[2], 0, ARGV[1])
    return cjson.encode(rule)
  end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rule))
return cjson.encode(rule)""")
# KEYS: rules hash, order list, draws hash. ARGV: id (or '' for all). How many were deleted.
REMOVE = Script("""
if ARGV[1] == '' then
  local n = redis.call('LLEN', KEYS[2]); redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]); return n
end
local n = redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('LREM', KEYS[2], 0, ARGV[1]); return n""")
ADD = Script("redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); redis.call('RPUSH', KEYS[2], ARGV[1]); return 1")


def _fault(raw: str) -> Fault:
    spec = json.loads(raw)
    return Fault(**{name: spec.get(name) for name in SPEC if name in spec})


class SharedFaultBook:
    """FaultBook's calls over Redis."""

    def __init__(self, link: Link) -> None:
        self.link = link

    @staticmethod
    def keys(tenant: str) -> list[str]:
        """The tenant's rules (hash), their order (list) and their draw counters (hash)."""
        return [tenant_key(tenant, "faults"), tenant_key(tenant, "faults", "order"),
                tenant_key(tenant, "faults", "draws")]

    def add(self, tenant: str, **spec: Any) -> Fault:
        fault = Fault(id=f"flt_{self.link.call('incr', PREFIX + 'fault_ids')}", **spec)
        self.link.run(ADD, self.keys(tenant), [fault.id, json.dumps({name: getattr(fault, name) for name in SPEC})])
        return fault

    def list(self, tenant: str) -> list[Fault]:
        return [_fault(raw) for raw in self.link.run(RULES, self.keys(tenant)) if raw]

    def clear(self, tenant: str) -> int:
        return int(self.link.run(REMOVE, self.keys(tenant), [""]))

    def remove(self, tenant: str, fault_id: str) -> bool:
        return bool(self.link.run(REMOVE, self.keys(tenant), [fault_id]))

    def fire(self, tenant: str, provider: str, operation: str,
             order_ref: Callable[[], str | None]) -> Fault | None:
        """The first matching rule that fires for this request (claimed fleet-wide), or None."""
        fetched = memo.recall("faults", tenant)  # the request's snapshot (sandbox.core.shared.memo)
        rules = self.list(tenant) if fetched is None else [_fault(raw) for raw in fetched]
        if not rules:
            return None
        order_ref = functools.cache(order_ref)
        for fault in rules:
            if not fault.matches(provider, operation, order_ref):
                continue
            if fault.probability is not None and self._draw(tenant, fault) >= fault.probability:
                continue
            claimed = self.link.run(CLAIM, self.keys(tenant), [fault.id])
            if claimed:
                return _fault(claimed)
        return None

    def _draw(self, tenant: str, fault: Fault) -> float:
        number = self.link.call("hincrby", self.keys(tenant)[2], fault.id, 1)
        return random.Random(f"{fault.seed}:{number}").random() if fault.seed is not None else random.random()
