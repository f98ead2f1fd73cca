"""Shoplazza's error catalogue and renderer: `{"error": "..."}` or `{"errors": ["..."]}`.

The vendor documents both shapes without saying which status uses which; the sandbox uses
`error` for request-level failures (400, 401, 403) and `errors` for the rest (404, 405,
406, 409, 413, 422, 429 and 5xx), as labelled in the contract.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.errors import ErrorSpec, Kind, SandboxError
from sandbox.core.provider import RequestInfo

INVALID_ID = ErrorSpec(Kind.VALIDATION, 422, "invalid_id", "Invalid ID")
ORDER_NOT_FOUND = ErrorSpec(Kind.NOT_FOUND, 404, "order_not_found", "Order not found")
NOT_IN_AFTER_SALES = ErrorSpec(Kind.NOT_ACCEPTABLE, 406, "not_acceptable",
                               "After-sales is not included in current order.")
BAD_REQUEST = ErrorSpec(Kind.VALIDATION, 400, "bad_request", "Bad Request")
STORE_INACTIVE = ErrorSpec(Kind.VALIDATION, 400, "store_inactive", "store is not active")

MESSAGES = {
    Kind.UNAUTHENTICATED: "Unauthorized",
    Kind.METHOD_NOT_ALLOWED: "Method Not Allowed",
    Kind.NOT_FOUND: "Not Found",
    Kind.INTERNAL: "Internal Server Error",
}


def render(err: SandboxError, info: RequestInfo) -> dict[str, Any]:
    if err.code is not None:  # an error of the catalogue, native or injected
        message = err.message
    elif err.kind is Kind.FORBIDDEN:
        message = f"access scope {err.field} is required"
    elif err.kind in MESSAGES:
        message = MESSAGES[err.kind]
    elif err.kind is Kind.VALIDATION:  # a path id that failed its pattern
        message = INVALID_ID.message
    else:
        message = err.message
    if err.status in (400, 401, 403):
        return {"error": message}
    return {"errors": [message]}
