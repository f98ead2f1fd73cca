"""Nuweb scenarios: ticket orders paid online, split, offline, free, or through a gateway that
refuses refunds (its refusal is a `gateway_refusals` document, outside Nuweb's order shape)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.core import ids
from sandbox.core.fields import JsonInt, Text
from sandbox.core.provider import SeededOrder, scenario_family
from sandbox.core.schemas import Strict

CURRENCIES = {"GBP": (1, "£"), "EUR": (2, "€"), "USD": (3, "$")}


class Overrides(Strict):
    id = JsonInt(minimum=1, data_key="id")
    reference = Text(max_length=64)


OVERRIDES = Overrides()


def make_order(fake: Any, kind: str, overrides: Mapping[str, Any]) -> SeededOrder:
    """kind: paid_online | split_payment | offline_paid | zero_total | gateway_refused."""
    order_id = overrides.get("id") or fake.random_int(100_000, 999_999)
    currency = fake.random_element(list(CURRENCIES))
    stamp = ids.scenario_timestamp(fake)
    event = fake.random_int(100, 999)
    items = []
    for n in range(fake.random_int(2, 4)):
        price = 0 if kind == "zero_total" else fake.random_int(8, 60) * 100 + fake.random_element([0, 50, 99])
        items.append({
            "id": order_id * 10 + n, "saleItemId": event * 100 + n % 2, "eventId": event,
            "itemName": f"{fake.city()} {fake.random_element(['Festival', 'Live', 'Open Air'])} - "
                        f"{fake.random_element(['General Admission', 'VIP', 'Early Bird'])}",
            "itemType": "ticket", "price": price, "tax": price // 5,
            "processingFee": 0 if kind == "zero_total" else 75 + n * 10,
            "resellerFee": 0 if kind == "zero_total" else 50,
            "refunded": False, "refundedAmount": 0, "cancelledAt": None, "isValid": True, "restocked": False,
        })
    total = sum(i["price"] + i["tax"] + i["processingFee"] + i["resellerFee"] for i in items)
    gateways = {"paid_online": [("stripe", "card")], "split_payment": [("stripe", "card"), ("paypal", "paypal")],
                "offline_paid": [(None, "cash")], "zero_total": [], "gateway_refused": [("stripe", "card")]}[kind]
    shares = [total] if len(gateways) == 1 else [total * 2 // 3, total - total * 2 // 3]
    transactions = [{"id": order_id * 10 + 7 + n, "total": share, "externalFee": share // 50, "orderId": order_id,
                     "metadata": {}, "createdAt": stamp, "updatedAt": stamp, "paymentGateway": gateway,
                     "status": "Success", "type": method}
                    for n, ((gateway, method), share) in enumerate(zip(gateways, shares, strict=False))]
    currency_id, symbol = CURRENCIES[currency]
    reference = overrides.get("reference") or fake.bothify("R?#?#??#?#", letters="ABCDEFGHJKLMNPQRSTUVWXYZ")
    order = {
        "id": order_id, "basketId": order_id + 500_000, "reference": reference, "date": stamp, "notes": "",
        "statusId": 3, "status": "Complete", "statusSlug": "complete",
        "total": total, "paid": total, "refunded": 0,
        "currencyId": currency_id, "currencySymbol": symbol, "currencyCode": currency,
        "paymentMethod": [method for _, method in gateways],
        "customer": {"id": fake.random_int(10_000, 99_999), "firstName": fake.first_name(),
                     "lastName": fake.last_name(), "email": fake.email(), "balance": 0},
        "items": items, "transactions": transactions,
    }
    extra = [("baskets", {"basketId": order["basketId"], "orderId": order_id}),
             ("references", {"reference": reference, "orderId": order_id})]
    if kind == "gateway_refused":
        extra.append(("gateway_refusals", {"orderId": order_id, "declineCode": "do_not_honor"}))
    return SeededOrder(order=order, order_ref=order_id, currency=currency,
                       line_item_refs=[str(i["id"]) for i in items],
                       transaction_refs=[str(t["id"]) for t in transactions], extra=extra)


SCENARIOS = scenario_family("nuweb", make_order, OVERRIDES, [
    ("paid_online", "Tickets with tax, processing and reseller fees, paid by card through Stripe.",
     "refund_order -> 200, refundValue = price + tax + the fees the flags allow, back to the card"),
    ("split_payment", "Tickets paid by two transactions (card 2/3, PayPal 1/3).",
     "refund_order -> 200, split across both transactions in proportion (or by refundSplits)"),
    ("offline_paid", "Tickets paid in cash at the box office: no payment gateway.",
     "refund_order with online: true -> 200, refunded offline"),
    ("zero_total", "Free tickets: a zero total and no payment.",
     "refund_order -> 200, refundValue 0, items refunded, no transaction"),
    ("gateway_refused", "Tickets paid by card through Stripe, whose gateway refuses refunds (do_not_honor).",
     "refund_order with online: true -> 422 errors.online \"The payment gateway refused the refund "
     "(do_not_honor)...\", nothing changes and the uuid is not kept; online: false, balance_refund and "
     "cancellation -> 200"),
])
