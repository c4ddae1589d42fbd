"""The context envelope: what travels with every A2A handoff and every MCP tool call.

The envelope is a carrier, not an authority. The only part that grants anything is the
signed ``auth_context`` token, which the governance gateway verifies on every call; the
plain ``customer`` copy is there so agents can address the right records.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from shared.tracing import TraceContext

ENVELOPE_META_KEY = "switchboard/envelope"
"""Key of the envelope (JSON string) in A2A message metadata and MCP request ``_meta``."""


class CustomerKeys(BaseModel):
    """The keys one unified customer has in each enterprise system."""

    customer_id: str
    email: str | None = None
    msisdn: str | None = None
    account_number: str | None = None

    def get(self, kind: str) -> str | None:
        return getattr(self, kind, None)


class CustomerRef(BaseModel):
    """Who the conversation is about, as resolved by the identity system."""

    keys: CustomerKeys
    display_name: str = ""

    @property
    def customer_id(self) -> str:
        return self.keys.customer_id


class AuthClaims(BaseModel):
    """Claims inside a signed auth context (issued only by the identity system)."""

    sub: str = Field(description="unified customer id")
    keys: CustomerKeys
    method: str = Field(description="how the customer was verified, e.g. otp-sms")
    assurance: str = Field(description="assurance level, e.g. AAL1 or AAL2")
    iss: str = "switchboard-identity"
    iat: int
    exp: int
    jti: str
    conversation_id: str | None = None
    aud: str | None = None

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.exp, UTC)


class ConsentSnapshot(BaseModel):
    purposes: list[str] = Field(default_factory=list)
    as_of: str | None = None


class ContextEnvelope(BaseModel):
    """Carried in A2A message metadata on every handoff and presented with every tool call."""

    conversation_id: str
    channel: str = "chat"
    customer: CustomerRef | None = None
    auth_context: str | None = Field(default=None, description="compact JWS signed by identity")
    consent: ConsentSnapshot | None = None
    trace: TraceContext = Field(default_factory=TraceContext.new)
    handoff_reason: str = ""
    summary: str = ""
    turn: int = 0
    deadline_at: float | None = Field(
        default=None, description="when the customer's turn must be answered (Unix time); every hop uses what is left"
    )
