"""`refund-sandbox serve` on the wire (granian): connection limits, header timeout, body bounds,
malformed HTTP, one worker that lives and dies with its main process, Ctrl-C.

Every server here is a `serve` child process on 127.0.0.1 stopped by its PID; every client
socket is closed in a finally block. The drop and hold faults on this server are tested in
test_control_faults.py (its `live` fixture is a `serve` process too).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import time
from collections.abc import Iterator

import pytest

from live_server import Server, proc_stat, running

PD_PATH = b"/purpledot/admin/api/v1/refund"
PD_TOKEN = b"0123456789abcdef0123456789abcdef"
LIMIT = 1024 * 1024  # the default max_body_bytes
IDLE_CLIENTS = STALLED_CLIENTS = 1000


def request(target: bytes, body: bytes = b"", headers: bytes = b"", method: bytes = b"POST") -> bytes:
    return (method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Sandbox-Tenant: wire\r\n"
            b"X-Purple-Dot-Access-Token: " + PD_TOKEN + b"\r\nContent-Type: application/json\r\n" + headers
            + b"\r\n" + body)


HEALTH = b"GET /_sandbox/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def read_answer(sock: socket.socket) -> bytes:
    """One whole HTTP answer (head and Content-Length body), or what came before the close."""
    data = b""
    while True:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                           if line.lower().startswith(b"content-length:")), 0)
            if len(rest) >= length:
                return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def exchange(port: int, raw: bytes, *, shutdown: bool = False, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        return read_answer(sock)


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def body(answer: bytes) -> dict:
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def closed_after(sock: socket.socket, limit: float) -> float:
    """Seconds until the server closes `sock` (reading nothing), at most `limit`."""
    start = time.monotonic()
    sock.settimeout(limit)
    assert sock.recv(1024) == b""
    return time.monotonic() - start


def alive(pid: int) -> bool:
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"


@contextlib.contextmanager
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with running(tmp_path_factory.mktemp("serving")) as server:
        yield server


def test_a_new_client_is_served_at_once_beside_1000_idle_and_1000_stalled_clients(served):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = IDLE_CLIENTS + STALLED_CLIENTS + 200
    if soft < needed:  # this test process holds every client socket
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    with sockets() as opened:
        for _ in range(IDLE_CLIENTS):  # each served once and kept alive, as a CI job's HTTP session leaves it
            sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
            opened.append(sock)
            sock.sendall(HEALTH)
            assert status(read_answer(sock)) == 200
        idle = list(opened)
        for _ in range(STALLED_CLIENTS):  # half a request head, then silence
            sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
            opened.append(sock)
            sock.sendall(b"POST " + PD_PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")

        waits = []
        for _ in range(5):
            start = time.monotonic()
            answer = exchange(served.port, request(PD_PATH, b"{}", b"Content-Length: 2\r\n"), timeout=5)
            waits.append(time.monotonic() - start)
            assert status(answer) == 400 and body(answer)["error"]["code"] == "INVALID_REFUND_REQUEST", answer[:300]
        assert statistics.median(waits) < 0.1, waits
        # nobody was pushed out to make room: the first and the last idle client are still served
        for sock in (idle[0], idle[-1]):
            sock.sendall(HEALTH)
            assert status(read_answer(sock)) == 200


def test_unfinished_heads_and_idle_clients_are_cut_off_after_the_header_timeout(tmp_path):
    with running(tmp_path, "--header-timeout-ms", "500") as server, sockets() as opened:
        stalled = socket.create_connection(("127.0.0.1", server.port))
        idle = socket.create_connection(("127.0.0.1", server.port))
        opened += [stalled, idle]
        stalled.sendall(b"POST " + PD_PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        idle.sendall(HEALTH)
        assert status(read_answer(idle)) == 200
        assert 0.3 <= closed_after(stalled, 10) < 5
        assert closed_after(idle, 10) < 5
        assert status(exchange(server.port, HEALTH)) == 200  # the server itself goes on


def test_bodies_over_the_limit_get_413_in_the_providers_format_and_are_never_read(served):
    document = {"meta": {"success": False}, "error": {
        "code": "PAYLOAD_TOO_LARGE", "message": f"request body is larger than {LIMIT} bytes", "field": "body"}}
    oversized = b'{"id": "' + b"x" * LIMIT + b'"}'
    declared = exchange(served.port, request(PD_PATH, oversized, b"Content-Length: %d\r\n" % len(oversized)))
    chunked = exchange(served.port, request(PD_PATH, b"%x\r\n%s\r\n0\r\n\r\n" % (len(oversized), oversized),
                                            b"Transfer-Encoding: chunked\r\n"))
    for answer in (declared, chunked):
        assert status(answer) == 413 and body(answer) == document, answer[:300]
    # 200 MB declared and never sent: answered from the head alone, in well under a second
    start = time.monotonic()
    huge = exchange(served.port, request(PD_PATH, b"", b"Content-Length: 200000000\r\nConnection: close\r\n"))
    assert status(huge) == 413 and body(huge) == document and time.monotonic() - start < 1
    refunds = exchange(served.port, request(b"/_sandbox/purpledot/refunds", method=b"GET"))
    assert status(refunds) == 200 and body(refunds)["refunds"] == []


def test_malformed_http_gets_an_empty_400_below_the_app_and_the_server_keeps_serving(served):
    for raw in (b"GARBAGE\r\n\r\n", request(PD_PATH + b"/\xff\xfe", b"{}", b"Content-Length: 2\r\n")):
        answer = exchange(served.port, raw, shutdown=True)
        assert status(answer) == 400 and answer.endswith(b"\r\n\r\n") and b"content-length: 0" in answer.lower()
    # a client that stops sending mid-body gets a 400 (granian hands the app what came) and changes nothing
    cut = exchange(served.port, request(PD_PATH, b'{"id": "k', b"Content-Length: 100\r\n"), shutdown=True)
    assert status(cut) == 400 and body(cut)["error"]["code"] == "INVALID_REFUND_REQUEST"
    valid = json.dumps({"id": "after-hostility", "order": "5550000000001", "shipping": True}).encode()
    assert status(exchange(served.port, request(PD_PATH, valid, b"Content-Length: %d\r\n" % len(valid)))) == 200
    refunds = body(exchange(served.port, request(b"/_sandbox/purpledot/refunds", method=b"GET")))["refunds"]
    assert [r["id"] for r in refunds] == ["after-hostility"]


def test_one_worker_answers_and_dies_with_the_main_process_even_on_sigkill(tmp_path):
    server = Server(tmp_path).start()
    try:
        [worker] = server.workers()
        assert alive(worker)
        server.stop(signal.SIGKILL)
        deadline = time.monotonic() + 5
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(worker)
        with pytest.raises(ConnectionRefusedError):  # nothing keeps the port behind the main process's back
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    finally:
        server.stop(signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_ctrl_c_or_a_closed_terminal_stops_main_and_worker_with_exit_0_and_the_data_flushed(tmp_path, sig):
    data_dir = tmp_path / "data"
    server = Server(tmp_path, "--data-dir", str(data_dir), new_session=True).start()
    try:
        valid = json.dumps({"id": "before-ctrl-c", "order": "5550000000001", "shipping": True}).encode()
        answer = exchange(server.port, request(PD_PATH, valid, b"Content-Length: %d\r\n" % len(valid)))
        assert status(answer) == 200
        [worker] = server.workers()
        os.killpg(server.proc.pid, sig)  # as a terminal does: to the foreground process group
        assert server.proc.wait(timeout=15) == 0
        assert not alive(worker)
    finally:
        server.stop()
    with running(tmp_path, "--data-dir", str(data_dir)) as again:
        refunds = body(exchange(again.port, request(b"/_sandbox/purpledot/refunds", method=b"GET")))["refunds"]
        assert [r["id"] for r in refunds] == ["before-ctrl-c"]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_delay_fault_holds_one_thread_so_only_a_second_thread_serves_others_meanwhile(tmp_path, threads):
    with running(tmp_path, "--threads", str(threads)) as server:
        fault = {"provider": "purpledot", "delay_ms": 1500, "times": 1}
        assert server.request("POST", "/_sandbox/faults", fault, {"X-Sandbox-Tenant": "slow"})[0] == 201
        valid = json.dumps({"id": "slow-1", "order": "5550000000001", "shipping": True}).encode()
        slow = request(PD_PATH, valid, b"Content-Length: %d\r\n" % len(valid)).replace(b"wire", b"slow")
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as delayed:
            delayed.sendall(slow)
            time.sleep(0.3)  # the delayed request is in its thread now
            start = time.monotonic()
            assert status(exchange(server.port, HEALTH)) == 200
            waited = time.monotonic() - start
            assert status(read_answer(delayed)) == 200
        if threads == 1:  # the one thread sleeps through the delay: everyone waits (README, Running it)
            assert waited > 0.8, waited
        else:
            assert waited < 0.5, waited
