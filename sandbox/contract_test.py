"""`refund-sandbox contract-test`: schemathesis with a bundled contract against any server.

The same settings the project's own test suite uses (tests/test_contracts.py): a fixed seed,
bounded examples, every check, the rejection and business-rule statuses each contract
declares in `info`, and documented 5xx allowed only for the operations that document them.
Runs the schemathesis command line, which prints progress and a readable report, and can
write JUnit XML for CI systems.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox.core.contracts import HTTP_METHODS, parse

TENANT_HEADER = "X-Sandbox-Tenant"

#: What a warning schemathesis may print means for a contract, said before the run.
NOTES = {
    "nuweb": (
        "schemathesis may warn 'Schema validation mismatch' on POST /v1/orders/refund. That is expected: "
        "a schema-valid refund names a random orderId (404 unless it hits one of the tenant's orders) or "
        "refundSplits that do not name the order's payments or add up to the refund (422, a rule of the "
        "API that a JSON schema cannot express), so nearly every fuzzed refund is refused. The warning "
        "changes neither the verdict nor the exit code; a violation would be listed as a failure."),
}

#: Schemathesis's own default for schema-valid requests.
POSITIVE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def native_5xx(operation: dict[str, Any]) -> list[str]:
    """The 5xx an operation answers by itself: not the shared `Injected<status>` responses,
    which only a fault rule sends, so a real 500 from a crash is still caught."""
    return [str(status) for status, response in operation.get("responses", {}).items()
            if str(status).startswith("5")
            and not str((response or {}).get("$ref", "")).rsplit("/", 1)[-1].startswith("Injected")]


def settings_for(spec: dict[str, Any], *, seed: int, max_examples: int, deterministic: bool = True) -> dict[str, Any]:
    """Schemathesis config (as for Config.from_dict) for one contract.

    `deterministic` (the test suite's mode) derives the data from each test rather than from
    `seed`; the command turns it off so that its `--seed` chooses the data.
    """
    info = spec["info"]
    config: dict[str, Any] = {
        "seed": seed,
        "generation": {"max-examples": max_examples, "database": "none", "deterministic": deterministic,
                       "allow-x00": False},  # NUL in a string is refused on purpose (sandbox.core.body)
        "checks": {
            "negative_data_rejection": {"expected-statuses": [str(s) for s in info["x-sandbox-rejection-statuses"]]},
            "positive_data_acceptance": {"expected-statuses": POSITIVE_DEFAULT
                                         + [str(s) for s in info["x-sandbox-rule-statuses"]]},
        },
    }
    allowed = []
    for item in spec["paths"].values():
        for method in HTTP_METHODS:
            op = item.get(method)
            documented = native_5xx(op or {})
            if op and documented:
                allowed.append({"include-operation-id": op["operationId"],
                                "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx",
                                                                                        *documented]}}})
    if allowed:
        config["operations"] = allowed
    return config


def _toml(config: dict[str, Any]) -> str:
    """The few shapes `settings_for` produces, as TOML (top-level keys before any table)."""
    lines = [f"seed = {config['seed']}", "", "[generation]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in config["generation"].items()]
    for check, values in config["checks"].items():
        lines += ["", f"[checks.{check}]", f"expected-statuses = {json.dumps(values['expected-statuses'])}"]
    for op in config.get("operations", []):
        statuses = op["checks"]["not_a_server_error"]["expected-statuses"]
        lines += ["", "[[operations]]", f"include-operation-id = {json.dumps(op['include-operation-id'])}",
                  f"checks.not_a_server_error.expected-statuses = {json.dumps(statuses)}"]
    return "\n".join(lines) + "\n"


def command(contract: Path, base_url: str, config_file: Path, *, headers: list[str], junit_xml: Path | None,
            workers: int = 1) -> list[str]:
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config_file), "run", str(contract),
           "--url", base_url, "--phases", "examples,coverage,fuzzing", "--workers", str(workers)]
    for header in headers:
        cmd += ["-H", header]
    if junit_xml is not None:
        cmd += ["--report", "junit", "--report-junit-path", str(junit_xml)]
    return cmd


def tenant_header(headers: list[str]) -> str | None:
    """The X-Sandbox-Tenant value among `--header 'NAME: VALUE'` arguments, if one is given."""
    for header in headers:
        name, _, value = header.partition(":")
        if name.strip().lower() == TENANT_HEADER.lower():
            return value.strip()
    return None


def fresh_tenant() -> str:
    """A tenant name no earlier run used: contract-<date>-<random>."""
    return f"contract-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def run(contracts_dir: Path, provider: str, base_url: str, *, headers: list[str], max_examples: int, seed: int,
        junit_xml: Path | None) -> int:
    """Run the contract test; the exit code is schemathesis's (0: no violation)."""
    contract = Path(contracts_dir) / f"{provider}.openapi.yaml"
    if not contract.exists():
        raise FileNotFoundError(f"no contract for {provider!r} in {contracts_dir}")
    config = settings_for(parse(contract), seed=seed, max_examples=max_examples, deterministic=False)
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "schemathesis.toml"
        config_file.write_text(_toml(config), encoding="utf-8")
        return subprocess.call(command(contract, base_url, config_file, headers=headers, junit_xml=junit_xml),
                               cwd=tmp)
