"""Why an error answer happened, in words: the `X-Sandbox-Error-Detail` header and the journal's
`error_detail`, beside the provider's own body (which stays faithful to the real API).

An error may carry its own `detail` (auth failures say which header, which shape, strict mode
or expiry). A 404 of a provider operation whose order is not in the caller's tenant gets one
here: which tenant was searched and why that one, and which other live tenant holds the order.
It is computed when the answer is rendered, after the view's transaction has released the
tenant's lock, so looking into other tenants cannot deadlock.
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from sandbox.core import body as json_body
from sandbox.core import tenancy
from sandbox.core.errors import Kind, SandboxError
from sandbox.core.runtime import runtime

HEADER = "X-Sandbox-Error-Detail"
MAX_TENANTS_SEARCHED = 200  # a 404 must stay cheap however many tenants are alive
MAX_LENGTH = 600


def detail(err: SandboxError, provider: Any, ctx: Any) -> str | None:
    """The error's own detail, else an explanation of a tenant-caused 404, else None."""
    text = err.detail
    if text is None and err.kind is Kind.NOT_FOUND and provider is not None and request.url_rule is not None:
        text = _missing_order(provider, ctx)
    return None if text is None else header_safe(text)


def header_safe(text: str) -> str:
    """One line of printable ASCII (HTTP header values are Latin-1 at best), bounded."""
    flat = " ".join(text.split())
    return flat.encode("ascii", "backslashreplace").decode("ascii")[:MAX_LENGTH]


def tenant_source(ctx: Any) -> str:
    """Why the request runs in its tenant, in words."""
    if ctx.tenant_from_header:
        return f"from the {tenancy.HEADER} header"
    principal = ctx.principal
    if principal is not None and principal.tenant:
        return "the tenant the credential is registered to"
    return f"no {tenancy.HEADER} header and no credential registered to a tenant"


def _missing_order(provider: Any, ctx: Any) -> str | None:
    try:
        sent = json_body.peek(provider.untyped_body_is_json)
    except RequestEntityTooLarge:  # the 404 came first; the body is not looked at
        sent = None
    ref = provider.order_ref_of(request.view_args or {}, sent)
    if ref is None:
        return None
    rt = runtime()
    tenant = ctx.tenant

    def holds(name: str) -> bool:
        return rt.store.read(name, provider.key, lambda tx: tx.get(provider.order_table, str(ref))) is not None

    if holds(tenant):
        return None  # the order is here: the 404 is about something else (its lines, its account...)
    others = [t for t in rt.store.tenants()[:MAX_TENANTS_SEARCHED] if t != tenant]
    holders = [t for t in others if holds(t)]
    text = f"no {provider.key} order {ref} in tenant '{tenant}' ({tenant_source(ctx)})"
    if holders:
        listed = ", ".join(f"'{t}'" for t in holders[:3])
        return (f"{text}; tenant {listed} holds it: send {tenancy.HEADER}: {holders[0]} "
                "(a seeded handle's headers carry it)")
    return f"{text}; no other live tenant holds it either"
