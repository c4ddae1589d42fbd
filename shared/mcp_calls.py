"""A ``tools/call`` whose result is checked against the tool's output schema where the caller says.

The MCP SDK's ``Client.call_tool`` checks every result against the tool's output schema with
jsonschema, and reports a mismatch as a bare ``RuntimeError`` (``ClientSession.validate_tool_result``),
the same type it raises for a client that is already closed. That check is a full jsonschema
pass over each result, and on a governed call it ran twice on the same content: in the
gateway on the system's answer, and in the agent on the gateway's copy of it.

Switchboard checks once, in the gateway (``call_unchecked`` then ``check_result``): it is the
boundary every system's answer crosses, it lists each system's own output schema to the agents
unchanged, it relays the structured content unchanged, and it is where a bad answer can be told
apart from a dead connection and audited as what it is. An agent calls the gateway with
``call_unchecked``: what it receives was checked against the schema it was listed, and the
gateway's batched reads (whose inner results no client-side schema covers) were checked there too.

``call_unchecked`` is a plain ``tools/call`` request: no ``input_required`` rounds, extension
claims or ``HEADER_MISMATCH`` re-listing, none of which the gateway or the systems use.
"""

from __future__ import annotations

from typing import Any

from mcp import Client
from mcp_types import CallToolRequest, CallToolRequestParams, CallToolResult, RequestParamsMeta


class ResultOutsideSchema(Exception):
    """A tool answered (not as an error) with structured content its listed output schema does not allow.

    The connection that carried it is fine; the answer cannot be used.
    """

    def __init__(self, tool: str, detail: str) -> None:
        super().__init__(f"{tool}: {detail}")
        self.tool = tool
        self.detail = detail


async def call_unchecked(
    client: Client, name: str, arguments: dict[str, Any], *, meta: RequestParamsMeta | None = None
) -> CallToolResult:
    """Call ``name`` and return its result as the protocol types read it, without the output-schema check.

    Raises what the SDK's request path raises (``MCPError`` for an error answer, a time-out or a
    closed connection; transport errors; ``pydantic.ValidationError`` for a result that is not a
    ``CallToolResult``), never a schema mismatch.
    """
    request = CallToolRequest(params=CallToolRequestParams(name=name, arguments=arguments, _meta=meta))
    return await client.session.send_request(request, CallToolResult)


async def check_result(client: Client, name: str, result: CallToolResult) -> None:
    """Raise ``ResultOutsideSchema`` when ``result`` breaks the output schema ``client`` listed for ``name``.

    A tool error is not checked (it carries no structured content to check), nor is a tool that
    declares no output schema. ``name`` must be one ``client`` has listed: an unlisted name makes
    the SDK list the tools again first.
    """
    if result.is_error:
        return
    try:
        await client.session.validate_tool_result(name, result)
    except RuntimeError as exc:
        # For a listed tool nothing else raises here: no request is made, the result is in hand.
        raise ResultOutsideSchema(name, str(exc).partition("\n")[0]) from exc
