"""The idempotency store: replay for the same payload, conflict for another, once under concurrency."""

from __future__ import annotations

import threading

import pytest

from sandbox.core import idempotency
from sandbox.core.errors import SandboxError
from sandbox.core.store import Store

KEYS = {"shop": {"orders": "ref", idempotency.TABLE: idempotency.KEY_FIELD},
        "other": {idempotency.TABLE: idempotency.KEY_FIELD}}
FIXTURES = {"shop": {"orders": {"1": {"ref": "o-1", "refunded": 0}}}, "other": {}}


STORES = ("memory", "redis")  # tests that take store_url run on both stores (conftest)


def make_store(data_dir=None, store_url=None) -> Store:
    if store_url is not None:
        from sandbox.core.shared import Link
        from sandbox.core.shared.store import SharedStore

        return SharedStore(Link(store_url), FIXTURES, KEYS)  # type: ignore[return-value]
    return Store(FIXTURES, KEYS, data_dir=data_dir)


def refund(store: Store, key: str, payload: dict, calls: list, tenant: str = "t", provider: str = "shop"):
    with store.transaction(tenant, provider) as tx:
        answer = idempotency.replay(tx, key, payload)
        if answer is not None:
            return answer
        calls.append(key)
        order = tx.get("orders", "o-1") or {"ref": "o-1", "refunded": 0}
        order["refunded"] += payload["amount"]
        tx.put("orders", order)
        return idempotency.record(tx, key, payload, 200, {"refunded": order["refunded"]})


def refunded(store: Store, tenant: str = "t") -> int:
    return store.read(tenant, "shop", lambda tx: tx.get("orders", "o-1"))["refunded"]


def test_same_key_and_payload_replays_without_redoing_the_work(store_url):
    store, calls = make_store(store_url=store_url), []
    first = refund(store, "k1", {"amount": 5}, calls)
    again = refund(store, "k1", {"amount": 5}, calls)
    assert (first.status, first.body) == (again.status, again.body) == (200, {"refunded": 5})
    assert calls == ["k1"] and refunded(store) == 5


def test_key_order_in_the_payload_does_not_matter():
    assert idempotency.fingerprint({"a": 1, "b": [1, 2]}) == idempotency.fingerprint({"b": [1, 2], "a": 1})
    assert idempotency.fingerprint({"a": 1}) != idempotency.fingerprint({"a": 2})


def test_the_fingerprint_compares_json_values_not_their_spelling():
    """1 and 1.0 (or 1e2 and 100) are one JSON number; strings, booleans and fractions stay apart."""
    same = idempotency.fingerprint
    assert same({"q": [{"n": 1}], "x": 100}) == same({"q": [{"n": 1.0}], "x": 1e2})
    assert same({"n": 1.5}) == same({"n": 1.50})
    assert same({"n": 1}) != same({"n": "1"})
    assert same({"n": 1}) != same({"n": True})
    assert same({"n": 1}) != same({"n": 1.5})


def test_same_key_with_another_payload_is_a_conflict_and_changes_nothing(store_url):
    store, calls = make_store(store_url=store_url), []
    refund(store, "k1", {"amount": 5}, calls)
    with pytest.raises(SandboxError) as caught:
        refund(store, "k1", {"amount": 6}, calls)
    assert caught.value.status == 409 and calls == ["k1"] and refunded(store) == 5


def test_keys_are_scoped_by_tenant_and_provider(store_url):
    store, calls = make_store(store_url=store_url), []
    refund(store, "k1", {"amount": 5}, calls, tenant="a")
    refund(store, "k1", {"amount": 7}, calls, tenant="b")
    with store.transaction("a", "other") as tx:
        assert tx.get(idempotency.TABLE, "k1") is None
    assert calls == ["k1", "k1"] and refunded(store, "a") == 5 and refunded(store, "b") == 7


def test_failed_work_stores_nothing_so_a_retry_runs(store_url):
    store = make_store(store_url=store_url)
    with pytest.raises(RuntimeError), store.transaction("t", "shop") as tx:
        idempotency.record(tx, "k1", {"amount": 1}, 200, {"refunded": 1})
        raise RuntimeError("boom")  # the work failed after its answer was recorded
    calls: list = []
    assert refund(store, "k1", {"amount": 1}, calls).body == {"refunded": 1} and calls == ["k1"]


def test_concurrent_requests_with_one_key_do_the_work_once(store_url):
    store, calls = make_store(store_url=store_url), []
    answers, barrier = [], threading.Barrier(16)

    def worker():
        barrier.wait()
        answers.append(refund(store, "same", {"amount": 3}, calls))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["same"] and refunded(store) == 3
    assert len(answers) == 16
    assert {a.body["refunded"] for a in answers} == {3}


def test_stored_answers_survive_a_restart(tmp_path):
    store, calls = make_store(tmp_path), []
    refund(store, "k1", {"amount": 5}, calls)
    store.close()
    again = refund(make_store(tmp_path), "k1", {"amount": 5}, calls)
    assert again.body == {"refunded": 5} and calls == ["k1"]
