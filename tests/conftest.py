"""Shared fixtures: apps that validate every response against its contract.

Every app built here runs with `validate_responses`, so each response any test provokes
is checked against the contract; the autouse `contract_conformance` fixture fails the test
that produced a mismatch. `PRODUCED` gathers the (contract, operationId, status) triples
seen across the whole session for the status table judged when the session finishes
(tests/status_table.py).
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


_DESELECTED: list = []
_TABLE: dict = {}


def pytest_deselected(items):
    _DESELECTED.extend(items)


def _full_run(session) -> bool:
    """The whole suite: no paths named, no -k, -m, --lf or --sw, nothing deselected, no failures."""
    config = session.config
    narrowed = (config.args_source == pytest.Config.ArgsSource.ARGS or config.getoption("keyword")
                or config.getoption("markexpr") or config.getoption("lf", False)
                or config.getoption("stepwise", False))
    return not narrowed and not _DESELECTED and session.testsfailed == 0


def pytest_sessionfinish(session, exitstatus):
    """The status table (tests/status_table.py), judged once every test has run."""
    from status_table import judge

    from sandbox.core.contracts import Contracts
    from sandbox.providers import PROVIDERS

    native: set = set()
    for app in APPS:
        check = app.extensions["refund_sandbox"].selfcheck
        PRODUCED.update(check.seen)
        native.update(check.native)
    contracts = Contracts(ROOT / "contracts", [*(p.key for p in PROVIDERS), "control"])
    full = _full_run(session)
    text, problems = judge(contracts, PRODUCED, native, ROOT / "README.md", full)
    _TABLE.update(text=text, problems=problems, full=full)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if not _TABLE:
        return
    terminalreporter.section("status table (provider x operation x status)")
    terminalreporter.write_line(_TABLE["text"])
    if not _TABLE["full"]:
        terminalreporter.write_line("partial run: completeness not judged (the full suite judges it)")
    for problem in _TABLE["problems"]:
        terminalreporter.write_line(f"FAILED status table: {problem}", red=True)
