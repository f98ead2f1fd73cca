"""An order's refund state in one shape for every provider: what was paid, refunded, is still
refundable and is pending, in integer minor units (Fire's in its 4-decimal scaled units).

Pure functions over the stored order, reusing each provider's own rules where it has one
(Purple Dot's paid total, Nuweb's refundable-left per payment, Next Commerce's debits,
Shoplazza's after-sale states), so the dashboard never disagrees with what a refund would do.
A provider not listed here gets the order's status only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.core import money
from sandbox.providers.fire.rules import CANCELED, REFUNDED
from sandbox.providers.fire.schemas import SCALE as FIRE_SCALE
from sandbox.providers.nextcommerce.rules import debits
from sandbox.providers.nuweb.rules import payments, refundable_left
from sandbox.providers.purpledot.rules import paid_total
from sandbox.providers.shoplazza.rules import AFTER_SALE


@dataclass(frozen=True)
class Ledger:
    status: str
    currency: str = ""
    places: int = 2
    paid: int | None = None
    refunded: int | None = None
    refundable: int | None = None
    pending: int = 0

    def show(self, amount: int | None) -> str:
        return "—" if amount is None else f"{money.format_scaled(amount, self.places)} {self.currency}".strip()


def _minor(status: str, currency: str, paid: int, refunded: int, refundable: int, pending: int = 0) -> Ledger:
    return Ledger(status, currency, money.exponent(currency), paid, refunded, refundable, pending)


def fire(order: dict[str, Any]) -> Ledger:
    totals = (order.get("totals") or [{}])[0]
    total = totals.get("total", 0)
    refunded = total if order["payment_status"] == REFUNDED else 0
    return Ledger(f"{order['status']} / {order['payment_status']}", totals.get("currency_code", ""), FIRE_SCALE,
                  total, refunded, 0 if order["status"] == CANCELED else total - refunded)


def purpledot(order: dict[str, Any]) -> Ledger:
    paid = paid_total(order)
    status = "refunded" if order["refunded_total"] >= paid else (
        "partially refunded" if order["refunded_total"] else "paid")
    return _minor(status, order["currency"], paid, order["refunded_total"], paid - order["refunded_total"])


def nuweb(order: dict[str, Any]) -> Ledger:
    left = sum(refundable_left(order, t) for t in payments(order))
    return _minor(order["status"], order["currencyCode"], order["paid"], order["refunded"], left)


def shoplazza(order: dict[str, Any]) -> Ledger:
    paid, refunded = order["total_price"], order["total_refund_price"]
    pending = paid - refunded if order["financial_status"] == "refunding" else 0
    open_ = order["status"] != "cancelled" and order["financial_status"] in AFTER_SALE
    return _minor(order["financial_status"], order["currency"], paid, refunded, paid - refunded if open_ else 0,
                  pending)


def nextcommerce(order: dict[str, Any]) -> Ledger:
    own = debits(order)
    paid, refunded = sum(t["amount"] for t in own), sum(t["refunded"] for t in own)
    return _minor(order["payment_status"], order["currency"], paid, refunded, paid - refunded)


LEDGERS: dict[str, Callable[[dict[str, Any]], Ledger]] = {
    "fire": fire, "purpledot": purpledot, "nuweb": nuweb, "shoplazza": shoplazza, "nextcommerce": nextcommerce}


def ledger(provider: str, order: dict[str, Any]) -> Ledger:
    summarize = LEDGERS.get(provider)
    if summarize is None:
        return Ledger(str(order.get("status", "")))
    return summarize(order)
