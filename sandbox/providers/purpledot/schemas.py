"""Purple Dot's wire shapes: the order as the sandbox shows it.

The refund request has no schema here: its fields decide each other's error codes
(INVALID_REFUND_REQUEST vs INVALID_LINE_ITEMS), so `rules.parse_request` checks all of them
in one pass (the route's body loader).
"""

from __future__ import annotations

from sandbox.core import money


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
