"""The command line: `serve` as a real process on 127.0.0.1, and `scenarios`, `seed`, `reset`.

Every server is started with `python -m sandbox serve` on a free port and stopped by its PID
(SIGTERM, then SIGKILL if it lingers) in a finally block or fixture teardown.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import main
from sandbox.providers import PROVIDERS

from conftest import FIRE_ACCOUNT, FIRE_DEUNA, FIRE_REFUND, LOGIN_BODY
from live_server import API_KEY, Server, call, free_port, running

REFUND_BODY = {"reason": "dup", "vendor_uid": "vendor-uid-abc"}
ONLY_REFUND = FIRE_REFUND.removeprefix("/fire")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    with running(tmp_path_factory.mktemp("shared")) as server:
        yield server


@pytest.fixture
def no_proxy(monkeypatch):
    """The CLI's own urllib calls go straight to 127.0.0.1 whatever the environment says."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


ACCESS_LINE = re.compile(r'sandbox\.access .*"(?P<method>[A-Z]+) (?P<path>\S+)" (?P<status>\d{3}) ')


# --------------------------------------------------------------------------- serve


def test_serve_answers_health_and_logs_one_line_per_request(tmp_path):
    server = Server(tmp_path)
    try:
        server.start()
        status, health = server.request("GET", "/_sandbox/health")
        assert status == 200
        assert health["status"] == "ok" and health["providers"] == sorted(p.key for p in PROVIDERS)
        assert server.request("GET", "/fire/no/such/route")[0] == 404
        assert server.request("POST", "/_sandbox/reset")[0] == 200
        assert server.request("DELETE", "/_sandbox/health")[0] == 405
    finally:
        assert server.stop() == 0
    log = server.stderr()
    lines = [m.groupdict() for m in ACCESS_LINE.finditer(log)]
    assert lines.count({"method": "GET", "path": "/_sandbox/health", "status": "200"}) == 2  # startup poll + ours
    assert lines.count({"method": "GET", "path": "/fire/no/such/route", "status": "404"}) == 1
    assert lines.count({"method": "POST", "path": "/_sandbox/reset", "status": "200"}) == 1
    assert lines.count({"method": "DELETE", "path": "/_sandbox/health", "status": "405"}) == 1
    assert len(lines) == 5
    assert f"serving http://127.0.0.1:{server.port} " in log
    assert "Logging error" not in log and "Traceback" not in log


def test_serve_only_fire_mounts_fire_at_the_root(tmp_path):
    server = Server(tmp_path, "--only", "fire")
    try:
        server.start()
        headers = server.fire_headers(prefix="")
        status, body = server.request("POST", ONLY_REFUND.format(uid=FIRE_DEUNA), REFUND_BODY, headers)
        assert status == 200, body
        assert body["data"]["status"] == "CANCELED"
        assert body["pathname"] == ONLY_REFUND.format(uid=FIRE_DEUNA)
        assert server.order(FIRE_DEUNA)[1]["status"] == "CANCELED"
        # Nothing answers under /fire any more.
        assert server.request("POST", FIRE_REFUND.format(uid=FIRE_DEUNA), REFUND_BODY, headers)[0] == 404
        assert call(server.base, "POST", "/fire/api/authentication/login", LOGIN_BODY,
                    {"x-api-key": API_KEY, "x-client-channel": "integration", "account": FIRE_ACCOUNT})[0] == 404
        status, providers = server.request("GET", "/_sandbox/providers")
        assert status == 200 and providers["providers"][0]["mount"] == "/"
        assert server.request("GET", "/openapi.json")[1]["servers"] == [{"url": "/"}]
    finally:
        server.stop()


def test_acknowledged_writes_survive_kill_9(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    first = Server(tmp_path, "--data-dir", str(data_dir), port=port)
    try:
        first.start()
        status, seeded = first.request("POST", "/_sandbox/scenarios/fire.card_paid", {"seed": 11})
        assert status == 201
        seeded_ref = seeded["orders"][0]["order_ref"]
        status, body = first.request("POST", FIRE_REFUND.format(uid=FIRE_DEUNA), REFUND_BODY,
                                     first.fire_headers())
        assert status == 200 and body["data"]["payment_status"] == "REFUNDED"
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        first.stop(signal.SIGKILL)

    second = Server(tmp_path, "--data-dir", str(data_dir))
    try:
        second.start()
        status, order = second.order(FIRE_DEUNA)
        assert status == 200
        assert (order["status"], order["payment_status"]) == ("CANCELED", "REFUNDED")
        status, order = second.order(seeded_ref)
        assert status == 200 and order["status"] == "CREATED"
        assert order["payment_methods"][0]["processor"] == "Kushki"
        status, listed = second.request("GET", "/_sandbox/fire/refunds")
        assert status == 200 and [r["order_uid"] for r in listed["refunds"]] == [FIRE_DEUNA]
        # Tokens are in memory only: after a restart clients log in again, and the order stays refunded.
        status, body = second.request("POST", FIRE_REFUND.format(uid=FIRE_DEUNA), REFUND_BODY,
                                      second.fire_headers())
        assert status == 200 and body["data"]["status"] == "CANCELED"
        assert len(second.request("GET", "/_sandbox/fire/refunds")[1]["refunds"]) == 1
    finally:
        second.stop()


def test_sigterm_stops_the_server_cleanly_with_exit_code_0(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(tmp_path, "--data-dir", str(data_dir))
    try:
        server.start()
        status, _ = server.request("POST", FIRE_REFUND.format(uid=FIRE_DEUNA), REFUND_BODY, server.fire_headers())
        assert status == 200
        pid = server.proc.pid
        os.kill(pid, signal.SIGTERM)
        assert server.proc.wait(timeout=15) == 0
    finally:
        returncode = server.stop()
    assert returncode == 0
    assert "Traceback" not in server.stderr()
    again = Server(tmp_path, "--data-dir", str(data_dir))
    try:
        again.start()
        assert again.order(FIRE_DEUNA)[1]["status"] == "CANCELED"
    finally:
        assert again.stop() == 0


def test_strict_auth_accepts_only_registered_credentials(tmp_path):
    server = Server(tmp_path, "--strict-auth")
    try:
        server.start()
        login = {"x-client-channel": "integration", "account": FIRE_ACCOUNT}
        status, body = server.request("POST", "/fire/api/authentication/login", LOGIN_BODY,
                                      {"x-api-key": API_KEY, **login})
        assert status == 401, body
        assert body["error"]["code"] == "unauthorized"

        status, body = server.request("POST", "/_sandbox/credentials",
                                      {"provider": "fire", "credential": "ci-key", "tenant": "ci-1"})
        assert status == 201, body
        assert body["tenant"] == "ci-1"

        headers = server.fire_headers(api_key="ci-key")
        status, body = server.request("POST", FIRE_REFUND.format(uid=FIRE_DEUNA), REFUND_BODY, headers)
        assert status == 200, body
        assert server.order(FIRE_DEUNA, tenant="ci-1")[1]["status"] == "CANCELED"
        assert server.order(FIRE_DEUNA)[1]["status"] == "CREATED"
        assert server.order(FIRE_DEUNA, tenant="default")[1]["status"] == "CREATED"
        # A bearer token alone does not do: the api key must be registered too.
        status, _ = server.request("POST", FIRE_REFUND.format(uid=FIRE_DEUNA), REFUND_BODY,
                                   {**headers, "x-api-key": API_KEY})
        assert status == 401
    finally:
        server.stop()


# --------------------------------------------------------------------------- scenarios, seed, reset


def test_scenarios_lists_the_catalogue():
    result = CliRunner().invoke(main, ["scenarios"])
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.output.splitlines() if line.strip()]
    assert {"fire.deuna_paid", "fire.deuna_missing_token", "fire.card_paid"} <= set(names)
    as_json = CliRunner().invoke(main, ["scenarios", "--json"])
    assert as_json.exit_code == 0
    assert {i["name"] for i in json.loads(as_json.output)["scenarios"]} == set(names)


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name("refund-sandbox")
    result = subprocess.run([str(script), "scenarios"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "fire.deuna_paid" in result.stdout


def test_seed_offline_is_deterministic_and_served_afterwards(tmp_path):
    data_dir = tmp_path / "data"
    runner = CliRunner()
    args = ["seed", "fire.deuna_paid", "--seed", "7", "--data-dir", str(data_dir)]
    first, second = runner.invoke(main, args), runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    one, two = json.loads(first.output), json.loads(second.output)
    assert one["seed"] == 7 and one["tenant"] == "default"
    ref = one["orders"][0]["order_ref"]
    assert ref == two["orders"][0]["order_ref"]
    # Everything but the wall-clock-derived fields (see test_seed_is_reproducible_later) is the same.
    clock_fields = ("created_at", "updated_at", "order_code")
    assert [{**o, "order": {k: v for k, v in o["order"].items() if k not in clock_fields}} for o in one["orders"]] \
        == [{**o, "order": {k: v for k, v in o["order"].items() if k not in clock_fields}} for o in two["orders"]]
    other = runner.invoke(main, ["seed", "fire.deuna_paid", "--seed", "8", "--data-dir", str(tmp_path / "x")])
    assert other.exit_code == 0 and json.loads(other.output)["orders"][0]["order_ref"] != ref

    server = Server(tmp_path, "--data-dir", str(data_dir))
    try:
        server.start()
        status, order = server.order(ref)
        assert status == 200, order
        assert order["status"] == "CREATED" and order["metadata"]["order_token"]
        status, body = server.request("POST", FIRE_REFUND.format(uid=ref), REFUND_BODY, server.fire_headers())
        assert status == 200 and body["data"]["payment_status"] == "REFUNDED"
    finally:
        server.stop()

    reset = runner.invoke(main, ["reset", "--data-dir", str(data_dir)])
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.output) == {"tenant": "default", "reset": True}
    server = Server(tmp_path, "--data-dir", str(data_dir))
    try:
        server.start()
        assert server.order(ref)[0] == 404
        assert server.order(FIRE_DEUNA)[1]["status"] == "CREATED"
    finally:
        server.stop()


def test_seed_is_reproducible_later(tmp_path, monkeypatch):
    """`--seed`: "Same seed, same orders." -- also when the second run comes an hour later.

    Guards against dating scenario orders relative to the wall clock (as Faker's
    date_time_between("-30d", ...) does): a replay with the same seed would get other timestamps.
    """
    import faker.providers.date_time as faker_dates

    real = faker_dates.datetime

    class Clock(real):
        current = real(2026, 3, 30, 12, 0, 0)

        @classmethod
        def now(cls, tz=None):
            return cls.current if tz is None else cls.current.replace(tzinfo=tz)

    monkeypatch.setattr(faker_dates, "datetime", Clock)
    runs = []
    for hour in (12, 13):
        Clock.current = real(2026, 3, 30, hour, 0, 0)
        result = CliRunner().invoke(main, ["seed", "fire.deuna_paid", "--seed", "7",
                                           "--data-dir", str(tmp_path / str(hour))])
        assert result.exit_code == 0, result.output
        runs.append(json.loads(result.output)["orders"][0])
    assert runs[0]["order_ref"] == runs[1]["order_ref"]
    assert runs[0]["order"]["created_at"] == runs[1]["order"]["created_at"]
    assert runs[0] == runs[1]


def test_seed_and_reset_against_a_live_server(shared, no_proxy):
    runner = CliRunner()
    result = runner.invoke(main, ["seed", "fire.deuna_missing_token", "--url", shared.base, "--tenant", "t1",
                                  "--count", "2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    seeded = json.loads(result.output)
    assert seeded["tenant"] == "t1" and len(seeded["orders"]) == 2
    ref = seeded["orders"][0]["order_ref"]
    status, order = shared.order(ref, tenant="t1")
    assert status == 200 and "order_token" not in order["metadata"]
    assert shared.order(ref)[0] == 404  # seeded into t1 only

    result = runner.invoke(main, ["reset", "--url", shared.base + "/", "--tenant", "t1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"tenant": "t1", "reset": True}
    assert shared.order(ref, tenant="t1")[0] == 404


def test_seed_with_an_override_against_a_live_server(shared, no_proxy):
    result = CliRunner().invoke(main, ["seed", "fire.card_paid", "--url", shared.base, "--tenant", "t2",
                                       "--override", "order_code=ORD-FIXED-1"])
    assert result.exit_code == 0, result.output
    ref = json.loads(result.output)["orders"][0]["order_ref"]
    assert shared.order(ref, tenant="t2")[1]["order_code"] == "ORD-FIXED-1"


def test_seed_errors_are_clear_and_exit_non_zero(shared, no_proxy):
    runner = CliRunner()
    nowhere = runner.invoke(main, ["seed", "fire.deuna_paid"])
    assert nowhere.exit_code != 0
    assert "--url" in nowhere.output and "--data-dir" in nowhere.output

    unknown = runner.invoke(main, ["seed", "fire.no_such_scenario", "--url", shared.base])
    assert unknown.exit_code != 0
    assert "404" in unknown.output and "fire.no_such_scenario" in unknown.output

    bad_override = runner.invoke(main, ["seed", "fire.card_paid", "--url", shared.base, "--override", "nonsense"])
    assert bad_override.exit_code != 0 and "KEY=VALUE" in bad_override.output

    dead = runner.invoke(main, ["seed", "fire.deuna_paid", "--url", f"http://127.0.0.1:{free_port()}"])
    assert dead.exit_code != 0 and "cannot reach" in dead.output

    bad_tenant = runner.invoke(main, ["reset", "--url", shared.base, "--tenant", "../x"])
    assert bad_tenant.exit_code != 0 and "400" in bad_tenant.output
