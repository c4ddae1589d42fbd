"""Identity tool outputs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.envelope import CustomerRef


class Destinations(BaseModel):
    sms: str | None = Field(default=None, description="masked mobile number")
    email: str | None = Field(default=None, description="masked email address")


class ResolvedCustomer(BaseModel):
    customer_id: str
    display_name: str = Field(description="first name, to greet the customer")
    destinations: Destinations
    step_up_required: bool = Field(
        default=False, description="a SIM swap was reported: verify through email, never by text message"
    )


class SignalContext(BaseModel):
    customer_id: str
    customer: CustomerRef
    auth_context: str = Field(description="signed auth context (AAL0, method network-signal) for proactive care")
    expires_at: str


class VerificationStarted(BaseModel):
    verification_id: str
    sent_to: str = Field(description="always 'the email address or mobile number on the account': no contact detail")
    expires_at: str
    attempts_left: int


class VerificationResult(BaseModel):
    verified: bool
    attempts_left: int
    locked: bool
    locked_until: str | None = None
    other_ways: list[str] = Field(
        default_factory=list, description="what to offer when this way is exhausted (another contact detail, a human)"
    )
    auth_context: str | None = Field(default=None, description="signed auth context (compact JWS) when verified")
    auth_context_expires_at: str | None = None
    customer: CustomerRef | None = Field(default=None, description="keys and display name when verified")


class SignInLinkSent(BaseModel):
    """A one-time link to set a new password or finish registering, sent to the email on record."""

    link_id: str
    purpose: str = Field(description="password-reset or registration")
    sent_to: str = Field(description="masked email address the link went to")
    expires_at: str
