"""Purple Dot's wire shapes: the refund request's outer fields, and the order as the sandbox shows it.

The request's modes and their error codes (INVALID_REFUND_REQUEST vs INVALID_LINE_ITEMS) are
decided by `rules.parse_request`; marshmallow only checks the outer fields and refuses
unknown ones (INVALID_REFUND_REQUEST).
"""

from __future__ import annotations

from marshmallow import fields

from sandbox.core import money
from sandbox.core.fields import Text
from sandbox.core.schemas import Strict


class RefundIn(Strict):
    id = Text(required=True, max_length=255)
    order = Text(required=True, max_length=255)
    line_items = fields.Raw()
    shipping = fields.Raw()
    amount = fields.Raw()
    currency = fields.Raw()


REFUND = RefundIn()


def present_order(order: dict) -> dict:
    """A stored order for GET /_sandbox/purpledot/orders/{ref}: money as decimal strings,
    with what remains refundable."""
    currency = order["currency"]
    lines = []
    for line in order["line_items"]:
        lines.append({
            **{k: v for k, v in line.items() if k not in ("unit_price", "unit_total")},
            "unit_price": money.format_minor(line["unit_price"], currency),
            "unit_total": money.format_minor(line["unit_total"], currency),
            "refundable_quantity": line["quantity"] - line["refunded_quantity"],
        })
    paid = sum(line["unit_total"] * line["quantity"] for line in order["line_items"]) + order["shipping"]["amount"]
    return {
        **{k: v for k, v in order.items() if k not in ("line_items", "shipping", "refunded_total")},
        "line_items": lines,
        "shipping": {"amount": money.format_minor(order["shipping"]["amount"], currency),
                     "refunded": order["shipping"]["refunded"]},
        "total_paid": money.format_minor(paid, currency),
        "total_refunded": money.format_minor(order["refunded_total"], currency),
        "refundable_amount": money.format_minor(paid - order["refunded_total"], currency),
    }
