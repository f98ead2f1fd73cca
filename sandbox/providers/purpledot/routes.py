"""Purple Dot's HTTP surface: POST /admin/api/v1/refund, idempotent on (id, order)."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify

from sandbox.core import idempotency, ids
from sandbox.core.auth import HeaderCredential
from sandbox.core.provider import BodyParser, Call, operation
from sandbox.core.runtime import runtime
from sandbox.providers.purpledot import errors, rules

KEY = "purpledot"
bp = Blueprint(KEY, __name__)

#: Purple Dot publishes no token format: 24-128 of [A-Za-z0-9_] counts as well-formed.
AUTH = HeaderCredential("X-Purple-Dot-Access-Token", shape=re.compile(r"[A-Za-z0-9_]{24,128}"))
#: The body's fields decide each other's error codes (INVALID_REFUND_REQUEST or INVALID_LINE_ITEMS),
#: so rules.parse_request checks them all, in one pass, instead of a schema and then the rules.
REFUND = BodyParser(rules.parse_request)


@bp.post("/admin/api/v1/refund")
@operation(body=REFUND)
def refund(call: Call):
    request: rules.RefundRequest = call.body
    rt = runtime()
    now = rt.clock.now(call.tenant)
    key = rules.idempotency_key(request)
    with rt.store.transaction(call.tenant, KEY) as tx:
        answer = idempotency.replay(tx, key, request.payload, errors.mismatch)
        if answer is None:
            outcome = rules.refund(tx.get("orders", request.order), request, refund_id=ids.new_uuid(), now=now)
            tx.put("orders", outcome.order)
            tx.insert("refunds", outcome.refund)
            answer = idempotency.record(tx, key, request.payload, 200, rules.response_body(request, outcome))
    return jsonify(answer.body), answer.status
