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
