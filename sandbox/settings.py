"""One frozen Settings, from CLI flags over `REFUND_SANDBOX_*` environment variables over defaults.

Also finds `contracts/` and `fixtures/`: an explicit setting, then the source checkout, then
the data directory an installed package put them in (`<prefix>/share/refund-sandbox/`).
"""

from __future__ import annotations

import os
import site
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

ENV_PREFIX = "REFUND_SANDBOX_"
#: The source checkout this module runs from, searched first for contracts/ and fixtures/.
CHECKOUT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting or a start-up input the sandbox cannot use; its message names it and the way out
    (the command line prints it as one line, with no traceback)."""


#: The URLs --store accepts (redis-py's own schemes: TCP, TLS, unix socket).
STORE_SCHEMES = ("redis://", "rediss://", "unix://")


def _data_dir(name: str) -> Path:
    """Where `name` (contracts or fixtures) lives: checkout first, then installed data dirs."""
    candidates = [CHECKOUT / name]
    prefixes = [sys.prefix, sys.base_prefix, site.getuserbase(), "/usr/local", "/usr"]
    candidates += [Path(p) / "share" / "refund-sandbox" / name for p in prefixes]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    raise ConfigError(
        f"cannot find the {name}/ directory (looked in: {', '.join(map(str, candidates))}); "
        f"set {ENV_PREFIX}{name.upper()}_DIR"
    )


def _within(low: int, high: int | None = None) -> dict[str, Any]:
    """A number field's range, declared beside the field and checked when Settings is built."""
    return {"range": (low, high)}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata=_within(0, 65535))  # 0 picks a free port
    only: str | None = None
    data_dir: Path | None = None
    strict_auth: bool = False
    token_ttl_seconds: int = field(default=3600, metadata=_within(1))
    validate_responses: bool = False
    # serve's WSGI threads: 1 measured best on granian (a second thread, contending for the GIL,
    # cost 7-14 % of the rate and raised p99 from 7 ms to 110-215 ms); more keep a delay or hold
    # fault from stalling every other request (README, Running it). 0 would serve nothing.
    threads: int = field(default=1, metadata=_within(1))
    # serve cuts off a client whose request head is still incomplete this long after its first
    # byte, and a keep-alive client idle this long after its last answer (granian allows <= 60 s)
    header_timeout_ms: int = field(default=30_000, metadata=_within(100, 60_000))
    log_requests: bool = True
    outbox_limit: int = field(default=1000, metadata=_within(1))
    journal_limit: int = field(default=1000, metadata=_within(1))
    journal_total: int = field(default=20_000, metadata=_within(1))
    outbox_total: int = field(default=20_000, metadata=_within(1))
    max_body_bytes: int = field(default=1024 * 1024, metadata=_within(1))
    webhook_url: str | None = None
    control_token: str | None = None
    store: str | None = None  # redis://HOST:PORT/DB: every piece of runtime state shared there (sandbox.core.shared)
    workers: int = field(default=1, metadata=_within(1))  # processes; above 1 only with a shared store
    contracts_dir: Path = field(default_factory=lambda: _data_dir("contracts"))
    fixtures_dir: Path = field(default_factory=lambda: _data_dir("fixtures"))

    def __post_init__(self) -> None:
        """:raise ConfigError: a number outside the range its field declares."""
        for f in fields(self):
            if "range" not in f.metadata:
                continue
            (low, high), value = f.metadata["range"], getattr(self, f.name)
            if value < low or (high is not None and value > high):
                bound = f"at least {low}" if high is None else f"{low}-{high}"
                raise ConfigError(f"{f.name} must be {bound}, not {value} "
                                  f"(--{f.name.replace('_', '-')} or {ENV_PREFIX}{f.name.upper()})")
        if self.store is not None and not self.store.startswith(STORE_SCHEMES):
            raise ConfigError(f"--store {self.store!r} is not a Redis URL; give redis://HOST:PORT/DB "
                              f"(or {ENV_PREFIX}STORE), or leave it out for the in-process store")
        if self.workers > 1 and self.store is None:
            raise ConfigError(f"--workers {self.workers} needs a shared store: each process would hold its own "
                              "truth; add --store redis://HOST:PORT/DB (or REFUND_SANDBOX_STORE), or serve "
                              "with one worker")
        if self.store is not None and self.data_dir is not None:
            raise ConfigError("--store and --data-dir both say where the state lives; give one of them (the "
                              "container image sets REFUND_SANDBOX_DATA_DIR=/data: set it empty beside "
                              "REFUND_SANDBOX_STORE)")

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the environment, then explicit overrides that are not None; each value
        typed as its field declares (whole numbers, flags, paths, text)."""
        env = os.environ if env is None else env
        types = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _from_text(f.name, types[f.name], raw)
        for name, value in overrides.items():
            if value is not None:
                values[name] = Path(value) if _base(types.get(name)) is Path else value
        return cls(**values)


def _base(annotation: Any) -> Any:
    """`int` for `int`, `Path` for `Path | None`."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if args else annotation


def _from_text(name: str, annotation: Any, raw: str) -> Any:
    """An environment variable's text as the field's type."""
    kind = _base(annotation)
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a whole number; set it to one "
                              "or unset it") from None
    return kind(raw)  # str or Path
