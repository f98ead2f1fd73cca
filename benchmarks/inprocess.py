"""The sandbox's own cost per refund, in process: no sockets, no server, no load generator.

Owns the in-process companion of `benchmarks/load.py` (whose workloads and order writer it
reuses): for each provider it writes refundable orders into a fixtures directory, builds the
app with `create_app` (request log off, as `load.py` serves it) and calls it as a WSGI
callable in a loop, every request refunding a NEW order. It prints, per provider:

- microseconds per refund, median of --rounds rounds of --requests refunds each (wall clock
  of this process only: compare runs taken on the same machine, A against B);
- with --cprofile, the functions with the most own time and the calls per refund (call
  counts do not depend on machine load);
- with --instructions, the instructions one refund executes: this script run twice under
  valgrind's callgrind (--requests and 6x --requests refunds) and the difference divided,
  so start-up cancels out (independent of machine load; needs valgrind; slow);
- with --gc, what the collector does over the rounds: every collection timed through
  `gc.callbacks` (gen-2 count, max and p99 pause), and the gc-tracked objects each refund
  leaves behind, split by where they live (store tables, journal, outbox).

    .venv/bin/python benchmarks/inprocess.py --providers bare,purpledot --requests 2000 --rounds 5
    .venv/bin/python benchmarks/inprocess.py --gc --requests 20000 --rounds 5   # 100k refunds
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import io
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load import FIRST_ORDER, PROVIDERS, Http, Store, workloads  # load.py is a script beside this one

from sandbox.app import create_app
from sandbox.core.runtime import EXTENSION
from sandbox.settings import Settings

TENANT = "inproc"
BARE = "bare"  # not a provider: bare Flask (benchmarks/bare_app.py) answering the same request


class Wsgi(Http):
    """Requests straight into the WSGI app: load.Http's request() (and so its json()), without a socket."""

    def __init__(self, app: Any) -> None:  # no connection to open: Http.__init__ is not called
        self.app = app
        self._status = ""

    def _start(self, status: str, headers: list, exc_info: Any = None) -> None:
        self._status = status

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
                   "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body or b""), "wsgi.errors": sys.stderr,
                   "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
                   "wsgi.version": (1, 0), "CONTENT_LENGTH": str(len(body or b""))}
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
        chunks = self.app(environ, self._start)
        try:
            data = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return int(self._status[:3]), data, (time.perf_counter() - started) * 1000


class Pauses:
    """Every collection's duration, by generation, through gc.callbacks."""

    def __init__(self) -> None:
        self.by_gen: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.by_gen[info["generation"]].append((time.perf_counter() - self._start) * 1000)

    def __enter__(self) -> Pauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    def summary(self) -> str:
        parts = []
        for gen, times in self.by_gen.items():
            if times:
                ordered = sorted(times)
                p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
                parts.append(f"gen{gen}: {len(times)} runs, max {max(times):.2f} ms, p99 {p99:.2f} ms, "
                             f"total {sum(times):.0f} ms")
        return "; ".join(parts) or "no collections"


def tracked_under(root: Any) -> int:
    """How many gc-tracked objects are reachable from `root` through containers and the
    sandbox's own objects (not through modules, classes or functions)."""
    seen: set[int] = set()
    stack = [root]
    count = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if gc.is_tracked(obj):
            count += 1
        kind = type(obj)
        if kind in (dict, list, tuple, set, frozenset) or kind.__name__ == "deque" or (
                kind.__module__ or "").startswith("sandbox."):
            stack.extend(gc.get_referents(obj))
    return count


def tenant_of(n: int, tenants: int) -> str:
    """The tenant refund n goes to: one tenant, or round-robin over `tenants` of them."""
    return TENANT if tenants == 1 else f"{TENANT}-{n % tenants}"


def where_kept(app: Any, provider: str) -> dict[str, int]:
    """Tracked objects per place a refund leaves something: each store table, journal, outbox."""
    rt = app.extensions[EXTENSION]
    places: Counter[str] = Counter()
    for name in rt.store.tenants():
        for table, docs in rt.store.tenant(name).raw.get(provider, {}).items():
            places[f"store {table}"] += tracked_under(docs)
    places["journal"] = tracked_under(rt.journal._items)
    places["outbox"] = tracked_under(rt.outbox._items)
    places["selfcheck"] = tracked_under(rt.selfcheck)
    return places


def build(provider: str, orders: int, work: Path) -> tuple[Any, Wsgi, Any]:
    if provider == BARE:  # the floor: bare Flask answering Purple Dot's request, as load.py's ceiling
        from bare_app import create_app as bare_app

        app = bare_app()
        return app, Wsgi(app), dataclasses.replace(workloads()["purpledot"], path="/refund")
    wl = workloads()[provider]
    fixtures = work / provider
    Store(fixtures, durable=False).write(TENANT, wl, FIRST_ORDER, orders)
    app = create_app(Settings(fixtures_dir=fixtures, log_requests=False))
    client = Wsgi(app)
    wl.extra_headers = wl.login(client, TENANT) if wl.login else {}
    return app, client, wl


def refunds(client: Wsgi, wl: Any, first: int, count: int, tenants: int = 1) -> float:
    """Refund orders first..first+count-1; microseconds per refund."""
    headers = [wl.headers_for(tenant_of(n, tenants)) for n in range(tenants)]
    started = time.perf_counter()
    for n in range(first, first + count):
        path, body = wl.render(n)
        status, data, _ = client.request(wl.method, path, body, headers[n % tenants])
        if status != 200:
            raise RuntimeError(f"{wl.provider}: refund {n} answered {status}: {data[:300]!r}")
    return (time.perf_counter() - started) / count * 1e6


def measure(provider: str, args: argparse.Namespace, work: Path) -> None:
    total = args.requests * args.rounds
    app, client, wl = build(provider, total + args.warmup + 1, work)
    with_gc = args.gc and provider != BARE
    n = FIRST_ORDER
    refunds(client, wl, n, args.warmup, args.tenants)  # the tenants are created, caches filled
    n += args.warmup
    gc.collect()
    if args.freeze:
        gc.freeze()
    before = where_kept(app, provider) if with_gc else {}
    tracked_before = len(gc.get_objects())
    profiler = cProfile.Profile() if args.cprofile else None
    times = []
    with Pauses() as pauses:
        for _ in range(args.rounds):
            if profiler:
                profiler.enable()
            times.append(refunds(client, wl, n, args.requests, args.tenants))
            if profiler:
                profiler.disable()
            n += args.requests
    print(f"== {provider}: {statistics.median(times):.0f} us per refund (median of {args.rounds} rounds of "
          f"{args.requests}: {', '.join(f'{t:.0f}' for t in times)})")
    if with_gc:
        gc.collect()
        after = where_kept(app, provider)
        growth = len(gc.get_objects()) - tracked_before
        print(f"   collector ({'heap frozen after load' if args.freeze else 'no freeze'}): {pauses.summary()}")
        print(f"   tracked objects kept per refund: {growth / total:.1f} in all; by place: " + ", ".join(
            f"{k} {(after[k] - before.get(k, 0)) / total:.1f}" for k in after if after[k] != before.get(k, 0)))
        kinds = Counter(type(o).__name__ for o in gc.get_objects())
        print("   tracked objects now, by type: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common(8)))
    if profiler:
        stats = pstats.Stats(profiler)
        calls = sum(c for c, *_ in stats.stats.values())  # type: ignore[attr-defined]
        print(f"   {calls / total:.0f} Python function calls per refund")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    gc.unfreeze()


def instructions(provider: str, args: argparse.Namespace) -> float:
    """Instructions per refund: two callgrind runs of this script, differenced."""
    counts = []
    for requests in (args.requests, 6 * args.requests):
        with tempfile.NamedTemporaryFile(prefix="callgrind-") as out:
            proc = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}", sys.executable, __file__,
                 "--providers", provider, "--requests", str(requests), "--rounds", "1", "--warmup", "20"],
                capture_output=True, text=True, check=True)
        counts.append(int(proc.stderr.rsplit("Collected :", 1)[1].split()[0]))
    return (counts[1] - counts[0]) / (5 * args.requests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default=",".join(PROVIDERS),
                        help=f"comma-separated; '{BARE}' measures bare Flask answering Purple Dot's request")
    parser.add_argument("--requests", type=int, default=2000, help="refunds per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--tenants", type=int, default=1, help="spread the refunds over this many tenants")
    parser.add_argument("--cprofile", action="store_true", help="profile the rounds with cProfile")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key [tottime]")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--instructions", action="store_true",
                        help="instructions per refund under callgrind (--requests 100 is plenty)")
    parser.add_argument("--gc", action="store_true", help="time collections and count tracked objects kept")
    parser.add_argument("--no-freeze", dest="freeze", action="store_false",
                        help="do not gc.freeze() after the warm-up (the heap as an unfrozen app has it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="refund-sandbox-inprocess-") as tmp:
        for provider in args.providers.split(","):
            if args.instructions:
                print(f"== {provider}: {instructions(provider, args) / 1e6:.2f} M instructions per refund", flush=True)
            else:
                measure(provider, args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
