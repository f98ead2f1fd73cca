"""Racing helpers: calls released together from many threads, and transactions forced to interleave.

`interleaved(*apps)` holds every store transaction opened meanwhile, in any of the apps, at
its commit (its reads and rule done, its writes staged) until THREADS transactions are
there, so that without the tenant's lock every racer has read the order before any of them
writes. With the lock only one is ever inside: the first wait gives up after GATE_SECONDS
and the others pass straight through. The apps may be one, or several sharing one Redis.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

THREADS = 16
GATE_SECONDS = 1.5


def together(count: int, call: Callable[[int], Any]) -> list[Any]:
    """call(n) for n in range(count), each in its own thread, all released at once; the results."""
    start, results, lock = threading.Barrier(count), [], threading.Lock()

    def worker(n: int) -> None:
        start.wait()
        result = call(n)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == count
    return results


@contextmanager
def interleaved(*apps) -> Iterator[None]:
    gate = threading.Barrier(THREADS, timeout=GATE_SECONDS)
    for app in apps:
        store = app.extensions["refund_sandbox"].store

        @contextmanager
        def held_at_commit(tenant: str, provider: str, transaction=store.transaction) -> Iterator:
            with transaction(tenant, provider) as tx:
                yield tx
                with suppress(threading.BrokenBarrierError):
                    gate.wait()

        store.transaction = held_at_commit
    try:
        yield
    finally:
        for app in apps:
            del app.extensions["refund_sandbox"].store.transaction  # the store's own method again


def race(apps, send) -> list[tuple[int, dict]]:
    """send(client, n) from THREADS threads released together, alternating between the apps
    (one app, or a list), their transactions interleaved; (status, body) of each."""
    apps = apps if isinstance(apps, list | tuple) else [apps]

    def one(n: int) -> tuple[int, dict]:
        response = send(apps[n % len(apps)].test_client(), n)
        return response.status_code, response.get_json()

    with interleaved(*apps):
        return together(THREADS, one)
