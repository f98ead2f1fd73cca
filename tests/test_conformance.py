"""The suite's own contract self-check (conftest.Conformance): a mismatch is reported to the test
that drew it, from the app it built or a shared app alive meanwhile, and to no later test; what
every app saw still reaches the status table."""

from __future__ import annotations

import shutil

import yaml

from conftest import ROOT, Conformance, build_app

PD_URL = "/purpledot/admin/api/v1/refund"
PD_TOKEN = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}


def refund(app, ref: str) -> None:
    response = app.test_client().post(PD_URL, json={"id": ref, "order": "5550000000001", "shipping": True},
                                      headers=PD_TOKEN)
    assert response.status_code == 200


def test_a_mismatch_is_reported_to_the_test_that_drew_it_and_to_no_other(tmp_path):
    contracts = tmp_path / "contracts"  # a contract demanding a field the sandbox does not send
    shutil.copytree(ROOT / "contracts", contracts)
    spec = yaml.safe_load((contracts / "purpledot.openapi.yaml").read_text())
    spec["components"]["schemas"]["RefundResponse"]["required"].append("receipt")
    (contracts / "purpledot.openapi.yaml").write_text(yaml.safe_dump(spec))
    conformance = Conformance()
    shared, own = build_app(contracts_dir=contracts), build_app(contracts_dir=contracts)
    conformance.shared.append(shared)

    refund(shared, "a")  # "test one" draws a mismatch from the shared app
    assert [m["operation"] for m in conformance.check(conformance.shared)] == ["refund"]
    assert conformance.check(conformance.shared) == []  # "test two" drew nothing: nothing is left for it
    refund(own, "b")  # "test three" draws one from an app of its own
    assert [m["operation"] for m in conformance.check([own, *conformance.shared])] == ["refund"]
    assert ("purpledot", "refund", 200) not in conformance.seen  # a mismatching answer does not count
    valid = build_app()
    refund(valid, "c")
    assert conformance.check([valid]) == []
    assert ("purpledot", "refund", 200) in conformance.seen and ("purpledot", "refund", 200) in conformance.native
    for app in (shared, own, valid):
        app.extensions["refund_sandbox"].store.close()
