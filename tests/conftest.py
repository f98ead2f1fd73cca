"""Shared fixtures: apps that validate every response against its contract.

Every app built here runs with `validate_responses`, so each response any test provokes
is checked against the contract; the autouse `contract_conformance` fixture fails the test
that produced a mismatch. `PRODUCED` gathers the (contract, operationId, status) triples
seen across the whole session for `test_registry.py::test_every_documented_status_is_produced`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.app import create_app
from sandbox.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
APPS: list = []
PRODUCED: set[tuple[str, str, int]] = set()

FIRE_ACCOUNT = "acc-uid-12345"
FIRE_DEUNA = "550e8400-e29b-41d4-a716-446655440000"
FIRE_DEUNA_NO_TOKEN = "6f1c2b9e-3d4a-4c8e-9b7a-2e5d1f0a9c31"
FIRE_CARD = "9a7b3c5d-1e2f-4a6b-8c9d-0e1f2a3b4c5d"
FIRE_OTHER_ACCOUNT = "c0ffee00-0000-4000-8000-000000000001"
FIRE_REFUND = "/fire/api/v4/integrations/sales/aggregator/orders/{uid}/refund"
FIRE_INJECT = "/fire/api/v4/integrations/sales/aggregator/orders"
FIRE_LOGIN = "/fire/api/authentication/login"
LOGIN_BODY = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", "grant_type": "client_credentials"}


def tracked_app(**overrides):
    """create_app with response validation on; its self-check is watched by the fixtures below."""
    overrides.setdefault("validate_responses", True)
    overrides.setdefault("log_requests", False)
    app = create_app(Settings.load(env={}, **overrides))
    app.testing = True
    APPS.append(app)
    return app


@pytest.fixture
def app():
    app = tracked_app()
    yield app
    app.extensions["refund_sandbox"].store.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def contract_conformance():
    """Fail the test whose requests drew a response that breaks its contract."""
    yield
    problems = []
    for app in APPS:
        check = app.extensions["refund_sandbox"].selfcheck
        PRODUCED.update(check.seen)
        problems.extend(check.mismatches)
        check.mismatches.clear()
    assert not problems, f"responses that do not match their contract: {problems}"


def fire_headers(client, *, account: str = FIRE_ACCOUNT, api_key: str = "pk_test_sandbox01", tenant: str | None = None,
                 **extra: str) -> dict[str, str]:
    """Log in to Fire and return the four headers every Fire call needs."""
    headers = {"x-api-key": api_key, "x-client-channel": "integration", "account": account}
    if tenant:
        headers["X-Sandbox-Tenant"] = tenant
    response = client.post(FIRE_LOGIN, json=LOGIN_BODY, headers=headers)
    assert response.status_code == 201, response.get_json()
    return {**headers, "Authorization": f"Bearer {response.get_json()['accessToken']}", **extra}


def pytest_collection_modifyitems(items):
    """Tests marked run_last read what the others produced: run them at the end."""
    items.sort(key=lambda item: item.get_closest_marker("run_last") is not None)
