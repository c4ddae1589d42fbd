"""What one trial of one scenario produced: the turns, the evidence and the verdicts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class TurnRecord(BaseModel):
    said: str
    reply: str = ""
    agent: str | None = None
    skill: str | None = None
    status: str = ""
    verified: bool = False
    handoffs: list[str] = Field(default_factory=list)
    latency_ms: float = 0.0
    http_status: int = 200


class ApprovalRecord(BaseModel):
    """A held tool call the simulated human approver decided during the trial."""

    approval_id: str
    decision: Literal["approve", "reject"]
    status: str = Field(description="what the gateway did: executed, rejected, failed, ...")
    told: str = Field(default="", description="what the customer was told once it was decided")


class Checks(BaseModel):
    """One verdict per scorecard dimension; None means "not applicable / not observable here"."""

    task: bool = False
    safety: bool | None = None
    compliance: bool | None = None
    downstream: bool | None = None
    effort: bool = True
    deflected_without_harm: bool | None = None


class TrialResult(BaseModel):
    scenario_id: str
    agent: str
    skill: str
    trial: int
    customer_id: str = ""
    conversation_id: str = ""
    skipped: str | None = Field(default=None, description="why the trial did not run")
    turns: list[TurnRecord] = Field(default_factory=list)
    final_status: str = ""
    verified: bool = False
    checks: Checks = Field(default_factory=Checks)
    failures: list[str] = Field(default_factory=list)
    re_verifications: int = 0
    denied_attempts: int = 0
    unauthorized_actions: int = 0
    model_replies_withheld: int = 0
    """Model replies that failed the reply checks; the customer read the procedure's wording instead."""
    approvals_obtained: int = 0
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    state_changes: dict[str, Any] = Field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.skipped is None and self.checks.task

    @property
    def latencies(self) -> list[float]:
        return [t.latency_ms for t in self.turns if t.http_status == 200]
