"""`serve --store`: start-up refusals as one line, and two real processes on one Redis.

The processes are two `python -m sandbox serve --store URL` children on their own ports, or
the two granian workers of one `serve --store URL --workers 2`,
talked to over HTTP: conflicting refunds split between them refund the order once, one
idempotency key gives one refund and identical answers, a `times: 1` fault fires once, and
a reset or a clock move made through one is what the other sees.
"""

from __future__ import annotations

import json

import pytest
from racing import together
from redis_server import RedisServer
from test_cli_startup import error_line, serve

from live_server import Server, free_port, proc_stat

PD_URL, PD_TOKEN = "/purpledot/admin/api/v1/refund", {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}


def test_a_redis_that_does_not_answer_is_one_line(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    line = error_line(serve("--port", str(free_port()), "--store", url, cwd=tmp_path))
    assert f"cannot reach redis at {url}" in line and "--store" in line


@pytest.mark.parametrize("args, env, words", [
    (["--store", "http://127.0.0.1:6379"], {}, "is not a Redis URL"),
    (["--store", "redis://127.0.0.1:notaport/0"], {}, "is not a usable Redis URL"),
    (["--store", "redis://127.0.0.1:6379/0"], {"REFUND_SANDBOX_DATA_DIR": "/tmp/x"}, "both say where the state lives"),
    ([], {"REFUND_SANDBOX_STORE": "memcached://x"}, "is not a Redis URL"),
    (["--workers", "2"], {}, "each process would hold its own truth; add --store redis://"),
    ([], {"REFUND_SANDBOX_WORKERS": "3"}, "each process would hold its own truth"),
    ([], {"REFUND_SANDBOX_WORKERS": "0"}, "workers must be at least 1"),
])
def test_store_and_workers_are_checked(tmp_path, args, env, words):
    assert words in error_line(serve("--port", str(free_port()), *args, cwd=tmp_path, env=env))


def worker_cpu(server: Server) -> dict[int, int]:
    """Each granian worker of a `serve` process: pid -> CPU ticks used so far."""
    ticks = {}
    for worker in server.workers():
        fields = proc_stat(worker)
        assert fields is not None, worker
        ticks[worker] = int(fields[11]) + int(fields[12])
    return ticks


@pytest.fixture(scope="module", params=["two serve processes", "serve --workers 2"])
def fleet(request, tmp_path_factory):
    """Two `serve --store` processes on one Redis, or one `serve --store --workers 2` (its two
    worker processes behind one port: the same server twice in the list)."""
    workdir = tmp_path_factory.mktemp("fleet")
    redis = RedisServer().start()
    servers = []
    try:
        if request.param == "serve --workers 2":
            servers = [Server(workdir, "--store", redis.url, "--workers", "2").start()]
            assert len(worker_cpu(servers[0])) == 2
            yield servers * 2
        else:
            servers = [Server(workdir, "--store", redis.url).start() for _ in range(2)]
            yield servers
    finally:
        for server in servers:
            assert server.stop() == 0, server.stderr()
        redis.stop()


def burst(fleet, send, count: int = 12) -> list[tuple[int, dict]]:
    """send(server, n) from `count` threads released together, alternating between the servers."""
    return together(count, lambda n: send(fleet[n % len(fleet)], n))


def test_two_serve_processes_act_as_one_sandbox(fleet):
    a, b = fleet
    tenant = {"X-Sandbox-Tenant": "fleet"}
    before = worker_cpu(a) if a is b else {}
    line = {"id": "14440000000011", "quantity": 1}  # two units on the order
    answers = burst(fleet, lambda s, n: s.request("POST", PD_URL, {"id": f"k{n}", "order": "5550000000001",
                                                                   "line_items": [line]}, {**PD_TOKEN, **tenant}))
    assert sorted(status for status, _ in answers) == [200, 200] + [400] * 10

    same = burst(fleet, lambda s, n: s.request("POST", PD_URL, {"id": "one", "order": "5550000000001",
                                                                "shipping": True}, {**PD_TOKEN, **tenant}))
    assert {s for s, _ in same} == {200} and len({json.dumps(body, sort_keys=True) for _, body in same}) == 1
    for server in fleet:
        assert len(server.request("GET", "/_sandbox/purpledot/refunds", headers=tenant)[1]["refunds"]) == 3

    assert a.request("POST", "/_sandbox/faults", {"provider": "purpledot", "status": 503, "times": 1},
                     tenant)[0] == 201
    faulted = burst(fleet, lambda s, n: s.request("POST", PD_URL, {"id": f"f{n}", "order": "5550000000002",
                                                                   "shipping": True}, {**PD_TOKEN, **tenant}))
    assert [s for s, _ in faulted].count(503) == 1

    assert b.request("POST", "/_sandbox/clock/advance", {"seconds": 120}, tenant)[1]["offset_seconds"] == 120
    assert a.request("POST", "/_sandbox/clock/advance", {"seconds": 1}, tenant)[1]["offset_seconds"] == 121
    assert b.request("POST", "/_sandbox/reset", None, tenant)[0] == 200
    assert a.request("GET", "/_sandbox/purpledot/refunds", headers=tenant)[1]["refunds"] == []
    assert a.request("GET", "/_sandbox/requests", headers=tenant)[1]["total"] == 0
    if a is b:  # both workers of the one port took part
        after = worker_cpu(a)
        assert all(after[pid] > ticks for pid, ticks in before.items()), (before, after)


def test_the_compose_file_runs_three_replicas_on_one_redis_behind_one_port():
    """docker-compose.yml, reviewed (no container can run on this project's machines; see
    tests/test_container.py): what it starts is what the README's "Scaling out" says."""
    import yaml

    from sandbox.settings import Settings

    from conftest import ROOT

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    sandbox, balancer = services["sandbox"], services["balancer"]
    assert sandbox["deploy"]["replicas"] == 3 and sandbox["build"] == "."
    env = sandbox["environment"]
    assert env["REFUND_SANDBOX_STORE"] == "redis://redis:6379/0" and "redis" in services
    settings = Settings.load(env={"REFUND_SANDBOX_DATA_DIR": "/data", **env})  # the image's ENV, then these
    assert settings.store == "redis://redis:6379/0" and settings.data_dir is None
    assert sandbox["depends_on"]["redis"]["condition"] == "service_healthy"
    assert balancer["ports"] == ["8080:8080"] and "ports" not in sandbox  # one way in
    nginx = compose["configs"][balancer["configs"][0]["source"]]["content"]
    assert "server sandbox:8080;" in nginx and "proxy_pass http://sandbox;" in nginx
