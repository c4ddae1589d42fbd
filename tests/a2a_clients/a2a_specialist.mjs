// A plain A2A client of one Switchboard specialist, through the official JavaScript SDK.
// Usage: node a2a_specialist.mjs <agent base URL> <bearer token> <JSONRPC|HTTP+JSON> <extension URI>...
// It has nothing but the token and the extensions the card declares. Reads one JSON command per
// line on stdin and prints one JSON line per command:
//   {"send": text, "metadata": {...}, "taskId": "", "contextId": ""}  -> streamed events and the outcome
//   {"get": taskId}                                                    -> the task's state and history
//   {"cancel": taskId}                                                 -> the task's state after CancelTask
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { Role, TaskState } from "@a2a-js/sdk";
import { ClientFactory, ClientFactoryOptions, ServiceParameters, withA2AExtensions } from "@a2a-js/sdk/client";

const [baseUrl, token, binding, ...extensions] = process.argv.slice(2);
const factory = new ClientFactory(
  ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { preferredTransports: [binding] }),
);
const client = await factory.createFromUrl(baseUrl);
const options = {
  serviceParameters: ServiceParameters.create(withA2AExtensions(...extensions), (p) => {
    p.Authorization = `Bearer ${token}`;
  }),
};
const transport = client.transport.protocolName;

const textOf = (message) =>
  (message?.parts ?? [])
    .filter((p) => p.content?.$case === "text")
    .map((p) => p.content.value)
    .join("");

async function send({ send: text, metadata, taskId = "", contextId = "" }) {
  const message = {
    messageId: randomUUID(),
    contextId,
    taskId,
    role: Role.ROLE_USER,
    parts: [{ content: { $case: "text", value: text } }],
    metadata,
    extensions: [],
    referenceTaskIds: [],
  };
  const request = { tenant: "", message, configuration: undefined, metadata: undefined };
  const events = [];
  let outcome = {};
  for await (const event of client.sendMessageStream(request, options)) {
    const { $case: kind, value } = event.payload;
    if (kind === "task") {
      events.push({ kind, state: TaskState[value.status.state] });
      outcome = { taskId: value.id, contextId: value.contextId, state: TaskState[value.status.state] };
    } else if (kind === "statusUpdate") {
      const state = TaskState[value.status.state];
      events.push({ kind, state });
      outcome = { taskId: value.taskId, contextId: value.contextId, state, text: textOf(value.status.message) };
    } else if (kind === "artifactUpdate") {
      events.push({ kind, name: value.artifact.name });
    } else {
      events.push({ kind });
    }
  }
  return { transport, events, ...outcome };
}

async function get({ get: id }) {
  const task = await client.getTask({ tenant: "", id, historyLength: undefined }, options);
  return {
    transport,
    state: TaskState[task.status.state],
    history: task.history.map((m) => ({ role: Role[m.role], text: textOf(m) })),
    artifacts: task.artifacts.map((a) => a.name),
  };
}

async function cancel({ cancel: id }) {
  const task = await client.cancelTask({ tenant: "", id, metadata: undefined }, options);
  return { transport, state: TaskState[task.status.state] };
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  let answer;
  try {
    answer = "send" in command ? await send(command) : "get" in command ? await get(command) : await cancel(command);
  } catch (error) {
    answer = { transport, error: { name: error.constructor.name, message: String(error.message) } };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
