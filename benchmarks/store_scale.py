"""Refund latency and store costs as one tenant grows: 100, 10,000 and 100,000 Fire orders.

In-process (Flask test client, no sockets), so it measures the sandbox's own per-request
work: auth, validation, tenant lock, rule, commit (and with --data-dir the fsynced log
append). Prints a table; not part of the test suite. Usage:

    python benchmarks/store_scale.py [--data-dir DIR] [--requests 300]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path

from sandbox.app import create_app
from sandbox.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = json.loads((ROOT / "fixtures" / "fire.json").read_text())["orders"]["3"]  # a Kushki card order
HEADERS = {"x-api-key": "pk_test_benchmark", "x-client-channel": "integration", "account": "acc-uid-12345"}
LOGIN = {"client_id": "b", "client_secret": "b", "grant_type": "client_credentials"}
BODY = {"reason": "benchmark", "vendor_uid": "vendor-uid-abc"}


def fill(app, tenant: str, count: int) -> list[str]:
    """Put `count` orders into the tenant in one transaction; return their uids."""
    store = app.extensions["refund_sandbox"].store
    uids = [f"bench-{n:07d}" for n in range(count)]
    with store.transaction(tenant, "fire") as tx:
        for uid in uids:
            order = copy.deepcopy(TEMPLATE)
            order["uid"] = uid
            tx.put("orders", order)
    return uids


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(size: int, requests: int, data_dir: Path | None) -> dict:
    app = create_app(Settings.load(env={}, log_requests=False, data_dir=data_dir))
    client = app.test_client()
    tenant = f"bench-{size}"
    t0 = time.perf_counter()
    uids = fill(app, tenant, size)
    fill_s = time.perf_counter() - t0
    token = client.post("/fire/api/authentication/login", json=LOGIN, headers=HEADERS).get_json()["accessToken"]
    headers = {**HEADERS, "Authorization": f"Bearer {token}", "X-Sandbox-Tenant": tenant}
    latencies = []
    for uid in uids[:requests]:
        start = time.perf_counter()
        response = client.post(f"/fire/api/v4/integrations/sales/aggregator/orders/{uid}/refund", json=BODY,
                               headers=headers)
        latencies.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.get_json()
    t0 = time.perf_counter()
    client.post("/_sandbox/reset", headers={"X-Sandbox-Tenant": "fresh"})  # creates the tenant, then resets it
    create_reset_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    client.post("/_sandbox/reset", headers={"X-Sandbox-Tenant": "fresh"})
    reset_ms = (time.perf_counter() - t0) * 1000
    app.extensions["refund_sandbox"].store.close()
    return {"orders": size, "fill_s": fill_s, "p50_ms": statistics.median(latencies),
            "p99_ms": percentile(latencies, 0.99), "create+reset_ms": create_reset_ms, "reset_ms": reset_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="persist (fsync per refund) under this dir")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sizes", default="100,10000,100000")
    args = parser.parse_args()
    print(f"{'orders':>8} {'fill s':>7} {'refund p50 ms':>14} {'refund p99 ms':>14} {'tenant+reset ms':>16} "
          f"{'reset ms':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        data_dir = None
        if args.data_dir is not None:
            data_dir = Path(tempfile.mkdtemp(dir=args.data_dir))
        row = run(size, args.requests, data_dir)
        print(f"{row['orders']:>8} {row['fill_s']:>7.2f} {row['p50_ms']:>14.2f} {row['p99_ms']:>14.2f} "
              f"{row['create+reset_ms']:>16.2f} {row['reset_ms']:>9.2f}")


if __name__ == "__main__":
    main()
