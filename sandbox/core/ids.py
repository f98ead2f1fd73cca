"""Identifiers and seeded fake data.

Runtime ids (trace ids, refund ids) come from the OS random source. Scenario data comes
from Faker seeded with the scenario's seed, so one seed always builds the same orders.
Faker is imported on first use: it costs a few hundred milliseconds that start-up need not pay.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sandbox.core.clock import isoformat_ms

_faker_lock = threading.Lock()
_faker: Any = None


def new_uuid() -> str:
    return str(uuid.uuid4())


def trace_id() -> str:
    return secrets.token_hex(8)


def new_seed() -> int:
    """A fresh seed for callers that did not give one (reported back so runs can be replayed)."""
    return secrets.randbelow(2**31)


@contextmanager
def seeded_faker(seed: int) -> Iterator[Any]:
    """A Faker instance seeded with `seed`, held exclusively for the block.

    One shared instance (building a Faker is slow); the lock keeps concurrent scenario
    requests from interleaving draws, which would break "same seed, same output".
    """
    global _faker
    with _faker_lock:
        if _faker is None:
            from faker import Faker

            _faker = Faker("en_US")
        _faker.seed_instance(seed)
        yield _faker


#: Scenario orders are dated inside a fixed window, not relative to today, so one seed
#: builds the same orders on any day.
SCENARIO_WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))


def scenario_timestamp(fake: Any) -> str:
    """A seeded moment inside SCENARIO_WINDOW, as "2026-03-30T12:00:00.000Z"."""
    moment = fake.date_time_between_dates(*SCENARIO_WINDOW)  # naive, in UTC, with microseconds
    return isoformat_ms(moment.replace(microsecond=0, tzinfo=UTC))
