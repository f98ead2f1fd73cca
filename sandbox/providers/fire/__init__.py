"""Fire sales-aggregator integration API (v4): login, inject order, cancel/refund order."""

from sandbox.core.provider import Provider
from sandbox.providers.fire import errors, routes, scenarios
from sandbox.providers.fire.schemas import present_order

PROVIDER = Provider(
    key=routes.KEY,
    name="Fire sales-aggregator integration API (v4)",
    blueprint=routes.bp,
    auth=routes.AUTH,
    render_error=errors.render,
    secret_fields=frozenset({"client_secret", "accessToken"}),
    tables={"orders": "uid", "order_ids": "ref", "refunds": None},
    present_order=present_order,
    scenarios=scenarios.SCENARIOS,
    validation_status=400,
    untyped_body_is_json=True,  # seeds/fire.txt: Content-Type default "application/json"
)
