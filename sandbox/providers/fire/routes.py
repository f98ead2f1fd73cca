"""Fire's HTTP surface: thin views named after the contract's operationIds."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify

from sandbox.core import ids
from sandbox.core.auth import JWT, AllOf, HeaderCredential
from sandbox.core.pipeline import request_info
from sandbox.core.provider import Call, operation
from sandbox.core.runtime import runtime
from sandbox.providers.fire import rules
from sandbox.providers.fire.errors import envelope_fields
from sandbox.providers.fire.schemas import HEADERS, INJECT, LOGIN, REFUND, REFUND_PATH, present_order

KEY = "fire"
bp = Blueprint(KEY, __name__)

#: Fire API keys look like pk_live_...; the sandbox also takes pk_test_... (any registered key passes).
API_KEY = HeaderCredential("x-api-key", shape=re.compile(r"pk_(live|test)_[A-Za-z0-9]{6,128}"))
#: Login needs only the API key; every other call also needs the bearer token from login.
LOGIN_AUTH = API_KEY
AUTH = AllOf((HeaderCredential("Authorization", prefix="Bearer ", shape=JWT, accepts_issued=True), API_KEY))


def envelope(data: Any, status: int):
    """Fire's standard envelope around `data`."""
    return jsonify({"data": data, **envelope_fields(request_info(), status, isinstance(data, list))}), status


def _login(call: Call):
    rt = runtime()
    scopes = call.principal.scopes if call.principal else None
    token, _ = rt.tokens.issue(KEY, call.tenant, scopes, subject=call.headers["account"],
                               now=rt.clock.now(call.tenant), ttl_seconds=rt.settings.token_ttl_seconds)
    return jsonify(accessToken=token), 201


@bp.post("/api/authentication/login")
@operation(auth=LOGIN_AUTH, headers=HEADERS, body=LOGIN)
def login(call: Call):
    return _login(call)


@bp.post("/login")
@operation(auth=LOGIN_AUTH, headers=HEADERS, body=LOGIN)
def login_short(call: Call):
    return _login(call)


@bp.post("/api/v4/integrations/sales/aggregator/orders")
@operation(headers=HEADERS, body=INJECT)
def inject_order(call: Call):
    rt = runtime()
    account = call.headers["account"]
    with rt.store.transaction(call.tenant, KEY) as tx:
        order = rules.inject_order(call.body, account=account, uid=ids.new_uuid(), now=rt.clock.now(call.tenant),
                                   duplicate_of=rules.injected_as(tx, account, call.body["order_id"]))
        tx.put("orders", order)
        tx.put("order_ids", rules.order_id_entry(order))
    return envelope(present_order(order), 201)


@bp.post("/api/v4/integrations/sales/aggregator/orders/<order_uid>/refund")
@operation(path=REFUND_PATH, headers=HEADERS, body=REFUND)
def refund_order(call: Call, order_uid: str):
    rt = runtime()
    now = rt.clock.now(call.tenant)
    with rt.store.transaction(call.tenant, KEY) as tx:
        outcome = rules.refund_order(tx.get("orders", order_uid), call.body, account=call.headers["account"],
                                     now=now, refund_id=ids.new_uuid())
        if outcome.refund is not None:
            tx.put("orders", outcome.order)
            tx.insert("refunds", outcome.refund)
            tx.notify("order.cancelled", outcome.notification, now)
    return envelope(present_order(outcome.order), 200)
