"""Load benchmark over real sockets: the sandbox's stateful refunds side by side with a bare-Flask ceiling.

Owns the one benchmark command. In one run on 127.0.0.1 it:

1. serves `benchmarks/bare_app.py` (bare Flask under waitress, `serve`'s own create_server
   call) and loads it at 1, 16 and 64 connections: the ceiling;
2. writes refundable orders for each provider before its server starts (in memory, the
   default: a fixtures directory every tenant starts from; with --durable: `--data-dir`
   tenant snapshots in `sandbox.core.persistence`'s format), starts `python -m sandbox
   serve` (request log off), checks over HTTP that the orders are there by refunding the
   first, logs in where a provider has a login, then loads the provider's refund so that
   every request refunds a NEW order (auth, validation, tenant lock, rule, commit, journal;
   with --durable also the fsynced log line), at each connection count in its own tenant;
3. measures start to first answer (median of N starts), tenant creation and reset over
   HTTP (medians), and the sandbox's RSS idle and after the load;
4. measures sequential refund latency over HTTP with 100, 10,000 and 100,000 orders in one
   tenant and with 1,000 tenants alive, each on a fresh server, with its RSS;
5. prints a table and the targets met or missed, and writes everything to a JSON file.

The load generator is wrk with `benchmarks/refund.lua` when wrk is installed (see
`benchmarks/setup.sh`), else a bounded Python one (threads, keep-alive http.client); the
output names the one used. Every load is bounded in time, and every process started here is
stopped by its PID (SIGTERM, then SIGKILL) in a finally block, Ctrl-C included.

    .venv/bin/python benchmarks/load.py                      # full run, ~6 minutes
    .venv/bin/python benchmarks/load.py --quick --duration 2 # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import http.client
import itertools
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURES = ROOT / "fixtures"
LUA = HERE / "refund.lua"
HOST = "127.0.0.1"
PROVIDERS = ("fire", "purpledot", "nuweb", "shoplazza", "nextcommerce")

#: perf-baseline.md: Prism serving one static refund response, median req/s at 16 connections.
PRISM_STATIC_16_RPS = 1644
TARGET_SHARE_OF_CEILING = 0.75   # stateful refund at 16 connections, as a share of bare Flask at 16
TARGET_P99_MS = 25.0              # stateful refund at 16 connections
TARGET_STARTUP_S = 0.5            # start to first answer
TARGET_TENANT_MS = 20.0           # tenant creation, and reset, each
TARGET_SCALE_RATIO = 2.0          # refund latency at 100,000 orders / at 100 orders
TARGET_TENANTS_MB = 300.0         # RSS with 1,000 tenants alive (MB = 10**6 bytes)

#: Order numbers start here, far from every fixture id (Nuweb's 1001 and basket 5001, say).
FIRST_ORDER = 10_000_000
BASKET_OFFSET = 50_000_000  # Nuweb basket id = order number + this


# --------------------------------------------------------------------------- processes

_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def child_setup() -> None:
    """Runs in each child before exec: a session of its own, so Ctrl-C reaches only this script
    (which then stops the child by its PID), and SIGTERM should this script die uncleanly (Linux)."""
    os.setsid()
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM the process by its PID, SIGKILL it if it is still there after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)


def rss_mb(pid: int) -> float | None:
    """VmRSS of the process in MB (10**6 bytes)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A server process on 127.0.0.1 with its output in a log file; a context manager that stops it."""

    def __init__(self, name: str, argv: list[str], port: int, health: str, log_dir: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.argv, self.port, self.health, self.env = name, argv, port, health, env or {}
        self.log_path = log_dir / f"{name}-{port}.log"
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for the first 200 on the health path; return seconds from spawn to it."""
        env = {**os.environ, "REFUND_SANDBOX_LOG_REQUESTS": "0", "PYTHONUNBUFFERED": "1", **self.env}
        # bytecode is cached, as it is for an installed wheel (pip compiles it at install time)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        with open(self.log_path, "ab") as log:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                         cwd=ROOT, preexec_fn=child_setup)
        deadline = self.started_at + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", self.health)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return time.perf_counter() - self.started_at
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not answer {self.health} within {timeout} s; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss(self) -> float | None:
        return rss_mb(self.pid) if self.proc is not None else None

    def stop(self) -> None:
        stop_process(self.proc)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sandbox_server(store: Store | None, log_dir: Path, name: str = "sandbox") -> Server:
    """`serve` in memory (the default; with `store`, its fixtures hold the orders) or, for a
    durable store, with --data-dir (the orders in its tenant snapshots)."""
    port = free_port()
    argv = [sys.executable, "-m", "sandbox", "serve", "--host", HOST, "--port", str(port)]
    env = {}
    if store is not None and store.durable:
        argv += ["--data-dir", str(store.path)]
    elif store is not None:
        env["REFUND_SANDBOX_FIXTURES_DIR"] = str(store.path)
    return Server(name, argv, port, "/_sandbox/health", log_dir, env)


def bare_server(log_dir: Path) -> Server:
    port = free_port()
    argv = [sys.executable, str(HERE / "bare_app.py"), "--host", HOST, "--port", str(port)]
    return Server("bare", argv, port, "/health", log_dir)


# --------------------------------------------------------------------------- HTTP

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


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------- workloads

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
JSON_CT = {"Content-Type": "application/json"}


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


# --------------------------------------------------------------------------- load generators

@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    max_n: int
    generator: str

    def row(self) -> dict[str, Any]:
        return self.__dict__.copy()


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(port: int, w: Workload | None, tenant: str, start: int, conns: int, seconds: int,
            bare_body: str = "") -> LoadResult:
    """wrk with refund.lua for `seconds`; order numbers from `start`, strided per thread."""
    threads = min(2, conns)
    if w is None:  # the bare app: one fixed small JSON POST
        env_req = {"LB_METHOD": "POST", "LB_PATH": "/refund", "LB_BODY": bare_body,
                   "LB_HEADERS": "Content-Type: application/json"}
    else:
        env_req = {"LB_METHOD": w.method, "LB_PATH": w.path, "LB_BODY": w.body,
                   "LB_HEADERS": "\n".join(f"{k}: {v}" for k, v in w.headers_for(tenant).items())}
    env = {**os.environ, **env_req, "LB_START": str(start), "LB_THREADS": str(threads)}
    argv = [wrk_path() or "wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--timeout", "5s",
            "-s", str(LUA), f"http://{HOST}:{port}"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True, preexec_fn=child_setup)
    try:
        out, err = proc.communicate(timeout=seconds + 30)
    finally:
        stop_process(proc, timeout=2)
    line = next((x for x in out.splitlines() if x.startswith("LBJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip() or out.strip()}")
    data = json.loads(line[len("LBJSON "):])
    errors = data["errors"]
    secs = data["duration_us"] / 1e6
    return LoadResult(requests=data["requests"], seconds=secs, rps=data["requests"] / secs,
                      p50_ms=data["latency_us"]["p50"] / 1000, p99_ms=data["latency_us"]["p99"] / 1000,
                      non_2xx=errors["status"],
                      socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
                      max_n=data["max_n"], generator="wrk")


def run_python(port: int, w: Workload | None, tenant: str, start: int, conns: int, seconds: float,
               bare_body: str = "") -> LoadResult:
    """The built-in generator: `conns` threads, one keep-alive connection each, for `seconds`."""
    if w is None:
        method, headers = "POST", dict(JSON_CT)

        def render(n: int) -> tuple[str, bytes | None]:
            return "/refund", bare_body.encode()
    else:
        method, headers, render = w.method, w.headers_for(tenant), w.render
    numbers = itertools.count(start)
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"done": 0, "non_2xx": 0, "errors": 0, "max_n": -1}
    barrier = threading.Barrier(conns + 1)
    deadline = [0.0]

    def worker() -> None:
        mine: list[float] = []
        done = non_2xx = errors = 0
        max_n = -1
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            n = next(numbers)
            max_n = n
            path, body = render(n)
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=10)
                continue
            mine.append((time.perf_counter() - t0) * 1000)
            done += 1
            if not 200 <= resp.status < 300:
                non_2xx += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            counts["done"] += done
            counts["non_2xx"] += non_2xx
            counts["errors"] += errors
            counts["max_n"] = max(counts["max_n"], max_n)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(conns)]
    for t in workers:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    barrier.wait()
    for t in workers:
        t.join(seconds + 30)
    elapsed = time.perf_counter() - began
    return LoadResult(requests=counts["done"], seconds=elapsed, rps=counts["done"] / elapsed,
                      p50_ms=percentile(latencies, 50) if latencies else float("nan"),
                      p99_ms=percentile(latencies, 99) if latencies else float("nan"),
                      non_2xx=counts["non_2xx"], socket_errors=counts["errors"], max_n=counts["max_n"],
                      generator="python")


# --------------------------------------------------------------------------- sections

BARE_BODY = '{"id":"refund-1","order":"5550000000001","line_items":[{"id":"14440000000011","quantity":1}],' \
            '"shipping":true}'


@dataclass
class Run:
    """What the whole run needs to know: options, where files go, and what was measured."""

    args: argparse.Namespace
    work: Path
    generator: str
    out: dict[str, Any] = field(default_factory=dict)

    def load(self, port: int, w: Workload | None, tenant: str, start: int, conns: int, seconds: int) -> LoadResult:
        fn = run_wrk if self.generator == "wrk" else run_python
        return fn(port, w, tenant, start, conns, seconds, bare_body=BARE_BODY)

    def measured(self, server: Server, w: Workload | None, tenant: str, start: int, conns: int) -> dict[str, Any]:
        """One measured run, with the server's CPU use over it (cores, and microseconds per request)."""
        cpu0 = cpu_seconds(server.pid)
        result = self.load(server.port, w, tenant, start, conns, self.args.duration)
        cpu = cpu_seconds(server.pid) - cpu0
        row = result.row()
        row["server_cpu_cores"] = cpu / result.seconds
        row["server_cpu_us_per_req"] = cpu / result.requests * 1e6 if result.requests else None
        return row

    def say(self, text: str) -> None:
        if not self.args.quiet:
            print(text, file=sys.stderr, flush=True)


def section_bare(run: Run) -> dict[int, dict]:
    results: dict[int, dict] = run.out["load"]["bare"]  # filled as it goes: an interrupt keeps what was done
    with bare_server(run.work) as server:
        server.start()
        rss_idle = server.rss()
        for conns in run.args.levels:
            run.say(f"bare flask: {conns} connections")
            run.load(server.port, None, "", 0, conns, run.args.warmup)
            results[conns] = run.measured(server, None, "", 0, conns)
        run.out["bare_rss_mb"] = {"idle": rss_idle, "after_load": server.rss()}
    return results


def verify_tenant(http: Http, w: Workload, tenant: str, headers: dict[str, str], n: int) -> None:
    """Refund order n over HTTP and read it back: proves the server loaded the written snapshot."""
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


def pool_size(run: Run, bare: dict[int, dict]) -> int:
    """Orders per (provider, connections) tenant: the best bare-Flask rate over the warm-up and the
    measured run, times --pool-factor. The stateful refund does strictly more work per request."""
    ceiling = max(r["rps"] for r in bare.values())
    return math.ceil(ceiling * (run.args.warmup + run.args.duration) * run.args.pool_factor) + 100


def section_stateful(run: Run, bare: dict[int, dict]) -> dict[str, dict[int, dict]]:
    """Each provider on a server of its own (its tenants hold the orders), one tenant per
    connection count; tenant operations and control-plane seeding on a plain server first."""
    args = run.args
    wl = workloads()
    size = pool_size(run, bare)
    results: dict[str, dict[int, dict]] = run.out["load"]["sandbox"]
    rss: dict[str, Any] = {}
    run.out["sandbox_rss_mb"] = rss
    with sandbox_server(None, run.work, name="plain") as server:
        server.start()
        rss["idle"] = server.rss()
        http = Http(server.port)
        run.out["tenant_ops"] = tenant_ops(http, args.tenant_samples)
        run.out["seeding"] = {"control_plane": control_plane_seeding(http, args.seed_requests)}
        http.close()
    written, write_s, peak, after = 0, 0.0, 0.0, []
    for provider in args.providers:
        w = wl[provider]
        store = Store(run.work / f"load-{provider}", args.durable)
        t0 = time.perf_counter()
        for conns in args.levels:
            store.write(f"lb-{provider}-c{conns}", w, FIRST_ORDER, size)
            written += size
            if not store.durable:
                break  # one fixtures dir serves every tenant
        write_s += time.perf_counter() - t0
        results[provider] = {}
        with sandbox_server(store, run.work, name=f"sandbox-{provider}") as server:
            server.start()
            http = Http(server.port)
            for conns in args.levels:
                tenant = f"lb-{provider}-c{conns}"
                w.extra_headers = w.login(http, tenant) if w.login else {}
                headers = w.headers_for(tenant)
                t_load = time.perf_counter()
                verify_tenant(http, w, tenant, headers, FIRST_ORDER)
                first_ms = (time.perf_counter() - t_load) * 1000
                run.say(f"sandbox {provider}: {conns} connections")
                warm = run.load(server.port, w, tenant, FIRST_ORDER + 1, conns, args.warmup)
                row = run.measured(server, w, tenant, warm.max_n + 1, conns)
                row["pool_exhausted"] = row["max_n"] >= FIRST_ORDER + size
                row["tenant_load_ms"] = first_ms
                row["rss_mb_after"] = server.rss()
                peak = max(peak, row["rss_mb_after"] or 0.0)
                results[provider][conns] = row
                if store.durable:  # drop the pool (in memory, a reset would load it again from the fixtures)
                    http.json("POST", "/_sandbox/reset", headers={"X-Sandbox-Tenant": tenant})
            after.append(server.rss() or 0.0)
            http.close()
    run.out["seeding"]["orders_written"] = {"orders": written, "seconds": write_s,
                                            "orders_per_s": written / write_s if write_s else None,
                                            "orders_per_tenant": size}
    rss["after_load"] = max(after) if after else None
    rss["peak_with_pool"] = peak
    return results


def tenant_ops(http: Http, samples: int) -> dict[str, Any]:
    """POST /_sandbox/reset with a new X-Sandbox-Tenant (creates it, then resets it), then again (reset)."""
    create, reset = [], []
    for i in range(samples):
        headers = {"X-Sandbox-Tenant": f"lb-new-{i}"}
        create.append(http.request("POST", "/_sandbox/reset", b"", headers)[2])
        reset.append(http.request("POST", "/_sandbox/reset", b"", headers)[2])
    return {"samples": samples, "create_ms_median": statistics.median(create), "create_ms_max": max(create),
            "reset_ms_median": statistics.median(reset), "reset_ms_max": max(reset)}


def control_plane_seeding(http: Http, requests: int) -> dict[str, Any]:
    """How fast the alternative to writing snapshots is: POST /_sandbox/scenarios/fire.deuna_paid, 100 a call."""
    t0 = time.perf_counter()
    for i in range(requests):
        http.json("POST", "/_sandbox/scenarios/fire.deuna_paid", {"count": 100, "seed": 1000 + i},
                  {"X-Sandbox-Tenant": "lb-seed"}, expect=201)
    seconds = time.perf_counter() - t0
    return {"orders": requests * 100, "seconds": seconds, "orders_per_s": requests * 100 / seconds}


def section_startup(run: Run) -> dict[str, Any]:
    times = []
    for _ in range(run.args.starts):
        with sandbox_server(None, run.work, name="startup") as server:
            times.append(server.start())
    return {"starts": len(times), "seconds": times, "median_s": statistics.median(times)}


def sequential(http: Http, w: Workload, headers: dict[str, str], numbers: list[int]) -> tuple[list[float], int]:
    latencies, bad = [], 0
    for n in numbers:
        path, body = w.render(n)
        status, _, ms = http.request(w.method, path, body, headers)
        latencies.append(ms)
        bad += status != 200
    return latencies, bad


def section_scale(run: Run) -> dict[str, Any]:
    args = run.args
    w = workloads()["fire"]
    out: dict[str, Any] = {"orders": {}, "requests": args.scale_requests}
    for size in args.scale_sizes:
        # every refund is of a new order: when the tenant holds fewer orders than the requests,
        # the requests go to several tenants of exactly `size` orders, one after the other
        per_tenant = max(1, size - 1)  # each tenant's first order is refunded to prove it was loaded
        tenants = [f"scale-{k}" for k in range(math.ceil(args.scale_requests / per_tenant))]
        store = Store(run.work / f"scale-{size}", args.durable)
        for tenant in tenants:
            store.write(tenant, w, FIRST_ORDER, max(size, 2))
        run.say(f"scale: {size} orders in one tenant ({len(tenants)} tenant(s))")
        with sandbox_server(store, run.work, name="scale") as server:
            server.start()
            http = Http(server.port)
            lat: list[float] = []
            bad, load_ms = 0, []
            for tenant in tenants:
                w.extra_headers = _fire_login(http, tenant)
                headers = w.headers_for(tenant)
                t0 = time.perf_counter()
                verify_tenant(http, w, tenant, headers, FIRST_ORDER)
                load_ms.append((time.perf_counter() - t0) * 1000)
                take = min(per_tenant, args.scale_requests - len(lat))
                part, part_bad = sequential(http, w, headers, list(range(FIRST_ORDER + 1, FIRST_ORDER + 1 + take)))
                lat += part
                bad += part_bad
            http.close()
            out["orders"][size] = {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "non_200": bad,
                                   "requests": len(lat), "tenants": len(tenants), "first_request_ms": load_ms[0],
                                   "rss_mb": server.rss()}
    run.say(f"scale: {args.tenants} tenants")
    store = Store(run.work / "scale-tenants", args.durable)
    store.path.mkdir()
    fixture_uid, second_uid = "550e8400-e29b-41d4-a716-446655440000", "9a7b3c5d-1e2f-4a6b-8c9d-0e1f2a3b4c5d"
    body = b'{"reason":"benchmark","vendor_uid":"vendor-uid-abc"}'
    base = "/fire/api/v4/integrations/sales/aggregator/orders/"
    with sandbox_server(store if store.durable else None, run.work, name="tenants") as server:
        server.start()
        rss_idle = server.rss()
        http = Http(server.port)
        auth = _fire_login(http, "default")
        headers = {**FIRE_HEADERS, **JSON_CT, **auth}
        created = []
        for i in range(args.tenants):  # each tenant comes alive with a request of its own: a Fire refund
            status, data, ms = http.request("POST", f"{base}{fixture_uid}/refund", body,
                                            {**headers, "X-Sandbox-Tenant": f"t-{i:05d}"})
            if status != 200:
                raise RuntimeError(f"creating tenant t-{i:05d}: {status} {data[:200]!r}")
            created.append(ms)
        rss_alive = server.rss()
        picks = sorted({round(i * args.tenants / args.scale_requests) for i in range(args.scale_requests)}
                       & set(range(args.tenants)))
        lat, bad = [], 0
        for i in picks:  # a NEW refund in a different tenant each time: its second fixture order
            status, _, ms = http.request("POST", f"{base}{second_uid}/refund", body,
                                         {**headers, "X-Sandbox-Tenant": f"t-{i:05d}"})
            lat.append(ms)
            bad += status != 200
        health = http.json("GET", "/_sandbox/health")
        http.close()
        out["tenants"] = {"tenants": args.tenants, "alive_reported": health.get("tenants"),
                          "create_by_refund_ms_median": statistics.median(created), "p50_ms": percentile(lat, 50),
                          "p99_ms": percentile(lat, 99), "requests": len(lat), "non_200": bad,
                          "rss_mb_idle": rss_idle, "rss_mb_alive": rss_alive, "rss_mb": server.rss()}
    return out


# --------------------------------------------------------------------------- report

def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header] + [[_fmt(c, 2) if isinstance(c, float) else _fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(row)))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(met: bool, by: str) -> str:
    return f"{'met' if met else 'MISSED'} ({by})"


def targets(out: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target, judged from this run's own figures."""
    lines: list[dict[str, Any]] = []
    bare16 = out["load"]["bare"].get(16)
    for provider, levels in out["load"]["sandbox"].items():
        row = levels.get(16)
        if row is None or bare16 is None:
            continue
        share = row["rps"] / bare16["rps"]
        need = TARGET_SHARE_OF_CEILING * bare16["rps"]
        lines.append({"target": f"{provider} refund @16 >= 75 % of bare Flask @16 ({bare16['rps']:,.0f} req/s)",
                      "value": f"{share:.1%} ({row['rps']:,.0f} req/s)", "met": share >= TARGET_SHARE_OF_CEILING,
                      "by": f"{(share - TARGET_SHARE_OF_CEILING) * 100:+.1f} points, {row['rps'] - need:+,.0f} req/s"})
        lines.append({"target": f"{provider} refund @16 >= Prism static ({PRISM_STATIC_16_RPS:,} req/s, baseline)",
                      "value": f"{row['rps']:,.0f} req/s", "met": row["rps"] >= PRISM_STATIC_16_RPS,
                      "by": f"{row['rps'] - PRISM_STATIC_16_RPS:+,.0f} req/s "
                            f"({row['rps'] / PRISM_STATIC_16_RPS:.0%} of it)"})
        lines.append({"target": f"{provider} refund @16 p99 <= {TARGET_P99_MS:g} ms",
                      "value": f"{row['p99_ms']:.1f} ms", "met": row["p99_ms"] <= TARGET_P99_MS,
                      "by": f"{row['p99_ms'] - TARGET_P99_MS:+.1f} ms"})
    if "startup" in out:
        s = out["startup"]["median_s"]
        lines.append({"target": f"start to first answer <= {TARGET_STARTUP_S:g} s", "value": f"{s:.3f} s",
                      "met": s <= TARGET_STARTUP_S, "by": f"{s - TARGET_STARTUP_S:+.3f} s"})
    if "tenant_ops" in out:
        for key, name in (("create_ms_median", "tenant creation"), ("reset_ms_median", "tenant reset")):
            v = out["tenant_ops"][key]
            lines.append({"target": f"{name} <= {TARGET_TENANT_MS:g} ms (median, HTTP)", "value": f"{v:.2f} ms",
                          "met": v <= TARGET_TENANT_MS, "by": f"{v - TARGET_TENANT_MS:+.2f} ms"})
    scale = out.get("scale", {})
    sizes = sorted(scale.get("orders", {}))
    if len(sizes) >= 2:
        small, big = scale["orders"][sizes[0]], scale["orders"][sizes[-1]]
        for q in ("p50_ms", "p99_ms"):
            ratio = big[q] / small[q]
            lines.append({"target": f"refund {q[:3]} at {sizes[-1]:,} orders <= {TARGET_SCALE_RATIO:g}x at "
                                    f"{sizes[0]:,}",
                          "value": f"{ratio:.2f}x ({big[q]:.2f} vs {small[q]:.2f} ms)",
                          "met": ratio <= TARGET_SCALE_RATIO, "by": f"{ratio - TARGET_SCALE_RATIO:+.2f}x"})
    if "tenants" in scale:
        t = scale["tenants"]
        mb = max(v for v in (t["rss_mb_alive"], t["rss_mb"]) if v is not None)
        lines.append({"target": f"{t['tenants']:,} tenants alive in <= {TARGET_TENANTS_MB:g} MB RSS",
                      "value": f"{mb:.0f} MB", "met": mb <= TARGET_TENANTS_MB,
                      "by": f"{mb - TARGET_TENANTS_MB:+.0f} MB"})
    return lines


def _us(row: dict[str, Any]) -> str:
    v = row.get("server_cpu_us_per_req")
    return "-" if v is None else f"{v:,.0f}"


def report(out: dict[str, Any]) -> str:
    meta = out["meta"]
    parts = [f"refund-sandbox load benchmark, {meta['started']} on {meta['host']} ({meta['cpus']} CPUs; "
             f"the machine may be shared: compare figures within this run)",
             f"generator: {meta['generator_detail']}; {meta['duration_s']} s per run after a {meta['warmup_s']} s "
             f"warm-up; 127.0.0.1",
             f"sandbox: {meta['sandbox_cmd']} (request log off); bare: benchmarks/bare_app.py, same waitress "
             f"create_server call and threads", ""]
    rows = []
    bare = out["load"]["bare"]
    for conns, r in bare.items():
        rows.append(["bare-flask", "POST /refund", conns, r["rps"], r["p50_ms"], r["p99_ms"], r["non_2xx"],
                     r["socket_errors"], r["requests"], r["server_cpu_cores"], _us(r), "100%", ""])
    for provider, levels in out["load"]["sandbox"].items():
        for conns, r in levels.items():
            share = f"{r['rps'] / bare[conns]['rps']:.0%}" if conns in bare else "-"
            note = "POOL EXHAUSTED" if r.get("pool_exhausted") else ""
            rows.append(["sandbox", f"{provider} refund", conns, r["rps"], r["p50_ms"], r["p99_ms"], r["non_2xx"],
                         r["socket_errors"], r["requests"], r["server_cpu_cores"], _us(r), share, note])
    parts += ["LOAD (every sandbox request refunds a new order; srv CPU = server process CPU cores over the run)",
              table(rows, ["server", "operation", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx", "sock err",
                           "requests", "srv CPU", "CPU us/req", "of bare", ""]), ""]
    rows = []
    if "startup" in out:
        s = out["startup"]
        rows.append([f"start to first answer (median of {s['starts']})", f"{s['median_s']:.3f} s",
                     f"min {min(s['seconds']):.3f}, max {max(s['seconds']):.3f}"])
    if "tenant_ops" in out:
        t = out["tenant_ops"]
        rows.append([f"tenant creation, POST /_sandbox/reset (median of {t['samples']})",
                     f"{t['create_ms_median']:.2f} ms", f"max {t['create_ms_max']:.2f} ms"])
        rows.append([f"tenant reset, POST /_sandbox/reset again (median of {t['samples']})",
                     f"{t['reset_ms_median']:.2f} ms", f"max {t['reset_ms_max']:.2f} ms"])
    if "sandbox_rss_mb" in out:
        r = out["sandbox_rss_mb"]
        rows.append(["sandbox RSS idle", f"{_fmt(r['idle'])} MB", "bare flask idle "
                     f"{_fmt(out.get('bare_rss_mb', {}).get('idle'))} MB"])
        rows.append(["sandbox RSS after the load (largest server)", f"{_fmt(r.get('after_load'))} MB",
                     f"peak with a loaded pool {_fmt(r.get('peak_with_pool'))} MB"])
    if "seeding" in out:
        sd = out["seeding"]
        if sd.get("orders_written", {}).get("orders_per_s"):
            ow = sd["orders_written"]
            rows.append(["seeding: orders written before start (files)", f"{ow['orders_per_s']:,.0f} orders/s",
                         f"{ow['orders']:,} orders in {ow['seconds']:.1f} s"])
        if "control_plane" in sd:
            cp = sd["control_plane"]
            rows.append(["seeding: POST /_sandbox/scenarios (100 per call)", f"{cp['orders_per_s']:,.0f} orders/s",
                         f"{cp['orders']:,} orders in {cp['seconds']:.1f} s"])
    if rows:
        parts += ["STARTUP, TENANTS, MEMORY", table(rows, ["measure", "value", "detail"]), ""]
    scale = out.get("scale")
    if scale:
        rows = [[f"{size:,} orders in one tenant" + (f" (x{r['tenants']} tenants)" if r.get("tenants", 1) > 1 else ""),
                 "fire refund", r["p50_ms"], r["p99_ms"], r["non_200"], r["first_request_ms"], r["rss_mb"]]
                for size, r in scale["orders"].items()]
        if "tenants" in scale:
            t = scale["tenants"]
            rows.append([f"{t['tenants']:,} tenants alive", "fire refund", t["p50_ms"], t["p99_ms"], t["non_200"],
                         t["create_by_refund_ms_median"], t["rss_mb"]])
        parts += [f"SCALE (sequential, one keep-alive connection, {scale['requests']} refunds, fresh server each)",
                  table(rows, ["case", "operation", "p50 ms", "p99 ms", "non-200", "first/creation ms",
                               "RSS MB"]), ""]
    lines = out["targets"]
    parts += ["TARGETS (from this run)",
              table([[t["target"], t["value"], verdict(t["met"], t["by"])] for t in lines],
                    ["target", "value", "verdict"]),
              f"met {sum(t['met'] for t in lines)} of {len(lines)}"]
    return "\n".join(parts)


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run [10]")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each run [2]")
    parser.add_argument("--levels", default="1,16,64", help="connection counts [1,16,64]")
    parser.add_argument("--providers", default=",".join(PROVIDERS), help="providers to load [all five]")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="wrk if installed (auto), or the built-in Python generator")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 starts, 100/1,000/10,000 orders, 100 tenants, 100 sequential refunds")
    parser.add_argument("--starts", type=int, default=None, help="server starts for the start-up median [10]")
    parser.add_argument("--tenants", type=int, default=None, help="tenants alive in the scale test [1000]")
    parser.add_argument("--scale-sizes", default=None, help="orders in one tenant [100,10000,100000]")
    parser.add_argument("--scale-requests", type=int, default=None, help="sequential refunds per case [300]")
    parser.add_argument("--pool-factor", type=float, default=1.3,
                        help="orders per tenant = best bare req/s x (warm-up + duration) x this [1.3]")
    parser.add_argument("--durable", action="store_true",
                        help="serve with --data-dir (an fsynced log line per refund) instead of in memory")
    parser.add_argument("--skip", default="", help="sections to skip: load,startup,scale")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON results [benchmarks/results/load-<timestamp>.json]")
    parser.add_argument("--keep-data", action="store_true", help="keep the working directory (data dirs, logs)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in args.levels.split(",")]
    args.providers = [p for p in args.providers.split(",") if p]
    unknown = set(args.providers) - set(PROVIDERS)
    if unknown:
        parser.error(f"unknown providers: {', '.join(sorted(unknown))}")
    args.skip = {s for s in args.skip.split(",") if s}
    quick = args.quick
    args.starts = args.starts or (3 if quick else 10)
    args.tenants = args.tenants or (100 if quick else 1000)
    args.scale_requests = args.scale_requests or (100 if quick else 300)
    args.scale_sizes = [int(x) for x in (args.scale_sizes or ("100,1000,10000" if quick else "100,10000,100000"))
                        .split(",")]
    args.tenant_samples = 10 if quick else 30
    args.seed_requests = 2 if quick else 10
    return args


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="refund-sandbox-load-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # kill PID: stop the servers too, as Ctrl-C does
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    wrk = wrk_path()
    if args.generator == "wrk" and not wrk:
        print("wrk is not installed: run benchmarks/setup.sh, or use --generator python", file=sys.stderr)
        return 2
    generator = "wrk" if (args.generator in ("auto", "wrk") and wrk) else "python"
    if generator == "wrk":
        version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout.splitlines()
        detail = f"wrk ({version[0].split(' Copyright')[0] if version else '?'}; benchmarks/refund.lua, " \
                 "threads = min(2, connections); its percentiles are corrected for coordinated omission, so " \
                 "one server stall of S ms also counts the requests that would have been sent during it)"
    else:
        detail = "built-in Python generator (threads with keep-alive http.client; wrk not used" + \
                 ("" if wrk else ", not installed") + "): it shares the 2 cores and the GIL, so rates are lower; " \
                 "percentiles are of the requests sent (no coordinated-omission correction, unlike wrk)"
    started = datetime.now()
    out: dict[str, Any] = {"meta": {
        "started": started.isoformat(timespec="seconds"), "host": platform.node(), "cpus": os.cpu_count(),
        "python": platform.python_version(), "generator": generator, "generator_detail": detail,
        "duration_s": args.duration, "warmup_s": args.warmup, "levels": args.levels, "quick": args.quick,
        "sandbox_cmd": f"{Path(sys.executable).name} -m sandbox serve" + (" --data-dir DIR" if args.durable else
                                                                          " (in memory)"),
        "targets": {"share_of_ceiling": TARGET_SHARE_OF_CEILING, "prism_static_16_rps": PRISM_STATIC_16_RPS,
                    "p99_ms": TARGET_P99_MS, "startup_s": TARGET_STARTUP_S, "tenant_ms": TARGET_TENANT_MS,
                    "scale_ratio": TARGET_SCALE_RATIO, "tenants_mb": TARGET_TENANTS_MB}},
        "load": {"bare": {}, "sandbox": {}}}
    output = args.output or HERE / "results" / f"load-{started:%Y%m%d-%H%M%S}.json"
    with workdir(args.keep_data) as work:
        run = Run(args, work, generator, out)
        try:
            if "load" not in args.skip:
                section_stateful(run, section_bare(run))
            if "startup" not in args.skip:
                run.say("start-up")
                out["startup"] = section_startup(run)
            if "scale" not in args.skip:
                out["scale"] = section_scale(run)
        except KeyboardInterrupt:
            print("interrupted: servers stopped; partial results follow", file=sys.stderr)
            out["meta"]["interrupted"] = True
    out["targets"] = targets(out)
    text = report(out)
    print(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({**out, "table": text}, indent=2, default=str), encoding="utf-8")
    print(f"\nresults: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
