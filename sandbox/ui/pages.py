"""The dashboard's read-only views (GET): overview, scenarios, seeded orders, orders, an order,
the timeline (and its live rows), notifications and faults. Each reads through the control
plane's own functions and the runtime, never the request's own tenant header.

:raise 400: an invalid tenant or page.  :raise 404: an unknown provider, order or seeding.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import request

from sandbox.control import actions
from sandbox.core.clock import isoformat_ms
from sandbox.core.errors import Kind, SandboxError
from sandbox.core.runtime import runtime
from sandbox.ui import choices, exchanges
from sandbox.ui.blueprint import bp, page, tenant, ui_state
from sandbox.ui.ledger import ledger

PAGE_SIZE = 50


def _int_arg(name: str, default: int, minimum: int = 0, maximum: int = 999_999_999) -> int:
    """:raise 400: a value that is not a whole number from minimum to maximum."""
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 9 or not minimum <= int(raw) <= maximum:
        raise SandboxError(Kind.VALIDATION, f"{name} must be a whole number from {minimum} to {maximum}", field=name)
    return int(raw)


def _key_field(provider) -> str:
    return runtime().store.keys[provider.key][provider.order_table]


def clock_view(name: str) -> dict[str, Any]:
    rt = runtime()
    return {"now": isoformat_ms(rt.clock.now(name)), "offset": int(rt.clock.offset(name).total_seconds())}


@bp.get("")
def ui_home():
    rt = runtime()
    name = tenant()
    counts = []
    for key, provider in rt.providers.items():
        _, orders = rt.store.page(name, key, provider.order_table, 0, 0)
        _, refunds = rt.store.page(name, key, provider.refund_table, 0, 0)
        counts.append({"key": key, "name": provider.name, "orders": orders, "refunds": refunds})
    return page("home.html", title="Overview", counts=counts, tenants=sorted({*rt.store.tenants(), name}),
                clock=clock_view(name), faults=len(rt.faults.list(name)), exchanges=rt.journal.size(name),
                notifications=len(rt.outbox.list(name)))


@bp.get("/reset")
def ui_reset_confirm():
    return page("reset.html", title="Reset tenant", name=tenant())


@bp.get("/scenarios")
def ui_scenarios():
    providers = [(p, [(s, _override_fields(s)) for s in p.scenarios]) for p in runtime().providers.values()]
    return page("scenarios.html", title="Scenarios", providers=providers)


def _override_fields(scenario) -> list[dict[str, Any]]:
    """Each overridable field: its name, kind (text, number, json) and choices (OneOf)."""
    found = []
    for name, field in (scenario.overrides.fields.items() if scenario.overrides else ()):
        kind = {"Dict": "json", "JsonInt": "number"}.get(type(field).__name__, "text")
        options = [v for validator in field.validators for v in getattr(validator, "choices", ())]
        found.append({"name": field.data_key or name, "kind": kind, "choices": options})
    return sorted(found, key=lambda f: f["name"])


@bp.get("/seeded/<batch>")
def ui_seeded(batch: str):
    result = ui_state().seeded.get(batch)
    if result is None or result["tenant"] != tenant():
        raise SandboxError(Kind.NOT_FOUND, "no such seeding in this tenant (the dashboard keeps the latest 100)",
                           field="batch")
    provider = runtime().providers[result["orders"][0]["provider"]]
    return page("seeded.html", title=f"Seeded {result['scenario']}", result=result, orders=result["orders"],
                provider=provider)


@bp.get("/providers/<provider>/orders")
def ui_orders(provider: str):
    rt = runtime()
    p = actions.find_provider(provider)
    number = _int_arg("page", 1, minimum=1)
    docs, total = rt.store.page(tenant(), p.key, p.order_table, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    key_field = _key_field(p)
    rows = [{"ref": str(doc[key_field]), "ledger": ledger(p.key, doc)} for doc in docs]
    return page("orders.html", title=f"{p.name}: orders", provider=p, rows=rows, total=total, number=number,
                pages=pages, page_size=PAGE_SIZE)


@bp.get("/providers/<provider>/orders/<order_ref>")
def ui_order(provider: str, order_ref: str):
    rt = runtime()
    p = actions.find_provider(provider)
    name = tenant()
    order = actions.order(name, p, order_ref)
    refunds = [r for r in actions.refunds(name, p) if order_ref in {str(v) for v in r.values()
                                                                    if isinstance(v, (str, int))}]
    timeline, touched = exchanges.for_order(rt.journal, name, p, order_ref)
    return page("order.html", title=f"{p.key} order {order_ref}", provider=p, ref=order_ref,
                ledger=ledger(p.key, order), document=exchanges.pretty(p.present_order(order)), refunds=refunds,
                entries=timeline, touched=touched, base_url=request.host_url, clock=clock_view(name),
                pretty=exchanges.pretty, curl=exchanges.as_curl)


def _provider_filter() -> str | None:
    key = request.args.get("provider") or None
    if key is not None:
        actions.find_provider(key)
    return key


@bp.get("/timeline")
def ui_timeline():
    rt = runtime()
    key = _provider_filter()
    entries, total = exchanges.latest(rt.journal, tenant(), key)
    newest = max((exchanges.number(e["id"]) for e in entries), default=0)
    return page("timeline.html", title="Timeline", entries=entries, total=total, newest=newest, provider=key,
                providers=list(rt.providers), base_url=request.host_url, pretty=exchanges.pretty,
                curl=exchanges.as_curl)


@bp.get("/timeline/rows")
def ui_timeline_rows():
    """The exchanges newer than `after` (htmx polls this), and the poller for the next ones."""
    rt = runtime()
    key = _provider_filter()
    after = _int_arg("after", 0)
    entries, _ = exchanges.latest(rt.journal, tenant(), key, after)
    newest = max([after, *(exchanges.number(e["id"]) for e in entries)])
    return page("timeline_rows.html", entries=entries, newest=newest, provider=key, base_url=request.host_url,
                pretty=exchanges.pretty, curl=exchanges.as_curl)


def _without_secrets(url: str | None) -> str | None:
    """A webhook URL without user info, query or fragment (they may carry a secret)."""
    if url is None:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=host, query="", fragment="").geturl()


@bp.get("/notifications")
def ui_notifications():
    rt = runtime()
    name = tenant()
    key = _provider_filter()
    return page("notifications.html", title="Notifications", items=rt.outbox.list(name, key),
                webhook=_without_secrets(rt.webhook_url(name)), provider=key, providers=list(rt.providers),
                pretty=exchanges.pretty)


@bp.get("/faults")
def ui_faults():
    rt = runtime()
    ops = choices.operations(rt.contracts, list(rt.providers))
    return page("faults.html", title="Faults", faults=[f.as_dict() for f in rt.faults.list(tenant())],
                providers=list(rt.providers), operations=ops, statuses=choices.error_statuses(ops),
                codes=choices.codes(rt.contracts, list(rt.providers), None, None, None))


@bp.get("/faults/codes")
def ui_fault_codes():
    """The code choices for the form's provider, operation and status (htmx swaps them in)."""
    rt = runtime()
    key = _provider_filter()
    status = _int_arg("status", 0, maximum=599) or None
    codes = choices.codes(rt.contracts, list(rt.providers), key, request.args.get("operation") or None, status)
    return page("fault_codes.html", codes=codes)
