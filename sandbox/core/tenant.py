"""One tenant's stored form: its packed documents in TinyDB tables, the key indexes of its
keyed tables, its id counters, lock and files (`sandbox.core.store` runs transactions on it).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sandbox.core.persistence import TenantFiles
from sandbox.core.tables import LiveDB, open_db, pack, unpack


def pack_tables(data: Mapping[str, Mapping[str, Mapping[str, Any]]], keys: Mapping[str, Mapping[str, str | None]]
                ) -> tuple[dict[str, dict], dict[tuple[str, str], dict[str, int]]]:
    """({provider: {table: {doc_id: packed doc}}}, {(provider, table): {key: doc_id}}) of JSON-shaped
    `data`, in one pass: the stored form of a tenant and the indexes of its keyed tables."""
    packed: dict[str, dict] = {}
    index: dict[tuple[str, str], dict[str, int]] = {}
    for provider, tables in data.items():
        packed[provider] = {}
        for table, docs in tables.items():
            packed[provider][table] = {str(doc_id): pack(doc) for doc_id, doc in docs.items()}
            key_field = keys.get(provider, {}).get(table)
            if key_field:
                index[(provider, table)] = {str(doc[key_field]): int(doc_id) for doc_id, doc in docs.items()}
    return packed, index


class TenantState:
    """Everything one tenant owns: its tables, indexes, lock and files.

    Documents are kept packed (marshal bytes, in TinyDB's layout {provider: {table:
    {"doc_id": bytes}}}): a read unpacks a private copy and a write packs the new version,
    so no one can change a stored document behind the store's back, and the documents a
    tenant accumulates are no work for the garbage collector (bytes are not tracked).
    """

    def __init__(self, name: str, files: TenantFiles | None) -> None:
        self.name = name
        self.lock = threading.RLock()
        self.files = files
        self.seq = 0
        self.raw: dict[str, dict] = {}
        self.dbs: dict[str, LiveDB] = {}  # provider -> its TinyDB, over raw[provider]
        self._index: dict[tuple[str, str], dict[str, int]] = {}
        self._next_id: dict[tuple[str, str], int] = {}

    def load(self, packed: dict[str, dict], index: Mapping[tuple[str, str], dict[str, int]]) -> None:
        """Replace all state with `packed` (as `pack_tables` makes it; its tables are copied,
        the immutable documents shared) and the key indexes of its keyed tables."""
        self.raw = {provider: {table: dict(docs) for table, docs in tables.items()}
                    for provider, tables in packed.items()}
        self.dbs = {provider: open_db(tables) for provider, tables in self.raw.items()}
        self._index = {ident: dict(keys) for ident, keys in index.items()}
        self._next_id.clear()

    def documents(self) -> dict[str, dict]:
        """Every document, unpacked: {provider: {table: {doc_id: doc}}} (as snapshots store them)."""
        return {provider: {table: {doc_id: unpack(doc) for doc_id, doc in docs.items()}
                           for table, docs in tables.items()} for provider, tables in self.raw.items()}

    def table_raw(self, provider: str, table: str) -> dict[str, bytes]:
        return self.raw.setdefault(provider, {}).setdefault(table, {})

    def index(self, provider: str, table: str, key_field: str) -> dict[str, int]:
        """key -> doc_id for a keyed table (made at load; a table new since then starts empty)."""
        ident = (provider, table)
        found = self._index.get(ident)
        if found is None:
            found = {str(unpack(doc)[key_field]): int(doc_id)
                     for doc_id, doc in self.table_raw(provider, table).items()}
            self._index[ident] = found
        return found

    def allocate_id(self, provider: str, table: str) -> int:
        ident = (provider, table)
        nxt = self._next_id.get(ident)
        if nxt is None:
            nxt = max((int(i) for i in self.table_raw(provider, table)), default=0) + 1
        self._next_id[ident] = nxt + 1
        return nxt

    def apply(self, ops: list[list], keys: Mapping[str, Mapping[str, str | None]]) -> None:
        """Apply committed operations [provider, table, doc_id, packed doc|None, key|None] in memory
        (key: the document's key in a keyed table; None to read it from the document)."""
        for provider, table, doc_id, doc, key in ops:
            raw = self.table_raw(provider, table)
            if provider not in self.dbs:
                self.dbs[provider] = open_db(self.raw[provider])
            live = self.dbs[provider].table(table)
            key_field = keys.get(provider, {}).get(table)
            if doc is None:
                old = raw.get(str(doc_id))
                live.delete(doc_id)
                if key_field and old is not None:
                    self.index(provider, table, key_field).pop(key or str(unpack(old)[key_field]), None)
                continue
            live.put(doc_id, doc)
            if key_field:
                self.index(provider, table, key_field)[key or str(unpack(doc)[key_field])] = doc_id
            ident = (provider, table)
            if self._next_id.get(ident, 0) <= doc_id:
                self._next_id[ident] = doc_id + 1
