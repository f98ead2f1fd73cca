"""One round trip at the start of each provider request instead of three during it.

Before a provider request runs, `prefetch` reads its tenant's clock offset and fault rules in
one script and keeps them for the request (in `flask.g`): the route's clock, the fault check
and the journal's timestamp then cost no further trip to Redis. What a request reads is
what the fleet held when it started, as a request in the in-process store sees one
moment; a fault is still claimed atomically when it fires (sandbox.core.shared.faults), and
a request that moves the clock sees its own move. Control-plane requests read live.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g, has_request_context

from sandbox.core.shared.link import Script

_ATTR = "_refund_sandbox_shared_memo"

# KEYS: clock hash, fault rules hash, fault order list. ARGV: tenant. {offset or '', rule JSON...}
SNAPSHOT = Script("""
local out = {redis.call('HGET', KEYS[1], ARGV[1]) or ''}
local ids = redis.call('LRANGE', KEYS[3], 0, -1)
if #ids > 0 then
  for _, rule in ipairs(redis.call('HMGET', KEYS[2], unpack(ids))) do out[#out + 1] = rule end
end
return out""")


def recall(kind: str, tenant: str) -> Any:
    """What the request's snapshot holds for `tenant` (None: nothing, read live)."""
    if not has_request_context():
        return None
    memo = getattr(g, _ATTR, None)
    return None if memo is None else memo.get((kind, tenant))


def remember(kind: str, tenant: str, value: Any) -> None:
    if has_request_context():
        memo = getattr(g, _ATTR, None)
        if memo is not None:
            memo[(kind, tenant)] = value


def prefetch() -> None:
    """before_request: the provider request's tenant's clock offset and fault rules, in one trip."""
    from sandbox.core import context
    from sandbox.core.runtime import runtime

    ctx = context.current()
    if ctx is None or ctx.provider is None or ctx.tenant_error is not None:
        return
    rt, tenant = runtime(), ctx.tenant
    offset, *rules = rt.store.link.run(SNAPSHOT, [rt.clock.key, *rt.faults.keys(tenant)[:2]], [tenant])
    setattr(g, _ATTR, {("clock", tenant): timedelta(seconds=int(offset or 0)),
                       ("faults", tenant): [rule for rule in rules if rule]})
