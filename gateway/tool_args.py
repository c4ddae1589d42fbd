"""Tool arguments as Cedar sees them: ``context.args``, typed from the tools' input schemas.

Every argument a catalog tool declares becomes an optional attribute of one Cedar record
type, ``ToolArgs``, so a policy reads any of them (``context.args has percent &&
context.args.percent > 20``) and the validator rejects a policy naming an argument no tool
declares. JSON Schema types map to Cedar types: integer → Long, number → decimal, boolean →
Bool, string → String, an array of those → a Set. One name declared with two types by two
tools is widened when it can be (Long and decimal → decimal) and otherwise left out, with
the reason kept for the error a policy reading it gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

TYPE_NAME = "ToolArgs"
LONG, DECIMAL, BOOL, STRING = "Long", "decimal", "Bool", "String"
_SCALARS = {"integer": LONG, "number": DECIMAL, "boolean": BOOL, "string": STRING}
_CEDAR_SYNTAX = {LONG: "Long", DECIMAL: "__cedar::decimal", BOOL: "Bool", STRING: "String"}
_LONG_RANGE = 2**63
# Cedar decimals hold about 9.2e14; anything near that is an attack, not a business value.
_MAX_DECIMAL = Decimal("1e12")
_PLACES = Decimal("0.0001")


def _resolve(node: Any, root: Mapping[str, Any]) -> Any:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return (root.get("$defs") or {}).get(ref.removeprefix("#/$defs/"), {})
    return node


def _json_type(node: Any, root: Mapping[str, Any]) -> str | None:
    """The single JSON type of a schema node, looking through ``$ref`` and ``Optional``."""
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return None
    for key in ("anyOf", "oneOf"):
        if key in node:
            options = [o for o in node[key] if _resolve(o, root) != {"type": "null"}]
            return _json_type(options[0], root) if len(options) == 1 else None
    declared = node.get("type")
    if isinstance(declared, list):
        declared = [t for t in declared if t != "null"]
        declared = declared[0] if len(declared) == 1 else None
    if declared is None and isinstance(node.get("enum"), list) and all(isinstance(v, str) for v in node["enum"]):
        return "string"
    return declared if isinstance(declared, str) else None


def cedar_type(node: Any, root: Mapping[str, Any]) -> str | None:
    """The Cedar type of one argument's schema, or None when policies cannot read it."""
    kind = _json_type(node, root)
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array":
        item = _json_type(_resolve(node, root).get("items"), root)
        if item in ("integer", "string", "boolean"):
            return f"Set<{_SCALARS[item]}>"
    return None


def argument_types(input_schema: Mapping[str, Any] | None) -> dict[str, str | None]:
    """Each declared argument of one tool and its Cedar type (None: a shape policies cannot read)."""
    schema = input_schema or {}
    properties = schema.get("properties") or {}
    return {
        name: cedar_type(node, schema) if name.isprintable() else None
        for name, node in properties.items()
        if isinstance(name, str) and name
    }


@dataclass(frozen=True, slots=True)
class ArgSchema:
    """The merged ``ToolArgs`` record: readable arguments and why the others are not."""

    types: dict[str, str] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    def declaration(self) -> str:
        """The Cedar schema line that defines ``ToolArgs``."""
        attrs = ", ".join(f"{_quoted(name)}?: {_syntax(kind)}" for name, kind in sorted(self.types.items()))
        return f"type {TYPE_NAME} = {{{attrs}}};"

    def why_not(self, name: str) -> str:
        """Why a policy cannot read ``context.args.<name>``, for the validation error."""
        return self.unreadable.get(name) or f"no tool declares an argument {name!r}"


def merge(tools: Iterable[tuple[str, Mapping[str, str | None]]]) -> ArgSchema:
    """One record over every tool's arguments; a name with incompatible types is left out."""
    seen: dict[str, dict[str, str | None]] = {}
    for tool, types in tools:
        for name, kind in types.items():
            seen.setdefault(name, {})[tool] = kind
    merged: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    for name, by_tool in seen.items():
        kinds = set(by_tool.values())
        if None in kinds:
            where = ", ".join(sorted(t for t, k in by_tool.items() if k is None))
            unreadable[name] = f"argument {name!r} of {where} has a shape policies cannot read (not a scalar or list)"
        elif len(kinds) == 1:
            merged[name] = next(k for k in kinds if k is not None)
        elif kinds == {LONG, DECIMAL}:
            merged[name] = DECIMAL
        else:
            detail = ", ".join(f"{t} ({k})" for t, k in sorted(by_tool.items()))
            unreadable[name] = f"argument {name!r} has different types in different tools: {detail}"
    return ArgSchema(merged, unreadable)


def cedar_args(arguments: Mapping[str, Any], declared: Iterable[str], schema: ArgSchema) -> dict[str, Any]:
    """The call's arguments that policies can read, as Cedar JSON values.

    Raises ValueError naming the argument when a value does not fit its declared type.
    """
    out: dict[str, Any] = {}
    for name in declared:
        kind = schema.types.get(name)
        value = arguments.get(name)
        if kind is None or value is None:
            continue
        out[name] = _value(name, kind, value)
    return out


def _value(name: str, kind: str, value: Any) -> Any:
    if kind.startswith("Set<"):
        if not isinstance(value, list):
            raise ValueError(f"argument {name!r} must be a list")
        return [_value(name, kind[4:-1], item) for item in value]
    if kind == STRING:
        if not isinstance(value, str):
            raise ValueError(f"argument {name!r} must be a string")
        return value
    if kind == BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"argument {name!r} must be true or false")
        return value
    number = _number(name, value)
    if kind == LONG:
        if number != number.to_integral_value() or abs(number) >= _LONG_RANGE:
            raise ValueError(f"argument {name!r} must be a whole number")
        return int(number)
    if abs(number) >= _MAX_DECIMAL:
        raise ValueError(f"argument {name!r} is out of range")
    if number != number.quantize(_PLACES):
        # Rounding could move a value across a policy's threshold: refuse rather than guess.
        raise ValueError(f"argument {name!r} has more than four decimal places")
    return decimal_json(number)


def _number(name: str, value: Any) -> Decimal:
    """Numeric strings count because upstreams coerce them."""
    if isinstance(value, bool):
        raise ValueError(f"argument {name!r} must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"argument {name!r} must be a number") from None
    if not number.is_finite():
        raise ValueError(f"argument {name!r} must be a finite number")
    return number


def decimal_json(value: Decimal) -> dict[str, Any]:
    """A Cedar decimal (four places) in Cedar's JSON form."""
    return {"__extn": {"fn": "decimal", "arg": f"{value.quantize(_PLACES):.4f}"}}


def _quoted(name: str) -> str:
    # Always quoted: an argument may be named like a Cedar keyword ("in", "if", "true").
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _syntax(kind: str) -> str:
    if kind.startswith("Set<"):
        return f"Set<{_CEDAR_SYNTAX[kind[4:-1]]}>"
    return _CEDAR_SYNTAX[kind]
