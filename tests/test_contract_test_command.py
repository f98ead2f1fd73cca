"""`refund-sandbox contract-test` against a live sandbox (passes, writes JUnit XML) and against a
server that breaks the contract (fails, non-zero)."""

from __future__ import annotations

import subprocess
import sys
import threading
import xml.etree.ElementTree as ET

import pytest
from flask import Flask, jsonify
from werkzeug.serving import make_server

from sandbox.testing import LiveSandbox

TOKEN = "contract_command_token_0001"


@pytest.fixture(scope="module")
def sandbox():
    server = LiveSandbox()
    try:
        yield server
    finally:
        server.stop()


def contract_test(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", "contract-test", *args], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def test_the_sandbox_passes_its_own_contract(sandbox, tmp_path):
    handle = sandbox.handle("contract-command")
    handle.register_credential("purpledot", TOKEN)
    report = tmp_path / "junit.xml"
    done = contract_test("--provider", "purpledot", "--base-url", handle.base_url("purpledot"),
                         "--header", f"X-Purple-Dot-Access-Token: {TOKEN}", "--max-examples", "5", "--seed", "3",
                         "--junit-xml", str(report))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Fuzzing" in done.stdout and "No issues found" in done.stdout  # progress per phase, then a verdict
    suite = ET.parse(report).getroot()
    cases = suite.iter("testcase")
    assert [c.get("name") for c in cases] == ["POST /admin/api/v1/refund"]
    assert not list(suite.iter("failure"))


class BrokenPurpleDot:
    """A server that answers every refund 200 with a body the contract does not allow."""

    def __init__(self) -> None:
        app = Flask("broken")

        @app.post("/admin/api/v1/refund")
        def refund():
            return jsonify(ok=True), 200

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


def test_a_violation_fails_with_a_report(tmp_path):
    broken = BrokenPurpleDot()
    try:
        report = tmp_path / "junit.xml"
        done = contract_test("--provider", "purpledot", "--base-url", broken.url, "--header",
                             f"X-Purple-Dot-Access-Token: {TOKEN}", "--max-examples", "3", "--junit-xml", str(report))
    finally:
        broken.stop()
    assert done.returncode != 0
    assert "Response violates schema" in done.stdout or "violat" in done.stdout.lower()
    assert list(ET.parse(report).getroot().iter("failure"))


def test_an_unknown_provider_is_a_clear_error():
    done = contract_test("--provider", "nope", "--base-url", "http://127.0.0.1:9")
    assert done.returncode != 0 and "no contract for 'nope'" in done.stderr
