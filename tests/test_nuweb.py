"""Nuweb: refund types, fee flags, splits, idempotency, the offline downgrade, and Laravel errors."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime

import pytest

from sandbox.core import money
from sandbox.core.errors import SandboxError
from sandbox.providers.nuweb import rules
from sandbox.providers.nuweb.schemas import REFUND

from conftest import ROOT, tracked_app

NOW = datetime(2026, 11, 23, tzinfo=UTC)
ORDERS = {o["id"]: o for o in json.loads((ROOT / "fixtures" / "nuweb.json").read_text())["orders"].values()}
ONLINE, SPLIT, CASH, FREE = 1001, 1002, 1003, 1004  # fixture orders; SPLIT is paid 6667 + 3334 = 10001
REFUND_URL, ORDER_URL, LOGIN_URL = "/nuweb/v1/orders/refund", "/nuweb/v1/order", "/nuweb/v1/login"


def run(order_id: int, **fields):
    """The rule alone, on a copy of a fixture order, with the body's documented defaults."""
    return rules.refund_order(copy.deepcopy(ORDERS[order_id]), REFUND.load({"orderId": order_id, **fields}),
                              now=NOW, new_id=itertools.count(90001).__next__)


def refunds_of(outcome) -> list[tuple[int, int, str | None]]:
    return [(t["metadata"]["parentTransactionId"], -t["total"], t["paymentGateway"])
            for t in outcome.order["transactions"] if t["total"] < 0]


# --- rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("flags, value", [
    ({}, 9800),                                                             # price + tax + both fees
    ({"refundProcessingFee": False}, 9800 - 500),
    ({"refundResellerFee": False}, 9800 - 300),
    ({"refundProcessingFee": False, "refundResellerFee": False}, 9800 - 800),
])
def test_fee_flags_decide_the_refund_value(flags, value):
    out = run(ONLINE, **flags)
    assert out.refund_value == value and sum(i["refundedAmount"] for i in out.order["items"]) == value
    assert all(i["refunded"] and not i["isValid"] for i in out.order["items"])
    assert out.order["statusSlug"] == "refunded" and out.order["refunded"] == value


def test_refund_goes_back_to_the_card_online_or_offline():
    assert refunds_of(run(ONLINE, online=True)) == [(7001, 9800, "stripe")]
    assert refunds_of(run(ONLINE)) == [(7001, 9800, None)]  # online defaults to false


def test_online_reverts_to_offline_without_a_gateway_or_a_total():
    out = run(CASH, online=True)
    assert refunds_of(out) == [(7004, 3000, None)] and out.refund["online"] is False
    free = run(FREE, online=True)
    assert free.refund_value == 0 and free.refund["online"] is False and refunds_of(free) == []
    assert all(i["refunded"] for i in free.order["items"])


def test_balance_refund_credits_the_customer_and_ignores_online():
    out = run(ONLINE, type="balance_refund", online=True)
    assert out.order["customer"]["balance"] == 9800 and out.refund["online"] is False
    [credit] = [t for t in out.order["transactions"] if t["total"] < 0]
    assert (credit["type"], credit["total"], credit["paymentGateway"]) == ("balance", -9800, None)


def test_cancellation_moves_no_money():
    out = run(ONLINE, type="cancellation", online=True, uuid="ignored")
    assert out.refund_value == 0 and refunds_of(out) == [] and out.order["statusSlug"] == "cancelled"
    assert all(i["cancelledAt"] and not i["refunded"] for i in out.order["items"])
    assert out.refund["uuid"] is None


def test_cancelled_items_are_refunded_only_with_refund_cancelled():
    cancelled = run(ONLINE, type="cancellation").order
    skip = rules.refund_order(cancelled, REFUND.load({"orderId": ONLINE}), now=NOW, new_id=itertools.count(1).__next__)
    assert skip.refund_value == 0 and skip.refund is None and skip.order == cancelled
    take = rules.refund_order(cancelled, REFUND.load({"orderId": ONLINE, "refundCancelled": True}), now=NOW,
                              new_id=itertools.count(1).__next__)
    assert take.refund_value == 9800 and take.order["statusSlug"] == "refunded"


def test_restock_marks_the_items():
    assert all(i["restocked"] for i in run(ONLINE).order["items"])
    assert not any(i["restocked"] for i in run(ONLINE, restock=False).order["items"])


def test_partially_refunded_when_some_items_were_refunded_before():
    order = copy.deepcopy(ORDERS[ONLINE])
    order["items"][0]["cancelledAt"] = "2026-10-01T00:00:00.000Z"
    out = rules.refund_order(order, REFUND.load({"orderId": ONLINE}), now=NOW, new_id=itertools.count(1).__next__)
    assert out.order["statusSlug"] == "partially_refunded" and out.refund_value == 9800 - 2650


def test_proportional_split_adds_up_exactly_on_odd_amounts():
    out = run(SPLIT, refundProcessingFee=False)  # 9601 over payments of 6667 and 3334
    assert refunds_of(out) == [(7002, 6400, None), (7003, 3201, None)]
    assert sum(amount for _, amount, _ in refunds_of(out)) == out.refund_value == 9601


@pytest.mark.parametrize("total, weights", [(1, [1, 1]), (9601, [6667, 3334]), (2, [1, 1, 1]), (100, [33, 33, 34]),
                                            (7, [5, 0, 2]), (999_999, [333_333, 333_333, 333_334]),
                                            (10, [3, 3, 3, 1])])
def test_allocation_is_exact_and_within_each_weight(total, weights):
    parts = money.allocate(total, weights)
    assert sum(parts) == total and all(0 <= p <= w for p, w in zip(parts, weights, strict=True))
    assert parts == money.allocate(total, weights)  # deterministic


def test_explicit_splits():
    out = run(SPLIT, refundSplits=[{"transactionId": 7003, "amount": 3334}, {"transactionId": 7002, "amount": 6667}])
    assert sorted(refunds_of(out)) == [(7002, 6667, None), (7003, 3334, None)]


@pytest.mark.parametrize("splits, field", [
    ([{"transactionId": 7001, "amount": 10001}], "refundSplits.0.transactionId"),    # another order's payment
    ([{"transactionId": 7003, "amount": 3335}, {"transactionId": 7002, "amount": 6666}], "refundSplits.0.amount"),
    ([{"transactionId": 7002, "amount": 5000}], "refundSplits"),                    # does not add up
])
def test_bad_splits_are_422(splits, field):
    with pytest.raises(SandboxError) as caught:
        run(SPLIT, refundSplits=splits)
    assert caught.value.status == 422 and caught.value.field == field


def test_nothing_left_to_refund_is_a_zero_refund_that_changes_nothing():
    first = run(ONLINE).order
    again = rules.refund_order(first, REFUND.load({"orderId": ONLINE}), now=NOW, new_id=itertools.count(1).__next__)
    assert (again.refund_value, again.refund, again.notification) == (0, None, None) and again.order == first


# --- HTTP ----------------------------------------------------------------------------

def login(client, email="ops@example.com", tenant=None):
    headers = {"X-Sandbox-Tenant": tenant} if tenant else {}
    response = client.post(LOGIN_URL, json={"email": email, "password": "secret", "device_name": "ci"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}", **headers}


def order_of(client, order_id, headers):
    return client.get(ORDER_URL, query_string={"orderId": order_id}, headers=headers).get_json()


def test_refund_over_http_by_basket_id(client):
    auth = login(client)
    response = client.post(REFUND_URL, json={"orderId": 5001, "online": True}, headers=auth)
    body = response.get_json()
    assert response.status_code == 200
    assert (body["currencyCode"], body["currencySymbol"], body["currencyId"], body["refundValue"]) == \
        ("GBP", "£", 1, 9800)
    assert body["order"]["id"] == ONLINE and body["order"]["statusSlug"] == "refunded"
    assert order_of(client, ONLINE, auth) == body["order"]
    by_reference = client.get(ORDER_URL, query_string={"orderReference": "RO3PMNGE1N", "orderId": 1},
                              headers=auth).get_json()
    assert by_reference["id"] == ONLINE
    [note] = client.get("/_sandbox/notifications?provider=nuweb").get_json()["notifications"]
    assert note["payload"]["email"] == "sam.taylor@example.com" and note["payload"]["refundValue"] == 9800


def test_no_notification_when_not_asked(client):
    client.post(REFUND_URL, json={"orderId": ONLINE, "notifyCustomer": False}, headers=login(client))
    assert client.get("/_sandbox/notifications").get_json()["notifications"] == []


def test_uuid_returns_the_first_result_and_refunds_once(client):
    auth = login(client)
    first = client.post(REFUND_URL, json={"orderId": SPLIT, "uuid": "4f0c2a9e-0001"}, headers=auth)
    again = client.post(REFUND_URL, json={"orderId": SPLIT, "uuid": "4f0c2a9e-0001", "restock": False}, headers=auth)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    order = order_of(client, SPLIT, auth)
    assert [t["total"] for t in order["transactions"] if t["total"] < 0] == [-6667, -3334]
    assert [t["metadata"]["uuid"] for t in order["transactions"] if t["total"] < 0] == ["4f0c2a9e-0001"] * 2
    assert len(client.get("/_sandbox/nuweb/refunds").get_json()["refunds"]) == 1


def test_split_error_is_422_in_laravels_shape_and_changes_nothing(client):
    auth = login(client)
    before = order_of(client, SPLIT, auth)
    response = client.post(REFUND_URL, json={"orderId": SPLIT, "refundSplits": [{"transactionId": 7001,
                                                                                  "amount": 1}]}, headers=auth)
    assert response.status_code == 422
    assert response.get_json() == {"message": "The given data was invalid.", "errors": {
        "refundSplits.0.transactionId": ["The transaction 7001 is not a payment of order 1002."]}}
    assert order_of(client, SPLIT, auth) == before


@pytest.mark.parametrize("body, fields", [
    ({}, {"orderId": ["The order id field is required."]}),
    ({"orderId": "1001"}, {"orderId": ["The order id field must be an integer."]}),
    ({"orderId": 1001, "online": 1, "type": "refund_all"},
     {"online": ["The online field must be true or false."], "type": ["The selected type is invalid."]}),
    ({"orderId": 1001, "uuid": 7}, {"uuid": ["The uuid field must be a string."]}),
    ({"orderId": 1001, "refundSplits": [{"amount": 0}]},
     {"refundSplits.0.transactionId": ["The refund splits.0.transaction id field is required."],
      "refundSplits.0.amount": ["Must be greater than or equal to 1."]}),
])
def test_invalid_bodies_are_422_naming_each_field(client, body, fields):
    response = client.post(REFUND_URL, json=body, headers=login(client))
    assert response.status_code == 422 and response.get_json() == {"message": "The given data was invalid.",
                                                                   "errors": fields}
    assert order_of(client, ONLINE, login(client))["statusSlug"] == "complete"


def test_unknown_order_is_404(client):
    response = client.post(REFUND_URL, json={"orderId": 999999}, headers=login(client))
    assert (response.status_code, response.get_json()) == (404, {
        "message": "No query results for model [App\\Models\\Order] 999999"})
    response = client.get(ORDER_URL, query_string={"orderReference": "NOPE"}, headers=login(client))
    assert response.status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer SCHEMATHESIS-INVALID-VALUE"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_missing_or_malformed_token_is_401(client, headers):
    for response in (client.post(REFUND_URL, json={"orderId": ONLINE}, headers=headers),
                     client.get(ORDER_URL, query_string={"orderId": ONLINE}, headers=headers)):
        assert (response.status_code, response.get_json()) == (401, {"message": "Unauthenticated."})


def test_missing_scope_is_403(client):
    client.post("/_sandbox/credentials", json={"provider": "nuweb", "credential": "viewer@example.com",
                                               "tenant": "box-office", "scopes": ["orders:read"]})
    auth = login(client, "viewer@example.com")
    response = client.post(REFUND_URL, json={"orderId": ONLINE}, headers=auth)
    assert (response.status_code, response.get_json()) == (403, {"message": "This action is unauthorized."})
    assert order_of(client, ONLINE, auth)["statusSlug"] == "complete"  # orders:read is enough to read
    client.post("/_sandbox/credentials", json={"provider": "nuweb", "credential": "refunder@example.com",
                                               "tenant": "box-office", "scopes": ["orders:refund"]})
    response = client.get(ORDER_URL, query_string={"orderId": ONLINE}, headers=login(client, "refunder@example.com"))
    assert response.status_code == 403


def test_login_validation_and_strict_auth():
    client = tracked_app(strict_auth=True).test_client()
    response = client.post(LOGIN_URL, json={"email": "x@example.com", "password": "p", "device_name": "d"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"email": ["The provided credentials are incorrect."]}
    assert client.post(LOGIN_URL, json={"email": "x@example.com"}).get_json()["errors"] == {
        "password": ["The password field is required."], "device_name": ["The device name field is required."]}
    client.post("/_sandbox/credentials", json={"provider": "nuweb", "credential": "x@example.com", "tenant": "venue-1"})
    auth = login(client, "x@example.com")
    assert client.post(REFUND_URL, json={"orderId": ONLINE}, headers=auth).status_code == 200
    assert order_of(client, ONLINE, {**auth, "X-Sandbox-Tenant": "default"})["statusSlug"] == "complete"
    assert order_of(client, ONLINE, auth)["statusSlug"] == "refunded"
    foreign = {"Authorization": "Bearer 7|" + "a" * 48}  # well-formed, never issued
    assert client.post(REFUND_URL, json={"orderId": ONLINE}, headers=foreign).status_code == 401


def test_unknown_paths_answer_in_laravels_shape(client):
    response = client.get("/nuweb/v1/nothing")
    assert (response.status_code, response.get_json()) == (404, {"message": "The route v1/nothing could not be found."})
    response = client.get(REFUND_URL)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert response.get_json() == {"message": "The GET method is not supported for route v1/orders/refund."}


@pytest.mark.parametrize("scenario, check", [
    ("nuweb.paid_online", lambda b: b["refundValue"] > 0 and all(t["paymentGateway"] == "stripe" for t in
                                                                   b["order"]["transactions"] if t["total"] < 0)),
    ("nuweb.split_payment", lambda b: len([t for t in b["order"]["transactions"] if t["total"] < 0]) == 2),
    ("nuweb.offline_paid", lambda b: all(t["paymentGateway"] is None for t in b["order"]["transactions"])),
    ("nuweb.zero_total", lambda b: b["refundValue"] == 0 and all(i["refunded"] for i in b["order"]["items"])),
])
def test_each_scenario_leads_to_its_outcome(client, scenario, check):
    seeded = client.post(f"/_sandbox/scenarios/{scenario}", json={"seed": 9}).get_json()["orders"][0]
    response = client.post(REFUND_URL, json={"orderId": int(seeded["order_ref"]), "online": True},
                           headers=login(client))
    assert response.status_code == 200 and check(response.get_json())
    assert sum(-t["total"] for t in response.get_json()["order"]["transactions"] if t["total"] < 0) == \
        response.get_json()["refundValue"]


@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_uuid_is_accepted_and_is_no_key(client, flag):
    """The seed types uuid boolean: accepted, but it keys nothing (a string uuid would replay)."""
    auth = login(client)
    first = client.post(REFUND_URL, json={"orderId": SPLIT, "uuid": flag, "refundProcessingFee": False}, headers=auth)
    assert first.status_code == 200 and first.get_json()["refundValue"] == 9601
    assert [t["metadata"]["uuid"] for t in first.get_json()["order"]["transactions"] if t["total"] < 0] == [None] * 2
    again = client.post(REFUND_URL, json={"orderId": SPLIT, "uuid": flag}, headers=auth)
    assert again.status_code == 200 and again.get_json()["refundValue"] == 0, "not a replay of the first answer"


def test_the_seeds_response_example_is_on_contract():
    """seeds/nuweb.txt's own example answer (`"order": []`) validates against the 200 schema."""
    from sandbox.core.contracts import Contracts, SelfCheck

    example = {"currencyId": 1, "currencySymbol": "Ā£", "currencyCode": "GBP", "refundValue": 10403, "order": []}
    contracts = Contracts(ROOT / "contracts", ["nuweb"])
    documented = contracts.raw["nuweb"]["paths"]["/v1/orders/refund"]["post"]["responses"]["200"]
    assert documented["content"]["application/json"]["examples"]["seed"]["value"] == example
    check = contracts.check(SelfCheck(), "nuweb", "refund_order", "POST", 200, json.dumps(example).encode(),
                            "application/json")
    assert check is None, check
    wrong = contracts.check(SelfCheck(), "nuweb", "refund_order", "POST", 200,
                            json.dumps({**example, "order": [1]}).encode(), "application/json")
    assert wrong is not None, "only the empty array is admitted besides the order object"
