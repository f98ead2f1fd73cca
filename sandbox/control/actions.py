"""What the control plane does, apart from HTTP: seeding, reset, inspection, faults and the clock.

The JSON views (`sandbox.control.routes`) and the dashboard (`sandbox.ui`) both call these,
so a scenario seeded from a web form is exactly the one `POST /_sandbox/scenarios/{name}`
seeds. Each function takes the tenant and already-loaded input (the control schemas) and
raises SandboxError for what the caller rendered as a 4xx.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from sandbox.core import ids, tenancy
from sandbox.core.errors import Kind, SandboxError, from_validation
from sandbox.core.faults import Fault
from sandbox.core.provider import Provider, Scenario
from sandbox.core.runtime import runtime


def find_provider(key: str, kind: Kind = Kind.NOT_FOUND) -> Provider:
    """:raise 404: (or `kind`) no provider has this key."""
    provider = runtime().providers.get(key)
    if provider is None:
        raise SandboxError(kind, f"unknown provider {key!r}", field="provider")
    return provider


def catalogue(providers: Any) -> dict[str, Any]:
    """The scenario catalogue of `providers`, as `GET /_sandbox/scenarios` and `scenarios --json` show it."""
    return {"scenarios": [{"name": s.name, "provider": p.key, "description": s.description, "outcome": s.outcome,
                           "overridable": s.overridable} for p in providers for s in p.scenarios]}


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
    if tenant == tenancy.DEFAULT:
        return dict(seeded_headers)
    return {**seeded_headers, tenancy.HEADER: tenant}


def check_overrides(scenario: Scenario, given: dict[str, Any]) -> dict[str, Any]:
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


def seed(tenant: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Seed `body["count"]` orders of scenario `name` (a loaded SCENARIO body); the 201 answer.

    :raise 404: unknown scenario.  :raise 400: overrides the scenario does not take.
    """
    rt = runtime()
    provider, scenario = find_scenario(name)
    overrides = check_overrides(scenario, body["overrides"])
    seed_value = body["seed"] if body["seed"] is not None else ids.new_seed()
    with ids.seeded_faker(seed_value) as fake:
        built = [scenario.build(fake, overrides) for _ in range(body["count"])]
    with rt.store.transaction(tenant, provider.key) as tx:
        for seeded in built:
            tx.put(provider.order_table, seeded.order)
            for table, doc in seeded.extra:
                tx.put(table, doc)
    orders = [{"provider": provider.key, "order_ref": s.order_ref, "line_item_refs": s.line_item_refs,
               "transaction_refs": s.transaction_refs, "currency": s.currency,
               "headers": handle_headers(s.headers, tenant),
               "order": provider.present_order(s.order)} for s in built]
    return {"scenario": name, "tenant": tenant, "seed": seed_value, "orders": orders}


def reset(tenant: str) -> None:
    """Back to the fixtures: store, notifications, journal, faults and clock."""
    runtime().reset_tenant(tenant)


def order(tenant: str, provider: Provider, order_ref: str) -> dict[str, Any]:
    """The stored order (the store's own shape).  :raise 404: no such order in the tenant."""
    found = runtime().store.read(tenant, provider.key, lambda tx: tx.get(provider.order_table, order_ref))
    if found is None:
        raise SandboxError(Kind.NOT_FOUND, f"no {provider.key} order {order_ref!r} in tenant {tenant!r}",
                           field="order_ref")
    return found


def refunds(tenant: str, provider: Provider) -> list[dict[str, Any]]:
    """The tenant's refund records of `provider`, newest first."""
    return list(reversed(runtime().store.read(tenant, provider.key, lambda tx: tx.all(provider.refund_table))))


def add_fault(tenant: str, body: dict[str, Any]) -> Fault:
    """Add a fault rule (a loaded FAULT body).

    :raise 400: an unknown provider, an operation that is not an operationId of it, or a
        status (and code) not declared on every operation the rule can match.
    """
    rt = runtime()
    if body["provider"] is not None:
        find_provider(body["provider"], Kind.VALIDATION)
    targets = [(owner, op) for owner in rt.providers if body["provider"] in (None, owner)
               for op in rt.contracts.operation_ids(owner)]
    if body["operation"] is not None:
        known = {op for _, op in targets}
        if body["operation"] not in known:
            raise SandboxError(Kind.VALIDATION, f"unknown operation {body['operation']!r} (operationIds: "
                               f"{', '.join(sorted(known))})", field="operation")
        targets = [(owner, op) for owner, op in targets if op == body["operation"]]
    if body["status"]:
        _check_fault_status(rt.contracts, targets, body["status"], body["code"])
    return rt.faults.add(tenant, **body)


def _check_fault_status(contracts: Any, targets: list[tuple[str, str]], status: int, code: str | None) -> None:
    """A fault's status must be declared on every operation it can match, and its code (if
    given) be one the contracts declare for that status on each of them.

    :raise 400: naming the declared statuses or codes.
    """
    for owner, op in targets:
        declared = contracts.operations[(owner, op)].statuses
        if status not in declared:
            raise SandboxError(Kind.VALIDATION, f"status {status} is not declared for {owner} {op}; declared: "
                               f"{', '.join(map(str, sorted(s for s in declared if s >= 400)))}", field="status")
        codes = contracts.error_codes(owner, op, status)
        if code is not None and code not in codes:
            raise SandboxError(Kind.VALIDATION, f"code {code!r} is not declared for {owner} {op} status {status}; "
                               f"declared: {', '.join(codes) or 'none'}", field="code")


def advance_clock(tenant: str, seconds: int) -> datetime:
    """Move the tenant's clock on and let every provider settle what fell due; the new now()."""
    rt = runtime()
    now = rt.clock.advance(tenant, seconds)
    for provider in rt.providers.values():
        if provider.on_clock is not None:
            with rt.store.transaction(tenant, provider.key) as tx:
                provider.on_clock(tx, now)
    return now
