"""Purple Dot private API: idempotent line-item, shipping and appeasement refunds of pre-orders."""

from sandbox.core.provider import Provider
from sandbox.providers.purpledot import errors, routes, scenarios
from sandbox.providers.purpledot.schemas import present_order

PROVIDER = Provider(
    key=routes.KEY,
    name="Purple Dot private API",
    blueprint=routes.bp,
    auth=routes.AUTH,
    render_error=errors.render,
    tables={"orders": "order", "refunds": None},
    present_order=present_order,
    scenarios=scenarios.SCENARIOS,
    validation_status=400,
    order_ref_of=lambda path, body: body.get("order") if isinstance(body, dict) else None,
)
