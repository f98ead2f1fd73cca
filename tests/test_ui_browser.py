"""The dashboard end to end in a real browser: Playwright driving Debian's Chromium against a
live sandbox on 127.0.0.1 (sandbox.testing.LiveSandbox, with response validation on).

Seed from a form, watch a refund arrive in the live timeline, break the next call with a
fault, settle a pending Shoplazza refund with the clock, reset, and log in with the
control token. The screenshots in docs/ (shown in the README) are taken here, when
REFUND_SANDBOX_SCREENSHOTS=docs. Chromium is
required: without /usr/bin/chromium these tests fail (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from sandbox.testing import LiveSandbox

from conftest import ROOT, shared, track
from live_server import call

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
#: Where the screenshots go: a temporary folder, unless REFUND_SANDBOX_SCREENSHOTS names one
#: (`REFUND_SANDBOX_SCREENSHOTS=docs pytest tests/test_ui_browser.py` retakes the README's), so
#: an ordinary test run leaves the committed pictures alone.
DOCS = ROOT / os.environ.get("REFUND_SANDBOX_SCREENSHOTS", str(Path(tempfile.gettempdir()) / "refund-sandbox-shots"))
PD_TOKEN = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}
SHOPLAZZA_TOKEN = {"access-token": "sandbox-token-0123456789abcdef0123"}
CONTROL_TOKEN = "qa-control-token-7f3a9c"


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def sandbox():
    live = LiveSandbox(validate_responses=True)  # its answers are checked against the contracts like every app's
    with shared(live.app):
        yield live
    live.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


TENANTS = {"seed": "qa-seeding", "a_refund": "qa-timeline", "a_fault": "qa-faults", "advancing": "qa-clock",
           "reset": "qa-reset", "control": "qa-login"}


@pytest.fixture
def tenant(request) -> str:
    """A tenant of its own per test, with a stable name (the screenshots show it)."""
    return next(name for start, name in TENANTS.items() if request.node.name.startswith(f"test_{start}_"))


def shot(page, name: str) -> None:
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / f"dashboard-{name}.png"), full_page=False)


def test_seed_a_scenario_from_its_form_and_see_its_orders(sandbox, page, tenant):
    page.goto(f"{sandbox.url}/_sandbox/ui/scenarios?tenant={tenant}")
    card = page.get_by_test_id("scenario-purpledot.preorder")
    card.get_by_label("Count").fill("2")
    card.get_by_label("Faker seed").fill("7")
    card.get_by_label("currency").fill("EUR")
    card.get_by_role("button", name="Seed").click()
    expect(page).to_have_url(f"{sandbox.url}/_sandbox/ui/seeded/" + page.url.rsplit("/", 1)[1])
    refs = page.get_by_test_id("order-ref").all_inner_texts()
    assert len(refs) == 2
    for ref in refs:  # really in the tenant, in EUR, as the control plane sees it
        status, body = call(sandbox.url, "GET", f"/_sandbox/purpledot/orders/{ref}",
                            headers={"X-Sandbox-Tenant": tenant})
        assert status == 200 and body["order"]["currency"] == "EUR"
    expect(page.get_by_test_id("tenant")).to_have_text(tenant)
    shot(page, "seeded")
    page.get_by_role("link", name="All purpledot orders").click()
    table = page.get_by_test_id("orders")
    for ref in refs:
        expect(table.get_by_role("link", name=ref)).to_be_visible()
    expect(page.get_by_text("6 order(s)")).to_be_visible()  # 4 fixtures + 2 seeded, this tenant only
    shot(page, "orders")


def test_a_refund_over_the_api_appears_in_the_live_timeline(sandbox, page, tenant):
    page.goto(f"{sandbox.url}/_sandbox/ui/timeline?tenant={tenant}")
    page.evaluate("window.notReloaded = true")
    body = {"id": "ui-refund-1", "order": "5550000000001", "line_items": [{"id": "14440000000011", "quantity": 1}],
            "shipping": True}
    status, answer = call(sandbox.url, "POST", "/purpledot/admin/api/v1/refund", body,
                          {**PD_TOKEN, "X-Sandbox-Tenant": tenant})
    assert status == 200, answer
    row = page.get_by_test_id("exchange").filter(has_text="/purpledot/admin/api/v1/refund")
    expect(row).to_have_count(1, timeout=5000)
    assert page.evaluate("window.notReloaded") is True  # arrived without a reload
    row.locator("summary").click()
    expect(row.locator("pre.curl")).to_contain_text("X-Purple-Dot-Access-Token: [redacted]")
    expect(row.locator("pre.curl")).to_contain_text('"id":"ui-refund-1"')
    assert PD_TOKEN["X-Purple-Dot-Access-Token"] not in page.content()
    shot(page, "timeline")
    # the order's page lists the same exchange and the refund
    page.goto(f"{sandbox.url}/_sandbox/ui/providers/purpledot/orders/5550000000001?tenant={tenant}")
    expect(page.get_by_test_id("refunded")).to_have_text("30.00 USD")
    expect(page.get_by_test_id("exchange")).to_have_count(1)


def test_a_fault_added_on_the_page_fails_the_next_call(sandbox, page, tenant):
    page.goto(f"{sandbox.url}/_sandbox/ui/faults?tenant={tenant}")
    page.get_by_label("Provider").select_option("purpledot")
    page.get_by_label("Operation").select_option("refund")
    page.get_by_label("Status").select_option("503")
    page.get_by_label("Times").fill("1")
    expect(page.locator("#fault-codes option[value=SERVICE_UNAVAILABLE]")).to_have_count(1)  # Purple Dot's one 503
    page.get_by_label("Status").select_option("400")
    expect(page.locator("#fault-codes option[value=CURRENCY_MISMATCH]")).to_have_count(1)  # read from the contract
    page.get_by_label("Status").select_option("503")
    page.get_by_role("button", name="Add fault").click()
    expect(page.get_by_test_id("notice")).to_be_visible()
    expect(page.get_by_test_id("faults")).to_contain_text("status 503")
    shot(page, "faults")
    body = {"id": "ui-fault-1", "order": "5550000000001", "line_items": [{"id": "14440000000011", "quantity": 1}]}
    headers = {**PD_TOKEN, "X-Sandbox-Tenant": tenant}
    status, answer = call(sandbox.url, "POST", "/purpledot/admin/api/v1/refund", body, headers)
    assert status == 503 and answer["meta"] == {"success": False}, answer
    status, answer = call(sandbox.url, "POST", "/purpledot/admin/api/v1/refund", body, headers)
    assert status == 200, answer  # times 1: the rule is spent
    page.reload()
    expect(page.get_by_text("No fault rules in this tenant.")).to_be_visible()


def test_advancing_the_clock_settles_a_pending_shoplazza_refund(sandbox, page, tenant):
    headers = {**SHOPLAZZA_TOKEN, "X-Sandbox-Tenant": tenant}
    status, answer = call(sandbox.url, "POST", "/shoplazza/openapi/2022-01/orders/1232126/refund", None, headers)
    assert status == 200 and answer["status"] == "pending", answer
    page.goto(f"{sandbox.url}/_sandbox/ui/providers/shoplazza/orders/1232126?tenant={tenant}")
    expect(page.get_by_test_id("order-state")).to_have_text("refunding")
    expect(page.get_by_test_id("refund-status")).to_contain_text("pending")
    expect(page.get_by_test_id("pending")).not_to_have_text("0.00 USD")
    page.get_by_label("Advance by (seconds)").fill("301")
    page.get_by_role("button", name="Advance").click()
    expect(page.get_by_test_id("order-state")).to_have_text("refunded")
    expect(page.get_by_test_id("refund-status")).to_have_text("finished")
    expect(page.get_by_test_id("pending")).to_have_text("0.00 USD")
    shot(page, "order")


def test_reset_asks_first_then_puts_the_tenant_back(sandbox, page, tenant):
    call(sandbox.url, "POST", "/_sandbox/scenarios/nuweb.paid_online", {"count": 3},
         {"X-Sandbox-Tenant": tenant})
    page.goto(f"{sandbox.url}/_sandbox/ui?tenant={tenant}")
    expect(page.get_by_test_id("orders-nuweb")).to_have_text("7")
    shot(page, "overview")
    page.get_by_role("link", name="Reset this tenant…").click()
    expect(page.get_by_role("heading")).to_contain_text(f"Reset tenant {tenant}?")
    page.get_by_role("button", name=f"Yes, reset {tenant}").click()
    expect(page.get_by_test_id("notice")).to_contain_text("back to the fixtures")
    expect(page.get_by_test_id("orders-nuweb")).to_have_text("4")


def test_control_token_login_keeps_a_session_cookie(browser, tenant):
    live = LiveSandbox(validate_responses=True, control_token=CONTROL_TOKEN)
    track(live.app)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        answer = page.goto(f"{live.url}/_sandbox/ui/faults?tenant={tenant}")
        assert answer.status == 401
        page.get_by_label("Control token").fill("not-the-token")
        page.get_by_role("button", name="Open the dashboard").click()
        expect(page.get_by_role("alert")).to_contain_text("not the control token")
        page.get_by_label("Control token").fill(CONTROL_TOKEN)
        page.get_by_role("button", name="Open the dashboard").click()
        expect(page).to_have_url(f"{live.url}/_sandbox/ui/faults?tenant={tenant}")
        cookie, = [c for c in context.cookies() if c["name"] == "sandbox_ui_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and CONTROL_TOKEN not in cookie["value"]
        page.get_by_label("Provider").select_option("nuweb")
        page.get_by_label("Delay (ms)").fill("5")
        page.get_by_role("button", name="Add fault").click()  # a POST: the CSRF token went along
        expect(page.get_by_test_id("faults")).to_contain_text("delay 5 ms")
        assert CONTROL_TOKEN not in page.content()
        page.goto(f"{live.url}/_sandbox/ui?tenant={tenant}")  # the session holds across pages
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_label("Control token")).to_be_visible()
    finally:
        context.close()
        live.stop()
