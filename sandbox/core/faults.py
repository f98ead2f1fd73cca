"""Injected faults: per-tenant rules matched by provider, operation (operationId) and order ref.

Effects: `status` (answer it, in the provider's own error format), `delay_ms`,
`drop_connection` (close without answering), `timeout_after_commit` (run the operation and
commit, then hold the connection `hold_ms` and close it unanswered: the lost-response case a
client must retry with the provider's idempotency key). A rule fires `times` times, then
expires; with `probability` it fires on that share of matching requests, drawn from its own
random source seeded by `seed`, so a run is repeatable. The connection itself is closed by
`sandbox.core.edge.WireEdge`, outside Flask, from the DROP and HOLD marks left in the environ.
"""

from __future__ import annotations

import functools
import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.errors import Kind, SandboxError

DROP = "refund_sandbox.drop"
HOLD = "refund_sandbox.hold_ms"


def unanswered(environ: dict) -> bool:
    """A fault marked this request's connection to close without an answer (a hold may be 0 ms)."""
    return bool(environ.get(DROP)) or HOLD in environ

KIND_BY_STATUS = {400: Kind.VALIDATION, 401: Kind.UNAUTHENTICATED, 403: Kind.FORBIDDEN, 404: Kind.NOT_FOUND,
                  405: Kind.METHOD_NOT_ALLOWED, 406: Kind.NOT_ACCEPTABLE, 409: Kind.CONFLICT, 413: Kind.TOO_LARGE,
                  422: Kind.VALIDATION, 429: Kind.RATE_LIMITED, 501: Kind.NOT_IMPLEMENTED}


def kind_for_status(status: int) -> Kind:
    return KIND_BY_STATUS.get(status, Kind.INTERNAL if status >= 500 else Kind.VALIDATION)


def injected_error(status: int, codes: dict[str, Any], code: str | None, method: str, path: str) -> SandboxError:
    """The error a fault answers: `code` (else the first) of the contract's codes for `status`.

    A code's entry is its message, or {message, field}; `{method}` and `{path}` in the message
    are filled in, as the provider's own messages would name them.
    """
    code = code or next(iter(codes), None)
    entry = codes.get(code) if code else None
    if isinstance(entry, dict):
        message, field_name = entry.get("message", ""), entry.get("field")
    else:
        message, field_name = entry or f"injected fault: status {status}", None
    message = message.replace("{method}", method).replace("{path}", path.lstrip("/"))
    return SandboxError(kind_for_status(status), message, status=status, code=code, field=field_name)


@dataclass
class Fault:
    id: str
    provider: str | None = None
    operation: str | None = None
    order_ref: str | None = None
    status: int | None = None
    code: str | None = None  # one of the contract's x-sandbox-error-codes for status; None: the first
    delay_ms: int = 0
    drop_connection: bool = False
    timeout_after_commit: bool = False
    hold_ms: int = 10_000
    times: int | None = None  # remaining; None: until deleted
    probability: float | None = None
    seed: int | None = None
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, provider: str, operation: str, order_ref: Callable[[], str | None]) -> bool:
        return ((self.provider is None or self.provider == provider)
                and (self.operation is None or self.operation == operation)
                and (self.order_ref is None or self.order_ref == order_ref()))

    @property
    def effects(self) -> list[str]:
        names = [f"status {self.status}" + (f" {self.code}" if self.code else "")] if self.status else []
        names += ["delay"] if self.delay_ms else []
        names += ["drop_connection"] if self.drop_connection else []
        names += ["timeout_after_commit"] if self.timeout_after_commit else []
        return names

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "provider": self.provider, "operation": self.operation, "order_ref": self.order_ref,
                "status": self.status, "code": self.code, "delay_ms": self.delay_ms,
                "drop_connection": self.drop_connection, "timeout_after_commit": self.timeout_after_commit,
                "hold_ms": self.hold_ms,
                "remaining": self.times, "probability": self.probability, "seed": self.seed, "fired": self.fired}


class FaultBook:
    """Every tenant's fault rules, in the order they were added."""

    def __init__(self) -> None:
        self._rules: dict[str, list[Fault]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, tenant: str, **spec: Any) -> Fault:
        fault = Fault(id=f"flt_{next(self._ids)}", **spec)
        fault._rng = random.Random(fault.seed)
        with self._lock:
            self._rules.setdefault(tenant, []).append(fault)
        return fault

    def list(self, tenant: str) -> list[Fault]:
        with self._lock:
            return list(self._rules.get(tenant, ()))

    def clear(self, tenant: str) -> int:
        with self._lock:
            return len(self._rules.pop(tenant, []))

    def remove(self, tenant: str, fault_id: str) -> bool:
        """Delete one rule; False when the tenant has no rule with this id."""
        with self._lock:
            rules = self._rules.get(tenant, [])
            kept = [f for f in rules if f.id != fault_id]
            if len(kept) == len(rules):
                return False
            self._rules[tenant] = kept
            return True

    def fire(self, tenant: str, provider: str, operation: str,
             order_ref: Callable[[], str | None]) -> Fault | None:
        """The first matching rule that fires for this request (its count goes down), or None.

        `order_ref` is asked (once) only if a rule names an order: a tenant without rules costs
        one dictionary lookup per request.
        """
        if not self._rules.get(tenant):
            return None
        order_ref = functools.cache(order_ref)
        with self._lock:
            rules = self._rules.get(tenant, [])
            for fault in rules:
                if not fault.matches(provider, operation, order_ref):
                    continue
                if fault.probability is not None and fault._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        rules.remove(fault)
                return fault
        return None
