"""pytest plugin (entry point `refund_sandbox`): fixtures for projects that test against the sandbox.

- `refund_sandbox`: the sandbox served in-process on a free 127.0.0.1 port (one server per test
  session), handed to each test as a fresh tenant: `.base_url("nuweb")`, `.tenant`, `.headers`,
  `.seed(...)`, `.fault(...)`, `.requests(...)`, `.notifications()`, `.order(...)`,
  `.register_credential(...)`, `.reset()`.
- `refund_sandbox_client`: a Flask test client of a fresh in-process sandbox (no sockets).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported in the fixtures: loading the plugin must not load the app
    from sandbox.testing import LiveSandbox, SandboxHandle


@pytest.fixture(scope="session")
def refund_sandbox_server() -> Iterator[LiveSandbox]:
    from sandbox.testing import LiveSandbox

    server = LiveSandbox()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def refund_sandbox(refund_sandbox_server: LiveSandbox) -> SandboxHandle:
    """A fresh tenant of the session's sandbox server: nothing another test did is visible."""
    return refund_sandbox_server.handle()


@pytest.fixture
def refund_sandbox_client():
    """A Flask test client of a fresh in-process sandbox."""
    from sandbox.app import create_app
    from sandbox.settings import Settings

    app = create_app(Settings.load(log_requests=False))
    try:
        yield app.test_client()
    finally:
        app.extensions["refund_sandbox"].deliverer.stop()
        app.extensions["refund_sandbox"].store.close()
