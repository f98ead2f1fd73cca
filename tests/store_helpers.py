"""Helpers shared by the store and persistence tests: small fixtures, a store over them, readers."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.core.store import Store

KEYS = {"shop": {"orders": "ref", "refunds": None}}

def shop_fixtures() -> dict:
    """Two orders keyed by ref; the refunds table starts empty."""
    return {"shop": {"orders": {"1": {"ref": "o1", "status": "NEW", "tags": ["a"]},
                                "2": {"ref": "o2", "status": "NEW", "tags": []}},
                     "refunds": {}}}


def make_store(data_dir: Path | None = None, store_url: str | None = None, keys: dict | None = None,
               **kwargs) -> Store:
    """A store over the shop fixtures: in process (on `data_dir`, if given), or in the Redis at `store_url`."""
    if store_url is not None:
        from sandbox.core.shared import Link
        from sandbox.core.shared.store import SharedStore

        return SharedStore(Link(store_url), shop_fixtures(), keys or KEYS)  # type: ignore[return-value]
    return Store(shop_fixtures(), keys or KEYS, data_dir=data_dir, **kwargs)


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
