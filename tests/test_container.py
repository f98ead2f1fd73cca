"""The container image: built and exercised when a Docker daemon is available, skipped (saying
why) when not. Tenants persist in the declared /data volume; `docker stop` ends it cleanly."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import ROOT
from live_server import free_port

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def docker_available() -> str | None:
    """None when a daemon answers, else why not."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          timeout=30)
    return None if done.returncode == 0 else f"no Docker daemon: {done.stderr.strip()[:200]}"


REASON = docker_available()


@pytest.mark.skipif(REASON is not None, reason=f"container test needs a Docker daemon ({REASON})")
def test_image_serves_persists_and_stops_cleanly():
    tag = "refund-sandbox:test"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=900)
    inspect = json.loads(subprocess.run(["docker", "image", "inspect", tag], capture_output=True, text=True,
                                        check=True).stdout)[0]["Config"]
    assert inspect["User"] == "sandbox" and "/data" in inspect["Volumes"] and "8080/tcp" in inspect["ExposedPorts"]
    port, volume = free_port(), f"refund-sandbox-test-{time.monotonic_ns()}"
    container = subprocess.run(["docker", "run", "-d", "-p", f"127.0.0.1:{port}:8080", "-v", f"{volume}:/data",
                                "-e", "REFUND_SANDBOX_STRICT_AUTH=false", tag],
                               capture_output=True, text=True, check=True).stdout.strip()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with OPENER.open(f"http://127.0.0.1:{port}/_sandbox/health", timeout=2) as response:
                    assert json.loads(response.read())["status"] == "ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, "the container never answered"
                time.sleep(0.5)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/_sandbox/scenarios/fire.card_paid", data=b"{}",
                                         method="POST", headers={"Content-Type": "application/json"})
        with OPENER.open(request, timeout=10) as response:
            assert response.status == 201
        stopped = subprocess.run(["docker", "stop", "-t", "20", container], check=True)
        assert stopped.returncode == 0
        state = json.loads(subprocess.run(["docker", "inspect", container], capture_output=True, text=True,
                                          check=True).stdout)[0]["State"]
        assert state["ExitCode"] == 0
        listing = subprocess.run(["docker", "run", "--rm", "-v", f"{volume}:/data", "--entrypoint", "ls", tag,
                                  "/data/tenants"], capture_output=True, text=True, check=True).stdout
        assert "default" in listing
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True)
