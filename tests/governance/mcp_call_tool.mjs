// Calls one tool through the governance gateway with the official TypeScript MCP SDK and prints
// the result (or the client's error) as JSON. Usage:
//   node mcp_call_tool.mjs <gateway /mcp url> <agent token> <tool> <arguments JSON> <_meta JSON>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, tool, args, meta] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "ts-sdk-check", version: "1.0.0" });
try {
  await client.connect(transport);
  // Listing first makes the SDK validate results against each tool's declared output schema.
  await client.listTools();
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args), _meta: JSON.parse(meta) });
  console.log(JSON.stringify({ ok: true, result }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error) }));
} finally {
  await client.close();
}
