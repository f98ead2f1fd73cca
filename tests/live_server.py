"""A `refund-sandbox serve` child process on 127.0.0.1 for tests, stopped by its PID.

Shared by the CLI tests and the fault tests (dropped connections need a real socket).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import FIRE_ACCOUNT, LOGIN_BODY

API_KEY = "pk_test_sandbox01"  # the shape Fire's API keys have (as in conftest.fire_headers)
STARTUP_TIMEOUT = 15.0
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None when gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None


def call(base: str, method: str, path: str, body: dict | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict | None]:
    """One HTTP request to a live sandbox: (status, JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})})
    try:
        with OPENER.open(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    return status, (json.loads(raw) if raw else None)


class Server:
    """A `refund-sandbox serve` child process on 127.0.0.1."""

    def __init__(self, workdir: Path, *args: str, port: int | None = None, new_session: bool = False) -> None:
        """`new_session`: the server leads a process group of its own (so a test can signal the group)."""
        self.new_session = new_session
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.workdir = workdir
        self.stderr_path = workdir / f"serve-{self.port}-{time.monotonic_ns()}.err"
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFUND_SANDBOX_")}
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sandbox", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 *self.args],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, cwd=self.workdir, env=env,
                start_new_session=self.new_session)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.stderr()}")
            try:
                with OPENER.open(self.base + "/_sandbox/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"serve did not answer /_sandbox/health in {STARTUP_TIMEOUT} s:\n"
                                     f"{self.stderr()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Signal the process by its PID, wait for it, kill it if it lingers; returns its exit code."""
        proc = self.proc
        if proc is None:
            return self.returncode
        if proc.poll() is None:
            os.kill(proc.pid, sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        self.returncode = proc.returncode
        self.proc = None
        return self.returncode

    def workers(self) -> list[int]:
        """The PIDs of granian's worker processes under this `serve` (Linux /proc)."""
        pid = self.proc.pid
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(child) for child in handle.read().split()]

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def request(self, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None):
        return call(self.base, method, path, body, headers)

    def fire_headers(self, prefix: str = "/fire", api_key: str = API_KEY, tenant: str | None = None) -> dict:
        headers = {"x-api-key": api_key, "x-client-channel": "integration", "account": FIRE_ACCOUNT}
        if tenant:
            headers["X-Sandbox-Tenant"] = tenant
        status, body = call(self.base, "POST", f"{prefix}/api/authentication/login", LOGIN_BODY, headers)
        assert status == 201, body
        return {**headers, "Authorization": f"Bearer {body['accessToken']}"}

    def order(self, uid: str, tenant: str | None = None) -> tuple[int, dict | None]:
        status, body = call(self.base, "GET", f"/_sandbox/fire/orders/{uid}",
                            headers={"X-Sandbox-Tenant": tenant} if tenant else {})
        return status, (body or {}).get("order") if status == 200 else body


@contextmanager
def running(workdir: Path, *args: str) -> Iterator[Server]:
    """`refund-sandbox serve ARGS` for the block; it must stop cleanly (exit 0) afterwards."""
    server = Server(workdir, *args).start()
    try:
        yield server
    finally:
        assert server.stop() == 0
