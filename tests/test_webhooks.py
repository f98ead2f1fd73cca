"""The webhook deliverer against a real local HTTP receiver: delivery, retries, failures, isolation."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.core.webhooks import Deliverer

ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1 that records each POST and answers a programmable status sequence."""

    def __init__(self) -> None:
        self.statuses: list[int] = [200]  # answered in order; the last one repeats
        self.gate: threading.Event | None = None  # when set up, a handler holds its request until released (max 0.5 s)
        self.received: list[dict] = []
        self._lock = threading.Lock()
        self._calls = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.gate is not None:
                    receiver.gate.wait(0.5)
                with receiver._lock:
                    status = receiver.statuses[min(receiver._calls, len(receiver.statuses) - 1)]
                    receiver._calls += 1
                    request = {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                    receiver.received.append(request)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture
def make_deliverer():
    """Build Deliverers with fast backoff; every one is stopped at teardown."""
    made: list[Deliverer] = []

    def make(**kwargs) -> Deliverer:
        kwargs.setdefault("backoff_seconds", 0.01)
        kwargs.setdefault("timeout_seconds", 2.0)
        deliverer = Deliverer(**kwargs)
        made.append(deliverer)
        return deliverer

    yield make
    for deliverer in made:
        deliverer.stop()


def recorder():
    records: list[dict] = []
    return records, records.append


def test_delivery_to_a_200_receiver_posts_json_once(receiver, make_deliverer):
    deliverer = make_deliverer()
    records, on_attempt = recorder()
    payload = {"event": "refund.succeeded", "id": "rf_1", "amount": "8.99", "nested": {"ok": True}}
    deliverer.submit(receiver.url, payload, on_attempt)
    assert deliverer.wait_idle(5)

    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request["path"] == "/hook"
    assert request["json"] == payload
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Sandbox-Attempt"] == "1"
    assert len(records) == 1
    record = records[0]
    assert record["attempt"] == 1 and record["status"] == 200 and record["error"] is None
    assert record["delivered"] is True and record["final"] is True
    assert set(record) == {"attempt", "at", "status", "error", "delivered", "final"}
    assert re.fullmatch(ISO_MS, record["at"])


def test_a_500_is_retried_and_the_retry_delivers(receiver, make_deliverer):
    receiver.statuses = [500, 200]
    deliverer = make_deliverer()
    records, on_attempt = recorder()
    deliverer.submit(receiver.url, {"n": 1}, on_attempt)
    assert deliverer.wait_idle(5)

    assert [r["headers"]["X-Sandbox-Attempt"] for r in receiver.received] == ["1", "2"]
    assert all(r["json"] == {"n": 1} for r in receiver.received)
    assert [r["attempt"] for r in records] == [1, 2]
    first, second = records
    assert (first["status"], first["delivered"], first["final"]) == (500, False, False)
    assert isinstance(first["error"], str)
    assert (second["status"], second["delivered"], second["final"]) == (200, True, True)


def test_a_receiver_that_always_fails_gets_exactly_max_attempts(receiver, make_deliverer):
    receiver.statuses = [500]
    deliverer = make_deliverer(max_attempts=3)
    records, on_attempt = recorder()
    deliverer.submit(receiver.url, {"n": 1}, on_attempt)
    assert deliverer.wait_idle(5)

    assert [r["headers"]["X-Sandbox-Attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert [(r["attempt"], r["status"], r["delivered"], r["final"]) for r in records] == [
        (1, 500, False, False), (2, 500, False, False), (3, 500, False, True)]


def test_an_unreachable_url_records_errors_without_status(make_deliverer):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    deliverer = make_deliverer(max_attempts=2)
    records, on_attempt = recorder()
    deliverer.submit(f"http://127.0.0.1:{port}/hook", {"n": 1}, on_attempt)
    assert deliverer.wait_idle(5)

    assert [r["attempt"] for r in records] == [1, 2]
    for record in records:
        assert record["status"] is None and record["delivered"] is False
        assert isinstance(record["error"], str) and record["error"]
    assert [r["final"] for r in records] == [False, True]


def test_submit_returns_before_a_slow_receiver_has_answered(receiver, make_deliverer):
    receiver.gate = threading.Event()  # the handler holds each request until released (or 0.5 s pass)
    deliverer = make_deliverer()
    records, on_attempt = recorder()
    deliverer.submit(receiver.url, {"slow": True}, on_attempt)
    # A blocking submit would only return after the handler recorded the request.
    assert receiver.received == []
    assert records == []
    receiver.gate.set()
    assert deliverer.wait_idle(5)
    assert [r["json"] for r in receiver.received] == [{"slow": True}]
    assert [r["delivered"] for r in records] == [True]


def test_a_raising_on_attempt_does_not_stop_retries_or_later_deliveries(receiver, make_deliverer, caplog):
    receiver.statuses = [500, 200]
    deliverer = make_deliverer()
    calls: list[dict] = []

    def explode(record):
        calls.append(record)
        raise RuntimeError("callback bug")

    with caplog.at_level(logging.ERROR, logger="sandbox.webhooks"):
        deliverer.submit(receiver.url, {"n": 1}, explode)
        assert deliverer.wait_idle(5)
        records, on_attempt = recorder()
        deliverer.submit(receiver.url, {"n": 2}, on_attempt)
        assert deliverer.wait_idle(5)

    assert [c["attempt"] for c in calls] == [1, 2]  # the retry still happened after the first callback raised
    assert [r["json"] for r in receiver.received] == [{"n": 1}, {"n": 1}, {"n": 2}]
    assert [(r["delivered"], r["final"]) for r in records] == [(True, True)]
    logged = [r.exc_info[1] for r in caplog.records if r.name == "sandbox.webhooks" and r.exc_info]
    assert [str(exc) for exc in logged] == ["callback bug", "callback bug"]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/hook", "file:///etc/passwd", "127.0.0.1:8080/hook", "http:///nohost"])
def test_submit_refuses_a_non_http_url(url, make_deliverer):
    deliverer = make_deliverer()
    records, on_attempt = recorder()
    with pytest.raises(ValueError):
        deliverer.submit(url, {"n": 1}, on_attempt)
    assert deliverer.wait_idle(1)
    assert records == []
