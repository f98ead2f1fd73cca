"""The request pipeline: every step a request takes, in order, over one RequestContext.

  1. begin           before_request   timer and trace id; the owner (the provider the path
                                      belongs to, the control plane, or the fallback); the
                                      tenant from X-Sandbox-Tenant, before anything can fail;
                                      Django-style APPEND_SLASH redirects
  2. authenticate    @operation       the provider's scheme -> principal (401); a credential
                                      registered to a tenant moves the request there
  3. check_scope     @operation       403
  4. inject_faults   @operation       the tenant's first matching fault rule
  5. load_inputs     @operation       path, query, headers and JSON body (marshmallow)
  6. the view        @operation       rules, store transaction, answer
  7. render          error handlers   any exception -> SandboxError -> the owner's native body
                                      (+ X-Sandbox-Error-Detail); unknown routes and 405s too
  8. finish          after_request    self-check against the contract and journal entry
                                      (sandbox.core.exchange), X-Sandbox-* echo headers, log

Core knows no provider and no control plane: `install()` receives the fallback owner (the
control plane's key, its error renderer and its contract) and every provider is data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import Schema
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import RequestRedirect

from sandbox.core import body as json_body
from sandbox.core import context, exchange, explain, faults, ids
from sandbox.core.auth import AuthContext, Principal
from sandbox.core.contracts import APPEND_SLASH, UNKNOWN_ROUTE
from sandbox.core.errors import Kind, RawBody, SandboxError
from sandbox.core.provider import Call, Loader, Provider, load
from sandbox.core.runtime import runtime

access_log = logging.getLogger("sandbox.access")
error_log = logging.getLogger("sandbox.errors")


@dataclass(frozen=True)
class Fallback:
    """The owner of every path no provider owns (the control plane): its URL prefix, its
    error renderer and the name of its contract."""

    key: str
    render: Callable[[SandboxError, context.RequestInfo], dict[str, Any]]
    contract: str


def install(app: Flask, fallback: Fallback) -> None:
    """Register the pipeline on `app`: steps 1, 7 and 8 (the @operation wrapper runs 2-6)."""
    app.url_map.merge_slashes = False  # "//" is an unknown route, not Werkzeug's own 308 redirect
    app.extensions[FALLBACK] = fallback
    app.before_request(begin)
    app.register_error_handler(SandboxError, render)
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(Exception, render_unexpected)
    app.after_request(finish)


FALLBACK = "refund_sandbox.fallback"


def _fallback() -> Fallback:
    return current_app.extensions[FALLBACK]


# ------------------------------------------------------------------------------ 1. begin


def begin() -> Response | None:
    rt = runtime()
    fallback = _fallback()
    key = request.blueprint
    if key is None or (key not in rt.providers and key != fallback.key):
        first = request.path.lstrip("/").split("/", 1)[0]
        if first in rt.providers and rt.settings.only in (None, first):
            key = first
        elif first == fallback.key:
            key = fallback.key
        elif rt.settings.only:
            key = rt.settings.only
        else:
            key = None
    context.start(ids.trace_id(), key, rt.providers.get(key) if key else None)
    if isinstance(request.routing_exception, RequestRedirect):  # a known path without its trailing slash
        return append_slash(request.routing_exception.new_url)
    return None


def append_slash(new_url: str) -> Response:
    """What the owner's stack does with a known path missing its trailing slash: Django's
    APPEND_SLASH answers 301 to the slashed URL with an empty body; everyone else, 404."""
    ctx = context.current()
    if ctx.provider is None or not ctx.provider.append_slash:
        raise unknown_route(ctx)
    ctx.routing = APPEND_SLASH
    response = Response(b"", status=301, mimetype="text/html")
    response.headers["Location"] = new_url
    return response


# ---------------------------------------------------------------------- 2-6. @operation


def operation(*, body: Schema | Loader | None = None, headers: Schema | None = None, path: Schema | None = None,
              query: Schema | None = None, auth: Any = True, scope: str | None = None) -> Callable:
    """Wrap a view in steps 2-5: authenticate (401), check the scope (403), inject faults,
    load path, query, headers and body (the provider's validation status). The view is called
    as `view(call, **path_args)`; `auth=True` uses the provider's scheme, `False` none, or
    pass another scheme object."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(**path_args: Any) -> Any:
            ctx = context.current()
            provider: Provider = ctx.provider
            ctx.operation = view.__name__
            if auth:
                ctx.bind_principal(authenticate(provider, provider.auth if auth is True else auth))
            if ctx.tenant_error is not None:
                raise ctx.tenant_error
            check_scope(ctx.principal, scope)
            if path is not None:
                path_args = load(path, path_args, provider.validation_status)
            inject_faults(ctx, provider, path_args)
            loaded = load_inputs(provider, query, headers, body)
            return view(Call(provider, ctx.tenant, ctx.principal, *loaded), **path_args)

        return wrapper

    return decorate


def authenticate(provider: Provider, scheme: Any) -> Principal:
    """:raise 401: (UNAUTHENTICATED) credentials missing, malformed, unknown (strict) or expired."""
    rt = runtime()
    auth = AuthContext(provider=provider.key, headers=request.headers, strict=rt.settings.strict_auth,
                       registry=rt.credentials, issuer=rt.tokens, now_for=rt.clock.now)
    return scheme.authenticate(auth)


def check_scope(principal: Principal | None, scope: str | None) -> None:
    """:raise 403: (FORBIDDEN) the credential was registered with scopes that lack `scope`."""
    if scope and principal is not None and principal.scopes is not None and scope not in principal.scopes:
        raise SandboxError(Kind.FORBIDDEN, f"this credential lacks the {scope} scope", field=scope,
                           detail=f"this credential is registered with scopes "
                           f"[{', '.join(sorted(principal.scopes))}], which lack {scope}")


def inject_faults(ctx: context.RequestContext, provider: Provider, path_args: Mapping[str, Any]) -> None:
    """Apply the tenant's first matching fault rule, if one fires (sandbox.core.faults).

    :raise: the injected status, as the contract declares it, in the provider's format.
    """
    def order_ref() -> str | None:
        ref = provider.order_ref_of(path_args, json_body.peek(provider.untyped_body_is_json))
        return None if ref is None else str(ref)

    rt = runtime()
    fault = rt.faults.fire(ctx.tenant, provider.key, ctx.operation, order_ref)
    if fault is None:
        return
    ctx.fault = ", ".join(fault.effects)
    if fault.delay_ms:
        time.sleep(fault.delay_ms / 1000)
    if fault.drop_connection:
        request.environ[faults.DROP] = True
        raise SandboxError(Kind.INTERNAL, "connection dropped (injected fault)", status=500)
    if fault.status:
        ctx.fault_status = fault.status
        codes = rt.contracts.error_codes(provider.key, ctx.operation, fault.status)
        raise faults.injected_error(fault.status, codes, fault.code, request.method, request_info().path)
    if fault.timeout_after_commit:
        request.environ[faults.HOLD] = fault.hold_ms


def load_inputs(provider: Provider, query: Schema | None, headers: Schema | None,
                body: Schema | Loader | None) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """(headers, body, query) loaded with marshmallow (the body maybe with a BodyParser).
    :raise: the provider's validation status."""
    status = provider.validation_status
    loaded_query: dict[str, Any] = {}
    if query is not None:
        json_body.check_query(status)
        loaded_query = load(query, request.args.to_dict(), status)
    loaded_headers: dict[str, Any] = {}
    if headers is not None:
        loaded_headers = load(headers, {k.lower(): v for k, v in request.headers.items()}, status)
    loaded_body = None
    if body is not None:
        document = json_body.document(status, provider.untyped_body_is_json)
        if not isinstance(document, dict):
            raise SandboxError(Kind.VALIDATION, "request body must be a JSON object", status=status, field="body")
        loaded_body = load(body, document, status)
    return loaded_headers, loaded_body, loaded_query


# ----------------------------------------------------------------------------- 7. render


def request_info() -> context.RequestInfo:
    """Method, the path as the owning provider sees it (its mount removed), trace id, duration."""
    ctx = context.current()
    mount = runtime().mount(ctx.provider.key) if ctx is not None and ctx.provider is not None else ""
    return context.request_info(mount)


def render(err: SandboxError) -> Response:
    """An error in the owner's native format (the fallback's for paths no provider owns)."""
    ctx = context.current()
    provider = ctx.provider if ctx is not None else None
    renderer = provider.render_error if provider is not None else _fallback().render
    body = renderer(err, request_info())
    response = Response(body.text, mimetype=body.mimetype) if isinstance(body, RawBody) else jsonify(body)
    response.status_code = err.status or 500
    for name, value in err.headers.items():
        response.headers[name] = value
    detail = explain.detail(err, provider, ctx)
    if ctx is not None:
        ctx.error_code = err.code or err.kind.value
        ctx.error_detail = detail
    if detail:  # the one place that says why, beside the provider's faithful body
        response.headers[explain.HEADER] = detail
    return response


def unknown_route(ctx: context.RequestContext | None) -> SandboxError:
    """A path no operation serves: a 404 in the owner's format, checked against its UnknownRoute."""
    if ctx is not None:
        ctx.routing = UNKNOWN_ROUTE
    return SandboxError(Kind.NOT_FOUND, f"no route for {request.method} {request.path}",
                        details={"unknown_route": True})


def render_http_exception(exc: HTTPException) -> Response:
    ctx = context.current()
    if isinstance(exc, NotFound):
        err = unknown_route(ctx)
    elif isinstance(exc, MethodNotAllowed):
        allowed = sorted(exc.valid_methods or [])
        if ctx is not None:
            ctx.routing = _endpoints_for(allowed)
        err = SandboxError(Kind.METHOD_NOT_ALLOWED, f"method {request.method} is not allowed here",
                           headers={"Allow": ", ".join(allowed)})
    elif isinstance(exc, RequestEntityTooLarge):
        err = SandboxError(Kind.TOO_LARGE, f"request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} "
                           "bytes", field="body")
    elif exc.code and 400 <= exc.code < 500:
        err = SandboxError(Kind.VALIDATION, exc.description or exc.name, status=400)
    else:
        err = SandboxError(Kind.INTERNAL, "internal error")
    return render(err)


def _endpoints_for(methods: list[str]) -> list[str]:
    """The endpoints the request's path serves for `methods` (its 405 is declared on each)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    endpoints = []
    for method in methods:
        if method not in ("HEAD", "OPTIONS"):
            try:
                endpoint, _ = adapter.match(method=method)
            except HTTPException:
                continue
            endpoints.append(endpoint)
    return endpoints


def render_unexpected(exc: Exception) -> Response:
    ctx = context.current()
    trace = ctx.trace_id if ctx is not None else ""
    error_log.exception("unhandled error [trace %s] %s %s", trace, request.method, request.path)
    if current_app.testing:
        raise exc  # under test, a crash must fail the test, not hide behind a 500
    return render(SandboxError(Kind.INTERNAL, "internal error; see the sandbox log for trace " + trace))


# ----------------------------------------------------------------------------- 8. finish


def finish(response: Response) -> Response:
    rt = runtime()
    ctx = context.current()
    if ctx is None:  # a request that failed before begin() (nothing of the sandbox's ran)
        return response
    unanswered = faults.unanswered(request.environ)
    mismatch = None
    if rt.settings.validate_responses and not unanswered:
        mismatch = exchange.self_check(rt, ctx, response, _fallback().contract)
    if ctx.owner in rt.providers:
        exchange.record(rt, ctx, response, unanswered, mismatch)
    response.headers["X-Sandbox-Request-Id"] = ctx.trace_id
    if ctx.owner:
        response.headers["X-Sandbox-Provider"] = ctx.owner
    response.headers["X-Sandbox-Tenant"] = ctx.tenant
    if rt.settings.log_requests:
        access_log.info('%s "%s %s" %d %.1fms tenant=%s', request.remote_addr, request.method, request.full_path
                        if request.query_string else request.path, response.status_code, ctx.elapsed_ms(),
                        ctx.tenant)
    return response
