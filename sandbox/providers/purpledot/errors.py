"""Purple Dot's error catalogue (every code of the seed) and renderer.

Purple Dot does not publish its error body; the sandbox mirrors the success envelope:
`{"meta": {"success": false}, "error": {"code", "message", "field"?}}` (labelled in the
contract). 501 has no code string in the docs; the sandbox says MULTIPLE_PRE_ORDERS.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.errors import ErrorSpec, Kind, SandboxError, error_object
from sandbox.core.provider import RequestInfo

INVALID_REFUND_REQUEST = ErrorSpec(Kind.VALIDATION, 400, "INVALID_REFUND_REQUEST",
                                   "send line_items and/or shipping, or amount and currency, but not both")
INVALID_LINE_ITEMS = ErrorSpec(Kind.VALIDATION, 400, "INVALID_LINE_ITEMS",
                               "each line item needs an id and quantity 1")
CURRENCY_MISMATCH = ErrorSpec(Kind.VALIDATION, 400, "CURRENCY_MISMATCH",
                              "currency does not match the order's presentment currency")
SHIPPING_ALREADY_REFUNDED = ErrorSpec(Kind.VALIDATION, 400, "SHIPPING_ALREADY_REFUNDED",
                                      "shipping was already refunded for this order")
NOT_ENOUGH_ITEMS_LEFT_TO_REFUND = ErrorSpec(Kind.VALIDATION, 400, "NOT_ENOUGH_ITEMS_LEFT_TO_REFUND",
                                            "requested quantities exceed what remains refundable")
UNKNOWN_ORDER = ErrorSpec(Kind.NOT_FOUND, 404, "UNKNOWN_ORDER", "order not found for this store")
UNKNOWN_LINE_ITEMS = ErrorSpec(Kind.NOT_FOUND, 404, "UNKNOWN_LINE_ITEMS", "line items not on the order")
IDEMPOTENT_REQUEST_PAYLOAD_MISMATCH = ErrorSpec(Kind.CONFLICT, 409, "IDEMPOTENT_REQUEST_PAYLOAD_MISMATCH",
                                                "this id and order were already used with a different payload")
REFUND_FAILED = ErrorSpec(Kind.INTERNAL, 500, "REFUND_FAILED", "the refund failed")
MULTIPLE_PRE_ORDERS = ErrorSpec(Kind.NOT_IMPLEMENTED, 501, "MULTIPLE_PRE_ORDERS",
                                "orders that span multiple pre-orders are not supported")

CODES = {
    Kind.VALIDATION: INVALID_REFUND_REQUEST.code,
    Kind.UNAUTHENTICATED: "UNAUTHORIZED",
    Kind.FORBIDDEN: "FORBIDDEN",
    Kind.NOT_FOUND: "NOT_FOUND",
    Kind.METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
    Kind.CONFLICT: IDEMPOTENT_REQUEST_PAYLOAD_MISMATCH.code,
    Kind.INTERNAL: "INTERNAL_ERROR",
    Kind.NOT_IMPLEMENTED: MULTIPLE_PRE_ORDERS.code,
}


def mismatch(key: str) -> SandboxError:
    return IDEMPOTENT_REQUEST_PAYLOAD_MISMATCH.error()


def render(err: SandboxError, info: RequestInfo) -> dict[str, Any]:
    return {"meta": {"success": False}, "error": error_object(err, CODES, upper=True)}
