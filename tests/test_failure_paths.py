"""Every failure path on contract: each declared error status of each provider operation,
with each of its declared codes, injected by a fault and checked against the contract.

For every operation the test builds a request that would succeed (tests/contract_calls.py),
adds a one-shot fault rule (`POST /_sandbox/faults` with status and code), sends the
request and asserts: the injected status, the code (or message) in the provider's own body,
the app's self-check validated it against the contract (it is recorded as seen), and the
tenant's state did not change. Also on contract: the 405 a path answers to other methods,
each provider's answer to an unknown path, Next Commerce's APPEND_SLASH redirect, and
fault rules that name an undeclared status or code (a 400 that lists the declared ones).

The session-finish check in conftest.py prints the provider x operation x status table
(native or injected) and, on a full run, fails for any documented answer never produced.
"""

from __future__ import annotations

import json
import re

import pytest
from contract_calls import OPERATIONS, TENANT, Caller

from sandbox.core.contracts import APPEND_SLASH, UNKNOWN_ROUTE, Contracts
from sandbox.providers import PROVIDERS

from conftest import ROOT

KEYS = [p.key for p in PROVIDERS]
CONTRACTS = Contracts(ROOT / "contracts", [*KEYS, "control"])
PROVIDER_OPS = [op for op in OPERATIONS if op.contract in KEYS]
CODE_IN_BODY = {"fire", "purpledot"}  # providers whose error body carries the code itself


def _declared_errors(owner: str, operation_id: str) -> list[tuple[int, str]]:
    op = CONTRACTS.operations[(owner, operation_id)]
    return [(status, code) for status in sorted(op.statuses) if status >= 400
            for code in CONTRACTS.error_codes(owner, operation_id, status)]


def _fault(caller: Caller, **rule) -> dict:
    response = caller.client.post("/_sandbox/faults", json={"provider": caller.op.contract,
                                                            "operation": caller.op.operation_id, **rule},
                                  headers={"X-Sandbox-Tenant": TENANT})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize("op", PROVIDER_OPS, ids=str)
def test_every_declared_error_is_injected_on_contract(op):
    caller = Caller(op)
    rt = caller.app.extensions["refund_sandbox"]
    cells = _declared_errors(op.contract, op.operation_id)
    assert {s for s, _ in cells} >= {400, 404, 406, 409, 422, 500, 501}, "the seven statuses are declared"
    before = caller.state()
    for status, code in cells:
        _fault(caller, status=status, code=code, times=1)
        response = caller.valid()
        where = f"{op} {status} {code}"
        assert response.status_code == status, where
        text = response.get_data(as_text=True)
        if op.contract in CODE_IN_BODY:
            assert response.get_json()["error"]["code"] == code, where
        entry = CONTRACTS.error_codes(op.contract, op.operation_id, status)[code]
        message = entry["message"] if isinstance(entry, dict) else entry
        if "{" not in message:  # a message naming the method or path is filled in
            assert json.dumps(message)[1:-1] in text or message in text, f"{where}: {text}"
        assert (op.contract, op.operation_id, status) in rt.selfcheck.seen, f"{where} was not validated"
    after = caller.state()
    assert after == before, f"{op}: an injected fault changed the tenant's state"
    assert caller.valid().status_code < 400, f"{op}: the valid request still succeeds"


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_other_methods_get_the_paths_405_on_contract(op):
    caller = Caller(op)
    served = {o.method for o in OPERATIONS if o.contract == op.contract and o.route == op.route}
    method = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in served)
    response = caller.client.open(caller.url(), method=method, headers=caller.headers)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= served
    owner = op.contract
    assert (owner, op.operation_id, 405) in caller.app.extensions["refund_sandbox"].selfcheck.seen


@pytest.mark.parametrize("key", [*KEYS, "control"])
def test_unknown_paths_answer_as_the_owners_stack_would(key):
    from conftest import tracked_app

    app = tracked_app()
    mount = "" if key == "control" else f"/{key}"
    response = app.test_client().get(f"{mount}/no/such/route")
    assert response.status_code == 404
    if key == "nextcommerce":  # Django's own 404 page, not DRF's JSON
        assert response.mimetype == "text/html"
        assert "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>" in response.text
    else:
        assert response.is_json
    if key == "nuweb":
        assert response.get_json() == {"message": "The route no/such/route could not be found."}
    assert (key, UNKNOWN_ROUTE, 404) in app.extensions["refund_sandbox"].selfcheck.seen
    assert b"<!doctype html>" not in response.data.lower() or key == "nextcommerce", "no Werkzeug page"


def test_next_commerce_without_its_trailing_slash_is_djangos_301_and_refunds_nothing():
    op = next(o for o in PROVIDER_OPS if o.contract == "nextcommerce" and o.operation_id == "refund_order")
    caller = Caller(op)
    before = caller.state()
    url = caller.url().rstrip("/")
    response = caller.client.post(url, data=json.dumps(op.example), headers={**caller.headers,
                                                                             "Content-Type": "application/json"})
    assert response.status_code == 301
    assert response.headers["Location"].endswith(caller.url())
    assert response.data == b""
    assert caller.state() == before
    assert ("nextcommerce", APPEND_SLASH, 301) in caller.app.extensions["refund_sandbox"].selfcheck.seen
    # any other provider: a missing or extra slash is an unknown route, never Werkzeug's 308
    other = next(o for o in PROVIDER_OPS if o.contract == "purpledot")
    response = Caller(other).client.post(Caller(other).url() + "/", json=other.example)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "NOT_FOUND"
    response = caller.client.get("/nextcommerce//api/admin/orders/100101/")
    assert response.status_code == 404 and "Location" not in response.headers


@pytest.mark.parametrize("rule, field, names", [
    ({"provider": "purpledot", "operation": "refund", "status": 418}, "status", "400, 401, 403"),
    ({"provider": "purpledot", "operation": "refund", "status": 404, "code": "NOT_FOUND"}, "code",
     "UNKNOWN_ORDER, UNKNOWN_LINE_ITEMS"),
    ({"provider": "shoplazza", "status": 400, "code": "nope"}, "code", "bad_request, store_inactive"),
    ({"provider": "nuweb", "code": "server_error"}, "code", "code needs a status"),
])
def test_a_fault_must_name_a_declared_status_and_code(client, rule, field, names):
    response = client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and names in error["message"], error
    assert client.get("/_sandbox/faults").get_json()["faults"] == []


def test_a_code_picks_the_error_and_the_journal_names_it(client):
    client.post("/_sandbox/faults", json={"provider": "purpledot", "status": 404, "code": "UNKNOWN_LINE_ITEMS"})
    headers = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}
    body = {"id": "r-1", "order": "5550000000001", "amount": "1.00", "currency": "USD"}
    response = client.post("/purpledot/admin/api/v1/refund", json=body, headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {"meta": {"success": False},
                                   "error": {"code": "UNKNOWN_LINE_ITEMS", "message": "line items not on the order"}}
    entry = client.get("/_sandbox/requests").get_json()["requests"][0]
    assert entry["fault"] == "status 404 UNKNOWN_LINE_ITEMS" and entry["error_code"] == "UNKNOWN_LINE_ITEMS"
    assert entry["contract_mismatch"] is None


def test_next_commerce_500_is_djangos_page_for_faults_and_crashes_alike(client):
    client.post("/_sandbox/faults", json={"provider": "nextcommerce", "operation": "get_order", "status": 500})
    response = client.get("/nextcommerce/api/admin/orders/100101/", headers={"Authorization": "Bearer " + "a1" * 15})
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "<title>Server Error (500)</title>" in response.text


CONTROL_PATHS = sorted({(op.path, op.method) for (owner, _), op in CONTRACTS.operations.items()
                        if owner == "control" and op.path != "*"})


@pytest.mark.parametrize("route", sorted({path for path, _ in CONTROL_PATHS}))
def test_every_control_path_answers_other_methods_405_on_contract(client, route):
    """The control plane and the dashboard, HTML pages included: a JSON 405 with `Allow`."""
    served = {method for path, method in CONTROL_PATHS if path == route}
    method = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in served)
    url = re.sub(r"{\w+}", "x", route)
    response = client.open(url, method=method)
    assert response.status_code == 405 and response.is_json, (route, method, response.status_code)
    assert set(response.headers["Allow"].split(", ")) >= served
    seen = client.application.extensions["refund_sandbox"].selfcheck.seen
    ops = [op_id for (owner, op_id), op in CONTRACTS.operations.items() if owner == "control" and op.path == route]
    assert all(("control", op_id, 405) in seen for op_id in ops), ops
