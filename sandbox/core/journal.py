"""The notification outbox: what each provider would have sent, per tenant, bounded.

Fire's downstream cancellation, customer refund notifications and the like are recorded
here after their transaction commits, so tests can assert on them through
`GET /_sandbox/notifications`. Each tenant keeps its newest `limit` entries; memory stays
flat however many refunds pass.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any

from sandbox.core.clock import isoformat_ms


class Outbox:
    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._items: dict[str, deque] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, tenant: str, provider: str, kind: str, payload: dict[str, Any], now,
               delivering: bool = False) -> dict[str, Any]:
        """Keep a notification; `delivering` starts its webhook delivery record (`attempt` fills it)."""
        item = {"id": f"ntf_{next(self._ids)}", "provider": provider, "type": kind,
                "created_at": isoformat_ms(now), "payload": payload}
        if delivering:
            item.update(deliveries=[], delivered=False)
        with self._lock:
            self._items.setdefault(tenant, deque(maxlen=self.limit)).append(item)
        return item

    def attempt(self, tenant: str, item_id: str, record: dict[str, Any]) -> None:
        """Note one webhook delivery attempt on the item (it may have fallen off the outbox)."""
        with self._lock:
            for item in self._items.get(tenant, ()):
                if item["id"] == item_id:
                    item.setdefault("deliveries", []).append(record)
                    item["delivered"] = record["delivered"] or (item.get("delivered") or False)
                    return

    def list(self, tenant: str, provider: str | None = None) -> list[dict[str, Any]]:
        """Newest first (copies: deliveries may still be appended)."""
        with self._lock:
            items = [{**i, **({"deliveries": list(i["deliveries"])} if "deliveries" in i else {})}
                     for i in self._items.get(tenant, ())]
        return [i for i in reversed(items) if provider is None or i["provider"] == provider]

    def clear(self, tenant: str) -> None:
        with self._lock:
            self._items.pop(tenant, None)


#: Headers and body keys whose values never enter the journal.
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "access-token", "x-purple-dot-access-token", "cookie"})
SECRET_KEYS = frozenset({"client_secret", "password", "accessToken", "token", "access_token"})
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """A copy of a JSON body with secret values replaced (top level and nested objects)."""
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_KEYS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class RequestJournal:
    """Each tenant's newest `limit` exchanges with the providers, newest first on read."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._items: dict[str, deque] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, tenant: str, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"id": f"req_{next(self._ids)}", **entry}
        with self._lock:
            self._items.setdefault(tenant, deque(maxlen=self.limit)).append(entry)
        return entry

    def size(self, tenant: str) -> int:
        with self._lock:
            return len(self._items.get(tenant, ()))

    def query(self, tenant: str, *, provider: str | None = None, operation: str | None = None,
              status: int | None = None, since: str | None = None, limit: int = 50,
              offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """(one page of matching entries, newest first; how many match in all)."""
        with self._lock:
            items = list(self._items.get(tenant, ()))
        hits = [e for e in reversed(items)
                if (provider is None or e["provider"] == provider)
                and (operation is None or e["operation"] == operation)
                and (status is None or e["status"] == status)
                and (since is None or e["time"] >= since)]
        return hits[offset:offset + limit], len(hits)

    def clear(self, tenant: str) -> None:
        with self._lock:
            self._items.pop(tenant, None)
