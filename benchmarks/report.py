"""The load benchmark's verdicts and its printed table.

Owns the targets of issue 16 (constants below, judged at `JUDGED_AT` connections from the
same run's figures, each as a ratio) and the text `load.py` prints and stores in its JSON:
the load table (bare Flask, Prism, each provider at each connection count), start-up and
memory, the long run's RSS, and one line per target: MET, MISSED or NOT JUDGED, with the
figure and the ratio.
"""

from __future__ import annotations

from typing import Any

JUDGED_AT = 16                  # connections
TARGET_VS_PRISM = 1.25           # each provider's refund req/s / Prism's static mock req/s
TARGET_P99_MS = 25.0             # each provider's refund p99
TARGET_STARTUP_S = 0.5           # start to first answer, median
TARGET_SHARE_OF_CEILING = 0.35   # each provider's refund req/s / bare Flask's on the same server
TARGET_RSS_GROWTH_MB = 20.0      # "flat": RSS slope over the long run's second half, MB per 1,000,000 refunds


def slope_per_million(samples: list[dict[str, Any]]) -> float | None:
    """Least-squares slope of RSS (MB) against refunds, per 1,000,000 refunds, over the run's
    second half (its last two samples at least): RSS rises early while the allocator and
    caches settle (the first reset holds two copies of the tenant for a moment), then a bound
    that holds keeps it level, while a leak grows it at the same rate throughout."""
    points = [(s["requests"], s["rss_mb"]) for s in samples if s.get("rss_mb") is not None]
    half = points[-1][0] / 2 if points else 0
    points = [p for p in points if p[0] >= half] if sum(p[0] >= half for p in points) >= 2 else points[-2:]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var * 1e6 if var else None


def _line(target: str, figure: str, ratio: str, met: bool | None) -> dict[str, Any]:
    return {"target": target, "figure": figure, "ratio": ratio, "met": met}


def _not_judged(target: str, why: str) -> dict[str, Any]:
    return _line(target, "-", why, None)


def _versus(target: str, rps: float, ref: dict[str, Any], need: float, share: bool) -> dict[str, Any]:
    """A rate judged against a reference row's rate: a share (35 %) or a multiple (1.25x) of it."""
    ratio = rps / ref["rps"]
    shown = (f"{ratio:.1%} ({(ratio - need) * 100:+.1f} points)" if share
             else f"{ratio:.2f}x ({rps - need * ref['rps']:+,.0f} req/s)")
    return _line(target, f"{rps:,.0f} vs {ref['rps']:,.0f} req/s", shown, ratio >= need)


def targets(out: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target, judged from this run's own figures."""
    lines: list[dict[str, Any]] = []
    bare = out["load"]["bare"].get(JUDGED_AT)
    prism = out.get("prism", {}).get("levels", {}).get(JUDGED_AT)
    at = f"@{JUDGED_AT}"
    for provider, levels in out["load"]["sandbox"].items():
        row = levels.get(JUDGED_AT)
        if row is None:
            continue
        rps = row["rps"]
        name = f"{provider} refund {at}"
        prism_target = f"{name} >= {TARGET_VS_PRISM:g}x Prism static {at}"
        lines.append(_versus(prism_target, rps, prism, TARGET_VS_PRISM, share=False) if prism else
                     _not_judged(prism_target, out.get("prism", {}).get("skipped", "Prism not run")))
        p99 = row["p99_ms"]
        lines.append(_line(f"{name} p99 <= {TARGET_P99_MS:g} ms", f"{p99:.1f} ms",
                           f"{p99 / TARGET_P99_MS:.2f}x the bound ({p99 - TARGET_P99_MS:+.1f} ms)",
                           p99 <= TARGET_P99_MS))
        bare_target = f"{name} >= {TARGET_SHARE_OF_CEILING:.0%} of bare Flask {at}"
        lines.append(_versus(bare_target, rps, bare, TARGET_SHARE_OF_CEILING, share=True) if bare else
                     _not_judged(bare_target, "bare Flask not run"))
    if "startup" in out:
        s = out["startup"]["median_s"]
        lines.append(_line(f"start to first answer <= {TARGET_STARTUP_S:g} s (median of {out['startup']['starts']})",
                           f"{s:.3f} s", f"{s / TARGET_STARTUP_S:.2f}x the bound ({s - TARGET_STARTUP_S:+.3f} s)",
                           s <= TARGET_STARTUP_S))
    target = f"RSS flat over the long run (second half's slope <= {TARGET_RSS_GROWTH_MB:g} MB per 1M refunds)"
    long = out.get("long")
    slope = slope_per_million(long["samples"]) if long else None
    if slope is None:
        lines.append(_not_judged(target, "run with --long" if not long else "fewer than 2 RSS samples"))
    else:
        rss = [s["rss_mb"] for s in long["samples"]]
        lines.append(_line(target, f"{rss[0]:.0f} -> {rss[-1]:.0f} MB (max {max(rss):.0f}) over "
                                   f"{long['requests']:,} refunds",
                           f"{slope:+.1f} MB per 1,000,000 ({slope / TARGET_RSS_GROWTH_MB:.2f}x the bound)",
                           slope <= TARGET_RSS_GROWTH_MB))
    return lines


# --------------------------------------------------------------------------- text

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
        lines.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i])
                               for i, c in enumerate(row)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)


def verdict(met: bool | None) -> str:
    return "NOT JUDGED" if met is None else "MET" if met else "MISSED"


def _load_rows(out: dict[str, Any]) -> list[list[Any]]:
    bare, prism = out["load"]["bare"], out.get("prism", {}).get("levels", {})

    def row(server: str, operation: str, conns: int, r: dict[str, Any]) -> list[Any]:
        cpu = r.get("server_cpu_us_per_req")
        of_bare = f"{r['rps'] / bare[conns]['rps']:.0%}" if conns in bare else "-"
        vs_prism = f"{r['rps'] / prism[conns]['rps']:.2f}x" if conns in prism else "-"
        note = "ORDERS RAN OUT" if r.get("pool_short") else ""
        return [server, operation, conns, r["rps"], r["p50_ms"], r["p99_ms"], r["non_2xx"], r["socket_errors"],
                r["requests"], r.get("server_cpu_cores"), "-" if cpu is None else f"{cpu:,.0f}",
                r.get("rss_mb_after"), of_bare, vs_prism, note]

    server = f"bare-flask ({out['meta']['ceiling_server']})"
    rows = [row(server, "POST /refund", c, r) for c, r in bare.items()]
    rows += [row("prism static", "purpledot refund", c, r) for c, r in prism.items()]
    for provider, levels in out["load"]["sandbox"].items():
        rows += [row("sandbox", f"{provider} refund", c, r) for c, r in levels.items()]
    return rows


def report(out: dict[str, Any]) -> str:
    meta = out["meta"]
    parts = [f"refund-sandbox load benchmark, {meta['started']} on {meta['host']} ({meta['cpus']} CPUs; "
             "the machine may be shared: compare figures within this run)",
             f"generator: {meta['generator_detail']}; {meta['duration_s']} s per run after a {meta['warmup_s']} s "
             "warm-up; 127.0.0.1",
             f"sandbox: {meta['sandbox_cmd']} (request log off); bare: benchmarks/bare_app.py on "
             f"{meta['ceiling_server']}, {meta['threads']} threads"]
    prism = out.get("prism", {})
    if "skipped" in prism:
        parts.append(prism["skipped"])
    elif prism:
        parts.append(f"prism: static mock of contracts/purpledot.openapi.yaml, {prism['request']} answered "
                     f"{prism['answer']['status']}; started in {prism['start_s']:.2f} s")
    parts.append("")
    if load_rows := _load_rows(out):
        parts += ["LOAD (every sandbox request refunds a new order; CPU and RSS: the server's whole process tree)",
                  table(load_rows, ["server", "operation", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx",
                                    "sock err", "requests", "CPU cores", "CPU us/req", "RSS MB", "of bare",
                                    "vs Prism", ""]), ""]
    rows = []
    if "startup" in out:
        s = out["startup"]
        rows.append([f"sandbox start to first answer (median of {s['starts']})", f"{s['median_s']:.3f} s",
                     f"min {min(s['seconds']):.3f}, max {max(s['seconds']):.3f}; idle RSS {_fmt(s['rss_mb_idle'])} MB"])
    if "bare_start_s" in out:
        rows.append(["bare flask start to first answer (one start)", f"{out['bare_start_s']:.3f} s",
                     f"idle RSS {_fmt(out.get('bare_rss_mb_idle'))} MB"])
    if "tenant_ops" in out:
        t = out["tenant_ops"]
        rows.append([f"tenant creation, POST /_sandbox/reset (median of {t['samples']})",
                     f"{t['create_ms_median']:.2f} ms", f"max {t['create_ms_max']:.2f} ms"])
        rows.append([f"tenant reset, POST /_sandbox/reset again (median of {t['samples']})",
                     f"{t['reset_ms_median']:.2f} ms", f"max {t['reset_ms_max']:.2f} ms"])
    if "orders_per_run" in out:
        rows.append(["orders written per provider run", f"{out['orders_per_run']:,}", "--pool-factor"])
    if rows:
        parts += ["START-UP AND MEMORY", table(rows, ["measure", "value", "detail"]), ""]
    long = out.get("long")
    if long and long["samples"]:
        parts += [f"LONG RUN ({long['provider']} refunds at {long['connections']} connections through one server; "
                  f"RSS every {long['every']:,}; {long.get('requests', 0):,} of {long['asked']:,} asked, "
                  f"bound {long['bound_s']:g} s)",
                  table([[f"{s['requests']:,}", "", s["rss_mb"], s["rps"], s["p99_ms"], s["non_2xx"],
                          s["socket_errors"]] for s in long["samples"]],
                        ["refunds", "", "RSS MB", "req/s", "p99 ms", "non-2xx", "sock err"]), ""]
    lines = out["targets"]
    parts += [f"TARGETS (issue 16, at {JUDGED_AT} connections, from this run)",
              table([[t["target"], t["figure"], t["ratio"], verdict(t["met"])] for t in lines],
                    ["target", "figure", "ratio", "verdict"]),
              f"MET {sum(t['met'] is True for t in lines)}, MISSED {sum(t['met'] is False for t in lines)}, "
              f"NOT JUDGED {sum(t['met'] is None for t in lines)}"]
    return "\n".join(parts)
