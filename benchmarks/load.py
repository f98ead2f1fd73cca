"""Load benchmark over real sockets: the sandbox's stateful refunds beside bare Flask and Prism.

Owns the one benchmark command and its verdicts. In one run on 127.0.0.1 it:

1. serves `benchmarks/bare_app.py` on the server `refund-sandbox serve` uses (granian, one
   worker process, the same threads; `--server waitress` for waitress) and loads it at 1, 16
   and 64 connections: the ceiling;
2. serves Prism's static mock (`prism mock`, installed by `benchmarks/setup.sh`) of the Purple
   Dot contract, checks that it answers the sandbox's Purple Dot refund with a 2xx and a
   body, and loads that same request (skipped, with one line saying why, without Prism);
3. for each provider writes refundable orders before its server starts, starts
   `python -m sandbox serve` (request log off), proves over HTTP that the orders are there,
   logs in where the provider has a login, and loads its refund so that every request
   refunds a NEW order, at each connection count;
4. measures start to first answer (median of N starts), idle RSS, tenant creation and reset;
5. with `--long`, drives up to 1,000,000 refunds through one server (as many as
   `--long-seconds` allows at the measured rate), sampling RSS every `--long-every` refunds;
6. prints a table and each target MET or MISSED, and writes everything to a JSON file.

With `--store redis://HOST:PORT/DB` (or `auto`, a redis-server of its own) it runs instead the
shared-store section of `shared_store.py`: each provider's refund on the in-process store
(one worker) and on the shared store with 1, 2 and `--workers-max` workers, the scaling ratio
judged against issue 18's target, and what larger machines should show.

CPU per request is the server's whole process tree (granian's main process and its forked
worker; Prism's node processes) over the run, divided by the requests; RSS is summed over
the same tree. The load generator is wrk with `benchmarks/refund.lua`, else a bounded
Python one. Every process started here is stopped by its PID and its process group, in a
finally block, Ctrl-C included.

    .venv/bin/python benchmarks/load.py                      # full run, ~6 minutes
    .venv/bin/python benchmarks/load.py --quick --duration 2 # smoke run
    .venv/bin/python benchmarks/load.py --long --skip load,prism,startup  # RSS over 1,000,000 refunds
    .venv/bin/python benchmarks/load.py --store auto         # 1, 2, N workers on Redis, ~1 min per provider
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from measure import LoadResult, run_python, run_wrk, wrk_path, wrk_version
from report import report, slope_per_million, targets
from servers import HERE, ROOT, STOPPED, Server, bare_server, prism_path, prism_server, sandbox_server, serve_threads
from shared_store import default_workers, scaling, section_shared
from shared_store import report as shared_report
from workloads import FIRST_ORDER, JSON_CT, PROVIDERS, Http, Store, Workload, prism_request, verify_tenant, workloads

CONTRACT = ROOT / "contracts" / "purpledot.openapi.yaml"
BARE = Workload("bare", "POST", "/refund", '{"id":"refund-{n}","order":"5550000000001","line_items":'
                '[{"id":"14440000000011","quantity":1}],"shipping":true}', dict(JSON_CT), str, {})


@dataclass
class Run:
    """What the whole run needs to know: options, where files go, and what was measured."""

    args: argparse.Namespace
    work: Path
    generator: str
    out: dict[str, Any] = field(default_factory=dict)

    def load(self, server: Server, w: Workload, tenant: str | None, start: int, conns: int, seconds: float,
             count: int = 0) -> LoadResult:
        fn = run_wrk if self.generator == "wrk" else run_python
        return fn(server.port, w, tenant, start, conns, seconds, count)

    def level(self, server: Server, w: Workload, tenant: str | None, conns: int,
              orders: tuple[int, int] | None = None, meters: dict[str, Any] | None = None) -> dict[str, Any]:
        """A warm-up, then one measured run with the server tree's CPU over it and its RSS after.
        With `orders` (first, last), the runs refund only those and stop when they are used up.
        `meters` ({name: CPU seconds so far}) are read around the measured run too: NAME_cpu_us_per_req."""
        first = orders[0] if orders else 0
        headroom = conns + 4  # requests still in flight when wrk's threads stop

        def budget(start: int) -> int:
            if orders is None:
                return 0
            left = orders[1] - start + 1 - headroom
            if left <= conns:
                raise RuntimeError(f"{w.provider}: the {orders[1] - orders[0] + 1:,} orders written are used up "
                                   "before the measured run; raise --pool-factor")
            return left

        warm = self.load(server, w, tenant, first, conns, self.args.warmup, budget(first))
        start = max(first, warm.max_n + 1)
        meters = meters or {}
        before = {name: meter() for name, meter in meters.items()}
        cpu0 = server.cpu()
        result = self.load(server, w, tenant, start, conns, self.args.duration, budget(start))
        cpu = server.cpu() - cpu0
        row = result.row()
        for name, meter in meters.items():
            used = meter() - before[name]
            row[f"{name}_cpu_us_per_req"] = used / result.requests * 1e6 if result.requests else None
        row["server_cpu_cores"] = cpu / result.seconds if result.seconds else None
        row["server_cpu_us_per_req"] = cpu / result.requests * 1e6 if result.requests else None
        row["rss_mb_after"] = server.rss()
        row["pool_short"] = orders is not None and result.seconds < 0.9 * self.args.duration
        return row

    def say(self, text: str) -> None:
        if not self.args.quiet:
            print(text, file=sys.stderr, flush=True)


def section_bare(run: Run) -> None:
    results: dict[int, dict] = run.out["load"]["bare"]  # filled as it goes: an interrupt keeps what was done
    with bare_server(run.work, run.args.threads, run.args.server) as server:
        run.out["bare_start_s"] = server.start()
        run.out["bare_rss_mb_idle"] = server.rss()
        for conns in run.args.levels:
            run.say(f"bare flask on {run.args.server}: {conns} connections")
            results[conns] = run.level(server, BARE, None, conns)


def section_prism(run: Run) -> None:
    """Prism's static mock of the very request the sandbox's Purple Dot refund load sends."""
    if not prism_path():
        why = ("npm is missing (install Node.js and npm, then run `bash benchmarks/setup.sh`)"
               if not shutil.which("npm") else "not installed (run `bash benchmarks/setup.sh`)")
        run.out["prism"] = {"skipped": f"Prism static mock skipped: {why}"}
        print(run.out["prism"]["skipped"], file=sys.stderr)
        return
    w = prism_request(workloads()["purpledot"])
    path, body = w.render(FIRST_ORDER)
    prism: dict[str, Any] = {"levels": {}, "request": f"{w.method} {path}"}
    run.out["prism"] = prism
    with prism_server(run.work, CONTRACT, (w.method, path, body or b"", w.headers), run.args.prism_log) as server:
        prism["start_s"] = server.start(timeout=120)
        http = Http(server.port)
        status, data, _ = http.request(w.method, path, body, w.headers)
        http.close()
        if not (200 <= status < 300 and data):
            raise RuntimeError(f"Prism answered {status} {data[:200]!r} to {w.method} {path}; see {server.log_path}")
        prism["answer"] = {"status": status, "body": data.decode(errors="replace")[:300]}
        prism["rss_mb_idle"] = server.rss()
        for conns in run.args.levels:
            run.say(f"prism static mock: {conns} connections")
            prism["levels"][conns] = run.level(server, w, None, conns)


def pool_size(run: Run) -> int:
    """Orders per run of one provider: the best bare-Flask rate x --pool-factor over the warm-up
    and the measured run. A run that uses them up stops early and is flagged."""
    bare = run.out["load"]["bare"]
    ceiling = max((r["rps"] for r in bare.values()), default=5000.0)
    return math.ceil(ceiling * run.args.pool_factor * (run.args.warmup + run.args.duration)) + 200


def section_stateful(run: Run) -> None:
    """Each provider on a server of its own. In memory its fixtures hold the orders: one tenant,
    put back to them before each connection count; durable (--data-dir), one tenant per
    connection count, each with its own snapshot, reset after its run to drop the orders."""
    args = run.args
    size = pool_size(run)
    run.out["orders_per_run"] = size
    for provider in args.providers:
        w = workloads()[provider]
        store = Store(run.work / f"load-{provider}", args.durable)
        tenants = {c: f"lb-{provider}-c{c}" if args.durable else f"lb-{provider}" for c in args.levels}
        for tenant in sorted(set(tenants.values())):
            store.write(tenant, w, FIRST_ORDER, size)
        levels: dict[int, dict] = run.out["load"]["sandbox"].setdefault(provider, {})
        with sandbox_server(run.work, args.threads, name=f"sandbox-{provider}", **store.where()) as server:
            server.start(timeout=120)
            http = Http(server.port)
            for index, conns in enumerate(args.levels):
                tenant = tenants[conns]
                if index and not args.durable:
                    http.json("POST", "/_sandbox/reset", headers={"X-Sandbox-Tenant": tenant})
                w.extra_headers = w.login(http, tenant) if w.login else {}
                t0 = time.perf_counter()
                verify_tenant(http, w, tenant, w.headers_for(tenant), FIRST_ORDER)
                load_ms = (time.perf_counter() - t0) * 1000
                run.say(f"sandbox {provider}: {conns} connections")
                row = run.level(server, w, tenant, conns, (FIRST_ORDER + 1, FIRST_ORDER + size - 1))
                row["tenant_load_ms"] = load_ms
                levels[conns] = row
                if args.durable:
                    http.json("POST", "/_sandbox/reset", headers={"X-Sandbox-Tenant": tenant})
            http.close()


def section_startup(run: Run) -> None:
    """Spawn to the first 200 of GET /_sandbox/health, N times; idle RSS; tenant creation and reset."""
    times, rss = [], []
    for index in range(run.args.starts):
        with sandbox_server(run.work, run.args.threads, name="startup") as server:
            times.append(server.start())
            rss.append(server.rss())
            if index == 0:
                run.out["tenant_ops"] = tenant_ops(Http(server.port), run.args.tenant_samples)
    run.out["startup"] = {"starts": len(times), "seconds": times, "median_s": statistics.median(times),
                          "rss_mb_idle": statistics.median(r for r in rss if r is not None)}


def tenant_ops(http: Http, samples: int) -> dict[str, Any]:
    """POST /_sandbox/reset with a new X-Sandbox-Tenant (creates it, then resets it), then again (reset)."""
    create, reset = [], []
    for i in range(samples):
        headers = {"X-Sandbox-Tenant": f"lb-new-{i}"}
        create.append(http.request("POST", "/_sandbox/reset", b"", headers)[2])
        reset.append(http.request("POST", "/_sandbox/reset", b"", headers)[2])
    http.close()
    return {"samples": samples, "create_ms_median": statistics.median(create), "create_ms_max": max(create),
            "reset_ms_median": statistics.median(reset), "reset_ms_max": max(reset)}


def section_long(run: Run) -> None:
    """Refunds in chunks of --long-every through one server at 16 connections, RSS after each.
    The tenant goes back to its fixtures (the chunk's orders) between chunks, so what could
    grow is what the bounds should hold: the journal, the outbox, the server itself."""
    args = run.args
    w = workloads()[args.long_provider]
    every, conns, tenant = args.long_every, 16, "lb-long"
    store = Store(run.work / "long", False)
    store.write(tenant, w, FIRST_ORDER, every + conns + 100)
    long: dict[str, Any] = {"provider": w.provider, "connections": conns, "every": every, "samples": [],
                            "asked": args.long_requests, "bound_s": args.long_seconds}
    run.out["long"] = long
    with sandbox_server(run.work, args.threads, name="long", **store.where()) as server:
        server.start(timeout=120)
        http = Http(server.port)
        long["rss_mb_idle"] = server.rss()
        done, busy, began = 0, 0.0, time.perf_counter()
        while done < args.long_requests:
            if done:
                http.json("POST", "/_sandbox/reset", headers={"X-Sandbox-Tenant": tenant})
            w.extra_headers = w.login(http, tenant) if w.login else {}
            chunk = min(every, args.long_requests - done)
            r = run.load(server, w, tenant, FIRST_ORDER, conns, args.long_seconds + 60, chunk)
            done += r.requests
            busy += r.seconds
            long["samples"].append({"requests": done, "rss_mb": server.rss(), "rps": r.rps, "p99_ms": r.p99_ms,
                                    "non_2xx": r.non_2xx, "socket_errors": r.socket_errors})
            rate = done / busy
            if len(long["samples"]) == 1:
                plan = min(args.long_requests, math.floor(rate * args.long_seconds))
                long["planned"] = plan
                run.say(f"long run: {args.long_requests:,} refunds would take {args.long_requests / rate:,.0f} s "
                        f"at {rate:,.0f} req/s; driving {plan:,} (--long-seconds {args.long_seconds:g})")
            if done >= long["planned"] or time.perf_counter() - began > args.long_seconds:
                break
        http.close()
        rss = [s["rss_mb"] for s in long["samples"] if s["rss_mb"] is not None]
        long.update(requests=done, seconds=time.perf_counter() - began, rps=done / busy if busy else None,
                    rss_mb_first=rss[0] if rss else None, rss_mb_last=rss[-1] if rss else None,
                    rss_mb_max=max(rss, default=None), slope_mb_per_million=slope_per_million(long["samples"]))


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run [10]")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each run [2]")
    parser.add_argument("--levels", default=None, help="connection counts [1,16,64; --quick: 1,16]")
    parser.add_argument("--providers", default=",".join(PROVIDERS), help="providers to load [all five]")
    parser.add_argument("--prism-log", choices=("warn", "info"), default="warn",
                        help="Prism's --verboseLevel: warn (its request log off, as the sandbox's is) or info, its "
                             "default, which logs every request [warn]")
    parser.add_argument("--server", choices=("granian", "waitress"), default="granian",
                        help="the bare-Flask ceiling's server: granian, as `serve` runs the sandbox [granian]")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for `serve --threads` and the ceiling [serve's default]")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="wrk if installed (auto), or the built-in Python generator")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 and 16 connections, 3 starts; "
                        "--long: 20,000 refunds sampled every 5,000")
    parser.add_argument("--starts", type=int, default=None, help="server starts for the start-up median [10]")
    parser.add_argument("--pool-factor", type=float, default=0.5,
                        help="orders per run = best bare req/s x this x (warm-up + duration) [0.5]")
    parser.add_argument("--store", default=None, metavar="redis://HOST:PORT/DB|auto",
                        help="instead of the sections below: each provider's refund with 1, 2 and --workers-max "
                        "workers on this shared store beside the in-process store (auto: a redis-server of its "
                        "own on a free loopback port, stopped at the end)")
    parser.add_argument("--workers-max", type=int, default=None,
                        help="with --store: the largest worker count measured [the CPU count]")
    parser.add_argument("--durable", action="store_true",
                        help="serve with --data-dir (an fsynced log line per refund) instead of in memory")
    parser.add_argument("--skip", default="", help="sections to skip: load,prism,startup")
    parser.add_argument("--long", action="store_true", help="also the long run: RSS over up to 1,000,000 refunds")
    parser.add_argument("--long-requests", type=int, default=None, help="refunds in the long run [1000000]")
    parser.add_argument("--long-every", type=int, default=None, help="refunds between RSS samples [50000]")
    parser.add_argument("--long-seconds", type=float, default=900, help="time bound of the long run [900]")
    parser.add_argument("--long-provider", choices=PROVIDERS, default="purpledot")
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON results [benchmarks/results/load-<timestamp>.json]")
    parser.add_argument("--keep-data", action="store_true", help="keep the working directory (data dirs, logs)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    default_levels = "16" if args.store else "1,16" if args.quick else "1,16,64"
    args.levels = [int(x) for x in (args.levels or default_levels).split(",")]
    args.providers = [p for p in args.providers.split(",") if p]
    unknown = set(args.providers) - set(PROVIDERS)
    if unknown:
        parser.error(f"unknown providers: {', '.join(sorted(unknown))}")
    args.skip = {s for s in args.skip.split(",") if s}
    if args.store and (args.long or args.durable):
        parser.error("--store measures the shared store only: run --long and --durable without it")
    args.workers_max = args.workers_max or default_workers()
    args.threads = args.threads or serve_threads()
    args.starts = args.starts or (3 if args.quick else 10)
    args.tenant_samples = 10 if args.quick else 30
    args.long_requests = args.long_requests or (20_000 if args.quick else 1_000_000)
    args.long_every = args.long_every or (5_000 if args.quick else 50_000)
    return args


def generator_detail(generator: str) -> str:
    if generator == "wrk":
        return (f"wrk ({wrk_version()}; benchmarks/refund.lua, threads = min(2, connections); its percentiles "
                "are corrected for coordinated omission, so one server stall of S ms also counts the requests "
                "that would have been sent during it)")
    return ("built-in Python generator (threads with keep-alive http.client; wrk not used"
            + ("" if wrk_path() else ", not installed") + "): it shares the cores and the GIL, so rates are lower; "
            "percentiles are of the requests sent (no coordinated-omission correction, unlike wrk)")


@contextlib.contextmanager
def workdir(keep: bool):
    path = Path(tempfile.mkdtemp(prefix="refund-sandbox-load-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def sections(run: Run) -> None:
    """The in-process benchmark's sections, in order, less those --skip names."""
    skip = run.args.skip
    if "load" not in skip:
        section_bare(run)
    if "prism" not in skip:
        section_prism(run)
    if "load" not in skip:
        section_stateful(run)
    if "startup" not in skip:
        run.say("start-up")
        section_startup(run)
    if run.args.long:
        section_long(run)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # kill PID: stop the servers too, as Ctrl-C does
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    if args.generator == "wrk" and not wrk_path():
        print("wrk is not installed: run benchmarks/setup.sh, or use --generator python", file=sys.stderr)
        return 2
    generator = "wrk" if (args.generator in ("auto", "wrk") and wrk_path()) else "python"
    started = datetime.now()
    out: dict[str, Any] = {"meta": {
        "started": started.isoformat(timespec="seconds"), "host": platform.node(), "cpus": os.cpu_count(),
        "python": platform.python_version(), "generator": generator, "generator_detail": generator_detail(generator),
        "duration_s": args.duration, "warmup_s": args.warmup, "levels": args.levels, "quick": args.quick,
        "threads": args.threads, "ceiling_server": args.server,
        "sandbox_cmd": f"python -m sandbox serve --threads {args.threads}"
                       + (" --data-dir DIR" if args.durable else " (in memory)")},
        "load": {"bare": {}, "sandbox": {}}}
    if args.store:
        out["meta"].update(sandbox_cmd=f"python -m sandbox serve --threads {args.threads} [--store URL --workers "
                           f"1, 2, {args.workers_max}]", workers_max=args.workers_max)
        out["shared"] = {"providers": {}}
    output = args.output or HERE / "results" / f"load-{started:%Y%m%d-%H%M%S}.json"
    with workdir(args.keep_data) as work:
        run = Run(args, work, generator, out)
        try:
            if args.store:
                section_shared(run)
            else:
                sections(run)
        except KeyboardInterrupt:
            print("interrupted: servers stopped; partial results follow", file=sys.stderr)
            out["meta"]["interrupted"] = True
    out["meta"]["pids_stopped"] = STOPPED
    out["targets"] = scaling(out) if args.store else targets(out)
    text = shared_report(out) if args.store else report(out)
    print(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({**out, "table": text}, indent=2, default=str), encoding="utf-8")
    print(f"\nresults: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
