"""Next Commerce (29 Next) Admin API: refund an order, calculate a refund, retrieve an order."""

from sandbox.core.provider import Provider
from sandbox.core.store import SEQUENCES
from sandbox.providers.nextcommerce import errors, routes, scenarios
from sandbox.providers.nextcommerce.schemas import present_order

PROVIDER = Provider(
    key=routes.KEY,
    name="Next Commerce (29 Next) Admin API",
    blueprint=routes.bp,
    auth=routes.AUTH,
    render_error=errors.render,
    tables={"orders": "number", "refunds": None, SEQUENCES: "name"},
    present_order=present_order,
    scenarios=scenarios.SCENARIOS,
    validation_status=400,
    append_slash=True,
)
