"""Acme: a sixth provider defined inside the test suite, as small as a provider can be.

One folder (this one): the Provider, one operation (`POST /v1/refunds`), its contract
(`acme.openapi.yaml`) and its fixture (`acme.json`). tests/test_sixth_provider.py serves it
and proves the machinery needs nothing else: auth, tenants, the journal's redaction of its
credential, faults, the contract self-check, scenarios. The README's "Adding a provider"
section walks through the same pieces.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify
from marshmallow import RAISE, Schema, fields, validate

from sandbox.core.auth import HeaderCredential
from sandbox.core.errors import Kind, SandboxError
from sandbox.core.provider import Call, Provider, RequestInfo, SeededOrder, operation, scenario_family
from sandbox.core.runtime import runtime

KEY = "acme"
HERE = Path(__file__).parent
bp = Blueprint(KEY, __name__)
AUTH = HeaderCredential("X-Acme-Key", shape=re.compile(r"acme_[a-z0-9]{16}"))


class RefundIn(Schema):
    class Meta:
        unknown = RAISE

    order = fields.String(required=True, validate=validate.Length(1, 64))
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(1, 10**9))  # minor units
    secret_note = fields.String(load_default=None)  # a body field Acme declares secret


def refund(order: dict[str, Any] | None, amount: int) -> dict[str, Any]:
    """The rule, pure: the order after refunding `amount` minor units.

    :raise 404: no such order.  :raise 422: more than what is left.
    """
    if order is None:
        raise SandboxError(Kind.NOT_FOUND, "no such order", code="order_not_found", field="order")
    left = order["paid"] - order["refunded"]
    if amount > left:
        raise SandboxError(Kind.VALIDATION, f"only {left} left to refund", status=422, code="too_much",
                           field="amount")
    return {**order, "refunded": order["refunded"] + amount}


@bp.post("/v1/refunds")
@operation(body=RefundIn())
def refund_order(call: Call):
    with runtime().store.transaction(call.tenant, KEY) as tx:
        order = refund(tx.get("orders", call.body["order"]), call.body["amount"])
        tx.put("orders", order)
    return jsonify(refund={"order": order["id"], "refunded": order["refunded"]}), 200


def render(err: SandboxError, info: RequestInfo) -> dict[str, Any]:
    return {"error": err.code or err.kind.value, "message": err.message}


def _build(fake: Any, kind: str, overrides: Any) -> SeededOrder:
    number = str(fake.random_int(10_000, 99_999))
    return SeededOrder(order={"id": number, "paid": 5000, "refunded": 0}, order_ref=number, currency="USD")


PROVIDER = Provider(
    key=KEY, name="Acme (test-suite provider)", blueprint=bp, auth=AUTH, render_error=render,
    tables={"orders": "id"}, present_order=dict, validation_status=400,
    secret_fields=frozenset({"secret_note"}),
    scenarios=scenario_family(KEY, _build, Schema(), [("paid", "A paid order of 50.00 USD.", "refunds up to 5000")]),
    order_ref_of=lambda path, body: body.get("order") if isinstance(body, dict) else None,
)
