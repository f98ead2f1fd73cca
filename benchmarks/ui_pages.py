"""Dashboard page render times with 10,000 orders in one tenant (the issue's target: < 100 ms).

In-process (Flask test client, no sockets): the sandbox's own work for each page, routing,
guard, store read, ledger and Jinja rendering, with a full journal (1,000 exchanges) for
the timeline. Seeds through the control plane (100 orders a call). Prints median and p95
per page; not part of the test suite. Usage:

    python benchmarks/ui_pages.py [--orders 10000] [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sandbox.app import create_app
from sandbox.settings import Settings

TENANT = "bench"
SHOPLAZZA = {"access-token": "sandbox-token-0123456789abcdef0123", "X-Sandbox-Tenant": TENANT}


def fill(client, orders: int) -> str:
    """`orders` Shoplazza orders in the tenant (plus the fixtures) and a full journal; one order ref."""
    ref = ""
    for start in range(0, orders, 100):
        answer = client.post("/_sandbox/scenarios/shoplazza.paid", json={"count": min(100, orders - start)},
                             headers={"X-Sandbox-Tenant": TENANT}).get_json()
        ref = answer["orders"][0]["order_ref"]
    for _ in range(1000):  # a full journal for the timeline pages
        client.get(f"/shoplazza/openapi/2022-01/orders/{ref}", headers=SHOPLAZZA)
    client.post(f"/shoplazza/openapi/2022-01/orders/{ref}/refund", headers=SHOPLAZZA)
    return ref


def measure(client, path: str, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    app = create_app(Settings.load(env={}, log_requests=False))
    client = app.test_client()
    ref = fill(client, args.orders)
    pages = {
        "overview": "/_sandbox/ui", "orders, page 1": "/_sandbox/ui/providers/shoplazza/orders",
        "orders, last page": f"/_sandbox/ui/providers/shoplazza/orders?page={(args.orders + 4 + 49) // 50}",
        "an order (1,001 exchanges)": f"/_sandbox/ui/providers/shoplazza/orders/{ref}",
        "timeline (newest 100)": "/_sandbox/ui/timeline", "timeline poll": "/_sandbox/ui/timeline/rows?after=999999",
        "scenarios": "/_sandbox/ui/scenarios", "faults": "/_sandbox/ui/faults",
    }
    print(f"{args.orders:,} Shoplazza orders in tenant {TENANT!r}; {args.runs} runs per page, in-process")
    print(f"{'page':<28} {'median ms':>10} {'p95 ms':>8}")
    for name, path in pages.items():
        separator = "&" if "?" in path else "?"
        median, p95 = measure(client, f"{path}{separator}tenant={TENANT}", args.runs)
        print(f"{name:<28} {median:>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
