"""A request belongs to its tenant before anything can fail (issue 14's bug).

Parallel CI jobs each send `X-Sandbox-Tenant`: a request of theirs that fails auth, names an
unknown path or uses a wrong method must be journaled under their tenant and echo it, so a
job sees its own failures in `GET /_sandbox/requests` and never another job's.
"""

from __future__ import annotations

import pytest

PD_REFUND = "/purpledot/admin/api/v1/refund"
PD_TOKEN = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}


@pytest.mark.parametrize("method, path, headers, status", [
    ("POST", PD_REFUND, {}, 401),                                   # no credential
    ("POST", "/purpledot/admin/api/v1/no-such-route", PD_TOKEN, 404),  # unknown route
    ("GET", PD_REFUND, PD_TOKEN, 405),                               # wrong method
    ("POST", "/shoplazza/openapi/2022-01/orders/1232123/refund", {"access-token": "short"}, 401),  # malformed
])
def test_a_refused_request_is_journaled_under_its_tenant_and_echoes_it(client, method, path, headers, status):
    response = client.open(path, method=method, headers={**headers, "X-Sandbox-Tenant": "job-7"},
                           json={"id": "r", "order": "1"} if method == "POST" else None)
    assert response.status_code == status
    assert response.headers["X-Sandbox-Tenant"] == "job-7"
    mine = client.get("/_sandbox/requests", headers={"X-Sandbox-Tenant": "job-7"}).get_json()["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in mine] == [(method, path, status)]
    assert client.get("/_sandbox/requests").get_json()["requests"] == [], "nothing lands in default"


def test_a_registered_credential_still_routes_to_its_tenant_unless_the_header_names_one(client):
    client.post("/_sandbox/credentials", json={"provider": "purpledot", "credential": "c" * 32, "tenant": "staging"})
    body = {"id": "ctx-1", "order": "5550000000001", "amount": "1.00", "currency": "USD"}
    answer = client.post(PD_REFUND, json=body, headers={"X-Purple-Dot-Access-Token": "c" * 32})
    assert answer.status_code == 200 and answer.headers["X-Sandbox-Tenant"] == "staging"
    answer = client.post(PD_REFUND, json={**body, "id": "ctx-2"},
                         headers={"X-Purple-Dot-Access-Token": "c" * 32, "X-Sandbox-Tenant": "other"})
    assert answer.headers["X-Sandbox-Tenant"] == "other"
    staged = client.get("/_sandbox/requests", headers={"X-Sandbox-Tenant": "staging"}).get_json()["requests"]
    assert [e["request"]["body"]["id"] for e in staged] == ["ctx-1"]


def test_an_invalid_tenant_header_is_a_400_where_the_tenant_matters(client):
    response = client.post(PD_REFUND, json={"id": "x", "order": "1"}, headers={**PD_TOKEN, "X-Sandbox-Tenant": "../x"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "X-Sandbox-Tenant"
    assert client.get("/_sandbox/health", headers={"X-Sandbox-Tenant": "../x"}).status_code == 200
