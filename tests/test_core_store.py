"""The tenant store (sandbox.core.store), its persistence and its TinyDB plumbing.

Plain calls on small fixtures built here, then the same guarantees seen over HTTP:
tenants apart, reset, invalid tenant names, and one refund under concurrent requests.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from sandbox.core import persistence, tables
from sandbox.core.persistence import TenantFiles
from sandbox.core.store import Store

from conftest import FIRE_DEUNA, FIRE_LOGIN, FIRE_REFUND, LOGIN_BODY, fire_headers, tracked_app

KEYS = {"shop": {"orders": "ref", "refunds": None}}
REFUND_BODY = {"reason": "dup", "vendor_uid": "vendor-uid-abc"}


def shop_fixtures() -> dict:
    """Two orders keyed by ref; the refunds table starts empty."""
    return {"shop": {"orders": {"1": {"ref": "o1", "status": "NEW", "tags": ["a"]},
                                "2": {"ref": "o2", "status": "NEW", "tags": []}},
                     "refunds": {}}}


def make_store(data_dir: Path | None = None, **kwargs) -> Store:
    return Store(shop_fixtures(), KEYS, data_dir=data_dir, **kwargs)


def order(store: Store, tenant: str, ref: str) -> dict | None:
    return store.read(tenant, "shop", lambda tx: tx.get("orders", ref))


def refunds(store: Store, tenant: str) -> list[dict]:
    return store.read(tenant, "shop", lambda tx: tx.all("refunds"))


def log_lines(data_dir: Path, tenant: str) -> list[bytes]:
    path = data_dir / "tenants" / tenant / "log.jsonl"
    return path.read_bytes().splitlines() if path.exists() else []


def assert_tenant_files_load(data_dir: Path, tenant: str) -> None:
    """Every file in the tenant's dir is one the loader reads, and each one loads."""
    tenant_dir = data_dir / "tenants" / tenant
    assert {p.name for p in tenant_dir.iterdir()} <= {"snapshot.json", "log.jsonl"}
    snap = json.loads((tenant_dir / "snapshot.json").read_text(encoding="utf-8"))
    assert isinstance(snap["seq"], int) and isinstance(snap["providers"], dict)
    for line in log_lines(data_dir, tenant):
        entry = json.loads(line)
        assert entry["seq"] > snap["seq"] and entry["ops"]


class Boom(Exception):
    pass


# --------------------------------------------------------------------------- transactions


def test_a_transaction_that_raises_changes_nothing():
    store = make_store()
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
    assert store.tenant("t").raw == shop_fixtures()

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


def test_reads_inside_a_transaction_see_its_staged_writes():
    store = make_store()
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


def test_documents_handed_out_and_taken_in_are_copies():
    store = make_store()
    got = order(store, "t", "o1")
    got["tags"].append("mutated")
    doc = {"ref": "o1", "status": "PAID", "tags": ["x"]}
    with store.transaction("t", "shop") as tx:
        tx.put("orders", doc)
    doc["tags"].append("after-put")
    assert order(store, "t", "o1") == {"ref": "o1", "status": "PAID", "tags": ["x"]}


def test_keyed_table_refuses_insert_by_key_on_unkeyed_table():
    store = make_store()
    with pytest.raises(KeyError), store.transaction("t", "shop") as tx:
        tx.put("refunds", {"ref": "x"})
    assert refunds(store, "t") == []


# --------------------------------------------------------------------------- tenants


def test_tenants_are_isolated():
    store = make_store()
    with store.transaction("a", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
        tx.insert("refunds", {"order": "o1"})
    assert order(store, "a", "o1")["status"] == "CANCELED"
    assert order(store, "b", "o1")["status"] == "NEW"
    assert refunds(store, "b") == []
    assert store.tenants() == ["a", "b"]


def test_each_new_tenant_is_a_copy_of_the_fixtures_sharing_nothing():
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
    # Tenants hold no dict in common with each other or with the fixtures.
    a_docs, b_docs = store.tenant("a").raw["shop"]["orders"], store.tenant("b").raw["shop"]["orders"]
    assert a_docs is not b_docs
    assert a_docs["2"] is not b_docs["2"]
    assert a_docs["2"]["tags"] is not b_docs["2"]["tags"]
    assert b_docs["1"] is not fixtures["shop"]["orders"]["1"]


def test_reset_returns_a_tenant_to_the_fixtures_and_leaves_others_alone():
    store = make_store()
    for tenant in ("a", "b"):
        with store.transaction(tenant, "shop") as tx:
            tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
            tx.put("orders", {"ref": "o5", "status": "NEW", "tags": []})
            tx.delete("orders", "o2")
            tx.insert("refunds", {"order": "o1"})
    store.reset("a")
    assert store.tenant("a").raw == shop_fixtures()
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


# --------------------------------------------------------------------------- persistence


def test_a_second_store_over_the_same_data_dir_sees_committed_writes(tmp_path):
    store = make_store(tmp_path)
    with store.transaction("a", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
        tx.put("orders", {"ref": "o7", "status": "NEW", "tags": ["n"]})
        tx.delete("orders", "o2")
        tx.insert("refunds", {"order": "o1"})
    with store.transaction("a", "shop") as tx:
        tx.insert("refunds", {"order": "o7"})
    # Written through to disk before close: a crash now loses nothing.
    restarted = make_store(tmp_path)
    assert order(restarted, "a", "o1")["status"] == "CANCELED"
    assert order(restarted, "a", "o7") == {"ref": "o7", "status": "NEW", "tags": ["n"]}
    assert order(restarted, "a", "o2") is None
    assert refunds(restarted, "a") == [{"order": "o1"}, {"order": "o7"}]
    assert order(restarted, "other", "o1")["status"] == "NEW"
    # Ids keep counting after a restart: a new insert does not overwrite an old one.
    with restarted.transaction("a", "shop") as tx:
        tx.insert("refunds", {"order": "o8"})
    assert refunds(restarted, "a") == [{"order": "o1"}, {"order": "o7"}, {"order": "o8"}]
    store.close()
    restarted.close()
    assert_tenant_files_load(tmp_path, "a")


def test_a_tenant_without_writes_leaves_no_files(tmp_path):
    store = make_store(tmp_path)
    assert order(store, "quiet", "o1")["status"] == "NEW"
    store.close()
    assert not (tmp_path / "tenants" / "quiet").exists()


def test_a_torn_last_log_line_is_dropped_and_the_store_still_loads(tmp_path):
    store = make_store(tmp_path)
    for n in range(3):
        with store.transaction("t", "shop") as tx:
            tx.insert("refunds", {"n": n})
    store.close()
    log = tmp_path / "tenants" / "t" / "log.jsonl"
    good = log.read_bytes()
    with open(log, "ab") as handle:
        handle.write(b'{"seq": 4, "ops": [["shop", "refunds", 4, {"n": 3')  # crash mid-write

    restarted = make_store(tmp_path)
    assert refunds(restarted, "t") == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert log.read_bytes() == good  # the torn tail is cut off
    with restarted.transaction("t", "shop") as tx:
        tx.insert("refunds", {"n": "after"})
    restarted.close()
    assert_tenant_files_load(tmp_path, "t")
    third = make_store(tmp_path)
    assert refunds(third, "t") == [{"n": 0}, {"n": 1}, {"n": 2}, {"n": "after"}]
    third.close()


def test_a_complete_last_line_without_newline_is_also_dropped(tmp_path):
    store = make_store(tmp_path)
    with store.transaction("t", "shop") as tx:
        tx.insert("refunds", {"n": 0})
    store.close()
    log = tmp_path / "tenants" / "t" / "log.jsonl"
    line = json.dumps({"seq": 99, "ops": [["shop", "refunds", 99, {"n": "unacknowledged"}]]})
    with open(log, "ab") as handle:
        handle.write(line.encode())  # the newline (and the fsync) never happened
    restarted = make_store(tmp_path)
    assert refunds(restarted, "t") == [{"n": 0}]
    restarted.close()


def test_compaction_writes_a_snapshot_shrinks_the_log_and_keeps_every_write(tmp_path):
    store = make_store(tmp_path, compact_min=5)
    for n in range(20):
        with store.transaction("t", "shop") as tx:
            tx.insert("refunds", {"n": n})
        assert_tenant_files_load(tmp_path, "t")
    snapshot = json.loads((tmp_path / "tenants" / "t" / "snapshot.json").read_text(encoding="utf-8"))
    assert snapshot["seq"] > 0  # at least one compaction happened, not just the initial snapshot
    assert 0 < len(snapshot["providers"]["shop"]["refunds"]) <= 20
    assert len(log_lines(tmp_path, "t")) < 20  # ...and it emptied the log it superseded
    assert len(log_lines(tmp_path, "t")) + snapshot["seq"] == 20
    store.close()
    restarted = make_store(tmp_path, compact_min=5)
    assert refunds(restarted, "t") == [{"n": n} for n in range(20)]
    restarted.close()


def test_compaction_of_a_tenant_that_only_updates(tmp_path):
    store = make_store(tmp_path, compact_min=5)
    for n in range(20):
        with store.transaction("t", "shop") as tx:
            doc = tx.get("orders", "o1")
            doc["tags"].append(n)
            tx.put("orders", doc)
    assert len(log_lines(tmp_path, "t")) < 5
    store.close()
    restarted = make_store(tmp_path, compact_min=5)
    assert order(restarted, "t", "o1")["tags"] == ["a", *range(20)]
    restarted.close()


def test_reset_persists(tmp_path):
    store = make_store(tmp_path)
    with store.transaction("a", "shop") as tx:
        tx.put("orders", {"ref": "o1", "status": "CANCELED", "tags": []})
        tx.insert("refunds", {"order": "o1"})
    with store.transaction("b", "shop") as tx:
        tx.insert("refunds", {"order": "b"})
    store.reset("a")
    assert_tenant_files_load(tmp_path, "a")
    with store.transaction("a", "shop") as tx:
        tx.insert("refunds", {"order": "after-reset"})
    store.close()
    restarted = make_store(tmp_path)
    assert order(restarted, "a", "o1")["status"] == "NEW"
    assert refunds(restarted, "a") == [{"order": "after-reset"}]
    assert refunds(restarted, "b") == [{"order": "b"}]
    restarted.close()


def test_a_reset_after_a_restart_persists_too(tmp_path):
    store = make_store(tmp_path)
    with store.transaction("a", "shop") as tx:
        tx.insert("refunds", {"order": "o1"})
    store.close()
    second = make_store(tmp_path)
    second.reset("a")  # the tenant was only on disk until now
    second.close()
    third = make_store(tmp_path)
    assert refunds(third, "a") == []
    third.close()


def test_snapshots_are_replaced_whole(tmp_path, monkeypatch):
    """The snapshot's own name only ever holds a complete, fsynced file."""
    replaced = []
    real_replace = persistence.os.replace

    def checking_replace(src, dst):
        src, dst = Path(src), Path(dst)
        assert dst.name == "snapshot.json" and src != dst
        json.loads(src.read_text(encoding="utf-8"))  # the new file is complete before it takes the name
        if dst.exists():
            json.loads(dst.read_text(encoding="utf-8"))
        replaced.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(persistence.os, "replace", checking_replace)
    store = make_store(tmp_path, compact_min=3)
    for n in range(10):
        with store.transaction("t", "shop") as tx:
            tx.insert("refunds", {"n": n})
        assert_tenant_files_load(tmp_path, "t")
    store.reset("t")
    assert_tenant_files_load(tmp_path, "t")
    store.close()
    assert len(replaced) >= 3  # initial snapshot, at least one compaction, the reset


def test_a_crash_during_compaction_loses_nothing(tmp_path, monkeypatch):
    """Crash before the rename: the old snapshot and the full log are still there."""
    store = make_store(tmp_path, compact_min=5)
    for n in range(4):
        with store.transaction("t", "shop") as tx:
            tx.insert("refunds", {"n": n})

    def crash(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(persistence.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"), store.transaction("t", "shop") as tx:
        tx.insert("refunds", {"n": 4})  # logged, then compaction dies
    monkeypatch.undo()
    store.close()
    leftovers = {p.name for p in (tmp_path / "tenants" / "t").iterdir()}
    assert {"snapshot.json", "log.jsonl"} <= leftovers
    restarted = make_store(tmp_path, compact_min=5)
    assert refunds(restarted, "t") == [{"n": n} for n in range(5)]
    restarted.close()


def test_a_crash_between_snapshot_and_log_truncation_does_not_replay_twice(tmp_path, monkeypatch):
    store = make_store(tmp_path, compact_min=5)
    log = tmp_path / "tenants" / "t" / "log.jsonl"
    saved = {}
    real_write_snapshot = TenantFiles.write_snapshot

    def remember_log(self, seq, data):
        if self.log.exists():
            saved["log"] = self.log.read_bytes()
        real_write_snapshot(self, seq, data)

    monkeypatch.setattr(TenantFiles, "write_snapshot", remember_log)
    for n in range(5):
        with store.transaction("t", "shop") as tx:
            tx.insert("refunds", {"n": n})
    store.close()
    assert saved["log"].count(b"\n") == 5
    log.write_bytes(saved["log"])  # as if the crash came right after the rename
    restarted = make_store(tmp_path, compact_min=5)
    assert refunds(restarted, "t") == [{"n": n} for n in range(5)]
    restarted.close()


# --------------------------------------------------------------------------- write cost


def big_store(n: int, data_dir: Path | None = None) -> Store:
    docs = {str(i): {"ref": f"o{i}", "v": 0} for i in range(1, n + 1)}
    return Store({"shop": {"orders": docs, "refunds": {}}}, KEYS, data_dir=data_dir)


def test_one_put_into_a_big_table_touches_one_document(monkeypatch):
    store = big_store(20_000)
    with store.transaction("t", "shop") as tx:  # first use builds the key index (one scan)
        tx.put("orders", {"ref": "o1", "v": 1})
    table = store.tenant("t").raw["shop"]["orders"]
    before = dict(table)

    touched: list[tuple[str, int]] = []

    class SpyKeys(tables._IntKeys):
        def __getitem__(self, key):
            touched.append(("get", key))
            return super().__getitem__(key)

        def __setitem__(self, key, value):
            touched.append(("set", key))
            super().__setitem__(key, value)

        def __delitem__(self, key):
            touched.append(("del", key))
            super().__delitem__(key)

        def __iter__(self):
            touched.append(("iter", -1))
            return super().__iter__()

    monkeypatch.setattr(tables, "_IntKeys", SpyKeys)
    with store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o777", "v": 2})
    assert touched == [("set", 777)]
    assert store.tenant("t").raw["shop"]["orders"] is table  # the table was not rebuilt
    changed = [key for key, doc in table.items() if before[key] is not doc]
    assert changed == ["777"]
    assert table["777"] == {"ref": "o777", "v": 2}

    touched.clear()
    with store.transaction("t", "shop") as tx:
        tx.delete("orders", "o778")
    assert [op for op in touched if op[0] != "get"] == [("del", 778)]
    assert len(table) == 19_999 and store.tenant("t").raw["shop"]["orders"] is table
    assert order(store, "t", "o778") is None and order(store, "t", "o779") == {"ref": "o779", "v": 0}


def test_a_durable_put_into_a_big_table_appends_one_small_line(tmp_path, monkeypatch):
    store = big_store(20_000, tmp_path)
    with store.transaction("t", "shop") as tx:  # writes the initial snapshot
        tx.put("orders", {"ref": "o1", "v": 1})
    snapshots = []
    real_write_snapshot = TenantFiles.write_snapshot
    monkeypatch.setattr(TenantFiles, "write_snapshot",
                        lambda self, seq, data: (snapshots.append(seq), real_write_snapshot(self, seq, data)))
    before = log_lines(tmp_path, "t")
    with store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o5000", "v": 5})
    after = log_lines(tmp_path, "t")
    assert snapshots == []
    assert after[: len(before)] == before and len(after) == len(before) + 1
    assert json.loads(after[-1])["ops"] == [["shop", "orders", 5000, {"ref": "o5000", "v": 5}]]
    store.close()


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
