// The compliance console's controls: each policy's mode, and the weakened controls that wait
// for a second compliance person (four eyes, with an expiry).

import { $, API, api, csrf, el, loadView, newestOnly } from "./compliance-common.js";

const policiesLoad = newestOnly();
const changesLoad = newestOnly();

// ----- policy modes

export function loadPolicies() {
  return loadView(policiesLoad(), $("policies-status"), `${API}/policies`, renderPolicies);
}

function renderPolicies({ policies }) {
  const rows = Object.entries(policies).sort(([a], [b]) => a.localeCompare(b)).map(([id, mode]) => {
    const target = mode === "enforce" ? "log-only" : "enforce";
    return el("tr", { className: `mode-${mode}`, "data-policy": id },
      el("td", { className: "mono" }, id),
      el("td", {}, el("span", { className: `badge ${mode === "enforce" ? "ok" : "pending"}` }, mode)),
      el("td", {}, el("button", {
        type: "button", className: "ghost small",
        // The spoken name starts with the visible label, so voice users can say what they see.
        "aria-label": `${target === "enforce" ? "Enforce" : "Switch to log-only"}: ${id}`,
        onclick: () => setMode(id, target),
      }, target === "enforce" ? "Enforce" : "Switch to log-only")),
    );
  });
  $("policy-rows").replaceChildren(...rows);
}

async function setMode(id, mode) {
  const status = $("policies-status");
  const body = { mode };
  if (mode === "log-only") {
    if (!window.confirm(`Stop enforcing ${id}? Calls it would refuse will be allowed and logged.`)) return;
    // A protective policy needs a duration, a reason and a second compliance person.
    const minutes = window.prompt("For how many minutes (1 to 1440)? A second compliance person must approve.", "60");
    if (minutes === null) return;
    const reason = window.prompt("Why? (recorded in the audit log)", "");
    if (reason === null) return;
    body.minutes = Number(minutes);
    body.reason = reason;
  }
  try {
    const answer = await api(`${API}/policies/${encodeURIComponent(id)}/mode`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    // Reloaded first: a load clears its section's notice, and this one must stay in view.
    await loadPolicies();
    await loadChanges();
    status.className = "notice";
    status.textContent = answer.status === "pending" ? answer.message : `${id} is now ${mode}.`;
  } catch (error) {
    status.className = "notice error";
    status.textContent = error.message;
  }
}

// ----- weakened controls (four eyes, with an expiry)

// A policy reload asks to drop or weaken protective policies: the second person sees which ones.
function changeDetail(c) {
  const removed = (c.detail && c.detail.removed) || [];
  const weakened = (c.detail && c.detail.weakened) || [];
  const parts = [];
  if (removed.length) parts.push(`removes ${removed.join(", ")}`);
  if (weakened.length) parts.push(`weakens ${weakened.join(", ")}`);
  return parts.length ? ` (${parts.join("; ")})` : "";
}

export function loadChanges() {
  return loadView(changesLoad(), $("changes-status"), `${API}/changes`, renderChanges);
}

function renderChanges({ changes }) {
  const shown = changes.filter((c) => c.status === "pending" || c.status === "active");
  const rows = shown.map((c) => {
    const until = new Date(c.expires_at * 1000).toLocaleString();
    const actions = el("td", {});
    if (c.status === "pending") {
      for (const verb of ["approve", "reject"]) {
        const label = verb === "approve" ? "Approve" : "Reject";
        actions.append(el("button", {
          type: "button", className: "ghost small", "aria-label": `${label}: ${c.id}`,
          onclick: () => decideChange(c.id, verb),
        }, label));
      }
    }
    return el("tr", {},
      el("td", { className: "mono" }, c.id),
      el("td", {}, `${c.kind} ${c.target}${changeDetail(c)}`),
      el("td", {}, el("span", { className: `badge ${c.status === "active" ? "deny" : "pending"}` }, c.status)),
      el("td", {}, `${c.requested_by}${c.approved_by ? " + " + c.approved_by : ""}: ${c.reason}`),
      el("td", {}, c.status === "active" ? `until ${until}` : `lapses ${until}`),
      actions,
    );
  });
  $("change-rows").replaceChildren(...rows);
  $("changes-empty").hidden = rows.length > 0;
}

async function decideChange(id, verb) {
  let said = { className: "notice", text: `${id}: ${verb === "approve" ? "approved" : "rejected"}.` };
  try {
    await api(`${API}/changes/${encodeURIComponent(id)}/${verb}`, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: "{}",
    });
  } catch (error) {
    said = { className: "notice error", text: error.message };
  }
  // Reloaded first: a load clears its section's notice, and this one must stay in view.
  await loadChanges();
  await loadPolicies();
  const status = $("changes-status");
  status.className = said.className;
  status.textContent = said.text;
}
