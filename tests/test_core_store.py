"""The tenant store (sandbox.core.store): transactions and tenants as plain calls, then over HTTP.

Plain calls on small fixtures, then the same guarantees seen over HTTP: tenants apart,
reset, invalid tenant names, and one refund under concurrent requests. Persistence and
write cost are in test_core_persistence.py.
"""

from __future__ import annotations

import gc
import threading

import pytest

from sandbox.core.store import SEQUENCES, Store

from conftest import FIRE_DEUNA, FIRE_LOGIN, FIRE_REFUND, LOGIN_BODY, fire_headers, tracked_app
from store_helpers import KEYS, Boom, log_lines, make_store, order, refunds, shop_fixtures

REFUND_BODY = {"reason": "dup", "vendor_uid": "vendor-uid-abc"}
STORES = ("memory", "redis")  # tests that take store_url run on both stores (conftest)

# --------------------------------------------------------------------------- transactions


def test_notifications_go_out_after_the_commit_and_never_for_a_block_that_raises(store_url):
    store, sent = make_store(store_url=store_url), []
    store.notifier = lambda *notification: sent.append(notification)
    with pytest.raises(Boom), store.transaction("t", "shop") as tx:
        tx.notify("refund.done", {"n": 1}, "now-1")
        raise Boom
    assert sent == []
    with store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
        tx.notify("refund.done", {"n": 2}, "now-2")
        assert sent == []  # not before the commit
    assert sent == [("t", "shop", "refund.done", {"n": 2}, "now-2")]  # after it


def test_id_sequences_count_per_name_and_roll_back_with_the_transaction(store_url):
    store = make_store(store_url=store_url, keys={"shop": {**KEYS["shop"], SEQUENCES: "name"}})
    with store.transaction("t", "shop") as tx:
        assert [tx.next_id("a", 10), tx.next_id("a", 10), tx.next_id("b", 500)] == [10, 11, 500]
    with pytest.raises(Boom), store.transaction("t", "shop") as tx:
        assert tx.next_id("a", 10) == 12
        raise Boom
    with store.transaction("t", "shop") as tx:
        assert tx.next_id("a", 10) == 12  # the id the failed block took is handed out again
    assert store.tenant("u") is not store.tenant("t")
    with store.transaction("u", "shop") as tx:
        assert tx.next_id("a", 10) == 10  # another tenant has its own sequences


def test_a_transaction_that_raises_changes_nothing(store_url):
    store = make_store(store_url=store_url)
    with pytest.raises(Boom), store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
        tx.put("orders", {"ref": "o9", "status": "NEW", "tags": []})
        tx.delete("orders", "o2")
        tx.insert("refunds", {"order": "o1"})
        raise Boom
    assert order(store, "t", "o1") == {"ref": "o1", "status": "NEW", "tags": ["a"]}
    assert order(store, "t", "o2") is not None
    assert order(store, "t", "o9") is None
    assert refunds(store, "t") == []
    if store_url is None:
        assert store.tenant("t").documents() == shop_fixtures()

    # The same writes without the exception do land: the failure above was the rollback.
    with store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
        tx.insert("refunds", {"order": "o1"})
    assert order(store, "t", "o1")["status"] == "CANCELED"
    assert refunds(store, "t") == [{"order": "o1"}]


def test_a_raising_transaction_writes_nothing_to_disk(tmp_path):
    store = make_store(tmp_path)
    with store.transaction("t", "shop") as tx:
        tx.insert("refunds", {"n": 1})
    before = log_lines(tmp_path, "t")
    with pytest.raises(Boom), store.transaction("t", "shop") as tx:
        tx.insert("refunds", {"n": 2})
        raise Boom
    assert log_lines(tmp_path, "t") == before
    store.close()
    again = make_store(tmp_path)
    assert refunds(again, "t") == [{"n": 1}]
    again.close()


def test_reads_inside_a_transaction_see_its_staged_writes(store_url):
    store = make_store(store_url=store_url)
    with store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
        tx.put("orders", {"ref": "o3", "status": "NEW", "tags": []})
        tx.delete("orders", "o2")
        tx.insert("refunds", {"order": "o1"})
        assert tx.get("orders", "o1")["status"] == "CANCELED"
        assert tx.get("orders", "o3") == {"ref": "o3", "status": "NEW", "tags": []}
        assert tx.get("orders", "o2") is None
        assert [d["ref"] for d in tx.all("orders")] == ["o1", "o3"]
        assert tx.all("refunds") == [{"order": "o1"}]
        # ...while other readers still see the committed state.
        outside = store.read("t", "shop", lambda other: (other.get("orders", "o1"), other.all("refunds")))
        assert outside == ({"ref": "o1", "status": "NEW", "tags": ["a"]}, [])
    assert [d["ref"] for d in store.read("t", "shop", lambda r: r.all("orders"))] == ["o1", "o3"]


def test_documents_handed_out_and_taken_in_are_copies(store_url):
    store = make_store(store_url=store_url)
    got = order(store, "t", "o1")
    got["tags"].append("mutated")
    doc = {"ref": "o1", "status": "PAID", "tags": ["x"]}
    with store.transaction("t", "shop") as tx:
        tx.put("orders", doc)
    doc["tags"].append("after-put")
    assert order(store, "t", "o1") == {"ref": "o1", "status": "PAID", "tags": ["x"]}


def test_keyed_table_refuses_insert_by_key_on_unkeyed_table(store_url):
    store = make_store(store_url=store_url)
    with pytest.raises(KeyError), store.transaction("t", "shop") as tx:
        tx.put("refunds", {"ref": "x"})
    assert refunds(store, "t") == []


# --------------------------------------------------------------------------- tenants


def test_tenants_are_isolated(store_url):
    store = make_store(store_url=store_url)
    with store.transaction("a", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
        tx.insert("refunds", {"order": "o1"})
    assert order(store, "a", "o1")["status"] == "CANCELED"
    assert order(store, "b", "o1")["status"] == "NEW"
    assert refunds(store, "b") == []
    assert store.tenants() == ["a", "b"]


def test_each_new_tenant_is_a_copy_of_the_fixtures_sharing_nothing_mutable():
    fixtures = shop_fixtures()
    store = Store(fixtures, KEYS)
    with store.transaction("a", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
    # The caller's fixtures are untouched by a tenant's write...
    assert fixtures == shop_fixtures()
    # ...and later changes to them leak into no tenant, old or new.
    fixtures["shop"]["orders"]["2"]["status"] = "LEAKED"
    fixtures["shop"]["orders"]["1"]["tags"].append("LEAKED")
    assert order(store, "a", "o2")["status"] == "NEW"
    assert order(store, "b", "o2")["status"] == "NEW"
    assert order(store, "b", "o1")["tags"] == ["a"]
    # What a read hands out is a private copy: changing it changes no tenant.
    mine = order(store, "b", "o1")
    mine["tags"].append("CHANGED")
    assert order(store, "b", "o1")["tags"] == ["a"] and order(store, "c", "o1")["tags"] == ["a"]
    # Tenants share no table, and hold documents only as immutable bytes (nothing to change in place).
    a_docs, b_docs = store.tenant("a").raw["shop"]["orders"], store.tenant("b").raw["shop"]["orders"]
    assert a_docs is not b_docs
    assert all(isinstance(doc, bytes) for doc in [*a_docs.values(), *b_docs.values()])


def test_each_tenant_and_provider_is_a_tinydb_whose_documents_read_back_through_tinydb():
    store = make_store()
    with store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": ["a"]})
        tx.insert("refunds", {"order": "o1", "amount": 500})
    db = store.tenant("t").dbs["shop"]
    # TinyDB's own API over the tenant's tables: committed writes went through it, packed
    assert db.table("orders").get(doc_id=1) == {"ref": "o1", "status": "CANCELED", "tags": ["a"]}
    assert [dict(doc) for doc in db.table("refunds").all()] == [{"order": "o1", "amount": 500}]
    assert db.table("orders").get(doc_id=2).doc_id == 2 and sorted(db.tables()) == ["orders", "refunds"]
    assert isinstance(db.storage.read()["refunds"]["1"], bytes)


def test_after_load_runs_once_per_new_tenant_and_after_each_reset():
    store = make_store()
    seen = []
    store.after_load = lambda: seen.append(sorted(store.tenants()))
    order(store, "a", "o1")
    order(store, "a", "o2")
    order(store, "b", "o1")
    store.reset("a")
    assert seen == [["a"], ["a", "b"], ["a", "b"]]


def test_reset_returns_a_tenant_to_the_fixtures_and_leaves_others_alone(store_url):
    store = make_store(store_url=store_url)
    for tenant in ("a", "b"):
        with store.transaction(tenant, "shop") as tx:
            tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
            tx.put("orders", {"ref": "o5", "status": "NEW", "tags": []})
            tx.delete("orders", "o2")
            tx.insert("refunds", {"order": "o1"})
    store.reset("a")
    if store_url is None:
        assert store.tenant("a").documents() == shop_fixtures()
    assert order(store, "a", "o1")["status"] == "NEW"
    assert order(store, "a", "o2") is not None
    assert order(store, "a", "o5") is None  # the index was rebuilt, not kept stale
    assert refunds(store, "a") == []
    assert order(store, "b", "o1")["status"] == "CANCELED"
    assert len(refunds(store, "b")) == 1
    # The reset tenant keeps working normally.
    with store.transaction("a", "shop") as tx:
        tx.put("orders", {"ref": "o5", "status": "NEW", "tags": []})
        tx.insert("refunds", {"order": "o5"})
    assert order(store, "a", "o5") is not None
    assert refunds(store, "a") == [{"order": "o5"}]


# --------------------------------------------------------------------------- over HTTP


def get_order(client, uid: str, tenant: str | None) -> dict:
    headers = {"X-Sandbox-Tenant": tenant} if tenant else {}
    response = client.get(f"/_sandbox/fire/orders/{uid}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["order"]


def notifications(client, tenant: str) -> list[dict]:
    response = client.get("/_sandbox/notifications", headers={"X-Sandbox-Tenant": tenant})
    assert response.status_code == 200
    return response.get_json()["notifications"]


def test_http_tenants_are_isolated_and_reset(client):
    response = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json=REFUND_BODY,
                           headers=fire_headers(client, tenant="a"))
    assert response.status_code == 200, response.get_json()
    assert response.headers["X-Sandbox-Tenant"] == "a"
    assert get_order(client, FIRE_DEUNA, "a")["status"] == "CANCELED"
    assert get_order(client, FIRE_DEUNA, "b")["status"] == "CREATED"
    assert get_order(client, FIRE_DEUNA, None)["status"] == "CREATED"
    assert len(notifications(client, "a")) == 1
    assert notifications(client, "b") == []

    reset = client.post("/_sandbox/reset", headers={"X-Sandbox-Tenant": "a"})
    assert reset.status_code == 200
    assert reset.get_json() == {"tenant": "a", "reset": True}
    order_a = get_order(client, FIRE_DEUNA, "a")
    assert (order_a["status"], order_a["payment_status"]) == ("CREATED", "APPROVED")
    assert notifications(client, "a") == []
    refunds_a = client.get("/_sandbox/fire/refunds", headers={"X-Sandbox-Tenant": "a"}).get_json()
    assert refunds_a["refunds"] == []


def in_collector(obj) -> bool:
    """Whether the garbage collector still walks `obj` (False once gc.freeze() moved it away)."""
    return any(o is obj for o in gc.get_objects())


def test_the_heap_is_frozen_after_start_up_and_after_each_tenant_load_or_reset():
    """Whoever builds the app (pytest plugin, LiveSandbox, serve) gets a frozen heap: what
    start-up, a new tenant or a reset builds is never walked by a full collection again."""
    app = tracked_app()
    assert gc.is_tracked(app) and not in_collector(app)  # create_app froze what it built
    client = app.test_client()
    before_load = [FIRE_DEUNA]  # alive from here on, like a tenant's documents
    assert in_collector(before_load)
    get_order(client, FIRE_DEUNA, "frozen")  # the tenant is created from the fixtures
    assert not in_collector(before_load)
    state = app.extensions["refund_sandbox"].store.tenant("frozen")
    assert gc.is_tracked(state) and not in_collector(state)

    before_reset, frozen = [FIRE_DEUNA], gc.get_freeze_count()
    assert in_collector(before_reset)
    assert client.post("/_sandbox/reset", headers={"X-Sandbox-Tenant": "frozen"}).status_code == 200
    assert not in_collector(before_reset)
    assert gc.get_freeze_count() > frozen


def test_http_invalid_tenant_is_a_400_in_fires_format_and_changes_nothing(tmp_path):
    app = tracked_app(data_dir=tmp_path)
    try:
        client = app.test_client()
        headers = fire_headers(client)
        for bad in ("../x", ".hidden", "a/b", "x" * 65, ""):
            response = client.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json=REFUND_BODY,
                                   headers={**headers, "X-Sandbox-Tenant": bad})
            assert response.status_code == 400, bad
            body = response.get_json()
            assert body["error"]["code"] == "validation_error"
            assert body["error"]["field"] == "X-Sandbox-Tenant"
            assert body["status"] == 400
            assert body["pathname"] == FIRE_REFUND.format(uid=FIRE_DEUNA).removeprefix("/fire")
            assert {"method", "traceId", "duration", "isArray"} <= set(body)
        login = client.post(FIRE_LOGIN, json=LOGIN_BODY, headers={
            "x-api-key": "pk_test_sandbox01", "x-client-channel": "integration", "account": "acc-uid-12345",
            "X-Sandbox-Tenant": "../x"})
        assert login.status_code == 400 and login.get_json()["error"]["code"] == "validation_error"
        control = client.post("/_sandbox/reset", headers={"X-Sandbox-Tenant": "../x"})
        assert control.status_code == 400 and control.get_json()["error"]["field"] == "X-Sandbox-Tenant"

        assert get_order(client, FIRE_DEUNA, None)["status"] == "CREATED"
        store = app.extensions["refund_sandbox"].store
        assert store.tenants() == ["default"]
        assert sorted(p.name for p in tmp_path.rglob("*")) == []  # no directory made for any name
        assert notifications(client, "default") == []
    finally:
        app.extensions["refund_sandbox"].store.close()


def test_concurrent_refunds_of_one_order_make_one_refund(app, client):
    headers = fire_headers(client, tenant="race")
    threads = 16
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def refund() -> None:
        try:
            own = app.test_client()
            barrier.wait(timeout=30)
            response = own.post(FIRE_REFUND.format(uid=FIRE_DEUNA), json=REFUND_BODY, headers=headers)
            with lock:
                statuses.append(response.status_code)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    workers = [threading.Thread(target=refund) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors
    assert statuses == [200] * threads
    listed = client.get("/_sandbox/fire/refunds", headers={"X-Sandbox-Tenant": "race"}).get_json()["refunds"]
    assert len(listed) == 1 and listed[0]["order_uid"] == FIRE_DEUNA
    sent = notifications(client, "race")
    assert len(sent) == 1 and sent[0]["payload"]["order_uid"] == FIRE_DEUNA
    assert get_order(client, FIRE_DEUNA, "race")["status"] == "CANCELED"
    assert client.get("/_sandbox/fire/refunds").get_json()["refunds"] == []
