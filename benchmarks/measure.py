"""The load benchmark's load generators: wrk with `refund.lua`, or a bounded Python one.

Owns one load run: `conns` keep-alive connections sending a workload's request for a time
(`seconds`) or, for the long run, until `count` answers have come back (whichever is first),
every request with a new order number from `start`. Both generators return the same
`LoadResult`: requests, rate, p50/p99, non-2xx answers, socket errors and the highest order
number sent (the next run starts past it). Every process is bounded in time and stopped by
its PID.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass

from servers import HERE, HOST, child_setup, stop_process
from workloads import Workload

LUA = HERE / "refund.lua"


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

    def row(self) -> dict:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    lines = subprocess.run([wrk_path() or "wrk", "--version"], capture_output=True, text=True).stdout.splitlines()
    return lines[0].split(" Copyright")[0] if lines else "?"


def run_wrk(port: int, w: Workload, tenant: str | None, start: int, conns: int, seconds: float,
            count: int = 0) -> LoadResult:
    """wrk with refund.lua for `seconds` (each thread stops after its share of `count` answers
    when `count` is given); order numbers from `start`, strided per thread."""
    threads = min(2, conns)
    headers = w.headers_for(tenant) if tenant is not None else w.headers
    env = {**os.environ, "LB_METHOD": w.method, "LB_PATH": w.path, "LB_BODY": w.body,
           "LB_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items()),
           "LB_START": str(start), "LB_THREADS": str(threads), "LB_COUNT": str(count)}
    argv = [wrk_path() or "wrk", "-t", str(threads), "-c", str(conns), "-d", f"{max(1, math.ceil(seconds))}s",
            "--timeout", "5s", "-s", str(LUA), f"http://{HOST}:{port}"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True, preexec_fn=child_setup)
    try:
        out, err = _counted(proc, threads, seconds + 30) if count else proc.communicate(timeout=seconds + 30)
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


def _counted(proc: subprocess.Popen, threads: int, timeout: float) -> tuple[str, str]:
    """wrk's output for a counted run: once each thread has printed LBDONE, SIGINT ends wrk's
    timed sleep, so the run lasts as long as the count took (its rate stays true)."""
    timer = threading.Timer(timeout, stop_process, (proc, 2))
    timer.start()
    lines, finished = [], 0
    try:
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:
            lines.append(line)
            finished += line.startswith("LBDONE")
            if finished == threads and proc.poll() is None:
                os.kill(proc.pid, signal.SIGINT)
                finished += 1
        err = proc.stderr.read()
        proc.wait()
    finally:
        timer.cancel()
    return "".join(lines), err


def run_python(port: int, w: Workload, tenant: str | None, start: int, conns: int, seconds: float,
               count: int = 0) -> LoadResult:
    """The built-in generator: `conns` threads, one keep-alive connection each, for `seconds`
    or until `count` answers (when given)."""
    headers = w.headers_for(tenant) if tenant is not None else w.headers
    numbers = itertools.count(start)
    budget = itertools.count(1) if count else None
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
        while time.perf_counter() < deadline[0] and (budget is None or next(budget) <= count):
            n = next(numbers)
            max_n = n
            path, body = w.render(n)
            t0 = time.perf_counter()
            try:
                conn.request(w.method, path, body=body, headers=headers)
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
