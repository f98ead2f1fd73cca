"""The two join keys agree: provider key (folder, mount, contract, fixtures, scenarios) and
operationId (contract operation, view name). That every documented (operation, status) pair
was produced and validated is judged when the session finishes (tests/status_table.py)."""

from __future__ import annotations

import json

import pytest
import yaml

from sandbox.providers import PROVIDERS

from conftest import ROOT

KEYS = [p.key for p in PROVIDERS]


def contract(name: str) -> dict:
    return yaml.safe_load((ROOT / "contracts" / f"{name}.openapi.yaml").read_text())


def operation_ids(spec: dict) -> set[str]:
    return {op["operationId"] for item in spec["paths"].values() for op in item.values()
            if isinstance(op, dict) and "operationId" in op}


@pytest.mark.parametrize("provider", PROVIDERS, ids=KEYS)
def test_provider_has_its_files(provider):
    assert (ROOT / "sandbox" / "providers" / provider.key / "__init__.py").exists()
    assert (ROOT / "contracts" / f"{provider.key}.openapi.yaml").exists(), f"contracts/{provider.key}.openapi.yaml"
    assert (ROOT / "fixtures" / f"{provider.key}.json").exists(), f"fixtures/{provider.key}.json"
    assert provider.scenarios, f"{provider.key} has no scenarios"
    assert all(s.name.startswith(provider.key + ".") for s in provider.scenarios)
    assert provider.blueprint.name == provider.key


@pytest.mark.parametrize("provider", PROVIDERS, ids=KEYS)
def test_contract_operations_and_views_agree(provider, app):
    views = {rule.endpoint.split(".", 1)[1] for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith(provider.key + ".")}
    documented = operation_ids(contract(provider.key))
    assert documented - views == set(), f"operations without a view: {documented - views}"
    assert views - documented == set(), f"views without an operation: {views - documented}"


def test_control_plane_views_and_operations_agree(app):
    """The control plane's views and the dashboard's (sandbox.ui) are its contract's operations."""
    views = {rule.endpoint.split(".", 1)[1] for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith(("_sandbox.", "_sandbox_ui."))}
    assert views == operation_ids(contract("control"))


@pytest.mark.parametrize("provider", PROVIDERS, ids=KEYS)
def test_fixture_documents_carry_their_keys(provider):
    fixtures = json.loads((ROOT / "fixtures" / f"{provider.key}.json").read_text())
    assert set(fixtures) <= set(provider.tables), f"fixture tables not declared: {set(fixtures) - set(provider.tables)}"
    assert fixtures.get(provider.order_table), "fixtures hold at least one order"
    for table, docs in fixtures.items():
        key_field = provider.tables[table]
        for doc_id, doc in docs.items():
            assert doc_id.isdigit()
            if key_field:  # the store indexes by str(key): strings, or integers as in Nuweb's ids
                key = doc.get(key_field)
                assert isinstance(key, (str, int)) and not isinstance(key, bool), \
                    f"{table}/{doc_id} lacks its key {key_field}"


def test_core_names_no_provider_and_imports_neither_providers_nor_control():
    """sandbox/core is shared machinery: providers and the control plane hand it what it needs
    (install's Fallback, each Provider's data), so a sixth provider changes nothing there."""
    import re

    names = re.compile(r"\b(Fire|Purple ?Dot|purpledot|Nuweb|nuweb|Shoplazza|shoplazza|Next ?Commerce|nextcommerce"
                       r"|29next|Deuna|Kushki|Sanctum|sanctum|SANCTUM)\b")
    for path in sorted((ROOT / "sandbox" / "core").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not names.findall(text), f"{path.name} names a provider: {sorted(set(names.findall(text)))}"
        assert not re.search(r"^\s*(from|import) sandbox\.(control|providers|ui)\b", text, re.M), \
            f"{path.name} imports from the control plane, the dashboard or a provider"
