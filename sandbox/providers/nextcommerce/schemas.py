"""Next Commerce's wire shapes (2024-04-01 / unstable): refund and calculate requests, orders out.

Amounts arrive as decimal strings matching the vendor's own regexes (which admit '-') and
are handled in minor units (cents); unknown keys are ignored, as DRF does.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from sandbox.core import money
from sandbox.core.fields import DecimalString, JsonBool, JsonInt
from sandbox.core.schemas import In

VERSIONS = ("2024-04-01", "unstable")
RESTOCK_TYPES = ("cancel", "no_restock", "return")


def amount(pattern: str, **kwargs) -> DecimalString:
    """A decimal string matching `pattern` (the vendor's regex), loaded as integer cents."""
    return DecimalString(pattern, places=2, error_messages={"invalid": "A valid number is required."}, **kwargs)


class VersionHeader(In):
    """seeds/nextcommerce.txt: X-29next-API-Version, Default "unstable": without it a request is unstable."""

    version = fields.String(data_key="x-29next-api-version", validate=validate.OneOf(VERSIONS),
                            load_default="unstable")


class NumberPath(In):
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))


class RefundLineIn(In):
    line_id = JsonInt(required=True, minimum=1)
    quantity = JsonInt(required=True, minimum=0, maximum=2147483647)
    restock_type = fields.String(required=True, validate=validate.OneOf(RESTOCK_TYPES))


class CalculateLineIn(RefundLineIn):
    restock_type = fields.String(validate=validate.OneOf(RESTOCK_TYPES), load_default=None)


class ShippingIn(In):
    amount_excl_tax = amount(r"-?[0-9]{0,8}(?:\.[0-9]{0,2})?", load_default=None, allow_none=False)
    full_refund = JsonBool(load_default=False)


class TransactionIn(In):
    id = JsonInt(required=True, minimum=1)
    amount = amount(r"-?[0-9]{0,10}(?:\.[0-9]{0,2})?", required=True)
    is_external = JsonBool(load_default=False)


class RefundIn(In):
    note = fields.String(validate=validate.Length(max=500), load_default="")
    refund_lines = fields.List(fields.Nested(RefundLineIn), load_default=list)
    refund_shipping = fields.Nested(ShippingIn, load_default=None)
    send_refund_notification = JsonBool(load_default=True)
    transactions = fields.List(fields.Nested(TransactionIn), required=True)


class CalculateIn(In):
    refund_lines = fields.List(fields.Nested(CalculateLineIn), load_default=list)
    refund_shipping = fields.Nested(ShippingIn, load_default=None)


VERSION = VersionHeader()
NUMBER_PATH = NumberPath()
REFUND = RefundIn()
CALCULATE = CalculateIn()


def present_transaction(t: dict[str, Any], currency: str) -> dict[str, Any]:
    shown = {k: v for k, v in t.items() if k not in ("refunded", "captured")}
    amount = money.format_minor(t["amount"], currency)
    shown.update(amount=amount, currency=currency, report_values={"amount": amount, "currency": currency})
    return shown


def _amounts(item: dict[str, Any], currency: str) -> dict[str, Any]:
    """A refund line or adjustment (cents `excl`, `incl`) with its amounts and report values."""
    values = {"amount_excl_tax": money.format_minor(item["excl"], currency),
              "amount_incl_tax": money.format_minor(item["incl"], currency)}
    return {**{k: v for k, v in item.items() if k not in ("excl", "incl")}, **values,
            "report_values": {**values, "currency": currency}}


def present_refund(record: dict[str, Any], currency: str) -> dict[str, Any]:
    """A refund record (cents) as the Admin API shows it: the answer to refund_order."""
    totals = {k: money.format_minor(record[k], currency)
              for k in ("total_refund_amount", "total_return_excl_tax", "total_return_incl_tax")}
    return {**{k: record[k] for k in ("id", "order_number", "note", "created_at", "user_id")},
            "adjustments": [_amounts(a, currency) for a in record["adjustments"]],
            "refund_line_items": [_amounts(i, currency) for i in record["refund_line_items"]],
            **totals, "report_values": {"currency": currency, **totals},
            "transactions": [present_transaction(t, currency) for t in record["transactions"]]}


def present_notification(order: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The refund notification the store sends its customer."""
    return {"order_number": order["number"], "refund_id": record["id"], "email": order["user"]["email"],
            "total_refund_amount": money.format_minor(record["total_refund_amount"], order["currency"]),
            "currency": order["currency"]}


def present_calculation(calc: dict[str, Any]) -> dict[str, Any]:
    """The answer to calculate_refund: `rules.calculate`'s cents as decimal strings."""
    currency = calc["currency"]

    def shown(part: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
        return {**part, **{k: money.format_minor(part[k], currency) for k in keys}}

    amounts = ("amount_excl_tax", "amount_incl_tax", "total_tax")
    return {**shown(calc, amounts),
            "refund_lines": [shown(line, amounts) for line in calc["refund_lines"]],
            "refund_shipping": shown(calc["refund_shipping"], (*amounts, "refundable_amount")),
            "transactions": [shown(t, ("amount", "refundable_amount")) for t in calc["transactions"]]}


def present_order(order: dict[str, Any]) -> dict[str, Any]:
    """A stored order (cents) as the Admin API shows it."""
    currency = order["currency"]
    lines_incl = sum(line["unit_incl"] * line["quantity"] for line in order["lines"])
    lines_excl = sum(line["unit_excl"] * line["quantity"] for line in order["lines"])
    total_incl, total_excl = lines_incl + order["shipping_incl"], lines_excl + order["shipping_excl"]
    captured = all(t["captured"] for t in order["transactions"] if t["type"] == "debit")
    totals = {"total_incl_tax": total_incl, "total_excl_tax": total_excl, "total_tax": total_incl - total_excl,
              "total_discount": 0, "total_outstanding": 0 if captured else total_incl,
              "shipping_incl_tax": order["shipping_incl"], "shipping_excl_tax": order["shipping_excl"]}
    return {
        "number": order["number"], "status": order["status"], "payment_status": order["payment_status"],
        "fulfillment_status": order["fulfillment_status"], "currency": currency,
        "lines": [{**{k: v for k, v in line.items() if k not in ("unit_excl", "unit_incl")},
                   "price_excl_tax": money.format_minor(line["unit_excl"], currency),
                   "price_incl_tax": money.format_minor(line["unit_incl"], currency),
                   "currency": currency} for line in order["lines"]],
        "refunds": [present_refund(record, currency) for record in order["refunds"]],
        "transactions": [present_transaction(t, currency) for t in order["transactions"]],
        **{k: money.format_minor(v, currency) for k, v in totals.items()},
        "shipping_code": order["shipping_code"], "shipping_method": order["shipping_method"],
        "user": order["user"], "date_placed": order["date_placed"],
    }
