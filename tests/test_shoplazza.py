"""Shoplazza: full refund, 406 states, id format, scopes, and pending refunds moved by the clock."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.core.errors import SandboxError
from sandbox.providers.shoplazza import rules

from conftest import ROOT, tracked_app

NOW = datetime(2026, 11, 23, tzinfo=UTC)
ORDERS = {o["id"]: o for o in json.loads((ROOT / "fixtures" / "shoplazza.json").read_text())["orders"].values()}
PAID, UNPAID, REFUNDED, PENDING = "1232123", "1232124", "1232125", "1232126"
TOKEN = {"access-token": "sandbox-token-0123456789abcdef0123"}


def refund_url(order_id: str) -> str:
    return f"/shoplazza/openapi/2022-01/orders/{order_id}/refund"


def order_url(order_id: str) -> str:
    return f"/shoplazza/openapi/2022-01/orders/{order_id}"


def start(order_id: str, **sandbox):
    order = copy.deepcopy(ORDERS[order_id])
    order["sandbox"].update(sandbox)
    return rules.refund_order(order, now=NOW, refund_order_id="r-1", record_id="100001")


# --- rules ---------------------------------------------------------------------------

def test_full_refund_covers_items_shipping_and_tax():
    order = ORDERS[PAID]
    out = start(PAID)
    assert out.record["status"] == "finished" and out.record["number"] == "SPZ00000020-S1"
    assert out.record["refund_price"] == order["total_price"] == order["sub_total"] + order["total_tax"] + \
        order["total_shipping"]
    assert (out.record["refund_shipping"], out.record["refund_tax"]) == (order["total_shipping"], order["total_tax"])
    assert all(line["refund_quantity"] == line["quantity"] and line["refund_total"] == line["total"]
               for line in out.order["line_items"])
    assert (out.order["financial_status"], out.order["refund_status"]) == ("refunded", "finished")
    assert out.order["total_refund_price"] == order["total_price"]
    assert out.order["total_refund_tax"] == order["total_tax"]


@pytest.mark.parametrize("change", [{"financial_status": "waiting"}, {"financial_status": "paying"},
                                    {"financial_status": "refunded"}, {"financial_status": "refunding"},
                                    {"status": "cancelled"}, {"financial_status": "failed"}])
def test_orders_outside_after_sales_are_406(change):
    order = {**copy.deepcopy(ORDERS[PAID]), **change}
    with pytest.raises(SandboxError) as caught:
        rules.refund_order(order, now=NOW, refund_order_id="r", record_id="1")
    assert caught.value.status == 406 and caught.value.message == "After-sales is not included in current order."


def test_pending_refund_settles_only_when_due():
    out = start(PENDING)
    assert out.record["status"] == "pending" and out.order["financial_status"] == "refunding"
    assert out.order["total_refund_price"] == 0
    assert rules.settle(out.order, out.record, NOW + timedelta(seconds=299)) is None
    done = rules.settle(out.order, out.record, NOW + timedelta(seconds=300))
    assert done.record["status"] == "finished" and done.order["financial_status"] == "refunded"


def test_failed_refund_moves_no_money_and_can_be_retried():
    out = start(PENDING, refund_outcome="failed")
    failed = rules.settle(out.order, out.record, NOW + timedelta(hours=1))
    assert (failed.record["status"], failed.record["fail_reason"]) == ("failed", rules.FAIL_REASON)
    assert failed.order["financial_status"] == "refund_failed" and failed.order["total_refund_price"] == 0
    retry = rules.refund_order({**failed.order, "sandbox": {**failed.order["sandbox"], "refund_mode": "immediate"}},
                               now=NOW, refund_order_id="r-2", record_id="100002")
    assert retry.record["number"] == "SPZ00000023-S2" and retry.order["financial_status"] == "refunded"
    assert retry.record["refund_shipping"] == ORDERS[PENDING]["total_shipping"]


# --- HTTP ----------------------------------------------------------------------------

def test_refund_over_http(client):
    response = client.post(refund_url(PAID), headers=TOKEN)
    body = response.get_json()
    assert response.status_code == 200
    assert (body["status"], body["refund_status"], body["all_refunded"], body["refund_fail_reason"]) == \
        ("finished", "finished", True, "")
    assert body["number"] == "SPZ00000020-S1" and body["refunds"]["order_id"] == PAID
    assert body["refunds"]["refund_price"] == body["order"]["total_price"] == body["order"]["total_refund_price"]
    assert {i["line_item_id"] for i in body["refunds"]["refund_line_items"]} == \
        {line["id"] for line in body["order"]["line_items"]}
    assert "sandbox" not in body["order"]
    read = client.get(order_url(PAID), headers=TOKEN).get_json()["order"]
    assert read == body["order"] and read["financial_status"] == "refunded"


def test_second_refund_is_406_and_changes_nothing(client):
    client.post(refund_url(PAID), headers=TOKEN)
    before = client.get(order_url(PAID), headers=TOKEN).get_json()
    response = client.post(refund_url(PAID), headers=TOKEN)
    assert (response.status_code, response.get_json()) == (406, {
        "errors": ["After-sales is not included in current order."]})
    assert client.get(order_url(PAID), headers=TOKEN).get_json() == before
    assert len(client.get("/_sandbox/shoplazza/refunds").get_json()["refunds"]) == 1


@pytest.mark.parametrize("order_id", [UNPAID, REFUNDED])
def test_unpaid_and_refunded_fixtures_are_406(client, order_id):
    assert client.post(refund_url(order_id), headers=TOKEN).status_code == 406


@pytest.mark.parametrize("bad_id", ["abc", "12a", "1-2-3", "%20", "-1"])
def test_malformed_ids_are_422_invalid_id(client, bad_id):
    for response in (client.post(refund_url(bad_id), headers=TOKEN), client.get(order_url(bad_id), headers=TOKEN)):
        assert (response.status_code, response.get_json()) == (422, {"errors": ["Invalid ID"]})


def test_unknown_or_other_stores_order_is_404(client):
    assert client.post(refund_url("9999999"), headers=TOKEN).get_json() == {"errors": ["Order not found"]}
    seeded = client.post("/_sandbox/scenarios/shoplazza.paid", json={"seed": 1},
                         headers={"X-Sandbox-Tenant": "other-shop"}).get_json()["orders"][0]["order_ref"]
    assert client.get(order_url(seeded), headers=TOKEN).status_code == 404
    assert client.get(order_url(seeded), headers={**TOKEN, "X-Sandbox-Tenant": "other-shop"}).status_code == 200


def test_malformed_body_is_400(client):
    response = client.post(refund_url(PAID), headers=TOKEN, data="{not json", content_type="application/json")
    assert (response.status_code, response.get_json()) == (400, {"error": "Bad Request"})
    assert client.get(order_url(PAID), headers=TOKEN).get_json()["order"]["financial_status"] == "paid"
    assert client.post(refund_url(PAID), headers=TOKEN, json={"ignored": True}).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"access-token": "short"}, {"access-token": "SCHEMATHESIS-INVALID-VALUE"}])
def test_missing_or_malformed_token_is_401(client, headers):
    for response in (client.post(refund_url(PAID), headers=headers), client.get(order_url(PAID), headers=headers)):
        assert (response.status_code, response.get_json()) == (401, {"error": "Unauthorized"})


def test_scopes_write_order_and_read_order(client):
    client.post("/_sandbox/credentials", json={"provider": "shoplazza", "credential": "reader", "tenant": "shop",
                                               "scopes": ["read_order"]})
    response = client.post(refund_url(PAID), headers={"access-token": "reader"})
    assert response.status_code == 403 and "write_order" in response.get_json()["error"]
    assert client.get(order_url(PAID), headers={"access-token": "reader"}).status_code == 200
    client.post("/_sandbox/credentials", json={"provider": "shoplazza", "credential": "writer", "tenant": "shop",
                                               "scopes": ["write_order"]})
    assert client.get(order_url(PAID), headers={"access-token": "writer"}).status_code == 403
    assert client.post(refund_url(PAID), headers={"access-token": "writer"}).status_code == 200


def test_strict_auth_takes_only_registered_tokens():
    client = tracked_app(strict_auth=True).test_client()
    assert client.post(refund_url(PAID), headers=TOKEN).status_code == 401
    client.post("/_sandbox/credentials", json={"provider": "shoplazza", "credential": TOKEN["access-token"],
                                               "tenant": "default"})
    assert client.post(refund_url(PAID), headers=TOKEN).status_code == 200


def test_pending_refund_finishes_when_the_clock_moves(client):
    body = client.post(refund_url(PENDING), headers=TOKEN).get_json()
    assert (body["status"], body["all_refunded"], body["order"]["financial_status"]) == ("pending", False, "refunding")
    assert client.post(refund_url(PENDING), headers=TOKEN).status_code == 406  # a refund is under way
    client.post("/_sandbox/clock/advance", json={"seconds": 120})
    assert client.get(order_url(PENDING), headers=TOKEN).get_json()["order"]["financial_status"] == "refunding"
    client.post("/_sandbox/clock/advance", json={"seconds": 180})
    view = client.get(f"/_sandbox/shoplazza/orders/{PENDING}").get_json()["order"]
    assert view["financial_status"] == "refunded" and view["refund_status"] == "finished"
    [record] = client.get("/_sandbox/shoplazza/refunds").get_json()["refunds"]
    assert record["status"] == "finished" and record["settles_at"] is None


def test_pending_refund_can_fail_with_a_reason(client):
    seeded = client.post("/_sandbox/scenarios/shoplazza.pending_refund",
                         json={"seed": 2, "overrides": {"refund_outcome": "failed", "settle_seconds": 60}}
                         ).get_json()["orders"][0]["order_ref"]
    assert client.post(refund_url(seeded), headers=TOKEN).get_json()["status"] == "pending"
    client.post("/_sandbox/clock/advance", json={"seconds": 60})
    order = client.get(order_url(seeded), headers=TOKEN).get_json()["order"]
    assert order["financial_status"] == "refund_failed" and order["total_refund_price"] == "0.00"
    [record] = client.get("/_sandbox/shoplazza/refunds").get_json()["refunds"]
    assert record["status"] == "failed" and record["fail_reason"] == rules.FAIL_REASON


def test_clock_is_per_tenant(client):
    client.post(refund_url(PENDING), headers=TOKEN)
    client.post("/_sandbox/clock/advance", json={"seconds": 3600}, headers={"X-Sandbox-Tenant": "elsewhere"})
    assert client.get(order_url(PENDING), headers=TOKEN).get_json()["order"]["financial_status"] == "refunding"


def test_unknown_paths_and_methods(client):
    response = client.delete(order_url(PAID), headers=TOKEN)
    assert response.status_code == 405 and response.get_json() == {"errors": ["Method Not Allowed"]}
    assert client.get("/shoplazza/openapi/2020-01/orders/1", headers=TOKEN).get_json() == {"errors": ["Not Found"]}


@pytest.mark.parametrize("scenario, status", [("shoplazza.paid", 200), ("shoplazza.unpaid", 406),
                                              ("shoplazza.refunded", 406), ("shoplazza.pending_refund", 200)])
def test_each_scenario_leads_to_its_outcome(client, scenario, status):
    seeded = client.post(f"/_sandbox/scenarios/{scenario}", json={"seed": 4}).get_json()["orders"][0]
    response = client.post(refund_url(seeded["order_ref"]), headers=TOKEN)
    assert response.status_code == status
    if scenario == "shoplazza.pending_refund":
        assert response.get_json()["status"] == "pending"
