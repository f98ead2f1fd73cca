"""The load benchmark's requests and the orders they refund.

Owns what every load run sends: each provider's refund (request templates where "{n}" is
an order number, so every request refunds a NEW order), the orders written before a server
starts (a fixtures directory every tenant starts from, or `--data-dir` tenant snapshots in
`sandbox.core.persistence`'s format), the logins, the check over HTTP that a server loaded
them, and `Http`, one keep-alive connection for those few set-up requests.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servers import HOST, ROOT

FIXTURES = ROOT / "fixtures"
PROVIDERS = ("fire", "purpledot", "nuweb", "shoplazza", "nextcommerce")
#: Order numbers start here, far from every fixture id (Nuweb's 1001 and basket 5001, say).
FIRST_ORDER = 10_000_000
BASKET_OFFSET = 50_000_000  # Nuweb basket id = order number + this
JSON_CT = {"Content-Type": "application/json"}


class Http:
    """One keep-alive connection; request() returns (status, body bytes, milliseconds)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            raise
        return resp.status, data, (time.perf_counter() - started) * 1000

    def json(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             expect: int = 200) -> Any:
        payload = None if body is None else json.dumps(body).encode()
        hdrs = {**({"Content-Type": "application/json"} if payload is not None else {}), **(headers or {})}
        status, data, _ = self.request(method, path, payload, hdrs)
        if status != expect:
            raise RuntimeError(f"{method} {path}: expected {expect}, got {status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()


@dataclass
class Workload:
    """One provider's refund: the request (templates with "{n}" = order number) and its orders."""

    provider: str
    method: str
    path: str
    body: str  # "" for no body
    headers: dict[str, str]
    ref: Callable[[int], str]  # order number -> the ref GET /_sandbox/<provider>/orders/<ref> takes
    docs: dict[str, str]  # table -> JSON text of one document with "@N@" / "@NUM@" / "@BASKET@" markers
    login: Callable[[Http, str], dict[str, str]] | None = None  # (http, tenant) -> extra headers
    extra_headers: dict[str, str] = field(default_factory=dict)

    def headers_for(self, tenant: str) -> dict[str, str]:
        return {**self.headers, **self.extra_headers, "X-Sandbox-Tenant": tenant}

    def render(self, n: int) -> tuple[str, bytes | None]:
        num = str(n)
        return self.path.replace("{n}", num), (self.body.replace("{n}", num).encode() if self.body else None)


def _fixture(provider: str) -> dict[str, dict]:
    return json.loads((FIXTURES / f"{provider}.json").read_text(encoding="utf-8"))


def _marked(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"))


def _fire_login(http: Http, tenant: str) -> dict[str, str]:
    answer = http.json("POST", "/fire/api/authentication/login",
                       {"client_id": "benchmark", "client_secret": "benchmark", "grant_type": "client_credentials"},
                       {**FIRE_HEADERS, "X-Sandbox-Tenant": tenant}, expect=201)
    return {"Authorization": f"Bearer {answer['accessToken']}"}


def _nuweb_login(http: Http, tenant: str) -> dict[str, str]:
    answer = http.json("POST", "/nuweb/v1/login",
                       {"email": "bench@example.com", "password": "any", "device_name": "load-benchmark"},
                       {"X-Sandbox-Tenant": tenant})
    return {"Authorization": f"Bearer {answer['token']}"}


FIRE_HEADERS = {"x-api-key": "pk_test_benchmark", "x-client-channel": "integration", "account": "acc-uid-12345"}


def workloads() -> dict[str, Workload]:
    """The five refunds, each built on the fixture order the README shows refunding with 200."""
    fire = _fixture("fire")["orders"]["1"]  # Deuna, with order_token: 200 CANCELED / REFUNDED
    fire = {**fire, "uid": "lb-@N@", "order_code": "ORD-LB-@N@",
            "metadata": {**fire["metadata"], "aggregator_order_id": "AGG-LB-@N@"}}
    purple = {**_fixture("purpledot")["orders"]["1"], "order": "@N@", "order_number": "#LB@N@"}
    nuweb = _fixture("nuweb")["orders"]["1"]  # 1001, card through Stripe
    nuweb = {**nuweb, "id": "@NUM@", "basketId": "@BASKET@", "reference": "RLB@N@",
             "transactions": [{**t, "orderId": "@NUM@"} for t in nuweb["transactions"]]}
    shoplazza = {**_fixture("shoplazza")["orders"]["1"], "id": "@N@", "number": "SPZLB@N@"}  # paid: 200 finished
    nextcommerce = {**_fixture("nextcommerce")["orders"]["1"], "number": "@N@"}  # 100101, captured
    return {
        "fire": Workload(
            "fire", "POST", "/fire/api/v4/integrations/sales/aggregator/orders/lb-{n}/refund",
            '{"reason":"benchmark","vendor_uid":"vendor-uid-abc"}', {**FIRE_HEADERS, **JSON_CT},
            ref=lambda n: f"lb-{n}",
            docs={"orders": _marked(fire),
                  "order_ids": _marked({"ref": "acc-uid-12345\x1fAGG-LB-@N@", "uid": "lb-@N@"})},
            login=_fire_login),
        "purpledot": Workload(
            "purpledot", "POST", "/purpledot/admin/api/v1/refund",
            '{"id":"lb-{n}","order":"{n}","line_items":[{"id":"14440000000011","quantity":1}],"shipping":true}',
            {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef", **JSON_CT},
            ref=str, docs={"orders": _marked(purple)}),
        "nuweb": Workload(
            "nuweb", "POST", "/nuweb/v1/orders/refund",
            '{"orderId":{n},"refundProcessingFee":false,"uuid":"lb-{n}"}', dict(JSON_CT),
            ref=str,
            docs={"orders": _marked(nuweb), "baskets": _marked({"basketId": "@BASKET@", "orderId": "@NUM@"}),
                  "references": _marked({"reference": "RLB@N@", "orderId": "@NUM@"})},
            login=_nuweb_login),
        "shoplazza": Workload(
            "shoplazza", "POST", "/shoplazza/openapi/2022-01/orders/{n}/refund", "",
            {"access-token": "sandbox-token-0123456789abcdef0123"},
            ref=str, docs={"orders": _marked(shoplazza)}),
        "nextcommerce": Workload(
            "nextcommerce", "POST", "/nextcommerce/api/admin/orders/{n}/refund/",
            '{"refund_lines":[{"line_id":1011,"quantity":1,"restock_type":"return"}],'
            '"refund_shipping":{"full_refund":true},"transactions":[{"id":9101,"amount":"27.50"}]}',
            {"Authorization": "Bearer a1b2c3d4e5a1b2c3d4e5a1b2c3d4e5", "X-29next-API-Version": "2024-04-01",
             **JSON_CT},
            ref=str, docs={"orders": _marked(nextcommerce)}),
    }


def _fill(text: str, n: int) -> str:
    return (text.replace('"@NUM@"', str(n)).replace('"@BASKET@"', str(n + BASKET_OFFSET))
            .replace("@N@", str(n)))


def _write_provider(out: Any, provider: str, workload: Workload | None, first: int, count: int) -> None:
    """One provider's tables ({table: {doc_id: doc}}): its fixtures, plus `count` orders numbered
    from `first` when it is `workload.provider`; streamed to keep memory flat."""
    tables = _fixture(provider)
    mine = workload is not None and provider == workload.provider
    names = list(tables) + ([t for t in workload.docs if t not in tables] if mine else [])
    out.write("{")
    for t_index, table in enumerate(names):
        docs = tables.get(table, {})
        out.write(("," if t_index else "") + json.dumps(table) + ":{")
        out.write(",".join(f'"{doc_id}":{_marked(doc)}' for doc_id, doc in docs.items()))
        if mine and table in workload.docs:
            template = workload.docs[table]
            next_id = max((int(i) for i in docs), default=0) + 1
            sep = "," if docs else ""
            for lo in range(0, count, 5000):
                out.write(sep + ",".join(f'"{next_id + i}":{_fill(template, first + i)}'
                                         for i in range(lo, min(count, lo + 5000))))
                sep = ","
        out.write("}")
    out.write("}")


@dataclass(frozen=True)
class Store:
    """Where a server's orders are written before it starts.

    In memory (the default, as CI and staging run the sandbox): a fixtures directory
    (REFUND_SANDBOX_FIXTURES_DIR), so every tenant starts with the orders. Durable
    (--durable): a --data-dir whose tenant snapshots hold them (`sandbox.core.persistence`'s
    format), so each refund also appends an fsynced log line.
    """

    path: Path
    durable: bool

    def where(self) -> dict[str, Path]:
        """`servers.sandbox_server`'s keyword for this store."""
        return {"data_dir" if self.durable else "fixtures": self.path}

    def write(self, tenant: str, workload: Workload | None, first: int, count: int) -> None:
        if not self.durable:  # fixtures: every tenant of the server gets them
            self.path.mkdir(parents=True, exist_ok=True)
            for provider in PROVIDERS:
                with open(self.path / f"{provider}.json", "w", encoding="utf-8") as out:
                    _write_provider(out, provider, workload, first, count)
            return
        tenant_dir = self.path / "tenants" / tenant
        tenant_dir.mkdir(parents=True, exist_ok=True)
        with open(tenant_dir / "snapshot.json", "w", encoding="utf-8") as out:
            out.write('{"seq":0,"providers":{')
            for p_index, provider in enumerate(PROVIDERS):
                out.write(("," if p_index else "") + json.dumps(provider) + ":")
                _write_provider(out, provider, workload, first, count)
            out.write("}}")
        (tenant_dir / "log.jsonl").touch()


def verify_tenant(http: Http, w: Workload, tenant: str, headers: dict[str, str], n: int) -> None:
    """Refund order n over HTTP and read it back: proves the server loaded the written orders."""
    before = http.json("GET", f"/_sandbox/{w.provider}/orders/{w.ref(n)}", headers={"X-Sandbox-Tenant": tenant})
    path, body = w.render(n)
    status, data, _ = http.request(w.method, path, body, headers)
    if status != 200:
        raise RuntimeError(f"{w.provider}: refund of written order {w.ref(n)} in {tenant} answered {status}: "
                           f"{data[:300]!r}")
    after = http.json("GET", f"/_sandbox/{w.provider}/orders/{w.ref(n)}", headers={"X-Sandbox-Tenant": tenant})
    if before == after:
        raise RuntimeError(f"{w.provider}: order {w.ref(n)} unchanged after its refund")
    http.json("GET", f"/_sandbox/{w.provider}/orders/{w.ref(n + 1)}", headers={"X-Sandbox-Tenant": tenant})


def prism_request(w: Workload) -> Workload:
    """The same refund as Prism serves it: Prism mounts the contract's paths at / (the
    contract's server URL `/purpledot` is the sandbox's mount), nothing else changes."""
    mount = f"/{w.provider}"
    return Workload(w.provider, w.method, w.path.removeprefix(mount), w.body, dict(w.headers), w.ref, {})

