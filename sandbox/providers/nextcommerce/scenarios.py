"""Next Commerce scenarios: a captured physical order, an authorized-only one, a digital one, and
captured orders whose payment gateway fails a refund transaction or errors (the gateway's side
is kept in the stored order's `sandbox`, outside the Admin API's shapes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.core import ids
from sandbox.core.fields import Text
from sandbox.core.provider import SeededOrder, scenario_family
from sandbox.core.schemas import Strict


class Overrides(Strict):
    number = Text(max_length=64)


OVERRIDES = Overrides()


#: kind -> how the payment gateway answers refunds (absent: it approves them)
GATEWAYS = {"transaction_failed": "fail_once", "gateway_error": "error"}


def _line(fake: Any, line_id: int, *, digital: bool, fulfilled: bool, quantity: int, unit: int) -> dict[str, Any]:
    title = fake.catch_phrase()
    return {"id": line_id, "quantity": quantity, "current_quantity": quantity,
            "fulfillable_quantity": 0 if fulfilled else quantity, "unit_excl": unit, "unit_incl": unit + unit // 10,
            "product_id": fake.random_int(100, 999), "variant_id": fake.random_int(1000, 9999),
            "sku": fake.bothify("NX-####-??").upper(), "product_title": title,
            "variant_title": "Download" if digital else fake.random_element(["Small", "Medium", "Large"]),
            "product_url": f"/products/{title.lower().replace(' ', '-')}/",
            "product_image": f"https://cdn.example.com/{fake.uuid4()}.png",
            "requires_shipping": not digital, "is_gift_card": False, "is_upsell": False,
            "fulfillment_status": "fulfilled" if fulfilled else "unfulfilled"}


def make_order(fake: Any, kind: str, overrides: Mapping[str, Any]) -> SeededOrder:
    """A stored order (cents) and its handles.

    kind: captured | uncaptured | digital | transaction_failed | gateway_error."""
    number = overrides.get("number") or str(fake.random_int(200_000, 999_999))
    base = int(number) * 10 if number.isdigit() else fake.random_int(10_000, 99_999) * 10
    stamp = ids.scenario_timestamp(fake)
    digital = kind == "digital"
    lines = [_line(fake, base + 1, digital=digital, fulfilled=kind != "uncaptured", quantity=2 if not digital else 1,
                   unit=fake.random_int(10, 60) * 100),
             _line(fake, base + 2, digital=digital, fulfilled=False, quantity=1, unit=fake.random_int(5, 40) * 100)]
    shipping = 0 if digital else fake.random_element([500, 795, 1200])
    total = sum(line["unit_incl"] * line["quantity"] for line in lines) + shipping + shipping // 10
    captured = kind != "uncaptured"
    gateway = {"id": 3, "name": "Test Gateway", "type": "test"}
    debit = {"id": base + 9, "amount": total, "refunded": 0, "captured": captured, "currency": "USD",
             "status": "succeeded", "type": "debit", "parent_id": None, "is_external": False, "is_test": True,
             "is_disputed": False, "is_initial_retry": False, "auth_code": fake.bothify("??####").upper(),
             "external_id": fake.bothify("ch_################"), "network_transaction_id": "",
             "payment_method": "card", "response_code": 100, "statement_descriptor": "NEXTSTORE",
             "date_created": stamp,
             "payment_details": {"bankcard_first_six": "424242", "bankcard_last_four": "4242",
                                 "card_token": fake.bothify("tok_############"), "gateway": gateway, "is_3ds": False,
                                 "optimized_3ds": False, "paypal_vault_id": "", "sca_flow": ""}}
    order = {
        "number": number, "status": "open", "payment_status": "paid" if captured else "authorized",
        "fulfillment_status": "partially_fulfilled" if kind != "uncaptured" else "unfulfilled", "currency": "USD",
        "lines": lines, "shipping_excl": shipping, "shipping_incl": shipping + shipping // 10,
        "shipping_refunded_excl": 0, "shipping_code": "standard" if shipping else "",
        "shipping_method": "Standard Shipping" if shipping else "", "transactions": [debit], "refunds": [],
        "user": {"id": fake.random_int(1000, 9999), "email": fake.email(), "first_name": fake.first_name(),
                 "last_name": fake.last_name()},
        "date_placed": stamp,
        "sandbox": {"refund_gateway": GATEWAYS.get(kind)},
    }
    return SeededOrder(order=order, order_ref=order["number"], currency=order["currency"],
                       line_item_refs=[str(line["id"]) for line in order["lines"]],
                       transaction_refs=[str(t["id"]) for t in order["transactions"]])


SCENARIOS = scenario_family("nextcommerce", make_order, OVERRIDES, [
    ("captured", "Physical lines (one fulfilled, one not), shipping, a captured card payment.",
     "refund_order -> 200 (return/no_restock the fulfilled line, cancel the other); calculate round-trips"),
    ("uncaptured", "An authorized, not captured, card payment.",
     "refund_order with a partial amount -> 400; with the full amount -> 200, payment voided"),
    ("digital", "Digital lines: one fulfilled (no_restock only), one not (cancel only); no shipping.",
     "refund_order -> 200 with no_restock / cancel; return -> 400"),
    ("transaction_failed", "As captured, but the payment gateway fails the next refund transaction.",
     "refund_order -> 200, its transactions status failed (response_code 300), total_refund_amount 0.00, "
     "payment_status unchanged, the money still refundable on the debit (retry with transactions -> succeeded); "
     "the lines and shipping are refunded as asked"),
    ("gateway_error", "As captured, but the payment gateway errors on every refund that moves money.",
     "refund_order with transactions -> 502 {\"detail\": \"Payment gateway error: ...\"}, nothing recorded; "
     "calculate and retrieve work"),
])
