"""Idempotency keys: key -> (payload fingerprint, stored status and body), per tenant and provider.

Providers that document a key (an id and order pair, a uuid...) look it up with
`replay` inside the tenant's transaction: a repeat with the same payload gets the stored
answer back (same status, same body) and does nothing again; a repeat with a different
payload is a CONFLICT; a new key gets None, and the view does the work and keeps its answer
with `record`. Because the lookup, the work and the record share one transaction under the
tenant's lock, concurrent requests with one key produce exactly one refund, and a refund
that fails stores nothing (it may be retried).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.core.errors import Kind, SandboxError
from sandbox.core.store import Tx

TABLE = "_idempotency"
KEY_FIELD = "key"


def _json_value(value: Any) -> Any:
    """`value` with every number that equals an integer written as that integer, so payloads
    that are the same JSON value (1 and 1.0, 100 and 1e2) print the same."""
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def fingerprint(payload: Any) -> str:
    """A stable digest of a JSON-shaped payload, equal for equal JSON values: key order does
    not matter, and neither does how a number is written (1 and 1.0 are one number)."""
    canonical = json.dumps(_json_value(payload), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def mismatch_error(key: str) -> SandboxError:
    return SandboxError(Kind.CONFLICT, f"idempotency key {key!r} was already used with a different payload")


def replay(tx: Tx, key: str, payload: Any,
           on_mismatch: Callable[[str], SandboxError] = mismatch_error) -> Answer | None:
    """The answer kept for `key` when it was used with this payload; None for a new key.

    :raise 409: (on_mismatch, CONFLICT by default) the key was used with another payload.
    """
    stored = tx.get(TABLE, key)
    if stored is None:
        return None
    if stored["fingerprint"] != fingerprint(payload):
        raise on_mismatch(key)
    return Answer(stored["status"], stored["body"])


def record(tx: Tx, key: str, payload: Any, status: int, body: Any) -> Answer:
    """Keep the answer to the first use of `key` (with this payload), in the transaction:
    a transaction that raises keeps nothing."""
    tx.put(TABLE, {KEY_FIELD: key, "fingerprint": fingerprint(payload), "status": status, "body": body})
    return Answer(status, body)
