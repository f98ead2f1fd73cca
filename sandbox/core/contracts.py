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


@dataclass
class Operation:
    owner: str
    operation_id: str
    method: str
    path: str
    statuses: dict[int, str | None]  # status -> the response schema's URI, None when it has no JSON body


@dataclass
class SelfCheck:
    """Which (owner, operationId, status) answers were produced, and which broke the contract."""

    seen: set[tuple[str, str, int]] = field(default_factory=set)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: tuple[str, str, int], problem: str | None, detail: dict[str, Any]) -> None:
        with self._lock:
            if problem is None:
                self.seen.add(key)
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
        uri = f"urn:refund-sandbox:{owner}"
        for path, item in (spec.get("paths") or {}).items():
            for method in HTTP_METHODS:
                op = item.get(method)
                if not op or "operationId" not in op:
                    continue
                statuses: dict[int, str | None] = {}
                for status, response in (op.get("responses") or {}).items():
                    if not str(status).isdigit():
                        continue
                    schema_at: tuple[str, ...] = ("paths", path, method, "responses", str(status),
                                                  "content", "application/json", "schema")
                    has_schema = "schema" in ((response.get("content") or {}).get("application/json") or {})
                    if "$ref" in response:  # a shared response object
                        ref = response["$ref"].lstrip("#/").split("/")
                        target = spec
                        for part in ref:
                            target = target[part]
                        schema_at = (*ref, "content", "application/json", "schema")
                        has_schema = "schema" in ((target.get("content") or {}).get("application/json") or {})
                    statuses[int(status)] = uri + "#" + _pointer(*schema_at) if has_schema else None
                self._operations[(owner, op["operationId"])] = Operation(owner, op["operationId"], method.upper(),
                                                                       path, statuses)

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

    def served(self, owner: str, mount: str) -> dict[str, Any]:
        """The contract as served at `<mount>/openapi.json`, its server set to the live mount."""
        spec = copy.deepcopy(self.raw[owner])
        spec["servers"] = [{"url": mount or "/"}]
        return spec

    def check(self, selfcheck: SelfCheck, owner: str, operation_id: str, method: str, status: int, body: bytes,
              content_type: str | None) -> str | None:
        """Validate one response; record and return the problem (None when it conforms).

        Only requests with the operation's own method are checked: Flask's automatic OPTIONS
        and HEAD answers belong to no operation.
        """
        op = self.operations.get((owner, operation_id))
        if op is None or op.method != method:
            return None
        key = (owner, operation_id, status)
        problem = None
        detail: dict[str, Any] = {}
        if status not in op.statuses:
            problem = f"status {status} is not documented for {operation_id}"
        elif op.statuses[status] is not None:
            if not (content_type or "").startswith("application/json"):
                problem = f"content type {content_type!r} is not application/json"
            else:
                try:
                    document = json.loads(body)
                except ValueError:
                    problem = "body is not JSON"
                else:
                    validator = self._validator(owner, op.statuses[status])
                    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
                    if errors:
                        problem = "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}"
                                            for e in errors[:5])
                        detail["body"] = document
        selfcheck.record(key, problem, detail)
        if problem is not None:
            log.warning("response does not match contract %s %s %d: %s", owner, operation_id, status, problem)
        return problem
