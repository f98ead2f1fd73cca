"""The sandbox's clock: real UTC time plus a per-tenant offset that tests can move.

`POST /_sandbox/clock/advance` adds to a tenant's offset; token expiry and anything else
time-driven read `now(tenant)`, so a test can jump an hour ahead without waiting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """Per-tenant offsets over the system clock."""

    def __init__(self) -> None:
        self._offsets: dict[str, timedelta] = {}
        self._lock = threading.Lock()

    def now(self, tenant: str = "default") -> datetime:
        return datetime.now(UTC) + self._offsets.get(tenant, timedelta(0))

    def offset(self, tenant: str) -> timedelta:
        return self._offsets.get(tenant, timedelta(0))

    def advance(self, tenant: str, seconds: int) -> datetime:
        """Move the tenant's clock forward; returns the tenant's new now()."""
        with self._lock:
            self._offsets[tenant] = self._offsets.get(tenant, timedelta(0)) + timedelta(seconds=seconds)
        return self.now(tenant)

    def reset(self, tenant: str) -> None:
        with self._lock:
            self._offsets.pop(tenant, None)


def isoformat_ms(moment: datetime) -> str:
    """RFC 3339 with milliseconds and a Z, as in "2026-03-30T12:00:00.000Z"."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"
