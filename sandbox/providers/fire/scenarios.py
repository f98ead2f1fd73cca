"""Fire scenarios: Faker-built orders that lead to each documented refund outcome.

Orders belong to the sandbox's default account, vendor and store unless overridden, so a
staging app configured with those values can address them without changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields

from sandbox.core import ids, money
from sandbox.core.fields import Text
from sandbox.core.provider import SeededOrder, scenario_family
from sandbox.core.schemas import Strict
from sandbox.providers.fire.rules import SCALE, order_id_entry

ACCOUNT = "acc-uid-12345"
VENDOR = "vendor-uid-abc"
STORE = "store-uid-xyz"


class Overrides(Strict):
    """Order fields a scenario caller may set (the account, vendor and store a staging app uses)."""

    uid = Text(max_length=128)
    account_uid = Text(max_length=128)
    vendor_uid = Text(max_length=128)
    store_uid = Text(max_length=128)
    order_code = Text(max_length=64)
    metadata = fields.Dict(keys=fields.String())


OVERRIDES = Overrides()


def make_order(fake: Any, *, processor: str, order_token: bool, overrides: Mapping[str, Any],
               refund_decline: str | None = None) -> SeededOrder:
    """One paid order with 1-3 lines, built only from `fake` (so a seed fixes it).

    `refund_decline` is the processor's side of the payment: the code its refund will be
    declined with (stored on the payment method, never shown in Fire's order shape)."""
    uid = fake.uuid4()
    currency = fake.random_element(["USD", "MXN", "COP", "BRL"])
    lines, subtotal = [], 0
    for n in range(1, fake.random_int(1, 3) + 1):
        quantity = fake.random_int(1, 3)
        unit = fake.random_int(150, 4500) * 100  # 1.50 - 45.00, scaled by 10**4
        lines.append({"uid": f"{uid[:8]}-line-{n}", "product_id": f"P-{fake.random_int(1000, 9999)}",
                      "product": fake.catch_phrase(), "type": "PRODUCT", "quantity": quantity,
                      "unit_price": unit, "total_price": unit * quantity})
        subtotal += unit * quantity
    tax = subtotal * 12 // 100
    total = subtotal + tax
    stamp = ids.scenario_timestamp(fake)
    metadata: dict[str, Any] = {"aggregator_order_id": f"AGG-{fake.random_int(100000, 999999)}"}
    if order_token:
        metadata["order_token"] = fake.sha1()[:24]
    order = {
        "uid": uid,
        "order_code": f"ORD-{stamp[:4]}-{fake.random_int(0, 999999):06d}",
        "account_uid": ACCOUNT, "vendor_uid": VENDOR, "store_uid": STORE,
        "status": "CREATED", "payment_status": "APPROVED",
        "order_lines": lines,
        "totals": [{"currency_code": currency, "subtotal_without_taxes": subtotal, "discount_percentage": 0,
                    "discounts_value": 0, "subtotal_include_discounts": subtotal,
                    "taxes_percentage": money.to_scaled("12", SCALE), "tax_value": tax, "total": total}],
        "payment_methods": [{"uid": f"{uid[:8]}-pm-1", "processor": processor, "currency_code": currency,
                             "transaction_status": "APPROVED", "total_bill": total}],
        "metadata": metadata,
        "created_at": stamp, "updated_at": stamp, "deleted_at": None,
    }
    if refund_decline:
        order["payment_methods"][0]["refund_decline"] = refund_decline
    order.update(overrides)
    return SeededOrder(
        order=order, order_ref=order["uid"], currency=currency,
        line_item_refs=[line["uid"] for line in lines],
        transaction_refs=[m["uid"] for m in order["payment_methods"]],
        headers={"account": order["account_uid"]},
        extra=[("order_ids", order_id_entry(order))] if "aggregator_order_id" in order["metadata"] else [],
    )


#: kind -> (processor, whether metadata carries an order_token, the processor's refund decline code)
KINDS = {"deuna_paid": ("Deuna", True, None), "deuna_missing_token": ("Deuna", False, None),
         "card_paid": ("Kushki", False, None), "deuna_declined": ("Deuna", True, "processor_declined")}


def build(fake: Any, kind: str, overrides: Mapping[str, Any]) -> SeededOrder:
    processor, token, decline = KINDS[kind]
    return make_order(fake, processor=processor, order_token=token, overrides=overrides, refund_decline=decline)


SCENARIOS = scenario_family("fire", build, OVERRIDES, [
    ("deuna_paid", "A paid Deuna order with metadata.order_token.",
     "refund_order -> 200, status CANCELED, payment_status REFUNDED"),
    ("deuna_missing_token", "A paid Deuna order whose metadata lacks order_token.",
     "refund_order -> 400 missing_order_token, order unchanged"),
    ("card_paid", "A card order paid through Kushki, a processor without refunds.",
     "refund_order -> 200, status CANCELED, payment_status CANCELED"),
    ("deuna_declined", "A paid Deuna order with metadata.order_token whose processor declines the refund.",
     "refund_order -> 200, status CANCELED but payment_status CANCELED (not REFUNDED): no money back, the "
     "refund record lists the payment under declined (processor_declined); the cancellation is notified"),
])
