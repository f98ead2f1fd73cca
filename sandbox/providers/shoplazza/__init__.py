"""Shoplazza OpenAPI 2022-01: full order refund (finished, or pending until the clock moves) and order read."""

from sandbox.core.provider import Provider
from sandbox.core.store import SEQUENCES
from sandbox.providers.shoplazza import errors, routes, scenarios
from sandbox.providers.shoplazza.schemas import present_order

PROVIDER = Provider(
    key=routes.KEY,
    name="Shoplazza OpenAPI 2022-01",
    blueprint=routes.bp,
    auth=routes.AUTH,
    render_error=errors.render,
    tables={"orders": "id", "refunds": "id", "pending": "id", SEQUENCES: "name"},
    present_order=present_order,
    scenarios=scenarios.SCENARIOS,
    validation_status=422,
    on_clock=routes.settle_due,
)
