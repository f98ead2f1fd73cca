"""Notifications POSTed to a webhook by the background deliverer, each attempt recorded on the outbox."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import FIRE_CARD, FIRE_REFUND, fire_headers, tracked_app

REFUND_BODY = {"reason": "r", "vendor_uid": "v"}


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers a programmed sequence of statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = statuses, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append({"attempt": self.headers["X-Sandbox-Attempt"], "body": body})
                self.send_response(receiver.statuses[min(len(receiver.received), len(receiver.statuses)) - 1])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made = []

    def make(statuses):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def settle(app, client, tenant="default") -> list[dict]:
    assert app.extensions["refund_sandbox"].deliverer.wait_idle(10)
    return client.get("/_sandbox/notifications", headers={"X-Sandbox-Tenant": tenant}).get_json()["notifications"]


def test_notifications_are_posted_to_the_tenants_webhook(app, client, receiver_factory):
    receiver = receiver_factory([200])
    assert client.post("/_sandbox/webhooks", json={"url": receiver.url}).status_code == 201
    assert client.get("/_sandbox/webhooks").get_json() == {"tenant": "default", "url": receiver.url}
    client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client))
    token = client.post("/nuweb/v1/login", json={"email": "e@x.io", "password": "p", "device_name": "t"}).get_json()
    client.post("/nuweb/v1/orders/refund", json={"orderId": 1001},
                headers={"Authorization": f"Bearer {token['token']}"})
    nuweb, fire = settle(app, client)
    assert all(n["delivered"] is True and [d["status"] for d in n["deliveries"]] == [200] for n in (nuweb, fire))
    assert [(r["attempt"], r["body"]["id"], r["body"]["type"]) for r in receiver.received] == [
        ("1", fire["id"], "order.cancelled"), ("1", nuweb["id"], "customer.refund_notification")]
    assert receiver.received[0]["body"]["payload"]["order_uid"] == FIRE_CARD
    assert receiver.received[1]["body"]["payload"]["refundValue"] == 9800
    # the outbox is the tenant's own
    assert client.get("/_sandbox/notifications", headers={"X-Sandbox-Tenant": "else"}).get_json()["notifications"] \
        == []


def test_a_failed_post_is_retried_and_every_attempt_recorded(app, client, receiver_factory):
    app.extensions["refund_sandbox"].deliverer.backoff_seconds = 0.01
    receiver = receiver_factory([500, 200])
    client.post("/_sandbox/webhooks", json={"url": receiver.url})
    client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client))
    [note] = settle(app, client)
    assert [(d["attempt"], d["status"], d["delivered"]) for d in note["deliveries"]] == [(1, 500, False),
                                                                                        (2, 200, True)]
    assert note["delivered"] is True and [r["attempt"] for r in receiver.received] == ["1", "2"]


def test_a_slow_receiver_never_delays_the_api_answer(app, client, receiver_factory):
    gate = threading.Event()
    receiver = receiver_factory([200])
    handler = receiver.server.RequestHandlerClass
    original = handler.do_POST

    def slow(self):
        gate.wait(5)
        original(self)

    handler.do_POST = slow
    client.post("/_sandbox/webhooks", json={"url": receiver.url})
    response = client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client))
    assert response.status_code == 200 and receiver.received == []  # answered while the POST is still pending
    gate.set()
    assert settle(app, client)[0]["delivered"] is True


def test_webhooks_are_per_tenant_and_the_global_url_applies_otherwise(receiver_factory):
    everyone, mine = receiver_factory([200]), receiver_factory([200])
    app = tracked_app(webhook_url=everyone.url)
    client = app.test_client()
    client.post("/_sandbox/webhooks", json={"url": mine.url}, headers={"X-Sandbox-Tenant": "mine"})
    client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client, tenant="mine"))
    client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client, tenant="other"))
    settle(app, client)
    assert [r["body"]["payload"]["order_uid"] for r in mine.received] == [FIRE_CARD]
    assert len(everyone.received) == 1
    deleted = client.delete("/_sandbox/webhooks", headers={"X-Sandbox-Tenant": "mine"}).get_json()
    assert deleted == {"tenant": "mine", "url": everyone.url}
    app.extensions["refund_sandbox"].deliverer.stop()


def test_without_a_webhook_nothing_is_posted(app, client):
    client.post(FIRE_REFUND.format(uid=FIRE_CARD), json=REFUND_BODY, headers=fire_headers(client))
    [note] = client.get("/_sandbox/notifications").get_json()["notifications"]
    assert "deliveries" not in note and client.get("/_sandbox/webhooks").get_json()["url"] is None


@pytest.mark.parametrize("body", [{"url": "ftp://example.com/x"}, {"url": "not a url"}, {},
                                  {"url": "http://x", "y": 1}])
def test_bad_webhook_urls_are_400(client, body):
    response = client.post("/_sandbox/webhooks", json=body)
    assert response.status_code == 400 and client.get("/_sandbox/webhooks").get_json()["url"] is None
