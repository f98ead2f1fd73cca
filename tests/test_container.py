"""The container image: reviewed from the Dockerfile on every run; built and exercised when this
machine can (a Docker daemon, a reachable image registry, an OCI runtime allowed to set rlimits),
skipped naming exactly which of those is missing when not. Tenants persist in the declared /data
volume; `docker stop` ends it cleanly."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT
from live_server import free_port

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
REGISTRY = ("registry-1.docker.io", 443)  # where the base image python:3.11-slim comes from
DOCKER_NOFILE = 1048576  # the RLIMIT_NOFILE Docker asks the OCI runtime to set in every container
RLIMIT_PROBE = (f"import resource; resource.setrlimit(resource.RLIMIT_NOFILE, ({DOCKER_NOFILE}, {DOCKER_NOFILE}))")


def no_daemon() -> str | None:
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          timeout=30)
    return None if done.returncode == 0 else f"no Docker daemon ({done.stderr.strip().splitlines()[-1][:160]})"


def no_registry() -> str | None:
    try:
        socket.create_connection(REGISTRY, timeout=5).close()
    except OSError as exc:
        return f"no image registry reachable ({REGISTRY[0]}:{REGISTRY[1]}: {exc})"
    return None


def no_rlimits() -> str | None:
    """An OCI runtime (runc, crun) sets Docker's rlimits in the container; where raising them is not
    allowed (as in this project's sandboxed machines) it refuses, and no container can start."""
    done = subprocess.run([sys.executable, "-c", RLIMIT_PROBE], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1][:120]
        return f"the OCI runtime cannot set rlimits here (raising RLIMIT_NOFILE to {DOCKER_NOFILE} is refused: {why})"
    return None


def missing() -> str | None:
    reasons = [r for r in (no_daemon(), no_registry(), no_rlimits()) if r]
    return "; ".join(reasons) or None


REASON = missing()
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_skip_reason_names_each_missing_prerequisite_exactly():
    reason = missing()
    if reason is None:
        return  # everything is there: the image test below runs instead
    known = ("the docker command is not installed", "no Docker daemon (", "no image registry reachable (",
             "the OCI runtime cannot set rlimits here (")
    for part in reason.split("; "):
        assert part.startswith(known), part


def test_the_image_runs_as_non_root_with_healthcheck_volume_and_the_readme_install():
    steps = instructions()
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    [health] = [args for op, args in steps if op == "HEALTHCHECK"]
    assert "/_sandbox/health" in health and "--interval" in health
    assert ("VOLUME", '["/data"]') in steps
    env = " ".join(args for op, args in steps if op == "ENV")
    assert "REFUND_SANDBOX_DATA_DIR=/data" in env and "REFUND_SANDBOX_PORT=8080" in env
    assert ("EXPOSE", "8080") in steps and ("STOPSIGNAL", "SIGTERM") in steps
    # the install is the README's first command's: `pip install .` in the checkout, nothing else
    readme_install = re.search(r"pip install (\S+) && refund-sandbox serve", (ROOT / "README.md").read_text())
    assert readme_install and readme_install.group(1) == "."
    runs = [args for op, args in steps if op == "RUN"]
    assert any(re.search(r"\bpip install --no-cache-dir \.( |$)", run) for run in runs), runs
    copied = " ".join(args for op, args in steps if op == "COPY")
    for needed in ("setup.cfg", "pyproject.toml", "README.md", "sandbox", "contracts", "fixtures"):
        assert needed in copied
    assert steps[-1] == ("CMD", '["refund-sandbox", "serve", "--host", "0.0.0.0"]')


@pytest.mark.skipif(REASON is not None, reason=f"cannot build or run the image on this machine: {REASON}")
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
