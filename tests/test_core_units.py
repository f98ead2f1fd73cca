"""Small core pieces as plain calls: money, the clock, error flattening, settings."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.core import money
from sandbox.core.clock import Clock, isoformat_ms
from sandbox.core.errors import from_validation
from sandbox.core.journal import Bounded, Outbox
from sandbox.settings import Settings


@pytest.mark.parametrize("text, scaled", [("8.99", 89900), ("10.7150", 107150), ("0", 0), ("-1.5", -15000),
                                          ("0.00005", 0), ("0.00015", 2)])
def test_decimal_strings_scale_without_floats(text, scaled):
    assert money.to_scaled(text, 4) == scaled


@pytest.mark.parametrize("bad", ["1e3", "1,5", "", " 1", "NaN", "1.2.3"])
def test_only_plain_decimals_parse(bad):
    with pytest.raises(ValueError):
        money.parse(bad)


def test_scaled_integers_render_fixed_point_and_refuse_floats():
    assert money.format_scaled(89900, 4) == "8.9900" and money.format_scaled(-5, 2) == "-0.05"
    assert money.format_scaled(1207920, 4) == str(Decimal(1207920).scaleb(-4)) == "120.7920"
    with pytest.raises(TypeError):
        money.format_scaled(1.5, 2)  # type: ignore[arg-type]


def test_clock_moves_per_tenant():
    clock = Clock()
    before = clock.now("a")
    clock.advance("a", 3600)
    assert (clock.now("a") - before).total_seconds() >= 3600
    assert (clock.now("b") - before).total_seconds() < 60
    clock.reset("a")
    assert clock.offset("a").total_seconds() == 0
    assert isoformat_ms(datetime(2026, 3, 30, 12, 5, 0, 123456, tzinfo=UTC)) == "2026-03-30T12:05:00.123Z"


def test_validation_messages_name_the_first_nested_field():
    err = from_validation({"payments": {"totals": {0: {"total": ["Not a valid amount."]}}}}, status=422)
    assert (err.status, err.field) == (422, "payments.totals.0.total")
    assert err.message == "payments.totals.0.total: Not a valid amount."


def test_settings_from_environment_then_overrides(tmp_path: Path):
    env = {"REFUND_SANDBOX_PORT": "9090", "REFUND_SANDBOX_STRICT_AUTH": "true", "REFUND_SANDBOX_ONLY": "fire",
           "REFUND_SANDBOX_DATA_DIR": str(tmp_path)}
    settings = Settings.load(env=env, port=7070)
    assert (settings.port, settings.strict_auth, settings.only, settings.data_dir) == (7070, True, "fire", tmp_path)
    assert (settings.contracts_dir / "fire.openapi.yaml").exists()


def test_bounded_keeps_per_tenant_and_total_limits():
    bounded = Bounded(limit=5, total=8)
    for n in range(10_000):  # one busy tenant: its own limit drops items, leaving stale arrivals
        bounded.add("busy", {"n": n})
    bounded.add("quiet", {"n": "q0"})
    bounded.add("quiet", {"n": "q1"})
    assert [i["n"] for i in bounded.of("busy")] == list(range(9_995, 10_000))
    for n in range(2, 6):  # the total bound drops the oldest items of any tenant, then quiet's own limit
        bounded.add("quiet", {"n": f"q{n}"})
    assert [i["n"] for i in bounded.of("busy")] == [9_997, 9_998, 9_999]
    assert [i["n"] for i in bounded.of("quiet")] == ["q1", "q2", "q3", "q4", "q5"]
    bounded.clear("busy")
    bounded.add("other", {"n": "o"})
    assert bounded.of("busy") == [] and len(bounded.of("quiet")) + len(bounded.of("other")) == 6


def test_outbox_is_bounded_in_total():
    outbox = Outbox(limit=3, total=4)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for tenant in ("a", "b", "c"):
        for n in range(2):
            outbox.record(tenant, "fire", "refund", {"n": n}, now)
    assert [len(outbox.list(t)) for t in ("a", "b", "c")] == [0, 2, 2]


def test_bounded_frees_an_item_as_soon_as_its_tenant_limit_drops_it():
    class Item:  # a weakly referenceable stand-in for a journal entry
        pass

    bounded, first = Bounded(limit=2, total=1_000), Item()
    probe = weakref.ref(first)
    bounded.add("t", first)
    del first
    bounded.add("t", Item())
    bounded.add("t", Item())  # the first item falls off the tenant's limit
    gc.collect()
    assert probe() is None


def test_bounded_memory_stays_flat_however_many_items_pass():
    """What the bound is for, seen from outside: memory, not the count of kept items alone."""
    import tracemalloc

    bounded = Bounded(limit=5, total=8)
    tracemalloc.start()
    try:
        for n in range(5_000):
            bounded.add("busy", {"n": n})
        before, _ = tracemalloc.get_traced_memory()
        for n in range(50_000):
            bounded.add("busy", {"n": n})
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024, f"grew {after - before} bytes over 50,000 items"
