"""Durable tenant state for `--data-dir`: a snapshot file plus an append-only, fsynced log.

Layout: `<data-dir>/tenants/<tenant>/snapshot.json` and `log.jsonl`. Each committed
transaction is one log line `{"seq": n, "ops": [[provider, table, doc_id, doc|null], ...]}`
written and fsynced before the client hears back, so an acknowledged write survives
`kill -9`. A torn last line (the crash came mid-write) is dropped on load. When the log
grows past the snapshot's size the tenant is compacted: the new snapshot goes to a temp
file, is fsynced and renamed over the old one, so a crash never leaves a file that cannot
be loaded. Per-request cost is one appended line, whatever the number of stored orders.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

Op = list  # [provider, table, doc_id, doc or None]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_json(path: Path, payload: Any) -> None:
    """Write JSON to `path` so that readers see the old file or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _count(data: dict[str, dict]) -> int:
    return sum(len(table) for tables in data.values() for table in tables.values())


class TenantFiles:
    """The snapshot and log of one tenant."""

    def __init__(self, root: Path, tenant: str) -> None:
        self.dir = root / "tenants" / tenant
        self.snapshot = self.dir / "snapshot.json"
        self.log = self.dir / "log.jsonl"
        self._handle: Any = None
        self.log_entries = 0
        self.snapshot_docs = 0  # documents in the snapshot on disk: the log is compacted once it is as long

    def exists(self) -> bool:
        return self.snapshot.exists()

    def load(self) -> tuple[int, dict[str, dict], list[tuple[int, list[Op]]]]:
        """(snapshot seq, snapshot data, log entries after the snapshot). Truncates a torn tail."""
        snap = json.loads(self.snapshot.read_text(encoding="utf-8"))
        seq, data = snap["seq"], snap["providers"]
        self.snapshot_docs = _count(data)
        entries: list[tuple[int, list[Op]]] = []
        if self.log.exists():
            good = 0
            with open(self.log, "rb") as handle:
                for line in handle:
                    if not line.endswith(b"\n"):
                        break
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        break
                    good += len(line)
                    if entry["seq"] > seq:
                        entries.append((entry["seq"], entry["ops"]))
            if good != self.log.stat().st_size:
                with open(self.log, "r+b") as handle:
                    handle.truncate(good)
                    os.fsync(handle.fileno())
        self.log_entries = len(entries)
        return seq, data, entries

    def append(self, seq: int, ops: list[Op]) -> None:
        """Append one committed transaction and fsync it."""
        if self._handle is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.log, "ab")  # noqa: SIM115 - kept open across commits, closed by close()
        line = json.dumps({"seq": seq, "ops": ops}, separators=(",", ":")).encode() + b"\n"
        self._handle.write(line)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.log_entries += 1

    def write_snapshot(self, seq: int, data: dict[str, dict]) -> None:
        """Replace the snapshot atomically, then empty the log it supersedes."""
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.snapshot, {"seq": seq, "providers": data})
        self.snapshot_docs = _count(data)
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        with open(self.log, "wb") as handle:
            os.fsync(handle.fileno())
        self.log_entries = 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
