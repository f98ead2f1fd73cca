"""`seed`, `reset` and `scenarios` as a user runs them: the console command in a child process,
against `refund-sandbox serve` children on 127.0.0.1 (stopped by PID in teardown)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from live_server import Server, call, running

TOKEN = "control-token-for-tests-0123456789"
SCRIPT = str(Path(sys.executable).with_name("refund-sandbox"))


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REFUND_SANDBOX_") and "proxy" not in k.lower()}
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=60, env={**clean, **(env or {})},
                          check=False)


@pytest.fixture(scope="module")
def protected(tmp_path_factory):
    with running(tmp_path_factory.mktemp("protected"), "--control-token", TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def only_nuweb(tmp_path_factory):
    with running(tmp_path_factory.mktemp("only"), "--only", "nuweb") as server:
        yield server


def test_seed_into_a_tenant_hands_out_headers_that_reach_it(protected):
    result = cli("seed", "shoplazza.paid", "--tenant", "qa", "--seed", "3", "--url", protected.base,
                 "--control-token", TOKEN)
    assert result.returncode == 0, result.stderr
    [order] = json.loads(result.stdout)["orders"]
    assert order["headers"] == {"X-Sandbox-Tenant": "qa"}
    status, body = call(protected.base, "POST", f"/shoplazza/openapi/2022-01/orders/{order['order_ref']}/refund",
                        headers={"access-token": "sandbox-token-0123456789abcdef0123", **order["headers"]})
    assert status == 200 and body["status"] == "finished"


def test_seed_and_reset_reach_a_protected_control_plane(protected):
    refused = cli("seed", "fire.card_paid", "--url", protected.base)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("Error: 401")
    assert "--control-token or REFUND_SANDBOX_CONTROL_TOKEN" in refused.stderr

    by_flag = cli("seed", "fire.card_paid", "--tenant", "t-flag", "--url", protected.base, "--control-token", TOKEN)
    assert by_flag.returncode == 0, by_flag.stderr
    ref = json.loads(by_flag.stdout)["orders"][0]["order_ref"]
    headers = {"X-Sandbox-Control-Token": TOKEN, "X-Sandbox-Tenant": "t-flag"}
    assert call(protected.base, "GET", f"/_sandbox/fire/orders/{ref}", headers=headers)[0] == 200

    by_env = cli("reset", "--tenant", "t-flag", "--url", protected.base, env={"REFUND_SANDBOX_CONTROL_TOKEN": TOKEN})
    assert by_env.returncode == 0, by_env.stderr
    assert json.loads(by_env.stdout) == {"tenant": "t-flag", "reset": True}
    assert call(protected.base, "GET", f"/_sandbox/fire/orders/{ref}", headers=headers)[0] == 404

    assert cli("reset", "--url", protected.base).returncode == 1
    wrong = cli("reset", "--url", protected.base, "--control-token", "not-it")
    assert wrong.returncode == 1 and "--control-token" in wrong.stderr


def test_seed_offline_works_with_the_token_in_the_environment(tmp_path):
    """Offline, `seed --data-dir` builds the app from the environment too: the token must pass there."""
    result = cli("seed", "fire.card_paid", "--data-dir", str(tmp_path / "data"),
                 env={"REFUND_SANDBOX_CONTROL_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr


def test_seed_of_a_provider_that_is_not_mounted_is_a_clear_404(only_nuweb):
    refused = cli("seed", "fire.deuna_paid", "--url", only_nuweb.base)
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: 404") and "this sandbox serves only nuweb (--only nuweb)" in refused.stderr
    served = cli("seed", "nuweb.split_payment", "--url", only_nuweb.base)
    assert served.returncode == 0, served.stderr
    assert isinstance(json.loads(served.stdout)["orders"][0]["order_ref"], int)
    status, health = call(only_nuweb.base, "GET", "/_sandbox/health")
    assert status == 200 and health["providers"] == ["nuweb"]


def test_scenarios_json_matches_the_http_catalogue(tmp_path):
    listed = cli("scenarios", "--json")
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    items = {item["name"]: item for item in document["scenarios"]}
    assert items["fire.card_paid"]["overridable"] == ["account_uid", "metadata", "order_code", "store_uid", "uid",
                                                      "vendor_uid"]
    served = Server(tmp_path).start()
    try:
        over_http = call(served.base, "GET", "/_sandbox/scenarios")[1]
    finally:
        served.stop()
    assert document == over_http  # the same document, shape included


def test_scenarios_table_aligns_every_outcome():
    listed = cli("scenarios")
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if line.strip()]
    names = [row.split()[0] for row in rows]
    width = max(map(len, names))
    assert width > 32  # the longest name is longer than the old fixed column
    for row, name in zip(rows, names, strict=True):
        assert row[:width].rstrip() == name and row[width:width + 2] == "  " and row[width + 2] != " "


def test_seed_help_explains_data_dir():
    helped = cli("seed", "--help")
    assert helped.returncode == 0
    text = " ".join(helped.stdout.split())
    assert "--data-dir DIRECTORY Work offline instead of --url" in text
    assert "serve --data-dir DIR" in text and "stop that server first" in text
    assert "REFUND_SANDBOX_CONTROL_TOKEN" in text
