"""Fire's rules as pure functions: no Flask, no TinyDB. Validate first, then build new state.

Documented (seeds/fire.txt, "Processing rules"):
- the order is found by `account` and `order_uid`; it is set to CANCELED;
- if a stored payment method's processor supports refunds (Deuna), Fire attempts the refund
  and sets `payment_status` to REFUNDED on success; a Deuna order without
  `metadata.order_token` is a 400;
- other processors get `payment_status` CANCELED;
- a downstream cancellation notification follows the save.
Sandbox choices (x-sandbox-note in the contract):
- Deuna is the only refund-capable processor the sandbox knows; its refund succeeds unless
  the stored payment method carries `refund_decline` (the processor's side, set by the
  fire.deuna_declined scenario and never shown in Fire's order shape). A declined refund
  still cancels the order (200, status CANCELED) but payment_status becomes CANCELED, not
  REFUNDED; the refund record lists the declined payment under `declined`, and the
  cancellation notification is sent as usual;
- refunding an order that is already CANCELED answers 200 with the order unchanged and
  records nothing (no second refund, no second notification);
- an injected order starts CREATED, its payment APPROVED when every payment method's
  transactionStatus is APPROVED (else PENDING); a second inject of the same orderId for the
  same account is a 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.core import money
from sandbox.core.clock import isoformat_ms
from sandbox.core.lookup import Reader, require
from sandbox.providers.fire import errors

#: Fire's prices are stored as integers scaled by 10**SCALE (its "internal scaled" amounts).
SCALE = 4
REFUND_CAPABLE = frozenset({"deuna"})
CANCELED = "CANCELED"
REFUNDED = "REFUNDED"


@dataclass(frozen=True)
class RefundOutcome:
    """The order after the call; the refund record and notification, or None when nothing changed."""

    order: dict[str, Any]
    refund: dict[str, Any] | None
    notification: dict[str, Any] | None


def external_ref(account: str, order_id: str) -> str:
    """The key that makes an aggregator orderId unique per account."""
    return f"{account}\x1f{order_id}"


def injected_as(book: Reader, account: str, order_id: str) -> str | None:
    """The uid of the order this account already injected with this aggregator orderId, if any."""
    entry = book.get("order_ids", external_ref(account, order_id))
    return entry["uid"] if entry else None


def order_id_entry(order: dict[str, Any]) -> dict[str, str]:
    """What the order_ids table keeps so that the order's aggregator orderId stays unique per account."""
    return {"ref": external_ref(order["account_uid"], order["metadata"]["aggregator_order_id"]), "uid": order["uid"]}


def _scaled(value) -> int:
    return money.to_scaled(value, SCALE)


def inject_order(payload: dict[str, Any], *, account: str, uid: str, now: datetime,
                 duplicate_of: str | None = None) -> dict[str, Any]:
    """Build the stored order for an inject request.

    :raise 409: (DUPLICATE_ORDER) when `duplicate_of` names an order with the same orderId.
    """
    if duplicate_of is not None:
        raise errors.DUPLICATE_ORDER.error(
            f"orderId {payload['order_id']!r} was already injected for this account as order {duplicate_of}",
            field="orderId")
    stamp = isoformat_ms(now)
    lines = [{
        "uid": f"{uid[:8]}-line-{n}",
        "product_id": p["product_id"],
        "product": p["product"],
        "type": p["type"],
        "quantity": p["quantity"],
        "unit_price": _scaled(p["price"]["unit_price"]["total"]),
        "total_price": _scaled(p["price"]["total_price"]["total"]),
    } for n, p in enumerate(payload["order"]["products"], start=1)]
    price_fields = ("subtotal_without_taxes", "discount_percentage", "discounts_value",
                    "subtotal_include_discounts", "taxes_percentage", "tax_value", "total")
    totals = [{"currency_code": t["currency_code"], **{f: _scaled(t[f]) for f in price_fields}}
              for t in payload["payments"]["totals"]]
    methods = [{
        "uid": f"{uid[:8]}-pm-{n}",
        "processor": m["processor"],
        "currency_code": m["currency_code"],
        "transaction_status": m["transaction_status"],
        "total_bill": _scaled(m["total_bill"]),
    } for n, m in enumerate(payload["payments"]["payment_methods"], start=1)]
    approved = all(m["transaction_status"].upper() == "APPROVED" for m in methods)
    metadata = dict(payload.get("metadata") or {})
    metadata["aggregator_order_id"] = payload["order_id"]
    return {
        "uid": uid,
        "order_code": f"ORD-{now.year}-{int(uid.replace('-', '')[:8], 16) % 1_000_000:06d}",
        "account_uid": account,
        "vendor_uid": payload["store"]["vendor_id"],
        "store_uid": payload["store"]["id"],
        "status": "CREATED",
        "payment_status": "APPROVED" if approved else "PENDING",
        "order_lines": lines,
        "totals": totals,
        "payment_methods": methods,
        "metadata": metadata,
        "created_at": stamp,
        "updated_at": stamp,
        "deleted_at": None,
    }


def find_order(order: dict[str, Any] | None, account: str) -> dict[str, Any]:
    """The order if it exists and belongs to `account`.

    :raise 404: (ORDER_NOT_FOUND) otherwise; another account's order is indistinguishable
        from a missing one.
    """
    order = require(order, errors.ORDER_NOT_FOUND.error)
    if order.get("account_uid") != account:
        err = errors.ORDER_NOT_FOUND.error()
        err.detail = (f"order {order['uid']} belongs to account '{order.get('account_uid')}', not to '{account}' "
                      "(the account header); a seeded handle's headers carry its account")
        raise err
    return order


def _payment(method: dict[str, Any]) -> dict[str, Any]:
    """A stored payment method as the refund record names it."""
    return {"payment_method_uid": method["uid"], "processor": method["processor"],
            "currency_code": method["currency_code"], "amount": money.format_scaled(method["total_bill"], SCALE)}


def refund_order(order: dict[str, Any] | None, request: dict[str, Any], *, account: str, now: datetime,
                 refund_id: str) -> RefundOutcome:
    """Cancel the order and refund what a refund-capable processor took.

    :raise 404: (ORDER_NOT_FOUND) no such order for this account.
    :raise 400: (MISSING_ORDER_TOKEN) a Deuna order without metadata.order_token; nothing changes.
    A processor that declines (`refund_decline` on its stored payment method) leaves
    payment_status CANCELED instead of REFUNDED; the order is cancelled all the same.
    """
    order = find_order(order, account)
    if order["status"] == CANCELED:
        return RefundOutcome(order, None, None)
    capable = [m for m in order["payment_methods"] if m["processor"].strip().lower() in REFUND_CAPABLE]
    if capable and not (order.get("metadata") or {}).get("order_token"):
        raise errors.MISSING_ORDER_TOKEN.error(field="metadata.order_token")
    stamp = isoformat_ms(now)
    declined = [m for m in capable if m.get("refund_decline")]
    refundable = [m for m in capable if not m.get("refund_decline")]
    payment_status = REFUNDED if capable and not declined else CANCELED
    updated = {**order, "status": CANCELED, "payment_status": payment_status, "updated_at": stamp}
    refund = {
        "id": refund_id,
        "order_uid": order["uid"],
        "account_uid": account,
        "outcome": payment_status,
        "reason": request["reason"],
        "vendor_uid": request["vendor_uid"],
        "store_uid": request.get("store_uid"),
        "media": request.get("media"),
        "payment_method_uid": request.get("payment_method_uid"),
        "email": request.get("email"),
        "authenticated": bool(request.get("customer_uid")),
        "payment_user": request.get("customer_uid") or request.get("anonymous_customer_uid"),
        "refunded": [_payment(m) for m in refundable],
        "declined": [{**_payment(m), "decline_code": m["refund_decline"]} for m in declined],
        "created_at": stamp,
    }
    notification = {"event": "order.cancelled", "order_uid": order["uid"], "order_code": order["order_code"],
                    "account_uid": account, "status": "cancelled", "payment_status": payment_status,
                    "reason": request["reason"]}
    return RefundOutcome(updated, refund, notification)
