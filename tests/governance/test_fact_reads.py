"""The facts policy needs (consent, open cases) are read fresh per call, at the same time when a call needs both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp_types import Tool

from gateway.audit_store import AuditStore
from gateway.catalog import Catalog
from gateway.facts import FactUnavailable
from gateway.gateway import Gateway
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from shared.authcontext import AuthContextSigner, AuthContextVerifier, generate_private_key_pem, public_pem_from_private
from shared.envelope import ContextEnvelope
from shared.tools import PURPOSE_META_KEY, PURPOSES, SUBJECT_META_KEY
from tests.governance.conftest import ANA

WAIT = 5.0
OFFER = {"email": ANA.email, "offer_id": "OFR-9"}


class Facts:
    """Consent and open cases as the registries would answer now; counts every read."""

    def __init__(self) -> None:
        self.purposes = set(PURPOSES)
        self.open_cases = 0
        self.consent_reads = 0
        self.case_reads = 0
        self.consent_started = asyncio.Event()
        self.cases_started = asyncio.Event()
        self.consent_error: FactUnavailable | None = None
        self.cases_finished = False

    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]:
        self.consent_reads += 1
        self.consent_started.set()
        # Answers only once the other read is under way: a gateway reading one after the other stalls here.
        await self.cases_started.wait()
        if self.consent_error is not None:
            raise self.consent_error
        return frozenset(self.purposes)

    async def open_support_cases(self, email: str, conversation_id: str) -> int:
        self.case_reads += 1
        self.cases_started.set()
        await self.consent_started.wait()
        self.cases_finished = True
        return self.open_cases


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Gateway, Facts, dict[str, str]]]:
    private = generate_private_key_pem()
    token = AuthContextSigner(private).issue(ANA, method="otp-sms", assurance="AAL2", conversation_id="conv-facts")
    meta = {"switchboard/envelope": ContextEnvelope(conversation_id="conv-facts", auth_context=token).model_dump_json()}
    policy = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    catalog = Catalog(["billing"], policy)
    subject = {SUBJECT_META_KEY: {"arg": "email", "kind": "email"}}
    catalog.set_system(
        "crm",
        [
            Tool(
                name="send_offer",
                input_schema={"type": "object", "required": ["email", "offer_id"]},
                _meta={**subject, PURPOSE_META_KEY: "marketing"},
            )
        ],
    )
    store = await AuditStore.open(tmp_path / "audit.db")
    facts = Facts()
    gateway = Gateway(
        catalog=catalog,
        policy=policy,
        verifier=AuthContextVerifier(public_pem_from_private(private)),
        store=store,
        links={},
        facts=facts,
    )
    try:
        yield gateway, facts, meta
    finally:
        await store.close()


async def test_consent_and_open_cases_are_read_at_the_same_time(setup) -> None:
    gateway, facts, meta = setup
    facts.open_cases = 1
    async with asyncio.timeout(WAIT):
        verdict = await gateway.authorize("billing", "crm.send_offer", OFFER, meta)
    assert (facts.consent_reads, facts.case_reads) == (1, 1)
    assert not verdict.allowed
    assert "guard.no-marketing-during-open-case" in verdict.record.policy_ids


async def test_each_call_reads_consent_afresh_so_a_revocation_bites_at_once(setup) -> None:
    gateway, facts, meta = setup
    async with asyncio.timeout(WAIT):
        first = await gateway.authorize("billing", "crm.send_offer", OFFER, meta)
        facts.purposes.discard("marketing")
        second = await gateway.authorize("billing", "crm.send_offer", OFFER, meta)
    assert first.allowed, first.record.reason
    assert not second.allowed and "guard.consent-required" in second.record.policy_ids
    assert (facts.consent_reads, facts.case_reads) == (2, 2)


async def test_an_unreadable_fact_denies_after_every_read_has_finished(setup) -> None:
    gateway, facts, meta = setup
    facts.consent_error = FactUnavailable("the consent system is not answering (test)")
    async with asyncio.timeout(WAIT):
        verdict = await gateway.authorize("billing", "crm.send_offer", OFFER, meta)
    assert not verdict.allowed and verdict.record.decision == "deny"
    assert "a fact policy needs is unknown" in verdict.record.reason
    assert "consent system is not answering" in verdict.record.reason
    # The other read was not left running behind the decision.
    assert facts.cases_finished
