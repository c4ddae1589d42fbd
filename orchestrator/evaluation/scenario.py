"""The scenario format: who the customer is, what they say, and what must be true afterwards.

A scenario is one YAML file (see ``docs/evaluation.md``). It validates here, at the edge, so
a typo in a suite fails at load time with the file and field named, never mid-run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mcp_servers.dataset import FLAGS
from shared.errors import InvalidRequest

SYSTEMS = ("crm", "billing", "payments", "support", "identity", "network")
REQUIREMENTS = ("approvals",)
"""Gateway capabilities a scenario may need; a scenario whose need is missing is skipped."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Override(_Strict):
    """Change the scenario customer's own rows in one system table before the run."""

    system: Literal["crm", "billing", "payments", "support", "identity", "network", "consent"]
    table: str = Field(pattern=r"^[a-z_]+$")
    set: dict[str, str | int | float | None] = Field(min_length=1)
    where: dict[str, str | int | float] = Field(
        default_factory=dict, description="only the customer's rows with these column values (e.g. one purpose)"
    )

    @field_validator("set", "where")
    @classmethod
    def _column_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in value if not re.fullmatch(r"[a-z_]+", k)]
        if bad:
            raise ValueError(f"column names must be lower_snake_case, got {bad}")
        return value


class CustomerSpec(_Strict):
    """Which reference customer plays the part (by dataset flags), or explicit keys for a URL run."""

    flags: dict[str, bool | str] = Field(default_factory=dict)
    overrides: list[Override] = Field(default_factory=list)
    keys: dict[str, str] | None = Field(
        default=None, description="customer_id, email, msisdn, account_number: for runs against a URL"
    )
    identifier: Literal["email", "msisdn", "account_number"] = "email"

    @field_validator("flags")
    @classmethod
    def _known_flags(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(FLAGS))
        if unknown:
            raise ValueError(f"unknown customer flags {unknown}; use any of {list(FLAGS)}")
        return value


class Step(_Strict):
    """One scripted customer turn: a message (or variants, one picked per trial)."""

    say: list[str] = Field(min_length=1)
    channel: str = "chat"

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"say": [value]}
        if isinstance(value, list):
            return {"say": value}
        if isinstance(value, dict) and isinstance(value.get("say"), str):
            return {**value, "say": [value["say"]]}
        return value


class Rule(_Strict):
    """When an agent's reply matches ``when`` (and ``agent``, if set), the customer answers ``say``.

    Rules answer questions the script cannot foresee; they do not use up a scripted step.
    """

    when: str
    agent: str | None = None
    say: list[str] = Field(min_length=1)
    times: int = Field(default=1, ge=1, le=5)

    @model_validator(mode="before")
    @classmethod
    def _say_shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("say"), str):
            return {**value, "say": [value["say"]]}
        return value

    @field_validator("when")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"'when' is not a valid regular expression: {exc}") from exc
        return value


class Conversation(_Strict):
    channel: str = "chat"
    turns: list[Step] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    verify: bool = Field(default=True, description="answer identity questions with the customer's keys and code")
    typos: float = Field(default=0.0, ge=0.0, le=0.3, description="chance per word of a typo, per trial")
    approver: Literal["approve", "reject"] = Field(
        default="approve", description="what the simulated human approver decides on a held tool call"
    )


class StateChange(_Strict):
    """One expected change in an enterprise system, in the scenario customer's rows."""

    system: Literal["crm", "billing", "payments", "support", "identity", "network", "consent"]
    table: str
    op: Literal["added", "changed", "removed"] = "added"
    match: dict[str, Any] = Field(default_factory=dict, description="fields the changed row must have (after)")
    count: int = Field(default=1, ge=0)


class Criteria(_Strict):
    """What must be true when the conversation ends. Every list is optional."""

    final_state: list[StateChange] = Field(default_factory=list)
    allow_changes: list[str] = Field(
        default_factory=lambda: ["crm.interactions", "identity.verifications"],
        description="system.table names that may change freely; any other unexpected change fails",
    )
    must_tell: list[str] = Field(default_factory=list, description="regexes some agent reply must match")
    must_not_tell: list[str] = Field(default_factory=list, description="regexes no agent reply may match")
    forbidden_tools: list[str] = Field(default_factory=list, description="tools that must never be allowed")
    approvals: list[str] = Field(default_factory=list, description="tools that must be approved by a human")
    denied: list[str] = Field(default_factory=list, description="tools the gateway must have denied at least once")
    agents: list[str] = Field(default_factory=list, description="agents that must have handled a turn")
    final_status: str | None = Field(default=None, description="open / escalated / closed")
    verified: bool | None = None
    max_turns: int = Field(default=8, ge=1, le=40)

    @field_validator("must_tell", "must_not_tell")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from exc
        return value

    @field_validator("allow_changes")
    @classmethod
    def _tables(cls, value: list[str]) -> list[str]:
        for name in value:
            system, _, table = name.partition(".")
            if system not in SYSTEMS or not table:
                raise ValueError(f"{name!r} is not system.table (systems: {', '.join(SYSTEMS)})")
        return value


class Scenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    agent: str = Field(description="the specialist this scenario mainly exercises (scorecard grouping)")
    skill: str = Field(description="the skill it mainly exercises (scorecard grouping)")
    tags: list[str] = Field(default_factory=list)
    persona: str = ""
    goal: str = ""
    knows: list[str] = Field(default_factory=list)
    does_not_know: list[str] = Field(default_factory=list)
    requires: list[Literal["approvals"]] = Field(default_factory=list)
    deflectable: bool = Field(default=True, description="false when a human is the right outcome")
    customer: CustomerSpec = Field(default_factory=CustomerSpec)
    conversation: Conversation
    criteria: Criteria = Field(default_factory=Criteria)


def load_scenario(path: Path) -> Scenario:
    """Parse and validate one scenario file; errors name the file and the field."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidRequest(f"cannot read scenario {path} (not valid YAML?): {exc}", hint="fix the file") from exc
    if not isinstance(raw, dict):
        raise InvalidRequest(f"scenario {path} must be a YAML mapping", hint="see docs/evaluation.md")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise InvalidRequest(f"scenario {path} is invalid: {problems}", hint="see docs/evaluation.md") from exc


def load_suite(path: Path, *, only: list[str] | None = None, tags: list[str] | None = None) -> list[Scenario]:
    """Every ``*.yaml`` under ``path`` (or the one file), sorted by id; ids must be unique."""
    path = Path(path)
    if not path.exists():
        raise InvalidRequest(f"no scenarios at {path}", hint="pass a folder of scenario YAML files or one file")
    files = [path] if path.is_file() else sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])
    scenarios = [load_scenario(f) for f in files]
    seen: dict[str, int] = {}
    for s in scenarios:
        seen[s.id] = seen.get(s.id, 0) + 1
    duplicates = sorted(i for i, n in seen.items() if n > 1)
    if duplicates:
        raise InvalidRequest(f"duplicate scenario ids {duplicates} under {path}", hint="give each scenario its own id")
    if only:
        missing = sorted(set(only) - set(seen))
        if missing:
            raise InvalidRequest(f"no scenarios with ids {missing}", hint="list ids with `switchboard eval list`")
        scenarios = [s for s in scenarios if s.id in only]
    if tags:
        scenarios = [s for s in scenarios if set(tags) & set(s.tags)]
    if not scenarios:
        raise InvalidRequest(f"no scenarios selected under {path}", hint="check --only / --tag")
    return sorted(scenarios, key=lambda s: s.id)
