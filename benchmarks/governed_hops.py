"""MCP hops per turn: agent to gateway and gateway to system, with and without the gateway's projection.

The same conversation as ``benchmarks/load.py`` (billing question, verification by email and
code, a refund under the approval threshold, a support question) runs on the embedded stack
twice: once with the gateway's projection turned off (``projection_max_lag_seconds=0``: every
customer-scoped call first reads consent from the registry, as before the projection) and once
with the default bound (consent and open tickets answered from the gateway's copy). Each turn's
MCP requests are counted where they arrive: at the gateway (agent -> gateway) and at the
systems (gateway -> system, the policy-fact reads included).
Usage: ``python benchmarks/governed_hops.py``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx
from _hops import APPROVAL_THRESHOLD_PENCE, CountingStack
from load import TURN_TIMEOUT, TURNS, _code
from starlette.types import ASGIApp

from mcp_servers.dataset import sample_customers
from shared.settings import Settings

# Wait for every system's feed to be fresh before the first turn, as a running deployment is.
FEED_WAIT_SECONDS = 10.0


class SplitCountingStack(CountingStack):
    """Counts MCP requests at the gateway and at the systems apart."""

    def _mcp_app(self, system: str) -> ASGIApp:
        return self._counted("mcp:system", super(CountingStack, self)._mcp_app(system))

    def _gateway_app(self) -> ASGIApp:
        return self._counted("mcp:gateway", super(CountingStack, self)._gateway_app())


async def _fresh(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway, timeout=5) as http, asyncio.timeout(FEED_WAIT_SECONDS):
        while True:
            feeds = (await http.get("/healthz")).json()["projection"]["feeds"]
            if all(feed["fresh"] for feed in feeds.values()):
                return
            await asyncio.sleep(0.05)


async def count(max_lag: float) -> dict[str, Counter[str]]:
    with tempfile.TemporaryDirectory(prefix="sb-hops-") as tmp:
        settings = Settings(data_dir=Path(tmp), customers=240, projection_max_lag_seconds=max_lag)
        stack = SplitCountingStack(settings)
        async with stack as topology, httpx.AsyncClient(base_url=topology.orchestrator, timeout=TURN_TIMEOUT) as http:
            if max_lag > 0:
                await _fresh(topology.gateway)
            customer = next(
                c
                for c in sample_customers(Path(tmp), 500, has_duplicate_charge=True)
                if c["duplicate_charge_pence"] <= APPROVAL_THRESHOLD_PENCE
            )
            started = (await http.post("/api/conversations", json={})).json()
            path = f"/api/conversations/{started['conversation_id']}/messages"
            headers = {"Authorization": f"Bearer {started['token']}"}
            hops: dict[str, Counter[str]] = {}
            for kind, words, agent in TURNS:
                code = _code(Path(tmp), customer["customer_id"]) if "{code}" in words else ""
                before = stack.hops.copy()
                text = words.format(email=customer["email"], code=code)
                body = (await http.post(path, json={"text": text}, headers=headers)).json()
                assert body["agent"] == agent, (kind, body)
                hops[kind] = stack.hops - before
            return hops


def _line(kind: str, hops: Counter[str]) -> str:
    to_gateway, to_systems = hops["mcp:gateway"], hops["mcp:system"]
    return f"{kind:<18} {to_gateway:>8} {to_systems:>8} {to_gateway + to_systems:>6}"


async def main() -> None:
    runs = {"projection off (before)": await count(0.0), "projection on": await count(1.0)}
    for name, hops in runs.items():
        print(f"\n{name}\n{'turn':<18} {'->gateway':>8} {'->system':>8} {'total':>6}")
        total: Counter[str] = Counter()
        for kind, counted in hops.items():
            print(_line(kind, counted))
            total.update(counted)
        print(_line("whole conversation", total))
    before, after = (runs[k]["support-question"] for k in runs)
    b, a = before["mcp:gateway"] + before["mcp:system"], after["mcp:gateway"] + after["mcp:system"]
    print(f"\nsupport turn: {b} MCP hops before, {a} after ({a / b:.2f}x)" if b else "")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
