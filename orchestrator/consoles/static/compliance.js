// The compliance console: the audit chain's state, the traces and their explanations, and the
// page's wiring. Everything the gateway returns is put on the page as text
// (compliance-common.js), never as markup: audit records hold agent- and customer-supplied strings.

import { $, API, api, el, localTime, newestOnly } from "./compliance-common.js";
import { loadChanges, loadPolicies } from "./compliance-controls.js";

const FILTERS = ["agent", "decision", "customer", "conversation", "tool", "since", "until"];

let filter = {};
let cursor = null; // "before" of the page on screen; null = newest
const newerStack = [];
const tracesLoad = newestOnly();

function query(extra) {
  const params = new URLSearchParams();
  for (const key of FILTERS) if (filter[key]) params.set(key, filter[key]);
  for (const [key, value] of Object.entries(extra || {})) if (value !== null && value !== undefined) params.set(key, value);
  return params.toString();
}

function badge(decision) {
  const known = ["allow", "deny", "approval-required", "approved", "rejected", "would-deny"];
  return el("span", { className: `badge ${known.includes(decision) ? decision : "other"}` }, decision);
}

function outcomeBadge(outcome) {
  if (!outcome) return el("span", { className: "muted" }, "—");
  const ok = outcome === "ok";
  return el("span", { className: `badge ${ok ? "ok" : "error"}`, title: outcome }, ok ? "ok" : outcome.slice(0, 60));
}

function filterButton(label, key, value, text) {
  if (!value) return el("span", { className: "muted" }, "—");
  return el("button", {
    type: "button", className: "linklike", title: `Show only ${label} ${value}`,
    "aria-label": `${text || value}: show only this ${label}`,
    onclick: () => { setFilter({ ...filter, [key]: value }); },
  }, text || value);
}

// ----- chain status

async function loadChain() {
  const box = $("chain");
  box.replaceChildren(el("span", { className: "status pending" }, "Verifying…"));
  try {
    const chain = await api(`${API}/verify`);
    const parts = [];
    if (chain.intact) {
      parts.push(el("span", { className: "status ok", id: "chain-state" }, "✓ Chain intact"));
      parts.push(el("span", {}, `${chain.count} records verified`));
      let checkpoints = "signed checkpoints not checked (no key)";
      if (chain.checkpoints_checked) {
        checkpoints = chain.checkpoints
          ? `${chain.checkpoints} signed checkpoint${chain.checkpoints === 1 ? "" : "s"} match`
          : "no signed checkpoint yet (the gateway signs the head periodically and when it stops)";
      }
      parts.push(el("p", { className: "muted" }, checkpoints,
        chain.latest_checkpoint ? ` · latest at record ${chain.latest_checkpoint.seq}` : "",
        chain.head_seq ? ` · head record ${chain.head_seq}` : ""));
    } else {
      parts.push(el("span", { className: "status bad", id: "chain-state" }, `✗ Chain broken at record ${chain.first_broken_seq}`));
      parts.push(el("span", {}, chain.reason));
      parts.push(el("p", {}, `${chain.count} records verified before it.`));
      if (chain.first_broken) {
        const b = chain.first_broken;
        parts.push(el("p", { className: "mono" }, `first broken: #${b.seq} ${b.time} ${b.agent} ${b.tool} (${b.decision}) id ${b.id}`));
      }
    }
    parts.push(el("p", { className: "muted" }, `Verified ${localTime(chain.verified_at)}`));
    box.replaceChildren(...parts);
  } catch (error) {
    box.replaceChildren(el("span", { className: "status bad" }, `Could not verify: ${error.message}`));
  }
}

// ----- traces

function setFilter(next) {
  filter = {};
  for (const key of FILTERS) if (next[key]) filter[key] = next[key];
  const form = $("filters");
  for (const key of FILTERS) {
    const input = form.elements[key];
    if (key === "since" || key === "until") continue; // kept as typed
    input.value = filter[key] || "";
  }
  newerStack.length = 0;
  updateExports();
  loadTraces(null);
}

function updateExports() {
  $("export-csv").href = `${API}/export?${query({ format: "csv" })}`;
  $("export-json").href = `${API}/export?${query({ format: "json" })}`;
}

async function loadTraces(before) {
  const status = $("traces-status");
  status.className = "notice";
  status.textContent = "Loading…";
  const newest = tracesLoad();
  try {
    const page = await api(`${API}/traces?${query({ before, limit: 50 })}`);
    if (!newest()) return;
    cursor = before;
    renderTraces(page);
    const described = Object.entries(page.filters).map(([k, v]) => `${k} ${v}`).join(", ");
    status.textContent = `${page.traces.length} trace${page.traces.length === 1 ? "" : "s"}` +
      (described ? ` for ${described}` : "") + (page.next_before ? " (more are older)" : "");
    $("older").disabled = !page.next_before;
    $("older").dataset.before = page.next_before || "";
    $("newer").disabled = newerStack.length === 0;
    $("page-label").textContent = newerStack.length ? `page ${newerStack.length + 1}` : "newest";
  } catch (error) {
    if (!newest()) return;
    status.className = "notice error";
    status.textContent = error.message;
  }
}

function renderTraces(page) {
  const rows = page.traces.map((t) => el("tr", { "data-id": t.id, "data-decision": t.decision },
    el("td", { title: t.time }, el("time", { datetime: t.time }, localTime(t.time))),
    el("td", {}, filterButton("agent", "agent", t.agent)),
    el("td", { className: "mono nowrap" }, t.tool),
    el("td", {}, filterButton("customer", "customer", t.customer_id)),
    el("td", {}, filterButton("conversation", "conversation", t.conversation_id,
      t.conversation_id ? t.conversation_id.slice(0, 10) + "…" : "")),
    el("td", {}, badge(t.decision)),
    el("td", {}, t.policy_ids.length ? t.policy_ids.map((p) => el("span", { className: "chip" }, p)) : el("span", { className: "muted" }, "default deny")),
    el("td", {}, t.approver || el("span", { className: "muted" }, "—")),
    el("td", {}, outcomeBadge(t.outcome)),
    el("td", {}, el("button", {
      type: "button", className: "ghost small explain",
      "aria-label": `Explain the ${t.decision} of ${t.tool} at ${localTime(t.time)}`,
      onclick: (event) => explain(t.id, event.currentTarget),
    }, "Explain")),
  ));
  const body = $("trace-rows");
  if (!rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 10, className: "empty" }, "No tool calls match this filter.")));
  } else {
    body.replaceChildren(...rows);
  }
}

// ----- explain

let returnFocus = null;

async function explain(id, opener) {
  returnFocus = opener || null;
  const panel = $("explain-panel");
  const box = $("explain");
  panel.hidden = false;
  box.replaceChildren(el("p", { className: "muted" }, "Loading…"));
  for (const row of document.querySelectorAll("#trace-rows tr")) row.classList.toggle("selected", row.dataset.id === id);
  try {
    const x = await api(`${API}/explain/${encodeURIComponent(id)}`);
    const d = x.decision;
    const facts = el("dl", { className: "facts" },
      el("dt", {}, "Decision"), el("dd", {}, badge(d.decision)),
      el("dt", {}, "Policies"), el("dd", {}, d.policy_ids.length ? d.policy_ids.map((p) => el("span", { className: "chip" }, p)) : "none matched (default deny)"),
      el("dt", {}, "Reason"), el("dd", {}, d.reason || "—"),
      el("dt", {}, "Agent"), el("dd", {}, d.agent),
      el("dt", {}, "Tool"), el("dd", { className: "mono" }, d.tool),
      el("dt", {}, "Customer"), el("dd", { className: "mono" }, d.customer_id || "—"),
      el("dt", {}, "Conversation"), el("dd", { className: "mono" }, d.conversation_id || "—"),
      el("dt", {}, "When"), el("dd", {}, `${localTime(d.time)} (record ${d.seq})`),
      el("dt", {}, "Record id"), el("dd", { className: "mono" }, d.id),
    );
    const parts = [facts];
    parts.push(el("h3", {}, "Inputs (redacted)"), el("pre", { className: "block" }, JSON.stringify(d.inputs, null, 2)));
    parts.push(el("p", { className: "help mono" }, `digest of the raw inputs ${d.inputs_digest}`));
    parts.push(el("h3", {}, "Outcome"));
    parts.push(x.outcome
      ? el("p", {}, outcomeBadge(x.outcome.outcome), x.outcome.latency_ms !== null ? ` in ${x.outcome.latency_ms} ms` : "")
      : el("p", { className: "muted" }, "No upstream call was made for this decision."));
    if (x.human) {
      const h = x.human;
      parts.push(el("h3", {}, "Human approval"));
      parts.push(el("dl", { className: "facts" },
        el("dt", {}, "Approval"), el("dd", { className: "mono" }, h.approval_id || "—"),
        el("dt", {}, "Status"), el("dd", {}, h.status || "—"),
        el("dt", {}, "Decided by"), el("dd", {}, h.decided_by || h.approver || "nobody yet"),
        el("dt", {}, "Note"), el("dd", {}, h.note || "—"),
        el("dt", {}, "Policy reason"), el("dd", {}, h.policy_reason || "—"),
      ));
    }
    if (x.conversation_calls.length) {
      parts.push(el("h3", {}, "Tool calls in this conversation"));
      parts.push(el("ol", { className: "calls" }, x.conversation_calls.map((c) => el("li", { className: c.id === d.id ? "current" : null },
        `#${c.seq} ${c.agent} `, el("span", { className: "mono" }, c.tool), " ", badge(c.decision), " ",
        c.policy_ids.map((p) => el("span", { className: "chip" }, p)),
      ))));
    }
    box.replaceChildren(...parts);
    $("explain-title").focus();
  } catch (error) {
    box.replaceChildren(el("p", { className: "notice error", role: "alert" }, error.message));
  }
}

function closeExplain() {
  $("explain-panel").hidden = true;
  for (const row of document.querySelectorAll("#trace-rows tr.selected")) row.classList.remove("selected");
  if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
}

// ----- agents for the filter's suggestions

async function loadAgents() {
  try {
    const response = await fetch("/api/agents", { credentials: "same-origin" });
    if (!response.ok) return;
    const names = [...new Set((await response.json()).map((s) => s.name))].sort();
    $("agents").replaceChildren(...names.map((n) => el("option", { value: n })));
  } catch (_) { /* suggestions only */ }
}

// ----- wiring

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const next = {};
  for (const key of FILTERS) {
    const value = form.elements[key].value.trim();
    if (!value) continue;
    if (key === "since" || key === "until") {
      const when = new Date(value);
      if (!Number.isNaN(when.getTime())) next[key] = when.toISOString();
    } else next[key] = value;
  }
  setFilter(next);
});
$("filters").addEventListener("reset", () => { window.setTimeout(() => setFilter({}), 0); });
$("older").addEventListener("click", () => {
  newerStack.push(cursor);
  loadTraces(Number($("older").dataset.before));
  $("traces-title").focus();
});
$("newer").addEventListener("click", () => {
  loadTraces(newerStack.pop() ?? null);
  $("traces-title").focus();
});
$("reverify").addEventListener("click", loadChain);
$("explain-close").addEventListener("click", closeExplain);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !$("explain-panel").hidden) closeExplain();
});

updateExports();
loadChain();
loadTraces(null);
loadPolicies();
loadChanges();
loadAgents();
document.body.dataset.ready = "true";
