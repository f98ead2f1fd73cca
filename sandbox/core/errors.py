"""SandboxError: the one exception every layer raises, as data (kind, status, code, message).

Core code raises by *kind* and leaves the status and code to the provider, whose
`errors.render` turns the error into that provider's native body. Nothing here knows a
provider's wire format; `sandbox.core.pipeline` picks the renderer for each request.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


class Kind(enum.Enum):
    """What went wrong, independent of any provider's status codes."""

    VALIDATION = "validation"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    NOT_ACCEPTABLE = "not_acceptable"
    TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"
    NOT_IMPLEMENTED = "not_implemented"


#: app.extensions key: {blueprint name: function rendering a SandboxError as that blueprint's own
#: page}, for errors raised outside its views' reach (the dashboard's, when the shared store is down).
ERROR_PAGES = "refund_sandbox_error_pages"

#: The status a kind gets when the provider's catalogue does not say otherwise.
DEFAULT_STATUS = {
    Kind.VALIDATION: 400,
    Kind.UNAUTHENTICATED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.METHOD_NOT_ALLOWED: 405,
    Kind.NOT_ACCEPTABLE: 406,
    Kind.CONFLICT: 409,
    Kind.TOO_LARGE: 413,
    Kind.RATE_LIMITED: 429,
    Kind.INTERNAL: 500,
    Kind.NOT_IMPLEMENTED: 501,
}


@dataclass
class SandboxError(Exception):
    """An error answer. `status` and `code` default from the kind; `field` names the culprit."""

    kind: Kind
    message: str
    status: int | None = None
    code: str | None = None
    field: str | None = None
    details: dict[str, Any] = dc_field(default_factory=dict)
    headers: dict[str, str] = dc_field(default_factory=dict)
    #: Why, in words, for the X-Sandbox-Error-Detail header and the journal; never in the body.
    detail: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if self.status is None:
            self.status = DEFAULT_STATUS[self.kind]


@dataclass(frozen=True)
class RawBody:
    """A renderer's answer that is not JSON (Django's HTML error pages, say)."""

    text: str
    mimetype: str


@dataclass(frozen=True)
class ErrorSpec:
    """One entry of a provider's error catalogue: raise it with `spec.error(message)`."""

    kind: Kind
    status: int
    code: str
    message: str

    def error(self, message: str | None = None, *, field: str | None = None, **details: Any) -> SandboxError:
        return SandboxError(self.kind, message or self.message, status=self.status, code=self.code,
                            field=field, details=details)


def validation_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested error dict into {"a.b.0.c": ["msg", ...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "body"
            for sub, msgs in validation_messages(value, name).items():
                flat.setdefault(sub, []).extend(msgs)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            for sub, msgs in validation_messages(item, prefix).items():
                flat.setdefault(sub, []).extend(msgs)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


def from_validation(messages: Any, *, status: int | None = None) -> SandboxError:
    """A VALIDATION error for marshmallow messages; the message names the first bad field."""
    flat = validation_messages(messages)
    first = next(iter(sorted(flat)), "body")
    text = f"{first}: {flat[first][0]}" if flat else "invalid request"
    return SandboxError(Kind.VALIDATION, text, status=status, field=first,
                        details={"errors": flat, "messages": messages})


def error_object(err: SandboxError, codes: Mapping[Kind, str] | None = None, *, upper: bool = False) -> dict[str, Any]:
    """`{"code", "message", "field"?}`, the error object several APIs (and the control plane) share.

    The code is the error's own, else the catalogue's code for its kind (`codes`), else the
    kind's name (upper-cased when the catalogue's codes are)."""
    fallback = err.kind.value.upper() if upper else err.kind.value
    error: dict[str, Any] = {"code": err.code or (codes or {}).get(err.kind, fallback), "message": err.message}
    if err.field:
        error["field"] = err.field
    return error
