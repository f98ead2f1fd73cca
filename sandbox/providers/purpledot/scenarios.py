"""Purple Dot scenarios: Shopify orders exported from pre-orders, one per documented outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import validate

from sandbox.core import ids, money
from sandbox.core.fields import Text
from sandbox.core.provider import SeededOrder, scenario_family
from sandbox.core.schemas import Strict


class Overrides(Strict):
    order = Text(max_length=255)
    order_number = Text(max_length=64)
    currency = Text(validate=validate.Regexp(r"^[A-Z]{3}$"))


OVERRIDES = Overrides()


def _amount(fake: Any, currency: str, low: int, high: int) -> int:
    """A price between low and high whole units, in the currency's minor units."""
    return fake.random_int(low, high) * 10 ** money.exponent(currency) + (
        fake.random_int(0, 99) if money.exponent(currency) == 2 else 0)


def make_order(fake: Any, kind: str, overrides: Mapping[str, Any]) -> SeededOrder:
    """kind: preorder | mixed_checkout_preorder | multi_preorder | refund_declined."""
    currency = overrides.get("currency") or fake.random_element(["USD", "GBP", "EUR"])
    order_id = overrides.get("order") or str(fake.random_int(5_000_000_000_000, 5_999_999_999_999))
    pre_orders = [{"id": fake.uuid4(), "reference": f"#PD{fake.random_int(1000, 9999)}"}
                  for _ in range(2 if kind == "multi_preorder" else 1)]
    lines = []
    for n in range(fake.random_int(2, 3)):
        unit_price = _amount(fake, currency, 15, 120)
        lines.append({
            "id": str(fake.random_int(10_000_000_000_000, 19_999_999_999_999)),
            "pre_order_id": pre_orders[n % len(pre_orders)]["id"],
            "kind": "checkout" if kind == "mixed_checkout_preorder" and n == 0 else "pre_order",
            "name": fake.catch_phrase(), "sku": fake.bothify("SKU-????-####").upper(),
            "quantity": 2 if n == 0 else fake.random_int(1, 3),
            "unit_price": unit_price, "unit_total": unit_price + unit_price // 10,  # 10 % tax
            "refunded_quantity": 0,
        })
    stamp = ids.scenario_timestamp(fake)
    order = {
        "order": order_id,
        "order_number": overrides.get("order_number") or f"#{fake.random_int(1000, 99999)}",
        "currency": currency,
        "pre_orders": pre_orders,
        "line_items": lines,
        "shipping": {"amount": _amount(fake, currency, 3, 15), "refunded": False},
        "payment": {"id": str(fake.random_int(60_000_000_000, 69_999_999_999)), "gateway": "shopify_payments",
                    "refund_declined": kind == "refund_declined"},
        "refunded_total": 0,
        "created_at": stamp, "updated_at": stamp,
    }
    return SeededOrder(order=order, order_ref=order_id, currency=currency,
                       line_item_refs=[line["id"] for line in lines], transaction_refs=[order["payment"]["id"]])


SCENARIOS = scenario_family("purpledot", make_order, OVERRIDES, [
    ("preorder", "A paid pre-order exported to Shopify: 2-3 lines (the first with quantity 2) and shipping.",
     "refund -> 200 with the refunded amount; repeat with the same id -> the same answer"),
    ("mixed_checkout_preorder", "A Shopify order mixing an in-stock checkout line with pre-order lines.",
     "refund -> 500 REFUND_FAILED, nothing changes, nothing kept under the idempotency key"),
    ("multi_preorder", "A Shopify order spanning two pre-orders.",
     "refund -> 501 MULTIPLE_PRE_ORDERS, nothing changes"),
    ("refund_declined", "A pre-order whose payment refund is declined.",
     "refund -> 500 REFUND_FAILED, nothing changes, nothing kept under the idempotency key"),
])
