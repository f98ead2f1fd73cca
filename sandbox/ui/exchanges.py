"""Journal entries as the timeline shows them: which touched an order, which are new since
the last poll, and each one as a `curl` command (secrets stay redacted, as in the journal).
"""

from __future__ import annotations

import json
import shlex
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.core.journal import REDACTED, Body, RequestJournal
from sandbox.core.provider import Provider

SKIPPED_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent"})


def number(entry_id: str) -> int:
    """req_17 -> 17 (0 for anything else)."""
    head, _, digits = entry_id.partition("_")
    return int(digits) if head == "req" and digits.isdigit() else 0


def latest(journal: RequestJournal, tenant: str, provider: str | None, after: int = 0,
           limit: int = 100) -> tuple[list[dict[str, Any]], int]:
    """(the newest entries after entry number `after`, newest first; how many there are)."""
    if not after:
        return journal.query(tenant, provider=provider, limit=limit)
    return journal.query(tenant, provider=provider, limit=limit, where=lambda e: number(e["id"]) > after)


def touches(entry: dict[str, Any], provider: Provider, order_ref: str) -> bool:
    """Whether a stored exchange addressed this order: by path, query string or (as the
    provider reads it) the request body."""
    if entry["provider"] != provider.key:
        return False
    parts = urlsplit(entry["path"])
    if order_ref in parts.path.split("/") or order_ref in (v for _, v in parse_qsl(parts.query)):
        return True
    body = entry["request"]["body"]
    try:
        ref = provider.order_ref_of({}, body.render() if isinstance(body, Body) else body)
    except (AttributeError, KeyError, TypeError):
        return False
    return ref is not None and str(ref) == order_ref


def for_order(journal: RequestJournal, tenant: str, provider: Provider, order_ref: str,
              shown: int = 50) -> tuple[list[dict[str, Any]], int]:
    """(the newest `shown` exchanges that touched the order; how many did in all)."""
    return journal.query(tenant, provider=provider.key, limit=shown,
                         where=lambda entry: touches(entry, provider, order_ref))


def as_curl(entry: dict[str, Any], base_url: str) -> str:
    """The exchange as a curl command line; redacted values stay `[redacted]` (put yours in)."""
    words = ["curl", "-sS", "-X", entry["method"], base_url.rstrip("/") + entry["path"]]
    for name, value in entry["request"]["headers"].items():
        if name.lower() not in SKIPPED_HEADERS:
            words += ["-H", f"{name}: {value}"]
    body = entry["request"]["body"]
    if body is not None:
        words += ["--data-raw", body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))]
    return " ".join(shlex.quote(w) for w in words)


def pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


__all__ = ["REDACTED", "as_curl", "for_order", "latest", "number", "pretty", "touches"]
