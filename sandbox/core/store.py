"""Per-tenant state: one TinyDB per (tenant, provider) of packed documents, one lock per tenant,
atomic transactions.

A tenant is created on first use as a copy of the fixtures (`fixtures/<key>.json`, TinyDB's
layout: `{table: {"doc_id": document}}`), each document kept as marshal bytes: a read
unpacks one private copy, a write packs one, and stored documents cost the garbage collector
nothing (see `sandbox.core.tenant.TenantState`). Tables listed in a provider's `tables` with a
key field are addressed by that key (an order's ref) through an in-memory index; the rest
are append-only (refunds). `transaction()` stages every write and applies them only when the
block ends without an exception, under the tenant's lock: a refund is all or nothing, and a
rule that raises leaves the store exactly as it was. With a data dir, each commit is also
appended to the tenant's log (`sandbox.core.persistence`) before it is applied.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.core.persistence import TenantFiles
from sandbox.core.tables import pack, unpack
from sandbox.core.tenant import TenantState, pack_tables

#: The table (key field "name") where `Tx.next_id` keeps a provider's id sequences.
SEQUENCES = "sequences"


def freeze_heap() -> None:
    """Move every object alive now out of the garbage collector's reach (gc.freeze).

    What a tenant load, a reset or start-up builds lives long; left to the collector, each
    full collection would walk all of it again (150-980 ms pauses with 40,000-100,000
    orders, stopping every request). Garbage is collected first so no cycle is frozen for
    good; that collection walks only what was made since the last freeze. Frozen objects
    are still freed by reference counting when dropped (stored documents hold no cycles).
    """
    gc.collect()
    gc.freeze()


class Tx:
    """A transaction on one provider's tables of one tenant. Reads see staged writes."""

    def __init__(self, state: TenantState, provider: str, keys: Mapping[str, str | None]) -> None:
        self._state = state
        self.provider = provider
        self._keys = keys
        self._staged: dict[tuple[str, str], bytes | None] = {}  # packed documents, None: deleted
        self._inserts: list[tuple[str, bytes]] = []
        self.notifications: list[tuple[str, dict, Any]] = []

    @property
    def tenant(self) -> str:
        return self._state.name

    def _key_field(self, table: str) -> str:
        key_field = self._keys.get(table)
        if not key_field:
            raise KeyError(f"table {table!r} of {self.provider!r} has no key field")
        return key_field

    def get(self, table: str, key: str) -> dict | None:
        """A private copy of the document with this key, or None."""
        key = str(key)
        if (table, key) in self._staged:
            staged = self._staged[(table, key)]
            return None if staged is None else unpack(staged)
        doc_id = self._state.index(self.provider, table, self._key_field(table)).get(key)
        if doc_id is None:
            return None
        return unpack(self._state.table_raw(self.provider, table)[str(doc_id)])

    def put(self, table: str, doc: dict) -> None:
        """Insert or replace the document under its key (read from the table's key field); what
        is staged is a packed copy, so later changes to `doc` do not reach the store."""
        self._staged[(table, str(doc[self._key_field(table)]))] = pack(doc)

    def delete(self, table: str, key: str) -> None:
        self._staged[(table, str(key))] = None

    def next_id(self, sequence: str, first: int) -> int:
        """The next number of a named id sequence of this provider (`first` for a new one).

        The counter lives in the provider's SEQUENCES table (key field "name") and moves
        with the transaction: an id handed out by a block that raises is handed out again."""
        current = self.get(SEQUENCES, sequence)
        number = current["next"] if current else first
        self.put(SEQUENCES, {"name": sequence, "next": number + 1})
        return number

    def insert(self, table: str, doc: dict) -> None:
        """Append a document to an unkeyed table (a refund record, say)."""
        self._inserts.append((table, pack(doc)))

    def notify(self, kind: str, payload: dict, now: Any) -> None:
        """Send a notification of this provider once the transaction commits (never if it raises)."""
        self.notifications.append((kind, payload, now))

    def all(self, table: str) -> list[dict]:
        """Copies of every document in the table, staged writes included, in insertion order."""
        docs = [unpack(d) for d in self._state.table_raw(self.provider, table).values()]
        key_field = self._keys.get(table)
        staged = {k: d for (t, k), d in self._staged.items() if t == table} if key_field else {}
        if staged:  # staged versions replace (or delete) stored ones in place; new keys go last
            merged = []
            for doc in docs:
                key = str(doc[key_field])
                if key in staged:
                    replaced = staged.pop(key)
                    doc = None if replaced is None else unpack(replaced)
                if doc is not None:
                    merged.append(doc)
            docs = merged + [unpack(d) for d in staged.values() if d is not None]
        return docs + [unpack(d) for t, d in self._inserts if t == table]

    def ops(self) -> list[list]:
        """The staged writes as [provider, table, doc_id, packed doc|None, key|None], ids allocated now."""
        ops: list[list] = []
        for (table, key), doc in self._staged.items():
            index = self._state.index(self.provider, table, self._key_field(table))
            doc_id = index.get(key)
            if doc_id is None:
                if doc is None:
                    continue
                doc_id = self._state.allocate_id(self.provider, table)
            ops.append([self.provider, table, doc_id, doc, key])
        for table, doc in self._inserts:
            ops.append([self.provider, table, self._state.allocate_id(self.provider, table), doc, None])
        return ops


class Store:
    """All tenants. Thread-safe: every access to a tenant holds that tenant's lock."""

    def __init__(
        self,
        fixtures: Mapping[str, dict],
        keys: Mapping[str, Mapping[str, str | None]],
        data_dir: Path | None = None,
        compact_min: int = 1000,
    ) -> None:
        self.keys = {provider: dict(k) for provider, k in keys.items()}
        self._fixtures, self._fixture_index = pack_tables(fixtures, self.keys)
        self.data_dir = Path(data_dir) if data_dir else None
        self.compact_min = compact_min
        self._tenants: dict[str, TenantState] = {}
        self._lock = threading.Lock()
        #: Called after a tenant's data is loaded or reset: freezes the heap (whoever built the app).
        self.after_load: Callable[[], None] | None = freeze_heap
        #: Sends what `Tx.notify` staged, after the commit and outside the tenant's lock:
        #: notifier(tenant, provider, kind, payload, now). The Runtime sets it.
        self.notifier: Callable[[str, str, str, dict, Any], Any] | None = None

    def tenant(self, name: str) -> TenantState:
        """The tenant's state, created from its files or the fixtures on first use."""
        state = self._tenants.get(name)
        if state is not None:
            return state
        with self._lock:
            state = self._tenants.get(name)
            if state is None:
                state = self._open(name)
                self._tenants[name] = state
                if self.after_load is not None:
                    self.after_load()
        return state

    def _open(self, name: str) -> TenantState:
        files = TenantFiles(self.data_dir, name) if self.data_dir else None
        state = TenantState(name, files)
        if files is not None and files.exists():
            seq, data, entries = files.load()
            state.load(*pack_tables(data, self.keys))
            state.seq = seq
            for entry_seq, ops in entries:
                state.apply([[*op[:3], None if op[3] is None else pack(op[3]), None] for op in ops], self.keys)
                state.seq = entry_seq
        else:
            state.load(self._fixtures, self._fixture_index)
        return state

    def tenants(self) -> list[str]:
        return sorted(self._tenants)

    @contextmanager
    def locked(self, tenant: str) -> Iterator[TenantState]:
        state = self.tenant(tenant)
        with state.lock:
            yield state

    @contextmanager
    def transaction(self, tenant: str, provider: str) -> Iterator[Tx]:
        """Stage writes in the block; commit them all if it ends cleanly, none if it raises.

        Notifications staged with `tx.notify` go out after the commit, outside the lock."""
        with self.locked(tenant) as state:
            tx = Tx(state, provider, self.keys.get(provider, {}))
            yield tx
            self._commit(state, tx.ops())
        if self.notifier is not None:
            for kind, payload, now in tx.notifications:
                self.notifier(tenant, provider, kind, payload, now)

    def read(self, tenant: str, provider: str, fn: Callable[[Tx], Any]) -> Any:
        """Run `fn` on a read-only view under the tenant's lock."""
        with self.locked(tenant) as state:
            return fn(Tx(state, provider, self.keys.get(provider, {})))

    def page(self, tenant: str, provider: str, table: str, offset: int, limit: int) -> tuple[list[dict], int]:
        """(copies of one page of a table, newest first; how many documents it holds).

        Only the page is copied, so a page of a 10,000-order table costs what a page costs."""
        with self.locked(tenant) as state:
            docs = list(state.table_raw(provider, table).values())
            end = len(docs) - offset
            chosen = docs[max(0, end - limit):max(0, end)]
            return [unpack(doc) for doc in reversed(chosen)], len(docs)

    def _commit(self, state: TenantState, ops: list[list]) -> None:
        if not ops:
            return
        seq = state.seq + 1
        files = state.files
        if files is not None:
            if not files.exists():
                files.write_snapshot(state.seq, state.documents())
            files.append(seq, [[*op[:3], None if op[3] is None else unpack(op[3])] for op in ops])
        state.apply(ops, self.keys)
        state.seq = seq
        if files is not None and files.log_entries >= max(self.compact_min, files.snapshot_docs):
            files.write_snapshot(state.seq, state.documents())

    def reset(self, tenant: str) -> None:
        """Put the tenant back to the fixtures (on disk too, when it has files)."""
        with self.locked(tenant) as state:
            state.load(self._fixtures, self._fixture_index)
            state.seq += 1
            if state.files is not None and state.files.exists():
                state.files.write_snapshot(state.seq, state.documents())
        if self.after_load is not None:
            self.after_load()

    def close(self) -> None:
        for state in list(self._tenants.values()):
            if state.files is not None:
                state.files.close()
