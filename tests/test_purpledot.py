"""Purple Dot: every error code of the seed, the amount arithmetic, idempotency and concurrency."""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime

import pytest

from sandbox.core.errors import SandboxError
from sandbox.providers.purpledot import rules

from conftest import ROOT, tracked_app

NOW = datetime(2026, 11, 23, tzinfo=UTC)
URL = "/purpledot/admin/api/v1/refund"
TOKEN = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}
ORDERS = {o["order"]: o for o in json.loads((ROOT / "fixtures" / "purpledot.json").read_text())["orders"].values()}
PREORDER, MIXED, MULTI, DECLINED = "5550000000001", "5550000000002", "5550000000003", "5550000000004"
LINE_A, LINE_B = "14440000000011", "14440000000012"  # quantity 2 at 25.00; quantity 1 at 40.00; shipping 5.00


def unit(line_id: str) -> dict:
    return {"id": line_id, "quantity": 1}


def call(body: dict, order: dict | None = None):
    """Parse and refund with the rules alone."""
    order = copy.deepcopy(ORDERS[body["order"]]) if order is None and body["order"] in ORDERS else order
    return rules.refund(order, rules.parse_request(body), refund_id="r", now=NOW)


def code_of(body: dict, order: dict | None = None) -> tuple[int, str]:
    with pytest.raises(SandboxError) as caught:
        call(body, order)
    return caught.value.status, caught.value.code


# --- rules ---------------------------------------------------------------------------

def test_line_items_and_shipping_add_up_unit_totals():
    out = call({"id": "1", "order": PREORDER, "line_items": [unit(LINE_A), unit(LINE_A), unit(LINE_B)],
                "shipping": True})
    assert out.amount == 2 * 2500 + 4000 + 500 and out.refund["amount"] == "95.00"
    assert [line["refunded_quantity"] for line in out.order["line_items"]] == [2, 1]
    assert out.order["shipping"]["refunded"] and out.order["refunded_total"] == 9500


def test_shipping_alone_and_appeasement():
    assert call({"id": "1", "order": PREORDER, "shipping": True}).refund["amount"] == "5.00"
    out = call({"id": "1", "order": PREORDER, "amount": "12.5", "currency": "USD"})
    assert out.amount == 1250 and out.refund["amount"] == "12.50" and out.refund["mode"] == "appeasement"
    assert out.order["line_items"] == ORDERS[PREORDER]["line_items"]


def test_zero_decimal_currency():
    order = copy.deepcopy(ORDERS[PREORDER])
    order.update(currency="JPY", shipping={"amount": 800, "refunded": False})
    for line in order["line_items"]:
        line["unit_total"] = 3000
    assert call({"id": "1", "order": PREORDER, "line_items": [unit(LINE_A)], "shipping": True},
                order).refund["amount"] == "3800"
    assert code_of({"id": "1", "order": PREORDER, "amount": "10.5", "currency": "JPY"}, order) == \
        (400, "INVALID_REFUND_REQUEST")


@pytest.mark.parametrize("body", [
    {"id": "1", "order": PREORDER, "line_items": [unit(LINE_A)], "amount": "1.00", "currency": "USD"},
    {"id": "1", "order": PREORDER, "shipping": True, "currency": "USD"},
    {"id": "1", "order": PREORDER},
    {"id": "1", "order": PREORDER, "shipping": False},
    {"id": "1", "order": PREORDER, "shipping": "yes"},
    {"id": "1", "order": PREORDER, "amount": "1,00", "currency": "USD"},
    {"id": "1", "order": PREORDER, "amount": 1, "currency": "USD"},
    {"id": "1", "order": PREORDER, "amount": "1.00"},
    {"id": "1", "order": PREORDER, "amount": "1.00", "currency": "usd"},
])
def test_invalid_refund_request(body):
    with pytest.raises(SandboxError) as caught:
        rules.parse_request(body)
    assert (caught.value.status, caught.value.code) == (400, "INVALID_REFUND_REQUEST")


@pytest.mark.parametrize("items", [[], "x", [{"quantity": 1}], [{"id": "", "quantity": 1}], [{"id": LINE_A}],
                                   [{"id": LINE_A, "quantity": 2}], [{"id": LINE_A, "quantity": True}],
                                   [{"id": LINE_A, "quantity": "1"}], [{"id": LINE_A, "quantity": 1, "x": 1}], [7]])
def test_invalid_line_items(items):
    with pytest.raises(SandboxError) as caught:
        rules.parse_request({"id": "1", "order": PREORDER, "line_items": items})
    assert (caught.value.status, caught.value.code) == (400, "INVALID_LINE_ITEMS")


def test_quantity_one_as_float_is_one():
    assert rules.parse_request({"id": "1", "order": PREORDER, "line_items": [{"id": LINE_A, "quantity": 1.0}]}
                               ).line_ids == (LINE_A,)


def test_each_order_and_line_rule_has_its_code():
    assert code_of({"id": "1", "order": "404", "shipping": True}, None) == (404, "UNKNOWN_ORDER")
    assert code_of({"id": "1", "order": PREORDER, "line_items": [unit("nope")]}) == (404, "UNKNOWN_LINE_ITEMS")
    assert code_of({"id": "1", "order": PREORDER, "line_items": [unit(LINE_B), unit(LINE_B)]}) == \
        (400, "NOT_ENOUGH_ITEMS_LEFT_TO_REFUND")
    assert code_of({"id": "1", "order": PREORDER, "amount": "1.00", "currency": "EUR"}) == (400, "CURRENCY_MISMATCH")
    assert code_of({"id": "1", "order": PREORDER, "amount": "0.00", "currency": "USD"}) == \
        (400, "INVALID_REFUND_REQUEST")
    assert code_of({"id": "1", "order": PREORDER, "amount": "95.01", "currency": "USD"}) == \
        (400, "INVALID_REFUND_REQUEST")
    assert code_of({"id": "1", "order": MIXED, "shipping": True}) == (500, "REFUND_FAILED")
    assert code_of({"id": "1", "order": MULTI, "shipping": True}) == (501, "MULTIPLE_PRE_ORDERS")
    assert code_of({"id": "1", "order": DECLINED, "amount": "1.00", "currency": "EUR"}) == (500, "REFUND_FAILED")


def test_shipping_and_units_are_refundable_once():
    first = call({"id": "1", "order": PREORDER, "line_items": [unit(LINE_B)], "shipping": True})
    assert code_of({"id": "2", "order": PREORDER, "shipping": True}, first.order) == (400, "SHIPPING_ALREADY_REFUNDED")
    assert code_of({"id": "2", "order": PREORDER, "line_items": [unit(LINE_B)]}, first.order) == \
        (400, "NOT_ENOUGH_ITEMS_LEFT_TO_REFUND")
    left = call({"id": "3", "order": PREORDER, "amount": "50.00", "currency": "USD"}, first.order)
    assert left.order["refunded_total"] == 4500 + 5000
    assert code_of({"id": "4", "order": PREORDER, "amount": "0.01", "currency": "USD"}, left.order) == \
        (400, "INVALID_REFUND_REQUEST")


# --- HTTP ----------------------------------------------------------------------------

def post(client, body, headers=TOKEN):
    return client.post(URL, json=body, headers=headers)


def order_of(client, ref=PREORDER, tenant="default"):
    return client.get(f"/_sandbox/purpledot/orders/{ref}", headers={"X-Sandbox-Tenant": tenant}).get_json()["order"]


def assert_error(response, status, code):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["meta"] == {"success": False} and body["error"]["code"] == code and body["error"]["message"]


def test_refund_over_http_and_the_order_view(client):
    response = post(client, {"id": "r-1", "order": PREORDER, "line_items": [unit(LINE_A)], "shipping": True})
    assert response.status_code == 200
    assert response.get_json() == {"meta": {"success": True}, "data": {
        "id": "r-1", "order": PREORDER, "refunded": {"amount": "30.00", "currency": "USD"}}}
    order = order_of(client)
    assert [(line["id"], line["refundable_quantity"]) for line in order["line_items"]] == [(LINE_A, 1), (LINE_B, 1)]
    assert (order["total_refunded"], order["refundable_amount"], order["shipping"]["refunded"]) == \
        ("30.00", "65.00", True)
    refunds = client.get("/_sandbox/purpledot/refunds").get_json()["refunds"]
    assert [(r["id"], r["amount"], r["line_items"]) for r in refunds] == [("r-1", "30.00", [{"id": LINE_A,
                                                                                             "quantity": 1}])]


def test_replay_returns_the_stored_answer_and_refunds_nothing_twice(client):
    body = {"id": "r-1", "order": PREORDER, "line_items": [unit(LINE_B)]}
    first = post(client, body)
    again = post(client, dict(reversed(list(body.items()))))  # same payload, other key order
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert order_of(client)["total_refunded"] == "40.00"
    assert len(client.get("/_sandbox/purpledot/refunds").get_json()["refunds"]) == 1


def test_same_key_with_another_payload_is_409_and_changes_nothing(client):
    post(client, {"id": "r-1", "order": PREORDER, "shipping": True})
    before = order_of(client)
    assert_error(post(client, {"id": "r-1", "order": PREORDER, "line_items": [unit(LINE_A)]}), 409,
                 "IDEMPOTENT_REQUEST_PAYLOAD_MISMATCH")
    assert order_of(client) == before
    # the key is the pair: the same id on another order is a new refund
    assert post(client, {"id": "r-1", "order": DECLINED, "shipping": True}).status_code == 500


def test_a_replay_compares_json_values_so_1_and_1_0_are_one_payload(client):
    first = post(client, {"id": "r-7", "order": PREORDER, "line_items": [{"id": LINE_A, "quantity": 1}]})
    again = post(client, {"order": PREORDER, "line_items": [{"quantity": 1.0, "id": LINE_A}], "id": "r-7"})
    assert first.status_code == again.status_code == 200 and again.get_json() == first.get_json()
    assert len(client.get("/_sandbox/purpledot/refunds").get_json()["refunds"]) == 1
    assert_error(post(client, {"id": "r-7", "order": PREORDER, "line_items": [{"id": LINE_A, "quantity": 1},
                                                                             {"id": LINE_A, "quantity": 1.0}]}),
                 409, "IDEMPOTENT_REQUEST_PAYLOAD_MISMATCH")


def test_a_failed_refund_stores_nothing_and_can_be_retried(client):
    body = {"id": "r-9", "order": PREORDER, "line_items": [unit(LINE_B), unit(LINE_B)]}
    assert_error(post(client, body), 400, "NOT_ENOUGH_ITEMS_LEFT_TO_REFUND")
    assert order_of(client)["total_refunded"] == "0.00"
    assert post(client, {**body, "line_items": [unit(LINE_B)]}).status_code == 200


@pytest.mark.parametrize("body, status, code, ref", [
    ({"id": "e", "order": MIXED, "shipping": True}, 500, "REFUND_FAILED", MIXED),
    ({"id": "e", "order": DECLINED, "line_items": [unit("14440000000041")]}, 500, "REFUND_FAILED", DECLINED),
    ({"id": "e", "order": MULTI, "shipping": True}, 501, "MULTIPLE_PRE_ORDERS", MULTI),
    ({"id": "e", "order": PREORDER, "amount": "1.00", "currency": "GBP"}, 400, "CURRENCY_MISMATCH", PREORDER),
    ({"id": "e", "order": PREORDER, "line_items": [unit("1")]}, 404, "UNKNOWN_LINE_ITEMS", PREORDER),
    ({"id": "e", "order": PREORDER, "line_items": [{"id": LINE_A, "quantity": 3}]}, 400, "INVALID_LINE_ITEMS",
     PREORDER),
    ({"id": "e", "order": PREORDER, "shipping": True, "amount": "1.00", "currency": "USD"}, 400,
     "INVALID_REFUND_REQUEST", PREORDER),
    ({"id": "e", "order": PREORDER, "shipping": True, "note": "x"}, 400, "INVALID_REFUND_REQUEST", PREORDER),
])
def test_every_error_over_http_changes_nothing(client, body, status, code, ref):
    before = order_of(client, ref)
    assert_error(post(client, body), status, code)
    assert order_of(client, ref) == before


def test_another_stores_order_is_unknown(client):
    post(client, {"id": "r", "order": PREORDER, "shipping": True}, headers={**TOKEN, "X-Sandbox-Tenant": "store-b"})
    client.post("/_sandbox/scenarios/purpledot.preorder", json={"seed": 3, "overrides": {"order": "777"}},
                headers={"X-Sandbox-Tenant": "store-b"})
    assert_error(post(client, {"id": "r", "order": "777", "shipping": True}), 404, "UNKNOWN_ORDER")
    assert order_of(client)["shipping"]["refunded"] is False


def test_shipping_twice_over_http(client):
    post(client, {"id": "a", "order": PREORDER, "shipping": True})
    assert_error(post(client, {"id": "b", "order": PREORDER, "shipping": True}), 400, "SHIPPING_ALREADY_REFUNDED")


@pytest.mark.parametrize("headers", [{}, {"X-Purple-Dot-Access-Token": "short"},
                                     {"X-Purple-Dot-Access-Token": "SCHEMATHESIS-INVALID-VALUE"}])
def test_missing_or_malformed_token_is_401(client, headers):
    assert_error(post(client, {"id": "a", "order": PREORDER, "shipping": True}, headers=headers), 401, "UNAUTHORIZED")
    assert order_of(client)["shipping"]["refunded"] is False


def test_strict_auth_routes_registered_tokens_to_their_store():
    client = tracked_app(strict_auth=True).test_client()
    assert_error(post(client, {"id": "a", "order": PREORDER, "shipping": True}), 401, "UNAUTHORIZED")
    client.post("/_sandbox/credentials", json={"provider": "purpledot", "credential": "tok", "tenant": "shop-1"})
    assert post(client, {"id": "a", "order": PREORDER, "shipping": True},
                headers={"X-Purple-Dot-Access-Token": "tok"}).status_code == 200
    assert order_of(client, tenant="shop-1")["shipping"]["refunded"] is True
    assert order_of(client)["shipping"]["refunded"] is False


def test_unknown_paths_answer_in_purple_dots_envelope(client):
    assert_error(client.get("/purpledot/admin/api/v1/nothing"), 404, "NOT_FOUND")
    response = client.get(URL)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["Allow"]


def test_concurrent_requests_with_one_key_refund_once(app):
    body = {"id": "same-key", "order": PREORDER, "line_items": [unit(LINE_A)]}
    barrier, answers = threading.Barrier(16), []

    def worker():
        client = app.test_client()
        barrier.wait()
        response = post(client, body)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client = app.test_client()
    assert {status for status, _ in answers} == {200} and len({json.dumps(b) for _, b in answers}) == 1
    assert len(client.get("/_sandbox/purpledot/refunds").get_json()["refunds"]) == 1
    assert order_of(client)["line_items"][0]["refundable_quantity"] == 1


def test_concurrent_distinct_keys_never_over_refund(app):
    """16 different keys race for the 2 units of one line: exactly 2 succeed."""
    barrier, statuses = threading.Barrier(16), []

    def worker(n):
        client = app.test_client()
        barrier.wait()
        statuses.append(post(client, {"id": f"k{n}", "order": PREORDER, "line_items": [unit(LINE_A)]}).status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200] + [400] * 14


@pytest.mark.parametrize("scenario, status", [("purpledot.preorder", 200), ("purpledot.mixed_checkout_preorder", 500),
                                              ("purpledot.multi_preorder", 501), ("purpledot.refund_declined", 500)])
def test_each_scenario_leads_to_its_outcome(client, scenario, status):
    seeded = client.post(f"/_sandbox/scenarios/{scenario}", json={"seed": 5}).get_json()["orders"][0]
    lines = [unit(seeded["line_item_refs"][0]), unit(seeded["line_item_refs"][0])]  # the first line has 2 units
    response = post(client, {"id": "s", "order": seeded["order_ref"], "line_items": lines, "shipping": True})
    assert response.status_code == status, response.get_json()
    if status == 200:
        assert response.get_json()["data"]["refunded"]["currency"] == seeded["currency"]
    else:
        assert order_of(client, seeded["order_ref"])["total_refunded"] == seeded["order"]["total_refunded"]
