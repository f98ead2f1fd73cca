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

from conftest import LOGIN_BODY, ROOT, tracked_app

CONTRACTS = sorted((ROOT / "contracts").glob("*.openapi.yaml"))
SEED = 20261123
MAX_EXAMPLES = 25

#: Schemathesis's own default for schema-valid requests.
POSITIVE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def _config(path: Path):
    """Each contract says, in `info`, how its API refuses malformed requests
    (`x-sandbox-rejection-statuses`: nothing lenient like 404 or 5xx unless the API really
    answers so) and which statuses a well-formed request can get from a business rule
    (`x-sandbox-rule-statuses`, e.g. Purple Dot's CURRENCY_MISMATCH 400)."""
    info = yaml.safe_load(path.read_text())["info"]
    rejection = [str(s) for s in info["x-sandbox-rejection-statuses"]]
    positive = POSITIVE_DEFAULT + [str(s) for s in info["x-sandbox-rule-statuses"]]
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "deterministic": True},
        "checks": {"negative_data_rejection": {"expected-statuses": rejection},
                   "positive_data_acceptance": {"expected-statuses": positive}},
    })


APP = tracked_app()
CLIENT = APP.test_client()


def _load(path: Path):
    schema = schemathesis.openapi.from_path(path, config=_config(path))
    schema.app = APP
    return schema


SCHEMAS = {path.name.split(".")[0]: _load(path) for path in CONTRACTS}


def _fire_token() -> str:
    headers = {"x-api-key": "pk_test_schemathesis", "x-client-channel": "integration", "account": "acc-uid-12345"}
    response = CLIENT.post("/fire/api/authentication/login", json=LOGIN_BODY, headers=headers)
    assert response.status_code == 201
    return response.get_json()["accessToken"]


@schemathesis.auth()
class ContractAuth:
    """Valid credentials for whatever security scheme the operation declares."""

    def get(self, case, ctx):
        return {"bearer": _fire_token(), "apiKey": "pk_test_schemathesis"}

    def set(self, case, data, ctx):
        declared = {name for requirement in case.operation.definition.raw.get("security", []) for name in requirement}
        case.headers = dict(case.headers or {})
        if "bearerAuth" in declared:
            case.headers["Authorization"] = f"Bearer {data['bearer']}"
        if "apiKey" in declared:
            case.headers["x-api-key"] = data["apiKey"]


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
