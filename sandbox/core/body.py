"""What a JSON request body and a query string must be before any schema sees them, for every API.

RFC 8259 JSON in UTF-8 under a JSON Content-Type (or, for an API whose documents make
application/json the default, under no Content-Type at all: `untyped_is_json`), and within
bounds a real API would also enforce somewhere (labelled `x-sandbox-note` in each
contract's `info`): nested at most
MAX_DEPTH levels, strings (and keys) at most MAX_STRING characters with no NUL, integers
within I-JSON's exact range (RFC 7493, +-(2**53 - 1)), no NaN or Infinity. Bodies over the
size limit never get here: Flask's MAX_CONTENT_LENGTH raises 413 (Kind.TOO_LARGE) when the
body is read. Query strings keep the same string bounds and must decode as UTF-8. `parse`
is pure; `document` and `check_query` read the current request and raise the provider's
validation error.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qsl

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from sandbox.core.errors import Kind, SandboxError

MAX_DEPTH = 32
MAX_STRING = 10_000
MAX_INT = 2**53 - 1


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check(document: Any) -> None:
    """Walk the parsed document without recursion; raise ValueError on the first breach."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key in value:
                    _check_string(key)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_string(value)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int) and abs(value) > MAX_INT:
            raise ValueError(f"integer {str(value)[:24]}... is beyond +-(2**53 - 1)")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError("a number is too large to represent")


def _check_string(text: str) -> None:
    if len(text) > MAX_STRING:
        raise ValueError(f"a string is longer than {MAX_STRING} characters")
    if "\x00" in text:
        raise ValueError("a string contains a NUL character")


def parse(raw: bytes) -> Any:
    """The JSON document in `raw`.

    :raise ValueError: not UTF-8, not JSON, or beyond the bounds above (the message says which).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 at byte {exc.start}") from None
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    _check(document)
    return document


def is_json(untyped_is_json: bool = False) -> bool:
    """Whether the current request's body is to be read as JSON: a JSON Content-Type, or none
    at all when `untyped_is_json` (an API that documents application/json as the default)."""
    return request.is_json or (untyped_is_json and not request.mimetype)


def document(status: int | None, untyped_is_json: bool = False) -> Any:
    """The current request's JSON body (None when there is none).

    :raise status: (VALIDATION) a body that is not JSON by Content-Type or content, or out of bounds.
    :raise 413: (TOO_LARGE) via MAX_CONTENT_LENGTH when the body is over the size limit.
    """
    raw = request.get_data(cache=True)
    if not raw:
        return None
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit is not None and len(raw) >= limit \
            and request.environ["wsgi.input"].read(1):
        # a streamed (chunked) body: werkzeug stops reading at the limit without saying there was more
        raise RequestEntityTooLarge()
    if not is_json(untyped_is_json):
        raise SandboxError(Kind.VALIDATION, f"Content-Type must be application/json, not {request.mimetype or 'none'}",
                           status=status, field="body")
    try:
        return parse(raw)
    except ValueError as exc:
        raise SandboxError(Kind.VALIDATION, f"request body is {exc}" if str(exc).startswith("not") else
                           f"request body: {exc}", status=status, field="body") from None


def peek(untyped_is_json: bool = False) -> Any:
    """`document()`, or None when the body is unacceptable (a body over the size limit still
    raises 413)."""
    try:
        return document(None, untyped_is_json)
    except SandboxError:
        return None


def check_query(status: int | None) -> None:
    """:raise status: (VALIDATION) a query string that is not UTF-8 or holds a value out of bounds."""
    if not request.query_string:
        return
    try:
        pairs = parse_qsl(request.query_string.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise SandboxError(Kind.VALIDATION, "query string is not valid UTF-8", status=status, field="query") from None
    for name, value in pairs:
        try:
            _check_string(name)
            _check_string(value)
        except ValueError as exc:
            raise SandboxError(Kind.VALIDATION, f"query parameter {name[:64]!r}: {exc}", status=status,
                               field=name[:64]) from None
