"""Fault injection over HTTP: status faults in each provider's format, delays, `times`, seeded
probability, tenant isolation, and (on a live server) dropped connections and the lost
response after a commit, retried with the provider's idempotency key."""

from __future__ import annotations

import http.client
import json

import pytest

from conftest import FIRE_CARD, FIRE_REFUND, fire_headers
from live_server import Server, running

STORES = ("memory", "redis")  # tests that take a client or app run on both stores (conftest)
PD_URL, PD_TOKEN = "/purpledot/admin/api/v1/refund", {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}
NUWEB_REFUND = "/nuweb/v1/orders/refund"
PD_BODY = {"id": "r-1", "order": "5550000000001", "shipping": True}


def nuweb_auth(client) -> dict[str, str]:
    token = client.post("/nuweb/v1/login", json={"email": "e@x.io", "password": "p", "device_name": "t"}).get_json()
    return {"Authorization": f"Bearer {token['token']}"}


def add(client, tenant: str | None = None, **rule):
    response = client.post("/_sandbox/faults", json=rule, headers={"X-Sandbox-Tenant": tenant} if tenant else {})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_status_faults_answer_in_each_providers_format(client):
    add(client, provider="purpledot", operation="refund", status=503)
    add(client, provider="nuweb", operation="refund_order", status=422)
    add(client, provider="fire", operation="refund_order", status=429)
    pd = client.post(PD_URL, json=PD_BODY, headers=PD_TOKEN)
    assert pd.status_code == 503 and pd.get_json()["meta"] == {"success": False}
    nuweb = client.post(NUWEB_REFUND, json={"orderId": 1001}, headers=nuweb_auth(client))
    assert nuweb.status_code == 422 and nuweb.get_json()["message"] == "The given data was invalid."
    fire = client.post(FIRE_REFUND.format(uid=FIRE_CARD), json={"reason": "r", "vendor_uid": "v"},
                       headers=fire_headers(client))
    assert fire.status_code == 429 and fire.get_json()["error"]["code"] == "rate_limited"
    # an injected error changes nothing
    assert client.get("/_sandbox/purpledot/refunds").get_json()["refunds"] == []


def call_provider(client, provider: str):
    """One refund call to `provider` (Purple Dot or Nuweb)."""
    if provider == "purpledot":
        return client.post(PD_URL, json=PD_BODY, headers=PD_TOKEN)
    return client.post(NUWEB_REFUND, json={"orderId": 1002, "uuid": "same"}, headers=nuweb_auth(client))


@pytest.mark.parametrize("provider", ["purpledot", "nuweb"])
def test_times_expire_and_the_listing_shows_what_remains(client, provider):
    refund_op = {"purpledot": "refund", "nuweb": "refund_order"}[provider]
    rule = add(client, provider=provider, operation=refund_op, status=500, times=2)
    assert rule["remaining"] == 2 and rule["fired"] == 0
    assert call_provider(client, provider).status_code == 500
    [listed] = client.get("/_sandbox/faults").get_json()["faults"]
    assert (listed["remaining"], listed["fired"]) == (1, 1)
    assert call_provider(client, provider).status_code == 500
    assert client.get("/_sandbox/faults").get_json()["faults"] == []
    assert call_provider(client, provider).status_code == 200


def test_order_ref_narrows_the_rule(client):
    add(client, provider="purpledot", order_ref="5550000000001", status=503)
    assert client.post(PD_URL, json={**PD_BODY, "order": "5550000000002"}, headers=PD_TOKEN).status_code == 500
    assert client.post(PD_URL, json=PD_BODY, headers=PD_TOKEN).status_code == 503


@pytest.mark.parametrize("provider", ["purpledot", "nuweb"])
def test_delay_is_applied_and_journaled(client, provider):
    nuweb_login = nuweb_auth(client) if provider == "nuweb" else None  # before the rule: login is an operation too
    add(client, provider=provider, delay_ms=150, times=1)
    if nuweb_login:
        response = client.post(NUWEB_REFUND, json={"orderId": 1002}, headers=nuweb_login)
    else:
        response = call_provider(client, provider)
    assert response.status_code == 200
    [entry] = [e for e in client.get(f"/_sandbox/requests?provider={provider}").get_json()["requests"] if e["fault"]]
    assert entry["fault"] == "delay" and entry["duration_ms"] >= 150


def test_probability_with_a_seed_repeats_exactly(client):
    patterns = []
    for tenant in ("p1", "p2"):
        add(client, tenant=tenant, provider="purpledot", status=503, probability=0.5, seed=7)
        statuses = [client.post(PD_URL, json={**PD_BODY, "id": f"k{n}"},
                                headers={**PD_TOKEN, "X-Sandbox-Tenant": tenant}).status_code for n in range(12)]
        patterns.append(["fault" if s == 503 else "ok" for s in statuses])
    assert patterns[0] == patterns[1] and "fault" in patterns[0] and "ok" in patterns[0]


def test_faults_belong_to_their_tenant_and_reset_clears_them(client):
    add(client, tenant="a", provider="purpledot", status=503)
    assert client.post(PD_URL, json=PD_BODY, headers={**PD_TOKEN, "X-Sandbox-Tenant": "b"}).status_code == 200
    assert client.post(PD_URL, json=PD_BODY, headers={**PD_TOKEN, "X-Sandbox-Tenant": "a"}).status_code == 503
    assert client.get("/_sandbox/faults", headers={"X-Sandbox-Tenant": "b"}).get_json()["faults"] == []
    client.post("/_sandbox/reset", headers={"X-Sandbox-Tenant": "a"})
    assert client.get("/_sandbox/faults", headers={"X-Sandbox-Tenant": "a"}).get_json()["faults"] == []


def test_delete_clears_every_rule(client):
    add(client, status=500)
    add(client, delay_ms=5)
    assert client.delete("/_sandbox/faults").get_json() == {"tenant": "default", "deleted": 2}
    assert client.post(PD_URL, json=PD_BODY, headers=PD_TOKEN).status_code == 200


@pytest.mark.parametrize("rule, field", [
    ({}, "status"), ({"status": 200}, "status"), ({"provider": "nope", "status": 500}, "provider"),
    ({"provider": "fire", "operation": "refund", "status": 500}, "operation"),
    ({"drop_connection": True, "status": 500}, "drop_connection"), ({"delay_ms": -1}, "delay_ms"),
    ({"status": 500, "probability": 1.5}, "probability"), ({"status": 500, "extra": 1}, "extra"),
])
def test_bad_rules_are_400(client, rule, field):
    response = client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert client.get("/_sandbox/faults").get_json()["faults"] == []


# --- live server: connections closed without an answer --------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running(tmp_path_factory.mktemp("faults")) as server:
        yield server


def raw_post(server: Server, path: str, body: dict, headers: dict, timeout: float = 5.0):
    """POST over a plain socket: (status, JSON) or the exception a lost answer raises."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_drop_connection_closes_without_an_answer_and_changes_nothing(live):
    live.request("POST", "/_sandbox/reset")
    live.request("POST", "/_sandbox/faults", {"provider": "purpledot", "drop_connection": True, "times": 1})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw_post(live, PD_URL, PD_BODY, PD_TOKEN)
    assert live.request("GET", "/_sandbox/purpledot/refunds")[1]["refunds"] == []
    [entry] = live.request("GET", "/_sandbox/requests?provider=purpledot")[1]["requests"]
    assert entry["answered"] is False and entry["fault"] == "drop_connection"


@pytest.mark.parametrize("hold_ms", [300, 0])  # 0: closed at once after the commit, still unanswered
def test_purple_dot_lost_response_then_retry_finds_the_committed_refund(live, hold_ms):
    live.request("POST", "/_sandbox/reset")
    live.request("POST", "/_sandbox/faults", {"provider": "purpledot", "operation": "refund",
                                              "timeout_after_commit": True, "hold_ms": hold_ms, "times": 1})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw_post(live, PD_URL, PD_BODY, PD_TOKEN)
    status, body = raw_post(live, PD_URL, PD_BODY, PD_TOKEN)  # the client's retry, same id and payload
    assert status == 200 and body["data"]["refunded"] == {"amount": "5.00", "currency": "USD"}
    assert len(live.request("GET", "/_sandbox/purpledot/refunds")[1]["refunds"]) == 1


def test_nuweb_lost_response_then_retry_with_the_uuid(live):
    live.request("POST", "/_sandbox/reset")
    token = live.request("POST", "/nuweb/v1/login", {"email": "e@x.io", "password": "p", "device_name": "t"})[1]
    auth = {"Authorization": f"Bearer {token['token']}"}
    live.request("POST", "/_sandbox/faults", {"provider": "nuweb", "operation": "refund_order",
                                              "timeout_after_commit": True, "hold_ms": 300, "times": 1})
    body = {"orderId": 1001, "uuid": "retry-me-1"}
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw_post(live, NUWEB_REFUND, body, auth)
    status, answer = raw_post(live, NUWEB_REFUND, body, auth)
    assert status == 200 and answer["refundValue"] == 9800
    assert [t["total"] for t in answer["order"]["transactions"] if t["total"] < 0] == [-9800]
    assert len(live.request("GET", "/_sandbox/nuweb/refunds")[1]["refunds"]) == 1
