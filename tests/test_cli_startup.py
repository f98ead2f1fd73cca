"""`serve` start-up failures: one line naming the problem and the way out, a non-zero exit, no traceback.

Each case runs `python -m sandbox serve` as a child process that must exit on its own
within the timeout (a server that started instead would be killed by it and fail the test).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from live_server import free_port


def serve(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REFUND_SANDBOX_")}
    return subprocess.run([sys.executable, "-m", "sandbox", "serve", "--host", "127.0.0.1", *args],
                          capture_output=True, text=True, timeout=60, cwd=cwd, env={**clean, **(env or {})},
                          check=False)


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one line the failure printed, after checking there is exactly that and no traceback."""
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_a_busy_port_names_the_port_and_the_way_out(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = error_line(serve("--port", str(port), cwd=tmp_path))
    assert f"port {port} on 127.0.0.1 is already in use" in line and "--port" in line


def test_an_unknown_only_key_lists_the_known_ones(tmp_path):
    line = error_line(serve("--only", "stripe", "--port", str(free_port()), cwd=tmp_path))
    assert "'stripe' is not a provider" in line
    assert "fire, purpledot, nuweb, shoplazza, nextcommerce" in line


def test_a_host_that_does_not_resolve(tmp_path):
    line = error_line(serve("--host", "no-such-host.invalid", "--port", str(free_port()), cwd=tmp_path))
    assert "no-such-host.invalid" in line and "--host" in line


@pytest.mark.parametrize("make", ["file", "under_a_file"])
def test_an_unusable_data_dir(tmp_path, make):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    data_dir = blocker if make == "file" else blocker / "data"
    # through the environment: the --data-dir option itself is checked by click before this point
    line = error_line(serve("--port", str(free_port()), cwd=tmp_path, env={"REFUND_SANDBOX_DATA_DIR": str(data_dir)}))
    assert f"--data-dir {data_dir}" in line and "choose another with --data-dir" in line


def test_a_corrupt_credentials_file_in_the_data_dir(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "credentials.json").write_text("[{")
    line = error_line(serve("--port", str(free_port()), "--data-dir", str(tmp_path / "data"), cwd=tmp_path))
    assert "credentials.json cannot be read" in line and "fix or remove it" in line


@pytest.mark.parametrize("content", ["{", "[1, 2]"])
def test_a_bad_fixtures_file_is_named(tmp_path, content):
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    for path in (Path(__file__).parent.parent / "fixtures").glob("*.json"):
        (fixtures / path.name).write_text(path.read_text())
    (fixtures / "nuweb.json").write_text(content)
    line = error_line(serve("--port", str(free_port()), cwd=tmp_path,
                            env={"REFUND_SANDBOX_FIXTURES_DIR": str(fixtures)}))
    assert f"fixtures file {fixtures / 'nuweb.json'}" in line and "REFUND_SANDBOX_FIXTURES_DIR" in line


def test_a_missing_fixtures_file_is_named(tmp_path):
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "fire.json").write_text("{}")
    line = error_line(serve("--port", str(free_port()), cwd=tmp_path,
                            env={"REFUND_SANDBOX_FIXTURES_DIR": str(fixtures)}))
    assert "purpledot.json cannot be used (No such file or directory)" in line


def test_a_malformed_number_in_the_environment(tmp_path):
    line = error_line(serve(cwd=tmp_path, env={"REFUND_SANDBOX_PORT": "80a"}))
    assert "REFUND_SANDBOX_PORT='80a' is not a whole number" in line


def test_a_port_out_of_range_is_refused_by_the_option(tmp_path):
    result = serve("--port", "70000", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'--port': 70000 is not in the range 0<=x<=65535" in result.stderr


def test_an_environment_number_that_is_not_one_names_the_variable(tmp_path):
    line = error_line(serve("--port", str(free_port()), cwd=tmp_path, env={"REFUND_SANDBOX_THREADS": "eight"}))
    assert "REFUND_SANDBOX_THREADS='eight' is not a whole number" in line


@pytest.mark.parametrize("args, env, words", [
    (("--threads", "0"), {}, "'--threads': 0 is not in the range 1<=x<=1024"),
    ((), {"REFUND_SANDBOX_THREADS": "0"}, "threads must be at least 1, not 0"),
    ((), {"REFUND_SANDBOX_MAX_BODY_BYTES": "-5"}, "max_body_bytes must be at least 1, not -5"),
])
def test_numbers_that_would_serve_nothing_are_refused(tmp_path, args, env, words):
    """0 worker threads used to start a server that logged 'serving' and never answered."""
    result = serve("--port", str(free_port()), *args, cwd=tmp_path, env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert words in result.stderr


def test_a_tenant_that_cannot_be_a_header_is_one_line_not_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sandbox", "seed", "fire.card_paid", "--url",
                             f"http://127.0.0.1:{free_port()}", "--tenant", "租户"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    line = error_line(result)
    assert "X-Sandbox-Tenant '租户' is not printable ASCII" in line
