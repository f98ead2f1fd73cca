"""`refund-sandbox contract-test`: schemathesis with a bundled contract against any server.

The same settings the project's own test suite uses (tests/test_contracts.py): a fixed seed,
bounded examples, every check, the rejection and business-rule statuses each contract
declares in `info`, and documented 5xx allowed only for the operations that document them.
Runs schemathesis's `run` command in this process with that configuration given as a
`schemathesis.Config` object (no schemathesis.toml written); it prints progress and a readable
report, and can write JUnit XML for CI systems.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.cli import run as schemathesis_run

from sandbox.core.contracts import HTTP_METHODS, parse
from sandbox.core.tenancy import HEADER as TENANT_HEADER

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
    """Schemathesis configuration (the dictionary `schemathesis.Config.from_dict` takes) for one contract.

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


def arguments(contract: Path, base_url: str, *, headers: list[str], junit_xml: Path | None,
              workers: int = 1) -> list[str]:
    """The options of `schemathesis run` for one contract; the settings come from `settings_for`."""
    args = [str(contract), "--url", base_url, "--phases", "examples,coverage,fuzzing", "--workers", str(workers)]
    for header in headers:
        args += ["-H", header]
    if junit_xml is not None:
        args += ["--report", "junit", "--report-junit-path", str(junit_xml)]
    return args


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
    config = schemathesis.Config.from_dict(settings_for(parse(contract), seed=seed, max_examples=max_examples,
                                                         deterministic=False))
    # `schemathesis run` takes its configuration object from the click context (where its own
    # group puts what it read from schemathesis.toml): handing it ours needs no file.
    try:
        schemathesis_run.main(arguments(contract, base_url, headers=headers, junit_xml=junit_xml),
                              prog_name="schemathesis run", obj=config)
    except SystemExit as done:
        return int(done.code or 0)
    return 0
