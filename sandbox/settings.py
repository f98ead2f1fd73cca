"""One frozen Settings, from CLI flags over `REFUND_SANDBOX_*` environment variables over defaults.

Also finds `contracts/` and `fixtures/`: an explicit setting, then the source checkout, then
the data directory an installed package put them in (`<prefix>/share/refund-sandbox/`).
"""

from __future__ import annotations

import os
import site
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "REFUND_SANDBOX_"
_CHECKOUT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting or a start-up input the sandbox cannot use; its message names it and the way out
    (the command line prints it as one line, with no traceback)."""


def _data_dir(name: str) -> Path:
    """Where `name` (contracts or fixtures) lives: checkout first, then installed data dirs."""
    candidates = [_CHECKOUT / name]
    prefixes = [sys.prefix, sys.base_prefix, site.getuserbase(), "/usr/local", "/usr"]
    candidates += [Path(p) / "share" / "refund-sandbox" / name for p in prefixes]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    raise ConfigError(
        f"cannot find the {name}/ directory (looked in: {', '.join(map(str, candidates))}); "
        f"set {ENV_PREFIX}{name.upper()}_DIR"
    )


def _parse_bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    only: str | None = None
    data_dir: Path | None = None
    strict_auth: bool = False
    token_ttl_seconds: int = 3600
    validate_responses: bool = False
    threads: int = 8
    log_requests: bool = True
    outbox_limit: int = 1000
    journal_limit: int = 1000
    journal_total: int = 20_000
    outbox_total: int = 20_000
    max_body_bytes: int = 1024 * 1024
    webhook_url: str | None = None
    control_token: str | None = None
    contracts_dir: Path = field(default_factory=lambda: _data_dir("contracts"))
    fixtures_dir: Path = field(default_factory=lambda: _data_dir("fixtures"))

    @classmethod
    def load(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the environment, then explicit overrides that are not None."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("data_dir", "contracts_dir", "fixtures_dir"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        return cls(**values)


def _convert(name: str, raw: str) -> Any:
    if name in {"port", "token_ttl_seconds", "threads", "outbox_limit", "journal_limit", "journal_total",
                "outbox_total", "max_body_bytes"}:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a whole number; set it to one "
                              "or unset it") from None
    if name in {"strict_auth", "validate_responses", "log_requests"}:
        return _parse_bool(raw)
    return raw
