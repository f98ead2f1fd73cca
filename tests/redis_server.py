"""A real `redis-server` for the shared-store tests: started on a free loopback port, stopped by its PID.

The binary is Debian's `redis-server` package (`.ci/run` installs it when missing). No
snapshots and no append-only file unless a test asks for them (`dir`): the suite's Redis
holds nothing once it stops.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

from live_server import free_port

BINARY = "/usr/bin/redis-server"


class RedisServer:
    def __init__(self, port: int | None = None, dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = dir
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        persistence = (["--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "always"] if self.dir
                       else ["--appendonly", "no"])
        self.proc = subprocess.Popen([BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      *persistence], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return self
            except (OSError, redis.RedisError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM by PID (Redis writes its append-only file, if any, and exits), then wait."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def flush(self) -> None:
        client = redis.Redis(port=self.port)
        client.flushall()
        client.close()
