"""X-Sandbox-Error-Detail: why an auth failure or a tenant- or account-caused 404 happened, in the
header and the journal, while the provider's body stays exactly what the real API sends."""

from __future__ import annotations

import pytest

from conftest import FIRE_OTHER_ACCOUNT, FIRE_REFUND, fire_headers, tracked_app

DETAIL = "X-Sandbox-Error-Detail"
SHOPLAZZA_ORDER = "/shoplazza/openapi/2022-01/orders/{id}"
SHOPLAZZA_TOKEN = "sandbox-token-0123456789abcdef0123"
NUWEB_REFUND = "/nuweb/v1/orders/refund"
NUWEB_TOKEN = "1|" + "a" * 48
SHOPLAZZA_PATTERN = "[A-Za-z0-9_-]{32,128}"


def last_detail(client, tenant=None):
    headers = {"X-Sandbox-Tenant": tenant} if tenant else {}
    return client.get("/_sandbox/requests?limit=1", headers=headers).get_json()["requests"][0]["error_detail"]


@pytest.mark.parametrize("headers, expected", [
    ({}, f"no access-token header: expected 'access-token: <credential>' with the credential matching "
         f"{SHOPLAZZA_PATTERN}"),
    ({"Authorization": f"Bearer {SHOPLAZZA_TOKEN}"}, "; the request has Authorization instead"),
    ({"access-token": "short"}, f"malformed credential in access-token (5 characters): expected 'access-token: "
                                f"<credential>' with the credential matching {SHOPLAZZA_PATTERN}"),
])
def test_shoplazza_401s_say_why_with_one_faithful_body(client, headers, expected):
    response = client.get(SHOPLAZZA_ORDER.format(id=1232123), headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "Unauthorized"}
    assert expected in response.headers[DETAIL]
    assert last_detail(client) == response.headers[DETAIL]


@pytest.mark.parametrize("authorization, expected", [
    (None, "no Authorization header: expected 'Authorization: Bearer <credential>'"),
    ("Token abc", "Authorization does not start with 'Bearer'"),
    ("Bearer 1|abc", r"malformed credential in Authorization (5 characters): expected 'Authorization: Bearer "
                     r"<credential>' with the credential matching [0-9]{1,12}\|[A-Za-z0-9]{40,80}"),
])
def test_nuweb_401s_say_why_with_one_faithful_body(client, authorization, expected):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(NUWEB_REFUND, json={"orderId": 1001}, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"message": "Unauthenticated."}
    assert expected in response.headers[DETAIL]
    assert last_detail(client) == response.headers[DETAIL]


def test_an_unknown_credential_under_strict_auth_says_so():
    client = tracked_app(strict_auth=True).test_client()
    response = client.post(NUWEB_REFUND, json={"orderId": 1001}, headers={"Authorization": f"Bearer {NUWEB_TOKEN}"})
    assert response.status_code == 401 and response.get_json() == {"message": "Unauthenticated."}
    assert response.headers[DETAIL].startswith("unknown credential in Authorization: the sandbox runs with "
                                               "--strict-auth, which accepts only credentials registered")
    assert "tokens issued by this provider's login" in response.headers[DETAIL]


def test_an_expired_token_says_when_it_expired(client):
    headers = fire_headers(client)
    client.post("/_sandbox/clock/advance", json={"seconds": 3601})
    response = client.post(FIRE_REFUND.format(uid=FIRE_OTHER_ACCOUNT), json={"reason": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "access token has expired; log in again"
    assert response.headers[DETAIL].startswith("the token in Authorization expired at ")
    assert "(tenant 'default' clock: " in response.headers[DETAIL]


def test_a_missing_scope_names_the_scopes_the_credential_has(client):
    client.post("/_sandbox/credentials", json={"provider": "shoplazza", "credential": SHOPLAZZA_TOKEN,
                                               "tenant": "default", "scopes": ["read_order"]})
    response = client.post(SHOPLAZZA_ORDER.format(id=1232123) + "/refund", headers={"access-token": SHOPLAZZA_TOKEN})
    assert response.status_code == 403
    assert response.headers[DETAIL] == "this credential is registered with scopes [read_order], which lack write_order"


def test_a_404_names_the_tenant_searched_and_the_one_that_holds_the_order(client):
    seeded = client.post("/_sandbox/scenarios/shoplazza.paid", json={"seed": 3}, headers={"X-Sandbox-Tenant": "qa"})
    ref = seeded.get_json()["orders"][0]["order_ref"]
    response = client.get(SHOPLAZZA_ORDER.format(id=ref), headers={"access-token": SHOPLAZZA_TOKEN})
    assert response.status_code == 404 and response.get_json() == {"errors": ["Order not found"]}
    assert response.headers[DETAIL] == (
        f"no shoplazza order {ref} in tenant 'default' (no X-Sandbox-Tenant header and no credential registered to "
        "a tenant); tenant 'qa' holds it: send X-Sandbox-Tenant: qa (a seeded handle's headers carry it)")
    assert last_detail(client) == response.headers[DETAIL]

    elsewhere = client.get(SHOPLAZZA_ORDER.format(id=1232199), headers={"access-token": SHOPLAZZA_TOKEN,
                                                                        "X-Sandbox-Tenant": "qa"})
    assert elsewhere.headers[DETAIL] == ("no shoplazza order 1232199 in tenant 'qa' (from the X-Sandbox-Tenant "
                                         "header); no other live tenant holds it either")


def test_a_404_in_the_body_addressed_order_says_so_too(client):
    seeded = client.post("/_sandbox/scenarios/nuweb.paid_online", json={"seed": 3}, headers={"X-Sandbox-Tenant": "qa"})
    ref = seeded.get_json()["orders"][0]["order_ref"]
    response = client.post(NUWEB_REFUND, json={"orderId": ref}, headers={"Authorization": f"Bearer {NUWEB_TOKEN}"})
    assert response.status_code == 404
    assert response.get_json() == {"message": f"No query results for model [App\\Models\\Order] {ref}"}
    assert f"no nuweb order {ref} in tenant 'default'" in response.headers[DETAIL]
    assert "tenant 'qa' holds it" in response.headers[DETAIL]


def test_a_fire_order_of_another_account_names_both_accounts(client):
    response = client.post(FIRE_REFUND.format(uid=FIRE_OTHER_ACCOUNT), json={"reason": "x", "vendor_uid": "v"},
                           headers=fire_headers(client))
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert (error["code"], error["message"]) == ("not_found", "order not found for this account")
    assert response.headers[DETAIL] == (
        f"order {FIRE_OTHER_ACCOUNT} belongs to account 'acc-uid-67890', not to 'acc-uid-12345' (the account "
        "header); a seeded handle's headers carry its account")


def test_404s_that_are_not_about_the_tenant_get_no_detail(client):
    purpledot = client.post("/purpledot/admin/api/v1/refund", headers={
        "X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"},
        json={"id": "r-1", "order": "5550000000001", "line_items": [{"id": "999", "quantity": 1}]})
    assert purpledot.status_code == 404 and DETAIL not in purpledot.headers
    assert DETAIL not in client.get("/shoplazza/no/such/route").headers
    assert client.get("/_sandbox/health").headers.get(DETAIL) is None


def test_the_control_token_401_says_missing_or_wrong():
    client = tracked_app(control_token="s3cret-token").test_client()
    missing = client.post("/_sandbox/reset")
    assert missing.status_code == 401 and missing.headers[DETAIL].startswith(
        "X-Sandbox-Control-Token is missing; it needs the token this sandbox was started with")
    wrong = client.post("/_sandbox/reset", headers={"X-Sandbox-Control-Token": "nope"})
    assert wrong.headers[DETAIL].startswith("X-Sandbox-Control-Token does not match the token")
    assert "s3cret-token" not in wrong.headers[DETAIL]


def test_a_404_with_an_oversized_body_stays_a_404(client):
    """The 404's explanation reads the body for the order it names; one over the size limit is
    left alone instead of turning the answer into a 500."""
    big = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = client.open("/shoplazza/openapi/2022-01/orders/999", method="GET", data=big,
                           headers={"access-token": "sandbox-token-0123456789abcdef0123",
                                    "Content-Type": "application/json"})
    assert response.status_code == 404 and response.get_json() == {"errors": ["Order not found"]}
