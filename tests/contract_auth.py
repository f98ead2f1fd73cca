"""One credential for schemathesis runs: registered for every provider (with every scope) on an
app, and put wherever each operation's declared security schemes say. Registered credentials
pass whatever their shape, so it serves every contract as declared. Imported by the test
modules that run schemathesis; the auth is registered with schemathesis once, on import."""

from __future__ import annotations

import schemathesis

CREDENTIAL = "contract-tests-credential"
PROVIDERS = ("fire", "purpledot", "nuweb", "shoplazza", "nextcommerce")


def register_contract_credential(client) -> None:
    for key in PROVIDERS:
        response = client.post("/_sandbox/credentials", json={"provider": key, "credential": CREDENTIAL,
                                                              "tenant": "default"})
        assert response.status_code == 201, response.get_json()


@schemathesis.auth()
class ContractAuth:
    """Put the registered credential wherever the operation's declared security schemes say."""

    def get(self, case, ctx):
        return CREDENTIAL

    def set(self, case, data, ctx):
        schemes = case.operation.schema.raw_schema.get("components", {}).get("securitySchemes", {})
        case.headers = dict(case.headers or {})
        for requirement in case.operation.definition.raw.get("security", []):
            for name in requirement:
                scheme = schemes[name]
                if scheme["type"] == "http" and scheme["scheme"].lower() == "bearer":
                    case.headers["Authorization"] = f"Bearer {data}"
                elif scheme["type"] == "apiKey" and scheme["in"] == "header":
                    case.headers[scheme["name"]] = data
