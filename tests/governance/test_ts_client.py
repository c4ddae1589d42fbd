"""A refusal is readable by any MCP client: the official TypeScript SDK reads a denial and a hold.

The SDK checks every result against the tool's declared output schema; a refusal must be a tool
error (``isError``) with its reason in the text, not structured content that breaks that schema.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.governance.conftest import AGENT_TOKENS, ANA, Env

CLIENT_DIR = Path(__file__).parent  # package.json: the SDK, installed by scripts/node-test-deps
WAIT = 30.0


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (CLIENT_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        message = f"needs node and `npm ci` in {CLIENT_DIR} (scripts/node-test-deps, which `make test` runs)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return node


async def _call_with_ts_sdk(env: Env, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    meta = {"switchboard/envelope": env.envelope()}
    process = await asyncio.create_subprocess_exec(
        _node(),
        str(CLIENT_DIR / "mcp_call_tool.mjs"),
        env.url + "/mcp",
        AGENT_TOKENS["payment"],
        tool,
        json.dumps(args),
        json.dumps(meta),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=CLIENT_DIR,
    )
    async with asyncio.timeout(WAIT):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


def _refund(charge_id: str, amount: float) -> dict[str, Any]:
    return {
        "account_number": ANA.account_number,
        "charge_id": charge_id,
        "amount": amount,
        "reason": "duplicate",
        "idempotency_key": f"ts-{charge_id}-{amount}",
    }


async def test_a_denial_reaches_a_typescript_client_as_a_tool_error(env: Env) -> None:
    answer = await _call_with_ts_sdk(env, "payments.issue_refund", _refund("CH-1", 900.0))
    assert answer["ok"], answer.get("error")
    result = answer["result"]
    assert result["isError"] is True and "structuredContent" not in result
    [text] = result["content"]
    assert text["type"] == "text" and text["text"].startswith("DENIED:")
    assert "guard.refund-hard-limit" in text["text"]
    assert result["_meta"]["switchboard/refusal"]["kind"] == "denied"
    assert env.upstreams["payments"].calls == []


async def test_a_hold_for_approval_reaches_a_typescript_client_as_a_tool_error(env: Env) -> None:
    answer = await _call_with_ts_sdk(env, "payments.issue_refund", _refund("CH-9", 5.0))
    assert answer["ok"], answer.get("error")
    result = answer["result"]
    assert result["isError"] is True and "structuredContent" not in result
    assert result["content"][0]["text"].startswith("APPROVAL_REQUIRED:")
    assert result["_meta"]["switchboard/refusal"]["approval_id"].startswith("APR-")


async def test_an_allowed_call_still_passes_the_clients_schema_check(env: Env) -> None:
    answer = await _call_with_ts_sdk(env, "payments.issue_refund", _refund("CH-1", 5.0))
    assert answer["ok"], answer.get("error")
    assert answer["result"]["structuredContent"] == {"refund_id": "RF-1", "charge_id": "CH-1", "amount": 5.0}
