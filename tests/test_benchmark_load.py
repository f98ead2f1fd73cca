"""benchmarks/load.py's smoke mode, end to end on loopback: every section runs against real
servers (bare Flask on granian, the sandbox, the start-ups, a short long run), the targets are
judged from the run's own figures, and no server process is left behind. No timed assertion:
the figures only have to exist and be made of successful refunds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_measures_every_section_and_stops_every_server(tmp_path):
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/load.py", "--quick", "--duration", "1", "--warmup", "1", "--levels", "16",
         "--providers", "purpledot", "--skip", "prism", "--starts", "1", "--generator", "python",
         "--long", "--long-requests", "600", "--long-every", "200", "--output", str(out), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))

    bare, refund = data["load"]["bare"]["16"], data["load"]["sandbox"]["purpledot"]["16"]
    for row in (bare, refund):
        assert row["requests"] > 0 and row["non_2xx"] == 0 and row["socket_errors"] == 0
        assert row["server_cpu_us_per_req"] > 0 and row["rss_mb_after"] > 0
    assert data["meta"]["ceiling_server"] == "granian"
    assert 0 < data["startup"]["median_s"] < 60

    long = data["long"]
    assert long["requests"] == 600
    assert [s["requests"] for s in long["samples"]] == [200, 400, 600]
    assert all(s["non_2xx"] == 0 and s["rss_mb"] > 0 for s in long["samples"])

    verdicts = {t["target"]: t["met"] for t in data["targets"]}
    judged = [name for name, met in verdicts.items() if met is not None]
    assert any("purpledot refund @16 p99" in name for name in judged)
    assert any("of bare Flask" in name for name in judged)
    assert any("start to first answer" in name for name in judged)
    assert any("RSS flat" in name for name in judged)
    assert [t["met"] for t in data["targets"] if "Prism" in t["target"]] == [None]  # skipped: not judged
    assert "TARGETS" in proc.stdout and data["table"] in proc.stdout

    assert data["meta"]["pids_stopped"]
    for pid in data["meta"]["pids_stopped"]:
        cmdline = Path(f"/proc/{pid}/cmdline")
        alive = cmdline.read_bytes() if cmdline.exists() else b""
        assert b"sandbox" not in alive and b"granian" not in alive, f"process {pid} left running"


def test_store_run_measures_workers_on_redis_beside_memory_and_stops_its_redis(tmp_path):
    """`load.py --store auto`: its own redis-server, the in-process store and 1 and 2 workers on
    Redis, each row made of successful refunds with Redis's CPU beside the sandbox's, the
    scaling ratio judged, and every process (redis-server included) stopped."""
    out = tmp_path / "store.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/load.py", "--store", "auto", "--quick", "--duration", "1", "--warmup", "1",
         "--providers", "purpledot", "--levels", "4", "--workers-max", "2", "--generator", "python",
         "--output", str(out), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))

    runs = data["shared"]["providers"]["purpledot"]
    assert set(runs) == {"memory-1", "redis-1", "redis-2"}
    for name, levels in runs.items():
        row = levels["4"]
        assert row["requests"] > 0 and row["non_2xx"] == 0 and row["socket_errors"] == 0, name
        assert row["server_cpu_us_per_req"] > 0 and row["machine_cpu_us_per_req"] > 0, name
        assert row["orders"] > row["requests"], name
        assert row["workers"] == int(name.split("-")[1])
        on_redis = name.startswith("redis")
        assert ("redis_cpu_us_per_req" in row) is on_redis and (row.get("redis_cpu_us_per_req") or 1) > 0, name
    assert data["load"] == {"bare": {}, "sandbox": {}} and "startup" not in data  # the other sections did not run
    [scaling] = data["targets"]
    assert scaling["target"].startswith("purpledot refund @4: 2 workers on the shared store >= 1.3x")
    assert scaling["ratio"].endswith("x") and scaling["met"] is not None
    assert "SHARED STORE" in proc.stdout and "WHAT A LARGER MACHINE SHOULD SHOW" in data["table"]

    redis_pid = data["shared"]["redis"]["pid"]
    assert data["shared"]["redis"]["auto"] and redis_pid in data["meta"]["pids_stopped"]
    for pid in data["meta"]["pids_stopped"]:
        cmdline = Path(f"/proc/{pid}/cmdline")
        alive = cmdline.read_bytes() if cmdline.exists() else b""
        assert not any(name in alive for name in (b"sandbox", b"granian", b"redis-server")), f"{pid} left running"
