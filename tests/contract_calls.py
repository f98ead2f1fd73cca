"""Requests that would succeed, for every operation of every contract.

Each operation is read from its contract (`OPERATIONS`); a `Caller` sends its first request
example to a fresh app, as one tenant with valid credentials and ids from the fixtures.
The hostile-input and failure-path suites break or fault these requests one way at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import yaml
from werkzeug.test import Client

from sandbox.core.contracts import HTTP_METHODS

from conftest import FIRE_CARD, ROOT, fire_headers, tracked_app

TENANT = "hostile"
MOUNTS = {"control": ""}
PATH_ARGS = {"order_uid": FIRE_CARD, "number": "100101", "id": "1232123", "provider": "fire", "order_ref": FIRE_CARD}
QUERIES = {("nuweb", "get_order"): {"orderId": "1001"}}


@dataclass(frozen=True)
class Operation:
    contract: str
    method: str
    route: str
    operation_id: str
    example: Any  # the first request example, or None without a body
    closed: bool  # the body schema forbids unknown fields
    params: tuple[str, ...]  # path parameters
    too_large: bool  # reads a body (not a GET) and documents 413, even for an optional body

    def __str__(self) -> str:
        return f"{self.contract}.{self.operation_id}"


def _resolve(spec: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _closed(spec: dict, schema: Any) -> bool:
    """The schema forbids unknown properties (each alternative does, for oneOf/anyOf)."""
    schema = _resolve(spec, schema)
    if schema.get("additionalProperties") is False:
        return True
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    return bool(alternatives) and all(_closed(spec, alt) for alt in alternatives)


def _operations() -> Iterator[Operation]:
    for path in sorted((ROOT / "contracts").glob("*.openapi.yaml")):
        contract = path.name.split(".")[0]
        spec = yaml.safe_load(path.read_text())
        for route, item in spec["paths"].items():
            for method in HTTP_METHODS:
                op = item.get(method)
                if not op or "dashboard" in op.get("tags", ()):
                    continue  # HTML pages and CSRF-bound forms: tests/test_ui.py gives them hostile values
                example, closed = None, False
                if "requestBody" in op:
                    media = next(iter(_resolve(spec, op["requestBody"])["content"].values()))
                    example = next(iter(media["examples"].values()))["value"]
                    closed = _closed(spec, media["schema"])
                yield Operation(contract, method.upper(), route, op["operationId"], example, closed,
                                tuple(re.findall(r"{(\w+)}", route)),
                                "413" in map(str, op["responses"]) and method != "get")


OPERATIONS = list(_operations())


class Caller:
    """Requests to one operation of a fresh app, as a tenant with valid credentials."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.app = tracked_app()
        self.client: Client = self.app.test_client()
        self.headers = {"X-Sandbox-Tenant": TENANT, **self._credentials()}
        self.args = {name: self._path_arg(name) for name in op.params}

    def _credentials(self) -> dict[str, str]:
        key, tenant = self.op.contract, {"X-Sandbox-Tenant": TENANT}
        if key == "fire":
            return fire_headers(self.client, tenant=TENANT)
        if key == "nuweb":
            login = {"email": "e@x.io", "password": "p", "device_name": "t"}
            token = self.client.post("/nuweb/v1/login", json=login, headers=tenant).get_json()["token"]
            return {"Authorization": f"Bearer {token}"}
        return {"purpledot": {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"},
                "shoplazza": {"access-token": "sandbox-token-0123456789abcdef0123"},
                "nextcommerce": {"Authorization": "Bearer " + "a1b2c3d4e5" * 3}}.get(key, {})

    def _path_arg(self, name: str) -> str:
        if name == "name":
            return next(iter(self.app.extensions["refund_sandbox"].providers.values())).scenarios[0].name
        return PATH_ARGS[name]

    def url(self, args: dict[str, str] | None = None, query: str | None = None) -> str:
        mount = MOUNTS.get(self.op.contract, f"/{self.op.contract}")
        path = self.op.route
        for name, value in (args or self.args).items():
            path = path.replace("{" + name + "}", value)
        if query is None:
            query = "&".join(f"{k}={quote(v)}" for k, v in QUERIES.get((self.op.contract, self.op.operation_id),
                                                                          {}).items())
        return mount + path + (f"?{query}" if query else "")

    def send(self, data: bytes | None = None, content_type: str | None = "application/json", *,
             url: str | None = None) -> Any:
        headers = dict(self.headers)
        if content_type is not None and data is not None:
            headers["Content-Type"] = content_type
        return self.client.open(url or self.url(), method=self.op.method, data=data, headers=headers)

    def valid(self, document: Any = None) -> Any:
        document = self.op.example if document is None else document
        return self.send(None if document is None else json.dumps(document).encode())

    def state(self) -> Any:
        """Everything a request could change for the tenant, but the journal of requests itself."""
        rt = self.app.extensions["refund_sandbox"]
        store = {key: rt.store.read(TENANT, key, lambda tx, p=p: {t: tx.all(t) for t in [*p.tables, "_idempotency"]})
                 for key, p in rt.providers.items()}
        return {"store": store, "faults": [repr(f) for f in rt.faults.list(TENANT)], "webhook": rt.webhooks.get(TENANT),
                "credentials": sorted(map(repr, rt.credentials.registrations())), "clock": rt.clock.offset(TENANT),
                "notifications": rt.outbox.list(TENANT)}
