"""Refunds that fail, for every provider, each reached the way a client would: seed the
scenario over HTTP (`POST /_sandbox/scenarios/<name>`), send the refund, then check the
answer, that the app's self-check validated it against the contract, and the stored state."""

from __future__ import annotations

import pytest

from conftest import FIRE_REFUND, fire_headers


def seed(client, scenario: str, **body) -> dict:
    response = client.post(f"/_sandbox/scenarios/{scenario}", json={"seed": 5, **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["orders"][0]


def assert_on_contract(app, provider: str, operation: str, status: int) -> None:
    """The answer was checked against the contract by the app's self-check, and it matched."""
    check = app.extensions["refund_sandbox"].selfcheck
    assert not check.mismatches, check.mismatches
    assert (provider, operation, status) in check.seen


def stored(client, provider: str, ref: str) -> dict:
    return client.get(f"/_sandbox/{provider}/orders/{ref}").get_json()["order"]


def refunds(client, provider: str) -> list[dict]:
    return client.get(f"/_sandbox/{provider}/refunds").get_json()["refunds"]


def notifications(client) -> list[dict]:
    return client.get("/_sandbox/notifications").get_json()["notifications"]


# ------------------------------------------------------------------------------------- Fire

def test_fire_declined_deuna_refund_cancels_the_order_but_not_to_refunded(app, client):
    order = seed(client, "fire.deuna_declined")
    assert "refund_decline" not in str(order["order"]), "the processor's side stays out of Fire's shape"
    response = client.post(FIRE_REFUND.format(uid=order["order_ref"]), json={"reason": "r", "vendor_uid": "v"},
                           headers=fire_headers(client, account=order["headers"]["account"]))
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert (data["status"], data["payment_status"]) == ("CANCELED", "CANCELED")
    assert_on_contract(app, "fire", "refund_order", 200)
    assert (stored(client, "fire", order["order_ref"])["payment_status"]) == "CANCELED"
    [record] = refunds(client, "fire")
    assert record["refunded"] == [] and record["outcome"] == "CANCELED"
    assert [(d["processor"], d["decline_code"]) for d in record["declined"]] == [("Deuna", "processor_declined")]
    assert [(n["type"], n["payload"]["payment_status"]) for n in notifications(client)] == [
        ("order.cancelled", "CANCELED")]


@pytest.mark.parametrize("scenario, payment_status", [("fire.deuna_paid", "REFUNDED"), ("fire.card_paid", "CANCELED")])
def test_fire_other_scenarios_record_no_decline(client, scenario, payment_status):
    order = seed(client, scenario)
    response = client.post(FIRE_REFUND.format(uid=order["order_ref"]), json={"reason": "r", "vendor_uid": "v"},
                           headers=fire_headers(client, account=order["headers"]["account"]))
    assert response.get_json()["data"]["payment_status"] == payment_status
    assert refunds(client, "fire")[0]["declined"] == []


# ------------------------------------------------------------------------------------ Nuweb

NUWEB_REFUND = "/nuweb/v1/orders/refund"
GATEWAY_REFUSED = {"message": "The payment gateway refused the refund.", "errors": {"online": [
    "The payment gateway refused the refund (do_not_honor). Send online=false to record an offline refund instead."]}}


def nuweb_auth(client) -> dict[str, str]:
    token = client.post("/nuweb/v1/login", json={"email": "qa@example.com", "password": "x", "device_name": "ci"})
    return {"Authorization": f"Bearer {token.get_json()['token']}"}


def nuweb_order(client, auth, order_id: int) -> dict:
    return client.get("/nuweb/v1/order", query_string={"orderId": order_id}, headers=auth).get_json()


def test_nuweb_gateway_refuses_an_online_refund_and_keeps_nothing(app, client):
    order_id = int(seed(client, "nuweb.gateway_refused")["order_ref"])
    auth = nuweb_auth(client)
    before = nuweb_order(client, auth, order_id)
    body = {"orderId": order_id, "online": True, "uuid": "retry-me-0001"}
    refused = client.post(NUWEB_REFUND, json=body, headers=auth)
    assert (refused.status_code, refused.get_json()) == (422, GATEWAY_REFUSED)
    assert_on_contract(app, "nuweb", "refund_order", 422)
    assert nuweb_order(client, auth, order_id) == before
    assert refunds(client, "nuweb") == [] and notifications(client) == []
    # the uuid was not kept: the same uuid, offline, refunds
    offline = client.post(NUWEB_REFUND, json={**body, "online": False}, headers=auth)
    assert offline.status_code == 200 and offline.get_json()["refundValue"] == before["total"]
    [back] = [t for t in offline.get_json()["order"]["transactions"] if t["total"] < 0]
    assert (back["metadata"]["online"], back["metadata"]["uuid"], back["paymentGateway"]) == (
        False, "retry-me-0001", None)
    assert client.post(NUWEB_REFUND, json=body, headers=auth).get_json() == offline.get_json(), "now the key replays"


@pytest.mark.parametrize("body, balance", [({"type": "balance_refund", "online": True}, True),
                                           ({"type": "cancellation", "online": True}, False)])
def test_nuweb_refused_gateway_does_not_stop_what_never_reaches_it(client, body, balance):
    order_id = int(seed(client, "nuweb.gateway_refused")["order_ref"])
    response = client.post(NUWEB_REFUND, json={"orderId": order_id, **body}, headers=nuweb_auth(client))
    assert response.status_code == 200
    customer = response.get_json()["order"]["customer"]
    assert (customer["balance"] > 0) is balance


# ---------------------------------------------------------------------------- Next Commerce

NC_TOKEN = {"Authorization": "Bearer " + "f1e2d3c4b5" * 3}
GATEWAY_ERROR = {"detail": "Payment gateway error: the refund could not be processed. No refund was recorded."}


def nc_url(number: str, suffix: str = "refund/") -> str:
    return f"/nextcommerce/api/admin/orders/{number}/{suffix}"


def nc_refs(seeded: dict) -> tuple[str, int, int]:
    """The order number, its first line and its debit transaction."""
    return seeded["order_ref"], int(seeded["line_item_refs"][0]), int(seeded["transaction_refs"][0])


def nc_order(client, number: str) -> dict:
    return client.get(nc_url(number, ""), headers=NC_TOKEN).get_json()


def test_nextcommerce_failed_transaction_refunds_the_goods_but_no_money(app, client):
    seeded = seed(client, "nextcommerce.transaction_failed")
    number, line_id, debit_id = nc_refs(seeded)
    before = nc_order(client, number)
    assert "sandbox" not in before and "refund_gateway" not in str(seeded["order"])
    unit = next(x["price_incl_tax"] for x in before["lines"] if x["id"] == line_id)
    body = {"refund_lines": [{"line_id": line_id, "quantity": 1, "restock_type": "return"}],
            "transactions": [{"id": debit_id, "amount": unit}]}
    response = client.post(nc_url(number), json=body, headers=NC_TOKEN)
    assert response.status_code == 200
    refund = response.get_json()
    assert_on_contract(app, "nextcommerce", "refund_order", 200)
    [failed] = refund["transactions"]
    assert (failed["status"], failed["response_code"], failed["amount"], failed["parent_id"]) == (
        "failed", 300, unit, debit_id)
    assert refund["total_refund_amount"] == "0.00" and refund["adjustments"] == []
    assert refund["total_return_incl_tax"] == unit and refund["refund_line_items"][0]["quantity"] == 1
    after = nc_order(client, number)
    assert after["payment_status"] == before["payment_status"] == "paid"
    assert [x["current_quantity"] for x in after["lines"]] == [before["lines"][0]["current_quantity"] - 1,
                                                              before["lines"][1]["current_quantity"]]
    calc = client.post(nc_url(number, "refund/calculate/"), json={"refund_shipping": {"full_refund": True}},
                       headers=NC_TOKEN).get_json()
    assert calc["transactions"][0]["refundable_amount"] == before["total_incl_tax"], "the money is still refundable"
    # a later refund of the money alone goes through
    retry = client.post(nc_url(number), json={"transactions": [{"id": debit_id, "amount": unit}]}, headers=NC_TOKEN)
    assert retry.status_code == 200
    assert [(t["status"], t["response_code"]) for t in retry.get_json()["transactions"]] == [("succeeded", 100)]
    assert retry.get_json()["total_refund_amount"] == unit
    assert nc_order(client, number)["payment_status"] == "partially_refunded"


def test_nextcommerce_gateway_error_is_502_and_records_nothing(app, client):
    seeded = seed(client, "nextcommerce.gateway_error")
    number, line_id, debit_id = nc_refs(seeded)
    before = nc_order(client, number)
    body = {"refund_lines": [{"line_id": line_id, "quantity": 1, "restock_type": "return"}],
            "transactions": [{"id": debit_id, "amount": "1.00"}]}
    response = client.post(nc_url(number), json=body, headers=NC_TOKEN)
    assert (response.status_code, response.get_json()) == (502, GATEWAY_ERROR)
    assert_on_contract(app, "nextcommerce", "refund_order", 502)
    assert nc_order(client, number) == before
    assert refunds(client, "nextcommerce") == [] and notifications(client) == []
    # what never reaches the gateway still works
    assert client.post(nc_url(number, "refund/calculate/"), json={"refund_lines": body["refund_lines"]},
                       headers=NC_TOKEN).status_code == 200
    goods_only = client.post(nc_url(number), json={**body, "transactions": []}, headers=NC_TOKEN)
    assert goods_only.status_code == 200 and goods_only.get_json()["total_refund_amount"] == "0.00"


# -------------------------------------------------------------------------------- Shoplazza

SPZ_TOKEN = {"access-token": "qa-token-0123456789abcdef0123456789"}


def spz_refund(client, order_id: str):
    return client.post(f"/shoplazza/openapi/2022-01/orders/{order_id}/refund", headers=SPZ_TOKEN)


def test_shoplazza_store_not_active_is_400_and_changes_nothing(app, client):
    order_id = seed(client, "shoplazza.store_inactive")["order_ref"]
    before = stored(client, "shoplazza", order_id)
    response = spz_refund(client, order_id)
    assert (response.status_code, response.get_json()) == (400, {"error": "store is not active"})
    assert_on_contract(app, "shoplazza", "refund_order", 400)
    assert stored(client, "shoplazza", order_id) == before and refunds(client, "shoplazza") == []
    read = client.get(f"/shoplazza/openapi/2022-01/orders/{order_id}", headers=SPZ_TOKEN)
    assert read.status_code == 200 and "store_active" not in str(read.get_json())
    other = seed(client, "shoplazza.paid", seed=6)["order_ref"]  # the tenant's other orders keep working
    assert spz_refund(client, other).get_json()["status"] == "finished"


def test_shoplazza_refund_goes_pending_then_fails(app, client):
    order_id = seed(client, "shoplazza.refund_failed")["order_ref"]
    started = spz_refund(client, order_id)
    assert (started.status_code, started.get_json()["status"]) == (200, "pending")
    assert_on_contract(app, "shoplazza", "refund_order", 200)
    client.post("/_sandbox/clock/advance", json={"seconds": 300})
    order = client.get(f"/shoplazza/openapi/2022-01/orders/{order_id}", headers=SPZ_TOKEN).get_json()["order"]
    assert (order["financial_status"], order["refund_status"], order["total_refund_price"]) == (
        "refund_failed", "failed", "0.00")
    [record] = refunds(client, "shoplazza")
    assert (record["status"], record["fail_reason"]) == ("failed", "The payment provider declined the refund.")
    retry = spz_refund(client, order_id)  # a failed refund may be tried again, numbered with the next n
    assert retry.status_code == 200 and retry.get_json()["number"].endswith("-S2")


# ------------------------------------------------------------------------------- Purple Dot

PD_HEADERS = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}


@pytest.mark.parametrize("scenario, status, code", [
    ("purpledot.mixed_checkout_preorder", 500, "REFUND_FAILED"),
    ("purpledot.refund_declined", 500, "REFUND_FAILED"),
    ("purpledot.multi_preorder", 501, "MULTIPLE_PRE_ORDERS"),
])
def test_purpledot_failed_refunds_change_nothing_and_keep_no_key(app, client, scenario, status, code):
    seeded = seed(client, scenario)
    before = stored(client, "purpledot", seeded["order_ref"])
    body = {"id": "qa-1", "order": seeded["order_ref"], "line_items": [{"id": seeded["line_item_refs"][0],
                                                                        "quantity": 1}]}
    response = client.post("/purpledot/admin/api/v1/refund", json=body, headers=PD_HEADERS)
    assert response.status_code == status
    assert response.get_json()["meta"] == {"success": False} and response.get_json()["error"]["code"] == code
    assert_on_contract(app, "purpledot", "refund", status)
    assert stored(client, "purpledot", seeded["order_ref"]) == before and refunds(client, "purpledot") == []
    again = client.post("/purpledot/admin/api/v1/refund", json=body, headers=PD_HEADERS)
    assert again.status_code == status, "nothing was stored under the key: the same failure again"
