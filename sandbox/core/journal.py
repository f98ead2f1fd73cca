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

    def record(self, tenant: str, provider: str, kind: str, payload: dict[str, Any], now) -> dict[str, Any]:
        item = {"id": f"ntf_{next(self._ids)}", "provider": provider, "type": kind,
                "created_at": isoformat_ms(now), "payload": payload}
        with self._lock:
            self._items.setdefault(tenant, deque(maxlen=self.limit)).append(item)
        return item

    def list(self, tenant: str, provider: str | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        with self._lock:
            items = list(self._items.get(tenant, ()))
        return [i for i in reversed(items) if provider is None or i["provider"] == provider]

    def clear(self, tenant: str) -> None:
        with self._lock:
            self._items.pop(tenant, None)
