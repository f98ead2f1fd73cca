"""Crash safety with --data-dir: a server writing under load is killed with SIGKILL; after a
restart every write that was answered 2xx is there and the data loads."""

from __future__ import annotations

import http.client
import signal
import threading
import time

from live_server import Server, call

WORKERS, PER_WORKER = 4, 150


def inject_body(order_id: str) -> dict:
    price = {"currencyCode": "USD", "total": "10.0000"}
    return {"orderId": order_id, "store": {"id": "store-uid-xyz", "vendorId": "vendor-uid-abc"},
            "order": {"products": [{"productId": "P-1", "product": "Thing", "quantity": 1,
                                    "price": {"unitPrice": price, "totalPrice": price}}]},
            "payments": {"totals": [price], "paymentMethods": [{"processor": "Kushki", "currencyCode": "USD",
                                                                "transactionStatus": "APPROVED",
                                                                "totalBill": "10.0000"}]}}


def test_answered_writes_survive_sigkill_under_load(tmp_path):
    data = tmp_path / "data"
    server = Server(tmp_path, "--data-dir", str(data)).start()
    headers = server.fire_headers()
    answered: list[str] = []
    lock, stop = threading.Lock(), threading.Event()

    def worker(w: int) -> None:
        for n in range(PER_WORKER):
            if stop.is_set():
                return
            try:
                status, body = call(server.base, "POST", "/fire/api/v4/integrations/sales/aggregator/orders",
                                    inject_body(f"W{w}-{n}"), headers)
            except (OSError, ValueError, http.client.HTTPException):
                return  # the server is gone (refused, reset, or a half-read answer)
            if status == 201:
                with lock:
                    answered.append(body["data"]["uid"])

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(answered) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop(signal.SIGKILL)  # mid-load: requests are in flight
    stop.set()
    for t in threads:
        t.join(30)
    assert server.returncode == -signal.SIGKILL and len(answered) >= 60
    again = Server(tmp_path, "--data-dir", str(data)).start()
    try:
        missing = [uid for uid in answered if again.order(uid)[0] != 200]
        assert missing == [], f"{len(missing)} of {len(answered)} acknowledged orders lost"
        assert again.request("GET", "/_sandbox/health")[0] == 200
    finally:
        again.stop()
