"""Fire: the rules as plain calls, then every path over HTTP through the Flask test client."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from sandbox.core.errors import SandboxError
from sandbox.providers.fire import rules

from conftest import (
    FIRE_ACCOUNT,
    FIRE_CARD,
    FIRE_DEUNA,
    FIRE_DEUNA_NO_TOKEN,
    FIRE_INJECT,
    FIRE_LOGIN,
    FIRE_OTHER_ACCOUNT,
    FIRE_REFUND,
    LOGIN_BODY,
    ROOT,
    fire_headers,
    tracked_app,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
REFUND_BODY = {"reason": "Duplicate charge", "vendor_uid": "vendor-uid-abc"}
FIXTURE_ORDERS = {o["uid"]: o for o in json.loads((ROOT / "fixtures" / "fire.json").read_text())["orders"].values()}


def price(total: str, currency: str = "USD") -> dict:
    return {"currencyCode": currency, "subtotalWithoutTaxes": total, "total": total}


def inject_body(order_id: str = "AGG-1", processor: str = "Deuna", token: str | None = "tok-1",
                status: str = "APPROVED") -> dict:
    body = {
        "orderId": order_id,
        "store": {"id": "store-uid-xyz", "vendorId": "vendor-uid-abc"},
        "order": {"products": [{"productId": "P-1", "product": "Burger", "quantity": 2,
                                "price": {"unitPrice": price("4.5"), "totalPrice": price("9.0000")}}]},
        "payments": {"totals": [price("10.7150")],
                     "paymentMethods": [{"processor": processor, "currencyCode": "USD", "transactionStatus": status,
                                         "totalBill": "10.7150"}]},
    }
    if token:
        body["metadata"] = {"order_token": token}
    return body


# --- rules, as plain function calls ---------------------------------------------------

def test_deuna_refund_cancels_and_refunds_every_deuna_payment():
    order = FIXTURE_ORDERS[FIRE_DEUNA]
    before = copy.deepcopy(order)
    out = rules.refund_order(order, {**REFUND_BODY, "customer_uid": "c-1"}, account=FIRE_ACCOUNT, now=NOW,
                             refund_id="r-1")
    assert (out.order["status"], out.order["payment_status"]) == ("CANCELED", "REFUNDED")
    assert out.order["updated_at"] == "2026-11-23T12:00:00.000Z"
    assert out.refund["refunded"] == [{"payment_method_uid": "550e8400-pm-1", "processor": "Deuna",
                                       "currency_code": "USD", "amount": "120.7920"}]
    assert out.refund["authenticated"] is True and out.refund["payment_user"] == "c-1"
    assert out.notification["event"] == "order.cancelled"
    assert order == before, "rules never mutate their input"


def test_other_processor_cancels_the_payment_and_refunds_nothing():
    out = rules.refund_order(FIXTURE_ORDERS[FIRE_CARD], REFUND_BODY, account=FIRE_ACCOUNT, now=NOW, refund_id="r")
    assert (out.order["status"], out.order["payment_status"]) == ("CANCELED", "CANCELED")
    assert out.refund["refunded"] == [] and out.refund["authenticated"] is False


def test_deuna_without_order_token_is_a_400_and_builds_nothing():
    with pytest.raises(SandboxError) as caught:
        rules.refund_order(FIXTURE_ORDERS[FIRE_DEUNA_NO_TOKEN], REFUND_BODY, account=FIRE_ACCOUNT, now=NOW,
                           refund_id="r")
    assert (caught.value.status, caught.value.code, caught.value.field) == (400, "missing_order_token",
                                                                           "metadata.order_token")


@pytest.mark.parametrize("order, account", [(None, FIRE_ACCOUNT), (FIXTURE_ORDERS[FIRE_OTHER_ACCOUNT], FIRE_ACCOUNT),
                                            (FIXTURE_ORDERS[FIRE_DEUNA], "acc-uid-67890")])
def test_missing_or_foreign_order_is_a_404(order, account):
    with pytest.raises(SandboxError) as caught:
        rules.refund_order(order, REFUND_BODY, account=account, now=NOW, refund_id="r")
    assert caught.value.status == 404


def test_refunding_a_canceled_order_changes_nothing():
    first = rules.refund_order(FIXTURE_ORDERS[FIRE_DEUNA], REFUND_BODY, account=FIRE_ACCOUNT, now=NOW, refund_id="r")
    again = rules.refund_order(first.order, REFUND_BODY, account=FIRE_ACCOUNT, now=NOW, refund_id="r2")
    assert again.order == first.order and again.refund is None and again.notification is None


def test_inject_scales_prices_and_derives_payment_status():
    from sandbox.providers.fire.schemas import INJECT

    order = rules.inject_order(INJECT.load(inject_body(status="PENDING")), account="a", uid="0f" * 16, now=NOW)
    assert order["order_lines"][0]["unit_price"] == 45000 and order["totals"][0]["total"] == 107150
    assert order["payment_status"] == "PENDING" and order["status"] == "CREATED"
    assert order["metadata"] == {"order_token": "tok-1", "aggregator_order_id": "AGG-1"}
    with pytest.raises(SandboxError) as caught:
        rules.inject_order(INJECT.load(inject_body()), account="a", uid="0f" * 16, now=NOW, duplicate_of="x")
    assert caught.value.status == 409


# --- HTTP ---------------------------------------------------------------------------------

def order_of(client, uid, tenant="default"):
    response = client.get(f"/_sandbox/fire/orders/{uid}", headers={"X-Sandbox-Tenant": tenant})
    return response.get_json()["order"] if response.status_code == 200 else None


def assert_fire_error(response, status, code):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"]["code"] == code and body["status"] == status and body["isArray"] is False
    assert body["traceId"] and body["method"] == response.request.method


@pytest.mark.parametrize("path", [FIRE_LOGIN, "/fire/login"])
def test_login_issues_a_jwt_on_both_paths(client, path):
    headers = {"x-api-key": "pk_test_abcdef", "x-client-channel": "integration", "account": FIRE_ACCOUNT}
    response = client.post(path, json=LOGIN_BODY, headers=headers)
    assert response.status_code == 201
    token = response.get_json()["accessToken"]
    assert token.count(".") == 2 and list(response.get_json()) == ["accessToken"]


@pytest.mark.parametrize("headers, body, status, field", [
    ({"x-client-channel": "integration", "account": "a"}, LOGIN_BODY, 401, "x-api-key"),
    ({"x-api-key": "not-a-fire-key", "x-client-channel": "integration", "account": "a"}, LOGIN_BODY, 401, "x-api-key"),
    ({"x-api-key": "pk_test_abcdef", "x-client-channel": "web", "account": "a"}, LOGIN_BODY, 400, "x-client-channel"),
    ({"x-api-key": "pk_test_abcdef", "x-client-channel": "integration"}, LOGIN_BODY, 400, "account"),
    ({"x-api-key": "pk_test_abcdef", "x-client-channel": "integration", "account": "a"},
     {**LOGIN_BODY, "grant_type": "password"}, 400, "grant_type"),
])
def test_login_refusals_name_the_field(client, headers, body, status, field):
    response = client.post(FIRE_LOGIN, json=body, headers=headers)
    assert_fire_error(response, status, "unauthorized" if status == 401 else "validation_error")
    assert response.get_json()["error"]["field"] == field


def test_deuna_refund_over_http(client):
    response = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json=REFUND_BODY, headers=fire_headers(client))
    body = response.get_json()
    assert response.status_code == 200
    assert (body["status"], body["method"], body["isArray"]) == (200, "POST", False)
    assert body["pathname"] == FIRE_REFUND.format(uid=FIRE_DEUNA).removeprefix("/fire")
    assert (body["data"]["status"], body["data"]["payment_status"]) == ("CANCELED", "REFUNDED")
    assert body["data"]["totals"][0]["total"] == "120.7920"
    assert order_of(client, FIRE_DEUNA)["payment_status"] == "REFUNDED"
    notes = client.get("/_sandbox/notifications").get_json()["notifications"]
    assert [(n["type"], n["payload"]["order_uid"]) for n in notes] == [("order.cancelled", FIRE_DEUNA)]
    refunds = client.get("/_sandbox/fire/refunds").get_json()["refunds"]
    assert [(r["order_uid"], r["outcome"]) for r in refunds] == [(FIRE_DEUNA, "REFUNDED")]


def test_card_refund_cancels_the_payment(client):
    response = client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client))
    assert response.get_json()["data"]["payment_status"] == "CANCELED"


def test_missing_order_token_is_400_and_changes_nothing(client):
    before = order_of(client, FIRE_DEUNA_NO_TOKEN)
    response = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA_NO_TOKEN), json=REFUND_BODY,
                           headers=fire_headers(client))
    assert_fire_error(response, 400, "missing_order_token")
    assert order_of(client, FIRE_DEUNA_NO_TOKEN) == before
    assert client.get("/_sandbox/notifications").get_json()["notifications"] == []
    assert client.get("/_sandbox/fire/refunds").get_json()["refunds"] == []


def test_another_accounts_order_is_404_and_untouched(client):
    response = client.post(FIRE_REFUND.format(uid=FIRE_OTHER_ACCOUNT), json=REFUND_BODY, headers=fire_headers(client))
    assert_fire_error(response, 404, "not_found")
    assert order_of(client, FIRE_OTHER_ACCOUNT)["status"] == "CREATED"


def test_repeated_refund_refunds_once(client):
    headers = fire_headers(client)
    first = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json=REFUND_BODY, headers=headers).get_json()
    second = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json=REFUND_BODY, headers=headers)
    assert second.status_code == 200 and second.get_json()["data"] == first["data"]
    assert len(client.get("/_sandbox/fire/refunds").get_json()["refunds"]) == 1
    assert len(client.get("/_sandbox/notifications").get_json()["notifications"]) == 1


@pytest.mark.parametrize("body, field", [
    ({"vendor_uid": "v"}, "reason"),
    ({"reason": "", "vendor_uid": "v"}, "reason"),
    ({"reason": "r", "vendor_uid": "v", "media": "TV"}, "media"),
    ({"reason": 5, "vendor_uid": "v"}, "reason"),
])
def test_bad_refund_body_is_400_naming_the_field_and_changes_nothing(client, body, field):
    response = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json=body, headers=fire_headers(client))
    assert_fire_error(response, 400, "validation_error")
    assert response.get_json()["error"]["field"] == field
    assert order_of(client, FIRE_DEUNA)["status"] == "CREATED"


def test_body_that_is_not_json_is_400(client):
    response = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), data="reason=x", headers=fire_headers(client),
                           content_type="text/plain")
    assert_fire_error(response, 400, "validation_error")


def test_inject_then_refund_and_duplicate(client):
    headers = fire_headers(client)
    created = client.post(FIRE_INJECT, json=inject_body("AGG-77"), headers=headers)
    assert created.status_code == 201
    data = created.get_json()["data"]
    assert created.get_json()["status"] == 201
    assert (data["status"], data["payment_status"], data["account_uid"]) == ("CREATED", "APPROVED", FIRE_ACCOUNT)
    assert data["order_lines"][0]["unit_price"] == "4.5000" and data["totals"][0]["total"] == "10.7150"
    duplicate = client.post(FIRE_INJECT, json=inject_body("AGG-77"), headers=headers)
    assert_fire_error(duplicate, 409, "duplicate_order")
    refunded = client.post(FIRE_REFUND.format(uid=data["uid"]), json=REFUND_BODY, headers=headers)
    assert refunded.get_json()["data"]["payment_status"] == "REFUNDED"
    # the same orderId under another account is a different order
    other = client.post(FIRE_INJECT, json=inject_body("AGG-77"), headers=fire_headers(client, account="acc-2"))
    assert other.status_code == 201


def test_inject_rejects_float_money(client):
    body = inject_body()
    body["payments"]["totals"][0]["total"] = 10.715
    response = client.post(FIRE_INJECT, json=body, headers=fire_headers(client))
    assert_fire_error(response, 400, "validation_error")
    assert response.get_json()["error"]["field"] == "payments.totals.0.total"


def test_bearer_token_rules(client):
    base = {"x-api-key": "pk_test_abcdef", "x-client-channel": "integration", "account": FIRE_ACCOUNT}
    url = FIRE_REFUND.format(uid=FIRE_CARD)
    missing = client.post(url, json=REFUND_BODY, headers=base)
    assert_fire_error(missing, 401, "unauthorized")
    not_jwt = client.post(url, json=REFUND_BODY, headers={**base, "Authorization": "Bearer abc"})
    assert_fire_error(not_jwt, 401, "unauthorized")
    foreign_jwt = {**base, "Authorization": "Bearer aaaa.bbbb.cccc"}  # well-formed: accepted without --strict-auth
    assert client.post(url, json=REFUND_BODY, headers=foreign_jwt).status_code == 200


def test_issued_tokens_expire_with_the_tenant_clock(client):
    headers = fire_headers(client)
    client.post("/_sandbox/clock/advance", json={"seconds": 3601})
    response = client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=headers)
    assert_fire_error(response, 401, "unauthorized")
    assert "expired" in response.get_json()["error"]["message"]


def test_strict_auth_accepts_only_issued_tokens_and_registered_keys():
    app = tracked_app(strict_auth=True)
    client = app.test_client()
    base = {"x-api-key": "pk_test_abcdef", "x-client-channel": "integration", "account": FIRE_ACCOUNT}
    assert_fire_error(client.post(FIRE_LOGIN, json=LOGIN_BODY, headers=base), 401, "unauthorized")
    client.post("/_sandbox/credentials", json={"provider": "fire", "credential": "pk_test_abcdef", "tenant": "ci-7"})
    headers = fire_headers(client, api_key="pk_test_abcdef")
    foreign = {**headers, "Authorization": "Bearer aaaa.bbbb.cccc"}
    assert_fire_error(client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=foreign),
                      401, "unauthorized")
    assert client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=headers).status_code == 200
    assert order_of(client, FIRE_CARD, tenant="ci-7")["status"] == "CANCELED"
    assert order_of(client, FIRE_CARD)["status"] == "CREATED"


def test_unknown_path_and_method_answer_in_fires_format(client):
    assert_fire_error(client.post("/fire/api/v4/nothing", headers=fire_headers(client)), 404, "not_found")
    response = client.get(FIRE_LOGIN)
    assert_fire_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["pathname"] == "/api/authentication/login"


def test_contract_is_served_with_its_mount(client):
    spec = client.get("/fire/openapi.json").get_json()
    assert spec["servers"] == [{"url": "/fire"}]
    assert "/api/v4/integrations/sales/aggregator/orders/{order_uid}/refund" in spec["paths"]


@pytest.mark.parametrize("scenario, status, payment_status", [
    ("fire.deuna_paid", 200, "REFUNDED"), ("fire.card_paid", 200, "CANCELED"), ("fire.deuna_missing_token", 400, None),
])
def test_each_scenario_leads_to_its_outcome(client, scenario, status, payment_status):
    seeded = client.post(f"/_sandbox/scenarios/{scenario}", json={"seed": 11}).get_json()["orders"][0]
    headers = fire_headers(client, account=seeded["headers"]["account"])
    response = client.post(FIRE_REFUND.format(uid=seeded["order_ref"]), json=REFUND_BODY, headers=headers)
    assert response.status_code == status
    if payment_status:
        assert response.get_json()["data"]["payment_status"] == payment_status
    else:
        assert order_of(client, seeded["order_ref"]) == seeded["order"]


def test_declined_deuna_refund_cancels_but_moves_no_money():
    order = copy.deepcopy(FIXTURE_ORDERS[FIRE_DEUNA])
    order["payment_methods"][0]["refund_decline"] = "processor_declined"
    out = rules.refund_order(order, REFUND_BODY, account=FIRE_ACCOUNT, now=NOW, refund_id="r")
    assert (out.order["status"], out.order["payment_status"]) == ("CANCELED", "CANCELED")
    assert out.refund["refunded"] == [] and out.refund["outcome"] == "CANCELED"
    assert out.refund["declined"] == [{"payment_method_uid": "550e8400-pm-1", "processor": "Deuna",
                                       "currency_code": "USD", "amount": "120.7920",
                                       "decline_code": "processor_declined"}]
    assert out.notification["payment_status"] == "CANCELED"


def test_a_json_body_without_content_type_is_read_as_json(client):
    """seeds/fire.txt gives Content-Type the default application/json."""
    headers = fire_headers(client)
    login = client.post(FIRE_LOGIN, data=json.dumps(LOGIN_BODY), headers={
        k: v for k, v in headers.items() if k != "Authorization"})
    assert login.status_code == 201 and login.request.headers.get("Content-Type") is None
    response = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), data=json.dumps(REFUND_BODY), headers=headers)
    assert response.request.headers.get("Content-Type") is None
    assert response.status_code == 200 and response.get_json()["data"]["payment_status"] == "REFUNDED"
    [refund_entry, login_entry, _] = client.get("/_sandbox/requests").get_json()["requests"]
    assert refund_entry["request"]["body"] == REFUND_BODY  # the journal reads it as JSON too
    assert login_entry["request"]["body"]["client_secret"] != LOGIN_BODY["client_secret"]  # and redacts it


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_under_another_content_type_is_still_400(client, content_type):
    response = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), data=json.dumps(REFUND_BODY),
                           headers=fire_headers(client), content_type=content_type)
    assert_fire_error(response, 400, "validation_error")
    assert order_of(client, FIRE_DEUNA)["status"] == "CREATED"


def test_other_providers_still_need_a_json_content_type(client):
    response = client.post("/purpledot/admin/api/v1/refund", data=json.dumps(
        {"id": "r-1", "order": "5550000000001", "shipping": True}),
        headers={"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "INVALID_REFUND_REQUEST"
