"""Nuweb's refund rules as pure functions: no Flask, no TinyDB. Validate first, then build.

Documented (seeds/nuweb.txt, research section 3): `type` refund returns money (online or
offline), balance_refund credits the customer's balance, cancellation removes items and
returns no money (no transaction); for the last two `online` is ignored; `online: true`
reverts to offline when the order has no payment gateway or a zero total; the fee flags
decide whether processing and reseller fees are refunded (default true); without
refundSplits the money goes back to the original payments in proportion to their values;
cancelled items are left out unless refundCancelled; since June 2026 items that cannot be
refunded are skipped instead of failing the call.
Sandbox choices (x-sandbox-note in contracts/nuweb.openapi.yaml): an item is worth price +
tax + the fees its flags allow; refundSplits must name this order's payment transactions,
stay within what each can still refund and add up to the refund value (422 otherwise);
nothing left to refund is a 200 with refundValue 0; statusSlug becomes refunded,
partially_refunded or cancelled; an online refund the payment gateway refuses (orders seeded
by nuweb.gateway_refused) is a 422 on `online` that changes nothing, while offline,
balance_refund and cancellation calls still work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.core import money
from sandbox.core.clock import isoformat_ms
from sandbox.core.lookup import Reader, require
from sandbox.providers.nuweb.errors import gateway_refused, invalid, not_found

STATUSES = {"complete": (3, "Complete"), "cancelled": (6, "Cancelled"),
            "partially_refunded": (9, "Partially Refunded"), "refunded": (10, "Refunded")}
PAYMENT_TYPES = frozenset({"card", "cash", "paypal", "voucher", "bank_transfer"})
#: The id sequence (name, first id) of the refund transactions the sandbox creates.
TRANSACTION_IDS = ("transaction", 90001)


@dataclass(frozen=True)
class Outcome:
    order: dict[str, Any]
    refund_value: int
    refund: dict[str, Any] | None  # the refund record, None when nothing changed
    notification: dict[str, Any] | None


def find_order(book: Reader, order_id: int | None = None, reference: str | None = None) -> dict[str, Any]:
    """By reference (it wins), else by order id, else by basket id (interchangeable).

    :raise 404: no such order in this tenant.
    """
    if reference is not None:
        hit = book.get("references", reference)
        return require(book.get("orders", hit["orderId"]) if hit else None, lambda: not_found("Order", reference))
    order = book.get("orders", order_id)
    if order is None:
        basket = book.get("baskets", order_id)
        order = book.get("orders", basket["orderId"]) if basket else None
    return require(order, lambda: not_found("Order", order_id))


def gateway_refusal(book: Reader, order: dict[str, Any]) -> str | None:
    """The decline code the order's payment gateway answers refunds with (None: it accepts them)."""
    refusal = book.get("gateway_refusals", order["id"])
    return refusal["declineCode"] if refusal else None


def idempotency_key(request: dict[str, Any]) -> str | None:
    """A refund's `uuid` is its idempotency key (a cancellation moves no money: it has none)."""
    if request["uuid"] and request["type"] != "cancellation":
        return f"uuid\x1f{request['uuid']}"
    return None


def item_value(item: dict[str, Any], request: dict[str, Any]) -> int:
    """What refunding this item returns, in minor units, under the request's fee flags."""
    value = item["price"] + item["tax"]
    if request["refund_processing_fee"]:
        value += item["processingFee"]
    if request["refund_reseller_fee"]:
        value += item["resellerFee"]
    return value


def selected_items(order: dict[str, Any], request: dict[str, Any]) -> list[dict[str, Any]]:
    """The items this call acts on: not refunded, and not cancelled unless refundCancelled
    (for a cancellation: neither refunded nor already cancelled)."""
    if request["type"] == "cancellation":
        return [i for i in order["items"] if not i["refunded"] and i["cancelledAt"] is None]
    return [i for i in order["items"] if not i["refunded"]
            and (i["cancelledAt"] is None or request["refund_cancelled"])]


def payments(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's payment transactions (money in), with what each can still refund."""
    return [t for t in order["transactions"] if t["total"] > 0 and t["type"] in PAYMENT_TYPES]


def refundable_left(order: dict[str, Any], transaction: dict[str, Any]) -> int:
    returned = sum(-t["total"] for t in order["transactions"]
                   if t["total"] < 0 and (t.get("metadata") or {}).get("parentTransactionId") == transaction["id"])
    return transaction["total"] - returned


def is_online(order: dict[str, Any], request: dict[str, Any]) -> bool:
    """`online` as it takes effect: only for type refund, and only with a gateway and a non-zero total."""
    if request["type"] != "refund" or not request["online"]:
        return False
    return order["total"] > 0 and any(t.get("paymentGateway") for t in payments(order))


def split(order: dict[str, Any], value: int, request: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """How `value` goes back to the payment transactions.

    :raise 422: a split naming another order's transaction, exceeding what it can still
        refund, or not adding up to the refund value; or more than the payments hold.
    """
    paid = payments(order)
    left = {t["id"]: refundable_left(order, t) for t in paid}
    given = request["refund_splits"]
    if given:
        by_id = {t["id"]: t for t in paid}
        taken: dict[int, int] = {}
        for n, part in enumerate(given):
            tid = part["transaction_id"]
            if tid not in by_id:
                raise invalid(f"refundSplits.{n}.transactionId",
                              f"The transaction {tid} is not a payment of order {order['id']}.")
            taken[tid] = taken.get(tid, 0) + part["amount"]
            if taken[tid] > left[tid]:
                raise invalid(f"refundSplits.{n}.amount",
                              f"The amount exceeds the {left[tid]} that transaction {tid} can still refund.")
        if sum(taken.values()) != value:
            raise invalid("refundSplits", f"The refund splits must add up to the refund value {value}.")
        return [(by_id[tid], amount) for tid, amount in taken.items()]
    if value > sum(left.values()):
        raise invalid("orderId", f"The refund value {value} exceeds the {sum(left.values())} the payments can return.")
    parts = money.allocate(value, [left[t["id"]] for t in paid])
    return [(t, amount) for t, amount in zip(paid, parts, strict=True) if amount > 0]


def status_after(items: list[dict[str, Any]], current: str) -> str:
    refunded = sum(1 for i in items if i["refunded"])
    cancelled = sum(1 for i in items if i["cancelledAt"] is not None and not i["refunded"])
    if items and refunded == len(items):
        return "refunded"
    if refunded:
        return "partially_refunded"
    if items and cancelled == len(items):
        return "cancelled"
    return current


def refund_order(order: dict[str, Any], request: dict[str, Any], *, now: datetime,
                 new_id: Callable[[], int], gateway_refusal: str | None = None) -> Outcome:
    """Refund, credit or cancel every selectable item of the order.

    `gateway_refusal` is the decline code the order's payment gateway answers refunds with
    (None: it accepts them); only an online refund of money goes through the gateway.
    :raise 422: (refundSplits) see `split`; (online) the gateway refused the online refund.
    Returns the order unchanged with refund value 0 when nothing is selectable.
    """
    kind = request["type"]
    chosen = selected_items(order, request)
    if not chosen:
        return Outcome(order, 0, None, None)
    stamp = isoformat_ms(now)
    value = 0 if kind == "cancellation" else sum(item_value(i, request) for i in chosen)
    online = is_online(order, request)
    new_transactions: list[dict[str, Any]] = []
    if kind == "refund" and value > 0:
        parts = split(order, value, request)
        if online and gateway_refusal:
            raise gateway_refused(gateway_refusal)
        for parent, amount in parts:
            new_transactions.append({
                "id": new_id(), "total": -amount, "externalFee": 0, "orderId": order["id"],
                "metadata": {"uuid": request["uuid"], "parentTransactionId": parent["id"], "online": online,
                             "kind": "refund"},
                "createdAt": stamp, "updatedAt": stamp,
                "paymentGateway": parent.get("paymentGateway") if online else None,
                "status": "Success", "type": "refund"})
    elif kind == "balance_refund" and value > 0:
        new_transactions.append({
            "id": new_id(), "total": -value, "externalFee": 0, "orderId": order["id"],
            "metadata": {"uuid": request["uuid"], "parentTransactionId": None, "online": False,
                         "kind": "balance_refund"},
            "createdAt": stamp, "updatedAt": stamp, "paymentGateway": None, "status": "Success", "type": "balance"})
    chosen_ids = {i["id"] for i in chosen}
    items = []
    for item in order["items"]:
        if item["id"] not in chosen_ids:
            items.append(item)
            continue
        changed = {**item, "isValid": False, "restocked": item["restocked"] or request["restock"]}
        if kind == "cancellation":
            changed["cancelledAt"] = stamp
        else:
            changed.update(refunded=True, refundedAmount=item_value(item, request))
        items.append(changed)
    slug = status_after(items, order["statusSlug"])
    status_id, status = STATUSES.get(slug, (order["statusId"], order["status"]))
    customer = order["customer"]
    if kind == "balance_refund":
        customer = {**customer, "balance": customer["balance"] + value}
    updated = {**order, "items": items, "transactions": order["transactions"] + new_transactions,
               "refunded": order["refunded"] + value, "statusSlug": slug, "statusId": status_id, "status": status,
               "customer": customer}
    record = {"orderId": order["id"], "type": kind, "refundValue": value, "online": online,
              "uuid": request["uuid"] if kind != "cancellation" else None,
              "items": sorted(chosen_ids), "restocked": request["restock"],
              "transactions": [t["id"] for t in new_transactions], "createdAt": stamp}
    notification = None
    if request["notify_customer"]:
        notification = {"orderId": order["id"], "reference": order["reference"], "email": customer["email"],
                        "type": kind, "refundValue": value, "currencyCode": order["currencyCode"]}
    return Outcome(updated, value, record, notification)


def response_body(order: dict[str, Any], value: int) -> dict[str, Any]:
    return {"currencyId": order["currencyId"], "currencySymbol": order["currencySymbol"],
            "currencyCode": order["currencyCode"], "refundValue": value, "order": order}
