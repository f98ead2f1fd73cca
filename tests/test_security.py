"""Security: the control token, issued tokens, the warning beyond loopback, and credentials that never leak
into logs, the journal or error bodies, nor stack traces into responses."""

from __future__ import annotations

import jwt
import pytest
import yaml

from conftest import FIRE_ACCOUNT, ROOT, fire_headers, tracked_app
from live_server import Server

TOKEN = "control-secret-0001"
SPEC = yaml.safe_load((ROOT / "contracts" / "control.openapi.yaml").read_text())
CONTROL_CALLS = [(method.upper(), path.replace("{provider}", "fire").replace("{order_ref}", "x")
                  .replace("{name}", "fire.card_paid"))
                 for path, item in SPEC["paths"].items() for method in item if method in ("get", "post", "delete")
                 and item[method]["operationId"] != "health"
                 and "dashboard" not in item[method].get("tags", ())]  # HTML login page: tests/test_ui.py


@pytest.fixture
def guarded():
    return tracked_app(control_token=TOKEN).test_client()


@pytest.mark.parametrize("method, path", CONTROL_CALLS, ids=[f"{m} {p}" for m, p in CONTROL_CALLS])
def test_every_control_call_but_health_needs_the_token(guarded, method, path):
    for headers in ({}, {"X-Sandbox-Control-Token": "wrong"}):
        response = guarded.open(path, method=method, headers=headers, json={})
        assert response.status_code == 401
        assert response.get_json()["error"]["field"] == "X-Sandbox-Control-Token"
    response = guarded.open(path, method=method, headers={"X-Sandbox-Control-Token": TOKEN}, json={})
    assert response.status_code != 401


def test_health_and_the_providers_stay_open(guarded):
    assert guarded.get("/_sandbox/health").status_code == 200
    response = guarded.post("/purpledot/admin/api/v1/refund", json={"id": "a", "order": "5550000000001",
                                                                    "shipping": True},
                            headers={"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"})
    assert response.status_code == 200


def test_a_token_free_control_plane_needs_no_header(client):
    assert client.post("/_sandbox/reset").status_code == 200


def test_warning_when_listening_beyond_loopback_without_a_token(tmp_path):
    server = Server(tmp_path, "--host", "0.0.0.0")
    server.start()
    assert server.stop() == 0
    assert "beyond loopback without --control-token" in server.stderr()
    quiet = Server(tmp_path, "--host", "0.0.0.0", "--control-token", TOKEN)
    quiet.start()
    assert quiet.stop() == 0
    assert "beyond loopback" not in quiet.stderr()


def test_credentials_never_leak_and_errors_carry_no_traceback(tmp_path):
    secrets = {"fire_key": "pk_test_leakcheck01", "pd": "leakcheck_purple_dot_token_01",
               "nuweb_password": "leakcheck-password-01", "client_secret": "leakcheck-client-secret"}
    server = Server(tmp_path).start()
    try:
        fire = {"x-api-key": secrets["fire_key"], "x-client-channel": "integration", "account": "acc-uid-12345"}
        status, login = server.request("POST", "/fire/api/authentication/login",
                                        {"client_id": "c", "client_secret": secrets["client_secret"],
                                         "grant_type": "client_credentials"}, fire)
        assert status == 201
        token = login["accessToken"]
        bearer = {**fire, "Authorization": f"Bearer {token}"}
        answers = [
            server.request("POST", "/fire/api/v4/integrations/sales/aggregator/orders/nope/refund",
                           {"reason": "r", "vendor_uid": "v"}, bearer),
            server.request("POST", "/fire/api/v4/integrations/sales/aggregator/orders/nope/refund", {"x": 1}, bearer),
            server.request("POST", "/purpledot/admin/api/v1/refund", {"id": "a"},
                           {"X-Purple-Dot-Access-Token": secrets["pd"]}),
            server.request("POST", "/purpledot/admin/api/v1/refund", None, {"X-Purple-Dot-Access-Token": "x"}),
            server.request("POST", "/nuweb/v1/login", {"email": "e@x.io", "password": secrets["nuweb_password"]}),
        ]
        journal = server.request("GET", "/_sandbox/requests?limit=500")[1]
    finally:
        server.stop()
    everything = [str(answers), str(journal), server.stderr()]
    for secret in [*secrets.values(), token]:
        for where, text in zip(("answers", "journal", "log"), everything, strict=True):
            assert secret not in text, f"{secret} leaked into the {where}"
    assert all(400 <= status < 500 for status, _ in answers)
    assert "Traceback" not in str(answers) and 'File "' not in str(answers)


def test_an_issued_token_is_a_signed_jwt_and_a_forged_signature_is_refused():
    """Fire's login issues an HS256 JWT naming its caller, expiring after the token TTL; the same
    claims with another signature are not an issued token, so --strict-auth refuses them."""
    client = tracked_app(strict_auth=True, token_ttl_seconds=600).test_client()
    client.post("/_sandbox/credentials", json={"provider": "fire", "credential": "pk_test_jwt01", "tenant": "jwt"})
    headers = fire_headers(client, api_key="pk_test_jwt01")
    token = headers["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["sub"], claims["iss"], claims["exp"] - claims["iat"]) == (FIRE_ACCOUNT, "refund-sandbox/fire", 600)
    forged = jwt.encode(claims, "not-the-sandbox-secret-0123456789ab", algorithm="HS256")
    url = "/fire/api/v4/integrations/sales/aggregator/orders/nope/refund"
    body = {"reason": "r", "vendor_uid": "v"}
    assert client.post(url, json=body, headers={**headers, "Authorization": f"Bearer {forged}"}).status_code == 401
    assert client.post(url, json=body, headers=headers).status_code == 404
