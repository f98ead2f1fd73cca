"""The Provider type, the Scenario type, and the @operation decorator every view wears.

A provider is data: its key, blueprint, auth scheme, error renderer, tables and scenarios.
`@operation` does what every operation needs before the view's own logic: authenticate
with the provider's scheme, resolve the tenant, check the scope, load the headers and the
JSON body with marshmallow (a failure becomes a VALIDATION error in the provider's format),
and hand the view a `Call`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Blueprint, g, request
from marshmallow import Schema, ValidationError

from sandbox.core import body as json_body
from sandbox.core import faults, tenancy
from sandbox.core.auth import AuthContext, Principal
from sandbox.core.errors import Kind, RawBody, SandboxError, from_validation
from sandbox.core.runtime import runtime


@dataclass(frozen=True)
class SeededOrder:
    """What a scenario builds: the stored order, other documents, and the handles to address it."""

    order: dict[str, Any]
    order_ref: str | int  # of the type the refund request takes (Nuweb: the integer orderId)
    currency: str
    line_item_refs: list[str] = field(default_factory=list)
    transaction_refs: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    """A named, seeded way to build orders that lead to one documented outcome."""

    name: str
    description: str
    outcome: str
    build: Callable[[Any, Mapping[str, Any]], SeededOrder]
    overrides: Schema | None = None  # what `overrides` may set; unknown keys are refused

    @property
    def overridable(self) -> list[str]:
        return sorted(f.data_key or name for name, f in self.overrides.fields.items()) if self.overrides else []


def scenario_family(key: str, build: Callable[[Any, str, Mapping[str, Any]], SeededOrder], overrides: Schema,
                    entries: list[tuple[str, str, str]]) -> tuple[Scenario, ...]:
    """One Scenario per (kind, description, outcome), named "<key>.<kind>", built by
    build(fake, kind, overrides)."""
    return tuple(Scenario(f"{key}.{kind}", description, outcome,
                          lambda fake, given, kind=kind: build(fake, kind, given), overrides)
                 for kind, description, outcome in entries)


@dataclass(frozen=True)
class RequestInfo:
    """What an error renderer may echo: method, provider-relative path, trace id, duration."""

    method: str
    path: str
    trace_id: str
    duration_ms: int


def request_info() -> RequestInfo:
    """Method, the path as the provider sees it (mount removed), trace id and duration so far."""
    rt = runtime()
    path = request.path
    provider = g.get("provider")
    if provider is not None:
        mount = rt.mount(provider.key)
        if mount and path.startswith(mount):
            path = path[len(mount):] or "/"
    started = g.get("started", time.perf_counter())
    return RequestInfo(request.method, path, g.get("trace_id", ""), int((time.perf_counter() - started) * 1000))


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    blueprint: Blueprint
    auth: Any
    render_error: Callable[[SandboxError, RequestInfo], dict[str, Any] | RawBody]
    tables: Mapping[str, str | None]
    present_order: Callable[[dict[str, Any]], dict[str, Any]]
    scenarios: tuple[Scenario, ...] = ()
    validation_status: int = 400
    #: Django's APPEND_SLASH: a known path without its trailing slash answers 301 to the
    #: slashed URL (else such a path is an unknown route, 404).
    append_slash: bool = False
    order_table: str = "orders"
    refund_table: str = "refunds"
    #: Called in a transaction when the tenant's clock moves (POST /_sandbox/clock/advance),
    #: so time-driven state (pending refunds) moves on: on_clock(tx, now).
    on_clock: Callable[[Any, datetime], None] | None = None
    #: The order a request addresses (for fault rules matched by order_ref): from the path
    #: arguments by default; providers that address orders in the body say how.
    order_ref_of: Callable[[Mapping[str, Any], Any], str | None] = (
        lambda path, body: str(next(iter(path.values()))) if path else None)
    #: A body sent without any Content-Type is read as JSON (the API documents
    #: application/json as the default); a non-JSON Content-Type is still refused.
    untyped_body_is_json: bool = False


@dataclass(frozen=True)
class Call:
    """A request that passed auth and validation: who, for which tenant, with what data."""

    provider: Provider
    tenant: str
    principal: Principal | None
    headers: dict[str, Any]
    body: dict[str, Any] | None
    query: dict[str, Any] = field(default_factory=dict)


def load(schema: Schema, data: Any, status: int) -> dict[str, Any]:
    """marshmallow load; a ValidationError becomes a SandboxError naming the first bad field."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise from_validation(exc.messages, status=status) from None


def authenticate(provider: Provider, scheme: Any) -> Principal:
    """Check the request's credentials with `scheme` for `provider`.

    :raise 401: (UNAUTHENTICATED) when they are missing, malformed, unknown (strict) or expired.
    """
    rt = runtime()
    ctx = AuthContext(provider=provider.key, headers=request.headers, strict=rt.settings.strict_auth,
                      registry=rt.credentials, issuer=rt.tokens, now_for=rt.clock.now)
    return scheme.authenticate(ctx)


def inject_faults(provider: Provider, tenant: str, operation_id: str, path_args: Mapping[str, Any]) -> None:
    """Apply the tenant's first matching fault rule, if one fires (sandbox.core.faults).

    :raise: the injected status as a SandboxError in the provider's format.
    """
    def order_ref() -> str | None:
        ref = provider.order_ref_of(path_args, json_body.peek(provider.untyped_body_is_json))
        return None if ref is None else str(ref)

    fault = runtime().faults.fire(tenant, provider.key, operation_id, order_ref)
    if fault is None:
        return
    g.fault = ", ".join(fault.effects)
    if fault.delay_ms:
        time.sleep(fault.delay_ms / 1000)
    if fault.drop_connection:
        request.environ[faults.DROP] = True
        raise SandboxError(Kind.INTERNAL, "connection dropped (injected fault)", status=500)
    if fault.status:
        g.fault_status = fault.status
        codes = runtime().contracts.error_codes(provider.key, operation_id, fault.status)
        raise faults.injected_error(fault.status, codes, fault.code, request.method, request_info().path)
    if fault.timeout_after_commit:
        request.environ[faults.HOLD] = fault.hold_ms


def operation(*, body: Schema | None = None, headers: Schema | None = None, path: Schema | None = None,
              query: Schema | None = None, auth: Any = True, scope: str | None = None) -> Callable:
    """Wrap a view: auth (401/403), then path, query, headers and body loading (the provider's
    validation status). The loaded query string is passed as `call.query`.

    `auth=True` uses the provider's scheme, `False` none, or pass another scheme object.
    The view is called as `view(call, **path_args)`.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(**path_args: Any) -> Any:
            provider: Provider = g.provider
            principal = None
            if auth:
                principal = authenticate(provider, provider.auth if auth is True else auth)
                g.principal = principal
            tenant = tenancy.current_tenant()
            if scope and principal is not None and principal.scopes is not None and scope not in principal.scopes:
                raise SandboxError(Kind.FORBIDDEN, f"this credential lacks the {scope} scope", field=scope,
                                   detail=f"this credential is registered with scopes "
                                   f"[{', '.join(sorted(principal.scopes))}], which lack {scope}")
            if path is not None:
                path_args = load(path, path_args, provider.validation_status)
            inject_faults(provider, tenant, view.__name__, path_args)
            loaded_query: dict[str, Any] = {}
            if query is not None:
                json_body.check_query(provider.validation_status)
                loaded_query = load(query, request.args.to_dict(), provider.validation_status)
            loaded_headers: dict[str, Any] = {}
            if headers is not None:
                raw = {k.lower(): v for k, v in request.headers.items()}
                loaded_headers = load(headers, raw, provider.validation_status)
            loaded_body = None
            if body is not None:
                document = json_body.document(provider.validation_status, provider.untyped_body_is_json)
                if not isinstance(document, dict):
                    raise SandboxError(Kind.VALIDATION, "request body must be a JSON object",
                                       status=provider.validation_status, field="body")
                loaded_body = load(body, document, provider.validation_status)
            return view(Call(provider, tenant, principal, loaded_headers, loaded_body, loaded_query), **path_args)

        return wrapper

    return decorate
