"""Control-plane views under /_sandbox, one per operationId of contracts/control.openapi.yaml.

Every view acts on the caller's tenant (`X-Sandbox-Tenant`, else "default").
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, jsonify, request
from marshmallow import ValidationError

import sandbox
from sandbox.control.schemas import CLOCK, CREDENTIAL, FAULT, REQUESTS_QUERY, SCENARIO, WEBHOOK
from sandbox.core import body as json_body
from sandbox.core import ids
from sandbox.core.clock import isoformat_ms
from sandbox.core.errors import Kind, SandboxError, from_validation
from sandbox.core.provider import Provider, Scenario, load
from sandbox.core.runtime import runtime
from sandbox.core.tenancy import DEFAULT as DEFAULT_TENANT
from sandbox.core.tenancy import HEADER as TENANT_HEADER
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


def _provider(key: str) -> Provider:
    provider = runtime().providers.get(key)
    if provider is None:
        raise SandboxError(Kind.NOT_FOUND, f"unknown provider {key!r}", field="provider")
    return provider


def _body(schema) -> dict[str, Any]:
    """Load an optional JSON body; no body at all means all defaults."""
    if not request.get_data():
        return load(schema, {}, 400)
    document = json_body.document(400)
    if not isinstance(document, dict):
        raise SandboxError(Kind.VALIDATION, "request body must be a JSON object", field="body")
    return load(schema, document, 400)


def find_scenario(name: str) -> tuple[Provider, Scenario]:
    """The scenario `name` of a provider this sandbox serves.

    :raise 404: no such scenario, or its provider is not mounted (`--only` another one).
    """
    rt = runtime()
    for provider in rt.providers.values():
        for scenario in provider.scenarios:
            if scenario.name == name:
                return provider, scenario
    owner = name.split(".", 1)[0]
    if rt.settings.only is not None and owner != rt.settings.only:
        raise SandboxError(Kind.NOT_FOUND, f"scenario {name!r} is not served here: this sandbox serves only "
                           f"{rt.settings.only} (--only {rt.settings.only}); GET /_sandbox/scenarios lists its "
                           "scenarios", field="name")
    raise SandboxError(Kind.NOT_FOUND, f"unknown scenario {name!r}; GET /_sandbox/scenarios lists them",
                       field="name")


def handle_headers(seeded_headers: dict[str, str], tenant: str) -> dict[str, str]:
    """The headers a seeded handle hands out: the provider's own, plus the tenant unless it is `default`,
    so a request sent with them reaches the tenant that holds the order."""
    if tenant == DEFAULT_TENANT:
        return dict(seeded_headers)
    return {**seeded_headers, TENANT_HEADER: tenant}


def _overrides(scenario: Scenario, given: dict[str, Any]) -> dict[str, Any]:
    """The scenario's overrides, checked against what it allows.

    :raise 400: (VALIDATION) a key the scenario does not allow, or a value of the wrong type.
    """
    if scenario.overrides is None:
        if given:
            raise SandboxError(Kind.VALIDATION, f"{scenario.name} takes no overrides", field="overrides")
        return {}
    try:
        return scenario.overrides.load(given)
    except ValidationError as exc:
        raise from_validation({"overrides": exc.messages}) from None


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
                      for (owner, _), op in rt.contracts.operations.items() if owner == key]
        items.append({"key": key, "name": provider.name, "mount": mount or "/",
                      "contract_url": f"{mount}/openapi.json", "operations": operations})
    return jsonify(providers=items)


@bp.get("/scenarios")
def list_scenarios():
    items = [{"name": s.name, "provider": p.key, "description": s.description, "outcome": s.outcome,
              "overridable": s.overridable}
             for p in runtime().providers.values() for s in p.scenarios]
    return jsonify(scenarios=items)


@bp.post("/scenarios/<name>")
def seed_scenario(name: str):
    rt = runtime()
    provider, scenario = find_scenario(name)
    body = _body(SCENARIO)
    overrides = _overrides(scenario, body["overrides"])
    seed = body["seed"] if body["seed"] is not None else ids.new_seed()
    with ids.seeded_faker(seed) as fake:
        built = [scenario.build(fake, overrides) for _ in range(body["count"])]
    tenant = current_tenant()
    with rt.store.transaction(tenant, provider.key) as tx:
        for seeded in built:
            tx.put(provider.order_table, seeded.order)
            for table, doc in seeded.extra:
                tx.put(table, doc)
    orders = [{"provider": provider.key, "order_ref": s.order_ref, "line_item_refs": s.line_item_refs,
               "transaction_refs": s.transaction_refs, "currency": s.currency,
               "headers": handle_headers(s.headers, tenant),
               "order": provider.present_order(s.order)} for s in built]
    return jsonify(scenario=name, tenant=tenant, seed=seed, orders=orders), 201


@bp.post("/reset")
def reset():
    tenant = current_tenant()
    runtime().reset_tenant(tenant)
    return jsonify(tenant=tenant, reset=True)


@bp.get("/<provider>/orders/<order_ref>")
def get_order(provider: str, order_ref: str):
    rt = runtime()
    p = _provider(provider)
    tenant = current_tenant()
    order = rt.store.read(tenant, p.key, lambda tx: tx.get(p.order_table, order_ref))
    if order is None:
        raise SandboxError(Kind.NOT_FOUND, f"no {p.key} order {order_ref!r} in tenant {tenant!r}", field="order_ref")
    return jsonify(provider=p.key, tenant=tenant, order_ref=order_ref, order=p.present_order(order))


@bp.get("/<provider>/refunds")
def list_refunds(provider: str):
    rt = runtime()
    p = _provider(provider)
    tenant = current_tenant()
    refunds = rt.store.read(tenant, p.key, lambda tx: tx.all(p.refund_table))
    return jsonify(provider=p.key, tenant=tenant, refunds=list(reversed(refunds)))


@bp.get("/notifications")
def list_notifications():
    json_body.check_query(400)
    provider = request.args.get("provider")
    if provider is not None:
        _provider(provider)
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
        _provider(query["provider"])
    since = isoformat_ms(query["since"]) if query["since"] is not None else None
    tenant = current_tenant()
    items, total = rt.journal.query(tenant, provider=query["provider"], operation=query["operation"],
                                    status=query["status"], since=since, limit=query["limit"],
                                    offset=query["offset"])
    return jsonify(tenant=tenant, total=total, limit=query["limit"], offset=query["offset"], requests=items)


@bp.post("/faults")
def add_fault():
    rt = runtime()
    body = _body(FAULT)
    if body["provider"] is not None and body["provider"] not in rt.providers:
        raise SandboxError(Kind.VALIDATION, f"unknown provider {body['provider']!r}", field="provider")
    if body["operation"] is not None:
        known = {op for (owner, op) in rt.contracts.operations if body["provider"] in (None, owner)
                 and owner in rt.providers}
        if body["operation"] not in known:
            raise SandboxError(Kind.VALIDATION, f"unknown operation {body['operation']!r} (operationIds: "
                               f"{', '.join(sorted(known))})", field="operation")
    fault = rt.faults.add(current_tenant(), **body)
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
    now = rt.clock.advance(tenant, body["seconds"])
    for provider in rt.providers.values():
        if provider.on_clock is not None:
            with rt.store.transaction(tenant, provider.key) as tx:
                provider.on_clock(tx, now)
    return jsonify(tenant=tenant, now=isoformat_ms(now),
                   offset_seconds=int(rt.clock.offset(tenant).total_seconds()))
