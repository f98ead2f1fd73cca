"""Next Commerce's errors in Django REST Framework's shapes (the vendor documents none).

400: `{"field": ["msg"]}`, nested for nested fields (a list with one entry per submitted
item, `{}` where an item is fine), `{"non_field_errors": ["msg"]}` for cross-field rules,
`{"detail": "..."}` for a bad version header; 401/403/404/405 and every other status DRF
handles: `{"detail": "..."}` with DRF's own wording. What DRF does not handle is Django's:
an unknown URL gets Django's 404 page and an unhandled exception its 500 page (HTML, DEBUG
off), and a known path without its trailing slash a 301 (APPEND_SLASH); 502 `{"detail"}`
when the payment gateway errors (an APIException subclass). All labelled as the sandbox's
choice in the contract.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.errors import Kind, RawBody, SandboxError
from sandbox.core.provider import RequestInfo

VERSION_HEADER = "x-29next-api-version"
_DJANGO_PAGE = """
<!doctype html>
<html lang="en">
<head>
  <title>%(title)s</title>
</head>
<body>
  <h1>%(title)s</h1><p>%(details)s</p>
</body>
</html>
"""
GATEWAY_ERROR = "gateway_error"
DETAILS = {
    Kind.FORBIDDEN: "You do not have permission to perform this action.",
    Kind.NOT_FOUND: "Not found.",
    Kind.INTERNAL: "A server error occurred.",
}
#: marshmallow's wording -> DRF's
WORDING = {
    "Missing data for required field.": "This field is required.",
    "Not a valid integer.": "A valid integer is required.",
    "Not a valid boolean.": "Must be a valid boolean.",
    "Field may not be null.": "This field may not be null.",
    "Not a valid string.": "Not a valid string.",
    "Not a valid list.": 'Expected a list of items but got type "{type}".',
    "Invalid input type.": "Invalid data. Expected a dictionary.",
}


def _drf(messages: Any) -> Any:
    """marshmallow's nested messages as DRF nests them: list positions become list items."""
    if isinstance(messages, dict):
        if messages and all(isinstance(k, int) for k in messages):
            size = max(messages) + 1
            return [_drf(messages.get(i, {})) for i in range(size)]
        return {("non_field_errors" if k == "_schema" else k): _drf(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [WORDING.get(m, m) if isinstance(m, str) else _drf(m) for m in messages]
    return messages


def field_error(field: str, message: str, *, index: int | None = None, count: int = 0,
                attr: str | None = None) -> SandboxError:
    """A 400 on one field, or on one attribute of item `index` of a list field of `count` items."""
    if index is None:
        errors: dict[str, Any] = {field: {attr: [message]} if attr else [message]}
    else:
        items: list[Any] = [{} for _ in range(count)]
        items[index] = {attr: [message]} if attr else [message]
        errors = {field: items}
    return SandboxError(Kind.VALIDATION, message, status=400, field=field, details={"drf": errors})


def non_field_error(message: str) -> SandboxError:
    return SandboxError(Kind.VALIDATION, message, status=400, details={"drf": {"non_field_errors": [message]}})


def gateway_error() -> SandboxError:
    """502: the payment gateway errored, so nothing was recorded (DRF's APIException shape)."""
    return SandboxError(Kind.INTERNAL, "Payment gateway error: the refund could not be processed. "
                        "No refund was recorded.", status=502, code=GATEWAY_ERROR)


def django_page(title: str, details: str = "") -> RawBody:
    """Django's own error page (django.views.defaults.ERROR_PAGE_TEMPLATE, DEBUG off)."""
    return RawBody(_DJANGO_PAGE % {"title": title, "details": details}, "text/html")


def render(err: SandboxError, info: RequestInfo) -> dict[str, Any] | RawBody:
    if err.status == 500:  # an exception DRF does not handle: Django's 500 page
        return django_page("Server Error (500)")
    if err.details.get("unknown_route"):  # no URL pattern: Django's 404 page
        return django_page("Not Found", "The requested resource was not found on this server.")
    if err.kind is Kind.VALIDATION and err.status == 400:
        if "drf" in err.details:
            return err.details["drf"]
        messages = err.details.get("messages")
        if isinstance(messages, dict) and VERSION_HEADER in messages:
            return {"detail": 'Invalid version in "X-29next-API-Version" header.'}
        if messages is not None:
            return _drf(messages)
        return {err.field: [err.message]} if err.field else {"non_field_errors": [err.message]}
    if err.code is not None:  # an error of the contract's catalogue (an injected fault, say)
        return {"detail": err.message}
    if err.kind is Kind.UNAUTHENTICATED:
        missing = err.message.startswith("missing")
        return {"detail": "Authentication credentials were not provided." if missing else "Invalid token."}
    if err.kind is Kind.METHOD_NOT_ALLOWED:
        return {"detail": f'Method "{info.method}" not allowed.'}
    return {"detail": DETAILS.get(err.kind, err.message)}
