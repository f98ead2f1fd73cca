"""The dashboard over HTTP (Flask test client): every page and form, every documented status
(200, 303, 400, 401, 403, 404), CSRF, the token login, pagination, the live timeline's
fragment and what must never be shown. The browser tests (test_ui_browser.py) drive the
same pages end to end in Chromium.
"""

from __future__ import annotations

import re

import pytest

from sandbox.ui import forms

from conftest import tracked_app

TENANT = "qa-ui"
TOKEN = "ui-control-token-5d1e"
PD_TOKEN = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}
PAGES = ["/_sandbox/ui", "/_sandbox/ui/reset", "/_sandbox/ui/scenarios", "/_sandbox/ui/providers/fire/orders",
         "/_sandbox/ui/providers/shoplazza/orders/1232123", "/_sandbox/ui/timeline", "/_sandbox/ui/timeline/rows",
         "/_sandbox/ui/notifications", "/_sandbox/ui/faults", "/_sandbox/ui/faults/codes", "/_sandbox/ui/login"]
POSTS = ["/_sandbox/ui/reset", "/_sandbox/ui/tenants", "/_sandbox/ui/scenarios/shoplazza.paid", "/_sandbox/ui/faults",
         "/_sandbox/ui/faults/flt_1/delete", "/_sandbox/ui/faults/clear", "/_sandbox/ui/clock", "/_sandbox/ui/logout"]


def csrf(client, path: str = "/_sandbox/ui") -> str:
    """The CSRF token of the session the client's cookie holds (read from a page's form)."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def post(client, path: str, **form: str):
    return client.post(path, data={"csrf_token": csrf(client), "tenant": TENANT, **form})


@pytest.fixture
def token_client():
    app = tracked_app(control_token=TOKEN)
    yield app.test_client()
    app.extensions["refund_sandbox"].store.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_html_for_the_tenant_and_links_keep_it(client, path):
    response = client.get(f"{path}?tenant={TENANT}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    links = re.findall(r'href="(/_sandbox/ui[^"]*)"', html)
    assert all(f"tenant={TENANT}" in link for link in links if "/static/" not in link)


@pytest.mark.parametrize("method,path", [("GET", p) for p in PAGES] + [("POST", p) for p in POSTS]
                         + [("POST", "/_sandbox/ui/login"), ("GET", "/_sandbox/ui/seeded/x"),
                            ("GET", "/_sandbox/ui/static/ui.css")])
def test_an_invalid_tenant_is_a_400_page(client, method, path):
    response = client.open(f"{path}?tenant=not%20a%20tenant", method=method)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "tenant must match" in response.get_data(as_text=True)


@pytest.mark.parametrize("method,path", [("GET", p) for p in PAGES if not p.endswith("/login")]
                         + [("POST", p) for p in POSTS] + [("GET", "/_sandbox/ui/seeded/x")])
def test_with_a_control_token_every_route_asks_for_it(token_client, method, path):
    response = token_client.open(path, method=method)
    assert response.status_code == 401 and 'name="token"' in response.get_data(as_text=True)
    assert TOKEN not in response.get_data(as_text=True)


def test_the_control_token_header_opens_the_dashboard_too(token_client):
    response = token_client.get("/_sandbox/ui", headers={"X-Sandbox-Control-Token": TOKEN})
    assert response.status_code == 200
    response = token_client.post("/_sandbox/ui/faults?tenant=hdr", data={"delay_ms": "5"},
                                 headers={"X-Sandbox-Control-Token": TOKEN})
    assert response.status_code == 303  # no CSRF token needed: a browser never sends this header cross-site


def test_login_sets_an_http_only_session_and_refuses_a_wrong_token(token_client):
    assert token_client.get("/_sandbox/ui/login").status_code == 200
    wrong = token_client.post("/_sandbox/ui/login", data={"token": "nope", "next": "/_sandbox/ui/faults"})
    assert wrong.status_code == 401 and "not the control token" in wrong.get_data(as_text=True)
    right = token_client.post("/_sandbox/ui/login", data={"token": TOKEN, "next": "https://evil.example/"})
    assert right.status_code == 303 and right.headers["Location"] == "/_sandbox/ui"  # never off-site
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    assert token_client.get("/_sandbox/ui/faults").status_code == 200
    out = token_client.post("/_sandbox/ui/logout", data={"csrf_token": csrf(token_client)})
    assert out.status_code == 303
    assert token_client.get("/_sandbox/ui").status_code == 401


def test_without_a_token_login_just_opens_the_dashboard(client):
    assert client.post("/_sandbox/ui/login", data={"next": "/_sandbox/ui/faults"}).headers["Location"] == \
        "/_sandbox/ui/faults"
    client.get("/_sandbox/ui")
    assert client.post("/_sandbox/ui/logout", data={"csrf_token": csrf(client)}).status_code == 303


@pytest.mark.parametrize("path", POSTS)
def test_a_post_without_the_csrf_token_is_403_and_changes_nothing(client, path):
    client.post("/_sandbox/scenarios/nuweb.paid_online", headers={"X-Sandbox-Tenant": TENANT})
    client.get("/_sandbox/ui")  # a session cookie, but no token in the form
    response = client.post(path, data={"tenant": TENANT, "csrf_token": "0" * 64, "seconds": "60", "name": "x",
                                       "delay_ms": "5"})
    assert response.status_code == 403 and "CSRF" in response.get_data(as_text=True)
    faults = client.get("/_sandbox/faults", headers={"X-Sandbox-Tenant": TENANT}).get_json()["faults"]
    orders = client.get("/_sandbox/ui/providers/nuweb/orders?tenant=qa-ui").get_data(as_text=True)
    assert faults == [] and "5 order(s)" in orders


def test_seeding_from_the_form_redirects_to_the_handles(client):
    response = post(client, "/_sandbox/ui/scenarios/fire.deuna_paid", count="2", seed="11",
                    **{"override.account_uid": "acc-ui-1", "override.metadata": '{"aggregator_order_id": "A-1"}'})
    assert response.status_code == 303 and "/_sandbox/ui/seeded/" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    refs = re.findall(r'data-testid="order-ref">([^<]+)<', html)
    assert len(refs) == 2 and "account: acc-ui-1" in html and f"X-Sandbox-Tenant: {TENANT}" in html
    same = client.post("/_sandbox/scenarios/fire.deuna_paid", json={"count": 2, "seed": 11},
                       headers={"X-Sandbox-Tenant": "elsewhere"}).get_json()
    assert [o["order_ref"] for o in same["orders"]] == refs  # the control plane's own seeding
    assert client.get(f"{response.headers['Location'].split('?')[0]}?tenant=other").status_code == 404


@pytest.mark.parametrize("form,message", [({"count": "0"}, "count"), ({"count": "x"}, "count"),
                                          ({"override.refund_outcome": "maybe"}, "refund_outcome"),
                                          ({"override.settle_seconds": "soon"}, "settle_seconds")])
def test_seeding_refuses_bad_input_with_a_400_page(client, form, message):
    response = post(client, "/_sandbox/ui/scenarios/shoplazza.pending_refund", **form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_unknown_things_are_404_pages(client):
    assert post(client, "/_sandbox/ui/scenarios/nope.nothing").status_code == 404
    for path in ["/_sandbox/ui/seeded/unknown", "/_sandbox/ui/providers/nope/orders",
                 "/_sandbox/ui/providers/nuweb/orders/424242", "/_sandbox/ui/timeline?provider=nope",
                 "/_sandbox/ui/timeline/rows?provider=nope", "/_sandbox/ui/notifications?provider=nope",
                 "/_sandbox/ui/faults/codes?provider=nope", "/_sandbox/ui/static/secrets.py"]:
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html", path
    assert post(client, "/_sandbox/ui/faults/flt_999/delete").status_code == 404


@pytest.mark.parametrize("path", ["/_sandbox/ui/providers/fire/orders?page=0", "/_sandbox/ui/timeline/rows?after=x",
                                  "/_sandbox/ui/faults/codes?status=700"])
def test_bad_query_values_are_400_pages(client, path):
    assert client.get(path).status_code == 400


def test_orders_are_paginated_newest_first_with_their_refund_state(client):
    for count in (100, 20):
        client.post("/_sandbox/scenarios/nextcommerce.captured", json={"count": count},
                    headers={"X-Sandbox-Tenant": TENANT})
    first = client.get(f"/_sandbox/ui/providers/nextcommerce/orders?tenant={TENANT}").get_data(as_text=True)
    last = client.get(f"/_sandbox/ui/providers/nextcommerce/orders?tenant={TENANT}&page=3").get_data(as_text=True)
    assert "123 order(s)" in first and "page 1 of 3" in first and first.count("<tr><td>") == 50
    assert last.count("<tr><td>") == 23 and "100101" in last  # the fixtures are the oldest
    assert "88.00 USD" in last  # fixture 100101: paid 88.00, nothing refunded yet


def test_the_timeline_fragment_brings_only_new_exchanges(client):
    headers = {**PD_TOKEN, "X-Sandbox-Tenant": TENANT}
    client.post("/purpledot/admin/api/v1/refund", headers=headers,
                json={"id": "r-1", "order": "5550000000001", "line_items": [{"id": "14440000000011", "quantity": 1}]})
    rows = client.get(f"/_sandbox/ui/timeline/rows?tenant={TENANT}&after=0").get_data(as_text=True)
    assert 'hx-swap-oob="afterbegin:#timeline"' in rows and "/purpledot/admin/api/v1/refund" in rows
    newest = re.search(r"after=(\d+)", rows).group(1)
    again = client.get(f"/_sandbox/ui/timeline/rows?tenant={TENANT}&after={newest}").get_data(as_text=True)
    assert "/purpledot/" not in again and 'hx-trigger="every 1s"' in again
    assert PD_TOKEN["X-Purple-Dot-Access-Token"] not in rows and "[redacted]" in rows


def test_an_order_page_shows_only_the_exchanges_that_touched_it(client):
    headers = {**PD_TOKEN, "X-Sandbox-Tenant": TENANT}
    for order, line in (("5550000000001", "14440000000011"), ("5550000000002", "14440000000021")):
        client.post("/purpledot/admin/api/v1/refund", headers=headers,
                    json={"id": f"r-{order}", "order": order, "line_items": [{"id": line, "quantity": 1}]})
    html = client.get(f"/_sandbox/ui/providers/purpledot/orders/5550000000001?tenant={TENANT}").get_data(as_text=True)
    assert html.count('data-testid="exchange"') == 1 and "r-5550000000001" in html and "r-5550000000002" not in html


def test_faults_are_added_listed_deleted_and_cleared(client):
    assert post(client, "/_sandbox/ui/faults", provider="nuweb", operation="refund_order", status="503",
                times="2", code="").status_code == 303
    assert post(client, "/_sandbox/ui/faults", drop_connection="on", status="500").status_code == 400
    assert post(client, "/_sandbox/ui/faults", status="").status_code == 400  # no effect at all
    assert post(client, "/_sandbox/ui/faults", provider="nuweb", operation="nope", status="500").status_code == 400
    faults = client.get("/_sandbox/faults", headers={"X-Sandbox-Tenant": TENANT}).get_json()["faults"]
    assert [(f["provider"], f["operation"], f["status"], f["remaining"]) for f in faults] == \
        [("nuweb", "refund_order", 503, 2)]
    assert faults[0]["id"] in client.get(f"/_sandbox/ui/faults?tenant={TENANT}").get_data(as_text=True)
    assert post(client, f"/_sandbox/ui/faults/{faults[0]['id']}/delete").status_code == 303
    post(client, "/_sandbox/ui/faults", delay_ms="1")
    assert post(client, "/_sandbox/ui/faults/clear").status_code == 303
    assert client.get("/_sandbox/faults", headers={"X-Sandbox-Tenant": TENANT}).get_json()["faults"] == []


def test_the_fault_form_passes_a_code_on_only_when_given(client, monkeypatch):
    loaded = []
    real = forms.load

    def spy(schema, data, status):
        loaded.append(dict(data))
        known = {f.data_key or n for n, f in schema.fields.items()}
        return real(schema, {k: v for k, v in data.items() if k in known}, status)  # whatever FAULT takes today

    monkeypatch.setattr(forms, "load", spy)
    post(client, "/_sandbox/ui/faults", provider="purpledot", status="400", code="CURRENCY_MISMATCH")
    post(client, "/_sandbox/ui/faults", provider="purpledot", status="400", code="  ")
    assert loaded[0]["code"] == "CURRENCY_MISMATCH" and "code" not in loaded[1]


def test_code_choices_come_from_the_contracts(client):
    codes = client.get("/_sandbox/ui/faults/codes?provider=purpledot&operation=refund&status=404").get_data(
        as_text=True)
    assert re.findall(r'<option value="([A-Z_]+)">', codes) == ["UNKNOWN_ORDER", "UNKNOWN_LINE_ITEMS"]
    codes = client.get("/_sandbox/ui/faults/codes?provider=shoplazza&operation=refund_order&status=400").get_data(
        as_text=True)
    assert re.findall(r'<option value="([a-z_]+)">', codes) == ["bad_request", "store_inactive"]
    page = client.get("/_sandbox/ui/faults").get_data(as_text=True)
    assert '<option value="refund_order">' in page and "<option>406</option>" in page  # Shoplazza's 406


def test_the_clock_form_advances_the_tenant_clock_and_settles(client):
    headers = {"access-token": "sandbox-token-0123456789abcdef0123", "X-Sandbox-Tenant": TENANT}
    assert client.post("/shoplazza/openapi/2022-01/orders/1232126/refund", headers=headers).get_json()["status"] == \
        "pending"
    back = f"/_sandbox/ui/providers/shoplazza/orders/1232126?tenant={TENANT}"
    assert post(client, "/_sandbox/ui/clock", seconds="-5").status_code == 400
    response = post(client, "/_sandbox/ui/clock", seconds="300", back=back)
    assert response.status_code == 303 and response.headers["Location"] == back
    html = client.get(back).get_data(as_text=True)
    assert 'data-testid="order-state">refunded<' in html and 'data-testid="refund-status">finished' in html


def test_tenants_are_created_opened_and_reset(client):
    response = post(client, "/_sandbox/ui/tenants", name="qa-bob")
    assert response.status_code == 303 and response.headers["Location"] == "/_sandbox/ui?tenant=qa-bob"
    assert "<option selected>qa-bob</option>" in client.get("/_sandbox/ui?tenant=qa-bob").get_data(as_text=True)
    assert post(client, "/_sandbox/ui/tenants", name="../etc").status_code == 400
    client.post("/_sandbox/scenarios/nuweb.paid_online", headers={"X-Sandbox-Tenant": TENANT})
    assert post(client, "/_sandbox/ui/reset").status_code == 303
    assert client.get("/_sandbox/nuweb/orders/1001", headers={"X-Sandbox-Tenant": TENANT}).status_code == 200
    home = client.get(f"/_sandbox/ui?tenant={TENANT}").get_data(as_text=True)
    assert 'data-testid="orders-nuweb">4<' in home


def test_notifications_page_shows_the_outbox_but_not_webhook_secrets(client):
    client.post("/_sandbox/webhooks", json={"url": "http://user:pw@127.0.0.1:9/hook?secret=s3cr3t"},
                headers={"X-Sandbox-Tenant": TENANT})
    html = client.get(f"/_sandbox/ui/notifications?tenant={TENANT}&provider=nuweb").get_data(as_text=True)
    assert "http://127.0.0.1:9/hook" in html and "s3cr3t" not in html and "pw@" not in html


def test_assets_are_served_with_their_types_and_htmx_with_its_licence(client):
    htmx = client.get("/_sandbox/ui/static/htmx-2.0.11.min.js")
    assert htmx.status_code == 200 and htmx.mimetype == "text/javascript" and b'version:"2.0.11"' in htmx.data
    licence = client.get("/_sandbox/ui/static/htmx-LICENSE.txt")
    assert licence.mimetype == "text/plain" and b"Zero-Clause BSD" in licence.data
    assert client.get("/_sandbox/ui/static/ui.css").mimetype == "text/css"


@pytest.mark.parametrize("url", [
    "/_sandbox/ui?tenant=%00", "/_sandbox/ui?tenant=%FF%FE", "/_sandbox/ui?tenant=" + "a" * 65,
    "/_sandbox/ui/providers/fire/orders?page=-1", "/_sandbox/ui/providers/fire/orders?page=" + "9" * 400,
    "/_sandbox/ui/providers/fire/orders/%00", "/_sandbox/ui/providers/%FF/orders", "/_sandbox/ui/seeded/" + "9" * 20000,
    "/_sandbox/ui/timeline/rows?after=-1", "/_sandbox/ui/faults/codes?status=" + "9" * 400,
    "/_sandbox/ui/static/..%2F__init__.py", "/_sandbox/ui/static/%2e%2e/guard.py"])
def test_hostile_path_and_query_values_get_a_4xx_page_and_change_nothing(client, url):
    before = client.get("/_sandbox/requests?limit=1").get_json()["total"], client.get("/_sandbox/faults").get_json()
    response = client.get(url)
    assert 400 <= response.status_code < 500 and response.mimetype == "text/html", (url, response.status_code)
    assert b"Traceback" not in response.data
    assert (client.get("/_sandbox/requests?limit=1").get_json()["total"],
            client.get("/_sandbox/faults").get_json()) == before


def test_a_hostile_overrides_field_is_the_forms_400_not_a_crash(client):
    """Deep JSON in a form's overrides field: the bounds every JSON body keeps, then the 400 page."""
    response = post(client, "/_sandbox/ui/scenarios/fire.card_paid", overrides="[" * 100_000, count="1")
    assert response.status_code == 400 and response.mimetype == "text/html"
