"""The request journal over HTTP: what an entry holds, redaction, filters, paging, the bound,
tenant isolation, and contract mismatches found by --validate-responses."""

from __future__ import annotations

import shutil

import yaml

from conftest import FIRE_CARD, FIRE_LOGIN, FIRE_REFUND, ROOT, fire_headers, tracked_app

STORES = ("memory", "redis")  # tests that take store_url (or client) run on both stores (conftest)
PD_URL, PD_TOKEN = "/purpledot/admin/api/v1/refund", {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}


def journal(client, query: str = "", tenant: str | None = None) -> dict:
    response = client.get(f"/_sandbox/requests{query}", headers={"X-Sandbox-Tenant": tenant} if tenant else {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_entry_holds_the_exchange_with_secrets_redacted(client):
    headers = fire_headers(client)  # a login: client_secret in, accessToken out
    client.post(FIRE_REFUND.format(uid=FIRE_CARD), json={"reason": "r", "vendor_uid": "v"}, headers=headers)
    refund, login = journal(client)["requests"]
    assert (refund["provider"], refund["operation"], refund["method"], refund["status"]) == \
        ("fire", "refund_order", "POST", 200)
    assert refund["path"] == FIRE_REFUND.format(uid=FIRE_CARD) and refund["answered"] is True
    assert refund["request"]["body"] == {"reason": "r", "vendor_uid": "v"}
    assert refund["response"]["body"]["data"]["payment_status"] == "CANCELED"
    assert refund["request"]["headers"]["Authorization"] == "[redacted]"
    assert refund["request"]["headers"]["X-Api-Key"] == "[redacted]"
    assert refund["request"]["headers"]["Account"] == "acc-uid-12345"
    assert login["operation"] == "login" and login["request"]["body"]["client_secret"] == "[redacted]"
    assert login["response"]["body"] == {"accessToken": "[redacted]"}
    assert headers["Authorization"].split()[1] not in str(journal(client))


def test_bodies_that_are_not_json_are_shown_as_text_unless_they_may_hold_a_secret(client):
    client.post(PD_URL, data="refund please", content_type="text/plain", headers=PD_TOKEN)
    form = "client_id=c&client_secret=s3cr3t-value&grant_type=client_credentials"
    client.post(FIRE_LOGIN, data=form, content_type="application/x-www-form-urlencoded",
                headers={"x-api-key": "pk_test_sandbox01", "x-client-channel": "integration"})
    login, text = journal(client)["requests"]
    assert text["status"] == 400 and text["request"]["body"] == "refund please"
    assert login["status"] == 400 and "withheld" in login["request"]["body"]
    assert "s3cr3t-value" not in str(journal(client))


def test_a_body_too_large_for_the_journal_is_summarised(client):
    big = {"id": "k", "order": "5550000000001", "shipping": True, "note": "x" * 70_000}
    client.post(PD_URL, json=big, headers=PD_TOKEN)
    [entry] = journal(client)["requests"]
    assert entry["status"] == 400 and entry["request"]["body"].endswith("bytes, too large to record]")


def test_errors_carry_their_code(client):
    client.post(PD_URL, json={"id": "x", "order": "nope", "shipping": True}, headers=PD_TOKEN)
    [entry] = journal(client)["requests"]
    assert (entry["status"], entry["error_code"]) == (404, "UNKNOWN_ORDER")


def test_filters_and_paging(client):
    for n in range(5):
        client.post(PD_URL, json={"id": f"k{n}", "order": "nope", "shipping": True}, headers=PD_TOKEN)
    client.post(FIRE_LOGIN, json={}, headers={"x-api-key": "pk_test_abcdef"})
    assert journal(client, "?provider=purpledot")["total"] == 5
    assert journal(client, "?provider=fire&status=400")["total"] == 1
    assert journal(client, "?operation=refund")["total"] == 5
    page = journal(client, "?provider=purpledot&limit=2&offset=1")
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [e["request"]["body"]["id"] for e in page["requests"]] == ["k3", "k2"]  # newest first
    assert journal(client, "?since=2999-01-01T00:00:00Z")["total"] == 0
    assert client.get("/_sandbox/requests?limit=0").status_code == 400
    assert client.get("/_sandbox/requests?provider=nope").status_code == 404


def test_the_journal_is_bounded(store_url):
    client = tracked_app(journal_limit=20, store=store_url).test_client()
    for n in range(60):
        client.post(PD_URL, json={"id": f"k{n}", "order": "nope", "shipping": True}, headers=PD_TOKEN)
    page = journal(client, "?limit=500")
    assert page["total"] == 20 and page["requests"][0]["request"]["body"]["id"] == "k59"
    assert page["requests"][-1]["request"]["body"]["id"] == "k40"


def test_the_journal_is_bounded_across_tenants_oldest_entries_first(store_url):
    client = tracked_app(journal_limit=20, journal_total=30, store=store_url).test_client()
    for tenant, count in (("a", 20), ("b", 15)):
        for n in range(count):
            client.post(PD_URL, json={"id": f"{tenant}{n}", "order": "nope", "shipping": True},
                        headers={**PD_TOKEN, "X-Sandbox-Tenant": tenant})
    a, b = journal(client, "?limit=500", tenant="a"), journal(client, "?limit=500", tenant="b")
    assert (a["total"], b["total"]) == (15, 15)  # the five oldest of all were a's
    assert a["requests"][-1]["request"]["body"]["id"] == "a5" and b["requests"][-1]["request"]["body"]["id"] == "b0"


def test_the_journal_belongs_to_its_tenant_and_reset_clears_it(client):
    client.post(PD_URL, json={"id": "a", "order": "nope", "shipping": True}, headers={**PD_TOKEN,
                                                                                      "X-Sandbox-Tenant": "a"})
    assert journal(client, tenant="a")["total"] == 1 and journal(client, tenant="b")["total"] == 0
    client.post("/_sandbox/reset", headers={"X-Sandbox-Tenant": "a"})
    assert journal(client, tenant="a")["total"] == 0


def test_control_plane_calls_are_not_journaled(client):
    client.get("/_sandbox/health")
    client.post("/_sandbox/scenarios/fire.card_paid")
    assert journal(client)["total"] == 0


def test_a_contract_mismatch_is_journaled(tmp_path):
    """A contract that demands a field the sandbox does not send: the self-check records it."""
    contracts = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", contracts)
    spec = yaml.safe_load((contracts / "purpledot.openapi.yaml").read_text())
    spec["components"]["schemas"]["RefundResponse"]["required"].append("receipt")
    (contracts / "purpledot.openapi.yaml").write_text(yaml.safe_dump(spec))
    app = tracked_app(contracts_dir=contracts)
    client = app.test_client()
    assert client.post(PD_URL, json={"id": "m", "order": "5550000000001", "shipping": True},
                       headers=PD_TOKEN).status_code == 200
    [entry] = journal(client)["requests"]
    assert "receipt" in entry["contract_mismatch"]
    check = app.extensions["refund_sandbox"].selfcheck
    assert check.mismatches and check.mismatches[0]["operation"] == "refund"
    check.mismatches.clear()  # this one was provoked on purpose
