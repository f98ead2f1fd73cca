"""The load benchmark's server processes: start, wait for the first answer, measure, stop.

Owns every process `load.py` starts: the sandbox (`python -m sandbox serve`), the bare-Flask
ceiling on the server `serve` uses (granian, or waitress with `--server waitress`), Prism's
static mock, and the load generator. Each child runs in a session (process group) of its
own, so Ctrl-C reaches only the benchmark, and is stopped by its PID (SIGTERM, then SIGKILL)
and then by its group (granian's forked worker, Prism's node children). CPU time and RSS are
summed over the server's whole process tree, read from /proc (Linux).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"
PRISM = HERE / ".prism" / "node_modules" / ".bin" / "prism"  # where benchmarks/setup.sh installs it
#: Every server process stopped so far, its descendants included (load.py reports them, so a
#: test can prove that none is left).
STOPPED: list[int] = []

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


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_process(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM the process by its PID (SIGKILL after `timeout`), then whatever is left of the
    process group it leads (started by `child_setup`): SIGTERM, and SIGKILL after 2 s."""
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 1.0)):
        if not _group_alive(proc.pid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(proc.pid):
            time.sleep(0.05)


# --------------------------------------------------------------------------- /proc

def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (field 3 onwards), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_tree(pid: int) -> list[int]:
    """The process and all its live descendants (granian's forked worker, Prism's node children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by the process and its live descendants."""
    total = 0
    for member in process_tree(pid):
        fields = _stat(member)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(pid: int) -> float | None:
    """VmRSS summed over the process tree, in MB (10**6 bytes); pages a forked worker still
    shares with its parent count in both."""
    total, seen = 0, False
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        seen = True
                        break
        except OSError:
            continue
    return total / 1e6 if seen else None


# --------------------------------------------------------------------------- servers

class Server:
    """A server process on 127.0.0.1 with its output in a log file; a context manager that stops it."""

    def __init__(self, name: str, argv: list[str], port: int, health: str, log_dir: Path,
                 env: dict[str, str] | None = None, probe: tuple[str, bytes, dict[str, str]] | None = None
                 ) -> None:
        self.name, self.argv, self.port, self.health, self.env = name, argv, port, health, env or {}
        self.probe = probe  # (method, body, headers) of the health request; GET with no body by default
        self.log_path = log_dir / f"{name}-{port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for the first 2xx on the health path; return seconds from spawn to it."""
        env = {**os.environ, "REFUND_SANDBOX_LOG_REQUESTS": "0", "PYTHONUNBUFFERED": "1", **self.env}
        # bytecode is cached, as it is for an installed wheel (pip compiles it at install time)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        method, body, headers = self.probe or ("GET", b"", {})
        with open(self.log_path, "ab") as log:
            started = time.perf_counter()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                         cwd=ROOT, preexec_fn=child_setup)
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request(method, self.health, body=body or None, headers=headers)
                status = conn.getresponse().status
                conn.close()
                if 200 <= status < 300:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not answer {self.health} within {timeout} s; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss(self) -> float | None:
        return tree_rss_mb(self.pid) if self.proc is not None else None

    def cpu(self) -> float:
        return tree_cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.proc is not None:
            STOPPED.extend(process_tree(self.pid) if self.proc.poll() is None else [self.pid])
        stop_process(self.proc)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_threads() -> int:
    """The threads `refund-sandbox serve` runs with when not told (its settings, env included)."""
    from sandbox.settings import Settings

    return Settings.load().threads


def sandbox_server(log_dir: Path, threads: int, *, fixtures: Path | None = None, data_dir: Path | None = None,
                   name: str = "sandbox", store: str | None = None, workers: int = 1) -> Server:
    """`refund-sandbox serve` in memory (with `fixtures`, every tenant starts from them), with
    --data-dir (its tenant snapshots hold the orders), or on the shared store at `store` with
    `workers` worker processes (tenants copied from `fixtures` into Redis on first use)."""
    port = free_port()
    argv = [sys.executable, "-m", "sandbox", "serve", "--host", HOST, "--port", str(port), "--threads", str(threads)]
    env = {}
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if store is not None:
        argv += ["--store", store, "--workers", str(workers)]
    if fixtures is not None:
        env["REFUND_SANDBOX_FIXTURES_DIR"] = str(fixtures)
    return Server(name, argv, port, "/_sandbox/health", log_dir, env)


def bare_server(log_dir: Path, threads: int, server: str) -> Server:
    """The ceiling, `benchmarks/bare_app.py`, on `serve`'s own server (granian: one worker
    process, `threads` blocking threads) or on waitress (`threads` threads)."""
    port = free_port()
    argv = [sys.executable, str(HERE / "bare_app.py"), "--host", HOST, "--port", str(port),
            "--threads", str(threads), "--server", server]
    return Server(f"bare-{server}", argv, port, "/health", log_dir)


def prism_path() -> str | None:
    """Prism's CLI as benchmarks/setup.sh installs it (or one on PATH), if any."""
    return str(PRISM) if PRISM.exists() else shutil.which("prism")


def prism_server(log_dir: Path, contract: Path, probe: tuple[str, str, bytes, dict[str, str]],
                 log_level: str = "warn") -> Server:
    """`prism mock` (static examples; by default warnings only in its log, as the sandbox runs
    with its request log off) on `contract`; up when `probe` (method, path, body, headers)
    answers 2xx."""
    port = free_port()
    argv = [prism_path() or "prism", "mock", "-p", str(port), "-h", HOST, "--verboseLevel", log_level, str(contract)]
    method, path, body, headers = probe
    return Server("prism", argv, port, path, log_dir, probe=(method, body, headers))
