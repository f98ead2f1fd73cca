"""A sixth provider is one folder: Acme (tests/acme/), defined inside the test suite, served
by the same machinery as the five real ones with nothing else added to sandbox/.

It proves auth (401 in Acme's own format), tenants, the journal's redaction of Acme's
credential header and its declared secret body field, faults (a declared status and code),
the contract self-check of every answer (unknown routes and 405 included) and scenarios.
"""

from __future__ import annotations

import shutil

import pytest
from acme import HERE, PROVIDER

from sandbox.app import create_app
from sandbox.settings import Settings

from conftest import ROOT, track

KEY = {"X-Acme-Key": "acme_0123456789abcdef"}
REFUND = "/acme/v1/refunds"


@pytest.fixture
def acme(tmp_path):
    """An app serving Acme alone: its contract and fixture beside the control plane's contract."""
    contracts, fixtures = tmp_path / "contracts", tmp_path / "fixtures"
    contracts.mkdir()
    fixtures.mkdir()
    shutil.copy(HERE / "acme.openapi.yaml", contracts)
    shutil.copy(ROOT / "contracts" / "control.openapi.yaml", contracts)
    shutil.copy(HERE / "acme.json", fixtures)
    settings = Settings.load(env={}, validate_responses=True, log_requests=False, contracts_dir=contracts,
                             fixtures_dir=fixtures)
    app = create_app(settings, providers=[PROVIDER])
    app.testing = True
    track(app)  # the test answers for its self-check (conftest.contract_conformance)
    yield app
    app.extensions["refund_sandbox"].store.close()


def test_a_provider_from_the_test_suite_runs_on_the_whole_machinery(acme):
    client = acme.test_client()
    seen = acme.extensions["refund_sandbox"].selfcheck.seen

    # auth: its own scheme and its own error format
    refused = client.post(REFUND, json={"order": "A-1", "amount": 100}, headers={"X-Sandbox-Tenant": "t1"})
    assert refused.status_code == 401 and refused.get_json()["error"] == "unauthenticated"
    assert refused.headers["X-Sandbox-Tenant"] == "t1"

    # tenants: a refund in t1 leaves default untouched
    body = {"order": "A-1", "amount": 1500, "secret_note": "card ending 4242"}
    done = client.post(REFUND, json=body, headers={**KEY, "X-Sandbox-Tenant": "t1"})
    assert done.status_code == 200 and done.get_json() == {"refund": {"order": "A-1", "refunded": 1500}}
    assert client.get("/_sandbox/acme/orders/A-1").get_json()["order"]["refunded"] == 0
    assert client.get("/_sandbox/acme/orders/A-1", headers={"X-Sandbox-Tenant": "t1"}).get_json()["order"][
        "refunded"] == 1500
    too_much = client.post(REFUND, json={"order": "A-1", "amount": 4000}, headers={**KEY, "X-Sandbox-Tenant": "t1"})
    assert too_much.status_code == 422 and too_much.get_json()["error"] == "too_much"

    # the journal: its credential header and its secret field never in clear
    journal = client.get("/_sandbox/requests", headers={"X-Sandbox-Tenant": "t1"})
    assert "acme_0123456789abcdef" not in journal.text and "4242" not in journal.text
    entry = next(e for e in journal.get_json()["requests"] if e["status"] == 200)
    assert entry["request"]["headers"]["X-Acme-Key"] == "[redacted]"
    assert entry["request"]["body"]["secret_note"] == "[redacted]" and entry["request"]["body"]["amount"] == 1500

    # faults: a status and code its contract declares, in its format; an undeclared one refused
    rule = {"provider": "acme", "operation": "refund_order", "status": 503, "code": "overloaded", "times": 1}
    assert client.post("/_sandbox/faults", json=rule).status_code == 201
    faulted = client.post(REFUND, json={"order": "A-1", "amount": 1}, headers=KEY)
    assert faulted.status_code == 503 and faulted.get_json() == {"error": "overloaded",
                                                                 "message": "Acme is overloaded"}
    assert client.post("/_sandbox/faults", json={**rule, "status": 500}).status_code == 400

    # the contract self-check saw every answer, unknown routes and 405s included
    assert client.get("/acme/nope").status_code == 404
    assert client.get(REFUND, headers=KEY).status_code == 405
    assert {("acme", "refund_order", s) for s in (200, 401, 405, 422, 503)} <= seen
    assert ("acme", "(unknown route)", 404) in seen

    # scenarios: seeded through the control plane, with a handle a refund can use
    seeded = client.post("/_sandbox/scenarios/acme.paid", json={"seed": 3}).get_json()["orders"][0]
    again = client.post(REFUND, json={"order": seeded["order_ref"], "amount": 5000}, headers=KEY)
    assert again.status_code == 200 and again.get_json()["refund"]["refunded"] == 5000
    assert [p["key"] for p in client.get("/_sandbox/providers").get_json()["providers"]] == ["acme"]


def test_the_readme_section_names_the_providers_real_fields():
    """The README's "Adding a provider" section names exactly the Provider's fields, and Acme is
    the one folder it describes."""
    import dataclasses
    import re

    from sandbox.core.provider import Provider

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Adding a provider"):]
    section = section[:re.search(r"\n#{1,3} ", section[4:]).start() + 4] if re.search(r"\n#{1,3} ", section[4:]) \
        else section
    listed = section[section.index("with the Provider:"):section.index("\n2. ")]
    named = set(re.findall(r"`(\w+)`", listed))
    fields = {f.name for f in dataclasses.fields(Provider)}
    assert named == fields, f"README names {sorted(named - fields)} that are no field; misses {sorted(fields - named)}"
    assert sorted(p.name for p in HERE.iterdir() if p.name != "__pycache__") == \
        ["__init__.py", "acme.json", "acme.openapi.yaml"]
