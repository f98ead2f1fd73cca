"""Nuweb's HTTP surface: POST /v1/login, POST /v1/orders/refund, GET /v1/order."""

from __future__ import annotations

import re
import secrets
import string
from functools import partial

from flask import Blueprint, jsonify, request

from sandbox.core import idempotency, tenancy
from sandbox.core.auth import HeaderCredential
from sandbox.core.provider import Call, operation
from sandbox.core.runtime import runtime
from sandbox.providers.nuweb import rules
from sandbox.providers.nuweb.errors import invalid
from sandbox.providers.nuweb.schemas import LOGIN, ORDER_QUERY, REFUND

KEY = "nuweb"
bp = Blueprint(KEY, __name__)
#: Laravel Sanctum personal access tokens: `<id>|<40-80 letters and digits>` (the login issues 48).
SANCTUM = re.compile(r"[0-9]{1,12}\|[A-Za-z0-9]{40,80}")
AUTH = HeaderCredential("Authorization", prefix="Bearer ", shape=SANCTUM, accepts_issued=True)
ALPHANUMERIC = string.ascii_letters + string.digits


def sanctum_token(serial: int) -> str:
    """A new Sanctum token: its database id, a bar, 48 random letters and digits."""
    return f"{serial}|" + "".join(secrets.choice(ALPHANUMERIC) for _ in range(48))


@bp.post("/v1/login")
@operation(auth=False, body=LOGIN)
def login(call: Call):
    """Any email and password pass, unless --strict-auth: then the email must be registered."""
    rt = runtime()
    email = call.body["email"]
    registered = rt.credentials.lookup(KEY, email)
    if registered is None and rt.settings.strict_auth:
        raise invalid("email", "The provided credentials are incorrect.")
    tenant = call.tenant if tenancy.HEADER in request.headers or registered is None else registered.tenant
    token, _ = rt.tokens.issue(KEY, tenant, registered.scopes if registered else None, subject=email,
                               now=rt.clock.now(tenant), ttl_seconds=None, make=sanctum_token)
    return jsonify(token=token), 200


@bp.post("/v1/orders/refund")
@operation(body=REFUND, scope="orders:refund")
def refund_order(call: Call):
    rt = runtime()
    body = call.body
    now = rt.clock.now(call.tenant)
    key = rules.idempotency_key(body)
    with rt.store.transaction(call.tenant, KEY) as tx:
        order = rules.find_order(tx, body["order_id"])
        # Nuweb returns the existing transaction for a known uuid, whatever the new payload
        answer = idempotency.replay(tx, key, None) if key else None
        if answer is None:
            outcome = rules.refund_order(order, body, now=now, new_id=partial(tx.next_id, *rules.TRANSACTION_IDS),
                                         gateway_refusal=rules.gateway_refusal(tx, order))
            if outcome.refund is not None:
                tx.put("orders", outcome.order)
                tx.insert("refunds", outcome.refund)
            if outcome.notification is not None:
                tx.notify("customer.refund_notification", outcome.notification, now)
            response = rules.response_body(outcome.order, outcome.refund_value)
            answer = idempotency.record(tx, key, None, 200, response) if key else idempotency.Answer(200, response)
    return jsonify(answer.body), answer.status


@bp.get("/v1/order")
@operation(query=ORDER_QUERY, scope="orders:read")
def get_order(call: Call):
    rt = runtime()
    query = call.query
    order = rt.store.read(call.tenant, KEY, lambda tx: rules.find_order(tx, query.get("order_id"),
                                                                   query.get("order_reference")))
    return jsonify(order), 200
