"""Shoplazza's full-refund rules as pure functions: no Flask, no TinyDB. Check first, then build.

Documented (seeds/shoplazza.txt, research section 4): a full refund covers every item,
shipping and tax; an order that is not in an after-sale state is 406; refund numbers are
`<order number>-S<n>`. Sandbox choices (x-sandbox-note in contracts/shoplazza.openapi.yaml):
after-sale states are paid, partially_refunded and refund_failed (not unpaid, cancelled,
refunding or refunded); a refund is `finished` at once unless the order was seeded to go
`pending`, in which case it settles (finished, or failed with a reason) when the tenant's
clock passes its settle time; a failed refund changes no money and may be retried; the
seed's "store is not active" error (400) answers the refund of an order seeded with an inactive
store (`sandbox.store_active` false, tied to the order so the tenant's other orders still work).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.clock import isoformat_ms
from sandbox.core.lookup import Reader, require
from sandbox.providers.shoplazza import errors

AFTER_SALE = frozenset({"paid", "partially_refunded", "refund_failed"})
FAIL_REASON = "The payment provider declined the refund."
#: The id sequence (name, first id) of refund records.
RECORD_IDS = ("refund", 100001)


@dataclass(frozen=True)
class Outcome:
    order: dict[str, Any]
    record: dict[str, Any]


def check_refundable(order: dict[str, Any] | None) -> dict[str, Any]:
    """:raise 404: no such order.  :raise 400: (STORE_INACTIVE) the order's store is not active.
    :raise 406: not in an after-sale state."""
    order = require(order, errors.ORDER_NOT_FOUND.error)
    if not order["sandbox"].get("store_active", True):
        raise errors.STORE_INACTIVE.error()
    if order["status"] == "cancelled" or order["financial_status"] not in AFTER_SALE:
        raise errors.NOT_IN_AFTER_SALES.error()
    return order


def _refund_amounts(order: dict[str, Any]) -> tuple[int, int, int, int]:
    """(price, shipping, tax, discount) still to refund: everything not refunded yet."""
    price = order["total_price"] - order["total_refund_price"]
    tax = order["total_tax"] - order["total_refund_tax"]
    discount = order["total_discount"] - order["total_refund_discount"]
    shipping = 0 if order["sandbox"].get("shipping_refunded") else order["total_shipping"]
    return price, shipping, tax, discount


def refund_order(order: dict[str, Any] | None, *, now: datetime, refund_order_id: str, record_id: str) -> Outcome:
    """Start a full refund: finished at once, or pending when the order is set up so.

    :raise 404: (ORDER_NOT_FOUND)  :raise 406: (NOT_IN_AFTER_SALES)
    """
    order = check_refundable(order)
    settings = order["sandbox"]
    stamp = isoformat_ms(now)
    count = settings["refund_count"] + 1
    price, shipping, tax, discount = _refund_amounts(order)
    pending = settings["refund_mode"] == "pending"
    record = {
        "id": record_id, "refund_order_id": refund_order_id, "order_id": order["id"], "note": "",
        "number": f"{order['number']}-S{count}", "refund_price": price, "refund_shipping": shipping,
        "refund_tax": tax, "refund_discount": discount, "currency": order["currency"],
        "status": "pending" if pending else "finished", "fail_reason": "",
        "settles_at": isoformat_ms(now + timedelta(seconds=settings["settle_seconds"])) if pending else None,
        "created_at": stamp, "updated_at": stamp,
        "refund_line_items": [{"refund_quantity": line["quantity"] - line["refund_quantity"],
                               "line_item_id": line["id"]}
                              for line in order["line_items"] if line["quantity"] > line["refund_quantity"]],
    }
    started = {**order, "sandbox": {**settings, "refund_count": count}, "updated_at": stamp}
    if pending:
        return Outcome({**started, "financial_status": "refunding", "refund_status": "pending"}, record)
    return finish(started, record, now)


def finish(order: dict[str, Any], record: dict[str, Any], now: datetime) -> Outcome:
    """The money goes back: lines, shipping and tax refunded; the order is refunded."""
    stamp = isoformat_ms(now)
    refunded = {item["line_item_id"]: item["refund_quantity"] for item in record["refund_line_items"]}
    lines = [{**line, "refund_quantity": line["refund_quantity"] + refunded.get(line["id"], 0),
              "refund_total": line["total"] if line["id"] in refunded else line["refund_total"]}
             for line in order["line_items"]]
    updated = {**order, "line_items": lines, "financial_status": "refunded", "refund_status": "finished",
               "total_refund_price": order["total_refund_price"] + record["refund_price"],
               "total_refund_tax": order["total_refund_tax"] + record["refund_tax"],
               "total_refund_discount": order["total_refund_discount"] + record["refund_discount"],
               "sandbox": {**order["sandbox"], "shipping_refunded": True}, "updated_at": stamp}
    return Outcome(updated, {**record, "status": "finished", "settles_at": None, "updated_at": stamp})


def find_order(book: Reader, order_id: str) -> dict[str, Any]:
    """:raise 404: (ORDER_NOT_FOUND) no such order."""
    return require(book.get("orders", order_id), errors.ORDER_NOT_FOUND.error)


def pending_entry(record: dict[str, Any]) -> dict[str, Any] | None:
    """What the pending table keeps of a refund that waits for its settle time (None: it does not wait)."""
    if record["status"] != "pending":
        return None
    return {"id": record["id"], "order_id": record["order_id"], "settles_at": record["settles_at"]}


def settle_due(book: Reader, now: datetime, order_id: str | None = None) -> Iterator[Outcome]:
    """The pending refunds whose settle time has passed (all of them, or one order's), each
    settled as the order was seeded. The caller writes each outcome (the order, the record,
    and the record's id out of the pending table) before asking for the next, whose reads
    then see it."""
    due = isoformat_ms(now)
    for entry in book.all("pending"):
        if (order_id is not None and entry["order_id"] != order_id) or entry["settles_at"] > due:
            continue
        outcome = settle(book.get("orders", entry["order_id"]), book.get("refunds", entry["id"]), now)
        if outcome is not None:
            yield outcome


def settle(order: dict[str, Any], record: dict[str, Any], now: datetime) -> Outcome | None:
    """A pending refund whose time has come: finished, or failed as the order was seeded.
    None while it is not due."""
    if record["status"] != "pending" or isoformat_ms(now) < record["settles_at"]:
        return None
    if order["sandbox"]["refund_outcome"] == "failed":
        stamp = isoformat_ms(now)
        failed = {**order, "financial_status": "refund_failed", "refund_status": "failed", "updated_at": stamp}
        return Outcome(failed, {**record, "status": "failed", "fail_reason": FAIL_REASON, "settles_at": None,
                                "updated_at": stamp})
    return finish(order, record, now)
