"""pytest plugin (entry point `refund_sandbox`): fixtures for projects that test against the sandbox.

- `refund_sandbox`: the sandbox served in-process on a free 127.0.0.1 port (one server per test
  session), handed to each test as a fresh tenant: `.base_url("nuweb")`, `.tenant`, `.headers`,
  `.seed(...)`, `.fault(...)`, `.requests(...)`, `.notifications()`, `.order(...)`,
  `.register_credential(...)`, `.reset()`.
- `refund_sandbox_client`: a Flask test client of a fresh in-process sandbox (no sockets).

Options (command line, or `refund_sandbox_host` / `refund_sandbox_port` in the ini file):
`--refund-sandbox-host` (127.0.0.1) and `--refund-sandbox-port` (0: a free port) say where
the in-process server listens, e.g. 0.0.0.0 and a fixed port for an app running in a
container beside the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported in the fixtures: loading the plugin must not load the app
    from sandbox.testing import LiveSandbox, SandboxHandle


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("refund-sandbox")
    for name, default, text in (("host", "127.0.0.1", "interface the in-process sandbox listens on"),
                                ("port", "0", "its port (0: a free one)")):
        group.addoption(f"--refund-sandbox-{name}", dest=f"refund_sandbox_{name}", default=None,
                        help=f"{text} [{default}]")
        parser.addini(f"refund_sandbox_{name}", f"{text} [{default}]", default=default)


def _option(config: pytest.Config, name: str) -> str:
    return config.getoption(f"refund_sandbox_{name}") or config.getini(f"refund_sandbox_{name}")


@pytest.fixture(scope="session")
def refund_sandbox_server(pytestconfig: pytest.Config) -> Iterator[LiveSandbox]:
    from sandbox.testing import LiveSandbox

    port = _option(pytestconfig, "port")
    if not str(port).isdigit() or int(port) > 65535:
        raise pytest.UsageError(f"--refund-sandbox-port {port!r}: give a port 0-65535 (0: a free one)")
    from sandbox.settings import ConfigError

    try:
        server = LiveSandbox(host=_option(pytestconfig, "host"), port=int(port))
    except ConfigError as exc:  # one line, naming this plugin's own options (not serve's --port)
        message = str(exc).split(";")[0]
        pytest.fail(f"refund-sandbox: {message}; choose another with --refund-sandbox-port / --refund-sandbox-host "
                    "(or the refund_sandbox_port / refund_sandbox_host ini keys)", pytrace=False)
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
        app.extensions["refund_sandbox"].close()
