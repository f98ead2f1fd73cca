"""What the pipeline keeps of an answered exchange (step 8 of sandbox.core.pipeline): the
check of the answer against its contract, and the journal entry of a provider exchange.

The self-check finds the contract's answer for the request (its operation's, the path's 405,
or the owner's answer for unknown routes and missing trailing slashes) and records what it
saw, injected faults apart; the journal keeps raw bodies and redacts them when read.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from sandbox.core import body as json_body
from sandbox.core import context, journal
from sandbox.core.clock import isoformat_ms
from sandbox.core.contracts import APPEND_SLASH, UNKNOWN_ROUTE


def self_check(rt: Any, ctx: context.RequestContext, response: Response, fallback_contract: str) -> str | None:
    """Check the answer against its contract: the operation's, the path's 405 (declared on
    each of its operations), or the owner's declared answer for unknown routes and missing
    trailing slashes. Injected faults are checked too, and recorded as injected."""
    contract = ctx.owner if ctx.owner in rt.providers else fallback_contract
    if request.url_rule is not None:
        checks = [((request.endpoint or "").rsplit(".", 1)[-1], request.method)]
    elif ctx.routing in (UNKNOWN_ROUTE, APPEND_SLASH):
        checks = [(ctx.routing, request.method)]
    elif ctx.routing:  # a 405: the endpoints of the path
        checks = [(endpoint.rsplit(".", 1)[-1], None) for endpoint in ctx.routing]
    else:
        return None
    problems = [rt.contracts.check(rt.selfcheck, contract, operation_id, method, response.status_code,
                                   response.get_data(), response.content_type, injected=ctx.fault_status is not None)
                for operation_id, method in checks]
    return next((p for p in problems if p), None)


def _request_body() -> bytes:
    """The request body for the journal; one over the size limit is not read (it was refused)."""
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        return b"[body over the size limit, not recorded]"


def record(rt: Any, ctx: context.RequestContext, response: Response, unanswered: bool,
           mismatch: str | None) -> None:
    """One journal entry for a provider exchange, under the request's tenant (secrets are
    redacted when the journal is read)."""
    read_as_json = json_body.is_json(ctx.provider is not None and ctx.provider.untyped_body_is_json)
    rt.journal.record(ctx.tenant, {
        "time": isoformat_ms(rt.clock.now(ctx.tenant)), "provider": ctx.owner,
        "operation": (request.endpoint or "").rsplit(".", 1)[-1] if request.url_rule is not None else None,
        "method": request.method, "path": request.full_path if request.query_string else request.path,
        "status": response.status_code, "duration_ms": round(ctx.elapsed_ms(), 2),
        "error_code": ctx.error_code, "error_detail": ctx.error_detail, "fault": ctx.fault,
        "answered": not unanswered,
        "contract_mismatch": mismatch,
        "request": {"headers": journal.environ_headers(request.environ),
                    "body": journal.Body.of(_request_body(), read_as_json)},
        "response": {"body": journal.Body.of(response.get_data(), response.is_json)},
    })
