// Switchboard human-agent console. Every piece of customer or case data is inserted with
// textContent, never as HTML. The session cookie is HttpOnly; the CSRF token comes from
// /api/console/session and goes with every POST in the X-CSRF-Token header.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const QUEUE_MS = 3000, TRANSCRIPT_MS = 1500, PACKET_MS = 6000;
  const LEASE_ACTIVE_MS = 120000, LEASE_RENEW_MS = 30000;  // active within 2 min: renew every 30 s
  const ROLE_LABEL = { customer: "Customer", agent: "AI", human: "Human agent", system: "Switchboard" };
  const PRIORITY_LABELS = { urgent: "Urgent", high: "High priority", normal: "Normal" };

  let me = null;                 // {name, role, csrf_token}
  let current = null;            // the open case's conversation id
  let packet = null;             // the open case's packet
  let lastSeq = 0;
  let timers = [];
  let busy = false;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function announce(text) {
    const region = $("announce");
    region.textContent = "";
    // A new text node after clearing makes screen readers read it even when it repeats.
    setTimeout(() => { region.textContent = text; }, 30);
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && me) headers["X-CSRF-Token"] = me.csrf_token;
    const response = await fetch(path, {
      method, headers, body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: "same-origin", cache: "no-store",
    });
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    if (response.status === 401) {
      window.location.assign("/console/sign-in?next=" + encodeURIComponent("/console/agent"));
      throw new Error("Your session ended; please sign in again.");
    }
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || "The console did not answer (" + response.status + ").");
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function minutes(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + (s % 60) + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function clock(epoch) {
    if (!epoch) return "";
    return new Date(epoch * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function dateTime(epoch) {
    if (!epoch) return "";
    return new Date(epoch * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  function facts(list, rows) {
    list.textContent = "";
    for (const [term, value] of rows) {
      if (value === undefined || value === null || value === "") continue;
      list.append(el("dt", "", term), el("dd", "", value));
    }
  }

  function showError(id, error) { $(id).textContent = error ? error.message || String(error) : ""; }

  // ---- the queue --------------------------------------------------------------------------

  async function refreshQueue() {
    let queue;
    try { queue = await api("GET", "/api/console/escalations"); } catch { return; }
    const list = $("queue");
    // Redrawn every few seconds (waiting times move): keep keyboard focus on the same case.
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.conversation : null;
    list.textContent = "";
    $("queue-count").textContent = queue.items.length ? "(" + queue.items.length + ")" : "";
    $("queue-empty").hidden = queue.items.length > 0;
    for (const item of queue.items) {
      const li = el("li");
      const button = el("button", "case-link");
      button.type = "button";
      button.dataset.conversation = item.conversation_id;
      if (item.conversation_id === current) button.setAttribute("aria-current", "true");
      const line1 = el("span", "line1");
      line1.append(el("span", "name", item.customer_name || "Unverified customer"));
      const badge = el("span", "badge " + item.priority, PRIORITY_LABELS[item.priority] || "Normal");
      line1.append(badge);
      const line2 = el("span", "line1");
      line2.append(el("span", "wait", (item.taken_by ? "Waited " : "Waiting ") + minutes(item.waiting_seconds) + " · " + item.channel));
      if (item.position) line2.append(el("span", "badge other", "#" + item.position + " in line"));
      if (item.state === "returned") line2.append(el("span", "badge high", "Back in the queue"));
      if (item.state === "idle") line2.append(el("span", "badge high", "Idle: " + item.taken_by));
      else if (item.taken_by) line2.append(el("span", "badge taken", "Taken by " + item.taken_by));
      if (item.approval_pending) line2.append(el("span", "badge normal", "Approval waiting"));
      if (item.note) button.title = item.note;
      button.append(line1, line2, el("span", "reason", item.reason));
      button.addEventListener("click", () => openCase(item.conversation_id));
      li.append(button);
      list.append(li);
      if (focused === item.conversation_id) button.focus();
    }
  }

  // ---- approvals ----------------------------------------------------------------------------

  // An amount always carries its currency (the reference systems price in pounds when none is named).
  function money(amount, currency) {
    const code = String(currency || "GBP").toUpperCase();
    const sign = { GBP: "£", EUR: "€", USD: "$" }[code];
    const value = Number(amount).toFixed(2);
    return sign ? sign + value : value + " " + code;
  }

  function approvalCard(approval, where) {
    const li = el("li", "approval");
    li.dataset.approval = approval.id;
    li.append(el("span", "tool", approval.tool));
    li.append(el("span", "why", "Held because: " + approval.reason));
    const about = el("dl", "facts");
    const amount = (approval.arguments || {}).amount;
    facts(about, [["Amount", amount === undefined || amount === null ? null : money(amount, approval.arguments.currency)],
      ["Requested by", approval.agent], ["Conversation", approval.conversation_id],
      ["Policies", (approval.policy_ids || []).join(", ")], ["Expires", clock(approval.expires_at)]]);
    // Exactly what would run: every argument the approval is bound to, as sent.
    const args = el("dl", "facts args");
    facts(args, Object.entries(approval.arguments || {}).map(
      ([name, value]) => [name, typeof value === "object" ? JSON.stringify(value) : String(value)]));
    li.append(about, el("span", "args-title", "Exact arguments"), args);
    const noteId = where + "-note-" + approval.id;
    const label = el("label", "visually-hidden", "Note for " + approval.tool + " (optional)");
    label.htmlFor = noteId;
    const note = el("input", "note");
    note.id = noteId;
    note.type = "text";
    note.maxLength = 500;
    note.placeholder = "Note (optional)";
    const row = el("div", "decide");
    const approve = el("button", "small approve", "Approve");
    approve.type = "button";
    approve.setAttribute("aria-label", "Approve " + approval.tool + " " + approval.id);
    const reject = el("button", "small reject", "Reject");
    reject.type = "button";
    reject.setAttribute("aria-label", "Reject " + approval.tool + " " + approval.id);
    approve.addEventListener("click", () => decide(approval, "approve", note.value, [approve, reject]));
    reject.addEventListener("click", () => decide(approval, "reject", note.value, [approve, reject]));
    row.append(approve, reject);
    li.append(label, note, row);
    return li;
  }

  const drawn = {};

  function renderApprovals(listId, emptyId, approvals, where) {
    const list = $(listId);
    const key = JSON.stringify(approvals);
    if (drawn[listId] === key) return;  // unchanged: leave the buttons (and focus) alone
    drawn[listId] = key;
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.id : null;
    list.textContent = "";
    for (const approval of approvals) list.append(approvalCard(approval, where));
    $(emptyId).hidden = approvals.length > 0;
    if (focused && $(focused)) $(focused).focus();
  }

  async function refreshApprovals() {
    // Do not redraw under someone typing a note: it would take their text and focus away.
    const active = document.activeElement;
    if (active && active.classList && active.classList.contains("note") && active.value) return;
    try {
      const data = await api("GET", "/api/console/approvals");
      $("approvals-count").textContent = data.approvals.length ? "(" + data.approvals.length + ")" : "";
      renderApprovals("approvals", "approvals-empty", data.approvals, "all");
      showError("approvals-error", null);
    } catch (error) {
      showError("approvals-error", error);
    }
  }

  // Weakened controls (a protective policy log-only, a hold lifted, a kill switch off) while they last.
  async function refreshWeakened() {
    try {
      const data = await api("GET", "/api/console/weakened");
      const banner = $("weakened");
      const lines = data.changes.map((c) => c.kind + " " + c.target + " until " +
        new Date(c.expires_at * 1000).toLocaleTimeString() + " (" + c.requested_by + " + " + c.approved_by + ")");
      banner.textContent = lines.length ? "Controls weakened for now: " + lines.join("; ") : "";
      banner.hidden = lines.length === 0;
    } catch (_) { /* the banner is advice; the gateway enforces either way */ }
  }

  async function decide(approval, verb, note, buttons) {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const result = await api("POST", "/api/console/approvals/" + encodeURIComponent(approval.id) + "/" + verb,
        { note: note || null, seen: approval.view_digest || null });
      announce((verb === "approve" ? "Approved " : "Rejected ") + approval.tool + ": now " + result.status + ".");
      showError("approvals-error", null);
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      showError("approvals-error", error);
      announce("Could not " + verb + ": " + error.message);
      return;
    }
    await refreshApprovals();
    if (current) await refreshPacket();
    // The decided card is gone: keep the keyboard user in the list (the next held action, or its heading).
    const next = document.querySelector("#approvals button.approve:not(:disabled)");
    if (next) next.focus(); else $("approvals-title").focus();
  }

  // ---- the open case --------------------------------------------------------------------------

  function renderLine(line) {
    if (line.seq <= lastSeq) return;
    lastSeq = line.seq;
    const li = el("li", line.role);
    li.dataset.seq = String(line.seq);
    if (line.role === "system") {
      // The opening notice: the person taking over sees that the customer was told an AI answered.
      li.textContent = line.skill === "ai-disclosure" ? "AI disclosure given: " + line.text : line.text;
    } else {
      let who = ROLE_LABEL[line.role] || line.role;
      if (line.role === "agent" && line.agent) who = "AI · " + line.agent;
      if (line.role === "human" && line.agent) who = "Human agent · " + line.agent;
      const meta = el("span", "meta", who + " · " + clock(line.at) + (line.channel === "voice" ? " · by phone" : ""));
      li.append(meta, el("div", "text", line.text));
    }
    $("transcript").append(li);
    const region = $("transcript-region");
    region.scrollTop = region.scrollHeight;
  }

  function mine() { return packet && packet.human && me && packet.human.name === me.name; }

  function renderControls() {
    const taken = packet && packet.human;
    const canTake = me && (me.role === "agent" || me.role === "supervisor" || me.role === "admin");
    const takeOver = $("take-over"), handBack = $("hand-back");
    takeOver.hidden = Boolean(taken && mine());
    takeOver.disabled = !canTake || Boolean(taken) || (packet && packet.status !== "escalated");
    handBack.hidden = !mine();
    $("hand-back-note").hidden = !mine();
    $("reply").disabled = !mine();
    $("send-reply").disabled = !mine() || busy;
    let status = packet.status === "escalated" ? "Waiting for a person" : "Back with the AI";
    if (taken) status = mine() ? "You have this conversation" : "Taken by " + packet.human.name;
    $("case-status").textContent = status;
    $("reply-help").textContent = mine()
      ? "Ctrl+Enter sends. The customer reads this in their chat, or hears it on their next phone turn."
      : (taken ? packet.human.name + " is replying to this customer." : "Take the case over to reply.");
  }

  function renderNotices(notices) {
    const list = $("notices");
    list.textContent = "";
    for (const notice of notices || []) list.append(el("li", null, clock(notice.at) + " · " + notice.agent + ": " + notice.text));
    $("notices-panel").hidden = !(notices && notices.length);
  }

  function listInto(id, titleId, lines) {
    const list = $(id);
    list.textContent = "";
    for (const line of lines) list.append(el("li", null, line));
    $(titleId).hidden = !lines.length;
  }

  // The structured hand-off summary: every value is text from the packet, set with textContent.
  function renderCaseSummary(summary) {
    if (!summary) { facts($("case-summary"), []); listInto("case-actions", "actions-title", []); listInto("case-open", "open-title", []); return; }
    const id = summary.identity;
    facts($("case-summary"), [
      ["Wanted", summary.customer_wanted.join(" · ")],
      ["Identity", id.verified ? "Verified" + (id.level ? " (" + id.level + ")" : "") + (id.how ? " by " + id.how : "") : (id.how || "Not verified")],
      ["Tone", summary.sentiment + (summary.sentiment_cues.length ? " (" + summary.sentiment_cues.join(", ") + ")" : "")],
      ["Urgent because", summary.urgent_because.join("; ")],
    ]);
    listInto("case-actions", "actions-title", summary.actions.map(
      (a) => a.what + (a.reference ? " · ref " + a.reference : "") + (a.outcome !== "done" ? " (" + a.outcome + ")" : "")));
    listInto("case-open", "open-title", summary.open_items);
  }

  function renderPacket() {
    const p = packet;
    renderNotices(p.notices);
    const name = (p.identity && p.identity.name) || (p.profile && p.profile.name) || "Unverified customer";
    $("case-title").textContent = name;
    const priority = $("case-priority");
    priority.className = "badge " + p.priority;
    priority.textContent = (PRIORITY_LABELS[p.priority] || "Normal").replace(" priority", "") + " priority";
    $("case-meta").textContent = "Escalated " + dateTime(p.escalated_at) + " · waited " + minutes(p.waiting_seconds) +
      " · on " + p.channel + (p.handoff_id ? " · hand-off " + p.handoff_id : "") + " · " + p.reason;
    const warnings = $("case-warnings");
    warnings.textContent = "";
    for (const warning of p.warnings) warnings.append(el("li", "", warning));
    $("ai-summary").textContent = p.ai_summary;
    const steps = $("conversation-summary");
    steps.textContent = "";
    for (const step of p.conversation_steps || []) steps.append(el("li", null, step));
    $("history-details").hidden = !steps.children.length;
    $("next-step").textContent = p.suggested_next_step;
    renderCaseSummary(p.case_summary);

    const id = p.identity;
    facts($("identity"), id.verified || id.customer_id ? [
      ["Status", id.verified ? "Verified" : "Verification expired"],
      ["Customer", id.customer_id], ["Name", id.name], ["Method", id.method], ["Assurance", id.assurance],
      ["Verified at", dateTime(id.verified_at)], ["Valid until", dateTime(id.expires_at)], ["Issued by", id.issuer],
    ] : [["Status", "Not verified: do not discuss account details"]]);

    const profile = p.profile;
    const interactions = $("interactions");
    interactions.textContent = "";
    $("interactions-title").hidden = !profile;
    if (profile) {
      facts($("profile"), [["Name", profile.name], ["Customer id", profile.customer_id], ["Email", profile.email],
        ["Phone", profile.msisdn], ["Account", profile.account_number], ["Segment", profile.segment],
        ["Plan", profile.plan_name ? profile.plan_name + (profile.plan_source ? " (billing)" : "") : null],
        ["CRM copy (out of date)", profile.crm_plan_name], ["Prefers", profile.preferred_channel],
        ["Address", profile.address], ["City", profile.address ? null : profile.city],
        ["Customer since", profile.customer_since]]);
      for (const item of profile.interactions) {
        interactions.append(el("li", "", item.started_at.slice(0, 10) + " · " + item.channel + " · " + item.topic +
          ": " + item.summary + " (" + item.outcome + ")"));
      }
      if (!profile.interactions.length) interactions.append(el("li", "muted", "No earlier contacts."));
      const sources = "Read at hand-off from: " + profile.sources.join(", ") +
        (profile.missing.length ? ". Missing: " + profile.missing.join("; ") : "");
      $("profile-sources").textContent = sources;
    } else {
      facts($("profile"), [["Profile", "Not read: the customer was not verified when they asked for a person."]]);
      $("profile-sources").textContent = "";
    }

    const timeline = $("timeline");
    timeline.textContent = "";
    for (const event of p.timeline) {
      const li = el("li", event.kind);
      li.append(el("span", "when", clock(event.at)));
      li.append(el("span", "what", event.actor + ": " + event.title));
      if (event.decision) li.append(document.createTextNode(" "), el("span", "badge " + event.decision, event.decision));
      const detail = [event.detail, event.policy_ids.length ? "policy " + event.policy_ids.join(", ") : "",
        event.approver ? "decided by " + event.approver : ""].filter(Boolean).join(" · ");
      if (detail) li.append(el("div", "detail", detail));
      timeline.append(li);
    }
    renderApprovals("case-approvals", "case-approvals-empty", p.pending_approvals, "case");
    renderControls();
  }

  async function refreshPacket() {
    if (!current) return;
    const active = document.activeElement;
    if (active && active.classList && active.classList.contains("note") && active.value) return;
    try {
      packet = await api("GET", "/api/console/escalations/" + encodeURIComponent(current));
      renderPacket();
      packet.transcript.forEach(renderLine);
      showError("case-error", null);
    } catch (error) {
      showError("case-error", error);
    }
  }

  async function refreshTranscript() {
    if (!current) return;
    try {
      const data = await api("GET", "/api/console/escalations/" + encodeURIComponent(current) + "/transcript?after=" + lastSeq);
      data.lines.forEach(renderLine);
      renderNotices(data.notices);
      await renewLease();
      const before = JSON.stringify(packet && packet.human);
      if (packet && (packet.status !== data.status || before !== JSON.stringify(data.human))) {
        packet.status = data.status;
        packet.human = data.human;
        renderControls();
      }
    } catch { /* the next tick tries again */ }
  }

  async function openCase(conversationId) {
    current = conversationId;
    lastSeq = 0;
    $("transcript").textContent = "";
    $("case-placeholder").hidden = true;
    $("case-view").hidden = false;
    document.querySelectorAll("#queue button[aria-current]").forEach((b) => b.removeAttribute("aria-current"));
    const link = document.querySelector('#queue button[data-conversation="' + CSS.escape(conversationId) + '"]');
    if (link) link.setAttribute("aria-current", "true");
    await refreshPacket();
    $("case-title").focus();
    announce("Opened the case of " + $("case-title").textContent + ".");
  }

  function closeCase() {
    current = null;
    packet = null;
    $("case-view").hidden = true;
    $("case-placeholder").hidden = false;
    document.querySelectorAll("#queue button[aria-current]").forEach((b) => b.removeAttribute("aria-current"));
    $("queue-title").focus();
  }

  // A take-over is a lease: it lapses when its holder is idle. Activity on the page renews it.
  let lastActivity = Date.now(), lastRenewal = 0;
  ["keydown", "pointerdown", "input", "scroll"].forEach((name) =>
    document.addEventListener(name, () => { lastActivity = Date.now(); }, { passive: true, capture: true }));

  async function renewLease() {
    const now = Date.now();
    if (!mine() || now - lastActivity > LEASE_ACTIVE_MS || now - lastRenewal < LEASE_RENEW_MS) return;
    lastRenewal = now;
    try {
      await api("POST", "/api/console/escalations/" + encodeURIComponent(current) + "/lease");
    } catch (error) {
      showError("case-error", error);  // e.g. a supervisor moved the case: the 409 says to whom
    }
  }

  async function caseAction(verb) {
    if (!current) return;
    const body = verb === "hand-back" && $("hand-back-note").value.trim() ? { note: $("hand-back-note").value.trim() } : undefined;
    try {
      await api("POST", "/api/console/escalations/" + encodeURIComponent(current) + "/" + verb, body);
      if (verb === "hand-back") $("hand-back-note").value = "";
      showError("case-error", null);
    } catch (error) {
      showError("case-error", error);
      return;
    }
    await refreshPacket();
    await refreshQueue();
    if (verb === "take-over") {
      announce("You have taken this conversation over. The customer has been told a person joined.");
      $("reply").focus();
    } else {
      announce("Handed back to the AI.");
      $("take-over").focus();
    }
  }

  async function sendReply(event) {
    event.preventDefault();
    const box = $("reply");
    const text = box.value.trim();
    if (!text || busy || !current) return;
    busy = true;
    $("send-reply").disabled = true;
    try {
      const line = await api("POST", "/api/console/escalations/" + encodeURIComponent(current) + "/replies", { text });
      box.value = "";
      renderLine(line);
      showError("case-error", null);
      announce("Reply sent.");
    } catch (error) {
      showError("case-error", error);
    } finally {
      busy = false;
      renderControls();
      box.focus();
    }
  }

  // ---- start ------------------------------------------------------------------------------------

  async function start() {
    try {
      me = await api("GET", "/api/console/session");
    } catch {
      return;
    }
    $("who-name").textContent = me.name;
    $("who-role").textContent = me.role;
    $("sign-out-csrf").value = me.csrf_token;
    $("take-over").addEventListener("click", () => caseAction("take-over"));
    $("hand-back").addEventListener("click", () => caseAction("hand-back"));
    $("close-case").addEventListener("click", closeCase);
    $("reply-form").addEventListener("submit", sendReply);
    $("reply").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        $("reply-form").requestSubmit();
      }
    });
    await Promise.all([refreshQueue(), refreshApprovals(), refreshWeakened()]);
    timers = [
      setInterval(refreshQueue, QUEUE_MS),
      setInterval(refreshWeakened, QUEUE_MS),
      setInterval(refreshApprovals, QUEUE_MS),
      setInterval(refreshTranscript, TRANSCRIPT_MS),
      setInterval(refreshPacket, PACKET_MS),
    ];
    document.body.dataset.ready = "true";
  }

  window.addEventListener("pagehide", () => timers.forEach(clearInterval));
  start();
})();
