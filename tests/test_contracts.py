"""Schemathesis over every contract in contracts/, in-process against the Flask app.

Examples, coverage and fuzzing phases; all checks on, positive and negative data, a fixed
seed and bounded examples, so runs are deterministic. Each provider's documented 5xx is
allowed by `not_a_server_error` only for the operations whose contract documents it.
Schema-violating requests must be refused with the contract's validation statuses, not
with a lenient 404/409/5xx. Every response is also checked by the app's own self-check
(conftest), which feeds the registry test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from schemathesis.checks import not_a_server_error

from sandbox.contract_test import native_5xx, settings_for

from conftest import ROOT, shared_app
from contract_auth import AppSlot, register_contract_credential

CONTRACTS = sorted((ROOT / "contracts").glob("*.openapi.yaml"))
SEED = 20261123
MAX_EXAMPLES = 25
PROVIDER_CONTRACTS = [p for p in CONTRACTS if not p.name.startswith("control.")]


def _config(path: Path):
    """The settings `refund-sandbox contract-test` uses: each contract says, in `info`, how its API
    refuses malformed requests (`x-sandbox-rejection-statuses`: nothing lenient like 404 or 5xx
    unless the API really answers so) and which statuses a well-formed request can get from a
    business rule (`x-sandbox-rule-statuses`, e.g. Purple Dot's CURRENCY_MISMATCH 400)."""
    settings = settings_for(yaml.safe_load(path.read_text()), seed=SEED, max_examples=MAX_EXAMPLES)
    settings.pop("operations", None)  # documented 5xx are allowed per case below (no [[operations]] in pytest)
    return schemathesis.Config.from_dict(settings)


APP, FAULTED_APP = AppSlot(), AppSlot()  # filled by the module fixture below


@pytest.fixture(scope="module", autouse=True)
def apps():
    """The app every generated request goes to, and one where every provider answers 500."""
    with shared_app() as app, shared_app() as faulted, APP.holding(app), FAULTED_APP.holding(faulted):
        register_contract_credential(app.test_client())
        client = faulted.test_client()
        register_contract_credential(client)
        for path in PROVIDER_CONTRACTS:
            assert client.post("/_sandbox/faults", json={"provider": path.name.split(".")[0],
                                                         "status": 500}).status_code == 201
        yield


def _load(path: Path):
    schema = schemathesis.openapi.from_path(path, config=_config(path))
    schema.app = APP
    # The dashboard's form posts need a CSRF token read from one of its pages, which generated
    # requests cannot have (they all get the documented 403): tests/test_ui.py covers them.
    return schema.exclude(method="POST", path_regex="^/_sandbox/ui")


SCHEMAS = {path.name.split(".")[0]: _load(path) for path in CONTRACTS}


def _documented_5xx(case) -> bool:
    return bool(native_5xx(case.operation.definition.raw))


@schemathesis.pytest.parametrize(**SCHEMAS)
def test_contract(case):
    excluded = [not_a_server_error] if _documented_5xx(case) else []
    case.call_and_validate(excluded_checks=excluded)


# ----------------------------------------------- the same machinery with a 500 fault active


def _load_faulted(path: Path):
    """Positive data only (the fault answers before the body is read), fewer examples: every
    answer past authentication is the injected 500, which must match the contract."""
    settings = settings_for(yaml.safe_load(path.read_text()), seed=SEED, max_examples=5)
    settings.pop("operations", None)
    settings["generation"]["mode"] = "positive"
    settings["phases"] = {"coverage": {"enabled": False}}
    schema = schemathesis.openapi.from_path(path, config=schemathesis.Config.from_dict(settings))
    schema.app = FAULTED_APP
    return schema


FAULTED = {path.name.split(".")[0]: _load_faulted(path) for path in PROVIDER_CONTRACTS}


@schemathesis.pytest.parametrize(**FAULTED)
def test_contract_with_a_500_fault_active(case):
    response = case.call_and_validate(excluded_checks=[not_a_server_error])
    assert response.status_code in (401, 403, 500), response.status_code


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_contract_is_valid_openapi_31(path):
    spec, _ = read_from_filename(str(path))
    assert spec["openapi"].startswith("3.1")
    validate(spec)


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_every_operation_names_its_source(path):
    """Contracts come from documents: every operation says which (x-sandbox-source)."""
    spec = yaml.safe_load(path.read_text())
    missing = [f"{method.upper()} {route}" for route, item in spec["paths"].items() for method, op in item.items()
               if isinstance(op, dict) and "operationId" in op
               and "x-sandbox-source" not in op and "x-sandbox-source" not in spec["info"]]
    assert not missing, f"operations without x-sandbox-source: {missing}"
