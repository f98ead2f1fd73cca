"""The notification outbox and the request journal: per tenant, bounded.

Outbox: a provider's downstream notifications (cancellations, customer refund notices) are
recorded here after their transaction commits, so tests can assert on them through
`GET /_sandbox/notifications`. Journal: each exchange with a provider, for
`GET /_sandbox/requests`. Each tenant keeps its newest `limit` entries of each, so memory
stays flat however many refunds pass. The journal keeps bodies as sent (at most
RAW_LIMIT bytes) and parses, redacts and truncates them only when someone reads it, so
recording costs the request path next to nothing. Each journal entry is kept packed (one
marshal bytes object, unpacked when read), so a full journal (20,000 entries by default)
is nothing for the garbage collector to walk: as dicts, one full collection took 40-120 ms.
"""

from __future__ import annotations

import itertools
import marshal
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import EnvironHeaders

from sandbox.core import body
from sandbox.core.clock import isoformat_ms


class Bounded:
    """Items per tenant, oldest dropped first: at most `limit` per tenant and `total` in all.

    The per-tenant bound keeps one busy tenant's history short; the total bound keeps memory
    flat however many tenants there are (a new item then drops the oldest item of any
    tenant). O(1) per item; the arrival order holds (tenant, number) pairs only, never the
    items, so an item dropped by its tenant's limit is freed at once. Callers hold `lock`.
    """

    def __init__(self, limit: int, total: int) -> None:
        self.limit, self.total = limit, total
        self.lock = threading.Lock()
        self._queues: dict[str, deque] = {}  # tenant -> deque of (number, item)
        self._order: deque = deque()  # (tenant, number) in arrival order, some already dropped
        self._numbers = itertools.count()
        self._count = 0

    def of(self, tenant: str) -> list[Any]:
        """The tenant's items, oldest first."""
        return [item for _, item in self._queues.get(tenant, ())]

    def add(self, tenant: str, item: Any) -> None:
        number = next(self._numbers)
        queue = self._queues.setdefault(tenant, deque())
        queue.append((number, item))
        self._order.append((tenant, number))
        self._count += 1
        if len(queue) > self.limit:
            queue.popleft()
            self._count -= 1
        while self._count > self.total:
            old_tenant, old_number = self._order.popleft()
            old_queue = self._queues.get(old_tenant)
            if old_queue and old_queue[0][0] == old_number:
                old_queue.popleft()
                self._count -= 1
                if not old_queue:
                    del self._queues[old_tenant]
        if len(self._order) > 2 * self._count + 1000:  # forget arrivals that are gone already
            alive = {(t, n) for t, q in self._queues.items() for n, _ in q}
            self._order = deque(e for e in self._order if e in alive)

    def clear(self, tenant: str) -> None:
        self._count -= len(self._queues.pop(tenant, ()))


class Outbox:
    def __init__(self, limit: int = 1000, total: int = 20_000) -> None:
        self._items = Bounded(limit, total)
        self._ids = itertools.count(1)

    def record(self, tenant: str, provider: str, kind: str, payload: dict[str, Any], now,
               delivering: bool = False) -> dict[str, Any]:
        """Keep a notification; `delivering` starts its webhook delivery record (`attempt` fills it)."""
        item = {"id": f"ntf_{next(self._ids)}", "provider": provider, "type": kind,
                "created_at": isoformat_ms(now), "payload": payload}
        if delivering:
            item.update(deliveries=[], delivered=False)
        with self._items.lock:
            self._items.add(tenant, item)
        return item

    def attempt(self, tenant: str, item_id: str, record: dict[str, Any]) -> None:
        """Note one webhook delivery attempt on the item (it may have fallen off the outbox)."""
        with self._items.lock:
            for item in self._items.of(tenant):
                if item["id"] == item_id:
                    item.setdefault("deliveries", []).append(record)
                    item["delivered"] = record["delivered"] or (item.get("delivered") or False)
                    return

    def list(self, tenant: str, provider: str | None = None) -> list[dict[str, Any]]:
        """Newest first (copies: deliveries may still be appended)."""
        with self._items.lock:
            items = [{**i, **({"deliveries": list(i["deliveries"])} if "deliveries" in i else {})}
                     for i in self._items.of(tenant)]
        return [i for i in reversed(items) if provider is None or i["provider"] == provider]

    def clear(self, tenant: str) -> None:
        with self._items.lock:
            self._items.clear(tenant)


REDACTED = "[redacted]"
RAW_LIMIT = 64 * 1024  # bytes of a body kept for the journal
TEXT_LIMIT = 16_384  # characters of a non-JSON body shown


@dataclass(frozen=True)
class Secrets:
    """Headers and body keys whose values never leave the journal in clear: HTTP's own
    credential headers, plus what each provider declares (the headers its auth scheme reads,
    the body fields that carry a secret), so a new provider's credential is redacted too."""

    headers: frozenset[str] = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
    keys: frozenset[str] = frozenset()

    @classmethod
    def of(cls, providers: Iterable[Any]) -> Secrets:
        headers, keys = set(cls.headers), set[str]()
        for provider in providers:
            headers |= {name.lower() for name in provider.auth.headers}
            keys |= set(provider.secret_fields)
        return cls(frozenset(headers), frozenset(keys))

    def redact(self, value: Any) -> Any:
        """A copy of a JSON body with secret values replaced (top level and nested objects)."""
        if isinstance(value, dict):
            return {k: REDACTED if k in self.keys else self.redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        return value

    def headers_shown(self, headers: list[tuple[str, str]]) -> dict[str, str]:
        return {k: REDACTED if k.lower() in self.headers else v for k, v in headers}


HTTP_SECRETS = Secrets()  # HTTP's own credential headers only


@dataclass(frozen=True)
class Body:
    """A body as it crossed the wire; `render()` is what the journal shows of it."""

    raw: bytes
    size: int
    is_json: bool

    @classmethod
    def of(cls, raw: bytes, is_json: bool) -> Body:
        return cls(raw[:RAW_LIMIT], len(raw), is_json)

    def fields(self) -> tuple[bytes, int, bool]:
        """(raw, size, is_json): what `Body(*fields)` is made again from."""
        return self.raw, self.size, self.is_json

    def render(self, secrets: Secrets | None = None) -> Any:
        """The parsed JSON with secrets redacted, else the text, unless it may hold a secret."""
        secrets = secrets or HTTP_SECRETS
        if not self.size:
            return None
        if self.size > len(self.raw):
            return f"[{self.size} bytes, too large to record]"
        if self.is_json:
            try:
                return secrets.redact(body.parse(self.raw))
            except ValueError:
                pass
        text = self.raw.decode("utf-8", errors="replace")
        lowered = text.lower()
        if any(key.lower() in lowered for key in secrets.keys):
            return f"[{self.size} bytes, not JSON, withheld: it may hold a secret]"
        return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "...[truncated]"


def environ_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The request headers as the WSGI environ holds them (HTTP_X_NAME...), for the journal:
    named as HTTP names only when read (`_shown`), which is most of what naming them costs."""
    return [(k, v) for k, v in environ.items() if k.startswith("HTTP_") or k in ("CONTENT_TYPE", "CONTENT_LENGTH")]


def _shown(entry: dict[str, Any], secrets: Secrets) -> dict[str, Any]:
    """An entry as `GET /_sandbox/requests` shows it (the stored one keeps raw bodies)."""
    request, response = entry["request"], entry["response"]
    headers = list(EnvironHeaders(dict(request["headers"])).items())  # werkzeug's own naming, as at request time
    return {**entry, "request": {"headers": secrets.headers_shown(headers),
                                 "body": request["body"].render(secrets)},
            "response": {"body": response["body"].render(secrets)}}


class RequestJournal:
    """Each tenant's newest `limit` exchanges with the providers (`total` across tenants),
    newest first on read."""

    def __init__(self, limit: int = 1000, total: int = 20_000, secrets: Secrets | None = None) -> None:
        self._items = Bounded(limit, total)
        self._ids = itertools.count(1)
        self.secrets = secrets or HTTP_SECRETS

    def record(self, tenant: str, entry: dict[str, Any]) -> None:
        """Keep one exchange: `entry` with `request` {headers (`environ_headers`), body} and
        `response` {body}, each body a `Body`."""
        request, response = entry["request"], entry["response"]
        packed = marshal.dumps({"id": f"req_{next(self._ids)}", **entry,
                                "request": {"headers": request["headers"], "body": request["body"].fields()},
                                "response": {"body": response["body"].fields()}})
        with self._items.lock:
            self._items.add(tenant, packed)

    @staticmethod
    def _unpacked(packed: bytes) -> dict[str, Any]:
        entry = marshal.loads(packed)
        entry["request"]["body"] = Body(*entry["request"]["body"])
        entry["response"]["body"] = Body(*entry["response"]["body"])
        return entry

    def size(self, tenant: str) -> int:
        with self._items.lock:
            return len(self._items.of(tenant))

    def query(self, tenant: str, *, provider: str | None = None, operation: str | None = None,
              status: int | None = None, since: str | None = None, limit: int = 50,
              offset: int = 0, where: Callable[[dict[str, Any]], bool] | None = None,
              ) -> tuple[list[dict[str, Any]], int]:
        """(one page of matching entries, newest first; how many match in all). `where` sees
        each stored entry (bodies still raw `Body` objects) before anything is rendered."""
        with self._items.lock:
            packed = self._items.of(tenant)
        hits = [e for e in map(self._unpacked, reversed(packed))
                if (provider is None or e["provider"] == provider)
                and (operation is None or e["operation"] == operation)
                and (status is None or e["status"] == status)
                and (since is None or e["time"] >= since)
                and (where is None or where(e))]
        return [_shown(e, self.secrets) for e in hits[offset:offset + limit]], len(hits)

    def clear(self, tenant: str) -> None:
        with self._items.lock:
            self._items.clear(tenant)
