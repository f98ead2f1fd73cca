"""Control-plane views under /_sandbox, one per operationId of contracts/control.openapi.yaml.

Every view acts on the caller's tenant (`X-Sandbox-Tenant`, else "default").
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, jsonify, request

import sandbox
from sandbox.control import actions
from sandbox.control.schemas import CLOCK, CREDENTIAL, FAULT, REQUESTS_QUERY, SCENARIO, WEBHOOK
from sandbox.core import body as json_body
from sandbox.core.clock import isoformat_ms
from sandbox.core.errors import Kind, SandboxError
from sandbox.core.provider import load
from sandbox.core.runtime import runtime
from sandbox.core.tenancy import current_tenant

bp = Blueprint("_sandbox", __name__, url_prefix="/_sandbox")
TOKEN_HEADER = "X-Sandbox-Control-Token"
OPEN = frozenset({"_sandbox.health"})


@bp.before_request
def require_control_token():
    """With --control-token, every control call but health must carry it (shared deployments).

    :raise 401: the header is missing or wrong.
    """
    expected = runtime().settings.control_token
    if not expected or request.endpoint in OPEN:
        return
    given = request.headers.get(TOKEN_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        why = "does not match the token" if given else "is missing; it needs the token"
        raise SandboxError(Kind.UNAUTHENTICATED, f"the control plane needs the {TOKEN_HEADER} header",
                           field=TOKEN_HEADER, detail=f"{TOKEN_HEADER} {why} this sandbox was started with "
                           "(--control-token or REFUND_SANDBOX_CONTROL_TOKEN)")


def _body(schema) -> dict[str, Any]:
    """Load an optional JSON body; no body at all means all defaults."""
    if not request.get_data():
        return load(schema, {}, 400)
    document = json_body.document(400)
    if not isinstance(document, dict):
        raise SandboxError(Kind.VALIDATION, "request body must be a JSON object", field="body")
    return load(schema, document, 400)


@bp.get("/health")
def health():
    rt = runtime()
    return jsonify(status="ok", version=sandbox.__version__, providers=sorted(rt.providers),
                   tenants=len(rt.store.tenants()))


@bp.get("/providers")
def list_providers():
    rt = runtime()
    items = []
    for key, provider in rt.providers.items():
        mount = rt.mount(key)
        operations = [{"operation_id": op.operation_id, "method": op.method, "path": mount + op.path}
                      for op in (rt.contracts.operations[(key, op_id)] for op_id in rt.contracts.operation_ids(key))]
        items.append({"key": key, "name": provider.name, "mount": mount or "/",
                      "contract_url": f"{mount}/openapi.json", "operations": operations})
    return jsonify(providers=items)


@bp.get("/scenarios")
def list_scenarios():
    return jsonify(actions.catalogue(runtime().providers.values()))


@bp.post("/scenarios/<name>")
def seed_scenario(name: str):
    return jsonify(actions.seed(current_tenant(), name, _body(SCENARIO))), 201


@bp.post("/reset")
def reset():
    tenant = current_tenant()
    actions.reset(tenant)
    return jsonify(tenant=tenant, reset=True)


@bp.get("/<provider>/orders/<order_ref>")
def get_order(provider: str, order_ref: str):
    p = actions.find_provider(provider)
    tenant = current_tenant()
    order = actions.order(tenant, p, order_ref)
    return jsonify(provider=p.key, tenant=tenant, order_ref=order_ref, order=p.present_order(order))


@bp.get("/<provider>/refunds")
def list_refunds(provider: str):
    p = actions.find_provider(provider)
    tenant = current_tenant()
    return jsonify(provider=p.key, tenant=tenant, refunds=actions.refunds(tenant, p))


@bp.get("/notifications")
def list_notifications():
    json_body.check_query(400)
    provider = request.args.get("provider")
    if provider is not None:
        actions.find_provider(provider)
    tenant = current_tenant()
    return jsonify(tenant=tenant, notifications=runtime().outbox.list(tenant, provider))


@bp.post("/credentials")
def register_credential():
    rt = runtime()
    body = _body(CREDENTIAL)
    if body["provider"] not in rt.providers:
        raise SandboxError(Kind.NOT_FOUND, f"unknown provider {body['provider']!r}", field="provider")
    reg = rt.credentials.register(body["provider"], body["credential"], body["tenant"], body["scopes"])
    return jsonify(provider=reg.provider, credential=reg.credential, tenant=reg.tenant,
                   scopes=None if reg.scopes is None else sorted(reg.scopes)), 201


@bp.get("/requests")
def list_requests():
    rt = runtime()
    json_body.check_query(400)
    query = load(REQUESTS_QUERY, request.args.to_dict(), 400)
    if query["provider"] is not None:
        actions.find_provider(query["provider"])
    since = isoformat_ms(query["since"]) if query["since"] is not None else None
    tenant = current_tenant()
    items, total = rt.journal.query(tenant, provider=query["provider"], operation=query["operation"],
                                    status=query["status"], since=since, limit=query["limit"],
                                    offset=query["offset"])
    return jsonify(tenant=tenant, total=total, limit=query["limit"], offset=query["offset"], requests=items)


@bp.post("/faults")
def add_fault():
    fault = actions.add_fault(current_tenant(), _body(FAULT))
    return jsonify(fault.as_dict()), 201


@bp.get("/faults")
def list_faults():
    tenant = current_tenant()
    return jsonify(tenant=tenant, faults=[f.as_dict() for f in runtime().faults.list(tenant)])


@bp.delete("/faults")
def clear_faults():
    tenant = current_tenant()
    return jsonify(tenant=tenant, deleted=runtime().faults.clear(tenant))


@bp.post("/webhooks")
def set_webhook():
    body = _body(WEBHOOK)
    tenant = current_tenant()
    runtime().webhooks[tenant] = body["url"]
    return jsonify(tenant=tenant, url=body["url"]), 201


@bp.get("/webhooks")
def get_webhook():
    tenant = current_tenant()
    return jsonify(tenant=tenant, url=runtime().webhook_url(tenant))


@bp.delete("/webhooks")
def delete_webhook():
    tenant = current_tenant()
    runtime().webhooks.pop(tenant, None)
    return jsonify(tenant=tenant, url=runtime().webhook_url(tenant))


@bp.post("/clock/advance")
def advance_clock():
    rt = runtime()
    body = _body(CLOCK)
    tenant = current_tenant()
    now = actions.advance_clock(tenant, body["seconds"])
    return jsonify(tenant=tenant, now=isoformat_ms(now),
                   offset_seconds=int(rt.clock.offset(tenant).total_seconds()))
