"""Tenant persistence under --data-dir (sandbox.core.persistence) and the per-write cost of the store.

Restart, torn log lines, compaction and crashes around it, reset; and that one write into a
big table touches one document and appends one small line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.core import persistence
from sandbox.core.persistence import TenantFiles
from sandbox.core.store import Store

from store_helpers import KEYS, assert_tenant_files_load, log_lines, make_store, order, refunds

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


def test_one_put_into_a_big_table_touches_one_document():
    store = big_store(20_000)
    with store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o1", "v": 1})
    table = store.tenant("t").raw["shop"]["orders"]
    before = dict(table)

    with store.transaction("t", "shop") as tx:
        tx.put("orders", {"ref": "o777", "v": 2})
    assert store.tenant("t").raw["shop"]["orders"] is table  # the table was not rebuilt
    changed = [key for key, doc in table.items() if before[key] is not doc]
    assert changed == ["777"]
    assert order(store, "t", "o777") == {"ref": "o777", "v": 2}

    with store.transaction("t", "shop") as tx:
        tx.delete("orders", "o778")
    assert [key for key, doc in table.items() if before[key] is not doc] == ["777"]  # no other copied
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
