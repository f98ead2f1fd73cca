"""Fire's error catalogue and renderer.

Fire does not document the v4 error body; its intro page shows `{"error": {"code",
"message"}}` for the v1 family. The sandbox answers that plus the fields of Fire's standard
envelope (status, method, pathname, duration, traceId, isArray), and adds `error.field`
naming the culprit. The contract labels all of this with x-sandbox-note.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.errors import ErrorSpec, Kind, SandboxError, error_object
from sandbox.core.provider import RequestInfo

MISSING_ORDER_TOKEN = ErrorSpec(Kind.VALIDATION, 400, "missing_order_token",
                                "Deuna refunds require metadata.order_token on the order")
ORDER_NOT_FOUND = ErrorSpec(Kind.NOT_FOUND, 404, "not_found", "order not found for this account")
DUPLICATE_ORDER = ErrorSpec(Kind.CONFLICT, 409, "duplicate_order", "an order with this orderId was already injected")

CODES = {
    Kind.VALIDATION: "validation_error",
    Kind.UNAUTHENTICATED: "unauthorized",
    Kind.FORBIDDEN: "forbidden",
    Kind.NOT_FOUND: "not_found",
    Kind.METHOD_NOT_ALLOWED: "method_not_allowed",
    Kind.CONFLICT: "conflict",
    Kind.RATE_LIMITED: "rate_limited",
    Kind.INTERNAL: "internal_error",
}


def envelope_fields(info: RequestInfo, status: int, is_array: bool) -> dict[str, Any]:
    """The fields of Fire's standard envelope besides `data` (answers) or `error` (errors)."""
    return {"status": status, "method": info.method, "pathname": info.path, "duration": info.duration_ms,
            "traceId": info.trace_id, "isArray": is_array}


def render(err: SandboxError, info: RequestInfo) -> dict[str, Any]:
    return {"error": error_object(err, CODES), **envelope_fields(info, err.status or 500, False)}
