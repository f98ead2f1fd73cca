"""Concurrency, every provider: 16 threads at one order. Different keys never refund more than
the order holds; one idempotency key gives one refund and identical answers.

The threads' transactions are forced to interleave (`racing.interleaved`): without the store's
tenant lock every test here fails on every run, so passing proves the lock does the work."""

from __future__ import annotations

import json

from racing import THREADS, race

from conftest import FIRE_DEUNA, FIRE_REFUND, fire_headers

STORES = ("memory", "redis")  # tests that take a client or app run on both stores (conftest)


def test_fire_one_order_is_refunded_once(app, client):
    headers = fire_headers(client)
    answers = race(app, lambda c, n: c.post(FIRE_REFUND.format(uid=FIRE_DEUNA),
                                            json={"reason": f"r{n}", "vendor_uid": "v"}, headers=headers))
    assert {s for s, _ in answers} == {200}
    assert len(client.get("/_sandbox/fire/refunds").get_json()["refunds"]) == 1
    assert len(client.get("/_sandbox/notifications").get_json()["notifications"]) == 1


def nuweb_auth(client) -> dict[str, str]:
    body = client.post("/nuweb/v1/login", json={"email": "e@x.io", "password": "p", "device_name": "t"}).get_json()
    return {"Authorization": f"Bearer {body['token']}"}


def test_nuweb_different_uuids_refund_the_order_once(app, client):
    auth = nuweb_auth(client)
    answers = race(app, lambda c, n: c.post("/nuweb/v1/orders/refund", json={"orderId": 1002, "uuid": f"u{n}"},
                                            headers=auth))
    values = sorted(body["refundValue"] for _, body in answers)
    assert values == [0] * (THREADS - 1) + [10001]  # one refund of everything, then nothing left
    order = client.get("/nuweb/v1/order?orderId=1002", headers=auth).get_json()
    assert sum(-t["total"] for t in order["transactions"] if t["total"] < 0) == 10001


def test_nuweb_one_uuid_gives_identical_answers(app, client):
    auth = nuweb_auth(client)
    answers = race(app, lambda c, n: c.post("/nuweb/v1/orders/refund", json={"orderId": 1001, "uuid": "same"},
                                            headers=auth))
    assert {s for s, _ in answers} == {200} and len({json.dumps(b, sort_keys=True) for _, b in answers}) == 1
    assert len(client.get("/_sandbox/nuweb/refunds").get_json()["refunds"]) == 1


def test_shoplazza_one_full_refund_the_rest_406(app, client):
    token = {"access-token": "sandbox-token-0123456789abcdef0123"}
    answers = race(app, lambda c, n: c.post("/shoplazza/openapi/2022-01/orders/1232123/refund", headers=token))
    assert sorted(s for s, _ in answers) == [200] + [406] * (THREADS - 1)
    assert len(client.get("/_sandbox/shoplazza/refunds").get_json()["refunds"]) == 1


def test_next_commerce_units_are_never_refunded_twice(app, client):
    auth = {"Authorization": "Bearer " + "a1b2c3d4e5" * 3}
    body = {"refund_lines": [{"line_id": 1011, "quantity": 1, "restock_type": "return"}],
            "transactions": [{"id": 9101, "amount": "22.00"}]}
    answers = race(app, lambda c, n: c.post("/nextcommerce/api/admin/orders/100101/refund/", json=body, headers=auth))
    assert sorted(s for s, _ in answers) == [200, 200] + [400] * (THREADS - 2)  # the line has 2 units
    order = client.get("/nextcommerce/api/admin/orders/100101/", headers=auth).get_json()
    assert order["lines"][0]["current_quantity"] == 0 and len(order["refunds"]) == 2


def test_purple_dot_keys_race_for_units_and_one_key_refunds_once(app, client):
    token = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}
    url, line = "/purpledot/admin/api/v1/refund", {"id": "14440000000011", "quantity": 1}
    answers = race(app, lambda c, n: c.post(url, json={"id": f"k{n}", "order": "5550000000001", "line_items": [line]},
                                            headers=token))
    assert sorted(s for s, _ in answers) == [200, 200] + [400] * (THREADS - 2)
    same = race(app, lambda c, n: c.post(url, json={"id": "one", "order": "5550000000001", "shipping": True},
                                         headers=token))
    assert {s for s, _ in same} == {200} and len({json.dumps(b, sort_keys=True) for _, b in same}) == 1
    assert len(client.get("/_sandbox/purpledot/refunds").get_json()["refunds"]) == 3
