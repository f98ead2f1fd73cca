"""The dashboard's state-changing views (POST, each behind the CSRF check in `guard`): open a
tenant, reset it, seed a scenario, add and delete faults, advance the clock. Each loads the
form through the control plane's own schema and calls the control plane's own function,
then redirects (303) to the page that shows the result.

:raise 400: input the control plane refuses (shown on a page with its message).
:raise 404: an unknown scenario or fault.
"""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from sandbox.control import actions
from sandbox.control.schemas import CLOCK, FAULT, SCENARIO
from sandbox.core import body, tenancy
from sandbox.core.errors import Kind, SandboxError
from sandbox.core.provider import load
from sandbox.core.runtime import runtime
from sandbox.ui.blueprint import bp, link, see_other, tenant, ui_state

OVERRIDE_PREFIX = "override."


def coerce(schema: Schema, form: dict[str, str]) -> dict[str, Any]:
    """Form strings typed as the schema's fields want them (JSON types); empty means unset, so
    the schema's default applies. A value that does not convert is passed as given, for the
    schema to refuse with its own message."""
    typed: dict[str, Any] = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        raw = form.get(key, "").strip()
        if not raw:
            continue
        kind = type(field).__name__
        try:
            if kind == "JsonInt":
                typed[key] = int(raw)
            elif kind == "JsonBool":
                typed[key] = raw.lower() in {"on", "true", "1", "yes"}
            elif kind == "Float":
                typed[key] = float(raw)
            elif kind == "Dict":
                typed[key] = body.parse(raw.encode())  # the bounds every JSON body keeps (depth, size)
            else:
                typed[key] = raw
        except ValueError:
            typed[key] = raw
    return typed


def _back(default: str) -> str:
    """The page to return to: the form's `back` field when it is a dashboard path."""
    target = request.form.get("back", "")
    return target if target.startswith("/_sandbox/ui") and not target.startswith("//") else default


@bp.post("/tenants")
def ui_open_tenant():
    """Create (on first use) and open a tenant.  :raise 400: an invalid name."""
    name = tenancy.check_name(request.form.get("name", "").strip(), "name")
    runtime().store.tenant(name)
    return see_other(link("ui_home", tenant=name))


@bp.post("/reset")
def ui_reset():
    actions.reset(tenant())
    return see_other(link("ui_home", reset=1))


@bp.post("/scenarios/<name>")
def ui_seed(name: str):
    _, scenario = actions.find_scenario(name)
    form = request.form.to_dict()
    body = load(SCENARIO, coerce(SCENARIO, form), 400)
    given = {k[len(OVERRIDE_PREFIX):]: v for k, v in form.items() if k.startswith(OVERRIDE_PREFIX) and v.strip()}
    if scenario.overrides is not None:
        given = coerce(scenario.overrides, given)
    body["overrides"] = given
    result = actions.seed(tenant(), name, body)
    return see_other(link("ui_seeded", batch=ui_state().keep_seeded(result)))


@bp.post("/faults")
def ui_add_fault():
    """Add a fault rule; `code` goes to the control plane only when given."""
    body = coerce(FAULT, request.form.to_dict())
    code = request.form.get("code", "").strip()
    if code:
        body["code"] = code
    actions.add_fault(tenant(), load(FAULT, body, 400))
    return see_other(link("ui_faults", added=1))


@bp.post("/faults/<fault_id>/delete")
def ui_delete_fault(fault_id: str):
    if not runtime().faults.remove(tenant(), fault_id):
        raise SandboxError(Kind.NOT_FOUND, f"no fault {fault_id!r} in this tenant (it may have expired)",
                           field="fault_id")
    return see_other(link("ui_faults"))


@bp.post("/faults/clear")
def ui_clear_faults():
    runtime().faults.clear(tenant())
    return see_other(link("ui_faults"))


@bp.post("/clock")
def ui_advance_clock():
    body = load(CLOCK, coerce(CLOCK, request.form.to_dict()), 400)
    actions.advance_clock(tenant(), body["seconds"])
    return see_other(_back(link("ui_home")))
