"""A tools/call that leaves the output-schema check to its caller, and that check on its own."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from shared.mcp_calls import ResultOutsideSchema, call_unchecked, check_result

PLANS = types.Tool(
    name="list_plans",
    input_schema={"type": "object", "properties": {}},
    output_schema={
        "type": "object",
        "properties": {"plans": {"type": "array", "items": {"type": "string"}}},
        "required": ["plans"],
    },
)


def _server(answers: dict[str, types.CallToolResult]) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[PLANS])

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return answers[str((params.arguments or {})["answer"])]

    return Server("plans", on_list_tools=list_tools, on_call_tool=call_tool)


ANSWERS = {
    "good": types.CallToolResult(content=[], structured_content={"plans": ["basic-10"]}),
    "bad": types.CallToolResult(content=[], structured_content={"plans": "basic-10"}),
    "none": types.CallToolResult(content=[types.TextContent(type="text", text="plans: basic-10")]),
    "error": types.CallToolResult(content=[types.TextContent(type="text", text="no plans today")], is_error=True),
}


async def test_the_call_returns_what_the_tool_said_and_the_check_passes_a_good_answer() -> None:
    async with Client(_server(ANSWERS)) as client:
        await client.list_tools()
        result = await call_unchecked(client, "list_plans", {"answer": "good"})
        assert result.structured_content == {"plans": ["basic-10"]}
        await check_result(client, "list_plans", result)
        error = await call_unchecked(client, "list_plans", {"answer": "error"})
        assert error.is_error
        await check_result(client, "list_plans", error)  # an error carries nothing to check


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ("bad", "Invalid structured content returned by tool list_plans: 'basic-10' is not of type 'array'"),
        ("none", "Tool list_plans has an output schema but did not return structured content"),
    ],
)
async def test_an_answer_outside_the_schema_comes_back_and_only_the_check_refuses_it(answer: str, detail: str) -> None:
    async with Client(_server(ANSWERS)) as client:
        await client.list_tools()
        result = await call_unchecked(client, "list_plans", {"answer": answer})
        assert not result.is_error
        with pytest.raises(ResultOutsideSchema) as raised:
            await check_result(client, "list_plans", result)
        assert raised.value.tool == "list_plans" and raised.value.detail == detail
        # The SDK's own call refuses the same answer, with an error type that says less.
        with pytest.raises(RuntimeError):
            await client.call_tool("list_plans", {"answer": answer})
