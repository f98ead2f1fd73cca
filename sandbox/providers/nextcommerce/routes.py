"""Next Commerce's HTTP surface: refund, calculate and retrieve an order (Admin API)."""

from __future__ import annotations

import re
from functools import partial

from flask import Blueprint, jsonify

from sandbox.core.auth import HeaderCredential
from sandbox.core.provider import Call, operation
from sandbox.core.runtime import runtime
from sandbox.providers.nextcommerce import rules
from sandbox.providers.nextcommerce.schemas import (
    CALCULATE,
    NUMBER_PATH,
    REFUND,
    VERSION,
    present_calculation,
    present_notification,
    present_order,
    present_refund,
)

KEY = "nextcommerce"
bp = Blueprint(KEY, __name__)
#: Django OAuth Toolkit tokens are 30 letters and digits; 20-255 count as well-formed.
AUTH = HeaderCredential("Authorization", prefix="Bearer ", shape=re.compile(r"[A-Za-z0-9]{20,255}"))
BASE = "/api/admin/orders/<number>"


@bp.post(f"{BASE}/refund/")
@operation(path=NUMBER_PATH, headers=VERSION, body=REFUND, scope="orders:write")
def refund_order(call: Call, number: str):
    rt = runtime()
    now = rt.clock.now(call.tenant)
    with rt.store.transaction(call.tenant, KEY) as tx:
        outcome = rules.refund(rules.find_order(tx, number), call.body, now=now, new_id=partial(tx.next_id, *rules.IDS))
        shown = present_refund(outcome.refund, outcome.order["currency"])
        tx.put("orders", outcome.order)
        tx.insert("refunds", shown)
        if outcome.notify:
            tx.notify("refund.notification", present_notification(outcome.order, outcome.refund), now)
    return jsonify(shown), 200


@bp.post(f"{BASE}/refund/calculate/")
@operation(path=NUMBER_PATH, headers=VERSION, body=CALCULATE, scope="orders:write")
def calculate_refund(call: Call, number: str):
    rt = runtime()
    order = rt.store.read(call.tenant, KEY, lambda tx: rules.find_order(tx, number))
    return jsonify(present_calculation(rules.calculate(order, call.body))), 200


@bp.get(f"{BASE}/")
@operation(path=NUMBER_PATH, headers=VERSION, scope="orders:read")
def get_order(call: Call, number: str):
    rt = runtime()
    return jsonify(present_order(rt.store.read(call.tenant, KEY, lambda tx: rules.find_order(tx, number)))), 200
