"""Nuweb's error catalogue and its Laravel-shaped renderer.

401 `{"message": "Unauthenticated."}`, 403 `{"message": "This action is unauthorized."}`,
404 `{"message": "No query results for model [App\\\\Models\\\\Order] 123"}`, and 422
`{"message": "The given data was invalid.", "errors": {"field": ["..."]}}` (research section 3).
Every other status is `{"message"}` too, as Laravel renders an HTTP exception for an API
client with debug off ("Server Error" for anything that is not one).
A refund the payment gateway refuses is a 422 on `online` whose message says so.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.core.errors import Kind, SandboxError
from sandbox.core.provider import RequestInfo

INVALID = "The given data was invalid."
GATEWAY_REFUSED = "The payment gateway refused the refund."
MESSAGES = {
    Kind.UNAUTHENTICATED: "Unauthenticated.",
    Kind.FORBIDDEN: "This action is unauthorized.",
    Kind.METHOD_NOT_ALLOWED: "The {method} method is not supported for route {path}.",
    Kind.TOO_LARGE: "The POST data is too large.",
}

#: marshmallow's wording -> Laravel's, so 422 bodies read like the real API's.
_LARAVEL = [
    (re.compile(r"^Missing data for required field\.$"), "The {name} field is required."),
    (re.compile(r"^Not a valid integer\.$"), "The {name} field must be an integer."),
    (re.compile(r"^Not a valid boolean\.$"), "The {name} field must be true or false."),
    (re.compile(r"^Not a valid string\.$"), "The {name} field must be a string."),
    (re.compile(r"^Field may not be null\.$"), "The {name} field must not be null."),
    (re.compile(r"^Must be one of: .*"), "The selected {name} is invalid."),
]


def _human(field: str) -> str:
    """`orderId` -> "order id", `device_name` -> "device name" (Laravel's :attribute)."""
    return re.sub(r"(?<=[a-z])([A-Z])", lambda m: " " + m.group(1).lower(), field).replace("_", " ")


def laravel_message(field: str, message: str) -> str:
    for pattern, template in _LARAVEL:
        if pattern.match(message):
            return template.format(name=_human(field))
    return message


def not_found(model: str, key: Any) -> SandboxError:
    return SandboxError(Kind.NOT_FOUND, f"No query results for model [App\\Models\\{model}] {key}")


def invalid(field: str, message: str) -> SandboxError:
    """A 422 naming one field, as Laravel's validator would."""
    return SandboxError(Kind.VALIDATION, message, status=422, field=field, details={"errors": {field: [message]}})


def gateway_refused(code: str) -> SandboxError:
    """A 422 on `online`: the payment gateway refused to send the money back (the request
    itself was valid, so the top-level message says what happened, as a Laravel app's
    ValidationException::withMessages would)."""
    return SandboxError(Kind.VALIDATION, GATEWAY_REFUSED, status=422, field="online", details={
        "message": GATEWAY_REFUSED,
        "errors": {"online": [f"The payment gateway refused the refund ({code}). "
                              "Send online=false to record an offline refund instead."]}})


def render(err: SandboxError, info: RequestInfo) -> dict[str, Any]:
    """Laravel's JSON error body: 422 with `errors` by field, anything else `{"message"}`."""
    if err.status == 422:
        errors = err.details.get("errors") or {err.field or "body": [err.message]}
        return {"message": err.details.get("message", INVALID),
                "errors": {f: [laravel_message(f, m) for m in msgs] for f, msgs in errors.items()}}
    if err.code is not None:  # an error of the contract's catalogue (an injected fault, say)
        return {"message": err.message}
    template = MESSAGES.get(err.kind)
    if template:
        return {"message": template.format(method=info.method, path=info.path.lstrip("/"))}
    if err.details.get("unknown_route"):
        return {"message": f"The route {info.path.lstrip('/')} could not be found."}
    return {"message": err.message if err.kind is not Kind.INTERNAL else "Server Error"}
