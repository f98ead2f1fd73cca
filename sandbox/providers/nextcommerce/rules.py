"""Next Commerce's refund rules as pure functions: no Flask, no TinyDB. Validate, then build.

Documented (research section 5 (d), from the vendor's guides and schema): restock types by
line kind (physical unfulfilled: cancel; physical fulfilled: return or no_restock; digital
unfulfilled: cancel; digital fulfilled: no_restock); quantity at most what is refundable
(`current_quantity`); shipping at most what remains; each transaction a debit of this order
within its refundable amount; uncaptured payments cannot be partially refunded; each refund
transaction is a child of its debit (`parent_id`); `total_refund_amount` is the sum of the
refund transactions. Sandbox choices (x-sandbox-note in contracts/nextcommerce.openapi.yaml):
a mismatch between the transactions and the lines plus shipping becomes a
refund_discrepancy adjustment; an uncaptured payment refunded in full is voided; calculate
allocates the refund over the debits in proportion to what each can still refund.
The payment gateway's side, set by scenarios in the stored order's `sandbox.refund_gateway`
(never shown in the Admin API's shapes): "fail_once" fails the refund transactions of the
next refund that moves money (status failed, response_code 300; the goods side is refunded
as asked, no money moves, and a later refund can retry), "error" errors every refund that
moves money (502, nothing recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sandbox.core import money
from sandbox.core.clock import isoformat_ms
from sandbox.core.errors import Kind, SandboxError
from sandbox.core.lookup import Reader, require
from sandbox.providers.nextcommerce.errors import field_error, gateway_error, non_field_error

#: The id sequence (name, first id) of refunds, their lines, adjustments and transactions.
IDS = ("ids", 50001)


def find_order(book: Reader, number: str) -> dict[str, Any]:
    """:raise 404: no order with this number in the tenant."""
    return require(book.get("orders", number), lambda: SandboxError(Kind.NOT_FOUND, f"no order {number}"))


def allowed_restock(line: dict[str, Any]) -> tuple[str, ...]:
    """The restock types a line allows; the first is what calculate infers."""
    fulfilled = line["fulfillment_status"] == "fulfilled"
    if line["requires_shipping"]:
        return ("return", "no_restock") if fulfilled else ("cancel",)
    return ("no_restock",) if fulfilled else ("cancel",)


@dataclass(frozen=True)
class PlannedLine:
    line: dict[str, Any]
    quantity: int
    restock_type: str
    excl: int
    incl: int


@dataclass(frozen=True)
class Plan:
    lines: list[PlannedLine]
    shipping_excl: int
    shipping_incl: int

    @property
    def excl(self) -> int:
        return sum(p.excl for p in self.lines) + self.shipping_excl

    @property
    def incl(self) -> int:
        return sum(p.incl for p in self.lines) + self.shipping_incl


def shipping_left(order: dict[str, Any]) -> int:
    return order["shipping_excl"] - order["shipping_refunded_excl"]


def _shipping_incl(order: dict[str, Any], excl: int) -> int:
    """Shipping tax refunded in the order's shipping tax proportion, rounded half-even."""
    if order["shipping_excl"] == 0:
        return excl
    ratio = Decimal(order["shipping_incl"]) / Decimal(order["shipping_excl"])
    return int((Decimal(excl) * ratio).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def plan(order: dict[str, Any], lines: list[dict[str, Any]], shipping: dict[str, Any] | None) -> Plan:
    """Check the lines and shipping asked for and price them.

    :raise 400: a line not on the order, more than its current_quantity, a restock type the
        line does not allow, or more shipping than remains.
    """
    by_id = {line["id"]: line for line in order["lines"]}
    planned = []
    asked: dict[int, int] = {}
    for n, item in enumerate(lines):
        line = by_id.get(item["line_id"])
        if line is None:
            raise field_error("refund_lines", f"Invalid line id \"{item['line_id']}\" - not a line of this order.",
                              index=n, count=len(lines), attr="line_id")
        asked[line["id"]] = asked.get(line["id"], 0) + item["quantity"]
        if asked[line["id"]] > line["current_quantity"]:
            raise field_error("refund_lines", f"Ensure this value is less than or equal to "
                              f"{line['current_quantity']} (the line's refundable quantity).",
                              index=n, count=len(lines), attr="quantity")
        allowed = allowed_restock(line)
        restock = item["restock_type"] or allowed[0]
        if restock not in allowed:
            kind = ("fulfilled" if line["fulfillment_status"] == "fulfilled" else "unfulfilled") + \
                   (" physical" if line["requires_shipping"] else " digital")
            raise field_error("refund_lines", f"Restock type \"{restock}\" is not allowed for an {kind} line; use "
                              f"{' or '.join(allowed)}.", index=n, count=len(lines), attr="restock_type")
        if item["quantity"]:
            planned.append(PlannedLine(line, item["quantity"], restock, line["unit_excl"] * item["quantity"],
                                       line["unit_incl"] * item["quantity"]))
    excl = 0
    if shipping is not None:
        left = shipping_left(order)
        if shipping["full_refund"]:
            excl = left
        elif shipping["amount_excl_tax"] is not None:
            excl = shipping["amount_excl_tax"]
            if excl < 0 or excl > left:
                raise field_error("refund_shipping", f"Ensure this amount is between 0.00 and the refundable "
                                  f"{money.format_minor(left, order['currency'])}.", attr="amount_excl_tax")
    return Plan(planned, excl, _shipping_incl(order, excl))


def debits(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in order["transactions"] if t["type"] == "debit" and t["status"] == "succeeded"]


def calculate(order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """What a refund of these lines and shipping is worth, and how to allocate it (amounts in
    cents; `schemas.present_calculation` shows them). Changes nothing."""
    p = plan(order, body["refund_lines"], body["refund_shipping"])
    currency = order["currency"]
    by_line = {}
    for item in p.lines:
        by_line[item.line["id"]] = item
    lines_out = []
    for item in body["refund_lines"]:
        line = next(x for x in order["lines"] if x["id"] == item["line_id"])
        planned = by_line.get(line["id"])
        excl, incl = (planned.excl, planned.incl) if planned else (0, 0)
        lines_out.append({
            "line_id": line["id"], "product_id": line["product_id"], "variant_id": line["variant_id"],
            "sku": line["sku"], "product_title": line["product_title"], "variant_title": line["variant_title"],
            "product_url": line["product_url"], "product_image": line["product_image"],
            "quantity": item["quantity"], "refundable_quantity": line["current_quantity"],
            "restock_type": item["restock_type"] or allowed_restock(line)[0],
            "amount_excl_tax": excl, "amount_incl_tax": incl, "total_tax": incl - excl})
    payable = [t for t in debits(order) if t["amount"] - t["refunded"] > 0]
    refundable = [t["amount"] - t["refunded"] for t in payable]
    shares = money.allocate(min(p.incl, sum(refundable)), refundable)
    return {
        "amount_excl_tax": p.excl, "amount_incl_tax": p.incl, "total_tax": p.incl - p.excl,
        "currency": currency, "refund_lines": lines_out,
        "refund_shipping": {"amount_excl_tax": p.shipping_excl, "amount_incl_tax": p.shipping_incl,
                            "total_tax": p.shipping_incl - p.shipping_excl, "currency": currency,
                            "refundable_amount": shipping_left(order),
                            "shipping_code": order["shipping_code"], "shipping_method": order["shipping_method"]},
        "transactions": [{"id": t["id"], "amount": share, "refundable_amount": left,
                          "gateway_id": t["payment_details"]["gateway"]["id"],
                          "gateway_name": t["payment_details"]["gateway"]["name"],
                          "payment_method": t["payment_method"], "type": t["type"]}
                         for t, left, share in zip(payable, refundable, shares, strict=True) if share > 0],
    }


@dataclass(frozen=True)
class Outcome:
    """The order after the refund, the refund record (amounts in cents, as stored in the
    order's `refunds`), and whether the customer is to be notified."""

    order: dict[str, Any]
    refund: dict[str, Any]
    notify: bool


def _check_transactions(order: dict[str, Any], given: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    by_id = {t["id"]: t for t in debits(order)}
    taken: dict[int, int] = {}
    pairs = []
    for n, item in enumerate(given):
        debit = by_id.get(item["id"])
        if debit is None:
            raise field_error("transactions", f"Invalid transaction id \"{item['id']}\" - not a debit of this order.",
                              index=n, count=len(given), attr="id")
        left = debit["amount"] - debit["refunded"] - taken.get(debit["id"], 0)
        if item["amount"] <= 0 or item["amount"] > left:
            raise field_error("transactions", f"Ensure this amount is greater than 0.00 and at most the refundable "
                              f"{money.format_minor(left, order['currency'])}.", index=n, count=len(given),
                              attr="amount")
        if not debit["captured"] and item["amount"] != debit["amount"] - debit["refunded"]:
            raise non_field_error("Uncaptured payments cannot be partially refunded.")
        taken[debit["id"]] = taken.get(debit["id"], 0) + item["amount"]
        pairs.append((debit, item["amount"]))
    return pairs


#: NMI-style gateway response codes: 100 approved, 300 rejected by the gateway.
APPROVED, REJECTED = 100, 300


def refund(order: dict[str, Any], body: dict[str, Any], *, now: datetime, new_id: Callable[[], int]) -> Outcome:
    """Refund lines, shipping and transactions as asked.

    :raise 400: see `plan` and `_check_transactions`; nothing at all to refund.
    :raise 502: (gateway_error) the order's gateway errors on refunds; nothing is recorded.
    A gateway that fails the refund ("fail_once") makes its transactions `failed`: no money
    moves, `total_refund_amount` counts none of them, the lines and shipping are refunded.
    """
    p = plan(order, body["refund_lines"], body["refund_shipping"])
    pairs = _check_transactions(order, body["transactions"])
    if not p.lines and p.shipping_excl == 0 and not pairs:
        raise non_field_error("Nothing to refund: give refund_lines, refund_shipping or transactions.")
    gateway = (order.get("sandbox") or {}).get("refund_gateway")
    if pairs and gateway == "error":
        raise gateway_error()
    failing = bool(pairs) and gateway == "fail_once"
    stamp = isoformat_ms(now)
    line_items = [{"id": new_id(), "line_item_id": item.line["id"], "location_id": None, "quantity": item.quantity,
                   "restock_type": item.restock_type, "excl": item.excl, "incl": item.incl} for item in p.lines]
    adjustments = []
    if p.shipping_excl:
        adjustments.append({"id": new_id(), "type": "refund_shipping", "excl": p.shipping_excl,
                            "incl": p.shipping_incl})
    asked = sum(amount for _, amount in pairs)
    paid_back = 0 if failing else asked
    if asked != p.incl:
        gap = asked - p.incl
        adjustments.append({"id": new_id(), "type": "refund_discrepancy", "excl": gap, "incl": gap})
    children = []
    for debit, amount in pairs:
        children.append({**{k: v for k, v in debit.items() if k not in ("refunded", "captured")},
                         "id": new_id(), "amount": amount, "type": "refund",
                         "status": "failed" if failing else "succeeded", "parent_id": debit["id"],
                         "date_created": stamp, "response_code": REJECTED if failing else APPROVED,
                         "auth_code": "", "external_id": "", "network_transaction_id": ""})
    record = {
        "id": new_id(), "order_number": order["number"], "note": body["note"], "created_at": stamp, "user_id": None,
        "adjustments": adjustments, "refund_line_items": line_items, "total_refund_amount": paid_back,
        "total_return_excl_tax": sum(i.excl for i in p.lines) + sum(a["excl"] for a in adjustments),
        "total_return_incl_tax": sum(i.incl for i in p.lines) + sum(a["incl"] for a in adjustments),
        "transactions": children,
    }
    refunded_units = {item.line["id"]: item.quantity for item in p.lines}
    lines = []
    for line in order["lines"]:
        units = refunded_units.get(line["id"], 0)
        lines.append({**line, "current_quantity": line["current_quantity"] - units,
                      "fulfillable_quantity": max(0, line["fulfillable_quantity"] - units)})
    paid_by = {} if failing else {debit["id"]: amount for debit, amount in pairs}
    transactions = [{**t, "refunded": t["refunded"] + paid_by.get(t["id"], 0)} if t["id"] in paid_by else t
                    for t in order["transactions"]] + [{**c, "refunded": 0, "captured": True} for c in children]
    updated = {**order, "lines": lines, "transactions": transactions,
               "shipping_refunded_excl": order["shipping_refunded_excl"] + p.shipping_excl,
               "refunds": order["refunds"] + [record]}
    if failing:  # the failure is spent: a later refund of the same money goes through
        updated["sandbox"] = {**order["sandbox"], "refund_gateway": None}
    updated["payment_status"] = payment_status(updated)
    return Outcome(updated, record, notify=body["send_refund_notification"])


def payment_status(order: dict[str, Any]) -> str:
    """refunded / partially_refunded for captured debits; voided / partially_voided for uncaptured."""
    own = debits(order)
    if not own or not any(t["refunded"] for t in own):
        return order["payment_status"]
    whole = all(t["refunded"] >= t["amount"] for t in own)
    if all(not t["captured"] for t in own):
        return "voided" if whole else "partially_voided"
    return "refunded" if whole else "partially_refunded"
