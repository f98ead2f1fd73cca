"""Nuweb Group API v1: login, refund an order (refund, balance refund, cancellation), read an order."""

from sandbox.core.provider import Provider
from sandbox.core.store import SEQUENCES
from sandbox.providers.nuweb import errors, routes, scenarios
from sandbox.providers.nuweb.schemas import present_order

PROVIDER = Provider(
    key=routes.KEY,
    name="Nuweb Group API v1",
    blueprint=routes.bp,
    auth=routes.AUTH,
    render_error=errors.render,
    secret_fields=frozenset({"password", "token"}),
    tables={"orders": "id", "baskets": "basketId", "references": "reference", SEQUENCES: "name",
            "refunds": None, "gateway_refusals": "orderId"},
    present_order=present_order,
    scenarios=scenarios.SCENARIOS,
    validation_status=422,
    order_ref_of=lambda path, body: body.get("orderId") if isinstance(body, dict) else None,
)
