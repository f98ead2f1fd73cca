"""Where a stateful refund's time goes: py-spy on a `refund-sandbox serve` under wrk load.

Owns the profiling companion of `benchmarks/load.py` (whose pieces it reuses): for each
provider it writes refundable orders (in memory by default), starts a sandbox, loads it with wrk at
--conns connections (every request refunds a new order) while `py-spy record` samples the
server, and prints the functions holding the GIL most often: self time, and inclusive time
of the sandbox's own functions. Profiled figures are slower than unprofiled ones: use
load.py for throughput. Needs wrk and py-spy (`.venv/bin/pip install py-spy`; root or
ptrace permission). For the same question without a server, load or machine noise (µs,
instructions and call counts per refund, collector pauses), see `benchmarks/inprocess.py`.

    .venv/bin/python benchmarks/profile_refund.py --providers fire,purpledot --seconds 20
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import run_wrk  # the benchmark's modules are scripts beside this one, not a package
from servers import ROOT, child_setup, sandbox_server, serve_threads, stop_process
from workloads import FIRST_ORDER, PROVIDERS, Http, Store, verify_tenant, workloads

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) of each frame of one collapsed py-spy stack, outermost first."""
    result = []
    for part in stack.split(";"):
        m = FRAME.match(part)
        if m:
            result.append((m["func"], m["file"]))
    return result


def short(path: str) -> str:
    for marker in ("/site-packages/", str(ROOT) + "/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def library(path: str) -> str:
    p = short(path)
    if p.startswith("sandbox/"):
        return p
    return p.split("/", 1)[0] if "/" in p else p


def summarize(raw: Path, top: int) -> str:
    stacks: list[tuple[list[tuple[str, str]], int]] = []
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((frames(stack), int(count)))
    total = sum(c for _, c in stacks) or 1
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    by_lib: collections.Counter[str] = collections.Counter()
    for fs, count in stacks:
        if not fs:
            continue
        func, file = fs[-1]
        self_time[f"{func} ({short(file)})"] += count
        by_lib[library(file).split("/")[0] if not short(file).startswith("sandbox/") else "sandbox"] += count
        seen = set()
        for func, file in fs:
            if short(file).startswith("sandbox/"):
                key = f"{func} ({short(file)})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += count
    lines = [f"{total} samples holding the GIL"]
    lines.append("self time (the function itself), top:")
    lines += [f"  {c / total:6.1%}  {k}" for k, c in self_time.most_common(top)]
    lines.append("inclusive time of sandbox functions (with what they call), top:")
    lines += [f"  {c / total:6.1%}  {k}" for k, c in inclusive.most_common(top)]
    lines.append("self time by package:")
    lines += [f"  {c / total:6.1%}  {k}" for k, c in by_lib.most_common(12)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default="fire,purpledot")
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--orders", type=int, default=40000, help="orders written per provider tenant")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--durable", action="store_true", help="serve with --data-dir instead of in memory")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(pyspy).exists() or not shutil.which("wrk"):
        print("needs py-spy (pip install py-spy) and wrk (benchmarks/setup.sh)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    wl = workloads()
    providers = [p for p in args.providers.split(",") if p in PROVIDERS]
    work = Path(tempfile.mkdtemp(prefix="refund-sandbox-profile-"))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        for provider in providers:
            store = Store(work / provider, args.durable)
            store.write(f"prof-{provider}", wl[provider], FIRST_ORDER, args.orders)
            with sandbox_server(work, serve_threads(), name=f"profiled-{provider}", **store.where()) as server:
                server.start()
                http = Http(server.port)
                w, tenant = wl[provider], f"prof-{provider}"
                w.extra_headers = w.login(http, tenant) if w.login else {}
                verify_tenant(http, w, tenant, w.headers_for(tenant), FIRST_ORDER)
                run_wrk(server.port, w, tenant, FIRST_ORDER + 1, args.conns, 2)  # warm-up
                base = args.out / f"profile-{provider}-c{args.conns}-{stamp}"
                spy = None
                procs = []
                try:
                    for fmt, suffix in (("raw", ".txt"), ("speedscope", ".speedscope.json")):
                        spy = subprocess.Popen(
                            [pyspy, "record", "--pid", str(server.pid), "--subprocesses", "--rate", str(args.rate),
                             "--gil", "--nonblocking", "--duration", str(args.seconds + 2), "--format", fmt,
                             "--output", str(base) + suffix],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=child_setup)
                        procs.append(spy)
                    time.sleep(1)
                    start = FIRST_ORDER + 1 + args.orders // 10
                    result = run_wrk(server.port, w, tenant, start, args.conns, args.seconds)
                    for p in procs:
                        p.wait(args.seconds + 30)
                finally:
                    for p in procs:
                        stop_process(p)
                print(f"== {provider} refund at {args.conns} connections, profiled: {result.rps:,.0f} req/s, "
                      f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx}")
                print(summarize(Path(str(base) + ".txt"), args.top))
                print(f"speedscope: {base}.speedscope.json\n", flush=True)
                http.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
