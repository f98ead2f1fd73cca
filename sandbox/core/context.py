"""The request context: everything the pipeline learns about one request, in one object.

`begin()` (sandbox.core.pipeline) creates it before anything can fail, with the owner (the
provider the path belongs to, the control plane, or nobody) and the tenant (from
`X-Sandbox-Tenant`; a credential registered to a tenant may set it later, at auth). Every
later step reads and fills the same object, so a refused request still belongs to its
tenant: its journal entry, its `X-Sandbox-Tenant` echo and its error detail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context, request

from sandbox.core.tenancy import DEFAULT, HEADER, from_header

_ATTR = "sandbox_request"


@dataclass(slots=True)
class RequestContext:
    started: float
    trace_id: str
    owner: str | None  # a provider key, the control plane's key, or None (no owner: the fallback)
    provider: Any = None  # the owning Provider, when the owner is one
    tenant: str = DEFAULT
    tenant_from_header: bool = False
    tenant_error: Any = None  # the SandboxError for an invalid X-Sandbox-Tenant, raised when the tenant is needed
    principal: Any = None  # sandbox.core.auth.Principal, once authenticated
    operation: str | None = None  # the operationId being served
    fault: str | None = None  # the effects of the fault rule that fired
    fault_status: int | None = None  # the status it injected, if any
    error_code: str | None = None
    error_detail: str | None = None
    routing: str | list[str] | None = None  # unknown route / append slash / the endpoints a 405 belongs to

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def bind_principal(self, principal: Any) -> None:
        """Authenticated: a credential registered to a tenant moves the request there, unless
        the request named its tenant itself."""
        self.principal = principal
        if not self.tenant_from_header and principal is not None and principal.tenant:
            self.tenant = principal.tenant


def start(trace_id: str, owner: str | None, provider: Any) -> RequestContext:
    """The context of a new request: its owner, and its tenant from the header."""
    header = request.headers.get(HEADER)
    tenant, error = from_header(header)
    ctx = RequestContext(time.perf_counter(), trace_id, owner, provider, tenant=tenant,
                         tenant_from_header=header is not None and error is None, tenant_error=error)
    setattr(g, _ATTR, ctx)
    return ctx


def current() -> RequestContext | None:
    """The context of the request being served (None outside a request, or before `start`)."""
    return getattr(g, _ATTR, None) if has_request_context() else None


@dataclass(frozen=True)
class RequestInfo:
    """What an error renderer may echo: method, provider-relative path, trace id, duration."""

    method: str
    path: str
    trace_id: str
    duration_ms: int


def request_info(mount: str = "") -> RequestInfo:
    """Method, the path as the provider sees it (`mount` removed), trace id and duration so far."""
    path = request.path
    if mount and path.startswith(mount):
        path = path[len(mount):] or "/"
    ctx = current()
    if ctx is None:
        return RequestInfo(request.method, path, "", 0)
    return RequestInfo(request.method, path, ctx.trace_id, int(ctx.elapsed_ms()))
