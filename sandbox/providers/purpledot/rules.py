"""Purple Dot's refund rules as pure functions: no Flask, no TinyDB. Validate first, then build.

Documented (seeds/purpledot.txt): line-item refund XOR appeasement; each line item entry is
one unit (quantity 1); shipping refundable once; appeasement currency must be the order's
presentment currency; unknown order or line -> 404; mixed checkout/pre-order lines or a
failed payment refund -> 500 REFUND_FAILED; an order spanning several pre-orders -> 501.
Sandbox choices (x-sandbox-note in contracts/purpledot.openapi.yaml): repeat an id to
refund several units; `line_items: []` is INVALID_LINE_ITEMS; `shipping: false` alone is
INVALID_REFUND_REQUEST; an appeasement must be positive, have no more decimals than the
currency, and not exceed what remains refundable (INVALID_REFUND_REQUEST); the line-item
amount is the refunded units' unit totals (after tax and discount) plus the shipping.
Order of checks: request shape, then order (404, 501, 500 mixed), then lines or
appeasement, then the payment refund (500 declined).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sandbox.core import money
from sandbox.core.clock import isoformat_ms
from sandbox.core.errors import from_validation
from sandbox.core.lookup import require
from sandbox.providers.purpledot import errors

AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?")
CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class RefundRequest:
    """A well-formed refund request: one entry in `line_ids` per unit to refund."""

    id: str
    order: str
    line_ids: tuple[str, ...] = ()
    shipping: bool = False
    amount: Decimal | None = None
    currency: str | None = None
    payload: dict[str, Any] = field(default_factory=dict, compare=False)  # the body as sent (idempotency)

    @property
    def appeasement(self) -> bool:
        return self.amount is not None


@dataclass(frozen=True)
class RefundOutcome:
    order: dict[str, Any]
    refund: dict[str, Any]
    amount: int  # minor units of the order's currency


def idempotency_key(request: RefundRequest) -> str:
    """Purple Dot's key is the pair (id, order)."""
    return f"{request.order}\x1f{request.id}"


def _line_ids(items: Any) -> tuple[str, ...]:
    """:raise 400: (INVALID_LINE_ITEMS) not a non-empty list of {"id": str, "quantity": 1}."""
    if not isinstance(items, list) or not items:
        raise errors.INVALID_LINE_ITEMS.error("line_items must be a non-empty array", field="line_items")
    ids = []
    for n, item in enumerate(items):
        where = f"line_items.{n}"
        if not isinstance(item, dict):
            raise errors.INVALID_LINE_ITEMS.error(f"{where} must be an object", field=where)
        extra = sorted(set(item) - {"id", "quantity"})
        if extra:
            raise errors.INVALID_LINE_ITEMS.error(f"{where}.{extra[0]} is not a line item field",
                                                  field=f"{where}.{extra[0]}")
        line_id = item.get("id")
        if not isinstance(line_id, str) or not line_id or len(line_id) > 255:
            raise errors.INVALID_LINE_ITEMS.error(f"{where}.id must be a line item id", field=f"{where}.id")
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or quantity != 1:
            raise errors.INVALID_LINE_ITEMS.error(
                f"{where}.quantity must be 1 (repeat the id to refund more units)", field=f"{where}.quantity")
        ids.append(line_id)
    return tuple(ids)


FIELDS = frozenset({"id", "order", "line_items", "shipping", "amount", "currency"})
TEXT_MAX = 255


def _text_error(body: dict[str, Any], name: str) -> str | None:
    """What is wrong with a required non-empty string of at most TEXT_MAX characters (None: nothing)."""
    if name not in body:
        return "Missing data for required field."
    value = body[name]
    if value is None:
        return "Field may not be null."
    if not isinstance(value, str):
        return "Not a valid string."
    if not value:
        return "Must not be empty."
    return f"Longer than maximum length {TEXT_MAX}." if len(value) > TEXT_MAX else None


def _outer_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    """The outer fields' problems, worded as the other providers' schemas word them: id and
    order, a null anywhere else, and unknown fields."""
    messages = {name: [error] for name in ("id", "order") if (error := _text_error(body, name))}
    for name, value in body.items():
        if name not in FIELDS:
            messages[name] = ["Unknown field."]
        elif value is None and name not in messages:
            messages[name] = ["Field may not be null."]
    return messages


def parse_request(body: dict[str, Any]) -> RefundRequest:
    """Check every field in one pass and decide the mode (the body loader of the refund).

    :raise 400: (INVALID_REFUND_REQUEST) a missing, empty or overlong id or order, an unknown
        field, both modes, neither, or a bad shipping/amount/currency.
    :raise 400: (INVALID_LINE_ITEMS) a malformed line_items array.
    """
    messages = _outer_errors(body)
    if messages:
        raise from_validation(messages, status=400)
    line_mode = "line_items" in body or "shipping" in body
    appeasement = "amount" in body or "currency" in body
    if line_mode and appeasement:
        raise errors.INVALID_REFUND_REQUEST.error(
            "a refund is either line items/shipping or an appeasement (amount, currency), not both")
    if not line_mode and not appeasement:
        raise errors.INVALID_REFUND_REQUEST.error(
            "nothing to refund: send line_items and/or shipping, or amount and currency")
    if line_mode:
        shipping = body.get("shipping", False)
        if not isinstance(shipping, bool):
            raise errors.INVALID_REFUND_REQUEST.error("shipping must be a boolean", field="shipping")
        if "line_items" not in body and not shipping:
            raise errors.INVALID_REFUND_REQUEST.error("nothing to refund: shipping is false and no line_items",
                                                      field="shipping")
        ids = _line_ids(body["line_items"]) if "line_items" in body else ()
        return RefundRequest(body["id"], body["order"], line_ids=ids, shipping=shipping, payload=body)
    try:
        amount = money.parse(body.get("amount"), AMOUNT)
    except ValueError:
        raise errors.INVALID_REFUND_REQUEST.error("amount must be a decimal string such as \"5.00\"",
                                                  field="amount") from None
    currency = body.get("currency")
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency):
        raise errors.INVALID_REFUND_REQUEST.error("currency must be a three-letter ISO 4217 code", field="currency")
    return RefundRequest(body["id"], body["order"], amount=amount, currency=currency, payload=body)


def paid_total(order: dict[str, Any]) -> int:
    """What the customer paid for the order: unit totals of every unit, plus shipping (minor units)."""
    return sum(line["unit_total"] * line["quantity"] for line in order["line_items"]) + order["shipping"]["amount"]


def _check_order(order: dict[str, Any] | None) -> dict[str, Any]:
    order = require(order, partial(errors.UNKNOWN_ORDER.error, field="order"))
    if len(order["pre_orders"]) > 1:
        raise errors.MULTIPLE_PRE_ORDERS.error(
            f"order {order['order']} spans {len(order['pre_orders'])} pre-orders; refunds of such orders "
            "are not supported")
    kinds = {line["kind"] for line in order["line_items"]}
    if "checkout" in kinds and "pre_order" in kinds:
        raise errors.REFUND_FAILED.error("the order mixes checkout and pre-order line items")
    return order


def _line_amount(order: dict[str, Any], request: RefundRequest) -> tuple[int, Counter]:
    lines = {line["id"]: line for line in order["line_items"]}
    unknown = sorted({i for i in request.line_ids if i not in lines})
    if unknown:
        raise errors.UNKNOWN_LINE_ITEMS.error(f"not on order {order['order']}: {', '.join(unknown)}",
                                              field="line_items")
    units = Counter(request.line_ids)
    for line_id, count in units.items():
        line = lines[line_id]
        left = line["quantity"] - line["refunded_quantity"]
        if count > left:
            raise errors.NOT_ENOUGH_ITEMS_LEFT_TO_REFUND.error(
                f"line {line_id}: {count} requested, {left} left to refund", field="line_items")
    if request.shipping and order["shipping"]["refunded"]:
        raise errors.SHIPPING_ALREADY_REFUNDED.error(field="shipping")
    amount = sum(lines[i]["unit_total"] * n for i, n in units.items())
    return amount + (order["shipping"]["amount"] if request.shipping else 0), units


def _appeasement_amount(order: dict[str, Any], request: RefundRequest) -> int:
    currency = order["currency"]
    if request.currency != currency:
        raise errors.CURRENCY_MISMATCH.error(f"the order's presentment currency is {currency}, not {request.currency}",
                                             field="currency")
    try:
        amount = money.to_minor(request.amount, currency)  # type: ignore[arg-type]
    except ValueError as exc:
        raise errors.INVALID_REFUND_REQUEST.error(f"amount: {exc}", field="amount") from None
    if amount <= 0:
        raise errors.INVALID_REFUND_REQUEST.error("amount must be greater than zero", field="amount")
    left = paid_total(order) - order["refunded_total"]
    if amount > left:
        raise errors.INVALID_REFUND_REQUEST.error(
            f"amount exceeds what remains refundable ({money.format_minor(left, currency)} {currency})", field="amount")
    return amount


def refund(order: dict[str, Any] | None, request: RefundRequest, *, refund_id: str, now: datetime) -> RefundOutcome:
    """Refund line items and/or shipping, or an appeasement amount.

    :raise 404: (UNKNOWN_ORDER, UNKNOWN_LINE_ITEMS)  :raise 501: (MULTIPLE_PRE_ORDERS)
    :raise 400: (NOT_ENOUGH_ITEMS_LEFT_TO_REFUND, SHIPPING_ALREADY_REFUNDED, CURRENCY_MISMATCH,
        INVALID_REFUND_REQUEST)  :raise 500: (REFUND_FAILED) mixed lines, or the payment refund failed.
    """
    order = _check_order(order)
    units: Counter = Counter()
    if request.appeasement:
        amount = _appeasement_amount(order, request)
    else:
        amount, units = _line_amount(order, request)
    if order["payment"].get("refund_declined"):
        raise errors.REFUND_FAILED.error(f"the payment refund was declined by {order['payment']['gateway']}")
    stamp = isoformat_ms(now)
    updated = {
        **order,
        "line_items": [{**line, "refunded_quantity": line["refunded_quantity"] + units.get(line["id"], 0)}
                       for line in order["line_items"]],
        "shipping": {**order["shipping"], "refunded": order["shipping"]["refunded"] or request.shipping},
        "refunded_total": order["refunded_total"] + amount,
        "updated_at": stamp,
    }
    currency = order["currency"]
    record = {
        "refund_id": refund_id, "id": request.id, "order": order["order"],
        "mode": "appeasement" if request.appeasement else "line_items",
        "line_items": [{"id": i, "quantity": n} for i, n in sorted(units.items())],
        "shipping": request.shipping, "amount": money.format_minor(amount, currency), "currency": currency,
        "created_at": stamp,
    }
    return RefundOutcome(updated, record, amount)


def response_body(request: RefundRequest, outcome: RefundOutcome) -> dict[str, Any]:
    """Purple Dot's success envelope."""
    return {"meta": {"success": True},
            "data": {"id": request.id, "order": request.order,
                     "refunded": {"amount": outcome.refund["amount"], "currency": outcome.refund["currency"]}}}
