"""The OpenAPI contracts at run time: served to clients, and used to check our own responses.

`Contracts` loads `contracts/<key>.openapi.yaml` (and `control.openapi.yaml`), indexes each
operation by (owner, operationId) and compiles a JSON Schema validator per documented
response. With `--validate-responses` every answer the sandbox gives is checked against
its operation's documented status and body; each check is recorded in `SelfCheck`, and a
mismatch is logged. The test suite turns this on, so every response a test provokes is
validated against the contract, and the registry test reads which (operation, status)
pairs were ever produced.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("sandbox.selfcheck")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster
_PARSED: dict[tuple[str, int], dict[str, Any]] = {}
_PARSED_LOCK = threading.Lock()


def parse(path: Path) -> dict[str, Any]:
    """A contract file, parsed once per process and file version (read-only: do not mutate)."""
    key = (str(path), path.stat().st_mtime_ns)
    with _PARSED_LOCK:
        if key not in _PARSED:
            _PARSED[key] = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader
        return _PARSED[key]


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


UNKNOWN_ROUTE = "(unknown route)"  # the operationId under which unknown paths are checked
APPEND_SLASH = "(append slash)"  # ... and a known path without its trailing slash
#: Answers that belong to no operation, declared as shared responses: name -> (pseudo operationId, status)
ROUTING_ANSWERS = {"UnknownRoute": (UNKNOWN_ROUTE, 404), "AppendSlash": (APPEND_SLASH, 301)}
JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    """One documented response: its media types with their schemas, and its fault codes."""

    media: dict[str, str | None]  # media type -> its schema's URI (None: no schema); {}: no body
    codes: dict[str, Any]
    injected_only: bool = False  # the provider's shared Injected<status>: only a fault sends it for sure


@dataclass
class Operation:
    owner: str
    operation_id: str
    method: str
    path: str
    answers: dict[int, Answer]

    @property
    def statuses(self) -> set[int]:
        return set(self.answers)


@dataclass
class SelfCheck:
    """Which (owner, operationId, status) answers were produced, and which broke the contract."""

    seen: set[tuple[str, str, int]] = field(default_factory=set)
    native: set[tuple[str, str, int]] = field(default_factory=set)  # seen without an injected fault
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: tuple[str, str, int], problem: str | None, detail: dict[str, Any],
               injected: bool = False) -> None:
        with self._lock:
            if problem is None:
                self.seen.add(key)
                if not injected:
                    self.native.add(key)
            else:
                self.mismatches.append({"owner": key[0], "operation": key[1], "status": key[2],
                                        "problem": problem, **detail})


class Contracts:
    """The contracts of `owners`, parsed on first use (parsing them is most of start-up)."""

    def __init__(self, contracts_dir: Path, owners: list[str]) -> None:
        self.dir = Path(contracts_dir)
        self.owners = list(owners)
        self._raw: dict[str, dict[str, Any]] | None = None
        self._operations: dict[tuple[str, str], Operation] = {}
        self._load_lock = threading.Lock()
        self._validators: dict[str, Any] = {}
        self._registries: dict[str, Any] = {}

    def _loaded(self) -> dict[str, dict[str, Any]]:
        raw = self._raw
        if raw is None:
            with self._load_lock:
                if self._raw is None:
                    loaded: dict[str, dict[str, Any]] = {}
                    for owner in self.owners:
                        path = self.dir / f"{owner}.openapi.yaml"
                        if path.exists():
                            loaded[owner] = parse(path)
                            self._index(owner, loaded[owner])
                    self._raw = loaded
                raw = self._raw
        return raw

    @property
    def raw(self) -> dict[str, dict[str, Any]]:
        return self._loaded()

    @property
    def operations(self) -> dict[tuple[str, str], Operation]:
        self._loaded()
        return self._operations

    def _index(self, owner: str, spec: dict[str, Any]) -> None:
        for path, item in (spec.get("paths") or {}).items():
            for method in HTTP_METHODS:
                op = item.get(method)
                if not op or "operationId" not in op:
                    continue
                answers = {int(status): self._answer(owner, spec, ("paths", path, method, "responses", str(status)),
                                                     int(status))
                           for status in (op.get("responses") or {}) if str(status).isdigit()}
                self._operations[(owner, op["operationId"])] = Operation(owner, op["operationId"], method.upper(),
                                                                       path, answers)
        shared = (spec.get("components") or {}).get("responses") or {}
        for name, (pseudo, status) in ROUTING_ANSWERS.items():
            if name in shared:
                answer = self._answer(owner, spec, ("components", "responses", name), status)
                self._operations[(owner, pseudo)] = Operation(owner, pseudo, "*", "*", {status: answer})

    def operation_ids(self, owner: str) -> list[str]:
        """The real operations of `owner` (not the pseudo-operations of routing answers)."""
        pseudo = {p for p, _ in ROUTING_ANSWERS.values()}
        return [op for (o, op) in self.operations if o == owner and op not in pseudo]

    @staticmethod
    def _answer(owner: str, spec: dict[str, Any], at: tuple[str, ...], status: int) -> Answer:
        """The response object at `at` (following a shared response's $ref), as an Answer.

        Its fault codes are its own `x-sandbox-error-codes`, else those of the provider's
        shared `Injected<status>` response.
        """
        response = _resolve(spec, at)
        if "$ref" in response:
            at = tuple(response["$ref"].lstrip("#/").split("/"))
            response = _resolve(spec, at)
        injected_only = at[-1] == f"Injected{status}"
        content = response.get("content") or {}
        media = {name: f"urn:refund-sandbox:{owner}#" + _pointer(*at, "content", name, "schema")
                 if "schema" in (body or {}) else None for name, body in content.items()}
        codes = response.get("x-sandbox-error-codes")
        if codes is None:
            shared = ((spec.get("components") or {}).get("responses") or {}).get(f"Injected{status}") or {}
            codes = shared.get("x-sandbox-error-codes") or {}
        return Answer(media, dict(codes), injected_only)

    def error_codes(self, owner: str, operation_id: str, status: int) -> dict[str, Any]:
        """The fault codes the contract declares for one operation and status ({} if none)."""
        op = self.operations.get((owner, operation_id))
        answer = op.answers.get(status) if op else None
        return answer.codes if answer else {}

    def _validator(self, owner: str, ref: str) -> Any:
        """A compiled validator for one response schema, built on first use (jsonschema is
        imported only then: serving without --validate-responses never pays for it)."""
        found = self._validators.get(ref)
        if found is None:
            from jsonschema import Draft202012Validator
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            registry = self._registries.get(owner)
            if registry is None:
                resource = Resource.from_contents(self.raw[owner], default_specification=DRAFT202012)
                registry = Registry().with_resource(f"urn:refund-sandbox:{owner}", resource)
                self._registries[owner] = registry
            found = Draft202012Validator({"$ref": ref}, registry=registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
            self._validators[ref] = found
        return found

    def documented(self) -> set[tuple[str, str, int]]:
        """Every (owner, operationId, status) a contract documents."""
        return {(o.owner, o.operation_id, s) for o in self.operations.values() for s in o.statuses}

    def documented_native(self) -> set[tuple[str, str, int]]:
        """The documented answers the sandbox gives by itself (not only through a fault)."""
        return {(o.owner, o.operation_id, s) for o in self.operations.values()
                for s, answer in o.answers.items() if not answer.injected_only}

    def served(self, owner: str, mount: str) -> dict[str, Any]:
        """The contract as served at `<mount>/openapi.json`, its server set to the live mount."""
        spec = copy.deepcopy(self.raw[owner])
        spec["servers"] = [{"url": mount or "/"}]
        return spec

    def check(self, selfcheck: SelfCheck, owner: str, operation_id: str, method: str | None, status: int,
              body: bytes, content_type: str | None, *, injected: bool = False) -> str | None:
        """Validate one response; record and return the problem (None when it conforms).

        Only requests with the operation's own method are checked (Flask's automatic OPTIONS
        and HEAD answers belong to no operation); `method=None` checks regardless, for the 405
        a path answers to the methods it does not serve.
        """
        op = self.operations.get((owner, operation_id))
        if op is None or (method is not None and op.method not in (method, "*")):
            return None
        key = (owner, operation_id, status)
        detail: dict[str, Any] = {}
        answer = op.answers.get(status)
        if answer is None:
            problem = f"status {status} is not documented for {operation_id}"
        else:
            problem = self._check_body(owner, answer, body, content_type, detail)
        selfcheck.record(key, problem, detail, injected)
        if problem is not None:
            log.warning("response does not match contract %s %s %d: %s", owner, operation_id, status, problem)
        return problem

    def _check_body(self, owner: str, answer: Answer, body: bytes, content_type: str | None,
                    detail: dict[str, Any]) -> str | None:
        if not answer.media:
            return None if not body else f"a body was sent where the contract declares none: {body[:80]!r}"
        media = next((m for m in answer.media if (content_type or "").startswith(m)), None)
        if media is None:
            return f"content type {content_type!r} is not one of {', '.join(answer.media)}"
        schema = answer.media[media]
        if schema is None:
            return None
        if media == JSON:
            try:
                document = json.loads(body)
            except ValueError:
                return "body is not JSON"
        else:
            document = body.decode("utf-8", "replace")
        errors = sorted(self._validator(owner, schema).iter_errors(document), key=lambda e: list(e.path))
        if errors:
            detail["body"] = document
            return "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:5])
        return None


def _resolve(spec: dict[str, Any], at: tuple[str, ...]) -> dict[str, Any]:
    target: Any = spec
    for part in at:
        target = target[part]
    return target
