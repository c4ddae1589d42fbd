"""Parsing a JSON request body that came from anyone: every failure is a 400, never a crash.

``json.loads`` alone lets through what breaks a turn later: lone UTF-16 surrogates (``"\\ud800"``)
that no UTF-8 writer can store, integers longer than Python converts (4,300 digits: ValueError),
nesting deep enough to exhaust the parser's recursion (RecursionError), and UTF-16/32 bodies it
silently detects. Here the body must be UTF-8 JSON whose strings are all encodable, with numbers
of sane length and bounded depth.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.errors import InvalidRequest

MAX_DEPTH = 32
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_json(raw: bytes, *, hint: str | None = None) -> Any:
    """The JSON value in ``raw``; raises InvalidRequest saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the request body is not UTF-8 text", hint="send JSON encoded as UTF-8") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidRequest(f"the request body nests deeper than {MAX_DEPTH} levels", hint=hint) from None
    except ValueError as exc:  # JSONDecodeError, and integers over Python's digit limit
        detail = "a number in it is too long" if "digits" in str(exc) else "it is not valid JSON"
        raise InvalidRequest(f"the request body is not valid JSON: {detail}", hint=hint) from None
    if _depth_over(value, MAX_DEPTH):
        raise InvalidRequest(f"the request body nests deeper than {MAX_DEPTH} levels", hint=hint)
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequest(
                "the request body contains an unpaired UTF-16 surrogate (\\ud800-\\udfff)",
                hint="send valid Unicode text",
            ) from None
    return value


def parse_json_object(raw: bytes, *, hint: str | None = None) -> dict[str, Any]:
    value = parse_json(raw, hint=hint)
    if not isinstance(value, dict):
        raise InvalidRequest("the request body must be a JSON object", hint=hint)
    return value


def _depth_over(value: Any, limit: int) -> bool:
    """Iterative, so a deep value cannot exhaust the stack here either."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
