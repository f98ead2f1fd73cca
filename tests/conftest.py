"""Shared fixtures: apps that validate every response against its contract.

Every app built here runs with `validate_responses`, so each response any test provokes
is checked against the contract; the autouse `contract_conformance` fixture fails the test
that produced a mismatch (`Conformance` says which apps a test answers for). The
(contract, operationId, status) triples every app saw are gathered for the status table
judged when the session finishes (tests/status_table.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from sandbox.app import create_app
from sandbox.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

FIRE_ACCOUNT = "acc-uid-12345"
FIRE_DEUNA = "550e8400-e29b-41d4-a716-446655440000"
FIRE_DEUNA_NO_TOKEN = "6f1c2b9e-3d4a-4c8e-9b7a-2e5d1f0a9c31"
FIRE_CARD = "9a7b3c5d-1e2f-4a6b-8c9d-0e1f2a3b4c5d"
FIRE_OTHER_ACCOUNT = "c0ffee00-0000-4000-8000-000000000001"
FIRE_REFUND = "/fire/api/v4/integrations/sales/aggregator/orders/{uid}/refund"
FIRE_INJECT = "/fire/api/v4/integrations/sales/aggregator/orders"
FIRE_LOGIN = "/fire/api/authentication/login"
LOGIN_BODY = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", "grant_type": "client_credentials"}


class Conformance:
    """Whose self-check a test answers for: the apps it built (`tracked_app` in the test or its
    function fixtures), and the shared apps alive while it ran (`shared_app`, `shared` in
    module fixtures). Each check moves an app's mismatches to the running test and adds what
    it saw to `seen` and `native`, which the status table reads when the session finishes."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str, int]] = set()
        self.native: set[tuple[str, str, int]] = set()
        self.built: list | None = None  # None: no test is running
        self.shared: list = []

    def check(self, apps) -> list[dict]:
        problems = []
        for app in apps:
            selfcheck = app.extensions["refund_sandbox"].selfcheck
            self.seen.update(selfcheck.seen)
            self.native.update(selfcheck.native)
            problems.extend(selfcheck.mismatches)
            selfcheck.mismatches.clear()
        return problems


CONFORMANCE = Conformance()


def build_app(**overrides):
    overrides.setdefault("validate_responses", True)
    overrides.setdefault("log_requests", False)
    app = create_app(Settings.load(env={}, **overrides))
    app.testing = True
    return app


def tracked_app(**overrides):
    """create_app with response validation on, inside a test: its self-check is judged when the
    test ends (`contract_conformance`). Module fixtures use `shared_app` instead."""
    return track(build_app(**overrides))


def track(app):
    """Make the running test answer for `app`'s self-check (an app built some other way, such as
    a LiveSandbox's)."""
    if CONFORMANCE.built is None:
        raise RuntimeError("an app tracked outside a test (at import or in a module fixture): use shared_app()")
    CONFORMANCE.built.append(app)
    return app


@contextmanager
def shared(app):
    """Watch an app that several tests use (a module fixture's): each test that runs while it
    lives answers for the mismatches drawn meanwhile."""
    CONFORMANCE.shared.append(app)
    try:
        yield app
    finally:
        CONFORMANCE.shared.remove(app)
        CONFORMANCE.check([app])


@contextmanager
def shared_app(**overrides):
    """A validating app for a module fixture (see `shared`), closed when the fixture ends."""
    app = build_app(**overrides)
    with shared(app):
        yield app
    app.extensions["refund_sandbox"].store.close()


@pytest.fixture(scope="session")
def redis_server():
    """One real redis-server for the session, started when a test first needs it."""
    from redis_server import RedisServer

    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def store_url(request):
    """Where the test's apps keep their state: None (in process, the default) or the session's
    Redis, emptied first. Modules that set STORES run their tests on each store named there."""
    if getattr(request, "param", "memory") == "memory":
        return None
    server = request.getfixturevalue("redis_server")
    server.flush()
    return server.url


def pytest_generate_tests(metafunc):
    stores = getattr(metafunc.module, "STORES", None)
    if stores and "store_url" in metafunc.fixturenames:
        metafunc.parametrize("store_url", stores, indirect=True)


@pytest.fixture
def app(store_url):
    app = tracked_app(store=store_url)
    yield app
    app.extensions["refund_sandbox"].store.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def contract_conformance():
    """Fail the test whose requests drew a response that breaks its contract."""
    CONFORMANCE.built = []
    yield
    built, CONFORMANCE.built = CONFORMANCE.built, None
    problems = CONFORMANCE.check([*built, *CONFORMANCE.shared])
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

    CONFORMANCE.check(CONFORMANCE.shared)  # a session fixture's app, still alive
    contracts = Contracts(ROOT / "contracts", [*(p.key for p in PROVIDERS), "control"])
    full = _full_run(session)
    text, problems = judge(contracts, CONFORMANCE.seen, CONFORMANCE.native, ROOT / "README.md", full)
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
