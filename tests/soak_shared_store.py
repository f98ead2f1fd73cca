"""A mixed run across two `serve --store` processes on one Redis, checking every guarantee each round.

Not part of the suite (it runs for minutes): `python tests/soak_shared_store.py [SECONDS]` (600 by
default, the issue's 10-minute run). Each round, on one of 50 tenants, through both processes at
once: 8 conflicting Nuweb refunds (one refunds everything, the rest nothing), 8 replays of one
Purple Dot idempotency key (one refund, identical answers), a `times: 1` fault among 8 calls (one
503), clock moves through each process (they agree), and a reset through one seen by the other.
Prints one JSON line: rounds, requests, statuses, violations (none expected).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from racing import together
from redis_server import RedisServer

from live_server import Server

PD, PD_TOKEN = "/purpledot/admin/api/v1/refund", {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}
NUWEB_LOGIN = {"email": "e@x.io", "password": "p", "device_name": "t"}


def one_round(servers: list[Server], r: int, violations: list, statuses: dict) -> None:
    tenant = {"X-Sandbox-Tenant": f"soak{r % 50}"}
    a, b = servers[r % 2], servers[(r + 1) % 2]
    a.request("POST", "/_sandbox/reset", None, tenant)
    auth = {"Authorization": f"Bearer {b.request('POST', '/nuweb/v1/login', NUWEB_LOGIN, tenant)[1]['token']}",
            **tenant}
    split = lambda send: together(8, lambda n: send(servers[n % 2], n))  # noqa: E731
    refunds = split(lambda s, n: s.request("POST", "/nuweb/v1/orders/refund", {"orderId": 1002, "uuid": f"u{r}-{n}"},
                                          auth))
    if sorted(body["refundValue"] for status, body in refunds if status == 200) != [0] * 7 + [10001]:
        violations.append(["over-refund", r, refunds])
    same = split(lambda s, n: s.request("POST", PD, {"id": f"same{r}", "order": "5550000000001", "shipping": True},
                                       {**PD_TOKEN, **tenant}))
    kept = a.request("GET", "/_sandbox/purpledot/refunds", None, tenant)[1]["refunds"]
    if {s for s, _ in same} != {200} or len({json.dumps(x, sort_keys=True) for _, x in same}) != 1 or len(kept) != 1:
        violations.append(["idempotency", r, [s for s, _ in same], len(kept)])
    a.request("POST", "/_sandbox/faults", {"provider": "purpledot", "status": 503, "times": 1}, tenant)
    faulted = split(lambda s, n: s.request("POST", PD, {"id": f"f{r}-{n}", "order": "5550000000001",
                                                        "shipping": True}, {**PD_TOKEN, **tenant}))
    if [s for s, _ in faulted].count(503) != 1:
        violations.append(["fault fired more or less than once", r, [s for s, _ in faulted]])
    first = a.request("POST", "/_sandbox/clock/advance", {"seconds": 7}, tenant)[1]["offset_seconds"]
    if b.request("POST", "/_sandbox/clock/advance", {"seconds": 1}, tenant)[1]["offset_seconds"] != first + 1:
        violations.append(["clocks disagree", r])
    b.request("POST", "/_sandbox/reset", None, tenant)
    if a.request("GET", "/_sandbox/purpledot/refunds", None, tenant)[1]["refunds"] != []:
        violations.append(["reset not seen", r])
    for status, _ in refunds + same + faulted:
        statuses[status] = statuses.get(status, 0) + 1


def main(seconds: float) -> dict:
    redis, workdir = RedisServer().start(), tempfile.TemporaryDirectory()
    servers: list[Server] = []
    report: dict = {"rounds": 0, "violations": [], "statuses": {}}
    try:
        servers = [Server(Path(workdir.name), "--store", redis.url).start() for _ in range(2)]
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            one_round(servers, report["rounds"], report["violations"], report["statuses"])
            report["rounds"] += 1
        report["seconds"] = round(time.monotonic() - started, 1)
        report["requests"] = report["rounds"] * 33
    finally:
        report["exit_codes"] = [server.stop() for server in servers]
        redis.stop()
        workdir.cleanup()
    return report


if __name__ == "__main__":
    print(json.dumps(main(float(sys.argv[1]) if len(sys.argv) > 1 else 600)))
