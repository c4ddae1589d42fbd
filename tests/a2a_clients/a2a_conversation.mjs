// One customer conversation with Switchboard through the official JavaScript A2A SDK.
// Usage: node a2a_conversation.mjs <orchestrator base URL> <bearer token>
// Reads one customer message per line on stdin; prints one JSON line per reply:
// {"state": "TASK_STATE_...", "text": ..., "contextId": ..., "taskId": ..., "metadata": {...}}.
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { Role, TaskState } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";

const [baseUrl, token] = process.argv.slice(2);
const client = await new ClientFactory().createFromUrl(baseUrl);
const options = { serviceParameters: { Authorization: `Bearer ${token}` } };

let contextId = "";
let taskId = "";
for await (const line of createInterface({ input: process.stdin })) {
  const message = {
    messageId: randomUUID(),
    contextId,
    taskId,
    role: Role.ROLE_USER,
    parts: [{ content: { $case: "text", value: line } }],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
  const task = await client.sendMessage({ tenant: "", message, configuration: undefined, metadata: undefined }, options);
  const status = task.status;
  const state = TaskState[status.state];
  contextId = task.contextId;
  // A task waiting for the customer goes on with the next message; a finished one leaves the context open.
  taskId = state === "TASK_STATE_INPUT_REQUIRED" ? task.id : "";
  const text = (status.message?.parts ?? [])
    .filter((p) => p.content?.$case === "text")
    .map((p) => p.content.value)
    .join("");
  process.stdout.write(
    JSON.stringify({ state, text, contextId: task.contextId, taskId: task.id, metadata: status.message?.metadata ?? {} }) + "\n",
  );
}
