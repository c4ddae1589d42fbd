"""A specialist's connection to the gateway survives a dropped socket (real sockets, real gateway).

The proxy between the specialist and the gateway lets a call through and cuts the connection
before the answer returns: reads and keyed writes are made again once; other writes are not.
"""

from __future__ import annotations

from pathlib import Path

from agents.runtime.gateway import GatewayClient
from shared.authcontext import generate_private_key_pem
from shared.envelope import ContextEnvelope
from tests.dropping_proxy import dropping_proxy
from tests.governance.conftest import AGENT_TOKENS, ANA, start_env
from tests.governance.test_calls import REFUND


async def test_reads_and_keyed_writes_survive_a_dropped_connection(tmp_path: Path) -> None:
    async with start_env(tmp_path, generate_private_key_pem()) as env:
        port = int(env.url.rsplit(":", 1)[1])
        async with dropping_proxy(port) as proxy:
            client = GatewayClient(proxy.url("/mcp"), token=AGENT_TOKENS["payment"], timeout_seconds=5)
            envelope = ContextEnvelope.model_validate_json(env.envelope())
            try:
                read = {"account_number": ANA.account_number}
                assert (await client.call("payments.list_charges", read, envelope)).ok
                proxy.cut_next_response()
                outcome = await client.call("payments.list_charges", read, envelope)
                assert outcome.ok, outcome
                assert outcome.data == {"account_number": ANA.account_number, "charges": ["CH-1"]}

                proxy.cut_next_response()
                outcome = await client.call("payments.issue_refund", REFUND, envelope)
                assert outcome.ok, outcome
                refunds = [c for c in env.upstreams["payments"].calls if c["tool"] == "issue_refund"]
                assert [c["args"]["key"] for c in refunds] == [REFUND["idempotency_key"]] * 2

                unkeyed = {k: v for k, v in REFUND.items() if k != "idempotency_key"}
                proxy.cut_next_response()
                outcome = await client.call("payments.issue_refund", unkeyed, envelope)
                assert outcome.kind == "unavailable" and "may have run" in outcome.message
                assert proxy.cut == 3
            finally:
                await client.aclose()
