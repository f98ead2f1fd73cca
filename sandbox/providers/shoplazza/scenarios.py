"""Shoplazza scenarios: a paid order, an unpaid one, a refunded one, one whose refund goes pending
(and finishes, or fails), one whose store is not active."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import validate

from sandbox.core import ids
from sandbox.core.fields import JsonInt, Text
from sandbox.core.provider import SeededOrder, scenario_family
from sandbox.core.schemas import Strict
from sandbox.providers.shoplazza.schemas import ID_PATTERN


class Overrides(Strict):
    id = Text(validate=validate.Regexp(ID_PATTERN))
    number = Text(max_length=64)
    refund_outcome = Text(validate=validate.OneOf(["finished", "failed"]))
    settle_seconds = JsonInt(minimum=0, maximum=30 * 86400)


OVERRIDES = Overrides()


def _address(fake: Any, first: str, last: str) -> dict[str, str]:
    return {"first_name": first, "last_name": last, "address1": fake.street_address(), "address2": "",
            "city": fake.city(), "province": fake.state(), "country": "United States", "country_code": "US",
            "zip": fake.postcode(), "phone": fake.numerify("+1##########")}


def make_order(fake: Any, kind: str, overrides: Mapping[str, Any]) -> SeededOrder:
    """A stored order (minor units) and its handles.

    kind: paid | unpaid | refunded | pending_refund | refund_failed | store_inactive."""
    order_id = overrides.get("id") or str(fake.random_int(1_000_000, 9_999_999))
    stamp = ids.scenario_timestamp(fake)
    first, last = fake.first_name(), fake.last_name()
    lines = []
    for _ in range(fake.random_int(2, 3)):
        price = fake.random_int(9, 80) * 100 + fake.random_element([0, 50, 99])
        quantity = fake.random_int(1, 3)
        product = fake.catch_phrase()
        lines.append({
            "id": fake.uuid4(), "product_id": fake.uuid4(), "variant_id": fake.uuid4(),
            "variant_title": fake.random_element(["S / Black", "M / White", "L / Navy", "One size"]),
            "product_title": product, "product_handle": product.lower().replace(" ", "-"), "quantity": quantity,
            "note": "", "fulfillment_status": "waiting", "sku": fake.bothify("SPZ-####-??").upper(),
            "vendor": fake.company(), "product_url": f"/products/{product.lower().replace(' ', '-')}",
            "compare_at_price": price + price // 4, "image": f"https://cdn.example.com/{fake.uuid4()}.jpg",
            "price": price, "total": price * quantity, "properties": [], "refund_quantity": 0, "refund_total": 0,
        })
    sub_total = sum(line["total"] for line in lines)
    tax, shipping = sub_total * 8 // 100, fake.random_element([0, 499, 999, 1500])
    refunded = kind == "refunded"
    if refunded:
        for line in lines:
            line.update(refund_quantity=line["quantity"], refund_total=line["total"])
    total = sub_total + tax + shipping
    order = {
        "id": order_id, "note": "", "number": overrides.get("number") or f"SPZ{fake.random_int(0, 99999999):08d}",
        "financial_status": {"unpaid": "waiting", "refunded": "refunded"}.get(kind, "paid"),
        "status": "opened" if kind == "unpaid" else "placed", "cancel_reason": "", "payment_method": "online",
        "fulfillment_status": "waiting", "discount_code": "", "discount_applications": "[]", "customer_note": "",
        "sales_platform": "online_store", "landing_site": "/", "buyer_accepts_marketing": fake.boolean(),
        "currency": "USD", "total_price": total, "total_discount": 0, "total_tax": tax, "total_shipping": shipping,
        "sub_total": sub_total, "code_discount_total": 0, "line_item_discount_total": 0,
        "total_refund_price": total if refunded else 0, "total_refund_tax": tax if refunded else 0,
        "total_refund_discount": 0, "gift_card_total": 0, "additional_total": 0,
        "refund_status": "finished" if refunded else "none", "tags": "", "created_at": stamp, "updated_at": stamp,
        "canceled_at": None, "customer_deleted_at": None, "browser_ip": fake.ipv4_public(), "source": "web",
        "email_status": "sent",
        "shipping_line": {"id": str(fake.random_int(100000, 999999)), "name": "Standard Shipping",
                          "desc": "Delivery in 3-5 business days", "support_cod": 0, "shipping_price": shipping},
        "customer": {"user_id": fake.uuid4(), "first_name": first, "last_name": last, "email": fake.email(),
                     "phone": fake.numerify("+1##########"), "customer_role": "buyer", "ext": []},
        "shipping_address": _address(fake, first, last), "billing_address": _address(fake, first, last),
        "payment_line": {"payment_channel": "paypal", "payment_method": "online",
                         "transaction_no": fake.bothify("PAY-########??").upper(), "merchant_id": "",
                         "merchant_email": ""},
        "line_items": lines, "product_tax_included": False, "additional_prices": [], "logistics_code": "",
        "config": {"currency": "USD", "language": "en-US", "tax_included": False},
        "checkout_url": f"https://demo.myshoplaza.com/checkout/{order_id}",
        "sandbox": {"refund_mode": "pending" if kind in ("pending_refund", "refund_failed") else "immediate",
                    "refund_outcome": overrides.get("refund_outcome",
                                                    "failed" if kind == "refund_failed" else "finished"),
                    "settle_seconds": overrides.get("settle_seconds", 300), "refund_count": 1 if refunded else 0,
                    "shipping_refunded": refunded, "store_active": kind != "store_inactive"},
    }
    return SeededOrder(order=order, order_ref=order["id"], currency=order["currency"],
                       line_item_refs=[line["id"] for line in order["line_items"]],
                       transaction_refs=[order["payment_line"]["transaction_no"]])


SCENARIOS = scenario_family("shoplazza", make_order, OVERRIDES, [
    ("paid", "A paid order: 2-3 lines, shipping and tax.",
     "refund_order -> 200 finished, all_refunded; a second refund -> 406"),
    ("unpaid", "An order waiting for payment.", "refund_order -> 406"),
    ("refunded", "An order already fully refunded.", "refund_order -> 406"),
    ("pending_refund", "A paid order whose refund goes pending (override refund_outcome=failed to fail).",
     "refund_order -> 200 pending; after POST /_sandbox/clock/advance 300 s -> finished (or failed)"),
    ("refund_failed", "A paid order whose refund goes pending, then fails (the payment provider declines).",
     "refund_order -> 200 pending; after POST /_sandbox/clock/advance 300 s -> failed with refund_fail_reason "
     "\"The payment provider declined the refund.\", order refund_failed, no money moved; a new refund may be tried"),
    ("store_inactive", "A paid order of a store that is not active (only this order is affected).",
     "refund_order -> 400 {\"error\": \"store is not active\"}, nothing changes; get_order -> 200"),
])
