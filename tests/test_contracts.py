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

from sandbox.contract_test import settings_for

from conftest import ROOT, tracked_app
from contract_auth import register_contract_credential

CONTRACTS = sorted((ROOT / "contracts").glob("*.openapi.yaml"))
SEED = 20261123
MAX_EXAMPLES = 25

def _config(path: Path):
    """The settings `refund-sandbox contract-test` uses: each contract says, in `info`, how its API
    refuses malformed requests (`x-sandbox-rejection-statuses`: nothing lenient like 404 or 5xx
    unless the API really answers so) and which statuses a well-formed request can get from a
    business rule (`x-sandbox-rule-statuses`, e.g. Purple Dot's CURRENCY_MISMATCH 400)."""
    settings = settings_for(yaml.safe_load(path.read_text()), seed=SEED, max_examples=MAX_EXAMPLES)
    settings.pop("operations", None)  # documented 5xx are allowed per case below (no [[operations]] in pytest)
    return schemathesis.Config.from_dict(settings)


APP = tracked_app()
CLIENT = APP.test_client()


def _load(path: Path):
    schema = schemathesis.openapi.from_path(path, config=_config(path))
    schema.app = APP
    # The dashboard's form posts need a CSRF token read from one of its pages, which generated
    # requests cannot have (they all get the documented 403): tests/test_ui.py covers them.
    return schema.exclude(method="POST", path_regex="^/_sandbox/ui")


SCHEMAS = {path.name.split(".")[0]: _load(path) for path in CONTRACTS}


register_contract_credential(CLIENT)


def _documented_5xx(case) -> bool:
    responses = case.operation.definition.raw.get("responses", {})
    return any(str(code).startswith("5") for code in responses)


@schemathesis.pytest.parametrize(**SCHEMAS)
def test_contract(case):
    excluded = [not_a_server_error] if _documented_5xx(case) else []
    case.call_and_validate(excluded_checks=excluded)


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
