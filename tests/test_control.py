"""The /_sandbox control plane over HTTP, against contracts/control.openapi.yaml (self-checked)."""

from __future__ import annotations

import pytest

import sandbox

from conftest import FIRE_CARD, FIRE_DEUNA, FIRE_REFUND, fire_headers, tracked_app

REFUND_BODY = {"reason": "r", "vendor_uid": "v"}


def error_of(response, status):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]


def test_health(client):
    body = client.get("/_sandbox/health").get_json()
    assert body["status"] == "ok" and body["version"] == sandbox.__version__ and "fire" in body["providers"]


def test_providers_list_mounts_contracts_and_operations(client):
    fire = next(p for p in client.get("/_sandbox/providers").get_json()["providers"] if p["key"] == "fire")
    assert fire["mount"] == "/fire" and fire["contract_url"] == "/fire/openapi.json"
    assert {"operation_id": "refund_order", "method": "POST",
            "path": "/fire/api/v4/integrations/sales/aggregator/orders/{order_uid}/refund"} in fire["operations"]
    assert client.get(fire["contract_url"]).status_code == 200


def test_scenario_catalogue(client):
    items = {s["name"]: s for s in client.get("/_sandbox/scenarios").get_json()["scenarios"]}
    assert {"fire.deuna_paid", "fire.deuna_missing_token", "fire.card_paid"} <= set(items)
    assert "REFUNDED" in items["fire.deuna_paid"]["outcome"]
    assert "account_uid" in items["fire.deuna_paid"]["overridable"]


def test_seeding_returns_the_handles_and_the_same_seed_builds_the_same_orders(client):
    first = client.post("/_sandbox/scenarios/fire.deuna_paid", json={"count": 3, "seed": 42})
    assert first.status_code == 201
    body = first.get_json()
    assert (body["scenario"], body["tenant"], body["seed"]) == ("fire.deuna_paid", "default", 42)
    refs = [o["order_ref"] for o in body["orders"]]
    assert len(set(refs)) == 3
    order = body["orders"][0]
    assert order["headers"] == {"account": "acc-uid-12345"} and order["transaction_refs"] and order["line_item_refs"]
    assert order["order"]["uid"] == order["order_ref"] and order["order"]["metadata"]["order_token"]
    other = tracked_app().test_client()  # another process-like app: same seed, same output
    assert other.post("/_sandbox/scenarios/fire.deuna_paid", json={"count": 3, "seed": 42}).get_json() == body
    assert client.get(f"/_sandbox/fire/orders/{refs[2]}").get_json()["order"] == body["orders"][2]["order"]


def test_seeding_without_a_body_draws_and_reports_a_seed(client):
    body = client.post("/_sandbox/scenarios/fire.card_paid").get_json()
    assert isinstance(body["seed"], int) and len(body["orders"]) == 1


def test_overrides_apply_and_unknown_ones_are_refused(client):
    body = client.post("/_sandbox/scenarios/fire.card_paid",
                       json={"seed": 1, "overrides": {"account_uid": "acc-9"}}).get_json()
    assert body["orders"][0]["headers"] == {"account": "acc-9"}
    assert body["orders"][0]["order"]["account_uid"] == "acc-9"
    bad = client.post("/_sandbox/scenarios/fire.card_paid", json={"overrides": {"status": "CANCELED"}})
    assert error_of(bad, 400)["field"] == "overrides.status"
    assert error_of(client.post("/_sandbox/scenarios/fire.card_paid", json={"overrides": {"uid": 5}}), 400)


@pytest.mark.parametrize("body, field", [({"count": 0}, "count"), ({"count": 101}, "count"),
                                         ({"count": True}, "count"), ({"seed": "x"}, "seed"), ({"extra": 1}, "extra")])
def test_bad_scenario_bodies_are_400(client, body, field):
    assert error_of(client.post("/_sandbox/scenarios/fire.card_paid", json=body), 400)["field"] == field


def test_unknown_scenario_is_404(client):
    assert error_of(client.post("/_sandbox/scenarios/fire.nothing", json={}), 404)["field"] == "name"


def test_non_json_body_is_400(client):
    response = client.post("/_sandbox/scenarios/fire.card_paid", data="count=2", content_type="text/plain")
    assert error_of(response, 400)["field"] == "body"


def test_reset_restores_the_fixtures_for_the_caller_only(client):
    tenant = {"X-Sandbox-Tenant": "qa"}
    client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json=REFUND_BODY, headers=fire_headers(client, tenant="qa"))
    client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client))
    seeded = client.post("/_sandbox/scenarios/fire.card_paid", headers=tenant).get_json()["orders"][0]["order_ref"]
    client.post("/_sandbox/clock/advance", json={"seconds": 60}, headers=tenant)
    assert client.post("/_sandbox/reset", headers=tenant).get_json() == {"tenant": "qa", "reset": True}
    assert client.get(f"/_sandbox/fire/orders/{FIRE_DEUNA}", headers=tenant).get_json()["order"]["status"] == "CREATED"
    assert client.get(f"/_sandbox/fire/orders/{seeded}", headers=tenant).status_code == 404
    assert client.get("/_sandbox/notifications", headers=tenant).get_json()["notifications"] == []
    assert client.get("/_sandbox/fire/refunds", headers=tenant).get_json()["refunds"] == []
    clock = client.post("/_sandbox/clock/advance", json={"seconds": 0}, headers=tenant).get_json()
    assert clock["offset_seconds"] == 0
    # the default tenant was not reset
    assert client.get(f"/_sandbox/fire/orders/{FIRE_CARD}").get_json()["order"]["status"] == "CANCELED"


@pytest.mark.parametrize("method, path", [
    ("POST", "/_sandbox/reset"), ("GET", "/_sandbox/notifications"), ("GET", "/_sandbox/fire/refunds"),
    ("GET", f"/_sandbox/fire/orders/{FIRE_DEUNA}"), ("POST", "/_sandbox/scenarios/fire.card_paid"),
])
def test_invalid_tenant_header_is_400_and_creates_no_tenant(client, method, path):
    before = client.get("/_sandbox/health").get_json()["tenants"]
    response = client.open(path, method=method, headers={"X-Sandbox-Tenant": "../etc"})
    assert error_of(response, 400)["field"] == "X-Sandbox-Tenant"
    assert client.get("/_sandbox/health").get_json()["tenants"] == before


def test_inspection_404s(client):
    assert error_of(client.get("/_sandbox/nope/orders/1"), 404)["field"] == "provider"
    assert error_of(client.get("/_sandbox/fire/orders/nope"), 404)["field"] == "order_ref"
    assert error_of(client.get("/_sandbox/nope/refunds"), 404)
    assert error_of(client.get("/_sandbox/notifications?provider=nope"), 404)


def test_notifications_filter_by_provider(client):
    client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client))
    assert len(client.get("/_sandbox/notifications?provider=fire").get_json()["notifications"]) == 1


def test_registered_credentials_route_to_their_tenant(client):
    created = client.post("/_sandbox/credentials",
                          json={"provider": "fire", "credential": "pk_test_job42key", "tenant": "job-42"})
    assert created.status_code == 201
    assert created.get_json() == {"provider": "fire", "credential": "pk_test_job42key", "tenant": "job-42",
                                  "scopes": None}
    headers = fire_headers(client, api_key="pk_test_job42key")
    assert client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=headers).status_code == 200
    job = {"X-Sandbox-Tenant": "job-42"}
    assert client.get(f"/_sandbox/fire/orders/{FIRE_CARD}", headers=job).get_json()["order"]["status"] == "CANCELED"
    assert client.get(f"/_sandbox/fire/orders/{FIRE_CARD}").get_json()["order"]["status"] == "CREATED"


@pytest.mark.parametrize("body, status, field", [
    ({"provider": "nope", "credential": "c", "tenant": "t"}, 404, "provider"),
    ({"provider": "fire", "credential": "c", "tenant": "a/b"}, 400, "tenant"),
    ({"provider": "fire", "credential": "", "tenant": "t"}, 400, "credential"),
    ({"provider": "fire", "tenant": "t"}, 400, "credential"),
])
def test_bad_credentials_are_refused(client, body, status, field):
    assert error_of(client.post("/_sandbox/credentials", json=body), status)["field"] == field


def test_clock_advances_per_tenant(client):
    body = client.post("/_sandbox/clock/advance", json={"seconds": 90}, headers={"X-Sandbox-Tenant": "t1"}).get_json()
    assert body["tenant"] == "t1" and body["offset_seconds"] == 90
    assert client.post("/_sandbox/clock/advance", json={"seconds": 0}).get_json()["offset_seconds"] == 0
    assert error_of(client.post("/_sandbox/clock/advance", json={"seconds": -1}), 400)["field"] == "seconds"
    assert error_of(client.post("/_sandbox/clock/advance", json={}), 400)["field"] == "seconds"


def test_only_mounts_one_provider_at_the_root():
    client = tracked_app(only="fire").test_client()
    headers = {"x-api-key": "pk_test_abcdef", "x-client-channel": "integration", "account": "acc-uid-12345"}
    token = client.post("/api/authentication/login", json={"client_id": "a", "client_secret": "b",
                                                           "grant_type": "client_credentials"}, headers=headers)
    headers["Authorization"] = f"Bearer {token.get_json()['accessToken']}"
    refund = client.post(f"/api/v4/integrations/sales/aggregator/orders/{FIRE_DEUNA}/refund", json=REFUND_BODY,
                         headers=headers)
    assert refund.status_code == 200
    assert refund.get_json()["pathname"] == f"/api/v4/integrations/sales/aggregator/orders/{FIRE_DEUNA}/refund"
    fire = client.get("/_sandbox/providers").get_json()["providers"][0]
    assert fire["mount"] == "/" and fire["contract_url"] == "/openapi.json"
    assert client.get("/openapi.json").get_json()["servers"] == [{"url": "/"}]
    missing = client.post("/nothing")  # unknown paths answer in the mounted provider's format
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert "traceId" in missing.get_json()


def test_paths_outside_every_provider_answer_in_the_sandbox_format(client):
    assert error_of(client.get("/nowhere"), 404)["code"] == "not_found"
