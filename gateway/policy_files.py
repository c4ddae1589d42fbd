"""Policy files: reading, parsing and validating a folder of Cedar policies and its schema.

Errors name ``file:line`` (Cedar's own messages carry no position). The decision engine that
uses what is read here is ``gateway.cedar_engine``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cedarpy

from gateway.tool_args import ArgSchema
from shared.errors import ConfigurationError
from shared.resources import package_dir

if TYPE_CHECKING:
    from gateway.policy_interface import ToolFacts

DEFAULT_POLICY_DIR = package_dir("gateway.policies")
SCHEMA_FILE = "schema.cedarschema"
APPROVAL_ANNOTATION = "approval"
TRIAL_ANNOTATION = "trial"


def line_of_first_error(text: str) -> int | None:
    """Cedar's parse errors carry no position: parse statement by statement to find it."""
    start, chunk = 1, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("//", 1)[0].rstrip()
        if not chunk:
            if not code.strip():
                continue
            start = number
        chunk.append(line)
        if code.endswith(";"):
            try:
                cedarpy.PolicySet.from_str("\n".join(chunk))
            except ValueError:
                return start
            chunk = []
    return start if any(c.split("//", 1)[0].strip() for c in chunk) else None


def where(path: Path, text: str, policy_id: str) -> str:
    """``file:line`` of the policy with this @id (validation errors name the policy, not the line)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if f'"{policy_id}"' in line and "@id" in line:
            return f"{path}:{number}"
    return str(path)


@dataclass(frozen=True, slots=True)
class PolicySource:
    """One policy file as read, kept so later checks can name ``file:line``."""

    path: Path
    text: str


def read_policies(policy_dir: Path) -> tuple[dict[str, dict[str, Any]], str, list[PolicySource]]:
    """Every policy by @id, the schema text, and the files, checked as far as possible without tools."""
    schema_path = policy_dir / SCHEMA_FILE
    if not schema_path.is_file():
        raise ConfigurationError(
            f"{schema_path}: the Cedar schema is missing", hint="every policy folder needs schema.cedarschema"
        )
    schema_text = schema_path.read_text(encoding="utf-8")
    try:
        schema = cedar_schema(schema_text, ArgSchema())
    except ValueError as exc:
        raise ConfigurationError(f"{schema_path}: not a valid Cedar schema: {exc}") from exc
    files = sorted(policy_dir.glob("*.cedar"))
    if not files:
        raise ConfigurationError(f"{policy_dir}: no *.cedar policy files", hint="deny-all needs no gateway")
    policies: dict[str, dict[str, Any]] = {}
    sources: list[PolicySource] = []
    seen: dict[str, Path] = {}
    for path in files:
        source = PolicySource(path, path.read_text(encoding="utf-8"))
        sources.append(source)
        parsed = parse_file(source)
        for policy_id, policy in parsed:
            if policy_id in seen:
                raise ConfigurationError(
                    f"{where(path, source.text, policy_id)}: policy id {policy_id!r} is also used in {seen[policy_id]}",
                    hint="every @id must be unique: the audit log names policies by it",
                )
            seen[policy_id] = path
            policies[policy_id] = policy
        # Tool arguments are unknown until the tools are listed: those policies wait for check_arguments.
        validate(source, schema, deferred=frozenset(pid for pid, p in parsed if args_read(p)))
    return policies, schema_text, sources


def parse_file(source: PolicySource) -> list[tuple[str, dict[str, Any]]]:
    path, text = source.path, source.text
    try:
        parsed = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        line = line_of_first_error(text)
        located = f"{path}:{line}" if line else str(path)
        raise ConfigurationError(f"{located}: Cedar syntax error: {exc}") from exc
    if parsed.get("templates"):
        raise ConfigurationError(f"{path}: policy templates are not supported here; write static policies")
    ids = []
    for policy in parsed.get("staticPolicies", {}).values():
        annotations = policy.get("annotations") or {}
        policy_id = annotations.get("id")
        if not policy_id:
            raise ConfigurationError(
                f'{path}: a policy has no @id("...") annotation',
                hint="give every policy a unique @id; the audit log records it",
            )
        if APPROVAL_ANNOTATION in annotations and (
            annotations[APPROVAL_ANNOTATION] != "required" or policy.get("effect") != "forbid"
        ):
            raise ConfigurationError(
                f'{where(path, text, policy_id)}: policy {policy_id!r}: @approval("required") belongs on a forbid',
                hint="an approval policy is a forbid that holds the call until a human approves it",
            )
        ids.append((policy_id, policy))
    return ids


def validate(source: PolicySource, schema: cedarpy.Schema, *, deferred: frozenset[str]) -> None:
    result = cedarpy.validate_policies(source.text, schema)
    for error in result.errors:
        policy_id = result.id_annotations_by_policy_id.get(error.policy_id, error.policy_id)
        if policy_id in deferred:
            continue
        raise ConfigurationError(
            f"{where(source.path, source.text, policy_id)}: policy {policy_id!r} does not match the schema: "
            f"{error.error}",
            hint=f"fix the policy or {SCHEMA_FILE} (context.args holds the tools' declared arguments)",
        )


def cedar_schema(text: str, args: ArgSchema) -> cedarpy.Schema:
    """The schema file plus the ``ToolArgs`` type derived from the tools."""
    return cedarpy.Schema.from_str(text + "\n" + args.declaration() + "\n")


def may_apply(policy: dict[str, Any], tool: ToolFacts) -> bool:
    """Whether a policy's scope can match calls to ``tool`` (conditions are not looked at)."""
    scope = policy.get("resource") or {}
    entity = scope.get("entity") or {}
    if scope.get("op") == "==" and entity.get("type") == "Tool":
        return bool(entity.get("id") == tool.name)
    if scope.get("op") == "in" and entity.get("type") == "System":
        return bool(entity.get("id") == tool.system)
    return True


def args_read(policy: dict[str, Any]) -> frozenset[str]:
    """The ``context.args`` attributes one policy reads (``context.args.x``, ``context.args has x``)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for op in (".", "has"):
                access = node.get(op)
                if isinstance(access, dict) and access.get("left") == {
                    ".": {"left": {"Var": "context"}, "attr": "args"}
                }:
                    found.add(access["attr"])
            for value in node.values():
                walk(value)

    walk(policy.get("conditions") or [])
    return frozenset(found)


def context_attributes(policies: Iterable[dict[str, Any]]) -> frozenset[str] | None:
    """The ``context`` attributes the policies' conditions read (``context.x``, ``context has x``).

    None when some policy uses ``context`` other than through an attribute, e.g. compares it whole.
    """
    found: set[str] = set()
    whole = False

    def walk(node: Any) -> None:
        nonlocal whole
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("Var") == "context":
                whole = True
                return
            for op in (".", "has"):
                access = node.get(op)
                if isinstance(access, dict) and access.get("left") == {"Var": "context"}:
                    found.add(access["attr"])
                    return
            for value in node.values():
                walk(value)

    for policy in policies:
        walk(policy.get("conditions") or [])
    return None if whole else frozenset(found)


def policy_set(policies: dict[str, dict[str, Any]]) -> cedarpy.PolicySet:
    """A policy set keyed by @id, so Cedar's reasons are the ids the audit log records."""
    return cedarpy.PolicySet.from_json_str(
        json.dumps({"staticPolicies": policies, "templates": {}, "templateLinks": []})
    )
