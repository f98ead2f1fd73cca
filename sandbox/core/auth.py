"""Credential schemes as data, the credential registry and issued tokens.

A scheme reads one header and turns it into a `Principal` (the tenant and scopes the
credential carries) or raises UNAUTHENTICATED. Without `--strict-auth` any well-formed
credential passes and maps to no tenant (so `default`) with every scope; a credential
registered through `POST /_sandbox/credentials`, or a token issued by a provider's login,
brings its own tenant and scopes. With `--strict-auth` only those two kinds pass. An issued
token that has expired is refused in both modes.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import jwt

from sandbox.core.errors import Kind, SandboxError

ANY_TOKEN = re.compile(r"[\x21-\x7e]{1,512}")
JWT = re.compile(r"[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant the credential routes to (None: not bound) and its scopes (None: all)."""

    tenant: str | None = None
    scopes: frozenset[str] | None = None


@dataclass(frozen=True)
class Registration:
    provider: str
    credential: str
    tenant: str
    scopes: frozenset[str] | None


@dataclass(frozen=True)
class IssuedToken:
    provider: str
    tenant: str
    scopes: frozenset[str] | None
    expires_at: datetime | None  # None: never expires


class CredentialRegistry:
    """provider + credential -> tenant and scopes; persisted to `<data-dir>/credentials.json`."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self._items: dict[tuple[str, str], Registration] = {}
        self._lock = threading.Lock()
        self._path = Path(data_dir) / "credentials.json" if data_dir else None
        if self._path is not None and self._path.exists():
            for item in json.loads(self._path.read_text(encoding="utf-8")):
                scopes = None if item["scopes"] is None else frozenset(item["scopes"])
                reg = Registration(item["provider"], item["credential"], item["tenant"], scopes)
                self._items[(reg.provider, reg.credential)] = reg

    def register(self, provider: str, credential: str, tenant: str, scopes: Sequence[str] | None) -> Registration:
        reg = Registration(provider, credential, tenant, None if scopes is None else frozenset(scopes))
        with self._lock:
            self._items[(provider, credential)] = reg
            if self._path is not None:
                from sandbox.core.persistence import atomic_write_json

                self._path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_json(self._path, [
                    {"provider": r.provider, "credential": r.credential, "tenant": r.tenant,
                     "scopes": None if r.scopes is None else sorted(r.scopes)}
                    for r in self._items.values()
                ])
        return reg

    def lookup(self, provider: str, credential: str) -> Registration | None:
        return self._items.get((provider, credential))

    def registrations(self) -> list[Registration]:
        """Every registration, in the order they were made."""
        with self._lock:
            return list(self._items.values())


class TokenIssuer:
    """Issues tokens for provider logins (HS256 JWTs signed with PyJWT, or a provider's own format) and
    remembers them until they expire.

    Kept in memory: after a restart, clients log in again (as after a real token loss).
    """

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()
        self._serial = itertools.count(1)

    def issue(self, provider: str, tenant: str, scopes: frozenset[str] | None, subject: str,
              now: datetime, ttl_seconds: int | None,
              make: Callable[[int], str] | None = None) -> tuple[str, IssuedToken]:
        """A new token for `tenant`: an HS256 JWT, or the provider's own format `make(serial)`
        (a serial number that grows with every token issued). ttl None: never expires."""
        expires = None if ttl_seconds is None else now + timedelta(seconds=ttl_seconds)
        if make is not None:
            token = make(next(self._serial))
        else:
            claims = {"sub": subject, "iat": now, "jti": secrets.token_hex(8), "iss": f"refund-sandbox/{provider}"}
            if expires is not None:
                claims["exp"] = expires
            token = jwt.encode(claims, self._secret, algorithm="HS256")
        issued = IssuedToken(provider, tenant, scopes, expires)
        with self._lock:
            self._tokens[token] = issued
            while len(self._tokens) > 100_000:  # keep memory flat under login storms: drop the oldest
                del self._tokens[next(iter(self._tokens))]
        return token, issued

    def lookup(self, token: str) -> IssuedToken | None:
        return self._tokens.get(token)


@dataclass(frozen=True)
class AuthContext:
    """What a scheme needs to judge a request."""

    provider: str
    headers: Mapping[str, str]
    strict: bool
    registry: CredentialRegistry
    issuer: TokenIssuer
    now_for: object  # callable(tenant) -> datetime


def _unauthenticated(message: str, header: str, detail: str) -> SandboxError:
    return SandboxError(Kind.UNAUTHENTICATED, message, field=header, detail=detail)


#: Header names that carry credentials in one API or another: named when the expected one is missing.
CREDENTIAL_HINTS = ("authorization", "token", "api-key", "apikey", "access", "secret", "auth")


@dataclass(frozen=True)
class HeaderCredential:
    """A credential carried in one header, optionally after a prefix such as "Bearer "."""

    header: str
    prefix: str = ""
    shape: re.Pattern = ANY_TOKEN
    accepts_issued: bool = False

    @property
    def headers(self) -> frozenset[str]:
        """The headers this scheme reads: the journal never shows them in clear."""
        return frozenset({self.header.lower()})

    @property
    def expected(self) -> str:
        """The header as it must be sent, in words."""
        return f"'{self.header}: {self.prefix}<credential>' with the credential matching {self.shape.pattern}"

    def _missing(self, ctx: AuthContext) -> SandboxError:
        others = [name for name, _ in ctx.headers.items() if name.lower() != self.header.lower()
                  and any(hint in name.lower() for hint in CREDENTIAL_HINTS)]
        seen = f"; the request has {', '.join(others)} instead" if others else ""
        return _unauthenticated(f"missing {self.header} header", self.header,
                                f"no {self.header} header: expected {self.expected}{seen}")

    def authenticate(self, ctx: AuthContext) -> Principal:
        raw = ctx.headers.get(self.header)
        if raw is None or raw.strip() == "":
            raise self._missing(ctx)
        value = raw.strip()
        if self.prefix:
            if value[: len(self.prefix)].lower() != self.prefix.lower():
                raise _unauthenticated(f"{self.header} must be '{self.prefix}<token>'", self.header,
                                       f"{self.header} does not start with '{self.prefix.strip()}': "
                                       f"expected {self.expected}")
            value = value[len(self.prefix):].strip()
        reg = ctx.registry.lookup(ctx.provider, value)
        if reg is not None:  # registered credentials pass whatever their shape
            return Principal(reg.tenant, reg.scopes)
        if self.accepts_issued:
            issued = ctx.issuer.lookup(value)
            if issued is not None and issued.provider == ctx.provider:
                now = ctx.now_for(issued.tenant)  # type: ignore[operator]
                if issued.expires_at is not None and now >= issued.expires_at:
                    raise _unauthenticated("access token has expired; log in again", self.header,
                                           f"the token in {self.header} expired at {issued.expires_at.isoformat()} "
                                           f"(tenant '{issued.tenant}' clock: {now.isoformat()}); log in again")
                return Principal(issued.tenant, issued.scopes)
        if ctx.strict:
            raise _unauthenticated(f"unknown credential in {self.header}", self.header,
                                   f"unknown credential in {self.header}: the sandbox runs with --strict-auth, "
                                   "which accepts only credentials registered with POST /_sandbox/credentials"
                                   + (" and tokens issued by this provider's login" if self.accepts_issued else ""))
        if not self.shape.fullmatch(value):
            raise _unauthenticated(f"malformed credential in {self.header}", self.header,
                                   f"malformed credential in {self.header} ({len(value)} characters): expected "
                                   f"{self.expected}")
        return Principal()


@dataclass(frozen=True)
class AllOf:
    """Several credentials that must all be present; the first bound tenant and scopes win."""

    schemes: tuple = field(default_factory=tuple)

    @property
    def headers(self) -> frozenset[str]:
        return frozenset().union(*(scheme.headers for scheme in self.schemes))

    def authenticate(self, ctx: AuthContext) -> Principal:
        principals = [scheme.authenticate(ctx) for scheme in self.schemes]
        tenant = next((p.tenant for p in principals if p.tenant is not None), None)
        scopes = next((p.scopes for p in principals if p.scopes is not None), None)
        return Principal(tenant, scopes)
