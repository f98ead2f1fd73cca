"""Next Commerce: restock rules, quantity and amount limits, discrepancies, calculate round trip, DRF errors."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime

import pytest

from sandbox.core.errors import SandboxError
from sandbox.providers.nextcommerce import rules
from sandbox.providers.nextcommerce.schemas import CALCULATE, REFUND, VERSION, present_calculation, present_refund

from conftest import ROOT, tracked_app

NOW = datetime(2026, 11, 23, tzinfo=UTC)
ORDERS = {o["number"]: o for o in json.loads((ROOT / "fixtures" / "nextcommerce.json").read_text())["orders"].values()}
CAPTURED, UNCAPTURED, DIGITAL = "100101", "100102", "100103"
TOKEN = {"Authorization": "Bearer " + "a1b2c3d4e5" * 3}


def line(line_id: int, quantity: int, restock: str | None) -> dict:
    item = {"line_id": line_id, "quantity": quantity}
    return item if restock is None else {**item, "restock_type": restock}


def run(number: str, **body):
    return rules.refund(copy.deepcopy(ORDERS[number]), REFUND.load(body), now=NOW, new_id=itertools.count(1).__next__)


def refused(number: str, **body) -> dict:
    with pytest.raises(SandboxError) as caught:
        run(number, **body)
    assert caught.value.status == 400
    return caught.value.details["drf"]


# --- rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("number, line_id, restock, ok", [
    (CAPTURED, 1011, "return", True), (CAPTURED, 1011, "no_restock", True), (CAPTURED, 1011, "cancel", False),
    (CAPTURED, 1012, "cancel", True), (CAPTURED, 1012, "return", False), (CAPTURED, 1012, "no_restock", False),
    (DIGITAL, 1031, "no_restock", True), (DIGITAL, 1031, "return", False), (DIGITAL, 1031, "cancel", False),
    (DIGITAL, 1032, "cancel", True), (DIGITAL, 1032, "no_restock", False), (DIGITAL, 1032, "return", False),
])
def test_restock_rules(number, line_id, restock, ok):
    amount = {1011: "22.00", 1012: "38.50", 1031: "16.50", 1032: "9.90"}[line_id]
    body = {"refund_lines": [line(line_id, 1, restock)], "transactions": [{"id": int(number[-1]) + 9100,
                                                                           "amount": amount}]}
    if ok:
        out = run(number, **body)
        assert out.refund["refund_line_items"][0]["restock_type"] == restock
    else:
        assert "restock_type" in refused(number, **body)["refund_lines"][0]


def test_line_amounts_shipping_tax_and_totals():
    out = run(CAPTURED, refund_lines=[line(1011, 2, "return"), line(1012, 1, "cancel")],
              refund_shipping={"full_refund": True}, transactions=[{"id": 9101, "amount": "88.00"}])
    refund = present_refund(out.refund, "USD")
    assert [(i["line_item_id"], i["amount_excl_tax"], i["amount_incl_tax"]) for i in refund["refund_line_items"]] == \
        [(1011, "40.00", "44.00"), (1012, "35.00", "38.50")]
    assert [(a["type"], a["amount_excl_tax"], a["amount_incl_tax"]) for a in refund["adjustments"]] == \
        [("refund_shipping", "5.00", "5.50")]
    assert (refund["total_refund_amount"], refund["total_return_excl_tax"], refund["total_return_incl_tax"]) == \
        ("88.00", "80.00", "88.00")
    assert refund["transactions"][0]["parent_id"] == 9101 and refund["transactions"][0]["type"] == "refund"
    assert out.order["payment_status"] == "refunded"
    assert [x["current_quantity"] for x in out.order["lines"]] == [0, 0]


def test_quantity_is_limited_to_the_current_quantity():
    errors = refused(CAPTURED, refund_lines=[line(1011, 1, "return"), line(1011, 2, "return")],
                     transactions=[{"id": 9101, "amount": "66.00"}])
    assert errors["refund_lines"][0] == {} and "quantity" in errors["refund_lines"][1]
    first = run(CAPTURED, refund_lines=[line(1011, 2, "return")], transactions=[{"id": 9101, "amount": "44.00"}])
    with pytest.raises(SandboxError):
        rules.refund(first.order, REFUND.load({"refund_lines": [line(1011, 1, "return")],
                                               "transactions": [{"id": 9101, "amount": "22.00"}]}),
                     now=NOW, new_id=itertools.count(100).__next__)


def test_unknown_line_and_foreign_transaction():
    assert "line_id" in refused(CAPTURED, refund_lines=[line(9999, 1, "cancel")], transactions=[])["refund_lines"][0]
    assert "id" in refused(CAPTURED, transactions=[{"id": 9102, "amount": "1.00"}])["transactions"][0]


@pytest.mark.parametrize("amount", ["88.01", "0", "-1.00", ""])
def test_transaction_amount_limits(amount):
    body = {"transactions": [{"id": 9101, "amount": amount}]}
    if amount == "":
        with pytest.raises(Exception):  # noqa: B017 - marshmallow refuses it before the rule runs
            REFUND.load(body)
    else:
        assert "amount" in refused(CAPTURED, **body)["transactions"][0]


def test_shipping_limits():
    assert "amount_excl_tax" in refused(CAPTURED, refund_shipping={"amount_excl_tax": "5.01"},
                                        transactions=[{"id": 9101, "amount": "5.51"}])["refund_shipping"]
    out = run(CAPTURED, refund_shipping={"amount_excl_tax": "2.00"}, transactions=[{"id": 9101, "amount": "2.20"}])
    assert out.refund["adjustments"][0]["incl"] == 220 and out.order["shipping_refunded_excl"] == 200
    assert "amount_excl_tax" in refused(ORDERS[CAPTURED]["number"], refund_shipping={"amount_excl_tax": "-1.00"},
                                        transactions=[])["refund_shipping"]


def test_a_mismatch_becomes_a_discrepancy_adjustment():
    out = run(CAPTURED, refund_lines=[line(1011, 1, "no_restock")], transactions=[{"id": 9101, "amount": "25.00"}])
    [adjustment] = out.refund["adjustments"]
    assert (adjustment["type"], adjustment["incl"]) == ("refund_discrepancy", 300)
    assert (out.refund["total_return_incl_tax"], out.refund["total_refund_amount"]) == (2500, 2500)
    goodwill = run(CAPTURED, transactions=[{"id": 9101, "amount": "10.00"}])  # money only, no lines
    assert [a["type"] for a in goodwill.refund["adjustments"]] == ["refund_discrepancy"]
    assert goodwill.order["payment_status"] == "partially_refunded"


def test_uncaptured_payments_are_voided_in_full_only():
    assert refused(UNCAPTURED, refund_lines=[line(1021, 1, "cancel")],
                   transactions=[{"id": 9102, "amount": "22.00"}]) == {
        "non_field_errors": ["Uncaptured payments cannot be partially refunded."]}
    out = run(UNCAPTURED, refund_lines=[line(1021, 2, "cancel")], transactions=[{"id": 9102, "amount": "44.00"}])
    assert out.order["payment_status"] == "voided"


def test_nothing_to_refund_is_refused():
    assert refused(CAPTURED, transactions=[]) == {
        "non_field_errors": ["Nothing to refund: give refund_lines, refund_shipping or transactions."]}


def test_calculate_infers_restock_and_changes_nothing():
    order = copy.deepcopy(ORDERS[CAPTURED])
    result = present_calculation(rules.calculate(order, CALCULATE.load({
        "refund_lines": [line(1011, 1, None), line(1012, 1, None)], "refund_shipping": {"full_refund": True}})))
    assert [(x["line_id"], x["restock_type"], x["refundable_quantity"]) for x in result["refund_lines"]] == \
        [(1011, "return", 2), (1012, "cancel", 1)]
    assert (result["amount_excl_tax"], result["amount_incl_tax"], result["total_tax"]) == ("60.00", "66.00", "6.00")
    assert result["refund_shipping"]["refundable_amount"] == "5.00"
    assert result["transactions"] == [{"id": 9101, "amount": "66.00", "refundable_amount": "88.00", "gateway_id": 3,
                                       "gateway_name": "Test Gateway", "payment_method": "card", "type": "debit"}]
    assert order == ORDERS[CAPTURED]


# --- HTTP ----------------------------------------------------------------------------

def url(number: str, suffix: str = "refund/") -> str:
    return f"/nextcommerce/api/admin/orders/{number}/{suffix}"


def test_calculate_then_refund_round_trip(client):
    asked = {"refund_lines": [{"line_id": 1011, "quantity": 1}, {"line_id": 1012, "quantity": 1}],
             "refund_shipping": {"full_refund": True}}
    calc = client.post(url(CAPTURED, "refund/calculate/"), json=asked, headers=TOKEN).get_json()
    assert client.get(url(CAPTURED, ""), headers=TOKEN).get_json()["lines"][0]["current_quantity"] == 2
    body = {"note": "round trip", "refund_shipping": asked["refund_shipping"],
            "refund_lines": [{"line_id": x["line_id"], "quantity": x["quantity"], "restock_type": x["restock_type"]}
                             for x in calc["refund_lines"]],
            "transactions": [{"id": t["id"], "amount": t["amount"]} for t in calc["transactions"]]}
    response = client.post(url(CAPTURED), json=body, headers=TOKEN)
    refund = response.get_json()
    assert response.status_code == 200 and refund["total_refund_amount"] == calc["amount_incl_tax"] == "66.00"
    assert [a["type"] for a in refund["adjustments"]] == ["refund_shipping"]  # no discrepancy
    order = client.get(url(CAPTURED, ""), headers=TOKEN).get_json()
    assert order["payment_status"] == "partially_refunded" and order["refunds"] == [refund]
    assert [x["current_quantity"] for x in order["lines"]] == [1, 0]
    assert [t["parent_id"] for t in order["transactions"]] == [None, 9101]
    [note] = client.get("/_sandbox/notifications?provider=nextcommerce").get_json()["notifications"]
    assert note["payload"]["total_refund_amount"] == "66.00"


def test_no_notification_when_not_asked(client):
    client.post(url(CAPTURED), json={"send_refund_notification": False, "transactions": [{"id": 9101,
                                                                                          "amount": "1.00"}]},
                headers=TOKEN)
    assert client.get("/_sandbox/notifications").get_json()["notifications"] == []


def test_drf_field_errors_change_nothing(client):
    before = client.get(url(CAPTURED, ""), headers=TOKEN).get_json()
    response = client.post(url(CAPTURED), json={"refund_lines": [{"line_id": 1011, "quantity": 1,
                                                                  "restock_type": "cancel"}],
                                                "transactions": [{"id": 9101, "amount": "22.00"}]}, headers=TOKEN)
    assert response.status_code == 400
    assert response.get_json() == {"refund_lines": [{"restock_type": [
        'Restock type "cancel" is not allowed for an fulfilled physical line; use return or no_restock.']}]}
    assert client.get(url(CAPTURED, ""), headers=TOKEN).get_json() == before
    missing = client.post(url(CAPTURED), json={"refund_lines": [{"line_id": "x"}]}, headers=TOKEN).get_json()
    assert missing == {"refund_lines": [{"line_id": ["A valid integer is required."],
                                         "quantity": ["This field is required."],
                                         "restock_type": ["This field is required."]}],
                       "transactions": ["This field is required."]}


def test_version_header(client):
    for version in ("2024-04-01", "unstable"):
        assert client.get(url(CAPTURED, ""), headers={**TOKEN, "X-29next-API-Version": version}).status_code == 200
    response = client.post(url(CAPTURED), json={"transactions": [{"id": 9101, "amount": "1.00"}]},
                           headers={**TOKEN, "X-29next-API-Version": "2023-02-10"})
    assert (response.status_code, response.get_json()) == (400, {
        "detail": 'Invalid version in "X-29next-API-Version" header.'})
    assert client.get(url(CAPTURED, ""), headers=TOKEN).get_json()["payment_status"] == "paid"


def test_a_request_without_the_version_header_is_an_unstable_request(client):
    """seeds/nextcommerce.txt: X-29next-API-Version, Default "unstable"."""
    assert VERSION.load({}) == {"version": "unstable"}
    assert VERSION.load({"x-29next-api-version": "2024-04-01"}) == {"version": "2024-04-01"}
    assert client.get(url(CAPTURED, ""), headers=TOKEN).status_code == 200
    absent = client.post(url(CAPTURED), json={"transactions": [{"id": 9101, "amount": "1.00"}]}, headers=TOKEN)
    assert absent.status_code == 200 and absent.get_json()["total_refund_amount"] == "1.00"


def test_auth_scopes_and_404(client):
    assert client.get(url(CAPTURED, "")).get_json() == {"detail": "Authentication credentials were not provided."}
    assert client.get(url(CAPTURED, ""), headers={"Authorization": "Bearer short"}).get_json() == {
        "detail": "Invalid token."}
    client.post("/_sandbox/credentials", json={"provider": "nextcommerce", "credential": "readonlytoken",
                                               "tenant": "default", "scopes": ["orders:read"]})
    reader = {"Authorization": "Bearer readonlytoken"}
    assert client.get(url(CAPTURED, ""), headers=reader).status_code == 200
    for path in ("refund/", "refund/calculate/"):
        response = client.post(url(CAPTURED, path), json={"transactions": []}, headers=reader)
        assert (response.status_code, response.get_json()) == (403, {
            "detail": "You do not have permission to perform this action."})
    client.post("/_sandbox/credentials", json={"provider": "nextcommerce", "credential": "writeonlytoken",
                                               "tenant": "default", "scopes": ["orders:write"]})
    assert client.get(url(CAPTURED, ""), headers={"Authorization": "Bearer writeonlytoken"}).status_code == 403
    assert client.get(url("999999", ""), headers=TOKEN).get_json() == {"detail": "Not found."}
    assert client.post(url("999999", "refund/calculate/"), json={}, headers=TOKEN).status_code == 404
    response = client.delete(url(CAPTURED, ""), headers=TOKEN)
    assert (response.status_code, response.get_json()) == (405, {"detail": 'Method "DELETE" not allowed.'})


def test_strict_auth_takes_only_registered_tokens():
    client = tracked_app(strict_auth=True).test_client()
    assert client.get(url(CAPTURED, ""), headers=TOKEN).status_code == 401
    client.post("/_sandbox/credentials", json={"provider": "nextcommerce", "credential": TOKEN["Authorization"][7:],
                                               "tenant": "store-2"})
    assert client.get(url(CAPTURED, ""), headers=TOKEN).status_code == 200


@pytest.mark.parametrize("scenario", ["nextcommerce.captured", "nextcommerce.uncaptured", "nextcommerce.digital"])
def test_each_scenario_round_trips_calculate_into_refund(client, scenario):
    seeded = client.post(f"/_sandbox/scenarios/{scenario}", json={"seed": 6}).get_json()["orders"][0]
    number = seeded["order_ref"]
    lines = [{"line_id": int(ref), "quantity": 1} for ref in seeded["line_item_refs"]]
    calc = client.post(url(number, "refund/calculate/"), json={"refund_lines": lines}, headers=TOKEN).get_json()
    body = {"refund_lines": [{**x, "restock_type": c["restock_type"]} for x, c in zip(lines, calc["refund_lines"],
                                                                                       strict=True)],
            "transactions": [{"id": t["id"], "amount": t["amount"]} for t in calc["transactions"]]}
    response = client.post(url(number), json=body, headers=TOKEN)
    if scenario == "nextcommerce.uncaptured":  # the lines are not the whole authorization
        assert response.status_code == 400 and "non_field_errors" in response.get_json()
    else:
        assert response.status_code == 200 and response.get_json()["total_refund_amount"] == calc["amount_incl_tax"]


def test_a_null_shipping_amount_is_refused_before_the_order_is_looked_up(client):
    """The contract forbids null there: 400 in DRF's shape, for a known and an unknown order."""
    headers = {"Authorization": "Bearer " + "a1b2c3d4e5" * 3}
    for number in ("100101", "999999"):
        response = client.post(f"/nextcommerce/api/admin/orders/{number}/refund/calculate/",
                               json={"refund_shipping": {"amount_excl_tax": None}}, headers=headers)
        assert response.status_code == 400, (number, response.get_json())
        assert response.get_json() == {"refund_shipping": {"amount_excl_tax": ["This field may not be null."]}}
