"""Hostile input, every operation of every provider and of the control plane.

Each operation is read from its contract. The test first builds a request that would
succeed (the contract's first request example, ids from the fixtures, valid credentials),
then breaks one thing at a time: malformed JSON, wrong and missing Content-Type, a body
over the size limit, deep nesting, invalid UTF-8 and UTF-16, NUL characters, huge,
non-finite and negative numbers, long strings, a body of the wrong type, hostile path and
query values. Every answer must be a 4xx (413 for the oversized body) in the operation's
own error format, which the app's self-check validates against the contract (conftest);
the tenant's whole state must be exactly what it was; and the valid request must still
succeed afterwards. Unknown fields are refused where the contract forbids them
(`additionalProperties: false`) and otherwise ignored without a trace, as the real API does.
Per-field type violations are schemathesis's job (tests/test_contracts.py, and the larger
negative-only run at the end of this file).
"""

from __future__ import annotations

import copy
import json
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
import yaml
from contract_calls import OPERATIONS, QUERIES, Caller, Operation

from sandbox.contract_test import settings_for
from sandbox.core import body as bounds
from sandbox.providers import PROVIDERS
from sandbox.testing import LiveSandbox

from conftest import ROOT, shared_app, tracked_app
from contract_auth import AppSlot, register_contract_credential

LIMIT = 1024 * 1024  # the default REFUND_SANDBOX_MAX_BODY_BYTES
UNKNOWN = "zz_unknown_field"


# ------------------------------------------------------------------ hostile documents


def _leaves(document: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _leaves(value, (*path, index))
    else:
        yield path, document


def _replace(document: Any, path: tuple, value: Any) -> Any:
    copied = copy.deepcopy(document)
    target = copied
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copied


MARK = "\u2603MARK\u2603"


def _raw(document: Any, path: tuple, text: str) -> bytes:
    """The document as JSON bytes with the leaf at `path` spelled exactly `text` (a raw literal)."""
    return json.dumps(_replace(document, path, MARK)).encode().replace(json.dumps(MARK).encode(), text.encode())


def _amount(value: Any) -> bool:
    """A decimal amount sent as a string, such as "22.00" (ids made of digits are not amounts)."""
    return isinstance(value, str) and re.fullmatch(r"[0-9]+\.[0-9]+", value) is not None


UNTYPED_IS_JSON = {p.key: p.untyped_body_is_json for p in PROVIDERS}


def body_cases(example: dict, untyped_is_json: bool = False) -> Iterator[tuple[str, bytes, str | None]]:
    """(name, body, content type) for every hostile body built from a valid `example`.

    Where the API reads a body without a Content-Type as JSON (Fire), such a body is not
    hostile; a malformed one is."""
    valid = json.dumps(example).encode()
    yield "malformed JSON", valid[:-1], "application/json"
    yield "not JSON at all", b"refund please", "application/json"
    yield "JSON as text/plain", valid, "text/plain"
    yield "JSON as a form", valid, "application/x-www-form-urlencoded"
    if untyped_is_json:
        yield "malformed JSON without a Content-Type", valid[:-1], None
    else:
        yield "JSON without a Content-Type", valid, None
    yield "deep nesting, whole body", b"[" * 100_000 + b"]" * 100_000, "application/json"
    yield "nesting one level past the bound", json.dumps({UNKNOWN: _nest(bounds.MAX_DEPTH)}).encode(), \
        "application/json"
    yield "invalid UTF-8 in a key", b'{"\xff\xfe": 1, ' + valid[1:], "application/json"
    yield "UTF-16", json.dumps(example).encode("utf-16"), "application/json"
    yield "UTF-8 byte-order mark", b"\xef\xbb\xbf" + valid, "application/json"
    yield "NUL in a key", json.dumps({"a\u0000b": 1, **example}).encode(), "application/json"
    yield "NaN", b'{"' + UNKNOWN.encode() + b'": NaN, ' + valid[1:], "application/json"
    yield "huge integer beside the body", json.dumps({UNKNOWN: 10**400, **example}).encode(), "application/json"
    yield "4,500-digit integer", b'{"' + UNKNOWN.encode() + b'": ' + b"9" * 4500 + b", " + valid[1:], \
        "application/json"
    for literal in ("[]", '"refund"', "1", "null", "true"):
        yield f"a body of {literal}", literal.encode(), "application/json"
    for path, value in _leaves(example):
        name = ".".join(map(str, path))
        if isinstance(value, str):
            yield f"NUL in {name}", json.dumps(_replace(example, path, value[:1] + "\u0000")).encode(), \
                "application/json"
            long = _replace(example, path, "x" * (bounds.MAX_STRING + 1))
            yield f"long string in {name}", json.dumps(long).encode(), "application/json"
            yield f"invalid UTF-8 in {name}", _raw(example, path, '"\xff"').replace("\xff".encode(), b"\xff"), \
                "application/json"
        if (isinstance(value, (int, float)) and not isinstance(value, bool)) or _amount(value):
            quoted = '"{}"' if isinstance(value, str) else "{}"
            for label, text in (("2**53", str(2**53)), ("1e400", "1e400"), ("-1e400", "-1e400"),
                                ("-1", "-1"), ("negative", f"-{value}"), ("400 digits", "9" * 400)):
                yield f"{label} in {name}", _raw(example, path, quoted.format(text)), "application/json"


def _nest(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def path_cases(caller: Caller) -> Iterator[tuple[str, str]]:
    """(name, url) with one hostile path or query value."""
    for name in caller.op.params:
        for label, text in (("NUL", caller.args[name] + "%00"), ("invalid UTF-8", "%FF%FE"),
                            ("long", "9" * (bounds.MAX_STRING + 1)), ("huge number", "9" * 400), ("negative", "-1")):
            yield f"{label} in path {name}", caller.url({**caller.args, name: text})
    query = QUERIES.get((caller.op.contract, caller.op.operation_id))
    for key in query or {}:
        for label, text in (("NUL", "1%00"), ("invalid UTF-8", "%FF"), ("long", "9" * (bounds.MAX_STRING + 1)),
                            ("huge number", "9" * 400), ("negative", "-1"), ("not a number", "abc")):
            yield f"{label} in query {key}", caller.url(query=f"{key}={text}")


# ------------------------------------------------------------------ the test


def _refused(caller: Caller, name: str, send: Callable[[], Any], expected: Callable[[int], bool],
             failures: list[str]) -> None:
    before = caller.state()
    response = send()
    body = response.get_data(as_text=True)
    if not expected(response.status_code):
        failures.append(f"{name}: {response.status_code} {body[:200]}")
    elif not response.is_json:
        failures.append(f"{name}: not JSON: {body[:200]}")
    elif caller.state() != before:
        failures.append(f"{name}: the tenant's state changed")


def _4xx(status: int) -> bool:
    return 400 <= status < 500


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_hostile_input_is_refused_in_the_providers_format_and_changes_nothing(op: Operation):
    caller = Caller(op)
    failures: list[str] = []
    if op.example is not None:
        for name, data, content_type in body_cases(op.example, UNTYPED_IS_JSON.get(op.contract, False)):
            _refused(caller, name, lambda d=data, c=content_type: caller.send(d, c), _4xx, failures)
        if op.closed:
            _refused(caller, "an unknown field", lambda: caller.valid({**op.example, UNKNOWN: "x"}), _4xx, failures)
    if op.too_large:
        oversized = json.dumps({**(op.example or {}), UNKNOWN: "x" * LIMIT}).encode()
        _refused(caller, "a body over the size limit", lambda: caller.send(oversized), lambda s: s == 413, failures)
    for name, url in path_cases(caller):
        _refused(caller, name, lambda u=url: caller.send(url=u), _4xx, failures)
    assert not failures, "\n".join(failures)

    # the server keeps serving: the valid request succeeds, with an ignored unknown field where allowed
    document = op.example if op.closed or op.example is None else {**op.example, UNKNOWN: "zz-trace"}
    response = caller.valid(document)
    assert response.status_code < 300, response.get_data(as_text=True)
    assert "zz-trace" not in json.dumps(caller.state(), default=str)


def test_an_oversized_body_is_refused_before_auth_is_even_needed_on_the_control_plane(client):
    response = client.post("/_sandbox/clock/advance", data=b"{" + b" " * LIMIT + b"}",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.get_json()["error"] == {"code": "payload_too_large", "field": "body",
                                            "message": f"request body is larger than {LIMIT} bytes"}


def test_the_size_limit_is_a_setting():
    app = tracked_app(max_body_bytes=64)
    client = app.test_client()
    small = client.post("/_sandbox/clock/advance", json={"seconds": 1})
    large = client.post("/_sandbox/clock/advance", json={"seconds": 1, "pad": "x" * 64})
    assert small.status_code == 200 and large.status_code == 413


def test_the_journal_records_a_refused_oversized_body_without_reading_it(client):
    tenant = {"X-Sandbox-Tenant": "journal"}
    token = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef", **tenant}
    client.post("/purpledot/admin/api/v1/refund", data=b'{"id": "' + b"x" * LIMIT + b'"}', headers=token,
                content_type="application/json")
    entry = client.get("/_sandbox/requests", headers=tenant).get_json()["requests"][0]
    assert entry["status"] == 413 and entry["error_code"] == "payload_too_large"
    assert "not recorded" in entry["request"]["body"]


# ------------------------------------------------------------------ on the wire: a live server on 127.0.0.1

PURPLE_DOT = "/purpledot/admin/api/v1/refund"
PURPLE_DOT_TOKEN = "0123456789abcdef0123456789abcdef"


def _exchange(port: int, raw: bytes, *, shutdown: bool = False) -> bytes:
    """Send raw bytes, return everything the server answers until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and not shutdown and _complete(b"".join(chunks)):
                    break
        except TimeoutError:
            pass
        return b"".join(chunks)


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    match = re.search(rb"(?i)content-length: *(\d+)", head)
    return match is not None and len(body) >= int(match.group(1))


def _request(target: bytes, body: bytes = b"", headers: bytes = b"") -> bytes:
    return (b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Sandbox-Tenant: wire\r\n"
            b"X-Purple-Dot-Access-Token: " + PURPLE_DOT_TOKEN.encode() + b"\r\nContent-Type: application/json\r\n"
            + headers + b"\r\n" + body)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.fixture(scope="module")
def wire():
    server = LiveSandbox()
    yield server
    server.stop()


def _refunds(server: LiveSandbox) -> list:
    rt = server.app.extensions["refund_sandbox"]
    return rt.store.read("wire", "purpledot", lambda tx: tx.all("refunds"))


def test_on_the_wire_oversized_bodies_get_413_in_the_providers_format(wire):
    port = int(wire.url.rsplit(":", 1)[1])
    body = b'{"id": "' + b"x" * LIMIT + b'"}'
    declared = _exchange(port, _request(PURPLE_DOT.encode(), body, b"Content-Length: %d\r\n" % len(body)))
    chunk = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    chunked = _exchange(port, _request(PURPLE_DOT.encode(), chunk, b"Transfer-Encoding: chunked\r\n"))
    for answer in (declared, chunked):
        assert _status(answer) == 413, answer[:300]
        document = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert document == {"meta": {"success": False}, "error": {
            "code": "PAYLOAD_TOO_LARGE", "message": f"request body is larger than {LIMIT} bytes", "field": "body"}}
    assert _refunds(wire) == []


def test_on_the_wire_broken_requests_are_refused_and_the_server_keeps_serving(wire):
    port = int(wire.url.rsplit(":", 1)[1])
    # beyond 16 times the limit, waitress itself refuses before reading a byte of the body
    beyond = _exchange(port, _request(PURPLE_DOT.encode(), b"", b"Content-Length: %d\r\n" % (17 * LIMIT)))
    assert _status(beyond) == 413
    # raw (not percent-encoded) bytes beyond ASCII in the request line: waitress's "Bad URI"
    invalid_target = _exchange(port, _request(PURPLE_DOT.encode() + b"/\xff\xfe", b"{}", b"Content-Length: 2\r\n"))
    assert _status(invalid_target) == 400 and b"Bad URI" in invalid_target
    assert _status(_exchange(port, b"GARBAGE\r\n\r\n", shutdown=True)) == 400
    truncated = _request(PURPLE_DOT.encode(), b'{"id": "k', b"Content-Length: 100\r\n")
    assert _exchange(port, truncated, shutdown=True) == b""  # the client gave up: no answer, nothing done
    assert _refunds(wire) == []

    valid = json.dumps({"id": "after-hostility", "order": "5550000000001", "shipping": True}).encode()
    answer = _exchange(port, _request(PURPLE_DOT.encode(), valid, b"Content-Length: %d\r\n" % len(valid)))
    assert _status(answer) == 200, answer[:300]
    assert [r["id"] for r in _refunds(wire)] == ["after-hostility"]


# ------------------------------------------------------------------ schemathesis, negative only, larger budget

NEGATIVE_EXAMPLES = 60
NEGATIVE_APP = AppSlot()  # filled by `negative_app`


@pytest.fixture(scope="module", autouse=True)
def negative_app():
    with shared_app() as app, NEGATIVE_APP.holding(app):
        register_contract_credential(app.test_client())
        yield


def _negative(path):
    spec = yaml.safe_load(path.read_text())
    settings = settings_for(spec, seed=20261124, max_examples=NEGATIVE_EXAMPLES)
    settings.pop("operations", None)
    settings["generation"]["mode"] = "negative"
    settings["phases"] = {"examples": {"enabled": False}, "coverage": {"enabled": False}}
    schema = schemathesis.openapi.from_path(path, config=schemathesis.Config.from_dict(settings))
    schema.app = NEGATIVE_APP
    # operations with no parameter and no body have nothing to break (health, list_providers, list_scenarios)
    inert = [op.operation_id for op in OPERATIONS if op.contract == path.name.split(".")[0]
             and op.example is None and not op.params and not _has_query(spec, op)]
    schema = schema.exclude(operation_id=inert) if inert else schema
    # the dashboard's form posts need a page's CSRF token (all get 403): tests/test_ui.py covers them
    return schema.exclude(method="POST", path_regex="^/_sandbox/ui")


def _has_query(spec: dict, op: Operation) -> bool:
    item = spec["paths"][op.route]
    return bool(item[op.method.lower()].get("parameters") or item.get("parameters"))


NEGATIVE = {path.name.split(".")[0]: _negative(path) for path in sorted((ROOT / "contracts").glob("*.openapi.yaml"))}


@schemathesis.pytest.parametrize(**NEGATIVE)
def test_negative_fuzzing_with_a_larger_budget(case):
    case.call_and_validate()
