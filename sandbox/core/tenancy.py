"""The current tenant: `X-Sandbox-Tenant`, else the credential's tenant, else "default".

Tenant names become directory names under `--data-dir`, so they are restricted to
1-64 characters of letters, digits, dot, dash and underscore, not starting with a dot.
"""

from __future__ import annotations

import re

from flask import g, request

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


def current_tenant() -> str:
    """The tenant of the request being served (cached on flask.g)."""
    cached = g.get("tenant")
    if cached:
        return cached
    header = request.headers.get(HEADER)
    if header is not None:
        tenant = check_name(header.strip())
    else:
        principal = g.get("principal")
        tenant = principal.tenant if principal is not None and principal.tenant else DEFAULT
    g.tenant = tenant
    return tenant
