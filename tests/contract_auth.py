"""One credential for schemathesis runs: registered for every provider (with every scope) on an
app, and put wherever each operation's declared security schemes say; `AppSlot`, the app a
schema loaded at import sends to once a fixture has built it. Registered credentials
pass whatever their shape, so it serves every contract as declared. Imported by the test
modules that run schemathesis; the auth is registered with schemathesis once, on import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import schemathesis

CREDENTIAL = "contract-tests-credential"
PROVIDERS = ("fire", "purpledot", "nuweb", "shoplazza", "nextcommerce")


class AppSlot:
    """The WSGI app a schema sends to, filled by a module fixture: schemas load when the module is
    imported (schemathesis parametrizes from them), the apps are built in fixtures."""

    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        if self.app is None:
            raise RuntimeError("no app in this slot: the module's fixture fills it")
        return self.app(environ, start_response)

    @contextmanager
    def holding(self, app) -> Iterator:
        self.app = app
        try:
            yield app
        finally:
            self.app = None


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
