"""Behaviour 8 from outside: calls without a valid token for their target are refused."""

from __future__ import annotations

import httpx
import pytest

from tests.behaviours.conftest import Deployment

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_8_hostile_caller(deployment: Deployment) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(timeout=30) as http:
        for token in (None, "not-a-token"):
            auth = {"Authorization": f"Bearer {token}"} if token else {}
            gateway = await http.post(f"{deployment.gateway}/mcp", json=call, headers={**headers, **auth})
            assert gateway.status_code == 401, gateway.text
        # The orchestrator's internal callbacks answer only the gateway's service identity.
        for path in ("/api/internal/approvals", "/api/internal/open-cases?customer_id=CUST-00001"):
            method = "POST" if path.endswith("approvals") else "GET"
            refused = await http.request(method, f"{deployment.base}{path}", headers={"Authorization": "Bearer x"})
            assert refused.status_code == 401, (path, refused.text)
        # A staff API call without a staff token, and a console call without a session.
        assert (await http.get(f"{deployment.gateway}/governance/approvals")).status_code == 401
        assert (await http.get(f"{deployment.base}/api/console/escalations")).status_code == 401
