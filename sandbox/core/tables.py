"""TinyDB plumbing for the store: tables of packed documents whose writes cost the same however
many documents a table holds.

Each tenant's provider is one TinyDB database over a live dict in TinyDB's own layout
({table: {"doc_id": document}}), every document stored packed (marshal bytes; see
`sandbox.core.store`). Stock TinyDB rebuilds a whole table (converting every document id) on
each write, which made one update take 63 ms at 100,000 documents: `LiveTable` hands the
write straight to the live dict of `LiveStorage`, so writing one document touches only that
document. Reading through TinyDB's API (`get(doc_id=...)`, `all()`) unpacks each document
into TinyDB's `Document`; the store's own hot path reads the packed bytes directly.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from tinydb import TinyDB
from tinydb.storages import MemoryStorage
from tinydb.table import Document, Table

#: Pack and unpack a JSON-shaped document (marshal, in C): the stored form, and a private copy of it.
pack, unpack = marshal.dumps, marshal.loads


class LiveStorage(MemoryStorage):
    """Memory storage that always holds a dict and never copies it."""

    def __init__(self, data: dict | None = None) -> None:
        super().__init__()
        self.memory = data if data is not None else {}

    def read(self) -> dict:
        return self.memory

    def write(self, data: dict) -> None:
        self.memory = data


class PackedDocument(Document):
    """The Document TinyDB hands out for a stored (packed) value: unpacked, a private copy."""

    def __init__(self, value: Any, doc_id: int) -> None:
        super().__init__(unpack(value) if isinstance(value, bytes) else value, doc_id)


class _IntKeys(MutableMapping):
    """The int-keyed view TinyDB's updaters expect, over a str-keyed raw table."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def __getitem__(self, key: int) -> Any:
        return self._raw[str(key)]

    def __setitem__(self, key: int, value: Any) -> None:
        self._raw[str(key)] = value

    def __delitem__(self, key: int) -> None:
        del self._raw[str(key)]

    def __iter__(self) -> Iterator[int]:
        return (int(k) for k in list(self._raw))

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return str(key) in self._raw


class LiveTable(Table):
    """A TinyDB table of packed documents that writes in place instead of rebuilding the table."""

    document_class = PackedDocument

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        tables = self._storage.read()
        raw = tables.setdefault(self.name, {})
        updater(_IntKeys(raw))  # type: ignore[arg-type]
        self.clear_cache()

    def put(self, doc_id: int, packed: bytes) -> None:
        """Insert or replace the packed document stored under `doc_id`."""
        self._update_table(lambda table: table.__setitem__(doc_id, packed))

    def delete(self, doc_id: int) -> None:
        self._update_table(lambda table: table.pop(doc_id, None))


class LiveDB(TinyDB):
    table_class = LiveTable


def open_db(data: dict | None = None) -> LiveDB:
    """A TinyDB over `data` ({table: {"doc_id": packed doc}}), shared, not copied."""
    return LiveDB(storage=LiveStorage, data=data)
