"""The shared store across processes: two apps on one Redis act as one sandbox.

Two `create_app` instances in this process share nothing but the Redis they point at, so as
far as state goes they are two processes (every lock, counter and table of theirs is their
own). Threads send conflicting refunds, idempotent replays and faulted calls through both at
once; each transaction is held at its commit until the gate breaks, so without the lock in
Redis both apps' racers would read before either writes. Then: the store going away mid-run
(503 in the provider's format, nothing written, served again once Redis is back without a
restart).
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from racing import THREADS, race
from redis_server import RedisServer

from conftest import FIRE_DEUNA, FIRE_REFUND, fire_headers, tracked_app

PD_URL, PD_TOKEN = "/purpledot/admin/api/v1/refund", {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}
NUWEB_LOGIN = {"email": "e@x.io", "password": "p", "device_name": "t"}


@pytest.fixture
def pair(redis_server):
    """Two apps ("processes") on one freshly emptied Redis."""
    redis_server.flush()
    return [tracked_app(store=redis_server.url), tracked_app(store=redis_server.url)]


def nuweb_auth(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.post('/nuweb/v1/login', json=NUWEB_LOGIN).get_json()['token']}"}


def test_conflicting_refunds_through_two_processes_never_over_refund(pair):
    auth = nuweb_auth(pair[0].test_client())  # a token issued by one process is good in the other
    answers = race(pair, lambda c, n: c.post("/nuweb/v1/orders/refund", json={"orderId": 1002, "uuid": f"u{n}"},
                                             headers=auth))
    assert sorted(body["refundValue"] for _, body in answers) == [0] * (THREADS - 1) + [10001]
    for app in pair:
        order = app.test_client().get("/nuweb/v1/order?orderId=1002", headers=auth).get_json()
        assert sum(-t["total"] for t in order["transactions"] if t["total"] < 0) == 10001


def test_one_idempotency_key_through_two_processes_is_one_refund_with_identical_answers(pair):
    answers = race(pair, lambda c, n: c.post(PD_URL, json={"id": "same", "order": "5550000000001", "shipping": True},
                                             headers=PD_TOKEN))
    assert {s for s, _ in answers} == {200} and len({json.dumps(b, sort_keys=True) for _, b in answers}) == 1
    for app in pair:
        assert len(app.test_client().get("/_sandbox/purpledot/refunds").get_json()["refunds"]) == 1


def test_a_fault_with_times_1_fires_once_in_the_fleet(pair):
    a = pair[0]
    rule = {"provider": "purpledot", "operation": "refund", "status": 503, "times": 1}
    assert a.test_client().post("/_sandbox/faults", json=rule).status_code == 201
    answers = race(pair, lambda c, n: c.post(PD_URL, json={"id": f"k{n}", "order": "5550000000001",
                                                           "line_items": [{"id": "14440000000011", "quantity": 1}]},
                                             headers=PD_TOKEN))
    assert sorted(s for s, _ in answers).count(503) == 1
    for app in pair:
        assert app.test_client().get("/_sandbox/faults").get_json()["faults"] == []


def test_reset_clocks_journal_credentials_and_webhooks_are_one_for_both(pair):
    a, b = (app.test_client() for app in pair)
    headers = fire_headers(a, tenant="t1")
    assert a.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json={"reason": "r", "vendor_uid": "v"},
                  headers=headers).status_code == 200
    seen_by_b = b.get(f"/_sandbox/fire/orders/{FIRE_DEUNA}", headers={"X-Sandbox-Tenant": "t1"}).get_json()
    assert seen_by_b["order"]["status"] == "CANCELED"
    assert len(b.get("/_sandbox/notifications", headers={"X-Sandbox-Tenant": "t1"}).get_json()["notifications"]) == 1
    assert b.get("/_sandbox/requests?provider=fire", headers={"X-Sandbox-Tenant": "t1"}).get_json()["total"] == 2

    moved = a.post("/_sandbox/clock/advance", json={"seconds": 3600}, headers={"X-Sandbox-Tenant": "t1"})
    also = b.post("/_sandbox/clock/advance", json={"seconds": 60}, headers={"X-Sandbox-Tenant": "t1"})
    assert (moved.get_json()["offset_seconds"], also.get_json()["offset_seconds"]) == (3600, 3660)

    assert b.post("/_sandbox/webhooks", json={"url": "http://127.0.0.1:9/hook"},
                  headers={"X-Sandbox-Tenant": "t1"}).status_code == 201
    assert a.get("/_sandbox/webhooks", headers={"X-Sandbox-Tenant": "t1"}).get_json()["url"] == "http://127.0.0.1:9/hook"
    token = "registered-in-b-0123456789"
    assert b.post("/_sandbox/credentials", json={"provider": "purpledot", "credential": token, "tenant": "t2",
                                                 "scopes": None}).status_code == 201
    refund = a.post(PD_URL, json={"id": "r", "order": "5550000000001", "shipping": True},
                    headers={"X-Purple-Dot-Access-Token": token})
    assert refund.status_code == 200 and refund.headers["X-Sandbox-Tenant"] == "t2"

    assert b.post("/_sandbox/reset", headers={"X-Sandbox-Tenant": "t1"}).status_code == 200
    after = a.get(f"/_sandbox/fire/orders/{FIRE_DEUNA}", headers={"X-Sandbox-Tenant": "t1"}).get_json()
    assert after["order"]["status"] == "CREATED"
    assert a.get("/_sandbox/notifications", headers={"X-Sandbox-Tenant": "t1"}).get_json()["notifications"] == []
    assert a.get("/_sandbox/requests", headers={"X-Sandbox-Tenant": "t1"}).get_json()["total"] == 0
    cleared = a.post("/_sandbox/clock/advance", json={"seconds": 1}, headers={"X-Sandbox-Tenant": "t1"})
    assert cleared.get_json()["offset_seconds"] == 1


# --- the store going away ----------------------------------------------------------------------


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, with an append-only file, so it can be stopped and brought back."""
    server = RedisServer(dir=tmp_path).start()
    yield server
    server.stop()


#: One call of every control-plane operation that needs the store (each declares StoreUnavailable).
CONTROL_CALLS = [
    ("GET", "/_sandbox/health", None), ("POST", "/_sandbox/scenarios/purpledot.preorder", {}),
    ("POST", "/_sandbox/reset", None), ("GET", "/_sandbox/purpledot/orders/5550000000001", None),
    ("GET", "/_sandbox/purpledot/refunds", None), ("GET", "/_sandbox/notifications", None),
    ("POST", "/_sandbox/credentials", {"provider": "purpledot", "credential": "c-0123456789", "tenant": "t",
                                       "scopes": None}),
    ("POST", "/_sandbox/clock/advance", {"seconds": 5}), ("GET", "/_sandbox/requests", None),
    ("POST", "/_sandbox/faults", {"status": 500}), ("GET", "/_sandbox/faults", None),
    ("DELETE", "/_sandbox/faults", None), ("POST", "/_sandbox/webhooks", {"url": "http://127.0.0.1:9/hook"}),
    ("GET", "/_sandbox/webhooks", None), ("DELETE", "/_sandbox/webhooks", None),
]


def test_redis_down_mid_run_is_a_503_in_the_providers_format_and_recovery_needs_no_restart(own_redis):
    app = tracked_app(store=own_redis.url)
    client, store = app.test_client(), app.extensions["refund_sandbox"].store
    store.lock_ms = 1000  # the lock the cut-off commit held expires soon after Redis is back
    body = {"id": "first", "order": "5550000000001", "line_items": [{"id": "14440000000011", "quantity": 1}]}
    assert client.post(PD_URL, json=body, headers=PD_TOKEN).status_code == 200

    transaction = store.transaction

    @contextmanager
    def redis_stops_at_commit(tenant: str, provider: str) -> Iterator:
        with transaction(tenant, provider) as tx:
            yield tx
            own_redis.stop()  # everything read and staged; the commit finds no Redis

    store.transaction = redis_stops_at_commit
    cut = client.post(PD_URL, json={**body, "id": "second"}, headers=PD_TOKEN)
    del store.transaction
    assert cut.status_code == 503
    assert cut.get_json() == {"meta": {"success": False}, "error": {
        "code": "SERVICE_UNAVAILABLE", "message": "the service is temporarily unavailable; retry later"}}
    assert own_redis.url in cut.headers["X-Sandbox-Error-Detail"]
    down = client.post("/nuweb/v1/login", json=NUWEB_LOGIN)  # while it is down: every provider's own format
    assert down.status_code == 503 and down.get_json() == {"message": "Service Unavailable"}

    for method, path, payload in CONTROL_CALLS:  # the control plane too, in its own format
        answer = client.open(path, method=method, json=payload)
        assert answer.status_code == 503, (method, path)
        assert answer.get_json()["error"]["code"] == "store_unavailable" and answer.headers["Retry-After"] == "1"

    own_redis.start()  # same port, same append-only file
    refunds = client.get("/_sandbox/purpledot/refunds").get_json()["refunds"]
    assert [r["id"] for r in refunds] == ["first"]  # nothing of the cut-off refund was written
    again = client.post(PD_URL, json={**body, "id": "second"}, headers=PD_TOKEN)
    assert again.status_code == 200, again.get_json()
    assert [r["id"] for r in client.get("/_sandbox/purpledot/refunds").get_json()["refunds"]] == ["second", "first"]


def test_a_stalled_store_fails_the_request_in_about_a_second_and_never_applies_a_write_twice(own_redis):
    app = tracked_app(store=own_redis.url)
    client, tenant = app.test_client(), {"X-Sandbox-Tenant": "stall"}
    assert client.post("/_sandbox/clock/advance", json={"seconds": 100}, headers=tenant).status_code == 200
    os.kill(own_redis.proc.pid, signal.SIGSTOP)  # Redis alive but silent: a pause, a partition
    try:
        start = time.monotonic()
        stalled = client.post("/_sandbox/clock/advance", json={"seconds": 100}, headers=tenant)
        waited = time.monotonic() - start
        time.sleep(0.5)  # the advance may sit in Redis's socket buffer, applied when it wakes
    finally:
        os.kill(own_redis.proc.pid, signal.SIGCONT)
    assert stalled.status_code == 503 and waited < 5, waited
    assert "may have applied the change" in stalled.headers["X-Sandbox-Error-Detail"]
    time.sleep(0.2)
    offset = client.post("/_sandbox/clock/advance", json={"seconds": 0}, headers=tenant).get_json()["offset_seconds"]
    assert offset in (100, 200)  # applied once or not at all; redis-py's retry used to apply it twice (300)


#: One call of every dashboard operation that needs the store (each declares UiStoreUnavailable).
UI_CALLS = [
    ("GET", "/_sandbox/ui", {}), ("GET", "/_sandbox/ui/providers/purpledot/orders", {}),
    ("GET", "/_sandbox/ui/providers/purpledot/orders/5550000000001", {}), ("GET", "/_sandbox/ui/timeline", {}),
    ("GET", "/_sandbox/ui/timeline/rows", {}), ("GET", "/_sandbox/ui/notifications", {}),
    ("GET", "/_sandbox/ui/faults", {}), ("POST", "/_sandbox/ui/tenants", {"name": "qa"}),
    ("POST", "/_sandbox/ui/reset", {}), ("POST", "/_sandbox/ui/scenarios/purpledot.preorder", {"count": "1"}),
    ("POST", "/_sandbox/ui/faults", {"status": "500"}), ("POST", "/_sandbox/ui/faults/f-1/delete", {}),
    ("POST", "/_sandbox/ui/faults/clear", {}), ("POST", "/_sandbox/ui/clock", {"seconds": "60"}),
]


def test_redis_down_is_the_dashboards_own_503_page_as_its_contract_declares(own_redis):
    """A person reads the dashboard: its pages and forms answer its own HTML error page (503,
    validated against UiStoreUnavailable when the test ends), never the control plane's JSON."""
    client = tracked_app(store=own_redis.url).test_client()
    home = client.get("/_sandbox/ui")
    assert home.status_code == 200
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', home.get_data(as_text=True)).group(1)

    own_redis.stop()
    for method, path, form in UI_CALLS:
        answer = client.open(path, method=method, data={"csrf_token": token, **form} if method == "POST" else None)
        assert answer.status_code == 503, (method, path, answer.status_code)
        html = answer.get_data(as_text=True)
        assert answer.mimetype == "text/html" and "<h1>Service unavailable</h1>" in html, (method, path)
        assert "shared store does not answer" in html and answer.headers["Retry-After"] == "1"
        assert own_redis.url in answer.headers["X-Sandbox-Error-Detail"]
    assert client.get("/_sandbox/ui/scenarios").status_code == 200  # a page that needs no store still opens

    own_redis.start()
    assert client.get("/_sandbox/ui").status_code == 200  # back, with no restart
