"""Tenants: the `X-Sandbox-Tenant` header, valid names, and the tenant of the request.

A request's tenant is decided when it starts (sandbox.core.context): the header, else
`default`; a credential registered to a tenant moves it there at auth, unless the header
named one. Tenant names become directory names under `--data-dir`, so they are restricted
to 1-64 characters of letters, digits, dot, dash and underscore, not starting with a dot.
"""

from __future__ import annotations

import re

from sandbox.core.errors import Kind, SandboxError

HEADER = "X-Sandbox-Tenant"
DEFAULT = "default"
NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")


def check_name(name: str, field: str = HEADER) -> str:
    """Return the name if it is a valid tenant name.

    :raise 400: (VALIDATION) otherwise.
    """
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise SandboxError(Kind.VALIDATION, f"{field} must match {NAME.pattern}", field=field)
    return name


def from_header(value: str | None) -> tuple[str, SandboxError | None]:
    """The tenant a header value names (`default` without one), and the error if it is not a
    valid name (the request then runs as `default` until something needs its tenant)."""
    if value is None:
        return DEFAULT, None
    try:
        return check_name(value.strip()), None
    except SandboxError as err:
        return DEFAULT, err


def current_tenant() -> str:
    """The tenant of the request being served.

    :raise 400: the request's `X-Sandbox-Tenant` is not a valid tenant name.
    """
    from sandbox.core import context  # context builds on this module

    ctx = context.current()
    if ctx is None:
        return DEFAULT
    if ctx.tenant_error is not None:
        raise ctx.tenant_error
    return ctx.tenant
