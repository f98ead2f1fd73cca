"""Seeded handles and `--only` over HTTP: what a handle hands out is what the next request needs,
and a sandbox started with `--only` lists, serves and seeds only what it mounts."""

from __future__ import annotations

from conftest import tracked_app


def seed(client, name, tenant=None, **body):
    headers = {"X-Sandbox-Tenant": tenant} if tenant else {}
    response = client.post(f"/_sandbox/scenarios/{name}", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["orders"][0]


def test_a_handle_of_another_tenant_carries_it_and_its_headers_reach_the_order(client):
    order = seed(client, "shoplazza.paid", tenant="qa", seed=3)
    assert order["headers"] == {"X-Sandbox-Tenant": "qa"}
    token = {"access-token": "sandbox-token-0123456789abcdef0123"}
    refund = client.post(f"/shoplazza/openapi/2022-01/orders/{order['order_ref']}/refund",
                         headers={**token, **order["headers"]})
    assert refund.status_code == 200, refund.get_json()
    # without the handle's headers the same request lands in `default`, which does not hold the order
    assert client.post(f"/shoplazza/openapi/2022-01/orders/{order['order_ref']}/refund", headers=token).status_code \
        == 404


def test_a_fire_handle_keeps_its_account_beside_the_tenant(client):
    order = seed(client, "fire.deuna_paid", tenant="qa", seed=3)
    assert order["headers"] == {"account": order["order"]["account_uid"], "X-Sandbox-Tenant": "qa"}


def test_a_default_tenant_handle_has_no_tenant_header(client):
    assert seed(client, "shoplazza.paid", seed=3)["headers"] == {}
    assert seed(client, "fire.card_paid", seed=3)["headers"].keys() == {"account"}


def test_nuweb_hands_out_the_integer_order_id_its_refund_takes(client):
    order = seed(client, "nuweb.paid_online", seed=4)
    assert isinstance(order["order_ref"], int) and order["order_ref"] == order["order"]["id"]
    token = client.post("/nuweb/v1/login", json={"email": "a@example.com", "password": "x", "device_name": "t"})
    refund = client.post("/nuweb/v1/orders/refund", json={"orderId": order["order_ref"]},
                         headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert refund.status_code == 200, refund.get_json()
    assert client.get(f"/_sandbox/nuweb/orders/{order['order_ref']}").status_code == 200


def test_only_lists_serves_and_seeds_only_what_it_mounts():
    app = tracked_app(only="nuweb")
    client = app.test_client()
    assert client.get("/_sandbox/health").get_json()["providers"] == ["nuweb"]
    [provider] = client.get("/_sandbox/providers").get_json()["providers"]
    assert provider["key"] == "nuweb" and provider["contract_url"] == "/openapi.json"
    assert client.get(provider["contract_url"]).status_code == 200
    assert {s["provider"] for s in client.get("/_sandbox/scenarios").get_json()["scenarios"]} == {"nuweb"}
    assert client.get("/fire/openapi.json").status_code == 404

    refused = client.post("/_sandbox/scenarios/fire.deuna_paid")
    assert refused.status_code == 404
    error = refused.get_json()["error"]
    assert error["field"] == "name"
    assert "'fire.deuna_paid' is not served here: this sandbox serves only nuweb (--only nuweb)" in error["message"]
    unknown = client.post("/_sandbox/scenarios/nuweb.no_such_thing").get_json()["error"]
    assert unknown["message"].startswith("unknown scenario 'nuweb.no_such_thing'")
    assert client.post("/_sandbox/scenarios/nuweb.paid_online").status_code == 201
    assert client.get("/_sandbox/fire/refunds").status_code == 404
    app.extensions["refund_sandbox"].store.close()
