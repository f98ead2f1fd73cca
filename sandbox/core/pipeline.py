"""The hooks `sandbox.core.install` registers, in the order a request meets them.

before: start the timer and trace id, then decide which provider owns the request (the
matched blueprint, else the first path segment, else the only mounted provider).
errors: every exception becomes a SandboxError rendered by that provider (or by the control
plane), so 404 and 405 under `/fire` answer in Fire's format and no traceback leaks.
after: check the response against the contract (with --validate-responses), add the
X-Sandbox-* headers, and log one line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import RequestRedirect

from sandbox.core import body as json_body
from sandbox.core import explain, faults, ids, journal, tenancy
from sandbox.core.clock import isoformat_ms
from sandbox.core.contracts import APPEND_SLASH, UNKNOWN_ROUTE
from sandbox.core.errors import Kind, RawBody, SandboxError
from sandbox.core.provider import request_info
from sandbox.core.runtime import runtime

access_log = logging.getLogger("sandbox.access")
error_log = logging.getLogger("sandbox.errors")
CONTROL = "_sandbox"
CONTROL_CONTRACT = "control"  # contracts/control.openapi.yaml


def start_request() -> Response | None:
    g.started = time.perf_counter()
    g.trace_id = ids.trace_id()
    rt = runtime()
    key = request.blueprint
    if key is None or (key not in rt.providers and key != CONTROL):
        first = request.path.lstrip("/").split("/", 1)[0]
        if first in rt.providers and rt.settings.only in (None, first):
            key = first
        elif first == CONTROL:
            key = CONTROL
        elif rt.settings.only:
            key = rt.settings.only
        else:
            key = None
    g.owner = key
    g.provider = rt.providers.get(key) if key else None
    if isinstance(request.routing_exception, RequestRedirect):  # a known path without its trailing slash
        return append_slash(request.routing_exception.new_url)
    return None


def append_slash(new_url: str) -> Response:
    """What the owner's stack does with a known path missing its trailing slash: Django's
    APPEND_SLASH answers 301 to the slashed URL with an empty body; everyone else, 404."""
    provider = g.get("provider")
    if provider is None or not provider.append_slash:
        raise SandboxError(Kind.NOT_FOUND, f"no route for {request.method} {request.path}",
                           details={"unknown_route": True})
    g.routing_answer = APPEND_SLASH
    response = Response(b"", status=301, mimetype="text/html")
    response.headers["Location"] = new_url
    return response


def render(err: SandboxError) -> Response:
    """An error in the owner's native format (the control plane's for everything else)."""
    provider = g.get("provider")
    if provider is not None:
        body = provider.render_error(err, request_info())
    else:
        from sandbox.control.errors import render as control_render

        body = control_render(err, request_info())
    response = Response(body.text, mimetype=body.mimetype) if isinstance(body, RawBody) else jsonify(body)
    response.status_code = err.status or 500
    for name, value in err.headers.items():
        response.headers[name] = value
    g.error_code = err.code or err.kind.value
    detail = explain.detail(err, provider)
    if detail:  # the one place that says why, beside the provider's faithful body
        response.headers[explain.HEADER] = g.error_detail = detail
    return response


def handle_sandbox_error(err: SandboxError) -> Response:
    return render(err)


def handle_http_exception(exc: HTTPException) -> Response:
    if isinstance(exc, NotFound):
        g.routing_answer = UNKNOWN_ROUTE
        err = SandboxError(Kind.NOT_FOUND, f"no route for {request.method} {request.path}",
                           details={"unknown_route": True})
    elif isinstance(exc, MethodNotAllowed):
        allowed = sorted(exc.valid_methods or [])
        g.routing_answer = _endpoints_for(allowed)
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


def handle_unexpected(exc: Exception) -> Response:
    error_log.exception("unhandled error [trace %s] %s %s", g.get("trace_id"), request.method, request.path)
    if current_app.testing:
        raise exc  # under test, a crash must fail the test, not hide behind a 500
    return render(SandboxError(Kind.INTERNAL, "internal error; see the sandbox log for trace " + g.get("trace_id", "")))


def _request_body() -> bytes:
    """The request body for the journal; one over the size limit is not read (it was refused)."""
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        return b"[body over the size limit, not recorded]"


def _read_as_json() -> bool:
    provider = g.get("provider")
    return json_body.is_json(provider is not None and provider.untyped_body_is_json)


def record_exchange(rt: Any, owner: str, response: Response, unanswered: bool, mismatch: str | None) -> None:
    """One journal entry for a provider exchange, credentials and secrets redacted."""
    tenant = g.get("tenant") or tenancy.DEFAULT
    started = g.get("started", time.perf_counter())
    rt.journal.record(tenant, {
        "time": isoformat_ms(rt.clock.now(tenant)), "provider": owner,
        "operation": (request.endpoint or "").rsplit(".", 1)[-1] if request.url_rule is not None else None,
        "method": request.method, "path": request.full_path if request.query_string else request.path,
        "status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "error_code": g.get("error_code"), "error_detail": g.get("error_detail"), "fault": g.get("fault"),
        "answered": not unanswered,
        "contract_mismatch": mismatch,
        "request": {"headers": list(request.headers.items()),
                    "body": journal.Body.of(_request_body(), _read_as_json())},
        "response": {"body": journal.Body.of(response.get_data(), response.is_json)},
    })


def self_check(rt: Any, owner: str | None, response: Response) -> str | None:
    """Check the answer against its contract: the operation's, the path's 405 (declared on
    each of its operations), or the owner's declared answer for unknown routes and missing
    trailing slashes. Injected faults are checked too, and recorded as injected."""
    contract = owner if owner in rt.providers else CONTROL_CONTRACT
    routing = g.get("routing_answer")
    if request.url_rule is not None:
        checks = [((request.endpoint or "").rsplit(".", 1)[-1], request.method)]
    elif routing in (UNKNOWN_ROUTE, APPEND_SLASH):
        checks = [(routing, request.method)]
    elif routing:  # a 405: the endpoints of the path
        checks = [(endpoint.rsplit(".", 1)[-1], None) for endpoint in routing]
    else:
        return None
    injected = g.get("fault_status") is not None
    problems = [rt.contracts.check(rt.selfcheck, contract, operation_id, method, response.status_code,
                                   response.get_data(), response.content_type, injected=injected)
                for operation_id, method in checks]
    return next((p for p in problems if p), None)


def finish_request(response: Response) -> Response:
    rt = runtime()
    owner = g.get("owner")
    unanswered = bool(request.environ.get(faults.DROP) or request.environ.get(faults.HOLD))
    mismatch = None
    if rt.settings.validate_responses and not unanswered:
        mismatch = self_check(rt, owner, response)
    if owner in rt.providers:
        record_exchange(rt, owner, response, unanswered, mismatch)
    response.headers["X-Sandbox-Request-Id"] = g.get("trace_id", "")
    if owner:
        response.headers["X-Sandbox-Provider"] = owner
    if g.get("tenant"):
        response.headers["X-Sandbox-Tenant"] = g.tenant
    if rt.settings.log_requests:
        took = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access_log.info('%s "%s %s" %d %.1fms tenant=%s', request.remote_addr, request.method, request.full_path
                        if request.query_string else request.path, response.status_code, took,
                        g.get("tenant", "-"))
    return response
