"""Shoplazza's wire shapes: the path id, and stored orders/refunds rendered as snake_case JSON.

Amounts are stored in the currency's minor units and rendered as decimal strings ("15.00").
The stored order keeps the sandbox's own settings under `sandbox`, never shown to clients.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validate

from sandbox.core import money
from sandbox.core.fields import Text
from sandbox.core.schemas import Strict

ID_PATTERN = r"^[0-9]{1,20}(-[0-9]{1,20})?$"
ORDER_MONEY = ("total_price", "total_discount", "total_tax", "total_shipping", "sub_total", "code_discount_total",
               "line_item_discount_total", "total_refund_price", "total_refund_tax", "total_refund_discount",
               "gift_card_total", "additional_total")
LINE_MONEY = ("compare_at_price", "price", "total", "refund_total")


class OrderPath(Strict):
    id = Text(required=True, validate=validate.Regexp(ID_PATTERN, error="Invalid ID"))


ORDER_PATH = OrderPath()


def present_line(line: dict[str, Any], currency: str) -> dict[str, Any]:
    return {**line, **{k: money.format_minor(line[k], currency) for k in LINE_MONEY}}


def present_order(order: dict[str, Any]) -> dict[str, Any]:
    """A stored order in Shoplazza's JSON."""
    currency = order["currency"]
    shown = {k: v for k, v in order.items() if k != "sandbox"}
    shown.update({k: money.format_minor(order[k], currency) for k in ORDER_MONEY})
    shown["shipping_line"] = {**order["shipping_line"],
                              "shipping_price": money.format_minor(order["shipping_line"]["shipping_price"], currency)}
    shown["line_items"] = [present_line(line, currency) for line in order["line_items"]]
    shown["additional_prices"] = [{**p, "price": money.format_minor(p["price"], currency)}
                                  for p in order["additional_prices"]]
    return shown


def present_record(record: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    """A stored refund record in Shoplazza's JSON, each refunded line with its line item."""
    currency = record["currency"]
    lines = {line["id"]: line for line in order["line_items"]}
    return {
        "id": record["id"], "order_id": record["order_id"], "note": record["note"],
        "refund_price": money.format_minor(record["refund_price"], currency),
        "refund_shipping": money.format_minor(record["refund_shipping"], currency),
        "refund_tax": money.format_minor(record["refund_tax"], currency), "currency": currency,
        "status": record["status"],
        "created_at": record["created_at"], "updated_at": record["updated_at"],
        "refund_line_items": [{"refund_quantity": item["refund_quantity"], "line_item_id": item["line_item_id"],
                               "line_item": present_line(lines[item["line_item_id"]], currency)}
                              for item in record["refund_line_items"]],
    }


def present_refund_order(record: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    """The answer to POST .../refund: the refund order with the order and the record."""
    return {
        "id": record["refund_order_id"], "status": record["status"], "number": record["number"],
        "created_at": record["created_at"], "note": record["note"], "refund_fail_reason": record["fail_reason"],
        "all_refunded": order["financial_status"] == "refunded", "refund_status": record["status"],
        "order": present_order(order), "refunds": present_record(record, order),
    }
