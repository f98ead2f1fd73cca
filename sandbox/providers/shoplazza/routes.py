"""Shoplazza's HTTP surface: POST .../orders/{id}/refund (no body) and GET .../orders/{id}."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, jsonify, request

from sandbox.core import body, ids
from sandbox.core.auth import HeaderCredential
from sandbox.core.provider import Call, operation
from sandbox.core.runtime import runtime
from sandbox.core.store import Tx
from sandbox.providers.shoplazza import errors, rules
from sandbox.providers.shoplazza.schemas import ORDER_PATH, present_order, present_refund_order

KEY = "shoplazza"
bp = Blueprint(KEY, __name__)
#: Shoplazza publishes no token format: 32-128 of [A-Za-z0-9_-] counts as well-formed.
AUTH = HeaderCredential("access-token", shape=re.compile(r"[A-Za-z0-9_-]{32,128}"))
BASE = "/openapi/2022-01/orders/<id>"


def settle_due(tx: Tx, now: datetime, order_id: str | None = None) -> None:
    """Write the settlements the rules find due (all pending refunds, or one order's)."""
    for outcome in rules.settle_due(tx, now, order_id):
        tx.put("orders", outcome.order)
        tx.put("refunds", outcome.record)
        tx.delete("pending", outcome.record["id"])


@bp.post(f"{BASE}/refund")
@operation(path=ORDER_PATH, scope="write_order")
def refund_order(call: Call, id: str):
    if request.get_data():  # any JSON is accepted and ignored; anything else is a 400
        try:
            body.parse(request.get_data())
        except ValueError:
            raise errors.BAD_REQUEST.error() from None
    rt = runtime()
    now = rt.clock.now(call.tenant)
    with rt.store.transaction(call.tenant, KEY) as tx:
        settle_due(tx, now, id)
        outcome = rules.refund_order(tx.get("orders", id), now=now, refund_order_id=ids.new_uuid(),
                                     record_id=str(tx.next_id(*rules.RECORD_IDS)))
        tx.put("orders", outcome.order)
        tx.put("refunds", outcome.record)
        pending = rules.pending_entry(outcome.record)
        if pending is not None:
            tx.put("pending", pending)
    return jsonify(present_refund_order(outcome.record, outcome.order)), 200


@bp.get(BASE)
@operation(path=ORDER_PATH, scope="read_order")
def get_order(call: Call, id: str):
    rt = runtime()
    with rt.store.transaction(call.tenant, KEY) as tx:
        settle_due(tx, rt.clock.now(call.tenant), id)
        order = rules.find_order(tx, id)
    return jsonify(order=present_order(order)), 200
